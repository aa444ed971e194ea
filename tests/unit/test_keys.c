/* test_keys.c — seeds, secrets, key derivation and addresses against keys.json. */
#include <stdlib.h>
#include <string.h>

#include <secp256k1.h>

#include "internal.h"
#include "jt/jt.h"
#include "testutil.h"

static yajl_val keys_json;

static int setup(void **state)
{
    (void)state;
    keys_json = tu_load_vectors("keys.json");
    return keys_json ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    yajl_tree_free(keys_json);
    keys_json = NULL;
    return 0;
}

static yajl_val array_of(const char *key)
{
    yajl_val a = tu_get(keys_json, key);
    assert_non_null(a);
    assert_true(YAJL_IS_ARRAY(a));
    return a;
}

/* Field by field: the struct has padding that is not part of the value. */
static void assert_kp_equal(const jt_keypair *a, const jt_keypair *b)
{
    assert_int_equal(a->type, b->type);
    assert_memory_equal(a->pub, b->pub, 33);
    assert_memory_equal(a->priv, b->priv, 32);
}

static void seed_from_hex(const char *hex, jt_key_type type, jt_seed *seed)
{
    size_t n = 0;
    uint8_t *b = tu_unhex(hex, &n);
    assert_int_equal(n, 16);
    seed->type = type;
    memcpy(seed->bytes, b, 16);
    free(b);
}

/* Everything one keys.json entry pins: entropy → secret text, secret → seed,
 * key pair, private key text, account ID and address. */
static void check_entry(yajl_val e, jt_key_type type)
{
    const char *entropy = tu_str(e, "entropy");
    const char *secret = tu_str(e, "secret");
    const char *address = tu_str(e, "address");
    const char *pub_hex = tu_str(e, "public_key");
    const char *priv_hex = tu_str(e, "private_key");
    const char *acct_hex = tu_str(e, "account_id_hex"); /* absent for ed25519 */
    assert_non_null(entropy);
    assert_non_null(secret);
    assert_non_null(address);
    assert_non_null(pub_hex);
    assert_non_null(priv_hex);

    jt_seed seed, back;
    seed_from_hex(entropy, type, &seed);

    char text[JT_SECRET_MAX];
    assert_int_equal(jt_secret_encode(&seed, text, sizeof text), JT_OK);
    assert_string_equal(text, secret);

    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_secret_decode(secret, &back, &ei), JT_OK);
    assert_int_equal(back.type, type);
    assert_memory_equal(back.bytes, seed.bytes, 16);

    jt_keypair kp, kp2;
    assert_int_equal(jt_keypair_from_seed(&seed, &kp), JT_OK);
    assert_int_equal(kp.type, type);
    assert_string_equal(tu_hex(kp.pub, 33), pub_hex);

    char priv[67];
    assert_int_equal(jt_keypair_private_hex(&kp, priv, sizeof priv), JT_OK);
    assert_string_equal(priv, priv_hex);

    jt_key_type t;
    assert_int_equal(jt_pubkey_type(kp.pub, 33, &t), JT_OK);
    assert_int_equal(t, type);

    jt_account_id id;
    assert_int_equal(jt_account_id_from_pubkey(kp.pub, 33, &id), JT_OK);
    if (acct_hex)
        assert_string_equal(tu_hex(id.bytes, 20), acct_hex);
    char addr[JT_ADDRESS_MAX];
    assert_int_equal(jt_address_encode(&id, addr), JT_OK);
    assert_string_equal(addr, address);

    jt_account_id id2;
    assert_int_equal(jt_address_decode(address, &id2, NULL), JT_OK);
    assert_memory_equal(id2.bytes, id.bytes, 20);

    /* The one-step path gives the same pair. */
    assert_int_equal(jt_keypair_from_secret(secret, &kp2, NULL), JT_OK);
    assert_kp_equal(&kp2, &kp);

    jt_keypair_clear(&kp);
    jt_keypair_clear(&kp2);
    jt_seed_clear(&seed);
    jt_seed_clear(&back);
}

static void secp256k1_vectors(void **state)
{
    (void)state;
    yajl_val a = array_of("secp256k1");
    assert_int_equal(YAJL_GET_ARRAY(a)->len, 14);
    for (size_t i = 0; i < YAJL_GET_ARRAY(a)->len; i++)
        check_entry(YAJL_GET_ARRAY(a)->values[i], JT_KEY_SECP256K1);
}

static void ed25519_vectors(void **state)
{
    (void)state;
    yajl_val a = array_of("ed25519");
    assert_int_equal(YAJL_GET_ARRAY(a)->len, 5);
    for (size_t i = 0; i < YAJL_GET_ARRAY(a)->len; i++) {
        yajl_val e = YAJL_GET_ARRAY(a)->values[i];
        assert_memory_equal(tu_str(e, "secret"), "sEd", 3);
        check_entry(e, JT_KEY_ED25519);
    }
}

static void known_from_docs(void **state)
{
    (void)state;
    yajl_val a = array_of("known_from_docs");
    assert_int_equal(YAJL_GET_ARRAY(a)->len, 4);
    for (size_t i = 0; i < YAJL_GET_ARRAY(a)->len; i++)
        check_entry(YAJL_GET_ARRAY(a)->values[i], JT_KEY_SECP256K1);
}

static void special_accounts(void **state)
{
    (void)state;
    yajl_val sp = tu_get(keys_json, "special_accounts");
    assert_non_null(sp);
    char addr[JT_ADDRESS_MAX];

    assert_int_equal(jt_address_encode(&JT_ACCOUNT_ZERO, addr), JT_OK);
    assert_string_equal(addr, tu_str(sp, "ACCOUNT_ZERO"));
    assert_string_equal(addr, "jjjjjjjjjjjjjjjjjjjjjhoLvTp");
    assert_int_equal(jt_address_encode(&JT_ACCOUNT_ONE, addr), JT_OK);
    assert_string_equal(addr, tu_str(sp, "ACCOUNT_ONE"));
    assert_string_equal(addr, "jjjjjjjjjjjjjjjjjjjjBZbvri");

    /* The development genesis account (PROTOCOL.md §2.7). */
    jt_seed seed;
    jt_seed_from_passphrase("masterpassphrase", JT_KEY_SECP256K1, &seed);
    assert_int_equal(seed.type, JT_KEY_SECP256K1);
    assert_string_equal(tu_hex(seed.bytes, 16), "DEDCE9CE67B451D852FD4E846FCDE31C");
    char secret[JT_SECRET_MAX];
    assert_int_equal(jt_secret_encode(&seed, secret, sizeof secret), JT_OK);
    assert_string_equal(secret, "snoPBjXtMeMyMHUVTgbuqAfg1SUTb");
    jt_keypair kp;
    assert_int_equal(jt_keypair_from_seed(&seed, &kp), JT_OK);
    assert_string_equal(tu_hex(kp.pub, 33),
                        "0330E7FC9D56BB25D6893BA3F317AE5BCF33B3291BD63DB32654A313222F7FD020");
    jt_account_id id;
    assert_int_equal(jt_account_id_from_pubkey(kp.pub, 33, &id), JT_OK);
    assert_string_equal(tu_hex(id.bytes, 20), "B5F762798A53D543A014CAF8B297CFF8F2F937E8");
    assert_int_equal(jt_address_encode(&id, addr), JT_OK);
    assert_string_equal(addr, tu_str(sp, "genesis_from_masterpassphrase"));
    assert_string_equal(addr, "jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh");
    jt_keypair_clear(&kp);
}

/* ---- secret decoding errors ---- */

static const char *SECRET_A = "ssYbHr1cQKt1orBJ9k6uJJowgRQVV";

/* The message must not leak the secret, nor a long piece of it. */
static void assert_no_leak(const jt_errinfo *ei, const char *secret)
{
    assert_true(ei->msg[0] != '\0');
    size_t n = strlen(secret);
    for (size_t i = 0; i + 6 <= n; i++) {
        char piece[7];
        memcpy(piece, secret + i, 6);
        piece[6] = '\0';
        if (strstr(ei->msg, piece)) {
            print_error("message \"%s\" contains \"%s\" from the secret\n", ei->msg, piece);
            fail();
        }
    }
}

static void secret_bad_character(void **state)
{
    (void)state;
    /* '0', 'O', 'I' and 'l' are not in the alphabet. */
    const char *bad[] = {"ssYbHr1cQKt1orBJ90k6uJJowgRQV", "OsYbHr1cQKt1orBJ9k6uJJowgRQVV",
                         "ssYbHr1cQKt1orBJ9k6uJJowgRQVl", "ssYbHr1cQKt1 orBJ9k6uJJowgRQV",
                         "ssYbHr1cQKt1orBJ9k6uJJowgRQVV\n"};
    const long pos[] = {17, 0, 28, 12, 29};
    for (size_t i = 0; i < JT__ARRAY_LEN(bad); i++) {
        jt_seed seed;
        jt_errinfo ei;
        jt_errinfo_clear(&ei);
        assert_int_equal(jt_secret_decode(bad[i], &seed, &ei), JT_EBASE58_CHAR);
        assert_int_equal(ei.code, JT_EBASE58_CHAR);
        assert_int_equal(ei.offset, pos[i]);
        assert_non_null(strstr(ei.msg, "position"));
        assert_null(strchr(ei.msg, '\''));
        assert_no_leak(&ei, bad[i]);
    }
}

static void secret_bad_checksum(void **state)
{
    (void)state;
    char s[40];
    size_t n = strlen(SECRET_A);
    memcpy(s, SECRET_A, n + 1);
    /* Change each position to another alphabet character in turn. */
    for (size_t i = 1; i < n; i++) {
        memcpy(s, SECRET_A, n + 1);
        s[i] = s[i] == 'z' ? 'y' : 'z';
        jt_seed seed;
        jt_errinfo ei;
        jt_errinfo_clear(&ei);
        jt_err e = jt_secret_decode(s, &seed, &ei);
        assert_int_equal(e, JT_EBASE58_CHECKSUM);
        assert_non_null(strstr(ei.msg, "checksum"));
        assert_no_leak(&ei, s);
    }
}

static void secret_wrong_version(void **state)
{
    (void)state;
    jt_seed seed;
    jt_errinfo ei;

    /* An address pasted where a secret goes: right checksum, version 0x00. */
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_secret_decode("jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ2", &seed, &ei),
                     JT_ESECRET);
    assert_non_null(strstr(ei.msg, "version"));
    assert_non_null(strstr(ei.msg, "address"));
    assert_null(strstr(ei.msg, "length"));

    /* A node public key. */
    uint8_t pub[33] = {0x02};
    char np[JT_NODE_PUBLIC_MAX];
    assert_int_equal(jt_node_public_encode(pub, np), JT_OK);
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_secret_decode(np, &seed, &ei), JT_ESECRET);
    assert_non_null(strstr(ei.msg, "version"));

    /* A 16-byte payload under a version that is neither 0x21 nor 01 E1 4B. */
    uint8_t payload[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    const uint8_t v22[] = {0x22};
    const uint8_t ved_bad[] = {0x01, 0xE1, 0x4C};
    char text[64];
    assert_int_equal(jt_base58check_encode(v22, 1, payload, 16, text, sizeof text), JT_OK);
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_secret_decode(text, &seed, &ei), JT_ESECRET);
    assert_non_null(strstr(ei.msg, "version"));
    assert_no_leak(&ei, text);
    assert_int_equal(jt_base58check_encode(ved_bad, 3, payload, 16, text, sizeof text), JT_OK);
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_secret_decode(text, &seed, &ei), JT_ESECRET);
    assert_non_null(strstr(ei.msg, "version"));
}

static void secret_wrong_length(void **state)
{
    (void)state;
    uint8_t payload[20];
    for (int i = 0; i < 20; i++)
        payload[i] = (uint8_t)(0xA0 + i);
    const uint8_t vsecp[] = {0x21};
    const uint8_t ved[] = {0x01, 0xE1, 0x4B};
    const size_t lens[] = {15, 17, 20, 0};
    for (size_t i = 0; i < JT__ARRAY_LEN(lens); i++) {
        char text[64];
        jt_seed seed;
        jt_errinfo ei;

        assert_int_equal(jt_base58check_encode(vsecp, 1, payload, lens[i], text, sizeof text),
                         JT_OK);
        jt_errinfo_clear(&ei);
        assert_int_equal(jt_secret_decode(text, &seed, &ei), JT_ESECRET);
        assert_non_null(strstr(ei.msg, "length"));
        assert_non_null(strstr(ei.msg, "secp256k1"));
        assert_null(strstr(ei.msg, "version"));
        assert_no_leak(&ei, text);

        assert_int_equal(jt_base58check_encode(ved, 3, payload, lens[i], text, sizeof text), JT_OK);
        jt_errinfo_clear(&ei);
        assert_int_equal(jt_secret_decode(text, &seed, &ei), JT_ESECRET);
        assert_non_null(strstr(ei.msg, "length"));
        assert_non_null(strstr(ei.msg, "ed25519"));
    }
    /* The same 16 bytes are accepted: the length check is the only difference. */
    char text[64];
    jt_seed seed;
    assert_int_equal(jt_base58check_encode(vsecp, 1, payload, 16, text, sizeof text), JT_OK);
    assert_int_equal(jt_secret_decode(text, &seed, NULL), JT_OK);
    assert_memory_equal(seed.bytes, payload, 16);
    assert_int_equal(jt_base58check_encode(ved, 3, payload, 16, text, sizeof text), JT_OK);
    assert_int_equal(jt_secret_decode(text, &seed, NULL), JT_OK);
    assert_int_equal(seed.type, JT_KEY_ED25519);
}

static void secret_other_errors(void **state)
{
    (void)state;
    jt_seed seed;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_secret_decode("", &seed, &ei), JT_ESECRET);
    assert_int_equal(jt_secret_decode("jjjj", &seed, &ei), JT_ESECRET); /* 4 zero bytes */
    char longs[300];
    memset(longs, 's', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_secret_decode(longs, &seed, &ei), JT_ESECRET);
    assert_no_leak(&ei, longs);
    assert_int_equal(jt_secret_decode(NULL, &seed, &ei), JT_EINVAL);

    /* jt_keypair_from_secret passes the decode error through. */
    jt_keypair kp;
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_keypair_from_secret("ssYbHr1cQKt1orBJ9k6uJJowgRQVz", &kp, &ei),
                     JT_EBASE58_CHECKSUM);
    assert_int_equal(ei.code, JT_EBASE58_CHECKSUM);
    /* The rippled-alphabet form of a valid secret is not accepted. */
    assert_int_not_equal(jt_secret_decode("ssYbHj1cQKt1ojBJ9k6uJJowgRQVV", &seed, NULL), JT_OK);
}

static void secret_encode_errors(void **state)
{
    (void)state;
    jt_seed seed;
    seed_from_hex("3D001205D71AD65F5893A885D946CCED", JT_KEY_SECP256K1, &seed);
    char small[29];
    assert_int_equal(jt_secret_encode(&seed, small, sizeof small), JT_EBUFSIZE);
    char exact[30];
    assert_int_equal(jt_secret_encode(&seed, exact, sizeof exact), JT_OK);
    assert_string_equal(exact, SECRET_A);
    seed.type = (jt_key_type)7;
    assert_int_equal(jt_secret_encode(&seed, exact, sizeof exact), JT_EINVAL);
    jt_keypair kp;
    assert_int_equal(jt_keypair_from_seed(&seed, &kp), JT_EINVAL);
}

/* ---- generation ---- */

static void seed_generate(void **state)
{
    (void)state;
    enum { N = 64 };
    jt_seed seeds[N];
    const secp256k1_context *ctx = jt__secp_ctx();
    assert_non_null(ctx);
    for (int i = 0; i < N; i++) {
        jt_key_type type = i % 2 ? JT_KEY_ED25519 : JT_KEY_SECP256K1;
        assert_int_equal(jt_seed_generate(type, &seeds[i]), JT_OK);
        assert_int_equal(seeds[i].type, type);
        for (int j = 0; j < i; j++)
            assert_memory_not_equal(seeds[i].bytes, seeds[j].bytes, 16);

        /* The seed gives a usable key pair that survives the text round trip. */
        jt_keypair kp, kp2;
        assert_int_equal(jt_keypair_from_seed(&seeds[i], &kp), JT_OK);
        char text[JT_SECRET_MAX];
        assert_int_equal(jt_secret_encode(&seeds[i], text, sizeof text), JT_OK);
        assert_int_equal(text[0], 's');
        if (type == JT_KEY_ED25519) {
            assert_memory_equal(text, "sEd", 3);
            assert_int_equal(kp.pub[0], 0xED);
        } else {
            secp256k1_pubkey pk;
            assert_true(kp.pub[0] == 0x02 || kp.pub[0] == 0x03);
            assert_int_equal(secp256k1_ec_pubkey_parse(ctx, &pk, kp.pub, 33), 1);
            assert_int_equal(secp256k1_ec_seckey_verify(ctx, kp.priv), 1);
        }
        assert_int_equal(jt_keypair_from_secret(text, &kp2, NULL), JT_OK);
        assert_kp_equal(&kp, &kp2);

        uint8_t sig[JT_SIG_MAX];
        size_t siglen = 0;
        const uint8_t msg[] = "generated";
        assert_int_equal(jt_sign(&kp, msg, sizeof msg, sig, &siglen), JT_OK);
        assert_int_equal(jt_verify(kp.pub, 33, msg, sizeof msg, sig, siglen, 0), JT_OK);
        jt_keypair_clear(&kp);
        jt_keypair_clear(&kp2);
    }
    jt_seed s;
    assert_int_equal(jt_seed_generate((jt_key_type)2, &s), JT_EINVAL);
    assert_int_equal(jt_seed_generate(JT_KEY_SECP256K1, NULL), JT_EINVAL);
    assert_int_equal(jt__sodium_ready(), 0);
}

/* ---- small helpers ---- */

static void pubkey_type_and_account(void **state)
{
    (void)state;
    uint8_t pub[33] = {0};
    jt_key_type t = (jt_key_type)9;
    pub[0] = 0xED;
    assert_int_equal(jt_pubkey_type(pub, 33, &t), JT_OK);
    assert_int_equal(t, JT_KEY_ED25519);
    pub[0] = 0x02;
    assert_int_equal(jt_pubkey_type(pub, 33, &t), JT_OK);
    assert_int_equal(t, JT_KEY_SECP256K1);
    pub[0] = 0x03;
    assert_int_equal(jt_pubkey_type(pub, 33, &t), JT_OK);
    pub[0] = 0x04;
    assert_int_equal(jt_pubkey_type(pub, 33, &t), JT_EKEY);
    pub[0] = 0x00;
    assert_int_equal(jt_pubkey_type(pub, 33, &t), JT_EKEY);
    pub[0] = 0x02;
    assert_int_equal(jt_pubkey_type(pub, 32, &t), JT_EKEY);
    assert_int_equal(jt_pubkey_type(pub, 65, &t), JT_EKEY);

    jt_account_id id;
    assert_int_equal(jt_account_id_from_pubkey(pub, 32, &id), JT_EKEY);
    assert_int_equal(jt_account_id_from_pubkey(pub, 34, &id), JT_EKEY);
}

static void private_hex_and_clear(void **state)
{
    (void)state;
    jt_keypair kp;
    assert_int_equal(jt_keypair_from_secret(SECRET_A, &kp, NULL), JT_OK);
    char out[67];
    assert_int_equal(jt_keypair_private_hex(&kp, out, 66), JT_EBUFSIZE);
    assert_int_equal(jt_keypair_private_hex(&kp, out, 67), JT_OK);
    assert_string_equal(out, "000851067FB51826441B93C938EA6F6B725999C18A72A74802A1EE9963B5804664");

    jt_keypair zero;
    memset(&zero, 0, sizeof zero);
    jt_keypair_clear(&kp);
    assert_memory_equal(&kp, &zero, sizeof kp);
    jt_seed seed, zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(jt_secret_decode(SECRET_A, &seed, NULL), JT_OK);
    jt_seed_clear(&seed);
    assert_memory_equal(&seed, &zs, sizeof seed);
    jt_seed_clear(NULL);
    jt_keypair_clear(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(secp256k1_vectors),     cmocka_unit_test(ed25519_vectors),
        cmocka_unit_test(known_from_docs),       cmocka_unit_test(special_accounts),
        cmocka_unit_test(secret_bad_character),  cmocka_unit_test(secret_bad_checksum),
        cmocka_unit_test(secret_wrong_version),  cmocka_unit_test(secret_wrong_length),
        cmocka_unit_test(secret_other_errors),   cmocka_unit_test(secret_encode_errors),
        cmocka_unit_test(seed_generate),         cmocka_unit_test(pubkey_type_and_account),
        cmocka_unit_test(private_hex_and_clear),
    };
    return cmocka_run_group_tests_name("keys", tests, setup, teardown);
}
