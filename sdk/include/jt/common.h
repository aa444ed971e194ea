/*
 * jt/common.h — small types shared by every libjt module.
 */
#ifndef JT_COMMON_H
#define JT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(JT_BUILDING)
#define JT_API __attribute__((visibility("default")))
#else
#define JT_API
#endif
#define JT_MUST_CHECK __attribute__((warn_unused_result))

#define JT_VERSION_STRING "0.1.0"

/* A 20-byte account identifier: RIPEMD-160(SHA-256(public key)). */
typedef struct jt_account_id {
    uint8_t bytes[20];
} jt_account_id;

/* A 20-byte currency code (see jt/amount.h). */
typedef struct jt_currency {
    uint8_t bytes[20];
} jt_currency;

/* A 32-byte hash (transaction ID, ledger hash, object ID). */
typedef struct jt_hash256 {
    uint8_t bytes[32];
} jt_hash256;

/* A growable byte buffer the caller embeds. jt_buf_init() before use,
 * jt_buf_clear() to release. Growth is capped at JT_BUF_MAX bytes. */
typedef struct jt_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} jt_buf;

#define JT_BUF_MAX ((size_t)64 << 20)

JT_API void jt_buf_init(jt_buf *b);
JT_API void jt_buf_clear(jt_buf *b);
/* Frees memory returned by libjt (strings, buffers). NULL is fine. */
JT_API void jt_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
