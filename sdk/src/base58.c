/* base58.c — base58 with Jingtum's alphabet, Base58Check, addresses. */
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "jt/base58.h"
#include "jt/hash.h"

#define MAX_TEXT 256 /* longest base58 text accepted */

static const char alphabet[] = JT_BASE58_ALPHABET;

const jt_account_id JT_ACCOUNT_ZERO = {{0}};
const jt_account_id JT_ACCOUNT_ONE = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};

/* Digit of each byte, -1 when not in the alphabet. A constant table: no
 * first-use initialisation, so no race between threads. */
static const int8_t digits_of[256] = {
#define D(c, v) [(unsigned char)(c)] = (int8_t)((v) + 1)
    D('j', 0),  D('p', 1),  D('s', 2),  D('h', 3),  D('n', 4),  D('a', 5),  D('f', 6),  D('3', 7),
    D('9', 8),  D('w', 9),  D('B', 10), D('U', 11), D('D', 12), D('N', 13), D('E', 14), D('G', 15),
    D('H', 16), D('J', 17), D('K', 18), D('L', 19), D('M', 20), D('4', 21), D('P', 22), D('Q', 23),
    D('R', 24), D('S', 25), D('T', 26), D('7', 27), D('V', 28), D('W', 29), D('X', 30), D('Y', 31),
    D('Z', 32), D('2', 33), D('b', 34), D('c', 35), D('d', 36), D('e', 37), D('C', 38), D('g', 39),
    D('6', 40), D('5', 41), D('r', 42), D('k', 43), D('m', 44), D('8', 45), D('o', 46), D('F', 47),
    D('q', 48), D('i', 49), D('1', 50), D('t', 51), D('u', 52), D('v', 53), D('A', 54), D('x', 55),
    D('y', 56), D('z', 57),
#undef D
};

/* Stored as digit+1 so that the zero-initialised entries mean "not a digit". */
static int digit_of(unsigned char c)
{
    return digits_of[c] - 1;
}

/* Base 58^5: the largest power of 58 below 2^32, so a limb times 2^32 plus
 * 32 input bits fits a 64-bit word. */
#define LIMB_BASE 656356768u /* 58^5 */
#define LIMB_DIGITS 5

jt_err jt_base58_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
    if (len > MAX_TEXT)
        return JT_ETOOBIG;
    size_t zeros = 0;
    while (zeros < len && in[zeros] == 0)
        zeros++;
    /* The number in limbs of base 58^5, little end first, taking the input
     * 32 bits at a time (the first chunk shorter when the length is not a
     * multiple of 4): about 16 times fewer steps than digit by byte. */
    uint32_t limbs[(MAX_TEXT * 138 / 100) / LIMB_DIGITS + 2];
    size_t nl = 0;
    size_t i = zeros;
    size_t first = (len - zeros) % 4;
    while (i < len) {
        size_t take = first ? first : 4;
        first = 0;
        uint64_t chunk = 0;
        for (size_t k = 0; k < take; k++)
            chunk = chunk << 8 | in[i + k];
        i += take;
        unsigned shift = (unsigned)(8 * take);
        for (size_t j = 0; j < nl; j++) {
            uint64_t v = (uint64_t)limbs[j] << shift | chunk;
            limbs[j] = (uint32_t)(v % LIMB_BASE);
            chunk = v / LIMB_BASE;
        }
        while (chunk) {
            limbs[nl++] = (uint32_t)(chunk % LIMB_BASE);
            chunk /= LIMB_BASE;
        }
    }
    /* Digits, little end first; the top limb without its leading zeros. */
    uint8_t digits[sizeof limbs / sizeof limbs[0] * LIMB_DIGITS];
    size_t nd = 0;
    for (size_t j = 0; j < nl; j++) {
        uint32_t v = limbs[j];
        for (int k = 0; k < LIMB_DIGITS; k++) {
            digits[nd++] = (uint8_t)(v % 58);
            v /= 58;
        }
    }
    while (nd && digits[nd - 1] == 0)
        nd--;
    if (zeros + nd + 1 > cap)
        return JT_EBUFSIZE;
    size_t k = 0;
    for (size_t z = 0; z < zeros; z++)
        out[k++] = alphabet[0];
    for (size_t d = 0; d < nd; d++)
        out[k++] = alphabet[digits[nd - 1 - d]];
    out[k] = '\0';
    return JT_OK;
}

jt_err jt_base58_decode(const char *text, uint8_t *out, size_t cap, size_t *outlen, jt_errinfo *ei)
{
    size_t tl = strlen(text);
    if (tl > MAX_TEXT)
        return jt__err(ei, JT_ETOOBIG, NULL, -1, "base58 text longer than %d characters", MAX_TEXT);
    size_t zeros = 0;
    while (zeros < tl && text[zeros] == alphabet[0])
        zeros++;
    uint8_t bytes[MAX_TEXT]; /* little end first */
    size_t nb = 0;
    for (size_t i = zeros; i < tl; i++) {
        int d = digit_of((unsigned char)text[i]);
        if (d < 0) {
            unsigned char c = (unsigned char)text[i];
            if (c >= 0x20 && c < 0x7f)
                return jt__err(ei, JT_EBASE58_CHAR, NULL, (long)i,
                               "character '%c' at position %zu is not in the Jingtum base58 "
                               "alphabet",
                               c, i);
            return jt__err(ei, JT_EBASE58_CHAR, NULL, (long)i,
                           "byte 0x%02X at position %zu is not in the Jingtum base58 alphabet", c,
                           i);
        }
        unsigned carry = (unsigned)d;
        for (size_t j = 0; j < nb; j++) {
            carry += (unsigned)bytes[j] * 58;
            bytes[j] = (uint8_t)carry;
            carry >>= 8;
        }
        while (carry) {
            bytes[nb++] = (uint8_t)carry;
            carry >>= 8;
        }
    }
    if (zeros + nb > cap)
        return jt__err(ei, JT_EBUFSIZE, NULL, -1, "decoded base58 does not fit in %zu bytes", cap);
    memset(out, 0, zeros);
    for (size_t i = 0; i < nb; i++)
        out[zeros + i] = bytes[nb - 1 - i];
    *outlen = zeros + nb;
    sodium_memzero(bytes, sizeof bytes); /* may hold a secret's seed */
    return JT_OK;
}

static void checksum(const uint8_t *p, size_t n, uint8_t out[4])
{
    uint8_t h1[32], h2[32];
    jt_sha256(p, n, h1);
    jt_sha256(h1, 32, h2);
    memcpy(out, h2, 4);
}

jt_err jt_base58check_encode(const uint8_t *version, size_t vlen, const uint8_t *payload,
                             size_t plen, char *out, size_t cap)
{
    uint8_t buf[128];
    if (vlen + plen + 4 > sizeof buf)
        return JT_EINVAL;
    memcpy(buf, version, vlen);
    memcpy(buf + vlen, payload, plen);
    checksum(buf, vlen + plen, buf + vlen + plen);
    return jt_base58_encode(buf, vlen + plen + 4, out, cap);
}

jt_err jt_base58check_decode(const char *text, const uint8_t *version, size_t vlen,
                             uint8_t *payload, size_t plen, jt_errinfo *ei)
{
    uint8_t buf[MAX_TEXT];
    size_t n = 0;
    jt_err e = jt_base58_decode(text, buf, sizeof buf, &n, ei);
    if (e)
        return e;
    if (n < 5)
        return jt__err(ei, JT_EBASE58_LENGTH, NULL, -1,
                       "decoded string is %zu bytes, too short to hold a checksum", n);
    uint8_t sum[4];
    checksum(buf, n - 4, sum);
    if (memcmp(sum, buf + n - 4, 4) != 0)
        return jt__err(ei, JT_EBASE58_CHECKSUM, NULL, -1,
                       "checksum does not match (a character is mistyped)");
    if (n - 4 < vlen || memcmp(buf, version, vlen) != 0)
        return jt__err(ei, JT_EBASE58_VERSION, NULL, -1,
                       "version bytes %02X%02X%02X… are not the expected %zu-byte version %02X…",
                       buf[0], n > 1 ? buf[1] : 0, n > 2 ? buf[2] : 0, vlen, version[0]);
    if (n - 4 - vlen != plen)
        return jt__err(ei, JT_EBASE58_LENGTH, NULL, -1, "payload is %zu bytes, expected %zu",
                       n - 4 - vlen, plen);
    memcpy(payload, buf + vlen, plen);
    sodium_memzero(buf, sizeof buf); /* may hold a secret's seed */
    return JT_OK;
}

static const uint8_t VER_ACCOUNT[] = {0x00};
static const uint8_t VER_NODE_PUBLIC[] = {0x1C};

jt_err jt_address_encode(const jt_account_id *id, char out[JT_ADDRESS_MAX])
{
    return jt_base58check_encode(VER_ACCOUNT, 1, id->bytes, 20, out, JT_ADDRESS_MAX);
}

jt_err jt_address_decode(const char *address, jt_account_id *id, jt_errinfo *ei)
{
    if (!address || !address[0])
        return jt__err(ei, JT_EBASE58_LENGTH, NULL, -1, "empty address");
    if (address[0] != 'j' && digit_of((unsigned char)address[0]) >= 0)
        return jt__err(ei, JT_EBASE58_VERSION, NULL, 0, "an address starts with 'j', not '%c'",
                       address[0]);
    jt_err e = jt_base58check_decode(address, VER_ACCOUNT, 1, id->bytes, 20, ei);
    if (e && ei) {
        char tmp[sizeof ei->msg];
        memcpy(tmp, ei->msg, sizeof tmp);
        /* snprintf with %.200s keeps the prefix and bounds the copy */
        jt__err(ei, e, NULL, ei->offset, "bad address: %.200s", tmp);
    }
    return e;
}

bool jt_address_is_valid(const char *address)
{
    jt_account_id id;
    return jt_address_decode(address, &id, NULL) == JT_OK;
}

jt_err jt_node_public_encode(const uint8_t pub[33], char out[JT_NODE_PUBLIC_MAX])
{
    return jt_base58check_encode(VER_NODE_PUBLIC, 1, pub, 33, out, JT_NODE_PUBLIC_MAX);
}

jt_err jt_node_public_decode(const char *text, uint8_t pub[33], jt_errinfo *ei)
{
    return jt_base58check_decode(text, VER_NODE_PUBLIC, 1, pub, 33, ei);
}
