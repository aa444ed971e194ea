/* test_memo.c — sealed memos: the derived key (against vectors computed
 * with Python's hashlib BLAKE2b and OpenSSL's X25519), seal and open, and
 * every way a memo for someone else or an altered one is refused. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "jt/jt.h"
#include "testutil.h"

#define GENESIS "snoPBjXtMeMyMHUVTgbuqAfg1SUTb"
#define ED_SECRET "sEd7seVsARST9mmVPB7A4n41CMkYQuz"
/* BLAKE2b-256(key = seed, "jtkit memo key v1" ‖ type) and its X25519
 * public key, from an independent implementation. */
#define GENESIS_PUB "5FEB76D4C46A3868FFB25CAFAE83AA85EB060E2C289B41F09E611A4D05F5B671"
#define ED_PUB "EDC14A610B97C3143DADB3A62B57035417FDB224E1859C59372D3BFFA73FE14C"

/* The sending accounts a box is sealed from. */
static const jt_account_id ALICE = {{0xA1, 0x1C, 0xE0}}, MALLORY = {{0x3A, 0x11, 0x07}};

static bool contains(const uint8_t *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(hay + i, needle, k))
            return true;
    return false;
}

static jt_secret_key *handle(const char *secret)
{
    jt_secret_key *sk = NULL;
    jt_errinfo ei;
    assert_int_equal(jt_secret_key_new_from_secret(secret, &sk, &ei), JT_OK);
    return sk;
}

static jt_memo_key *memo_key(const char *secret)
{
    jt_secret_key *sk = handle(secret);
    jt_memo_key *k = NULL;
    assert_int_equal(jt_memo_key_new(sk, &k), JT_OK);
    jt_secret_key_free(sk);
    return k;
}

static jt_memo_parts text_parts(const char *type, const char *format, const char *data)
{
    jt_memo_parts p = {0};
    p.type = (const uint8_t *)type;
    p.type_len = type ? strlen(type) : 0;
    p.format = (const uint8_t *)format;
    p.format_len = format ? strlen(format) : 0;
    p.data = (const uint8_t *)data;
    p.data_len = data ? strlen(data) : 0;
    return p;
}

static void derivation_vectors(void **state)
{
    (void)state;
    jt_memo_key *k = memo_key(GENESIS);
    assert_string_equal(tu_hex(jt_memo_key_public(k), 32), GENESIS_PUB);
    uint8_t mk[JT_MESSAGE_KEY_BYTES];
    jt_memo_key_message_key(k, mk);
    assert_int_equal(mk[0], 0xEC);
    assert_memory_equal(mk + 1, jt_memo_key_public(k), 32);
    jt_memo_key_free(k);
    k = memo_key(ED_SECRET);
    assert_string_equal(tu_hex(jt_memo_key_public(k), 32), ED_PUB);
    jt_memo_key_free(k);
}

/* The same seed always gives the same key; the same seed bytes as the
 * other key type, or another seed, give another. Keystore handles (which
 * refuse export) derive the same key as the secret's own handle. */
static void derivation_deterministic(void **state)
{
    (void)state;
    jt_memo_key *a = memo_key(GENESIS), *b = memo_key(GENESIS);
    assert_memory_equal(jt_memo_key_public(a), jt_memo_key_public(b), 32);
    jt_seed seed;
    jt_errinfo ei;
    assert_int_equal(jt_secret_decode(GENESIS, &seed, &ei), JT_OK);
    seed.type = JT_KEY_ED25519;
    jt_secret_key *sk;
    assert_int_equal(jt_secret_key_new(&seed, &sk), JT_OK);
    jt_memo_key *c;
    assert_int_equal(jt_memo_key_new(sk, &c), JT_OK);
    assert_memory_not_equal(jt_memo_key_public(a), jt_memo_key_public(c), 32);
    jt_secret_key_free(sk);
    jt_seed_clear(&seed);

    char dir[] = "/tmp/jt-memo-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/ks.json", dir);
    jt_keystore_params p;
    jt_keystore_params_preset(JT_KEYSTORE_COST_MIN, &p);
    jt_keystore *ks;
    assert_int_equal(jt_keystore_create(path, "pass phrase", &p, &ks, &ei), JT_OK);
    jt_keystore_entry e;
    assert_int_equal(jt_keystore_import(ks, GENESIS, NULL, &e, &ei), JT_OK);
    assert_int_equal(jt_keystore_get_key(ks, e.address, &sk, &ei), JT_OK);
    jt_memo_key *d;
    assert_int_equal(jt_memo_key_new(sk, &d), JT_OK);
    assert_memory_equal(jt_memo_key_public(a), jt_memo_key_public(d), 32);
    jt_secret_key_free(sk);
    jt_keystore_free(ks);
    tu_rm_rf(dir);

    jt_memo_key *other = memo_key(ED_SECRET);
    assert_memory_not_equal(jt_memo_key_public(a), jt_memo_key_public(other), 32);
    jt_memo_key_free(a);
    jt_memo_key_free(b);
    jt_memo_key_free(c);
    jt_memo_key_free(d);
    jt_memo_key_free(other);
    assert_int_equal(jt_memo_key_new(NULL, &a), JT_EINVAL);
}

static void round_trip(void **state)
{
    (void)state;
    jt_memo_key *to = memo_key(ED_SECRET);
    static const char text[] = "invoice 42: 井通 \x01\xff";
    jt_memo_parts in = text_parts("text/plain", "utf8", text);
    size_t need = jt_memo_sealed_size(&in);
    assert_int_equal(need, JT_MEMO_OVERHEAD + 10 + 4 + strlen(text));
    assert_int_equal(JT_MEMO_OVERHEAD, 34 + 48 + 20 + 4);
    uint8_t s1[256], s2[256];
    size_t l1, l2;
    assert_int_equal(jt_memo_seal(jt_memo_key_public(to), JT_MEMO_FOR_RECIPIENT, &ALICE, &in, s1, sizeof s1, &l1), JT_OK);
    assert_int_equal(jt_memo_seal(jt_memo_key_public(to), JT_MEMO_FOR_SENDER, &ALICE, &in, s2, sizeof s2, &l2), JT_OK);
    assert_int_equal(l1, need);
    assert_int_equal(l2, need);
    /* randomized: the two boxes differ, and neither holds the text */
    assert_memory_not_equal(s1 + JT_MEMO_HEADER_BYTES, s2 + JT_MEMO_HEADER_BYTES, l1 - JT_MEMO_HEADER_BYTES);
    assert_false(contains(s1, l1, "invoice"));
    /* the clear header */
    assert_int_equal(s1[0], JT_MEMO_VERSION);
    jt_memo_role role;
    uint8_t key[32];
    assert_int_equal(jt_memo_peek(s2, l2, &role, key), JT_OK);
    assert_int_equal(role, JT_MEMO_FOR_SENDER);
    assert_memory_equal(key, jt_memo_key_public(to), 32);

    uint8_t buf[256];
    jt_memo_parts out;
    assert_int_equal(jt_memo_open(to, s1, l1, &ALICE, buf, sizeof buf, &out), JT_OK);
    assert_int_equal(out.type_len, 10);
    assert_memory_equal(out.type, "text/plain", 10);
    assert_int_equal(out.format_len, 4);
    assert_memory_equal(out.format, "utf8", 4);
    assert_int_equal(out.data_len, strlen(text));
    assert_memory_equal(out.data, text, strlen(text));

    /* no type or format, and empty data */
    jt_memo_parts bare = text_parts(NULL, NULL, "x");
    assert_int_equal(jt_memo_seal(jt_memo_key_public(to), JT_MEMO_FOR_RECIPIENT, &ALICE, &bare, s1, sizeof s1, &l1), JT_OK);
    assert_int_equal(jt_memo_open(to, s1, l1, &ALICE, buf, sizeof buf, &out), JT_OK);
    assert_null(out.type);
    assert_null(out.format);
    assert_int_equal(out.data_len, 1);
    jt_memo_parts none = {0};
    assert_int_equal(jt_memo_seal(jt_memo_key_public(to), JT_MEMO_FOR_RECIPIENT, &ALICE, &none, s1, sizeof s1, &l1), JT_OK);
    assert_int_equal(l1, JT_MEMO_OVERHEAD);
    assert_int_equal(jt_memo_open(to, s1, l1, &ALICE, buf, 24, &out), JT_OK);
    assert_int_equal(out.data_len, 0);
    jt_memo_key_free(to);
}

static void wrong_key_refused(void **state)
{
    (void)state;
    jt_memo_key *to = memo_key(ED_SECRET), *eve = memo_key(GENESIS);
    jt_memo_parts in = text_parts(NULL, NULL, "for the recipient only");
    uint8_t s[256], buf[256];
    size_t l;
    jt_memo_parts out;
    assert_int_equal(jt_memo_seal(jt_memo_key_public(to), JT_MEMO_FOR_RECIPIENT, &ALICE, &in, s, sizeof s, &l), JT_OK);
    /* another key: refused by the header, nothing decrypted */
    assert_int_equal(jt_memo_open(eve, s, l, &ALICE, buf, sizeof buf, &out), JT_EKEY);
    /* another key that lies in the header: the box does not open */
    memcpy(s + 2, jt_memo_key_public(eve), 32);
    assert_int_equal(jt_memo_open(eve, s, l, &ALICE, buf, sizeof buf, &out), JT_EDECRYPT);
    assert_null(out.data);
    memcpy(s + 2, jt_memo_key_public(to), 32);
    assert_int_equal(jt_memo_open(to, s, l, &ALICE, buf, sizeof buf, &out), JT_OK);
    /* the same box in a transaction of another account: refused */
    assert_int_equal(jt_memo_open(to, s, l, &MALLORY, buf, sizeof buf, &out), JT_EDECRYPT);
    assert_null(out.data);
    /* every byte of the box altered in turn: never opens */
    for (size_t i = JT_MEMO_HEADER_BYTES; i < l; i++) {
        s[i] ^= 0x01;
        assert_int_equal(jt_memo_open(to, s, l, &ALICE, buf, sizeof buf, &out), JT_EDECRYPT);
        s[i] ^= 0x01;
    }
    /* cut short, another version or role, a small buffer */
    assert_int_equal(jt_memo_open(to, s, l - 1, &ALICE, buf, sizeof buf, &out), JT_EDECRYPT);
    assert_int_equal(jt_memo_open(to, s, JT_MEMO_OVERHEAD - 1, &ALICE, buf, sizeof buf, &out), JT_ETRUNCATED);
    s[0] = 2;
    assert_int_equal(jt_memo_open(to, s, l, &ALICE, buf, sizeof buf, &out), JT_EINVAL);
    s[0] = 1;
    s[1] = 2;
    assert_int_equal(jt_memo_peek(s, l, NULL, NULL), JT_EINVAL);
    s[1] = 0;
    assert_int_equal(jt_memo_open(to, s, l, &ALICE, buf, 10, &out), JT_EBUFSIZE);
    assert_int_equal(jt_memo_open(to, s, l, &ALICE, buf, sizeof buf, &out), JT_OK);
    jt_memo_key_free(to);
    jt_memo_key_free(eve);
}

/* A box that authenticates but whose plaintext lengths run past its end
 * (another implementation's mistake) is refused, not read past. */
static void malformed_plaintext(void **state)
{
    (void)state;
    jt_memo_key *to = memo_key(ED_SECRET);
    static const uint8_t bad[][6] = {
        {0x00, 0x05, 'a', 'b', 0x00, 0x00}, /* type longer than the rest */
        {0x00, 0x00, 0x00, 0x09, 'x', 'y'}, /* format longer than the rest */
        {0x00, 0x00, 0x00, 0x00, 'o', 'k'}, /* well formed: data "ok" */
    };
    for (size_t i = 0; i < 3; i++) {
        uint8_t s[JT_MEMO_HEADER_BYTES + 48 + 26], buf[64], plain[26];
        memcpy(plain, ALICE.bytes, 20);
        memcpy(plain + 20, bad[i], 6);
        s[0] = JT_MEMO_VERSION;
        s[1] = JT_MEMO_FOR_RECIPIENT;
        memcpy(s + 2, jt_memo_key_public(to), 32);
        assert_int_equal(crypto_box_seal(s + JT_MEMO_HEADER_BYTES, plain, 26, jt_memo_key_public(to)), 0);
        jt_memo_parts out;
        jt_err e = jt_memo_open(to, s, sizeof s, &ALICE, buf, sizeof buf, &out);
        if (i < 2) {
            assert_int_equal(e, JT_EINVAL);
        } else {
            assert_int_equal(e, JT_OK);
            assert_int_equal(out.data_len, 2);
            assert_memory_equal(out.data, "ok", 2);
        }
    }
    jt_memo_key_free(to);
}

static void limits_and_keys(void **state)
{
    (void)state;
    uint8_t pub[32], s[128];
    size_t l;
    static const uint8_t mk[33] = {0xEC, 1, 2, 3};
    assert_int_equal(jt_message_key_decode(mk, 33, pub), JT_OK);
    assert_int_equal(pub[0], 1);
    assert_int_equal(jt_message_key_decode(mk, 32, pub), JT_EKEY);
    uint8_t spk[33] = {0x02};
    assert_int_equal(jt_message_key_decode(spk, 33, pub), JT_EKEY);
    /* too much plaintext; a buffer too small; the all-zero point */
    uint8_t *big = calloc(1, JT_MEMO_PLAIN_MAX + 1);
    assert_non_null(big);
    jt_memo_parts in = {.data = big, .data_len = JT_MEMO_PLAIN_MAX + 1};
    uint8_t *out = malloc(JT_MEMO_PLAIN_MAX + JT_MEMO_OVERHEAD + 1);
    assert_int_equal(jt_memo_seal(mk + 1, JT_MEMO_FOR_RECIPIENT, &ALICE, &in, out,
                                  JT_MEMO_PLAIN_MAX + JT_MEMO_OVERHEAD + 1, &l), JT_ETOOBIG);
    free(out);
    free(big);
    jt_memo_parts small = text_parts(NULL, NULL, "abc");
    assert_int_equal(jt_memo_seal(mk + 1, JT_MEMO_FOR_RECIPIENT, &ALICE, &small, s, JT_MEMO_OVERHEAD + 2, &l), JT_EBUFSIZE);
    uint8_t zero[32] = {0};
    uint8_t s2[128];
    assert_int_equal(jt_memo_seal(zero, JT_MEMO_FOR_RECIPIENT, &ALICE, &small, s2, sizeof s2, &l), JT_ECRYPTO);
    assert_int_equal(jt_memo_seal(mk + 1, (jt_memo_role)7, &ALICE, &small, s2, sizeof s2, &l), JT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(derivation_vectors),
        cmocka_unit_test(derivation_deterministic),
        cmocka_unit_test(round_trip),
        cmocka_unit_test(wrong_key_refused),
        cmocka_unit_test(malformed_plaintext),
        cmocka_unit_test(limits_and_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
