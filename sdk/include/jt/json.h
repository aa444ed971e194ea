/*
 * jt/json.h — a small JSON document model (parsed with yajl) and a JSON
 * writer. Used by the codec and by every program that speaks JSON.
 *
 * A parsed document owns all its memory in one arena, freed in one step by
 * jt_json_doc_free(). Parsing is bounded: text size, nesting depth and
 * element count are capped (jt_json_limits). Numbers keep their exact text.
 * A document is immutable after parsing and may be read from many threads.
 */
#ifndef JT_JSON_H
#define JT_JSON_H

#include "jt/common.h"
#include "jt/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum jt_json_kind {
    JT_JSON_NULL,
    JT_JSON_BOOL,
    JT_JSON_NUMBER,
    JT_JSON_STRING,
    JT_JSON_ARRAY,
    JT_JSON_OBJECT,
} jt_json_kind;

typedef struct jt_json jt_json;
struct jt_json {
    jt_json_kind kind;
    union {
        bool b;
        struct {
            const char *s; /* NUL-terminated; number text for JT_JSON_NUMBER */
            size_t len;
        } str;
        struct {
            jt_json **items;
            size_t n;
        } arr;
        struct {
            const char **keys; /* NUL-terminated */
            jt_json **vals;
            size_t n;
        } obj;
    } u;
};

typedef struct jt_json_limits {
    size_t max_bytes; /* default 1 MiB */
    int max_depth;    /* default 32 */
    size_t max_items; /* values in the document, default 100 000 */
} jt_json_limits;

typedef struct jt_json_doc jt_json_doc;

/* Parses `len` bytes of JSON text (one value, surrounding white space
 * allowed). `limits` may be NULL for the defaults. Errors: JT_EJSON (syntax,
 * message with yajl's description and the byte offset; also a key or string
 * holding U+0000, which a C string could not carry whole), JT_EJSON_DEPTH,
 * JT_ETOOBIG, JT_ENOMEM. The caller frees *doc with jt_json_doc_free(). */
JT_API jt_err jt_json_parse(const char *text, size_t len, const jt_json_limits *limits,
                            jt_json_doc **doc, jt_errinfo *ei) JT_MUST_CHECK;
JT_API const jt_json *jt_json_root(const jt_json_doc *doc);
/* A hint: starts loading a value and, for an object, its key and value
 * arrays into cache (for documents kept a while before they are read). */
JT_API void jt_json_prefetch(const jt_json *v);
JT_API void jt_json_doc_free(jt_json_doc *doc);

/* Member `key` of an object, or NULL (also when `obj` is not an object). */
JT_API const jt_json *jt_json_get(const jt_json *obj, const char *key);
/* The string of a JSON string, or NULL. */
JT_API const char *jt_json_string(const jt_json *v);
/* Integer value of a JSON number without fraction or exponent (also a
 * numeric string when allow_string). false when out of range or not one. */
JT_API bool jt_json_int64(const jt_json *v, bool allow_string, int64_t *out);
JT_API bool jt_json_uint64(const jt_json *v, bool allow_string, uint64_t *out);

/* ---- writer ------------------------------------------------------------
 * Appends compact JSON to a jt_buf. Errors are sticky: check jt_jw_finish(). */
typedef struct jt_jw {
    jt_buf *out;
    jt_err err;
    int depth;
    uint8_t need_comma[64]; /* per nesting level */
    bool after_key;
} jt_jw;

JT_API void jt_jw_init(jt_jw *w, jt_buf *out);
JT_API void jt_jw_object_begin(jt_jw *w);
JT_API void jt_jw_object_end(jt_jw *w);
JT_API void jt_jw_array_begin(jt_jw *w);
JT_API void jt_jw_array_end(jt_jw *w);
JT_API void jt_jw_key(jt_jw *w, const char *key);
JT_API void jt_jw_string(jt_jw *w, const char *s);
JT_API void jt_jw_string_n(jt_jw *w, const char *s, size_t n);
JT_API void jt_jw_int(jt_jw *w, int64_t v);
JT_API void jt_jw_uint(jt_jw *w, uint64_t v);
JT_API void jt_jw_bool(jt_jw *w, bool v);
/* A string of upper-case hex digits for n bytes (hashes, blobs, keys). */
JT_API void jt_jw_hex(jt_jw *w, const uint8_t *p, size_t n);
JT_API void jt_jw_null(jt_jw *w);
/* Writes a parsed value back out. */
JT_API void jt_jw_value(jt_jw *w, const jt_json *v);
/* Appends raw, already valid JSON text as one value. */
JT_API void jt_jw_raw(jt_jw *w, const char *json, size_t n);
/* Appends the members of `obj` (the text of a JSON object, as jt_jw or
 * jt_obj_to_json produce it) to the object being written, as if each had
 * been written with jt_jw_key and a value. JT_EINVAL (sticky) when `obj` is
 * not an object text or the writer is not inside an object. */
JT_API void jt_jw_members(jt_jw *w, const char *obj, size_t n);
/* The first error met (JT_ENOMEM, JT_ETOOBIG, JT_EINVAL for misuse), else
 * JT_OK. Appends a NUL to the buffer (not counted in len). */
JT_API jt_err jt_jw_finish(jt_jw *w) JT_MUST_CHECK;

#ifdef __cplusplus
}
#endif
#endif
