/* fuzz_keystore.c — the keystore file parser on hostile text.
 * Properties: no crash, leak or undefined behaviour whatever the text; a
 * refusal always names what is wrong; and whatever parses is written back
 * as text that parses to a keystore that writes the very same bytes (the
 * writer's form is a fixed point). No key derivation runs: the parser is
 * what reads outside input before any passphrase is involved. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "jt/jt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jt_keystore *ks = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_err e = jt__keystore_parse((const char *)data, size, &ks, &ei);
    if (e) {
        if (ks || ei.code != e || ei.msg[0] == '\0')
            abort();
        return 0;
    }
    jt_buf a, b;
    jt_buf_init(&a);
    jt_buf_init(&b);
    if (jt__keystore_serialize(ks, &a) != JT_OK)
        abort();
    struct jt_keystore *again = NULL;
    if (jt__keystore_parse((const char *)a.data, a.len, &again, &ei) != JT_OK)
        abort();
    if (jt__keystore_serialize(again, &b) != JT_OK)
        abort();
    if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
        abort();
    /* The parse-only keystore has no keys and must refuse to use them. */
    jt_secret_key *sk = NULL;
    if (jt_keystore_count(ks) > 0) {
        jt_keystore_entry en;
        if (jt_keystore_entry_at(ks, 0, &en) != JT_OK)
            abort();
        if (jt_keystore_get_key(ks, en.address, &sk, NULL) == JT_OK)
            abort();
    }
    jt_buf_clear(&a);
    jt_buf_clear(&b);
    jt_keystore_free(ks);
    jt_keystore_free(again);
    return 0;
}
