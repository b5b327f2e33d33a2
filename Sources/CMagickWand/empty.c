/* CMagickWand is a header-only wrapper of ImageMagick 6's MagickWand; this file gives the target a body. */
#include "shim.h"
