/*
 * apikey.c — API keys stored hashed, checked in constant time (apikey.h).
 */
#include "apikey.h"

#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <jt/base58.h>
#include <jt/hash.h>
#include <jt/json.h>
#include <jt/util.h>

static const struct {
    const char *name;
    unsigned bit;
} scope_names[] = {
    {"read", GW_SCOPE_READ},
    {"sign", GW_SCOPE_SIGN},
    {"issue", GW_SCOPE_ISSUE},
    {"admin", GW_SCOPE_ADMIN},
};
#define N_SCOPES (sizeof scope_names / sizeof *scope_names)

void gw_apikey_clear(gw_apikey *k)
{
    free(k->accounts);
    memset(k, 0, sizeof *k);
}

static int scope_bit(const char *name, size_t len)
{
    for (size_t i = 0; i < N_SCOPES; i++)
        if (strlen(scope_names[i].name) == len && !memcmp(scope_names[i].name, name, len))
            return (int)scope_names[i].bit;
    return -1;
}

int gw_apikey_parse_scopes(const char *text, unsigned *mask, char *err, size_t errcap)
{
    *mask = 0;
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, ", ");
        if (n) {
            int bit = scope_bit(p, n);
            if (bit < 0) {
                snprintf(err, errcap, "unknown scope \"%.*s\" (scopes: read, sign, issue, admin)",
                         (int)(n > 32 ? 32 : n), p);
                return -1;
            }
            *mask |= (unsigned)bit;
        }
        p += n;
        p += strspn(p, ", ");
    }
    if (!*mask) {
        snprintf(err, errcap, "no scope given (scopes: read, sign, issue, admin)");
        return -1;
    }
    return 0;
}

void gw_apikey_scopes_text(unsigned mask, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = 0;
    for (size_t i = 0; i < N_SCOPES; i++) {
        if (!(mask & scope_names[i].bit))
            continue;
        int n = snprintf(out + used, cap - used, "%s%s", used ? "," : "", scope_names[i].name);
        if (n < 0 || (size_t)n >= cap - used)
            return;
        used += (size_t)n;
    }
}

static int parse_accounts(const char *text, gw_apikey *k, char *err, size_t errcap)
{
    k->any_account = false;
    k->n_accounts = 0;
    if (!text)
        return 0;
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, ", ");
        if (n == 1 && *p == '*') {
            k->any_account = true;
        } else if (n) {
            char addr[36];
            if (n >= sizeof addr) {
                snprintf(err, errcap, "not an account address: \"%.*s…\"", 24, p);
                return -1;
            }
            memcpy(addr, p, n);
            addr[n] = 0;
            if (!jt_address_is_valid(addr)) {
                snprintf(err, errcap, "not an account address: \"%s\"", addr);
                return -1;
            }
            if (k->n_accounts == GW_APIKEY_MAX_ACCOUNTS) {
                snprintf(err, errcap, "too many accounts (at most %d per key)",
                         GW_APIKEY_MAX_ACCOUNTS);
                return -1;
            }
            char(*grown)[36] = realloc(k->accounts, (k->n_accounts + 1) * sizeof *k->accounts);
            if (!grown) {
                snprintf(err, errcap, "out of memory");
                return -1;
            }
            k->accounts = grown;
            snprintf(k->accounts[k->n_accounts++], sizeof *k->accounts, "%s", addr);
        }
        p += n;
        p += strspn(p, ", ");
    }
    return 0;
}

int gw_apikey_to_json(const gw_apikey *k, jt_buf *out)
{
    jt_jw w;
    jt_jw_init(&w, out);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "id");
    jt_jw_string(&w, k->id);
    jt_jw_key(&w, "hash");
    jt_jw_hex(&w, k->hash, sizeof k->hash);
    jt_jw_key(&w, "scopes");
    jt_jw_array_begin(&w);
    for (size_t i = 0; i < N_SCOPES; i++)
        if (k->scopes & scope_names[i].bit)
            jt_jw_string(&w, scope_names[i].name);
    jt_jw_array_end(&w);
    jt_jw_key(&w, "accounts");
    jt_jw_array_begin(&w);
    if (k->any_account)
        jt_jw_string(&w, "*");
    for (size_t i = 0; i < k->n_accounts; i++)
        jt_jw_string(&w, k->accounts[i]);
    jt_jw_array_end(&w);
    jt_jw_key(&w, "label");
    jt_jw_string(&w, k->label);
    jt_jw_key(&w, "created");
    jt_jw_int(&w, k->created);
    jt_jw_key(&w, "revoked");
    jt_jw_bool(&w, k->revoked);
    jt_jw_object_end(&w);
    return jt_jw_finish(&w) == JT_OK ? 0 : -1;
}

int gw_apikey_from_json(const char *text, size_t len, gw_apikey *out)
{
    memset(out, 0, sizeof *out);
    jt_json_doc *doc;
    jt_errinfo ei;
    if (jt_json_parse(text, len, NULL, &doc, &ei) != JT_OK)
        return -1;
    const jt_json *r = jt_json_root(doc);
    const char *id = jt_json_string(jt_json_get(r, "id"));
    const char *hash = jt_json_string(jt_json_get(r, "hash"));
    const jt_json *scopes = jt_json_get(r, "scopes");
    const jt_json *accts = jt_json_get(r, "accounts");
    const char *label = jt_json_string(jt_json_get(r, "label"));
    const jt_json *created = jt_json_get(r, "created");
    const jt_json *revoked = jt_json_get(r, "revoked");
    size_t hl = 0;
    int rc = -1;
    if (!id || strlen(id) != GW_APIKEY_ID_LEN || !hash || !scopes || scopes->kind != JT_JSON_ARRAY ||
        !accts || accts->kind != JT_JSON_ARRAY ||
        jt_hex_decode(hash, strlen(hash), out->hash, sizeof out->hash, &hl) != JT_OK || hl != 32)
        goto done;
    snprintf(out->id, sizeof out->id, "%s", id);
    for (size_t i = 0; i < scopes->u.arr.n; i++) {
        const char *s = jt_json_string(scopes->u.arr.items[i]);
        int bit = s ? scope_bit(s, strlen(s)) : -1;
        if (bit > 0)
            out->scopes |= (unsigned)bit;
    }
    for (size_t i = 0; i < accts->u.arr.n; i++) {
        const char *a = jt_json_string(accts->u.arr.items[i]);
        if (!a)
            goto done;
        if (!strcmp(a, "*")) {
            out->any_account = true;
            continue;
        }
        if (!jt_address_is_valid(a))
            goto done;
        char(*grown)[36] = realloc(out->accounts, (out->n_accounts + 1) * sizeof *out->accounts);
        if (!grown)
            goto done;
        out->accounts = grown;
        snprintf(out->accounts[out->n_accounts++], sizeof *out->accounts, "%s", a);
    }
    snprintf(out->label, sizeof out->label, "%s", label ? label : "");
    int64_t c = 0;
    if (created)
        jt_json_int64(created, false, &c);
    out->created = c;
    out->revoked = revoked && revoked->kind == JT_JSON_BOOL && revoked->u.b;
    rc = 0;
done:
    jt_json_doc_free(doc);
    if (rc)
        gw_apikey_clear(out);
    return rc;
}

/* Keys are written in lower-case hex (jt_hex_encode writes upper case). */
static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'F')
            *s = (char)(*s - 'A' + 'a');
}

static int put_key(gw_store *s, const gw_apikey *k, char *err, size_t errcap)
{
    jt_buf rec;
    jt_buf_init(&rec);
    gw_batch *b = gw_batch_new();
    if (!b || gw_apikey_to_json(k, &rec) ||
        gw_batch_put(b, GW_APIKEYS, k->id, GW_APIKEY_ID_LEN, rec.data, rec.len)) {
        snprintf(err, errcap, "out of memory");
        gw_batch_free(b);
        jt_buf_clear(&rec);
        return -1;
    }
    jt_buf_clear(&rec);
    return gw_store_commit(s, b, err, errcap);
}

int gw_apikey_create(gw_store *s, unsigned scopes, const char *accounts, const char *label,
                     char text[GW_APIKEY_TEXT_MAX], gw_apikey *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    if (parse_accounts(accounts, out, err, errcap)) {
        gw_apikey_clear(out);
        return -1;
    }
    if (label && strlen(label) >= sizeof out->label) {
        snprintf(err, errcap, "label too long (at most %zu bytes)", sizeof out->label - 1);
        gw_apikey_clear(out);
        return -1;
    }
    uint8_t id[GW_APIKEY_ID_LEN / 2], secret[32];
    randombytes_buf(id, sizeof id);
    randombytes_buf(secret, sizeof secret);
    char secret_hex[65];
    jt_hex_encode(id, sizeof id, out->id, sizeof out->id);
    jt_hex_encode(secret, sizeof secret, secret_hex, sizeof secret_hex);
    lower(out->id);
    lower(secret_hex);
    jt_sha256(secret, sizeof secret, out->hash);
    sodium_memzero(secret, sizeof secret);
    out->scopes = scopes;
    snprintf(out->label, sizeof out->label, "%s", label ? label : "");
    out->created = (int64_t)time(NULL);
    snprintf(text, GW_APIKEY_TEXT_MAX, "jtk_%s_%s", out->id, secret_hex);
    sodium_memzero(secret_hex, sizeof secret_hex);
    if (put_key(s, out, err, errcap)) {
        sodium_memzero(text, GW_APIKEY_TEXT_MAX);
        gw_apikey_clear(out);
        return -1;
    }
    return 0;
}

static bool is_lower_hex(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return false;
    return true;
}

/* Parsed records, by the record's bytes: a request costs the store read
 * (so a revocation or a change made by another process counts at once) and
 * a compare, not a JSON parse and an address check per allowed account.
 * Slots are reused round-robin; any thread may call. */
#define PARSED_SLOTS 32
#define PARSED_MAX 4096

static struct parsed {
    size_t len;
    char rec[PARSED_MAX];
    gw_apikey key;
} parsed[PARSED_SLOTS];
static unsigned parsed_next;
static pthread_mutex_t parsed_mu = PTHREAD_MUTEX_INITIALIZER;

static int key_copy(const gw_apikey *from, gw_apikey *to)
{
    *to = *from;
    to->accounts = NULL;
    if (from->n_accounts) {
        to->accounts = malloc(from->n_accounts * sizeof *from->accounts);
        if (!to->accounts)
            return -1;
        memcpy(to->accounts, from->accounts, from->n_accounts * sizeof *from->accounts);
    }
    return 0;
}

/* The record parsed: from a slot holding the same bytes, else parsed now
 * (and kept). 0 or -1 as gw_apikey_from_json. */
static int parse_record(const char *rec, size_t len, gw_apikey *out)
{
    pthread_mutex_lock(&parsed_mu);
    for (unsigned i = 0; i < PARSED_SLOTS; i++) {
        struct parsed *p = &parsed[i];
        if (p->len == len && !memcmp(p->rec, rec, len)) {
            int rc = key_copy(&p->key, out);
            pthread_mutex_unlock(&parsed_mu);
            return rc;
        }
    }
    pthread_mutex_unlock(&parsed_mu);
    if (gw_apikey_from_json(rec, len, out))
        return -1;
    if (len > PARSED_MAX)
        return 0;
    gw_apikey keep;
    if (key_copy(out, &keep))
        return 0;
    pthread_mutex_lock(&parsed_mu);
    struct parsed *p = &parsed[parsed_next++ % PARSED_SLOTS];
    gw_apikey_clear(&p->key);
    p->key = keep;
    memcpy(p->rec, rec, len);
    p->len = len;
    pthread_mutex_unlock(&parsed_mu);
    return 0;
}

int gw_apikey_check(gw_store *s, const char *text, size_t len, gw_apikey *out, char *err,
                    size_t errcap)
{
    memset(out, 0, sizeof *out);
    const size_t want = 4 + GW_APIKEY_ID_LEN + 1 + 64;
    if (len != want || memcmp(text, "jtk_", 4) || text[4 + GW_APIKEY_ID_LEN] != '_' ||
        !is_lower_hex(text + 4, GW_APIKEY_ID_LEN) ||
        !is_lower_hex(text + 5 + GW_APIKEY_ID_LEN, 64))
        return 0;
    uint8_t secret[32], hash[32];
    size_t sl = 0;
    if (jt_hex_decode(text + 5 + GW_APIKEY_ID_LEN, 64, secret, sizeof secret, &sl) != JT_OK)
        return 0;
    jt_sha256(secret, sizeof secret, hash);
    sodium_memzero(secret, sizeof secret);
    jt_buf rec;
    jt_buf_init(&rec);
    int found = gw_store_get(s, GW_APIKEYS, text + 4, GW_APIKEY_ID_LEN, &rec, err, errcap);
    int rc = found;
    if (found == 1) {
        if (parse_record((const char *)rec.data, rec.len, out))
            rc = 0;
        else if (sodium_memcmp(hash, out->hash, 32) != 0 || out->revoked)
            rc = 0;
        if (rc == 0)
            gw_apikey_clear(out);
    }
    jt_buf_clear(&rec);
    return rc;
}

int gw_apikey_by_id(gw_store *s, const char *id, gw_apikey *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    if (strlen(id) != GW_APIKEY_ID_LEN)
        return 0;
    jt_buf rec;
    jt_buf_init(&rec);
    int found = gw_store_get(s, GW_APIKEYS, id, GW_APIKEY_ID_LEN, &rec, err, errcap);
    int rc = found;
    if (found == 1 && (parse_record((const char *)rec.data, rec.len, out) || out->revoked)) {
        gw_apikey_clear(out);
        rc = 0;
    }
    jt_buf_clear(&rec);
    if (rc == 1)
        sodium_memzero(out->hash, sizeof out->hash);
    return rc;
}

int gw_apikey_revoke(gw_store *s, const char *id, char *err, size_t errcap)
{
    if (strlen(id) != GW_APIKEY_ID_LEN)
        return 1;
    jt_buf rec;
    jt_buf_init(&rec);
    int found = gw_store_get(s, GW_APIKEYS, id, GW_APIKEY_ID_LEN, &rec, err, errcap);
    if (found <= 0) {
        jt_buf_clear(&rec);
        return found < 0 ? -1 : 1;
    }
    gw_apikey k;
    int rc = gw_apikey_from_json((const char *)rec.data, rec.len, &k);
    jt_buf_clear(&rec);
    if (rc) {
        snprintf(err, errcap, "the record of key %s is damaged", id);
        return -1;
    }
    k.revoked = true;
    rc = put_key(s, &k, err, errcap);
    gw_apikey_clear(&k);
    return rc;
}

typedef struct list_ctx {
    void (*fn)(void *ctx, const gw_apikey *k);
    void *ctx;
} list_ctx;

static bool list_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    list_ctx *lc = ctx;
    gw_apikey key;
    if (gw_apikey_from_json(v, vl, &key) == 0) {
        lc->fn(lc->ctx, &key);
        gw_apikey_clear(&key);
    }
    return true;
}

int gw_apikey_list(gw_store *s, void (*fn)(void *ctx, const gw_apikey *k), void *ctx, char *err,
                   size_t errcap)
{
    list_ctx lc = {fn, ctx};
    return gw_store_scan(s, GW_APIKEYS, NULL, 0, list_one, &lc, err, errcap);
}

bool gw_apikey_allows_account(const gw_apikey *k, const char *account)
{
    if (k->any_account)
        return true;
    for (size_t i = 0; i < k->n_accounts; i++)
        if (!strcmp(k->accounts[i], account))
            return true;
    return false;
}
