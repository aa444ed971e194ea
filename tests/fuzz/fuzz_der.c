/* fuzz_der.c — arbitrary bytes as an ECDSA signature. jt_verify must never
 * crash, and whatever it does not reject as JT_ESIG_DER must be exactly the
 * DER that libsecp256k1 would write for it. */
#include <stdlib.h>
#include <string.h>

#include <secp256k1.h>

#include "internal.h"
#include "jt/jt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The public key of keys.json secp256k1[0] (ssYbHr1cQKt1orBJ9k6uJJowgRQVV). */
static const uint8_t PUB[33] = {
    0x02, 0xF9, 0xD5, 0xE9, 0x66, 0x48, 0xF1, 0x3F, 0x30, 0x48, 0x09,
    0x91, 0xB1, 0x28, 0xBD, 0xFA, 0x39, 0xBB, 0x6D, 0xBF, 0x9D, 0x85,
    0x36, 0x8E, 0x36, 0xD0, 0x1A, 0x9D, 0xC4, 0x3A, 0x51, 0x4D, 0xB7,
};
static const uint8_t MSG[] = "hello jingtum";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jt_err e0 = jt_verify(PUB, sizeof PUB, MSG, sizeof MSG - 1, data, size, 0);
    jt_err e1 =
        jt_verify(PUB, sizeof PUB, MSG, sizeof MSG - 1, data, size, JT_VERIFY_REQUIRE_LOW_S);
    if (e0 != JT_OK && e0 != JT_ESIG_DER && e0 != JT_ESIG_INVALID)
        abort();
    /* The flag only ever adds ESIG_HIGH_S, for a high-S signature that is
     * valid or (checked before the curve arithmetic) one that is not. */
    if (e1 != e0 && !(e1 == JT_ESIG_HIGH_S && (e0 == JT_OK || e0 == JT_ESIG_INVALID)))
        abort();
    if (e0 != JT_ESIG_DER) {
        /* Strict DER is canonical: parsing and re-serializing gives the input. */
        const secp256k1_context *ctx = jt__secp_ctx();
        secp256k1_ecdsa_signature sig;
        uint8_t out[80];
        size_t outlen = sizeof out;
        if (!secp256k1_ecdsa_signature_parse_der(ctx, &sig, data, size))
            abort();
        if (!secp256k1_ecdsa_signature_serialize_der(ctx, out, &outlen, &sig))
            abort();
        if (outlen != size || memcmp(out, data, size) != 0)
            abort();
    }
    /* The same bytes as an Ed25519 signature must not crash either. */
    static const uint8_t ED_PUB[33] = {
        0xED, 0xA2, 0x41, 0xE4, 0x80, 0x84, 0x88, 0xE1, 0x6E, 0x3B, 0xCF,
        0xC4, 0x42, 0xC2, 0x29, 0xA1, 0x92, 0x75, 0xD5, 0x6E, 0xFC, 0x7D,
        0x3C, 0xD0, 0xEA, 0x56, 0xFD, 0x55, 0x72, 0xF9, 0xCE, 0xFD, 0xAD,
    };
    jt_err e2 = jt_verify(ED_PUB, sizeof ED_PUB, MSG, sizeof MSG - 1, data, size, 0);
    if (e2 != JT_ESIG_INVALID && e2 != JT_OK)
        abort();
    return 0;
}
