/* test_base58.c — base58 with the Jingtum alphabet, Base58Check, addresses. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "jt/jt.h"
#include "testutil.h"

static void alphabet(void **state)
{
    (void)state;
    const char *a = JT_BASE58_ALPHABET;
    assert_int_equal(strlen(a), 58);
    assert_int_equal(a[0], 'j');
    assert_int_equal(a[42], 'r'); /* rippled's index 0, swapped with 'j' */

    yajl_val keys = tu_load_vectors("keys.json");
    assert_string_equal(tu_str(keys, "alphabet"), a);
    yajl_tree_free(keys);

    /* Every single byte 1..57 is one digit; 0 is a leading zero → 'j'. */
    char out[8];
    for (int i = 0; i < 58; i++) {
        uint8_t b = (uint8_t)i;
        assert_int_equal(jt_base58_encode(&b, 1, out, sizeof out), JT_OK);
        assert_int_equal(strlen(out), 1);
        assert_int_equal(out[0], a[i]);
        char in[2] = {a[i], '\0'};
        uint8_t back[4];
        size_t n = 0;
        assert_int_equal(jt_base58_decode(in, back, sizeof back, &n, NULL), JT_OK);
        assert_int_equal(n, 1);
        assert_int_equal(back[0], i);
    }
    uint8_t b58 = 58;
    assert_int_equal(jt_base58_encode(&b58, 1, out, sizeof out), JT_OK);
    assert_string_equal(out, "pj");
    uint8_t b255 = 255;
    assert_int_equal(jt_base58_encode(&b255, 1, out, sizeof out), JT_OK);
    assert_string_equal(out, "nQ"); /* 255 = 4·58 + 23: a[4], a[23] */

    /* Characters outside the alphabet. */
    const char *outside = "0OIlr";
    for (const char *c = outside; *c; c++) {
        bool in_alphabet = strchr(a, *c) != NULL;
        assert_true(*c == 'r' ? in_alphabet : !in_alphabet);
    }
}

static void leading_zeros(void **state)
{
    (void)state;
    uint8_t z[5] = {0, 0, 0, 0, 0};
    char out[16];
    assert_int_equal(jt_base58_encode(z, 0, out, sizeof out), JT_OK);
    assert_string_equal(out, "");
    assert_int_equal(jt_base58_encode(z, 3, out, sizeof out), JT_OK);
    assert_string_equal(out, "jjj");
    uint8_t zp[3] = {0, 0, 1};
    assert_int_equal(jt_base58_encode(zp, 3, out, sizeof out), JT_OK);
    assert_string_equal(out, "jjp");

    uint8_t back[8];
    size_t n = 99;
    assert_int_equal(jt_base58_decode("jjj", back, sizeof back, &n, NULL), JT_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(back, z, 3);
    assert_int_equal(jt_base58_decode("jjp", back, sizeof back, &n, NULL), JT_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(back, zp, 3);
    assert_int_equal(jt_base58_decode("", back, sizeof back, &n, NULL), JT_OK);
    assert_int_equal(n, 0);
}

static void round_trips(void **state)
{
    (void)state;
    /* Deterministic pseudo-random inputs of every length up to 64, with
     * 0..3 leading zero bytes. */
    uint32_t x = 12345;
    for (size_t len = 0; len <= 64; len++) {
        for (size_t zeros = 0; zeros <= 3 && zeros <= len; zeros++) {
            uint8_t in[64], back[64];
            for (size_t i = 0; i < len; i++) {
                x = x * 1103515245u + 12345u;
                in[i] = i < zeros ? 0 : (uint8_t)(x >> 16);
            }
            if (zeros < len && in[zeros] == 0)
                in[zeros] = 1;
            char text[128];
            assert_int_equal(jt_base58_encode(in, len, text, sizeof text), JT_OK);
            size_t lead = strspn(text, "j");
            assert_int_equal(lead, zeros);
            size_t n = 0;
            assert_int_equal(jt_base58_decode(text, back, sizeof back, &n, NULL), JT_OK);
            assert_int_equal(n, len);
            assert_memory_equal(back, in, len);
        }
    }
    /* The longest input accepted, all ones and random: the digit buffers
     * hold the largest number (under the sanitizers), and inputs whose
     * text the decoder accepts (at most 256 characters) decode back. */
    for (int pass = 0; pass < 2; pass++) {
        uint8_t big[256], back[256];
        for (size_t i = 0; i < sizeof big; i++) {
            x = x * 1103515245u + 12345u;
            big[i] = pass ? (uint8_t)(x >> 16) | 1 : 0xFF;
        }
        char text[400];
        assert_int_equal(jt_base58_encode(big, sizeof big, text, sizeof text), JT_OK);
        assert_true(strlen(text) >= 349 && strlen(text) <= 350); /* 256·log(256)/log(58) */
        assert_int_equal(jt_base58_encode(big, sizeof big, text, 350), JT_EBUFSIZE);
        size_t len = 187; /* 256 characters or fewer */
        assert_int_equal(jt_base58_encode(big, len, text, sizeof text), JT_OK);
        size_t n = 0;
        assert_int_equal(jt_base58_decode(text, back, sizeof back, &n, NULL), JT_OK);
        assert_int_equal(n, len);
        assert_memory_equal(back, big, len);
    }
    /* Base58Check round trip with a multi-byte version. */
    const uint8_t ver[] = {0x01, 0xE1, 0x4B};
    uint8_t payload[16] = {0xAA, 0xBB};
    uint8_t got[16];
    char text[64];
    assert_int_equal(jt_base58check_encode(ver, 3, payload, 16, text, sizeof text), JT_OK);
    assert_memory_equal(text, "sEd", 3);
    assert_int_equal(jt_base58check_decode(text, ver, 3, got, 16, NULL), JT_OK);
    assert_memory_equal(got, payload, 16);
}

static void addresses(void **state)
{
    (void)state;
    const char *addr_a = "jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ2";
    jt_account_id id;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_address_decode(addr_a, &id, &ei), JT_OK);
    assert_string_equal(tu_hex(id.bytes, 20), "37AC194C7DE25083DDAAEA0A77FEA905EAAE0716");
    char out[JT_ADDRESS_MAX];
    assert_int_equal(jt_address_encode(&id, out), JT_OK);
    assert_string_equal(out, addr_a);
    assert_true(jt_address_is_valid(addr_a));

    assert_int_equal(jt_address_decode("jjjjjjjjjjjjjjjjjjjjjhoLvTp", &id, NULL), JT_OK);
    assert_memory_equal(id.bytes, JT_ACCOUNT_ZERO.bytes, 20);
    assert_int_equal(jt_address_decode("jjjjjjjjjjjjjjjjjjjjBZbvri", &id, NULL), JT_OK);
    assert_memory_equal(id.bytes, JT_ACCOUNT_ONE.bytes, 20);

    /* The same account in rippled's alphabet is not a Jingtum address. */
    assert_false(jt_address_is_valid("ran4LBF2HGSBqDn6y9YoUxJZj7Jruv3fZ2"));
    assert_int_equal(jt_address_decode("ran4LBF2HGSBqDn6y9YoUxJZj7Jruv3fZ2", &id, NULL),
                     JT_EBASE58_VERSION);
    assert_false(jt_address_is_valid(""));
    assert_false(jt_address_is_valid("jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ3"));
    assert_false(jt_address_is_valid("jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ"));
    /* A secret is not an address. */
    assert_false(jt_address_is_valid("ssYbHr1cQKt1orBJ9k6uJJowgRQVV"));
}

static void node_public(void **state)
{
    (void)state;
    uint8_t pub[33], back[33];
    for (int i = 0; i < 33; i++)
        pub[i] = (uint8_t)(i * 7 + 2);
    pub[0] = 0x03;
    char text[JT_NODE_PUBLIC_MAX];
    assert_int_equal(jt_node_public_encode(pub, text), JT_OK);
    assert_int_equal(text[0], 'n');
    assert_int_equal(jt_node_public_decode(text, back, NULL), JT_OK);
    assert_memory_equal(back, pub, 33);
    /* An address is not a node public key. */
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_node_public_decode("jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ2", back, &ei),
                     JT_EBASE58_VERSION);
}

static void errors(void **state)
{
    (void)state;
    uint8_t buf[64];
    size_t n = 0;
    jt_errinfo ei;

    /* A bad character: the message names it and where it is. */
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_base58_decode("jpsh0af", buf, sizeof buf, &n, &ei), JT_EBASE58_CHAR);
    assert_int_equal(ei.code, JT_EBASE58_CHAR);
    assert_int_equal(ei.offset, 4);
    assert_non_null(strstr(ei.msg, "'0'"));
    assert_non_null(strstr(ei.msg, "4"));
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_base58_decode("jp\xC3\xA9", buf, sizeof buf, &n, &ei), JT_EBASE58_CHAR);
    assert_non_null(strstr(ei.msg, "0xC3"));
    assert_int_equal(jt_base58_decode("O", buf, sizeof buf, &n, NULL), JT_EBASE58_CHAR);
    assert_int_equal(jt_base58_decode("l", buf, sizeof buf, &n, NULL), JT_EBASE58_CHAR);
    assert_int_equal(jt_base58_decode("I", buf, sizeof buf, &n, NULL), JT_EBASE58_CHAR);

    /* Output too small, both ways. */
    uint8_t in[4] = {0, 1, 2, 3};
    char small[4];
    assert_int_equal(jt_base58_encode(in, 4, small, sizeof small), JT_EBUFSIZE);
    char fits[16];
    assert_int_equal(jt_base58_encode(in, 4, fits, sizeof fits), JT_OK);
    size_t need = strlen(fits);
    assert_int_equal(jt_base58_encode(in, 4, fits, need), JT_EBUFSIZE); /* no room for NUL */
    assert_int_equal(jt_base58_encode(in, 4, fits, need + 1), JT_OK);
    assert_int_equal(jt_base58_decode(fits, buf, 3, &n, NULL), JT_EBUFSIZE);
    assert_int_equal(jt_base58_decode(fits, buf, 4, &n, NULL), JT_OK);

    /* Text over 256 characters. */
    char big[258];
    memset(big, 'p', 257);
    big[257] = '\0';
    assert_int_equal(jt_base58_decode(big, buf, sizeof buf, &n, NULL), JT_ETOOBIG);

    /* Base58Check: checksum, then version, then length. */
    const uint8_t v0[] = {0x00}, v21[] = {0x21};
    jt_account_id id;
    jt_errinfo_clear(&ei);
    assert_int_equal(
        jt_base58check_decode("jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ3", v0, 1, id.bytes, 20, &ei),
        JT_EBASE58_CHECKSUM);
    assert_int_equal(ei.code, JT_EBASE58_CHECKSUM);
    assert_int_equal(
        jt_base58check_decode("jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ2", v21, 1, id.bytes, 20, NULL),
        JT_EBASE58_VERSION);
    assert_int_equal(
        jt_base58check_decode("jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ2", v0, 1, buf, 19, NULL),
        JT_EBASE58_LENGTH);
    assert_int_equal(
        jt_base58check_decode("jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ2", v0, 1, buf, 21, NULL),
        JT_EBASE58_LENGTH);
    assert_int_equal(
        jt_base58check_decode("jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ0", v0, 1, buf, 20, NULL),
        JT_EBASE58_CHAR);
    assert_int_equal(jt_base58check_decode("jjj", v0, 1, buf, 20, NULL), JT_EBASE58_LENGTH);

    /* Base58Check encode: room and input limits. */
    char text[64];
    uint8_t payload[200] = {0};
    assert_int_equal(jt_base58check_encode(v0, 1, payload, 20, text, 10), JT_EBUFSIZE);
    assert_int_equal(jt_base58check_encode(v0, 1, payload, 200, text, sizeof text), JT_EINVAL);

    /* Address decode errors keep their kind. */
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_address_decode("jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ0", &id, &ei),
                     JT_EBASE58_CHAR);
    assert_non_null(strstr(ei.msg, "address"));
    assert_int_equal(jt_address_decode("jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ3", &id, NULL),
                     JT_EBASE58_CHECKSUM);
    assert_int_equal(jt_address_decode("", &id, NULL), JT_EBASE58_LENGTH);
    /* A 19-byte account ID under version 0 with a good checksum. */
    assert_int_equal(jt_base58check_encode(v0, 1, payload + 1, 19, text, sizeof text), JT_OK);
    assert_int_equal(jt_address_decode(text, &id, NULL), JT_EBASE58_LENGTH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alphabet),  cmocka_unit_test(leading_zeros), cmocka_unit_test(round_trips),
        cmocka_unit_test(addresses), cmocka_unit_test(node_public),   cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests_name("base58", tests, NULL, NULL);
}
