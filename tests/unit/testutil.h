/* testutil.h — shared helpers for the cmocka unit tests. */
#ifndef JT_TESTUTIL_H
#define JT_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <yajl/yajl_tree.h>

/* Parses tests/vectors/<name> (directory from $JT_VECTORS, default
 * "tests/vectors"); fails the test when missing. Free with yajl_tree_free. */
yajl_val tu_load_vectors(const char *name);

/* Path lookups: tu_get(v, "secp256k1") etc.; NULL when absent. */
yajl_val tu_get(yajl_val obj, const char *key);
const char *tu_str(yajl_val obj, const char *key); /* NULL unless a string */

/* Decodes hex into a malloc()ed buffer (fails the test on bad hex). */
uint8_t *tu_unhex(const char *hex, size_t *len);
/* Upper-case hex of bytes into a static rotating buffer (for messages). */
const char *tu_hex(const uint8_t *p, size_t n);

/* Removes a file or a directory tree (test scratch directories). */
void tu_rm_rf(const char *path);

/* Reads a whole file into a NUL-terminated malloc()ed buffer. */
char *tu_read_file(const char *path, size_t *len);

#endif
