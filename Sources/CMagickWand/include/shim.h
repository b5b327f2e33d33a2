#ifndef REELFORGE_CMAGICKWAND_SHIM_H
#define REELFORGE_CMAGICKWAND_SHIM_H
/* SwiftPM drops pkg-config's -D flags as "prohibited": define what the headers need here. */
#define MAGICKCORE_HDRI_ENABLE 0
#define MAGICKCORE_QUANTUM_DEPTH 16
/* Included first so that fd_set and friends come from the system headers Dispatch also sees. */
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>
#include <wand/MagickWand.h>
#endif
