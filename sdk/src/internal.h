/*
 * internal.h — private helpers shared by libjt's modules (never installed).
 */
#ifndef JT_INTERNAL_H
#define JT_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "jt/common.h"
#include "jt/error.h"
#include "jt/json.h"

#define JT__UNUSED(x)    ((void)(x))
#define JT__ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Sets *ei (when not NULL) and returns `code`. `field` may be NULL, `offset`
 * -1 when it does not apply. The message is formatted printf-style. */
jt_err jt__err(jt_errinfo *ei, jt_err code, const char *field, long offset, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Like jt__err but only fills in what is missing: keeps a message already
 * set by a callee and prefixes the field path. */
jt_err jt__err_wrap(jt_errinfo *ei, jt_err code, const char *path);

/* ---- arena: bump allocation in chunks, freed in one step ---- */
typedef struct jt__arena_chunk jt__arena_chunk;
typedef struct jt__arena {
    jt__arena_chunk *head;
    size_t total; /* bytes allocated from the system */
    size_t limit; /* 0 = no limit */
    size_t first; /* size of the first chunk when known (0: the default) */
} jt__arena;

void jt__arena_init(jt__arena *a, size_t limit);
/* For an arena whose need is known up front (a decoded object, a parsed
 * document): one chunk of `first` bytes instead of a doubling series. */
void jt__arena_init_first(jt__arena *a, size_t limit, size_t first);
/* Bytes handed out so far (what a compact copy of the contents needs at most). */
size_t jt__arena_used(const jt__arena *a);
void jt__arena_clear(jt__arena *a);
/* 16-byte aligned, zeroed memory; NULL when out of memory or over the limit. */
void *jt__arena_alloc(jt__arena *a, size_t n);
void *jt__arena_memdup(jt__arena *a, const void *p, size_t n);
char *jt__arena_strndup(jt__arena *a, const char *s, size_t n);

/* jt_json_parse without its fast path for plain documents: every text through
 * yajl (the reference the fuzz target compares the fast path with). */
jt_err jt__json_parse_general(const char *text, size_t len, const jt_json_limits *limits,
                              jt_json_doc **out, jt_errinfo *ei);

/* Value of a hex digit in either case, or -1. */
static inline int jt__hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ---- big-endian helpers ---- */
static inline void jt__put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void jt__put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void jt__put_u64(uint8_t *p, uint64_t v)
{
    jt__put_u32(p, (uint32_t)(v >> 32));
    jt__put_u32(p + 4, (uint32_t)v);
}
static inline uint16_t jt__get_u16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t jt__get_u32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t jt__get_u64(const uint8_t *p)
{
    return ((uint64_t)jt__get_u32(p) << 32) | jt__get_u32(p + 4);
}

/* The process-wide libsecp256k1 context (created once, randomized); NULL
 * only if creation failed. Defined in sign.c. */
struct secp256k1_context_struct;
const struct secp256k1_context_struct *jt__secp_ctx(void);

/* sodium_init() once; returns 0 on success. Defined in keys.c. */
int jt__sodium_ready(void);
/* Zeroes a stretch of the stack below the caller's frame: the frames of
 * calls just returned from (signing, key derivation) may hold copies of key
 * material that code outside libjt did not wipe. */
void jt__scrub_stack(void);

/* The keystore file without its cryptography (keystore.c): parsing and
 * checking the text into a keystore that holds no keys (every call that
 * needs them refuses it; free it with jt_keystore_free), and writing a
 * keystore's text as it stands (check and mac as they are). For the fuzz
 * target and the tests. */
struct jt_keystore;
struct jt_secret_key;
jt_err jt__keystore_parse(const char *text, size_t len, struct jt_keystore **out, jt_errinfo *ei);
jt_err jt__keystore_serialize(struct jt_keystore *ks, jt_buf *out);

/* Makes jt_secret_key_export refuse the handle (JT_ESTATE): keys handed out
 * by a keystore leave it only through jt_keystore_export, which asks for the
 * passphrase again. Defined in secret_key.c. */
void jt__secret_key_seal(struct jt_secret_key *sk);
/* The guarded block of a handle, for tests that check its protection. */
const void *jt__secret_key_block(const struct jt_secret_key *sk);
/* Calls fn with the handle's seed readable for the duration of the call
 * (memo.c derives the account's encryption key from it); fn must not keep
 * the pointer. Returns fn's result, or JT_ECRYPTO when the memory could not
 * be made readable. Defined in secret_key.c. */
struct jt_seed;
jt_err jt__secret_key_with_seed(struct jt_secret_key *sk,
                                jt_err (*fn)(const struct jt_seed *seed, void *ctx), void *ctx);

#endif
