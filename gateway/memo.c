/*
 * memo.c — encrypted memos in the gateway (memo.h).
 */
#include "memo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jt/base58.h>
#include <jt/secret_key.h>
#include <jt/util.h>

#include "dlist.h"
#include "map.h"

/* A derived encryption key kept for an account, most recently used first. */
typedef struct mkey {
    char address[40];
    jt_memo_key *k;
    gw_dnode node;
} mkey;
#define MKEY(n) GW_DLIST_ENTRY(n, mkey, node)

struct gw_memos {
    jt_keystore *ks;
    gw_map *keys; /* address -> mkey */
    gw_dlist lru; /* most recently used first */
    size_t n, max;
};

static int fail(gw_txerr *e, const char *field, const char *msg)
{
    snprintf(e->field, sizeof e->field, "%s", field);
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    return -1;
}

gw_memos *gw_memos_new(jt_keystore *ks, size_t max_keys)
{
    gw_memos *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->ks = ks;
    m->max = max_keys ? max_keys : 1;
    m->keys = gw_map_new();
    if (!m->keys) {
        free(m);
        return NULL;
    }
    return m;
}

void gw_memos_free(gw_memos *m)
{
    if (!m)
        return;
    for (gw_dnode *n = m->lru.head, *next; n; n = next) {
        next = n->next;
        jt_memo_key_free(MKEY(n)->k);
        free(MKEY(n));
    }
    gw_map_free(m->keys);
    free(m);
}

size_t gw_memos_loaded(const gw_memos *m)
{
    return m ? m->n : 0;
}

jt_memo_key *gw_memos_key(gw_memos *m, const char *address)
{
    /* Asked each time: a key removed from the keystore opens nothing more. */
    jt_keystore_entry e;
    if (jt_keystore_find(m->ks, address, &e) != JT_OK || e.watch_only)
        return NULL;
    mkey *hit = gw_map_get(m->keys, address, strlen(address));
    if (hit) {
        gw_dlist_to_front(&m->lru, &hit->node);
        return hit->k;
    }
    /* Room for one more: the least recently used key is wiped (callers use
     * a key within one call on the loop, one at a time). */
    while (m->n >= m->max && m->lru.tail) {
        mkey *old = MKEY(m->lru.tail);
        gw_dlist_unlink(&m->lru, &old->node);
        gw_map_del(m->keys, old->address, strlen(old->address));
        jt_memo_key_free(old->k);
        free(old);
        m->n--;
    }
    jt_memo_key *k;
    jt_secret_key *sk;
    jt_errinfo ei;
    if (jt_keystore_get_key(m->ks, address, &sk, &ei) != JT_OK) {
        fprintf(stderr, "level=error mod=memo event=key_unavailable address=%s msg=\"%s\"\n",
                address, ei.msg);
        return NULL;
    }
    jt_err rc = jt_memo_key_new(sk, &k);
    jt_secret_key_free(sk);
    if (rc != JT_OK)
        return NULL;
    mkey *ent = calloc(1, sizeof *ent);
    if (ent)
        snprintf(ent->address, sizeof ent->address, "%s", address);
    if (!ent || gw_map_put(m->keys, ent->address, strlen(ent->address), ent)) {
        free(ent);
        jt_memo_key_free(k);
        return NULL;
    }
    ent->k = k;
    gw_dlist_push_front(&m->lru, &ent->node);
    m->n++;
    return k;
}

int gw_memos_seal(gw_memos *m, const char *sender, const uint8_t recipient[JT_MEMO_KEY_BYTES],
                  const gw_memo *memos, size_t n, jt_obj *tx, gw_txerr *e)
{
    if (n > GW_MEMOS_MAX)
        return fail(e, "payment.memos", "at most 8 memos");
    jt_memo_key *mine = gw_memos_key(m, sender);
    jt_account_id from;
    jt_errinfo ei;
    if (!mine || jt_address_decode(sender, &from, &ei) != JT_OK)
        return fail(e, "", "the sender's encryption key is not available");
    size_t total = 0;
    jt_memo_parts parts[GW_MEMOS_MAX];
    for (size_t i = 0; i < n; i++) {
        parts[i] = (jt_memo_parts){memos[i].type,   memos[i].type_len, memos[i].format,
                                   memos[i].format_len, memos[i].data, memos[i].data_len};
        total += 2 * jt_memo_sealed_size(&parts[i]);
    }
    if (total > GW_SEALED_MEMOS_MAX) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "too long to seal: two sealed copies of each memo come to %zu bytes, at most %d "
                 "fit in one transaction",
                 total, GW_SEALED_MEMOS_MAX);
        return fail(e, "payment.memos", msg);
    }
    uint8_t *buf = malloc(total ? total : 1);
    if (!buf)
        return fail(e, "", "out of memory");
    static const char type[] = JT_MEMO_SEALED_TYPE, format[] = JT_MEMO_SEALED_FORMAT;
    gw_memo out[2 * GW_MEMOS_MAX];
    size_t at = 0;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        for (int copy = 0; copy < 2 && !rc; copy++) {
            const uint8_t *to = copy == 0 ? recipient : jt_memo_key_public(mine);
            size_t len;
            jt_err err = jt_memo_seal(to, copy == 0 ? JT_MEMO_FOR_RECIPIENT : JT_MEMO_FOR_SENDER,
                                      &from, &parts[i], buf + at, total - at, &len);
            if (err == JT_ECRYPTO && copy == 0) {
                rc = fail(e, "payment.destination",
                          "the destination's MessageKey is not a usable encryption key");
                break;
            }
            if (err != JT_OK) {
                rc = fail(e, "", jt_strerror(err));
                break;
            }
            out[2 * i + (size_t)copy] =
                (gw_memo){(const uint8_t *)type, sizeof type - 1, (const uint8_t *)format,
                          sizeof format - 1, buf + at, len};
            at += len;
        }
    }
    if (!rc)
        rc = gw_tx_set_memos(tx, out, 2 * n, e);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------ reading */

/* A memo field's bytes from its hex; NULL (absent) when missing or not hex. */
static uint8_t *field_bytes(const jt_json *memo, const char *name, size_t *len)
{
    const char *hex = jt_json_string(jt_json_get(memo, name));
    *len = 0;
    if (!hex)
        return NULL;
    size_t hl = strlen(hex);
    uint8_t *b = malloc(hl / 2 + 1);
    if (!b)
        return NULL;
    if (jt_hex_decode(hex, hl, b, hl / 2 + 1, len) != JT_OK) {
        free(b);
        return NULL;
    }
    return b;
}

static bool is_sealed(const jt_json *memo)
{
    const char *t = jt_json_string(jt_json_get(memo, "MemoType"));
    static const char want[] = "6A742F7365616C6564"; /* hex of "jt/sealed" */
    return t && strlen(t) == sizeof want - 1 && !strncasecmp(t, want, sizeof want - 1);
}

static jt_memo_role role_of(const jt_json *memo)
{
    size_t len;
    uint8_t *d = field_bytes(memo, "MemoData", &len);
    jt_memo_role role = (jt_memo_role)-1;
    if (!d || jt_memo_peek(d, len, &role, NULL) != JT_OK)
        role = (jt_memo_role)-1;
    free(d);
    return role;
}

static void write_part(jt_jw *w, const char *key, const uint8_t *p, size_t n)
{
    if (!p)
        return;
    jt_jw_key(w, key);
    jt_jw_string_n(w, (const char *)p, n);
}

static bool may_key(const void *ctx, const char *account)
{
    const gw_apikey *key = ctx;
    return (key->scopes & GW_SCOPE_ADMIN) || gw_apikey_allows_account(key, account);
}

gw_memo_reader gw_memo_reader_key(gw_memos *m, const gw_apikey *key)
{
    return (gw_memo_reader){m, may_key, key};
}

static bool may_all(const void *ctx, const char *account)
{
    (void)ctx;
    (void)account;
    return true;
}

gw_memo_reader gw_memo_reader_all(gw_memos *m)
{
    return (gw_memo_reader){m, may_all, NULL};
}

bool gw_memos_any_sealed(const jt_json *tx)
{
    const jt_json *memos = jt_json_get(tx, "Memos");
    if (!memos || memos->kind != JT_JSON_ARRAY)
        return false;
    for (size_t i = 0; i < memos->u.arr.n; i++)
        if (is_sealed(jt_json_get(memos->u.arr.items[i], "Memo")))
            return true;
    return false;
}

/* Opens a sealed copy for its party, when the gateway holds the party's key
 * and the reader may act for it. Writes the memo's members and returns
 * true when it opened. */
static bool try_open(jt_jw *w, const jt_json *tx, const jt_json *memo, const gw_memo_reader *r)
{
    if (!r || !r->memos)
        return false;
    size_t len;
    uint8_t *d = field_bytes(memo, "MemoData", &len);
    jt_memo_role role;
    if (!d || jt_memo_peek(d, len, &role, NULL) != JT_OK) {
        free(d);
        return false;
    }
    const char *party = jt_json_string(
        jt_json_get(tx, role == JT_MEMO_FOR_RECIPIENT ? "Destination" : "Account"));
    const char *account = jt_json_string(jt_json_get(tx, "Account"));
    jt_account_id from;
    jt_errinfo ei;
    jt_memo_key *k = NULL;
    if (party && account && jt_address_decode(account, &from, &ei) == JT_OK &&
        r->may(r->ctx, party))
        k = gw_memos_key(r->memos, party);
    bool opened = false;
    uint8_t *buf = k ? malloc(len) : NULL;
    jt_memo_parts p;
    if (buf && jt_memo_open(k, d, len, &from, buf, len, &p) == JT_OK) {
        write_part(w, "type", p.type, p.type_len);
        write_part(w, "format", p.format, p.format_len);
        jt_jw_key(w, "data");
        jt_jw_string_n(w, p.data ? (const char *)p.data : "", p.data_len);
        opened = true;
    }
    free(buf);
    free(d);
    return opened;
}

void gw_memos_write(jt_jw *w, const jt_json *tx, const gw_memo_reader *r)
{
    const jt_json *memos = jt_json_get(tx, "Memos");
    if (!memos || memos->kind != JT_JSON_ARRAY || memos->u.arr.n == 0)
        return;
    size_t n = memos->u.arr.n;
    jt_jw_key(w, "memos");
    jt_jw_array_begin(w);
    for (size_t i = 0; i < n; i++) {
        const jt_json *memo = jt_json_get(memos->u.arr.items[i], "Memo");
        jt_jw_object_begin(w);
        if (!is_sealed(memo)) {
            static const char *const names[][2] = {
                {"MemoType", "type"}, {"MemoFormat", "format"}, {"MemoData", "data"}};
            for (size_t k = 0; k < 3; k++) {
                size_t len;
                uint8_t *b = field_bytes(memo, names[k][0], &len);
                if (b)
                    write_part(w, names[k][1], b, len);
                free(b);
            }
            jt_jw_object_end(w);
            continue;
        }
        /* The recipient's copy and the sender's copy after it: one memo. */
        const jt_json *second = NULL;
        if (i + 1 < n) {
            const jt_json *next = jt_json_get(memos->u.arr.items[i + 1], "Memo");
            if (is_sealed(next) && role_of(memo) == JT_MEMO_FOR_RECIPIENT &&
                role_of(next) == JT_MEMO_FOR_SENDER) {
                second = next;
                i++;
            }
        }
        bool opened = try_open(w, tx, memo, r) || (second && try_open(w, tx, second, r));
        jt_jw_key(w, "encrypted");
        jt_jw_bool(w, true);
        if (!opened) {
            jt_jw_key(w, "sealed");
            jt_jw_bool(w, true);
        }
        jt_jw_object_end(w);
    }
    jt_jw_array_end(w);
}
