/* keystore.c — encrypted keystore files (docs/keystore.md). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "internal.h"
#include "jt/keystore.h"
#include "jt/util.h"

#define KS_VERSION   1
#define KS_ALG       "argon2id13"
#define SALT_BYTES   16 /* crypto_pwhash_SALTBYTES */
#define NONCE_BYTES  24 /* crypto_aead_xchacha20poly1305_ietf_NPUBBYTES */
#define TAG_BYTES    16 /* crypto_aead_xchacha20poly1305_ietf_ABYTES */
#define SEED_BYTES   16
#define CT_BYTES     (SEED_BYTES + TAG_BYTES)
#define FILE_MAX     ((size_t)4 << 20)
#define KDF_CONTEXT  "jtkeystr" /* crypto_kdf context, 8 bytes */
#define SUBKEY_ENC   1
#define SUBKEY_CHECK 2
#define SUBKEY_MAC   3

/* Domain strings that start each authenticated message (docs/keystore.md). */
static const char DOM_ENTRY[] = "jt-keystore-v1 entry";
static const char DOM_CHECK[] = "jt-keystore-v1 check";
static const char DOM_MAC[] = "jt-keystore-v1 mac";

typedef struct ks_entry {
    char address[JT_ADDRESS_MAX];
    bool watch;
    jt_key_type type;
    uint8_t pub[33];
    char label[JT_KEYSTORE_LABEL_MAX + 1];
    uint64_t created;
    uint8_t nonce[NONCE_BYTES];
    uint8_t ct[CT_BYTES];
} ks_entry;

/* The keys derived from the passphrase; guarded, PROT_NONE when idle. */
typedef struct ks_keys {
    uint8_t enc[32];
    uint8_t check[32];
    uint8_t mac[32];
} ks_keys; /* 96 bytes: a multiple of 16, see secret_key.c */

/* A seed and key pair being worked on; guarded. */
typedef struct ks_work {
    jt_seed seed;
    jt_keypair kp;
} ks_work;
#define WORK_SIZE ((sizeof(ks_work) + 15) & ~(size_t)15)

struct jt_keystore {
    pthread_mutex_t lock;
    char *path;
    jt_keystore_params params;
    uint8_t salt[SALT_BYTES];
    uint8_t check[32];
    uint8_t mac[32];
    ks_keys *keys; /* NULL for a keystore only parsed (the fuzz target) */
    ks_entry *e;
    size_t n, cap;
};

static const char *type_name(jt_key_type t)
{
    switch (t) {
    case JT_KEY_SECP256K1: return "secp256k1";
    case JT_KEY_ED25519: return "ed25519";
    }
    return NULL;
}

void jt_keystore_params_preset(jt_keystore_cost cost, jt_keystore_params *p)
{
    switch (cost) {
    case JT_KEYSTORE_COST_MIN:
        p->opslimit = crypto_pwhash_OPSLIMIT_MIN;
        p->memlimit = crypto_pwhash_MEMLIMIT_MIN;
        return;
    case JT_KEYSTORE_COST_INTERACTIVE:
        p->opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        p->memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
        return;
    case JT_KEYSTORE_COST_SENSITIVE:
        p->opslimit = crypto_pwhash_OPSLIMIT_SENSITIVE;
        p->memlimit = crypto_pwhash_MEMLIMIT_SENSITIVE;
        return;
    case JT_KEYSTORE_COST_MODERATE: break;
    }
    p->opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
    p->memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
}

static bool params_ok(const jt_keystore_params *p)
{
    return p->opslimit >= crypto_pwhash_OPSLIMIT_MIN && p->opslimit <= JT_KEYSTORE_OPSLIMIT_MAX &&
           p->memlimit >= crypto_pwhash_MEMLIMIT_MIN && p->memlimit <= JT_KEYSTORE_MEMLIMIT_MAX &&
           (uint64_t)(size_t)p->memlimit == p->memlimit;
}

/* ---- labels ---- */

/* Strict UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF)
 * without control characters: what a label may hold. */
static bool label_ok(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7F)
                return false;
            i++;
            continue;
        }
        size_t len;
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            if (c == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90;
            if (c == 0xF4)
                hi = 0x8F;
        } else
            return false;
        if (n - i < len || p[i + 1] < lo || p[i + 1] > hi)
            return false;
        for (size_t k = 2; k < len; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
        /* C1 controls U+0080..U+009F are C2 80..C2 9F. */
        if (c == 0xC2 && p[i + 1] < 0xA0)
            return false;
        i += len;
    }
    return true;
}

static jt_err check_label(const char *label, jt_errinfo *ei)
{
    size_t n = label ? strlen(label) : 0;
    if (n > JT_KEYSTORE_LABEL_MAX)
        return jt__err(ei, JT_EINVAL, "label", -1, "label is %zu bytes; at most %d are allowed", n,
                       JT_KEYSTORE_LABEL_MAX);
    if (!label_ok(label ? label : "", n))
        return jt__err(ei, JT_EINVAL, "label", -1,
                       "label must be UTF-8 text without control characters");
    return JT_OK;
}

static jt_err check_passphrase(const char *pass, const char *what, jt_errinfo *ei)
{
    if (!pass || !*pass)
        return jt__err(ei, JT_EINVAL, "passphrase", -1, "%s is empty", what);
    if (strnlen(pass, JT_KEYSTORE_PASS_MAX + 1) > JT_KEYSTORE_PASS_MAX)
        return jt__err(ei, JT_EINVAL, "passphrase", -1, "%s is longer than %d bytes", what,
                       JT_KEYSTORE_PASS_MAX);
    return JT_OK;
}

/* ---- the authenticated encodings (docs/keystore.md, "What is
 * authenticated") ---- */

/* H: u32 version ‖ salt ‖ u64 opslimit ‖ u64 memlimit. */
#define HEADER_BYTES (4 + SALT_BYTES + 8 + 8)
static void header_bytes(const jt_keystore *ks, uint8_t out[HEADER_BYTES])
{
    jt__put_u32(out, KS_VERSION);
    memcpy(out + 4, ks->salt, SALT_BYTES);
    jt__put_u64(out + 4 + SALT_BYTES, ks->params.opslimit);
    jt__put_u64(out + 12 + SALT_BYTES, ks->params.memlimit);
}

/* M: u8 kind ‖ u8 type ‖ u8 len ‖ address ‖ pub[33] ‖ u64 created ‖
 * u16 len ‖ label. kind 0 = key, 1 = watch-only (type FF, pub zeros). */
#define META_MAX (3 + JT_ADDRESS_MAX + 33 + 8 + 2 + JT_KEYSTORE_LABEL_MAX)
static size_t meta_bytes(const ks_entry *e, uint8_t out[META_MAX])
{
    size_t al = strlen(e->address), ll = strlen(e->label), n = 0;
    out[n++] = e->watch ? 1 : 0;
    out[n++] = e->watch ? 0xFF : (uint8_t)e->type;
    out[n++] = (uint8_t)al;
    memcpy(out + n, e->address, al);
    n += al;
    if (e->watch)
        memset(out + n, 0, 33);
    else
        memcpy(out + n, e->pub, 33);
    n += 33;
    jt__put_u64(out + n, e->created);
    n += 8;
    jt__put_u16(out + n, (uint16_t)ll);
    n += 2;
    memcpy(out + n, e->label, ll);
    return n + ll;
}

static size_t entry_ad(const ks_entry *e, uint8_t out[sizeof DOM_ENTRY - 1 + META_MAX])
{
    memcpy(out, DOM_ENTRY, sizeof DOM_ENTRY - 1);
    return sizeof DOM_ENTRY - 1 + meta_bytes(e, out + sizeof DOM_ENTRY - 1);
}

static void compute_check(const jt_keystore *ks, const ks_keys *k, uint8_t out[32])
{
    uint8_t h[HEADER_BYTES];
    crypto_generichash_state st;
    header_bytes(ks, h);
    crypto_generichash_init(&st, k->check, sizeof k->check, 32);
    crypto_generichash_update(&st, (const uint8_t *)DOM_CHECK, sizeof DOM_CHECK - 1);
    crypto_generichash_update(&st, h, sizeof h);
    crypto_generichash_final(&st, out, 32);
}

static void compute_mac(const jt_keystore *ks, const ks_keys *k, uint8_t out[32])
{
    uint8_t h[HEADER_BYTES], cnt[4], m[META_MAX];
    static const uint8_t zeros[NONCE_BYTES + CT_BYTES];
    crypto_generichash_state st;
    header_bytes(ks, h);
    jt__put_u32(cnt, (uint32_t)ks->n);
    crypto_generichash_init(&st, k->mac, sizeof k->mac, 32);
    crypto_generichash_update(&st, (const uint8_t *)DOM_MAC, sizeof DOM_MAC - 1);
    crypto_generichash_update(&st, h, sizeof h);
    crypto_generichash_update(&st, cnt, sizeof cnt);
    for (size_t i = 0; i < ks->n; i++) {
        const ks_entry *e = &ks->e[i];
        crypto_generichash_update(&st, m, meta_bytes(e, m));
        if (e->watch) {
            crypto_generichash_update(&st, zeros, sizeof zeros);
        } else {
            crypto_generichash_update(&st, e->nonce, sizeof e->nonce);
            crypto_generichash_update(&st, e->ct, sizeof e->ct);
        }
    }
    crypto_generichash_final(&st, out, 32);
}

/* ---- keys ---- */

static jt_err keys_new(ks_keys **out)
{
    *out = sodium_malloc(sizeof(ks_keys));
    return *out ? JT_OK : JT_ENOMEM;
}

static void keys_free(ks_keys *k)
{
    sodium_free(k); /* wipes; accepts NULL */
}

/* master = Argon2id(passphrase, salt); three subkeys from it with
 * crypto_kdf (BLAKE2b). `k` must be writable; the master key never leaves
 * guarded memory and is wiped before returning. */
static jt_err derive(const char *pass, const uint8_t salt[SALT_BYTES], const jt_keystore_params *p,
                     ks_keys *k, jt_errinfo *ei)
{
    uint8_t *master = sodium_malloc(32);
    if (!master)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "cannot allocate guarded memory");
    jt_err e = JT_OK;
    if (crypto_pwhash(master, 32, pass, strlen(pass), salt, p->opslimit, (size_t)p->memlimit,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        e = jt__err(ei, JT_ENOMEM, "kdf", -1,
                    "Argon2id could not get the %llu bytes of memory it was asked to use",
                    (unsigned long long)p->memlimit);
    } else if (crypto_kdf_derive_from_key(k->enc, 32, SUBKEY_ENC, KDF_CONTEXT, master) != 0 ||
               crypto_kdf_derive_from_key(k->check, 32, SUBKEY_CHECK, KDF_CONTEXT, master) != 0 ||
               crypto_kdf_derive_from_key(k->mac, 32, SUBKEY_MAC, KDF_CONTEXT, master) != 0) {
        e = jt__err(ei, JT_ECRYPTO, NULL, -1, "key derivation failed");
    }
    sodium_free(master);
    return e;
}

static jt_err keys_read(jt_keystore *ks)
{
    return sodium_mprotect_readonly(ks->keys) == 0 ? JT_OK : JT_ECRYPTO;
}

static void keys_hide(jt_keystore *ks)
{
    (void)sodium_mprotect_noaccess(ks->keys);
}

/* Derives the keys of `pass` with the keystore's salt and cost and tells
 * whether they are the keystore's: the passphrase is checked again rather
 * than trusted from the open. */
static jt_err passphrase_matches(jt_keystore *ks, const char *pass, jt_errinfo *ei)
{
    jt_err e = check_passphrase(pass, "the passphrase", ei);
    if (e)
        return e;
    ks_keys *k;
    if (keys_new(&k))
        return jt__err(ei, JT_ENOMEM, NULL, -1, "cannot allocate guarded memory");
    e = derive(pass, ks->salt, &ks->params, k, ei);
    if (!e && !(e = keys_read(ks))) {
        if (sodium_memcmp(k->check, ks->keys->check, sizeof k->check) != 0 ||
            sodium_memcmp(k->enc, ks->keys->enc, sizeof k->enc) != 0)
            e = jt__err(ei, JT_EPASSPHRASE, "passphrase", -1, "wrong passphrase");
        keys_hide(ks);
    }
    keys_free(k);
    return e;
}

/* ---- sealing entries ---- */

static jt_err seal(const ks_keys *k, ks_entry *e, const uint8_t seed[SEED_BYTES])
{
    uint8_t ad[sizeof DOM_ENTRY - 1 + META_MAX];
    size_t adlen = entry_ad(e, ad);
    unsigned long long clen = 0;
    randombytes_buf(e->nonce, sizeof e->nonce);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(e->ct, &clen, seed, SEED_BYTES, ad, adlen, NULL,
                                                   e->nonce, k->enc) != 0 ||
        clen != CT_BYTES)
        return JT_ECRYPTO;
    return JT_OK;
}

/* Decrypts entry `e` into w->seed and derives w->kp; the key must be the
 * one the entry names. */
static jt_err unseal(const ks_keys *k, const ks_entry *e, ks_work *w, jt_errinfo *ei)
{
    uint8_t ad[sizeof DOM_ENTRY - 1 + META_MAX];
    size_t adlen = entry_ad(e, ad);
    unsigned long long mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(w->seed.bytes, &mlen, NULL, e->ct, CT_BYTES, ad,
                                                   adlen, e->nonce, k->enc) != 0 ||
        mlen != SEED_BYTES)
        return jt__err(ei, JT_EKEYSTORE_AUTH, "ciphertext", -1,
                       "the entry for %s does not decrypt: its ciphertext or metadata was altered",
                       e->address);
    w->seed.type = e->type;
    if (jt_keypair_from_seed(&w->seed, &w->kp) != JT_OK)
        return jt__err(ei, JT_ECRYPTO, NULL, -1, "cannot derive the key of %s", e->address);
    if (sodium_memcmp(w->kp.pub, e->pub, 33) != 0)
        return jt__err(ei, JT_EKEYSTORE_AUTH, "public_key", -1,
                       "the secret stored for %s is not that account's key", e->address);
    return JT_OK;
}

static ks_work *work_new(void)
{
    ks_work *w = sodium_malloc(WORK_SIZE);
    if (w)
        sodium_memzero(w, WORK_SIZE);
    return w;
}

/* ---- the entry list ---- */

static ks_entry *find(jt_keystore *ks, const char *address)
{
    if (!address)
        return NULL;
    for (size_t i = 0; i < ks->n; i++)
        if (strcmp(ks->e[i].address, address) == 0)
            return &ks->e[i];
    return NULL;
}

static jt_err grow(jt_keystore *ks, jt_errinfo *ei)
{
    if (ks->n >= JT_KEYSTORE_ENTRIES_MAX)
        return jt__err(ei, JT_ETOOBIG, "keys", -1, "a keystore holds at most %d entries",
                       JT_KEYSTORE_ENTRIES_MAX);
    if (ks->n < ks->cap)
        return JT_OK;
    size_t cap = ks->cap ? ks->cap * 2 : 8;
    ks_entry *e = calloc(cap, sizeof *e);
    if (!e)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    if (ks->n)
        memcpy(e, ks->e, ks->n * sizeof *e);
    if (ks->e) {
        sodium_memzero(ks->e, ks->cap * sizeof *ks->e);
        free(ks->e);
    }
    ks->e = e;
    ks->cap = cap;
    return JT_OK;
}

static void to_public(const ks_entry *e, jt_keystore_entry *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    memcpy(out->address, e->address, sizeof out->address);
    out->watch_only = e->watch;
    out->type = e->watch ? JT_KEY_SECP256K1 : e->type;
    if (!e->watch)
        memcpy(out->public_key, e->pub, 33);
    memcpy(out->label, e->label, sizeof out->label);
    out->created = (int64_t)e->created;
}

static uint64_t now(void)
{
    time_t t = time(NULL);
    return t > 0 ? (uint64_t)t : 0;
}

/* ---- lifecycle ---- */

static jt_keystore *ks_alloc(void)
{
    jt_keystore *ks = calloc(1, sizeof *ks);
    if (!ks)
        return NULL;
    if (pthread_mutex_init(&ks->lock, NULL) != 0) {
        free(ks);
        return NULL;
    }
    return ks;
}

void jt_keystore_free(jt_keystore *ks)
{
    if (!ks)
        return;
    keys_free(ks->keys);
    if (ks->e) {
        sodium_memzero(ks->e, ks->cap * sizeof *ks->e);
        free(ks->e);
    }
    free(ks->path);
    pthread_mutex_destroy(&ks->lock);
    sodium_memzero(ks, sizeof *ks);
    free(ks);
}

/* ---- parsing ---- */

#define PERR(...) jt__err(ei, JT_EKEYSTORE, NULL, -1, __VA_ARGS__)

/* A hex member of exactly n bytes. */
static bool hex_member(const jt_json *v, uint8_t *out, size_t n)
{
    const char *s = jt_json_string(v);
    size_t got = 0;
    return s && v->u.str.len == 2 * n && jt_hex_decode(s, v->u.str.len, out, n, &got) == JT_OK &&
           got == n;
}

/* Looks up each of `names` in object `obj`, refusing unknown and repeated
 * members; vals[i] is NULL for an absent one. */
static jt_err members(const jt_json *obj, const char *what, const char *const *names, size_t count,
                      const jt_json **vals, jt_errinfo *ei)
{
    if (!obj || obj->kind != JT_JSON_OBJECT)
        return PERR("%s is not a JSON object", what);
    for (size_t i = 0; i < count; i++)
        vals[i] = NULL;
    for (size_t k = 0; k < obj->u.obj.n; k++) {
        const char *key = obj->u.obj.keys[k];
        size_t i = 0;
        while (i < count && strcmp(names[i], key) != 0)
            i++;
        if (i == count)
            return PERR("%s has an unknown member \"%.40s\"", what, key);
        if (vals[i])
            return PERR("%s has member \"%s\" twice", what, key);
        vals[i] = obj->u.obj.vals[k];
    }
    return JT_OK;
}

enum { E_ADDRESS, E_TYPE, E_PUB, E_LABEL, E_CREATED, E_NONCE, E_CT, E_WATCH, E_COUNT };
static const char *const ENTRY_NAMES[E_COUNT] = {
    "address", "key_type", "public_key", "label", "created", "nonce", "ciphertext", "watch_only",
};

static jt_err parse_entry(const jt_json *v, size_t idx, ks_entry *e, jt_errinfo *ei)
{
    char what[32];
    snprintf(what, sizeof what, "keys[%zu]", idx);
    const jt_json *m[E_COUNT];
    jt_err err = members(v, what, ENTRY_NAMES, E_COUNT, m, ei);
    if (err)
        return err;
    const char *addr = jt_json_string(m[E_ADDRESS]);
    jt_account_id id;
    if (!addr)
        return PERR("%s.address is missing or not a string", what);
    if (m[E_ADDRESS]->u.str.len >= JT_ADDRESS_MAX || jt_address_decode(addr, &id, NULL) != JT_OK)
        return PERR("%s.address is not a Jingtum address", what);
    memcpy(e->address, addr, m[E_ADDRESS]->u.str.len + 1);

    if (m[E_WATCH]) {
        if (m[E_WATCH]->kind != JT_JSON_BOOL)
            return PERR("%s.watch_only is not true or false", what);
        e->watch = m[E_WATCH]->u.b;
    }
    if (m[E_LABEL]) {
        const char *l = jt_json_string(m[E_LABEL]);
        if (!l)
            return PERR("%s.label is not a string", what);
        if (m[E_LABEL]->u.str.len > JT_KEYSTORE_LABEL_MAX)
            return PERR("%s.label is longer than %d bytes", what, JT_KEYSTORE_LABEL_MAX);
        if (!label_ok(l, m[E_LABEL]->u.str.len))
            return PERR("%s.label holds control characters or is not UTF-8", what);
        memcpy(e->label, l, m[E_LABEL]->u.str.len + 1);
    }
    if (!m[E_CREATED])
        return PERR("%s.created is missing", what);
    if (!jt_json_uint64(m[E_CREATED], false, &e->created) || e->created > ((uint64_t)1 << 53))
        return PERR("%s.created is not a time in seconds", what);

    if (e->watch) {
        if (m[E_TYPE] || m[E_PUB] || m[E_NONCE] || m[E_CT])
            return PERR("%s is watch-only but has key_type, public_key, nonce or ciphertext", what);
        return JT_OK;
    }
    const char *t = jt_json_string(m[E_TYPE]);
    if (!t)
        return PERR("%s.key_type is missing or not a string", what);
    if (strcmp(t, "secp256k1") == 0)
        e->type = JT_KEY_SECP256K1;
    else if (strcmp(t, "ed25519") == 0)
        e->type = JT_KEY_ED25519;
    else
        return PERR("%s.key_type is \"%.20s\", not \"secp256k1\" or \"ed25519\"", what, t);
    jt_key_type pt;
    jt_account_id pid;
    if (!m[E_PUB] || !hex_member(m[E_PUB], e->pub, 33))
        return PERR("%s.public_key is missing or not 33 bytes of hex", what);
    if (jt_pubkey_type(e->pub, 33, &pt) != JT_OK || pt != e->type)
        return PERR("%s.public_key is not a %s public key", what, type_name(e->type));
    if (jt_account_id_from_pubkey(e->pub, 33, &pid) != JT_OK || memcmp(pid.bytes, id.bytes, 20))
        return PERR("%s.public_key is not the key of %s", what, e->address);
    if (!m[E_NONCE] || !hex_member(m[E_NONCE], e->nonce, NONCE_BYTES))
        return PERR("%s.nonce is missing or not %d bytes of hex", what, NONCE_BYTES);
    if (!m[E_CT] || !hex_member(m[E_CT], e->ct, CT_BYTES))
        return PERR("%s.ciphertext is missing or not %d bytes of hex", what, CT_BYTES);
    return JT_OK;
}

enum { T_VERSION, T_KDF, T_CHECK, T_KEYS, T_MAC, T_COUNT };
static const char *const TOP_NAMES[T_COUNT] = {"version", "kdf", "check", "keys", "mac"};
enum { K_ALG, K_SALT, K_OPS, K_MEM, K_COUNT };
static const char *const KDF_NAMES[K_COUNT] = {"algorithm", "salt", "opslimit", "memlimit"};

static jt_err parse_doc(const jt_json *root, jt_keystore *ks, jt_errinfo *ei)
{
    const jt_json *t[T_COUNT], *k[K_COUNT];
    jt_err e = members(root, "the keystore", TOP_NAMES, T_COUNT, t, ei);
    if (e)
        return e;
    uint64_t version;
    if (!t[T_VERSION] || !jt_json_uint64(t[T_VERSION], false, &version))
        return PERR("\"version\" is missing or not a number: not a jt keystore file");
    if (version != KS_VERSION)
        return PERR("keystore version %llu is not supported (this libjt reads version %d)",
                    (unsigned long long)version, KS_VERSION);
    if (!t[T_KDF])
        return PERR("\"kdf\" is missing");
    if ((e = members(t[T_KDF], "kdf", KDF_NAMES, K_COUNT, k, ei)))
        return e;
    const char *alg = jt_json_string(k[K_ALG]);
    if (!alg || strcmp(alg, KS_ALG) != 0)
        return PERR("kdf.algorithm is not \"" KS_ALG "\"");
    if (!k[K_SALT] || !hex_member(k[K_SALT], ks->salt, SALT_BYTES))
        return PERR("kdf.salt is missing or not %d bytes of hex", SALT_BYTES);
    if (!k[K_OPS] || !jt_json_uint64(k[K_OPS], false, &ks->params.opslimit) || !k[K_MEM] ||
        !jt_json_uint64(k[K_MEM], false, &ks->params.memlimit))
        return PERR("kdf.opslimit or kdf.memlimit is missing or not a whole number");
    if (!params_ok(&ks->params))
        return PERR("kdf cost out of range: opslimit %llu (allowed %llu to %u), memlimit %llu "
                    "(allowed %llu to %llu)",
                    (unsigned long long)ks->params.opslimit,
                    (unsigned long long)crypto_pwhash_OPSLIMIT_MIN, JT_KEYSTORE_OPSLIMIT_MAX,
                    (unsigned long long)ks->params.memlimit,
                    (unsigned long long)crypto_pwhash_MEMLIMIT_MIN,
                    (unsigned long long)JT_KEYSTORE_MEMLIMIT_MAX);
    if (!t[T_CHECK] || !hex_member(t[T_CHECK], ks->check, 32))
        return PERR("\"check\" is missing or not 32 bytes of hex");
    if (!t[T_MAC] || !hex_member(t[T_MAC], ks->mac, 32))
        return PERR("\"mac\" is missing or not 32 bytes of hex");
    const jt_json *keys = t[T_KEYS];
    if (!keys || keys->kind != JT_JSON_ARRAY)
        return PERR("\"keys\" is missing or not an array");
    if (keys->u.arr.n > JT_KEYSTORE_ENTRIES_MAX)
        return PERR("\"keys\" has %zu entries; at most %d are allowed", keys->u.arr.n,
                    JT_KEYSTORE_ENTRIES_MAX);
    for (size_t i = 0; i < keys->u.arr.n; i++) {
        if ((e = grow(ks, ei)))
            return e;
        ks_entry *en = &ks->e[ks->n];
        memset(en, 0, sizeof *en);
        if ((e = parse_entry(keys->u.arr.items[i], i, en, ei)))
            return e;
        if (find(ks, en->address))
            return PERR("keys[%zu].address %s appears twice", i, en->address);
        ks->n++;
    }
    return JT_OK;
}

jt_err jt__keystore_parse(const char *text, size_t len, struct jt_keystore **out, jt_errinfo *ei)
{
    *out = NULL;
    if (len > FILE_MAX)
        return PERR("file is %zu bytes; a keystore is at most %zu", len, FILE_MAX);
    jt_json_limits lim = {
        .max_bytes = FILE_MAX,
        .max_depth = 4,
        .max_items = 16 + (size_t)JT_KEYSTORE_ENTRIES_MAX * 10,
    };
    jt_json_doc *doc = NULL;
    jt_errinfo jei;
    jt_errinfo_clear(&jei);
    jt_err e = jt_json_parse(text, len, &lim, &doc, &jei);
    if (e == JT_ENOMEM)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    if (e)
        return jt__err(ei, JT_EKEYSTORE, NULL, jei.offset, "not JSON: %s", jei.msg);
    jt_keystore *ks = ks_alloc();
    if (!ks) {
        jt_json_doc_free(doc);
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    }
    e = parse_doc(jt_json_root(doc), ks, ei);
    jt_json_doc_free(doc);
    if (e) {
        jt_keystore_free(ks);
        return e;
    }
    *out = ks;
    return JT_OK;
}

/* ---- writing ---- */

static jt_err put_str(jt_buf *b, const char *s)
{
    return jt_buf_append(b, s, strlen(s));
}

static jt_err put_hex(jt_buf *b, const uint8_t *p, size_t n)
{
    char h[2 * 64 + 1];
    if (jt_hex_encode(p, n, h, sizeof h) != JT_OK)
        return JT_EINVAL;
    jt_err e = jt_buf_append(b, "\"", 1);
    if (!e)
        e = jt_buf_append(b, h, 2 * n);
    return e ? e : jt_buf_append(b, "\"", 1);
}

static jt_err put_u64(jt_buf *b, uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)v);
    return put_str(b, s);
}

/* One entry on its own line; the exact bytes are in docs/keystore.md. */
static jt_err put_entry(jt_buf *b, const ks_entry *e)
{
    jt_jw w;
    jt_jw_init(&w, b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "address");
    jt_jw_string(&w, e->address);
    if (e->watch) {
        jt_jw_key(&w, "watch_only");
        jt_jw_bool(&w, true);
    } else {
        jt_jw_key(&w, "key_type");
        jt_jw_string(&w, type_name(e->type));
        jt_jw_key(&w, "public_key");
        jt_jw_hex(&w, e->pub, 33);
    }
    jt_jw_key(&w, "label");
    jt_jw_string(&w, e->label);
    jt_jw_key(&w, "created");
    jt_jw_uint(&w, e->created);
    if (!e->watch) {
        jt_jw_key(&w, "nonce");
        jt_jw_hex(&w, e->nonce, NONCE_BYTES);
        jt_jw_key(&w, "ciphertext");
        jt_jw_hex(&w, e->ct, CT_BYTES);
    }
    jt_jw_object_end(&w);
    jt_err err = jt_jw_finish(&w);
    return err;
}

jt_err jt__keystore_serialize(struct jt_keystore *ks, jt_buf *b)
{
    jt_err e = put_str(b, "{\"version\":1,\n \"kdf\":{\"algorithm\":\"" KS_ALG "\",\"salt\":");
    if (!e)
        e = put_hex(b, ks->salt, SALT_BYTES);
    if (!e)
        e = put_str(b, ",\"opslimit\":");
    if (!e)
        e = put_u64(b, ks->params.opslimit);
    if (!e)
        e = put_str(b, ",\"memlimit\":");
    if (!e)
        e = put_u64(b, ks->params.memlimit);
    if (!e)
        e = put_str(b, "},\n \"check\":");
    if (!e)
        e = put_hex(b, ks->check, 32);
    if (!e)
        e = put_str(b, ",\n \"keys\":[");
    for (size_t i = 0; !e && i < ks->n; i++) {
        e = put_str(b, i ? ",\n  " : "\n  ");
        if (!e)
            e = put_entry(b, &ks->e[i]);
    }
    if (!e)
        e = put_str(b, ks->n ? "\n ],\n \"mac\":" : "],\n \"mac\":");
    if (!e)
        e = put_hex(b, ks->mac, 32);
    if (!e)
        e = put_str(b, "}\n");
    return e;
}

/* ---- files ---- */

/* The directory part of `path` ("." when there is none). */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* A directory that others can write lets them replace the keystore: refuse
 * it, unless the sticky bit keeps them from touching files they do not
 * own (as in /tmp). */
static jt_err check_dir(const char *path, jt_errinfo *ei)
{
    char *dir = dir_of(path);
    if (!dir)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    struct stat st;
    jt_err e = JT_OK;
    if (stat(dir, &st) != 0)
        e = jt__err(ei, JT_EIO, "path", -1, "cannot stat directory %s: %s", dir, strerror(errno));
    else if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))
        e = jt__err(ei, JT_EPERM, "path", -1,
                    "directory %s is writable by group or others (mode %04o), who could replace "
                    "the keystore; run chmod go-w on it",
                    dir, (unsigned)(st.st_mode & 07777));
    free(dir);
    return e;
}

static jt_err read_keystore_file(const char *path, char **text, size_t *len, jt_errinfo *ei)
{
    jt_err e = check_dir(path, ei);
    if (e)
        return e;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return jt__err(ei, JT_EIO, "path", -1, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        e = jt__err(ei, JT_EIO, "path", -1, "cannot stat %s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        e = jt__err(ei, JT_EIO, "path", -1, "%s is not a regular file", path);
    } else if (st.st_mode & 077) {
        e = jt__err(ei, JT_EPERM, "path", -1,
                    "%s is accessible by group or others (mode %04o); run chmod 600 on it", path,
                    (unsigned)(st.st_mode & 07777));
    } else if ((size_t)st.st_size > FILE_MAX) {
        e = jt__err(ei, JT_EKEYSTORE, "path", -1, "%s is %lld bytes; a keystore is at most %zu",
                    path, (long long)st.st_size, FILE_MAX);
    }
    if (e) {
        close(fd);
        return e;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    }
    for (;;) {
        if (n == cap) { /* the file grew while being read */
            e = jt__err(ei, JT_EIO, "path", -1, "%s changed while being read", path);
            break;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            e = jt__err(ei, JT_EIO, "path", -1, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (e) {
        free(buf);
        return e;
    }
    *text = buf;
    *len = n;
    return JT_OK;
}

static int sync_dir(const char *path)
{
    char *dir = dir_of(path);
    if (!dir)
        return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    if (r != 0 && (errno == EINVAL || errno == ENOTSUP))
        r = 0; /* a file system that cannot sync directories */
    int er = errno;
    close(fd);
    errno = er;
    return r;
}

/*
 * Writes `data` to PATH.tmp-XXXXXX (mode 0600), syncs it, then gives it its
 * name — with link(), which refuses to replace a file, when `fresh`; with
 * rename() otherwise — and syncs the directory. A failure at any step leaves
 * the old file as it was and removes the temporary file.
 */
static jt_err write_atomic(const char *path, const jt_buf *data, bool fresh, jt_errinfo *ei)
{
    size_t pl = strlen(path);
    char *tmp = malloc(pl + sizeof ".tmp-XXXXXX");
    if (!tmp)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp-XXXXXX", sizeof ".tmp-XXXXXX");
    jt_err e = JT_OK;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        e = jt__err(ei, JT_EIO, "path", -1, "cannot create a temporary file beside %s: %s", path,
                    strerror(errno));
        free(tmp);
        return e;
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (fchmod(fd, 0600) != 0)
        e = jt__err(ei, JT_EIO, "path", -1, "cannot set the mode of %s: %s", tmp, strerror(errno));
    size_t off = 0;
    while (!e && off < data->len) {
        ssize_t w = write(fd, data->data + off, data->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            e = jt__err(ei, JT_EIO, "path", -1, "cannot write %s: %s", tmp,
                        w < 0 ? strerror(errno) : "short write");
        else
            off += (size_t)w;
    }
    if (!e && fsync(fd) != 0)
        e = jt__err(ei, JT_EIO, "path", -1, "cannot sync %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && !e)
        e = jt__err(ei, JT_EIO, "path", -1, "cannot close %s: %s", tmp, strerror(errno));
    if (!e && fresh && link(tmp, path) != 0) {
        int er = errno;
        e = jt__err(ei, er == EEXIST ? JT_EEXIST : JT_EIO, "path", -1, "cannot create %s: %s", path,
                    strerror(er));
    }
    if (!e && !fresh && rename(tmp, path) != 0)
        e = jt__err(ei, JT_EIO, "path", -1, "cannot replace %s: %s", path, strerror(errno));
    if (e || fresh)
        unlink(tmp);
    if (!e && sync_dir(path) != 0)
        e = jt__err(ei, JT_EIO, "path", -1, "cannot sync the directory of %s: %s", path,
                    strerror(errno));
    free(tmp);
    return e;
}

/* Serializes with a fresh check and MAC and writes the file. Called with
 * the lock held. */
static jt_err save_locked(jt_keystore *ks, bool fresh, jt_errinfo *ei)
{
    jt_err e = check_dir(ks->path, ei);
    if (e)
        return e;
    if ((e = keys_read(ks)))
        return jt__err(ei, e, NULL, -1, "cannot read the keystore's keys");
    compute_check(ks, ks->keys, ks->check);
    compute_mac(ks, ks->keys, ks->mac);
    keys_hide(ks);
    jt_buf b;
    jt_buf_init(&b);
    e = jt__keystore_serialize(ks, &b);
    if (e)
        e = jt__err(ei, e, NULL, -1, "cannot build the keystore text");
    else
        e = write_atomic(ks->path, &b, fresh, ei);
    jt_buf_clear(&b);
    return e;
}

/* ---- public API ---- */

jt_err jt_keystore_create(const char *path, const char *passphrase,
                          const jt_keystore_params *params, jt_keystore **out, jt_errinfo *ei)
{
    if (!out)
        return jt__err(ei, JT_EINVAL, NULL, -1, "no place for the keystore");
    *out = NULL;
    if (!path || !*path)
        return jt__err(ei, JT_EINVAL, "path", -1, "no keystore path given");
    jt_err e = check_passphrase(passphrase, "the passphrase", ei);
    if (e)
        return e;
    jt_keystore_params p;
    if (params)
        p = *params;
    else
        jt_keystore_params_preset(JT_KEYSTORE_COST_MODERATE, &p);
    if (!params_ok(&p))
        return jt__err(ei, JT_EINVAL, "kdf", -1,
                       "Argon2id cost out of range: opslimit %llu, memlimit %llu",
                       (unsigned long long)p.opslimit, (unsigned long long)p.memlimit);
    if (jt__sodium_ready() != 0)
        return jt__err(ei, JT_ECRYPTO, NULL, -1, "libsodium failed to initialise");
    struct stat st;
    if (lstat(path, &st) == 0)
        return jt__err(ei, JT_EEXIST, "path", -1, "%s already exists", path);
    if ((e = check_dir(path, ei)))
        return e;

    jt_keystore *ks = ks_alloc();
    if (!ks || !(ks->path = strdup(path)) || keys_new(&ks->keys)) {
        jt_keystore_free(ks);
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    }
    ks->params = p;
    randombytes_buf(ks->salt, sizeof ks->salt);
    e = derive(passphrase, ks->salt, &ks->params, ks->keys, ei);
    if (!e) {
        keys_hide(ks);
        e = save_locked(ks, true, ei);
    }
    if (e) {
        jt_keystore_free(ks);
        return e;
    }
    *out = ks;
    return JT_OK;
}

jt_err jt_keystore_open(const char *path, const char *passphrase, jt_keystore **out, jt_errinfo *ei)
{
    if (!out)
        return jt__err(ei, JT_EINVAL, NULL, -1, "no place for the keystore");
    *out = NULL;
    if (!path || !*path)
        return jt__err(ei, JT_EINVAL, "path", -1, "no keystore path given");
    jt_err e = check_passphrase(passphrase, "the passphrase", ei);
    if (e)
        return e;
    if (jt__sodium_ready() != 0)
        return jt__err(ei, JT_ECRYPTO, NULL, -1, "libsodium failed to initialise");
    char *text = NULL;
    size_t len = 0;
    if ((e = read_keystore_file(path, &text, &len, ei)))
        return e;
    jt_keystore *ks = NULL;
    e = jt__keystore_parse(text, len, &ks, ei);
    free(text);
    if (e) {
        if (e == JT_EKEYSTORE && ei) {
            /* Say which file. */
            char msg[sizeof ei->msg];
            snprintf(msg, sizeof msg, "%s", ei->msg);
            jt__err(ei, e, NULL, ei->offset, "%s: %s", path, msg);
        }
        return e;
    }
    if (!(ks->path = strdup(path)) || keys_new(&ks->keys)) {
        jt_keystore_free(ks);
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    }
    e = derive(passphrase, ks->salt, &ks->params, ks->keys, ei);
    if (!e) {
        uint8_t check[32], mac[32];
        compute_check(ks, ks->keys, check);
        if (sodium_memcmp(check, ks->check, 32) != 0) {
            e = jt__err(ei, JT_EPASSPHRASE, "passphrase", -1,
                        "wrong passphrase for %s (or its kdf header was altered)", path);
        } else {
            compute_mac(ks, ks->keys, mac);
            if (sodium_memcmp(mac, ks->mac, 32) != 0)
                e = jt__err(ei, JT_EKEYSTORE_AUTH, "mac", -1,
                            "%s was altered: the passphrase is right but the entries do not "
                            "match their MAC",
                            path);
        }
        keys_hide(ks);
    }
    if (e) {
        jt_keystore_free(ks);
        return e;
    }
    *out = ks;
    return JT_OK;
}

const char *jt_keystore_path(const jt_keystore *ks)
{
    return ks->path;
}

void jt_keystore_get_params(jt_keystore *ks, jt_keystore_params *p)
{
    pthread_mutex_lock(&ks->lock);
    *p = ks->params;
    pthread_mutex_unlock(&ks->lock);
}

size_t jt_keystore_count(jt_keystore *ks)
{
    pthread_mutex_lock(&ks->lock);
    size_t n = ks->n;
    pthread_mutex_unlock(&ks->lock);
    return n;
}

jt_err jt_keystore_entry_at(jt_keystore *ks, size_t i, jt_keystore_entry *out)
{
    jt_err e = JT_ENOTFOUND;
    pthread_mutex_lock(&ks->lock);
    if (i < ks->n) {
        to_public(&ks->e[i], out);
        e = JT_OK;
    }
    pthread_mutex_unlock(&ks->lock);
    return e;
}

jt_err jt_keystore_find(jt_keystore *ks, const char *address, jt_keystore_entry *out)
{
    pthread_mutex_lock(&ks->lock);
    const ks_entry *en = find(ks, address);
    if (en)
        to_public(en, out);
    pthread_mutex_unlock(&ks->lock);
    return en ? JT_OK : JT_ENOTFOUND;
}

/* Adds the key whose seed is in w->seed. Called with the lock held. */
static jt_err add_key(jt_keystore *ks, ks_work *w, const char *label, jt_keystore_entry *out,
                      jt_errinfo *ei)
{
    jt_account_id id;
    ks_entry en;
    memset(&en, 0, sizeof en);
    jt_err e = jt_keypair_from_seed(&w->seed, &w->kp);
    if (!e)
        e = jt_account_id_from_pubkey(w->kp.pub, 33, &id);
    if (!e)
        e = jt_address_encode(&id, en.address);
    if (e)
        return jt__err(ei, e, NULL, -1, "cannot derive the key");
    if (find(ks, en.address))
        return jt__err(ei, JT_EEXIST, "address", -1, "%s is already in the keystore", en.address);
    if ((e = grow(ks, ei)))
        return e;
    en.type = w->seed.type;
    memcpy(en.pub, w->kp.pub, 33);
    snprintf(en.label, sizeof en.label, "%s", label ? label : "");
    en.created = now();
    if ((e = keys_read(ks)))
        return jt__err(ei, e, NULL, -1, "cannot read the keystore's keys");
    e = seal(ks->keys, &en, w->seed.bytes);
    keys_hide(ks);
    if (e)
        return jt__err(ei, e, NULL, -1, "cannot encrypt the key");
    ks->e[ks->n++] = en;
    to_public(&en, out);
    return JT_OK;
}

static jt_err jt_keystore_generate__impl(jt_keystore *ks, jt_key_type type, const char *label,
                            jt_keystore_entry *out, jt_errinfo *ei)
{
    if (!ks || !ks->keys)
        return jt__err(ei, JT_EINVAL, NULL, -1, "no keystore");
    if (!type_name(type))
        return jt__err(ei, JT_EINVAL, "key_type", -1, "unknown key type %d", (int)type);
    jt_err e = check_label(label, ei);
    if (e)
        return e;
    ks_work *w = work_new();
    if (!w)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "cannot allocate guarded memory");
    pthread_mutex_lock(&ks->lock);
    e = jt_seed_generate(type, &w->seed);
    if (e)
        jt__err(ei, e, NULL, -1, "cannot generate a seed");
    else
        e = add_key(ks, w, label, out, ei);
    pthread_mutex_unlock(&ks->lock);
    sodium_free(w);
    return e;
}

/* The work above runs in frames below this one; what it left on the
 * stack (copies of key material in library code that does not wipe)
 * is cleared before returning. */
jt_err jt_keystore_generate(jt_keystore *ks, jt_key_type type, const char *label,
                            jt_keystore_entry *out, jt_errinfo *ei)
{
    jt_err e = jt_keystore_generate__impl(ks, type, label, out, ei);
    jt__scrub_stack();
    return e;
}

static jt_err jt_keystore_import__impl(jt_keystore *ks, const char *secret, const char *label,
                          jt_keystore_entry *out, jt_errinfo *ei)
{
    if (!ks || !ks->keys)
        return jt__err(ei, JT_EINVAL, NULL, -1, "no keystore");
    jt_err e = check_label(label, ei);
    if (e)
        return e;
    ks_work *w = work_new();
    if (!w)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "cannot allocate guarded memory");
    e = jt_secret_decode(secret, &w->seed, ei);
    if (!e) {
        pthread_mutex_lock(&ks->lock);
        e = add_key(ks, w, label, out, ei);
        pthread_mutex_unlock(&ks->lock);
    }
    sodium_free(w);
    return e;
}

jt_err jt_keystore_import(jt_keystore *ks, const char *secret, const char *label,
                          jt_keystore_entry *out, jt_errinfo *ei)
{
    jt_err e = jt_keystore_import__impl(ks, secret, label, out, ei);
    jt__scrub_stack();
    return e;
}

jt_err jt_keystore_add_watch(jt_keystore *ks, const char *address, const char *label,
                             jt_keystore_entry *out, jt_errinfo *ei)
{
    if (!ks)
        return jt__err(ei, JT_EINVAL, NULL, -1, "no keystore");
    jt_account_id id;
    if (!address || strlen(address) >= JT_ADDRESS_MAX || jt_address_decode(address, &id, NULL))
        return jt__err(ei, JT_EINVAL, "address", -1, "not a Jingtum address");
    jt_err e = check_label(label, ei);
    if (e)
        return e;
    pthread_mutex_lock(&ks->lock);
    if (find(ks, address)) {
        e = jt__err(ei, JT_EEXIST, "address", -1, "%s is already in the keystore", address);
    } else if (!(e = grow(ks, ei))) {
        ks_entry *en = &ks->e[ks->n++];
        memset(en, 0, sizeof *en);
        snprintf(en->address, sizeof en->address, "%s", address);
        en->watch = true;
        snprintf(en->label, sizeof en->label, "%s", label ? label : "");
        en->created = now();
        to_public(en, out);
    }
    pthread_mutex_unlock(&ks->lock);
    return e;
}

jt_err jt_keystore_remove(jt_keystore *ks, const char *address, jt_errinfo *ei)
{
    if (!ks)
        return jt__err(ei, JT_EINVAL, NULL, -1, "no keystore");
    pthread_mutex_lock(&ks->lock);
    ks_entry *en = find(ks, address);
    if (en) {
        size_t i = (size_t)(en - ks->e);
        memmove(en, en + 1, (ks->n - i - 1) * sizeof *en);
        ks->n--;
        sodium_memzero(&ks->e[ks->n], sizeof *en);
    }
    pthread_mutex_unlock(&ks->lock);
    return en ? JT_OK
              : jt__err(ei, JT_ENOTFOUND, "address", -1, "%s is not in the keystore",
                        address ? address : "(null)");
}

/* Decrypts the entry for `address` into w. Called with the lock held. */
static jt_err unseal_address(jt_keystore *ks, const char *address, ks_work *w, jt_errinfo *ei)
{
    const ks_entry *en = find(ks, address);
    if (!en)
        return jt__err(ei, JT_ENOTFOUND, "address", -1, "%s is not in the keystore",
                       address ? address : "(null)");
    if (en->watch)
        return jt__err(ei, JT_EWATCHONLY, "address", -1,
                       "%s is a watch-only entry: the keystore holds no secret for it", address);
    jt_err e = keys_read(ks);
    if (e)
        return jt__err(ei, e, NULL, -1, "cannot read the keystore's keys");
    e = unseal(ks->keys, en, w, ei);
    keys_hide(ks);
    return e;
}

static jt_err jt_keystore_get_key__impl(jt_keystore *ks, const char *address, jt_secret_key **out,
                           jt_errinfo *ei)
{
    if (!out)
        return jt__err(ei, JT_EINVAL, NULL, -1, "no place for the key");
    *out = NULL;
    if (!ks || !ks->keys)
        return jt__err(ei, JT_EINVAL, NULL, -1, "no keystore");
    ks_work *w = work_new();
    if (!w)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "cannot allocate guarded memory");
    pthread_mutex_lock(&ks->lock);
    jt_err e = unseal_address(ks, address, w, ei);
    pthread_mutex_unlock(&ks->lock);
    if (!e && (e = jt_secret_key_new(&w->seed, out)))
        jt__err(ei, e, NULL, -1, "cannot make the key handle");
    if (!e)
        jt__secret_key_seal(*out);
    sodium_free(w);
    return e;
}

jt_err jt_keystore_get_key(jt_keystore *ks, const char *address, jt_secret_key **out,
                           jt_errinfo *ei)
{
    jt_err e = jt_keystore_get_key__impl(ks, address, out, ei);
    jt__scrub_stack();
    return e;
}

static jt_err jt_keystore_export__impl(jt_keystore *ks, const char *address, const char *passphrase, char *out,
                          size_t cap, jt_errinfo *ei)
{
    if (!ks || !ks->keys || !out)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_keystore_export: NULL argument");
    sodium_memzero(out, cap);
    ks_work *w = work_new();
    if (!w)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "cannot allocate guarded memory");
    pthread_mutex_lock(&ks->lock);
    jt_err e = find(ks, address) ? passphrase_matches(ks, passphrase, ei) : JT_OK;
    if (!e)
        e = unseal_address(ks, address, w, ei);
    pthread_mutex_unlock(&ks->lock);
    if (!e && (e = jt_secret_encode(&w->seed, out, cap))) {
        sodium_memzero(out, cap);
        jt__err(ei, e, NULL, -1, "the buffer for the secret is too small (%zu bytes)", cap);
    }
    sodium_free(w);
    return e;
}

jt_err jt_keystore_export(jt_keystore *ks, const char *address, const char *passphrase, char *out,
                          size_t cap, jt_errinfo *ei)
{
    jt_err e = jt_keystore_export__impl(ks, address, passphrase, out, cap, ei);
    jt__scrub_stack();
    return e;
}

jt_err jt_keystore_change_passphrase(jt_keystore *ks, const char *old_passphrase,
                                     const char *new_passphrase, const jt_keystore_params *params,
                                     jt_errinfo *ei)
{
    if (!ks || !ks->keys)
        return jt__err(ei, JT_EINVAL, NULL, -1, "no keystore");
    jt_err e = check_passphrase(new_passphrase, "the new passphrase", ei);
    if (e)
        return e;
    if (params && !params_ok(params))
        return jt__err(ei, JT_EINVAL, "kdf", -1,
                       "Argon2id cost out of range: opslimit %llu, memlimit %llu",
                       (unsigned long long)params->opslimit, (unsigned long long)params->memlimit);
    ks_keys *nk = NULL;
    ks_work *w = work_new();
    ks_entry *ne = NULL;
    if (!w || keys_new(&nk)) {
        sodium_free(w);
        return jt__err(ei, JT_ENOMEM, NULL, -1, "cannot allocate guarded memory");
    }
    pthread_mutex_lock(&ks->lock);
    e = passphrase_matches(ks, old_passphrase, ei);
    jt_keystore_params np = params ? *params : ks->params;
    uint8_t salt[SALT_BYTES];
    randombytes_buf(salt, sizeof salt);
    if (!e)
        e = derive(new_passphrase, salt, &np, nk, ei);
    if (!e && ks->cap && !(ne = calloc(ks->cap, sizeof *ne)))
        e = jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    if (!e && (e = keys_read(ks)))
        jt__err(ei, e, NULL, -1, "cannot read the keystore's keys");
    if (!e) {
        for (size_t i = 0; !e && i < ks->n; i++) {
            ne[i] = ks->e[i];
            if (ne[i].watch)
                continue;
            e = unseal(ks->keys, &ks->e[i], w, ei);
            if (!e && (e = seal(nk, &ne[i], w->seed.bytes)))
                jt__err(ei, e, NULL, -1, "cannot encrypt the key of %s", ne[i].address);
        }
        keys_hide(ks);
    }
    if (!e) {
        /* Commit: nothing below can fail. */
        sodium_memzero(ks->e, ks->cap * sizeof *ks->e);
        free(ks->e);
        ks->e = ne;
        ne = NULL;
        keys_free(ks->keys);
        ks->keys = nk;
        nk = NULL;
        keys_hide(ks);
        memcpy(ks->salt, salt, sizeof salt);
        ks->params = np;
    }
    pthread_mutex_unlock(&ks->lock);
    if (ne) {
        sodium_memzero(ne, ks->cap * sizeof *ne);
        free(ne);
    }
    keys_free(nk);
    sodium_free(w);
    return e;
}

jt_err jt_keystore_save(jt_keystore *ks, jt_errinfo *ei)
{
    if (!ks || !ks->keys || !ks->path)
        return jt__err(ei, JT_EINVAL, NULL, -1, "no keystore");
    pthread_mutex_lock(&ks->lock);
    jt_err e = save_locked(ks, false, ei);
    pthread_mutex_unlock(&ks->lock);
    return e;
}
