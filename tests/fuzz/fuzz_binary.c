/* fuzz_binary.c — the binary decoder on hostile bytes.
 * Property: whatever decodes re-encodes to the same bytes, and its JSON form
 * reads back to the same bytes (decode → JSON → encode is the identity). */
#include <stdlib.h>
#include <string.h>

#include "jt/jt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jt_obj *o = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    if (jt_obj_from_binary(data, size, &o, &ei) != JT_OK) {
        if (ei.msg[0] == '\0')
            abort(); /* every failure explains itself */
        return 0;
    }
    jt_buf b;
    jt_buf_init(&b);
    if (jt_obj_to_binary(o, 0, &b) != JT_OK || b.len != size || memcmp(b.data, data, size) != 0)
        abort();
    jt_buf js;
    jt_buf_init(&js);
    if (jt_obj_to_json(o, &js) != JT_OK)
        abort();
    jt_obj *back = NULL;
    if (jt_obj_from_json((const char *)js.data, js.len, &back, &ei) != JT_OK)
        abort();
    jt_buf b2;
    jt_buf_init(&b2);
    if (jt_obj_to_binary(back, 0, &b2) != JT_OK || b2.len != size ||
        memcmp(b2.data, data, size) != 0)
        abort();
    /* Signing paths must not crash on any decodable object. */
    (void)jt_tx_verify(o, &ei);
    uint8_t id[32];
    (void)jt_tx_id(o, id);
    jt_buf_clear(&b);
    jt_buf_clear(&b2);
    jt_buf_clear(&js);
    jt_obj_free(back);
    jt_obj_free(o);
    return 0;
}
