#ifndef REELFORGE_CFONTCONFIG_SHIM_H
#define REELFORGE_CFONTCONFIG_SHIM_H
#include <stddef.h>
#include <fontconfig/fontconfig.h>

/* The pattern's file name and character set (FC_FILE and FC_CHARSET are string macros). */
static inline const char *reelforge_fc_file(FcPattern *p) {
    FcChar8 *file = NULL;
    return FcPatternGetString(p, FC_FILE, 0, &file) == FcResultMatch ? (const char *)file : NULL;
}
static inline FcCharSet *reelforge_fc_charset(FcPattern *p) {
    FcCharSet *set = NULL;
    return FcPatternGetCharSet(p, FC_CHARSET, 0, &set) == FcResultMatch ? set : NULL;
}
#endif
