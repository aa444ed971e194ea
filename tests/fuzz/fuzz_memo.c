/* fuzz_memo.c — sealed memo decoding on hostile bytes.
 * Properties: no crash, leak or undefined behaviour whatever MemoData a
 * transaction carries; the input as MemoData never opens (it would need the
 * key's box) and is refused with one of the documented codes; and the input
 * as the plaintext (after the sender) inside a genuine box either is
 * refused as malformed or opens into parts that lie inside the buffer, add up to the input and
 * seal and open again to the same parts. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "jt/jt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static jt_memo_key *the_key(void)
{
    static jt_memo_key *k;
    if (!k) {
        jt_secret_key *sk;
        jt_errinfo ei;
        if (jt_secret_key_new_from_secret("sEd7seVsARST9mmVPB7A4n41CMkYQuz", &sk, &ei) != JT_OK ||
            jt_memo_key_new(sk, &k) != JT_OK)
            abort();
        jt_secret_key_free(sk);
    }
    return k;
}

static bool inside(const uint8_t *p, size_t n, const uint8_t *buf, size_t cap)
{
    return n == 0 ? p == NULL : p >= buf && p + n <= buf + cap;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > JT_MEMO_PLAIN_MAX)
        return 0;
    jt_memo_key *k = the_key();
    uint8_t *buf = malloc(size + 8);
    if (!buf)
        abort();
    jt_memo_parts out;
    static const jt_account_id from = {{0x5E, 0x4D, 0xE2}};
    jt_err e = jt_memo_open(k, data, size, &from, buf, size + 8, &out);
    if (e != JT_ETRUNCATED && e != JT_EINVAL && e != JT_EKEY && e != JT_EDECRYPT)
        abort();
    if (out.data || out.type || out.format)
        abort();

    /* The input, after the sender's account ID, inside a genuine box for
     * the key. */
    uint8_t *plain = malloc(20 + size + 1);
    if (!plain)
        abort();
    memcpy(plain, from.bytes, 20);
    if (size)
        memcpy(plain + 20, data, size);
    size_t slen = JT_MEMO_HEADER_BYTES + crypto_box_SEALBYTES + 20 + size;
    uint8_t *s = malloc(slen);
    if (!s)
        abort();
    s[0] = JT_MEMO_VERSION;
    s[1] = JT_MEMO_FOR_SENDER;
    memcpy(s + 2, jt_memo_key_public(k), JT_MEMO_KEY_BYTES);
    if (crypto_box_seal(s + JT_MEMO_HEADER_BYTES, plain, 20 + size, jt_memo_key_public(k)) != 0)
        abort();
    free(plain);
    buf = realloc(buf, size + 28);
    if (!buf)
        abort();
    e = jt_memo_open(k, s, slen, &from, buf, size + 28, &out);
    if (size < 4) {
        if (e != JT_ETRUNCATED)
            abort();
    } else if (e == JT_OK) {
        if (!inside(out.type, out.type_len, buf, size + 20) ||
            !inside(out.format, out.format_len, buf, size + 20) ||
            !inside(out.data, out.data_len, buf, size + 20) ||
            4 + out.type_len + out.format_len + out.data_len != size)
            abort();
        uint8_t *again = malloc(jt_memo_sealed_size(&out));
        uint8_t *buf2 = malloc(size + 28);
        size_t al;
        jt_memo_parts back;
        if (!again || !buf2 ||
            jt_memo_seal(jt_memo_key_public(k), JT_MEMO_FOR_RECIPIENT, &from, &out, again,
                         jt_memo_sealed_size(&out), &al) != JT_OK ||
            al != slen || jt_memo_open(k, again, al, &from, buf2, size + 28, &back) != JT_OK ||
            back.type_len != out.type_len || back.format_len != out.format_len ||
            back.data_len != out.data_len ||
            (out.type_len && memcmp(back.type, out.type, out.type_len)) ||
            (out.format_len && memcmp(back.format, out.format, out.format_len)) ||
            (out.data_len && memcmp(back.data, out.data, out.data_len)))
            abort();
        free(again);
        free(buf2);
    } else if (e != JT_EINVAL) {
        abort();
    }
    free(s);
    free(buf);
    return 0;
}
