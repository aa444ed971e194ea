/* fuzz_json.c — JSON → binary on hostile text.
 * Properties: the parser's fast path for plain documents and yajl agree (the
 * same result, the same document); whatever converts encodes, and the
 * encoding decodes and converts back to JSON that converts to the same
 * bytes. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "jt/jt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void written(const jt_json_doc *d, jt_buf *out)
{
    jt_jw w;
    jt_jw_init(&w, out);
    jt_jw_value(&w, jt_json_root(d));
    if (jt_jw_finish(&w) != JT_OK)
        abort();
}

static void parsers_agree(const char *text, size_t size)
{
    jt_json_limits lim = {.max_items = 64, .max_depth = 8};
    for (int pass = 0; pass < 2; pass++) {
        const jt_json_limits *l = pass ? &lim : NULL;
        jt_json_doc *fast = NULL, *slow = NULL;
        jt_errinfo ei;
        jt_err ef = jt_json_parse(text, size, l, &fast, &ei);
        jt_err es = jt__json_parse_general(text, size, l, &slow, &ei);
        if (ef != es || !fast != !slow)
            abort();
        if (fast) {
            jt_buf a, b;
            jt_buf_init(&a);
            jt_buf_init(&b);
            written(fast, &a);
            written(slow, &b);
            if (a.len != b.len || memcmp(a.data, b.data, a.len))
                abort();
            jt_buf_clear(&a);
            jt_buf_clear(&b);
        }
        jt_json_doc_free(fast);
        jt_json_doc_free(slow);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parsers_agree((const char *)data, size);
    jt_obj *o = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    if (jt_obj_from_json((const char *)data, size, &o, &ei) != JT_OK) {
        if (ei.msg[0] == '\0')
            abort();
        return 0;
    }
    jt_buf b;
    jt_buf_init(&b);
    jt_err e = jt_obj_to_binary(o, 0, &b);
    if (e == JT_OK) {
        jt_obj *back = NULL;
        if (jt_obj_from_binary(b.data, b.len, &back, &ei) != JT_OK)
            abort(); /* the encoder wrote something the decoder refuses */
        jt_buf b2;
        jt_buf_init(&b2);
        if (jt_obj_to_binary(back, 0, &b2) != JT_OK || b2.len != b.len ||
            memcmp(b2.data, b.data, b.len) != 0)
            abort();
        jt_buf_clear(&b2);
        jt_obj_free(back);
    } else if (e != JT_ETOOBIG) {
        abort();
    }
    jt_buf_clear(&b);
    jt_obj_free(o);
    return 0;
}
