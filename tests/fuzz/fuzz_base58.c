/* fuzz_base58.c — every base58 text decoder; what decodes must re-encode to
 * the same text. */
#include <stdlib.h>
#include <string.h>

#include "jt/jt.h"

#define MAX_INPUT 400 /* a little over the decoders' 256-character limit */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_or_abort(const char *a, const char *b)
{
    if (strcmp(a, b) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    char text[MAX_INPUT + 1];
    memcpy(text, data, size);
    text[size] = '\0';
    /* An embedded NUL just ends the string early, as it would for a caller. */

    jt_errinfo ei;
    uint8_t raw[300];
    size_t n = 0;
    jt_errinfo_clear(&ei);
    if (jt_base58_decode(text, raw, sizeof raw, &n, &ei) == JT_OK) {
        char again[MAX_INPUT + 1];
        if (jt_base58_encode(raw, n, again, sizeof again) != JT_OK)
            abort();
        same_or_abort(again, text);
    } else if (ei.code == JT_OK || ei.msg[0] == '\0') {
        abort(); /* a failure must say why */
    }

    jt_account_id id;
    jt_errinfo_clear(&ei);
    if (jt_address_decode(text, &id, &ei) == JT_OK) {
        char again[JT_ADDRESS_MAX];
        if (jt_address_encode(&id, again) != JT_OK)
            abort();
        same_or_abort(again, text);
        if (!jt_address_is_valid(text))
            abort();
    }

    jt_seed seed;
    jt_errinfo_clear(&ei);
    if (jt_secret_decode(text, &seed, &ei) == JT_OK) {
        char again[JT_SECRET_MAX];
        if (jt_secret_encode(&seed, again, sizeof again) != JT_OK)
            abort();
        same_or_abort(again, text);
        jt_keypair kp;
        if (jt_keypair_from_seed(&seed, &kp) != JT_OK)
            abort();
        jt_keypair_clear(&kp);
    } else if (ei.code == JT_OK || ei.msg[0] == '\0') {
        abort();
    }
    jt_seed_clear(&seed);

    uint8_t pub[33];
    jt_errinfo_clear(&ei);
    if (jt_node_public_decode(text, pub, &ei) == JT_OK) {
        char again[JT_NODE_PUBLIC_MAX];
        if (jt_node_public_encode(pub, again) != JT_OK)
            abort();
        same_or_abort(again, text);
    }
    return 0;
}
