/* test_keystore.c — the encrypted keystore: round trips, refusals, the file
 * format checked by an independent reading of docs/keystore.md. */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "internal.h"
#include "jt/jt.h"
#include "testutil.h"

static const char *SECRET_A = "ssYbHr1cQKt1orBJ9k6uJJowgRQVV"; /* jan4LBF2… */
static const char *ADDR_A = "jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ2";
static const char *SECRET_ED = "sEd7seVsARST9mmVPB7A4n41CMkYQuz"; /* jfKWKUYh… */
static const char *ADDR_ED = "jfKWKUYhtHjCoLA9kSvJ1Nuw1WfCpMpAFX";
static const char *ADDR_WATCH = "jnQJ6M9wMtNDSWyk1wqAYa2CXdmDZ5h5Xb";
static const char *PASS = "correct horse battery staple";

static jt_keystore_params fast;

typedef struct scratch {
    char dir[64];
    char path[128];
} scratch;

static int setup(void **state)
{
    scratch *s = calloc(1, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/jt-keystore-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    snprintf(s->path, sizeof s->path, "%s/wallet.json", s->dir);
    jt_keystore_params_preset(JT_KEYSTORE_COST_MIN, &fast);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    scratch *s = *state;
    chmod(s->dir, 0700);
    tu_rm_rf(s->dir);
    free(s);
    return 0;
}

static jt_keystore *create(const char *path)
{
    jt_keystore *ks = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    if (jt_keystore_create(path, PASS, &fast, &ks, &ei) != JT_OK) {
        print_error("jt_keystore_create: %s\n", ei.msg);
        fail();
    }
    return ks;
}

static jt_keystore *open_ok(const char *path, const char *pass)
{
    jt_keystore *ks = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    if (jt_keystore_open(path, pass, &ks, &ei) != JT_OK) {
        print_error("jt_keystore_open: %s\n", ei.msg);
        fail();
    }
    return ks;
}

static void save_ok(jt_keystore *ks)
{
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    if (jt_keystore_save(ks, &ei) != JT_OK) {
        print_error("jt_keystore_save: %s\n", ei.msg);
        fail();
    }
}

static void write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0600), 0);
}

/* A keystore with one key of each type, an imported key, a watch-only
 * entry, saved. */
static void populate(const char *path)
{
    jt_keystore *ks = create(path);
    jt_keystore_entry e;
    assert_int_equal(jt_keystore_import(ks, SECRET_A, "aaaa", &e, NULL), JT_OK);
    assert_string_equal(e.address, ADDR_A);
    assert_int_equal(jt_keystore_import(ks, SECRET_ED, "bbbb", &e, NULL), JT_OK);
    assert_string_equal(e.address, ADDR_ED);
    assert_int_equal(jt_keystore_generate(ks, JT_KEY_SECP256K1, "hot", NULL, NULL), JT_OK);
    assert_int_equal(jt_keystore_generate(ks, JT_KEY_ED25519, "热钱包", NULL, NULL), JT_OK);
    assert_int_equal(jt_keystore_add_watch(ks, ADDR_WATCH, "cold", NULL, NULL), JT_OK);
    save_ok(ks);
    jt_keystore_free(ks);
}

static void sign_with(jt_keystore *ks, const char *address)
{
    jt_secret_key *sk = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    if (jt_keystore_get_key(ks, address, &sk, &ei) != JT_OK) {
        print_error("jt_keystore_get_key(%s): %s\n", address, ei.msg);
        fail();
    }
    assert_string_equal(jt_secret_key_address(sk), address);
    /* The handle signs but does not give its secret away. */
    char secret[JT_SECRET_MAX];
    memset(secret, 'z', sizeof secret);
    assert_int_equal(jt_secret_key_export(sk, secret, sizeof secret), JT_ESTATE);
    for (size_t i = 0; i < sizeof secret; i++)
        assert_int_equal(secret[i], 0);
    uint8_t sig[JT_SIG_MAX];
    size_t n = 0;
    assert_int_equal(jt_secret_sign(sk, (const uint8_t *)"msg", 3, sig, &n), JT_OK);
    assert_int_equal(jt_verify(jt_secret_key_public(sk), 33, (const uint8_t *)"msg", 3, sig, n, 0),
                     JT_OK);
    jt_secret_key_free(sk);
}

/* ---- round trips ---- */

static void create_reopen_list_sign(void **state)
{
    scratch *s = *state;
    populate(s->path);
    struct stat st;
    assert_int_equal(stat(s->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    jt_keystore *ks = open_ok(s->path, PASS);
    assert_int_equal(jt_keystore_count(ks), 5);
    jt_keystore_entry e[5];
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(jt_keystore_entry_at(ks, i, &e[i]), JT_OK);
    assert_int_equal(jt_keystore_entry_at(ks, 5, &e[0] + 0), JT_ENOTFOUND);
    assert_string_equal(e[0].address, ADDR_A);
    assert_string_equal(e[0].label, "aaaa");
    assert_int_equal(e[0].type, JT_KEY_SECP256K1);
    assert_false(e[0].watch_only);
    assert_string_equal(tu_hex(e[0].public_key, 33),
                        "02F9D5E96648F13F30480991B128BDFA39BB6DBF9D85368E36D01A9DC43A514DB7");
    assert_string_equal(e[1].address, ADDR_ED);
    assert_int_equal(e[1].type, JT_KEY_ED25519);
    assert_int_equal(e[2].type, JT_KEY_SECP256K1);
    assert_string_equal(e[2].label, "hot");
    assert_int_equal(e[3].type, JT_KEY_ED25519);
    assert_string_equal(e[3].label, "热钱包");
    assert_true(e[4].watch_only);
    assert_string_equal(e[4].address, ADDR_WATCH);
    assert_string_equal(e[4].label, "cold");
    assert_true(e[0].created > 1700000000);

    for (size_t i = 0; i < 4; i++)
        sign_with(ks, e[i].address);

    /* Signing through the keystore's handle equals signing with jt_keypair. */
    const char *secrets[] = {SECRET_A, SECRET_ED};
    for (int k = 0; k < 2; k++) {
        jt_keypair kp;
        jt_secret_key *sk = NULL;
        assert_int_equal(jt_keypair_from_secret(secrets[k], &kp, NULL), JT_OK);
        assert_int_equal(jt_keystore_get_key(ks, e[k].address, &sk, NULL), JT_OK);
        uint8_t s1[JT_SIG_MAX], s2[JT_SIG_MAX];
        size_t l1, l2;
        assert_int_equal(jt_sign(&kp, (const uint8_t *)"pay", 3, s1, &l1), JT_OK);
        assert_int_equal(jt_secret_sign(sk, (const uint8_t *)"pay", 3, s2, &l2), JT_OK);
        assert_int_equal(l1, l2);
        assert_memory_equal(s1, s2, l1);
        jt_keypair_clear(&kp);
        jt_secret_key_free(sk);
    }

    jt_keystore_entry f;
    assert_int_equal(jt_keystore_find(ks, ADDR_ED, &f), JT_OK);
    assert_string_equal(f.label, "bbbb");
    assert_int_equal(jt_keystore_find(ks, "jpHd4gBDDY6sz7W84cwwAJsheMGuu1Bq8g", &f), JT_ENOTFOUND);

    /* Remove, save, reopen. */
    assert_int_equal(jt_keystore_remove(ks, e[2].address, NULL), JT_OK);
    assert_int_equal(jt_keystore_remove(ks, e[2].address, NULL), JT_ENOTFOUND);
    save_ok(ks);
    jt_keystore_free(ks);
    ks = open_ok(s->path, PASS);
    assert_int_equal(jt_keystore_count(ks), 4);
    assert_int_equal(jt_keystore_find(ks, e[2].address, &f), JT_ENOTFOUND);
    sign_with(ks, e[3].address);
    jt_keystore_free(ks);
}

static void duplicates_and_labels(void **state)
{
    scratch *s = *state;
    jt_keystore *ks = create(s->path);
    jt_errinfo ei;
    assert_int_equal(jt_keystore_import(ks, SECRET_A, NULL, NULL, NULL), JT_OK);
    assert_int_equal(jt_keystore_import(ks, SECRET_A, "again", NULL, &ei), JT_EEXIST);
    assert_int_equal(jt_keystore_add_watch(ks, ADDR_A, NULL, NULL, NULL), JT_EEXIST);
    assert_int_equal(jt_keystore_add_watch(ks, "jNotAnAddress", NULL, NULL, NULL), JT_EINVAL);
    assert_int_equal(jt_keystore_import(ks, ADDR_WATCH, NULL, NULL, &ei), JT_ESECRET);
    assert_int_equal(jt_keystore_generate(ks, JT_KEY_ED25519, "tab\there", NULL, &ei), JT_EINVAL);
    assert_non_null(strstr(ei.msg, "control"));
    assert_int_equal(jt_keystore_generate(ks, JT_KEY_ED25519, "\xC0\xAF", NULL, NULL), JT_EINVAL);
    assert_int_equal(jt_keystore_generate(ks, JT_KEY_ED25519, "\xED\xA0\x80", NULL, NULL),
                     JT_EINVAL);
    char longl[JT_KEYSTORE_LABEL_MAX + 2];
    memset(longl, 'x', sizeof longl - 1);
    longl[sizeof longl - 1] = '\0';
    assert_int_equal(jt_keystore_generate(ks, JT_KEY_ED25519, longl, NULL, NULL), JT_EINVAL);
    longl[JT_KEYSTORE_LABEL_MAX] = '\0';
    assert_int_equal(jt_keystore_generate(ks, JT_KEY_ED25519, longl, NULL, NULL), JT_OK);
    assert_int_equal(jt_keystore_generate(ks, JT_KEY_ED25519, "quote \" and \\ back", NULL, NULL),
                     JT_OK);
    assert_int_equal(jt_keystore_generate(ks, (jt_key_type)5, NULL, NULL, NULL), JT_EINVAL);
    assert_int_equal(jt_keystore_count(ks), 3);
    save_ok(ks);
    jt_keystore_free(ks);
    ks = open_ok(s->path, PASS);
    jt_keystore_entry e;
    assert_int_equal(jt_keystore_entry_at(ks, 1, &e), JT_OK);
    assert_string_equal(e.label, longl);
    assert_int_equal(jt_keystore_entry_at(ks, 2, &e), JT_OK);
    assert_string_equal(e.label, "quote \" and \\ back");
    jt_keystore_free(ks);

    /* create refuses an existing file. */
    jt_keystore *k2 = NULL;
    assert_int_equal(jt_keystore_create(s->path, PASS, &fast, &k2, &ei), JT_EEXIST);
    assert_null(k2);
    assert_int_equal(jt_keystore_create(s->path, "", &fast, &k2, &ei), JT_EINVAL);
}

/* ---- refusals ---- */

static void wrong_passphrase(void **state)
{
    scratch *s = *state;
    populate(s->path);
    jt_keystore *ks = (jt_keystore *)1;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_keystore_open(s->path, "Correct horse battery staple", &ks, &ei),
                     JT_EPASSPHRASE);
    assert_null(ks);
    assert_non_null(strstr(ei.msg, "wrong passphrase"));
    ks = (jt_keystore *)1;
    assert_int_equal(jt_keystore_open(s->path, "", &ks, &ei), JT_EINVAL);
    assert_null(ks);
}

static char *read_all(const char *path, size_t *len)
{
    char *t = tu_read_file(path, len);
    assert_non_null(t);
    return t;
}

static void replace_once(char *text, const char *from, const char *to)
{
    char *p = strstr(text, from);
    assert_non_null(p);
    assert_int_equal(strlen(from), strlen(to));
    memcpy(p, to, strlen(to));
}

static void tampered_ciphertext(void **state)
{
    scratch *s = *state;
    populate(s->path);
    size_t len;
    char *text = read_all(s->path, &len);
    char *ct = strstr(text, "\"ciphertext\":\"");
    assert_non_null(ct);
    ct += strlen("\"ciphertext\":\"") + 10;
    *ct = *ct == 'A' ? 'B' : 'A';
    write_text(s->path, text, len);
    jt_keystore *ks = (jt_keystore *)1;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_keystore_open(s->path, PASS, &ks, &ei), JT_EKEYSTORE_AUTH);
    assert_null(ks);
    assert_non_null(strstr(ei.msg, "altered"));
    free(text);
}

/* ---- the format, read independently from docs/keystore.md ---- */

typedef struct indep {
    uint8_t enc[32], check[32], mac[32];
} indep;

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static size_t meta(yajl_val e, uint8_t *out)
{
    size_t n = 0;
    bool watch = tu_get(e, "watch_only") && YAJL_IS_TRUE(tu_get(e, "watch_only"));
    const char *type = tu_str(e, "key_type");
    const char *addr = tu_str(e, "address");
    const char *label = tu_str(e, "label");
    out[n++] = watch ? 1 : 0;
    out[n++] = watch ? 0xFF : strcmp(type, "ed25519") == 0 ? 1 : 0;
    out[n++] = (uint8_t)strlen(addr);
    memcpy(out + n, addr, strlen(addr));
    n += strlen(addr);
    if (watch) {
        memset(out + n, 0, 33);
    } else {
        size_t pl;
        uint8_t *pub = tu_unhex(tu_str(e, "public_key"), &pl);
        assert_int_equal(pl, 33);
        memcpy(out + n, pub, 33);
        free(pub);
    }
    n += 33;
    put64(out + n, (uint64_t)YAJL_GET_INTEGER(tu_get(e, "created")));
    n += 8;
    out[n++] = (uint8_t)(strlen(label) >> 8);
    out[n++] = (uint8_t)strlen(label);
    memcpy(out + n, label, strlen(label));
    return n + strlen(label);
}

/* Derives the keys and recomputes check and mac of the file text. */
static yajl_val recompute(const char *text, const char *pass, indep *k)
{
    char err[128];
    yajl_val doc = yajl_tree_parse(text, err, sizeof err);
    assert_non_null(doc);
    yajl_val kdf = tu_get(doc, "kdf");
    assert_string_equal(tu_str(kdf, "algorithm"), "argon2id13");
    size_t sl;
    uint8_t *salt = tu_unhex(tu_str(kdf, "salt"), &sl);
    assert_int_equal(sl, 16);
    uint64_t ops = (uint64_t)YAJL_GET_INTEGER(tu_get(kdf, "opslimit"));
    uint64_t mem = (uint64_t)YAJL_GET_INTEGER(tu_get(kdf, "memlimit"));
    uint8_t master[32];
    assert_int_equal(crypto_pwhash(master, 32, pass, strlen(pass), salt, ops, (size_t)mem,
                                   crypto_pwhash_ALG_ARGON2ID13),
                     0);
    crypto_kdf_derive_from_key(k->enc, 32, 1, "jtkeystr", master);
    uint8_t kc[32], km[32];
    crypto_kdf_derive_from_key(kc, 32, 2, "jtkeystr", master);
    crypto_kdf_derive_from_key(km, 32, 3, "jtkeystr", master);

    uint8_t h[36];
    h[0] = h[1] = h[2] = 0;
    h[3] = (uint8_t)YAJL_GET_INTEGER(tu_get(doc, "version"));
    memcpy(h + 4, salt, 16);
    put64(h + 20, ops);
    put64(h + 28, mem);
    free(salt);

    crypto_generichash_state st;
    crypto_generichash_init(&st, kc, 32, 32);
    crypto_generichash_update(&st, (const uint8_t *)"jt-keystore-v1 check", 20);
    crypto_generichash_update(&st, h, sizeof h);
    crypto_generichash_final(&st, k->check, 32);

    yajl_val keys = tu_get(doc, "keys");
    size_t count = YAJL_GET_ARRAY(keys)->len;
    uint8_t cnt[4] = {(uint8_t)(count >> 24), (uint8_t)(count >> 16), (uint8_t)(count >> 8),
                      (uint8_t)count};
    crypto_generichash_init(&st, km, 32, 32);
    crypto_generichash_update(&st, (const uint8_t *)"jt-keystore-v1 mac", 18);
    crypto_generichash_update(&st, h, sizeof h);
    crypto_generichash_update(&st, cnt, 4);
    for (size_t i = 0; i < count; i++) {
        yajl_val e = YAJL_GET_ARRAY(keys)->values[i];
        uint8_t m[512];
        crypto_generichash_update(&st, m, meta(e, m));
        if (tu_str(e, "nonce")) {
            size_t nl, cl;
            uint8_t *nonce = tu_unhex(tu_str(e, "nonce"), &nl);
            uint8_t *ct = tu_unhex(tu_str(e, "ciphertext"), &cl);
            assert_int_equal(nl, 24);
            assert_int_equal(cl, 32);
            crypto_generichash_update(&st, nonce, nl);
            crypto_generichash_update(&st, ct, cl);
            free(nonce);
            free(ct);
        } else {
            uint8_t zeros[56] = {0};
            crypto_generichash_update(&st, zeros, sizeof zeros);
        }
    }
    crypto_generichash_final(&st, k->mac, 32);
    sodium_memzero(master, sizeof master);
    return doc;
}

/* Decrypts entry `e` as the document says: AD = "jt-keystore-v1 entry" ‖ M. */
static int decrypt_entry(yajl_val e, const indep *k, uint8_t seed[16])
{
    uint8_t ad[600];
    memcpy(ad, "jt-keystore-v1 entry", 20);
    size_t adl = 20 + meta(e, ad + 20);
    size_t nl, cl;
    uint8_t *nonce = tu_unhex(tu_str(e, "nonce"), &nl);
    uint8_t *ct = tu_unhex(tu_str(e, "ciphertext"), &cl);
    unsigned long long ml = 0;
    int r =
        crypto_aead_xchacha20poly1305_ietf_decrypt(seed, &ml, NULL, ct, cl, ad, adl, nonce, k->enc);
    free(nonce);
    free(ct);
    return r == 0 && ml == 16 ? 0 : -1;
}

static void format_matches_document(void **state)
{
    scratch *s = *state;
    populate(s->path);
    size_t len;
    char *text = read_all(s->path, &len);
    indep k;
    yajl_val doc = recompute(text, PASS, &k);
    size_t hl;
    uint8_t *check = tu_unhex(tu_str(doc, "check"), &hl);
    uint8_t *mac = tu_unhex(tu_str(doc, "mac"), &hl);
    assert_memory_equal(check, k.check, 32);
    assert_memory_equal(mac, k.mac, 32);
    free(check);
    free(mac);
    /* The first entry decrypts to SECRET_A's seed. */
    uint8_t seed[16];
    jt_seed want;
    assert_int_equal(jt_secret_decode(SECRET_A, &want, NULL), JT_OK);
    assert_int_equal(decrypt_entry(YAJL_GET_ARRAY(tu_get(doc, "keys"))->values[0], &k, seed), 0);
    assert_memory_equal(seed, want.bytes, 16);
    /* The byte layout of the writer. */
    const char *head = "{\"version\":1,\n \"kdf\":{\"algorithm\":\"argon2id13\",\"salt\":\"";
    assert_true(strncmp(text, head, strlen(head)) == 0);
    assert_non_null(strstr(text, ",\"opslimit\":1,\"memlimit\":8192},\n \"check\":\""));
    assert_non_null(strstr(text,
                           "\",\n \"keys\":[\n  {\"address\":\"jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ2"
                           "\",\"key_type\":\"secp256k1\",\"public_key\":\"02F9D5E9"));
    assert_non_null(strstr(text, "\"label\":\"aaaa\",\"created\":"));
    assert_non_null(strstr(text, ",\n  {\"address\":\"jnQJ6M9wMtNDSWyk1wqAYa2CXdmDZ5h5Xb\","
                                 "\"watch_only\":true,\"label\":\"cold\",\"created\":"));
    assert_non_null(strstr(text, "}\n ],\n \"mac\":\""));
    assert_true(len > 3 && strcmp(text + len - 3, "\"}\n") == 0);
    yajl_tree_free(doc);
    sodium_memzero(seed, sizeof seed);
    free(text);
}

/* Swapped labels: the MAC refuses the file; and with the MAC recomputed
 * (the test knows the passphrase), each entry's own AEAD still refuses its
 * changed metadata — the two layers are independent. */
static void swapped_metadata(void **state)
{
    scratch *s = *state;
    populate(s->path);
    size_t len;
    char *text = read_all(s->path, &len);
    replace_once(text, "\"label\":\"aaaa\"", "\"label\":\"XXXX\"");
    replace_once(text, "\"label\":\"bbbb\"", "\"label\":\"aaaa\"");
    replace_once(text, "\"label\":\"XXXX\"", "\"label\":\"bbbb\"");
    write_text(s->path, text, len);
    jt_keystore *ks = NULL;
    jt_errinfo ei;
    assert_int_equal(jt_keystore_open(s->path, PASS, &ks, &ei), JT_EKEYSTORE_AUTH);
    assert_null(ks);

    /* Recompute the MAC for the edited file. */
    indep k;
    yajl_val doc = recompute(text, PASS, &k);
    yajl_tree_free(doc);
    char hex[65];
    assert_int_equal(jt_hex_encode(k.mac, 32, hex, sizeof hex), JT_OK);
    char *m = strstr(text, "\"mac\":\"");
    assert_non_null(m);
    memcpy(m + 7, hex, 64);
    write_text(s->path, text, len);
    ks = open_ok(s->path, PASS);
    jt_secret_key *sk = (jt_secret_key *)1;
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_keystore_get_key(ks, ADDR_A, &sk, &ei), JT_EKEYSTORE_AUTH);
    assert_null(sk);
    assert_non_null(strstr(ei.msg, ADDR_A));
    char out[JT_SECRET_MAX];
    assert_int_equal(jt_keystore_export(ks, ADDR_ED, PASS, out, sizeof out, NULL),
                     JT_EKEYSTORE_AUTH);
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal(out[i], 0);
    /* The untouched entries still work. */
    jt_keystore_entry e;
    assert_int_equal(jt_keystore_entry_at(ks, 2, &e), JT_OK);
    sign_with(ks, e.address);
    jt_keystore_free(ks);
    free(text);
}

static void permissions(void **state)
{
    scratch *s = *state;
    populate(s->path);
    jt_keystore *ks = (jt_keystore *)1;
    jt_errinfo ei;
    const mode_t modes[] = {0644, 0640, 0604, 0660};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(chmod(s->path, modes[i]), 0);
        jt_errinfo_clear(&ei);
        assert_int_equal(jt_keystore_open(s->path, PASS, &ks, &ei), JT_EPERM);
        assert_null(ks);
        char want[16];
        snprintf(want, sizeof want, "mode %04o", (unsigned)modes[i]);
        assert_non_null(strstr(ei.msg, want));
        ks = (jt_keystore *)1;
    }
    assert_int_equal(chmod(s->path, 0600), 0);
    /* A directory others can write to. */
    assert_int_equal(chmod(s->dir, 0777), 0);
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_keystore_open(s->path, PASS, &ks, &ei), JT_EPERM);
    assert_non_null(strstr(ei.msg, "mode 0777"));
    assert_non_null(strstr(ei.msg, s->dir));
    assert_int_equal(chmod(s->dir, 0700), 0);
    ks = open_ok(s->path, PASS);
    jt_keystore_free(ks);
    /* A new keystore is 0600 whatever the umask. */
    mode_t old = umask(0);
    char p2[160];
    snprintf(p2, sizeof p2, "%s/second.json", s->dir);
    ks = create(p2);
    umask(old);
    struct stat st;
    assert_int_equal(stat(p2, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    jt_keystore_free(ks);
    /* Not a keystore, missing. */
    snprintf(p2, sizeof p2, "%s/missing.json", s->dir);
    assert_int_equal(jt_keystore_open(p2, PASS, &ks, &ei), JT_EIO);
    assert_non_null(strstr(ei.msg, "missing.json"));
}

static void watch_only(void **state)
{
    scratch *s = *state;
    populate(s->path);
    jt_keystore *ks = open_ok(s->path, PASS);
    jt_keystore_entry e;
    assert_int_equal(jt_keystore_find(ks, ADDR_WATCH, &e), JT_OK);
    assert_true(e.watch_only);
    const uint8_t zero[33] = {0};
    assert_memory_equal(e.public_key, zero, 33);
    jt_secret_key *sk = (jt_secret_key *)1;
    jt_errinfo ei;
    assert_int_equal(jt_keystore_get_key(ks, ADDR_WATCH, &sk, &ei), JT_EWATCHONLY);
    assert_null(sk);
    char out[JT_SECRET_MAX];
    assert_int_equal(jt_keystore_export(ks, ADDR_WATCH, PASS, out, sizeof out, NULL),
                     JT_EWATCHONLY);
    jt_keystore_free(ks);
    /* Nothing secret-shaped is stored for it. */
    size_t len;
    char *text = read_all(s->path, &len);
    char *w = strstr(text, ADDR_WATCH);
    assert_non_null(w);
    char *eol = strchr(w, '\n');
    assert_non_null(eol);
    *eol = '\0';
    assert_null(strstr(w, "nonce"));
    assert_null(strstr(w, "ciphertext"));
    free(text);
}

static void export_needs_passphrase(void **state)
{
    scratch *s = *state;
    populate(s->path);
    jt_keystore *ks = open_ok(s->path, PASS);
    char out[JT_SECRET_MAX];
    memset(out, 'z', sizeof out);
    jt_errinfo ei;
    assert_int_equal(jt_keystore_export(ks, ADDR_A, "guess", out, sizeof out, &ei), JT_EPASSPHRASE);
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal(out[i], 0);
    assert_int_equal(jt_keystore_export(ks, ADDR_A, NULL, out, sizeof out, &ei), JT_EINVAL);
    assert_int_equal(jt_keystore_export(ks, ADDR_A, PASS, out, sizeof out, &ei), JT_OK);
    assert_string_equal(out, SECRET_A);
    assert_int_equal(jt_keystore_export(ks, ADDR_ED, PASS, out, sizeof out, &ei), JT_OK);
    assert_string_equal(out, SECRET_ED);
    assert_int_equal(jt_keystore_export(ks, ADDR_ED, PASS, out, 8, &ei), JT_EBUFSIZE);
    assert_int_equal(
        jt_keystore_export(ks, "jpHd4gBDDY6sz7W84cwwAJsheMGuu1Bq8g", PASS, out, sizeof out, &ei),
        JT_ENOTFOUND);
    sodium_memzero(out, sizeof out);
    jt_keystore_free(ks);
}

static bool contains(const char *hay, size_t hl, const void *needle, size_t nl)
{
    for (size_t i = 0; nl <= hl && i <= hl - nl; i++)
        if (memcmp(hay + i, needle, nl) == 0)
            return true;
    return false;
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'F')
            *s = (char)(*s - 'A' + 'a');
}

static void file_holds_no_secret(void **state)
{
    scratch *s = *state;
    populate(s->path);
    jt_keystore *ks = open_ok(s->path, PASS);
    size_t len;
    char *text = read_all(s->path, &len);
    assert_false(contains(text, len, PASS, strlen(PASS)));
    size_t checked = 0;
    for (size_t i = 0; i < jt_keystore_count(ks); i++) {
        jt_keystore_entry e;
        assert_int_equal(jt_keystore_entry_at(ks, i, &e), JT_OK);
        if (e.watch_only)
            continue;
        char secret[JT_SECRET_MAX];
        assert_int_equal(jt_keystore_export(ks, e.address, PASS, secret, sizeof secret, NULL),
                         JT_OK);
        jt_seed seed;
        jt_keypair kp;
        assert_int_equal(jt_secret_decode(secret, &seed, NULL), JT_OK);
        assert_int_equal(jt_keypair_from_seed(&seed, &kp), JT_OK);
        char hex[80];
        /* base58 secret, raw seed and private key, their hex in both cases,
         * and the "00…"/"ED…" private key text. */
        assert_false(contains(text, len, secret, strlen(secret)));
        assert_false(contains(text, len, seed.bytes, 16));
        assert_false(contains(text, len, kp.priv, 32));
        assert_int_equal(jt_hex_encode(seed.bytes, 16, hex, sizeof hex), JT_OK);
        assert_false(contains(text, len, hex, strlen(hex)));
        lower(hex);
        assert_false(contains(text, len, hex, strlen(hex)));
        assert_int_equal(jt_hex_encode(kp.priv, 32, hex, sizeof hex), JT_OK);
        assert_false(contains(text, len, hex, strlen(hex)));
        lower(hex);
        assert_false(contains(text, len, hex, strlen(hex)));
        /* Even a fragment: the first 8 hex digits of the private key. */
        hex[8] = '\0';
        assert_false(contains(text, len, hex, 8));
        assert_int_equal(jt_keypair_private_hex(&kp, hex, sizeof hex), JT_OK);
        assert_false(contains(text, len, hex, strlen(hex)));
        jt_seed_clear(&seed);
        jt_keypair_clear(&kp);
        sodium_memzero(secret, sizeof secret);
        checked++;
    }
    assert_int_equal(checked, 4);
    free(text);
    jt_keystore_free(ks);
}

static int count_tmp_files(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strstr(de->d_name, ".tmp-"))
            n++;
    closedir(d);
    return n;
}

static void failed_write_keeps_old_file(void **state)
{
    scratch *s = *state;
    populate(s->path);
    size_t len0;
    char *before = read_all(s->path, &len0);
    jt_keystore *ks = open_ok(s->path, PASS);
    for (int i = 0; i < 6; i++)
        assert_int_equal(jt_keystore_generate(ks, JT_KEY_SECP256K1, "more", NULL, NULL), JT_OK);

    /* A write that fails part-way: the file size limit stops the temporary
     * file at the old file's size (this works for root too). */
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = len0;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_err e = jt_keystore_save(ks, &ei);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    assert_int_equal(e, JT_EIO);
    assert_non_null(strstr(ei.msg, "cannot write"));
    size_t len1;
    char *after = read_all(s->path, &len1);
    assert_int_equal(len0, len1);
    assert_memory_equal(before, after, len0);
    assert_int_equal(count_tmp_files(s->dir), 0);
    free(after);

    /* An unwritable directory (only meaningful when not root). */
    if (geteuid() != 0) {
        assert_int_equal(chmod(s->dir, 0500), 0);
        assert_int_equal(jt_keystore_save(ks, &ei), JT_EIO);
        assert_int_equal(chmod(s->dir, 0700), 0);
        after = read_all(s->path, &len1);
        assert_int_equal(len0, len1);
        assert_memory_equal(before, after, len0);
        free(after);
    }
    /* The old file still opens with its five entries; a good save works. */
    jt_keystore *k2 = open_ok(s->path, PASS);
    assert_int_equal(jt_keystore_count(k2), 5);
    jt_keystore_free(k2);
    save_ok(ks);
    k2 = open_ok(s->path, PASS);
    assert_int_equal(jt_keystore_count(k2), 11);
    jt_keystore_free(k2);
    jt_keystore_free(ks);
    free(before);
}

static void change_passphrase(void **state)
{
    scratch *s = *state;
    populate(s->path);
    jt_keystore *ks = open_ok(s->path, PASS);
    jt_errinfo ei;
    jt_keystore_params p2 = {.opslimit = 2, .memlimit = 16384};
    assert_int_equal(jt_keystore_change_passphrase(ks, "nope", "new one", &p2, &ei),
                     JT_EPASSPHRASE);
    assert_int_equal(jt_keystore_change_passphrase(ks, PASS, "", &p2, &ei), JT_EINVAL);
    jt_keystore_params bad = {.opslimit = 1000, .memlimit = 16384};
    assert_int_equal(jt_keystore_change_passphrase(ks, PASS, "new one", &bad, &ei), JT_EINVAL);
    /* Still the old passphrase after the failures. */
    char out[JT_SECRET_MAX];
    assert_int_equal(jt_keystore_export(ks, ADDR_A, PASS, out, sizeof out, NULL), JT_OK);
    assert_int_equal(jt_keystore_change_passphrase(ks, PASS, "new one", &p2, &ei), JT_OK);
    assert_int_equal(jt_keystore_export(ks, ADDR_A, PASS, out, sizeof out, NULL), JT_EPASSPHRASE);
    assert_int_equal(jt_keystore_export(ks, ADDR_A, "new one", out, sizeof out, NULL), JT_OK);
    assert_string_equal(out, SECRET_A);
    save_ok(ks);
    jt_keystore_free(ks);
    jt_keystore *k2 = NULL;
    assert_int_equal(jt_keystore_open(s->path, PASS, &k2, &ei), JT_EPASSPHRASE);
    k2 = open_ok(s->path, "new one");
    jt_keystore_params got;
    jt_keystore_get_params(k2, &got);
    assert_int_equal(got.opslimit, 2);
    assert_int_equal(got.memlimit, 16384);
    assert_int_equal(jt_keystore_count(k2), 5);
    for (size_t i = 0; i < 4; i++) {
        jt_keystore_entry e;
        assert_int_equal(jt_keystore_entry_at(k2, i, &e), JT_OK);
        sign_with(k2, e.address);
    }
    assert_int_equal(jt_keystore_export(k2, ADDR_ED, "new one", out, sizeof out, NULL), JT_OK);
    assert_string_equal(out, SECRET_ED);
    sodium_memzero(out, sizeof out);
    jt_keystore_free(k2);
}

/* ---- malformed files ---- */

static void malformed(void **state)
{
    scratch *s = *state;
    static const struct {
        const char *text;
        const char *says;
    } cases[] = {
        {"", "not JSON"},
        {"{\"version\":1", "not JSON"},
        {"[]", "not a JSON object"},
        {"{}", "\"version\" is missing"},
        {"{\"version\":2}", "version 2 is not supported"},
        {"{\"version\":1,\"extra\":1}", "unknown member \"extra\""},
        {"{\"version\":1,\"version\":1}", "twice"},
        {"{\"version\":1}", "\"kdf\" is missing"},
        {"{\"version\":1,\"kdf\":{\"algorithm\":\"scrypt\"}}", "kdf.algorithm"},
        {"{\"version\":1,\"kdf\":{\"algorithm\":\"argon2id13\",\"salt\":\"00\"}}", "kdf.salt"},
        {"{\"version\":1,\"kdf\":{\"algorithm\":\"argon2id13\",\"salt\":"
         "\"000102030405060708090A0B0C0D0E0F\",\"opslimit\":1,\"memlimit\":999999999999}}",
         "memlimit 999999999999"},
        {"{\"version\":1,\"kdf\":{\"algorithm\":\"argon2id13\",\"salt\":"
         "\"000102030405060708090A0B0C0D0E0F\",\"opslimit\":1,\"memlimit\":8192}}",
         "\"check\" is missing"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct jt_keystore *ks = NULL;
        jt_errinfo ei;
        jt_errinfo_clear(&ei);
        jt_err e = jt__keystore_parse(cases[i].text, strlen(cases[i].text), &ks, &ei);
        if (e != JT_EKEYSTORE || ks || !strstr(ei.msg, cases[i].says)) {
            print_error("case %zu: %s: %s (wanted \"%s\")\n", i, jt_errname(e), ei.msg,
                        cases[i].says);
            fail();
        }
    }

    /* Entry-level faults, in a real file. */
    populate(s->path);
    size_t len;
    char *orig = read_all(s->path, &len);
    static const struct {
        const char *from, *to, *says;
    } edits[] = {
        {"\"key_type\":\"secp256k1\"", "\"key_type\":\"secp256k2\"", "keys[0].key_type"},
        {"\"address\":\"jnQJ6M9wMtNDSWyk1wqAYa2CXdmDZ5h5Xb\"",
         "\"address\":\"jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ2\"", "appears twice"},
        {"\"public_key\":\"02F9", "\"public_key\":\"03F9", "not the key of"},
        {"\"watch_only\":true", "\"watch_only\":1234", "keys[4].watch_only"},
        {"\"label\":\"aaaa\"", "\"label\":\"a\\ta\"", "control characters"},
        {"\"created\":", "\"createx\":", "unknown member \"createx\""},
        {"\"version\":1,", "\"version\":9,", "version 9"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char *t = strdup(orig);
        replace_once(t, edits[i].from, edits[i].to);
        write_text(s->path, t, len);
        jt_keystore *ks = (jt_keystore *)1;
        jt_errinfo ei;
        jt_errinfo_clear(&ei);
        jt_err e = jt_keystore_open(s->path, PASS, &ks, &ei);
        if (e != JT_EKEYSTORE || ks || !strstr(ei.msg, edits[i].says) || !strstr(ei.msg, s->path)) {
            print_error("edit %zu: %s: %s (wanted \"%s\")\n", i, jt_errname(e), ei.msg,
                        edits[i].says);
            fail();
        }
        free(t);
    }
    /* Not JSON at all, and too big. */
    write_text(s->path,
               "\x7f"
               "ELF\x02\x01",
               6);
    jt_keystore *ks = NULL;
    jt_errinfo ei;
    assert_int_equal(jt_keystore_open(s->path, PASS, &ks, &ei), JT_EKEYSTORE);
    assert_non_null(strstr(ei.msg, "not JSON"));
    free(orig);
}

/* The parser and the writer agree: parse(serialize(parse(x))) is stable. */
static void parse_serialize_round_trip(void **state)
{
    scratch *s = *state;
    populate(s->path);
    size_t len;
    char *text = read_all(s->path, &len);
    struct jt_keystore *ks = NULL;
    assert_int_equal(jt__keystore_parse(text, len, &ks, NULL), JT_OK);
    jt_buf b;
    jt_buf_init(&b);
    assert_int_equal(jt__keystore_serialize(ks, &b), JT_OK);
    assert_int_equal(b.len, len);
    assert_memory_equal(b.data, text, len);
    /* A parse-only keystore holds no keys and refuses to use them. */
    jt_secret_key *sk = NULL;
    assert_int_equal(jt_keystore_get_key(ks, ADDR_A, &sk, NULL), JT_EINVAL);
    assert_int_equal(jt_keystore_save(ks, NULL), JT_EINVAL);
    jt_buf_clear(&b);
    jt_keystore_free(ks);
    free(text);
}

/* ---- threads: the gateway's pattern ---- */

typedef struct job {
    jt_keystore *ks;
    const char *address;
    int failures;
} job;

static void *get_and_sign(void *arg)
{
    job *j = arg;
    for (int i = 0; i < 20; i++) {
        jt_secret_key *sk = NULL;
        if (jt_keystore_get_key(j->ks, j->address, &sk, NULL) != JT_OK) {
            j->failures++;
            continue;
        }
        uint8_t sig[JT_SIG_MAX];
        size_t n = 0;
        uint8_t msg[2] = {(uint8_t)i, 7};
        if (jt_secret_sign(sk, msg, 2, sig, &n) != JT_OK ||
            jt_verify(jt_secret_key_public(sk), 33, msg, 2, sig, n, 0) != JT_OK)
            j->failures++;
        jt_secret_key_free(sk);
        jt_keystore_entry e;
        if (jt_keystore_count(j->ks) != 5 || jt_keystore_entry_at(j->ks, 4, &e) != JT_OK)
            j->failures++;
    }
    return NULL;
}

static void threads(void **state)
{
    scratch *s = *state;
    populate(s->path);
    jt_keystore *ks = open_ok(s->path, PASS);
    enum { N = 4 };
    pthread_t th[N];
    job jobs[N];
    for (int i = 0; i < N; i++) {
        jobs[i] = (job){.ks = ks, .address = i % 2 ? ADDR_ED : ADDR_A};
        assert_int_equal(pthread_create(&th[i], NULL, get_and_sign, &jobs[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(jobs[i].failures, 0);
    }
    jt_keystore_free(ks);
}

/* At most JT_KEYSTORE_ENTRIES_MAX entries: one more is refused with
 * JT_ETOOBIG naming the limit, the keystore is unchanged, and a full
 * keystore is written and read back whole. */
static void entries_limit(void **state)
{
    scratch *s = *state;
    jt_keystore *ks = create(s->path);
    jt_errinfo ei;
    jt_keystore_entry e;
    for (int i = 0; i < JT_KEYSTORE_ENTRIES_MAX; i++) {
        jt_errinfo_clear(&ei);
        if (jt_keystore_generate(ks, i % 2 ? JT_KEY_ED25519 : JT_KEY_SECP256K1, NULL, &e, &ei) != JT_OK) {
            print_error("entry %d: %s\n", i, ei.msg);
            fail();
        }
    }
    assert_int_equal(jt_keystore_count(ks), JT_KEYSTORE_ENTRIES_MAX);
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_keystore_generate(ks, JT_KEY_SECP256K1, NULL, &e, &ei), JT_ETOOBIG);
    assert_non_null(strstr(ei.msg, "4096"));
    assert_int_equal(jt_keystore_import(ks, "snoPBjXtMeMyMHUVTgbuqAfg1SUTb", NULL, &e, &ei), JT_ETOOBIG);
    assert_int_equal(jt_keystore_count(ks), JT_KEYSTORE_ENTRIES_MAX);
    assert_int_equal(jt_keystore_save(ks, &ei), JT_OK);
    jt_keystore_free(ks);
    ks = open_ok(s->path, PASS);
    assert_int_equal(jt_keystore_count(ks), JT_KEYSTORE_ENTRIES_MAX);
    jt_keystore_free(ks);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(create_reopen_list_sign),
        T(duplicates_and_labels),
        T(wrong_passphrase),
        T(tampered_ciphertext),
        T(format_matches_document),
        T(swapped_metadata),
        T(permissions),
        T(watch_only),
        T(export_needs_passphrase),
        T(file_holds_no_secret),
        T(failed_write_keeps_old_file),
        T(change_passphrase),
        T(malformed),
        T(parse_serialize_round_trip),
        T(threads),
        T(entries_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
