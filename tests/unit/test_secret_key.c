/* test_secret_key.c — keys in guarded memory sign exactly as jt_keypair does. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "internal.h"
#include "jt/jt.h"
#include "testutil.h"

static yajl_val keys_json, txs_json;

static int setup(void **state)
{
    (void)state;
    keys_json = tu_load_vectors("keys.json");
    txs_json = tu_load_vectors("transactions.json");
    return keys_json && txs_json ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    yajl_tree_free(keys_json);
    yajl_tree_free(txs_json);
    return 0;
}

static jt_secret_key *handle(const char *secret)
{
    jt_secret_key *sk = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    if (jt_secret_key_new_from_secret(secret, &sk, &ei) != JT_OK) {
        print_error("jt_secret_key_new_from_secret: %s\n", ei.msg);
        fail();
    }
    return sk;
}

/* Every vector key: the same public key, address and signatures as the
 * vectors and as jt_keypair; the secret comes back out unchanged. */
static void vector_keys(void **state)
{
    (void)state;
    static const char *const types[] = {"secp256k1", "ed25519"};
    const uint8_t msg[] = "hello jingtum";
    int seen = 0;
    for (int t = 0; t < 2; t++) {
        yajl_val a = tu_get(keys_json, types[t]);
        assert_true(YAJL_IS_ARRAY(a));
        for (size_t i = 0; i < YAJL_GET_ARRAY(a)->len; i++) {
            yajl_val v = YAJL_GET_ARRAY(a)->values[i];
            const char *secret = tu_str(v, "secret");
            jt_secret_key *sk = handle(secret);
            jt_keypair kp;
            assert_int_equal(jt_keypair_from_secret(secret, &kp, NULL), JT_OK);
            assert_int_equal(jt_secret_key_type(sk), t == 0 ? JT_KEY_SECP256K1 : JT_KEY_ED25519);
            assert_string_equal(tu_hex(jt_secret_key_public(sk), 33), tu_str(v, "public_key"));
            assert_string_equal(jt_secret_key_address(sk), tu_str(v, "address"));
            jt_account_id id;
            assert_int_equal(jt_account_id_from_pubkey(kp.pub, 33, &id), JT_OK);
            assert_memory_equal(jt_secret_key_account_id(sk)->bytes, id.bytes, 20);

            uint8_t s1[JT_SIG_MAX], s2[JT_SIG_MAX];
            size_t l1 = 0, l2 = 0;
            assert_int_equal(jt_sign(&kp, msg, sizeof msg - 1, s1, &l1), JT_OK);
            assert_int_equal(jt_secret_sign(sk, msg, sizeof msg - 1, s2, &l2), JT_OK);
            assert_int_equal(l1, l2);
            assert_memory_equal(s1, s2, l1);
            assert_int_equal(jt_verify(kp.pub, 33, msg, sizeof msg - 1, s2, l2, 0), JT_OK);

            uint8_t digest[32];
            jt_sha512half(msg, sizeof msg - 1, digest);
            if (t == 0) {
                assert_int_equal(jt_secret_sign_digest(sk, digest, s2, &l2), JT_OK);
                assert_int_equal(l1, l2);
                assert_memory_equal(s1, s2, l1);
            } else {
                assert_int_equal(jt_secret_sign_digest(sk, digest, s2, &l2), JT_EKEY);
            }

            char out[JT_SECRET_MAX];
            assert_int_equal(jt_secret_key_export(sk, out, sizeof out), JT_OK);
            assert_string_equal(out, secret);
            char small[10];
            assert_int_equal(jt_secret_key_export(sk, small, sizeof small), JT_EBUFSIZE);
            for (size_t k = 0; k < sizeof small; k++)
                assert_int_equal(small[k], 0);
            jt_keypair_clear(&kp);
            jt_secret_key_free(sk);
            seen++;
        }
    }
    assert_true(seen >= 4);
}

/* The signature vectors, through the handle. */
static void vector_signatures(void **state)
{
    (void)state;
    yajl_val a = tu_get(keys_json, "signatures");
    assert_true(YAJL_IS_ARRAY(a));
    for (size_t i = 0; i < YAJL_GET_ARRAY(a)->len; i++) {
        yajl_val v = YAJL_GET_ARRAY(a)->values[i];
        jt_secret_key *sk = handle(tu_str(v, "secret"));
        size_t mlen = 0, dlen = 0;
        uint8_t *msg = tu_unhex(tu_str(v, "message_hex"), &mlen);
        uint8_t *der = tu_unhex(tu_str(v, "der_signature"), &dlen);
        uint8_t sig[JT_SIG_MAX];
        size_t siglen = 0;
        assert_int_equal(jt_secret_sign(sk, msg, mlen, sig, &siglen), JT_OK);
        assert_int_equal(siglen, dlen);
        assert_memory_equal(sig, der, dlen);
        free(msg);
        free(der);
        jt_secret_key_free(sk);
    }
}

/* Every transaction vector re-signed through a handle gives the vector's
 * blob byte for byte, and the same bytes as jt_tx_sign. */
static void vector_transactions(void **state)
{
    (void)state;
    yajl_val a = tu_get(txs_json, "transactions");
    assert_true(YAJL_IS_ARRAY(a));
    assert_true(YAJL_GET_ARRAY(a)->len >= 21);
    for (size_t i = 0; i < YAJL_GET_ARRAY(a)->len; i++) {
        yajl_val t = YAJL_GET_ARRAY(a)->values[i];
        const char *blob = tu_str(t, "tx_blob");
        jt_obj *tx = NULL, *tx2 = NULL;
        assert_int_equal(jt_obj_from_hex(blob, strlen(blob), &tx, NULL), JT_OK);
        assert_int_equal(jt_obj_from_hex(blob, strlen(blob), &tx2, NULL), JT_OK);
        /* Start from no signature at all, so the handle has to make it. */
        (void)jt_obj_remove(tx, "TxnSignature");
        (void)jt_obj_remove(tx, "SigningPubKey");
        jt_secret_key *sk = handle(tu_str(t, "signer_secret"));
        jt_keypair kp;
        assert_int_equal(jt_keypair_from_secret(tu_str(t, "signer_secret"), &kp, NULL), JT_OK);
        jt_errinfo ei;
        jt_errinfo_clear(&ei);
        assert_int_equal(jt_tx_sign_secret(tx, sk, &ei), JT_OK);
        assert_int_equal(jt_tx_sign(tx2, &kp, NULL), JT_OK);
        jt_buf b1, b2;
        jt_buf_init(&b1);
        jt_buf_init(&b2);
        assert_int_equal(jt_obj_to_binary(tx, 0, &b1), JT_OK);
        assert_int_equal(jt_obj_to_binary(tx2, 0, &b2), JT_OK);
        assert_string_equal(tu_hex(b1.data, b1.len), blob);
        assert_int_equal(b1.len, b2.len);
        assert_memory_equal(b1.data, b2.data, b1.len);
        assert_int_equal(jt_tx_verify(tx, NULL), JT_OK);
        jt_buf_clear(&b1);
        jt_buf_clear(&b2);
        jt_keypair_clear(&kp);
        jt_secret_key_free(sk);
        jt_obj_free(tx);
        jt_obj_free(tx2);
    }
}

static void multisign(void **state)
{
    (void)state;
    const char *json = "{\"TransactionType\":\"Payment\",\"Account\":"
                       "\"jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ2\",\"Destination\":"
                       "\"jnQJ6M9wMtNDSWyk1wqAYa2CXdmDZ5h5Xb\",\"Amount\":\"1000000\",\"Fee\":"
                       "\"30000\",\"Sequence\":7,\"Flags\":0}";
    const char *secrets[] = {"sn2wEECfKpcp9Y1NEyzaLA3iqe6G2", "sEd7seVsARST9mmVPB7A4n41CMkYQuz"};
    jt_obj *a = NULL, *b = NULL;
    assert_int_equal(jt_obj_from_json(json, strlen(json), &a, NULL), JT_OK);
    assert_int_equal(jt_obj_from_json(json, strlen(json), &b, NULL), JT_OK);
    for (int i = 0; i < 2; i++) {
        jt_secret_key *sk = handle(secrets[i]);
        jt_keypair kp;
        assert_int_equal(jt_keypair_from_secret(secrets[i], &kp, NULL), JT_OK);
        assert_int_equal(jt_tx_multisign_secret(a, sk, NULL, NULL), JT_OK);
        assert_int_equal(jt_tx_multisign(b, &kp, jt_secret_key_account_id(sk), NULL), JT_OK);
        jt_keypair_clear(&kp);
        jt_secret_key_free(sk);
    }
    jt_buf b1, b2;
    jt_buf_init(&b1);
    jt_buf_init(&b2);
    assert_int_equal(jt_obj_to_binary(a, 0, &b1), JT_OK);
    assert_int_equal(jt_obj_to_binary(b, 0, &b2), JT_OK);
    assert_int_equal(b1.len, b2.len);
    assert_memory_equal(b1.data, b2.data, b1.len);
    assert_int_equal(jt_tx_verify(a, NULL), JT_OK);
    jt_buf_clear(&b1);
    jt_buf_clear(&b2);
    jt_obj_free(a);
    jt_obj_free(b);
}

static void random_and_seed(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        jt_key_type type = t ? JT_KEY_ED25519 : JT_KEY_SECP256K1;
        jt_secret_key *a = NULL, *b = NULL, *c = NULL;
        assert_int_equal(jt_secret_key_new_random(type, &a), JT_OK);
        assert_int_equal(jt_secret_key_new_random(type, &b), JT_OK);
        assert_int_equal(jt_secret_key_type(a), type);
        assert_string_not_equal(jt_secret_key_address(a), jt_secret_key_address(b));
        assert_true(jt_address_is_valid(jt_secret_key_address(a)));
        /* A handle from a's exported secret is the same key. */
        char s[JT_SECRET_MAX];
        assert_int_equal(jt_secret_key_export(a, s, sizeof s), JT_OK);
        assert_true(s[0] == 's');
        jt_seed seed;
        assert_int_equal(jt_secret_decode(s, &seed, NULL), JT_OK);
        assert_int_equal(jt_secret_key_new(&seed, &c), JT_OK);
        jt_seed_clear(&seed);
        assert_string_equal(jt_secret_key_address(a), jt_secret_key_address(c));
        uint8_t sig[JT_SIG_MAX];
        size_t n = 0;
        assert_int_equal(jt_secret_sign(a, (const uint8_t *)"x", 1, sig, &n), JT_OK);
        assert_int_equal(jt_verify(jt_secret_key_public(c), 33, (const uint8_t *)"x", 1, sig, n, 0),
                         JT_OK);
        assert_int_equal(jt_verify(jt_secret_key_public(b), 33, (const uint8_t *)"x", 1, sig, n, 0),
                         JT_ESIG_INVALID);
        sodium_memzero(s, sizeof s);
        jt_secret_key_free(a);
        jt_secret_key_free(b);
        jt_secret_key_free(c);
    }
}

static void bad_input(void **state)
{
    (void)state;
    jt_secret_key *sk = (jt_secret_key *)1;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    /* An address where a secret goes. */
    assert_int_equal(
        jt_secret_key_new_from_secret("jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ2", &sk, &ei), JT_ESECRET);
    assert_null(sk);
    assert_non_null(strstr(ei.msg, "address"));
    sk = (jt_secret_key *)1;
    assert_int_equal(jt_secret_key_new_from_secret("ssYbHr1cQKt1orBJ9k6uJJowgRQVW", &sk, &ei),
                     JT_EBASE58_CHECKSUM);
    assert_null(sk);
    assert_int_equal(jt_secret_key_new_random((jt_key_type)7, &sk), JT_EINVAL);
    assert_null(sk);
    jt_seed seed = {.type = (jt_key_type)9};
    assert_int_equal(jt_secret_key_new(&seed, &sk), JT_EINVAL);
    uint8_t sig[JT_SIG_MAX];
    size_t n;
    assert_int_equal(jt_secret_sign(NULL, (const uint8_t *)"x", 1, sig, &n), JT_EINVAL);
    jt_secret_key_free(NULL);
}

/* ---- the guarded block ---- */

/* Runs `fn(sk)` in a child process; its exit status (-1 if a signal or a
 * sanitizer ended it abnormally). */
static int in_child(void (*fn)(jt_secret_key *), jt_secret_key *sk)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* cmocka catches faults to fail a test and carry on; here a fault
         * must end the child. */
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        fn(sk);
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void child_reads_block(jt_secret_key *sk)
{
    /* The child must not print an ASan report into the test log. */
    if (!freopen("/dev/null", "w", stderr))
        _exit(0); /* cannot hide the report: count as "no fault" so the test fails */
    volatile const uint8_t *p = jt__secret_key_block(sk);
    uint8_t x = p[0];
    (void)x;
}

static void child_signs(jt_secret_key *sk)
{
    uint8_t sig[JT_SIG_MAX];
    size_t n;
    if (jt_secret_sign(sk, (const uint8_t *)"x", 1, sig, &n) != JT_OK)
        _exit(3);
}

/* The line of /proc/self/smaps "VmFlags:" for the mapping holding `p`. */
static bool mapping_flags(const void *p, char *flags, size_t cap)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return false;
    char line[512];
    bool in = false, found = false;
    uintptr_t a = (uintptr_t)p;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in = a >= lo && a < hi;
            continue;
        }
        if (in && strncmp(line, "VmFlags:", 8) == 0) {
            snprintf(flags, cap, "%s", line + 8);
            found = true;
            break;
        }
    }
    fclose(f);
    return found;
}

static void guarded_block(void **state)
{
    (void)state;
    jt_secret_key *sk = handle("ssYbHr1cQKt1orBJ9k6uJJowgRQVV");
    /* Idle: reading the block faults. Signing in the same child works, so
     * the fault is the protection and not the fork. */
    assert_int_not_equal(in_child(child_reads_block, sk), 0);
    assert_int_equal(in_child(child_signs, sk), 0);
    /* And after signing the block is closed again. */
    uint8_t sig[JT_SIG_MAX];
    size_t n;
    assert_int_equal(jt_secret_sign(sk, (const uint8_t *)"x", 1, sig, &n), JT_OK);
    assert_int_not_equal(in_child(child_reads_block, sk), 0);
    /* Left out of core dumps (Linux: "dd" in the mapping's VmFlags). */
    char flags[512];
    if (access("/proc/self/smaps", R_OK) == 0) {
        assert_true(mapping_flags(jt__secret_key_block(sk), flags, sizeof flags));
        assert_non_null(strstr(flags, " dd"));
    }
    jt_secret_key_free(sk);
}

/* A hold keeps the block readable across signatures; the last release
 * (of a hold or of a signing call) closes it again. */
static void held_block(void **state)
{
    (void)state;
    jt_secret_key *sk = handle("ssYbHr1cQKt1orBJ9k6uJJowgRQVV");
    assert_int_equal(jt_secret_key_hold(NULL), JT_EINVAL);
    jt_secret_key_release(NULL); /* harmless */
    assert_int_equal(jt_secret_key_hold(sk), JT_OK);
    assert_int_equal(in_child(child_reads_block, sk), 0);
    uint8_t sig[JT_SIG_MAX], again[JT_SIG_MAX];
    size_t n, m;
    assert_int_equal(jt_secret_sign(sk, (const uint8_t *)"x", 1, sig, &n), JT_OK);
    /* A signature inside the hold leaves it readable. */
    assert_int_equal(in_child(child_reads_block, sk), 0);
    /* Holds nest. */
    assert_int_equal(jt_secret_key_hold(sk), JT_OK);
    jt_secret_key_release(sk);
    assert_int_equal(in_child(child_reads_block, sk), 0);
    jt_secret_key_release(sk);
    assert_int_not_equal(in_child(child_reads_block, sk), 0);
    /* Same signatures with and without a hold (ECDSA here is deterministic). */
    assert_int_equal(jt_secret_sign(sk, (const uint8_t *)"x", 1, again, &m), JT_OK);
    assert_int_equal(n, m);
    assert_memory_equal(sig, again, n);
    assert_int_not_equal(in_child(child_reads_block, sk), 0);
    jt_secret_key_free(sk);
}

/* ---- concurrency ---- */

typedef struct worker {
    jt_secret_key *sk;
    int id;
    int failures;
} worker;

static void *sign_loop(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 150; i++) {
        uint8_t msg[8] = {(uint8_t)w->id, (uint8_t)i, 1, 2, 3, 4, 5, 6};
        uint8_t sig[JT_SIG_MAX];
        size_t n = 0;
        if (jt_secret_sign(w->sk, msg, sizeof msg, sig, &n) != JT_OK ||
            jt_verify(jt_secret_key_public(w->sk), 33, msg, sizeof msg, sig, n, 0) != JT_OK)
            w->failures++;
        /* A second, interleaved reader of the same handle. */
        char s[JT_SECRET_MAX];
        if (i % 50 == 0 && jt_secret_key_export(w->sk, s, sizeof s) != JT_OK)
            w->failures++;
    }
    return NULL;
}

static void concurrent_signing(void **state)
{
    (void)state;
    const char *secrets[] = {"ssYbHr1cQKt1orBJ9k6uJJowgRQVV", "sEd7seVsARST9mmVPB7A4n41CMkYQuz"};
    for (int k = 0; k < 2; k++) {
        jt_secret_key *sk = handle(secrets[k]);
        enum { N = 6 };
        pthread_t th[N];
        worker w[N];
        for (int i = 0; i < N; i++) {
            w[i] = (worker){.sk = sk, .id = i};
            assert_int_equal(pthread_create(&th[i], NULL, sign_loop, &w[i]), 0);
        }
        for (int i = 0; i < N; i++) {
            assert_int_equal(pthread_join(th[i], NULL), 0);
            assert_int_equal(w[i].failures, 0);
        }
        /* Still usable, and still the same key, afterwards. */
        jt_keypair kp;
        assert_int_equal(jt_keypair_from_secret(secrets[k], &kp, NULL), JT_OK);
        uint8_t s1[JT_SIG_MAX], s2[JT_SIG_MAX];
        size_t l1, l2;
        assert_int_equal(jt_sign(&kp, (const uint8_t *)"end", 3, s1, &l1), JT_OK);
        assert_int_equal(jt_secret_sign(sk, (const uint8_t *)"end", 3, s2, &l2), JT_OK);
        assert_int_equal(l1, l2);
        assert_memory_equal(s1, s2, l1);
        jt_keypair_clear(&kp);
        jt_secret_key_free(sk);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vector_keys),
        cmocka_unit_test(vector_signatures),
        cmocka_unit_test(vector_transactions),
        cmocka_unit_test(multisign),
        cmocka_unit_test(random_and_seed),
        cmocka_unit_test(bad_input),
        cmocka_unit_test(guarded_block),
        cmocka_unit_test(held_block),
        cmocka_unit_test(concurrent_signing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
