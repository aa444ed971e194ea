/* fuzz_json.c — JSON → binary on hostile text.
 * Property: whatever converts encodes, and the encoding decodes and converts
 * back to JSON that converts to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "jt/jt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
