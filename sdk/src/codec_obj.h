/* codec_obj.h — the in-memory STObject tree shared by codec*.c and tx.c. */
#ifndef JT_CODEC_OBJ_H
#define JT_CODEC_OBJ_H

#include "internal.h"
#include "jt/codec.h"

typedef struct jt__path_step {
    uint8_t type; /* 0x01 account, 0x10 currency, 0x20 issuer */
    jt_account_id account;
    jt_currency currency;
    jt_account_id issuer;
} jt__path_step;

typedef struct jt__path {
    jt__path_step *steps;
    size_t n;
} jt__path;

typedef struct jt__pathset {
    jt__path *paths;
    size_t n;
} jt__pathset;

typedef struct jt__member {
    const jt_field *f;
    union {
        uint64_t u; /* UInt8/16/32/64 */
        struct {
            uint8_t *p;
            size_t n;
        } bytes; /* Hash128/160/256, Blob, Vector256 */
        jt_account_id acct;
        jt_amount *amt;
        jt_obj *obj;
        struct {
            jt_obj **items; /* each with its wrapper field */
            size_t n, cap;
        } arr;
        jt__pathset *paths;
    } v;
} jt__member;

struct jt_obj {
    jt__arena *arena;        /* the root's arena; every node of the tree allocates here */
    const jt_field *wrapper; /* array elements: the element's field (e.g. Memo) */
    jt__member *m;
    size_t n, cap;
    jt__arena own; /* used by the root only */
};

/* A new object in `arena` (a child of some tree), or NULL. */
jt_obj *jt__obj_child(jt__arena *arena);
/* The member slot for field f, created (zeroed, in canonical position) when
 * absent; NULL when out of memory. */
jt__member *jt__obj_slot(jt_obj *o, const jt_field *f);
const jt__member *jt__obj_find(const jt_obj *o, const jt_field *f);
/* Deep copy of `src` into `arena`. */
jt_obj *jt__obj_copy(jt__arena *arena, const jt_obj *src);
/* Sets a Hash/Blob/Vector256 field (length-checked). */
jt_err jt__obj_set_bytes_f(jt_obj *o, const jt_field *f, const uint8_t *p, size_t n);
/* Appends an element object (already in o's arena, wrapper set) to array member m. */
jt_err jt__arr_push(jt_obj *o, jt__member *m, jt_obj *item);

#endif
