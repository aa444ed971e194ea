/*
 * jt/util.h — hex conversion and other small helpers.
 */
#ifndef JT_UTIL_H
#define JT_UTIL_H

#include "jt/common.h"
#include "jt/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes 2*len upper-case hex digits and a NUL into `out`.
 * Errors: JT_EBUFSIZE when cap < 2*len+1. Thread-safe. */
JT_API jt_err jt_hex_encode(const uint8_t *in, size_t len, char *out, size_t cap);

/* Decodes `hexlen` hex digits (either case) into `out`; *outlen gets the byte
 * count. Errors: JT_EHEX (odd length or a non-hex character), JT_EBUFSIZE. */
JT_API jt_err jt_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t cap,
                            size_t *outlen);

/* Appends to a jt_buf, growing it. Errors: JT_ENOMEM, JT_ETOOBIG (JT_BUF_MAX). */
JT_API jt_err jt_buf_append(jt_buf *b, const void *p, size_t n);
/* Makes room for `n` more bytes without changing the contents, so a writer
 * that knows its size grows the buffer once. Errors as jt_buf_append. */
JT_API jt_err jt_buf_reserve(jt_buf *b, size_t n);

/* Current time in protocol seconds (since 2000-01-01T00:00:00Z). */
#define JT_EPOCH_OFFSET 946684800u

#ifdef __cplusplus
}
#endif
#endif
