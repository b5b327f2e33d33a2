#ifndef REELFORGE_CMONGOC_SHIM_H
#define REELFORGE_CMONGOC_SHIM_H
#include <mongoc/mongoc.h>
#include <stdlib.h>

/* bson_t is 128-byte aligned: Swift sees bson_t * as OpaquePointer and cannot lay one out.
   These helpers hand out heap documents that Swift can pass around and must destroy. */
static inline bson_t *rf_bson_alloc_uninit(void) {
    void *p = NULL;
    if (posix_memalign(&p, 128, sizeof(bson_t)) != 0) return NULL;
    bson_init((bson_t *)p);
    return (bson_t *)p;
}
static inline void rf_bson_free_uninit(bson_t *b) {
    if (!b) return;
    bson_destroy(b);
    free(b);
}
/* A UTF-8 bson_value_t for GridFS ids we choose ourselves. */
static inline bson_value_t rf_bson_value_utf8(const char *s, uint32_t len) {
    bson_value_t v;
    memset(&v, 0, sizeof v);
    v.value_type = BSON_TYPE_UTF8;
    v.value.v_utf8.str = (char *)s;
    v.value.v_utf8.len = len;
    return v;
}
#endif
