/*
 * rpc_stream.c — subscriptions (subscribe, unsubscribe) and the messages
 * pushed to subscribers: proposed transactions as they reach the open
 * ledger, closed ledgers and their transactions once durable, to the
 * transactions stream and to the subscribers of the accounts and the order
 * books they touch.
 */
#include "rpc_int.h"

#include <stdlib.h>

/* ---------------------------------------------------------------- subscribe, unsubscribe */

/* The ledger fields of subscribe's result and of ledgerClosed. */
static void jw_ledger_stream(jt_jw *w, jn_ledger *L)
{
    const jn_header *h = jn_ledger_last(L);
    const jn_params *p = jn_ledger_params(L);
    jt_jw_key(w, "fee_base");
    jt_jw_uint(w, p->base_fee);
    jt_jw_key(w, "fee_ref");
    jt_jw_uint(w, 10);
    jt_jw_key(w, "ledger_hash");
    jt_jw_hex(w, h->hash, 32);
    jt_jw_key(w, "ledger_index");
    jt_jw_uint(w, h->seq);
    jt_jw_key(w, "ledger_time");
    jt_jw_uint(w, h->close_time);
    jt_jw_key(w, "reserve_base");
    jt_jw_uint(w, p->reserve_base);
    jt_jw_key(w, "reserve_inc");
    jt_jw_uint(w, p->reserve_inc);
    jt_jw_key(w, "validated_ledgers");
    rpc_jw_validated_ledgers(w, L);
}

static void random_hex(jt_jw *w)
{
    uint8_t r[32] = {0};
    FILE *f = fopen("/dev/urandom", "rb");
    if (f) {
        if (fread(r, 1, 32, f) != 32)
            memset(r, 0, 32);
        fclose(f);
    }
    jt_jw_hex(w, r, 32);
}

static int parse_streams(req *q, unsigned *streams)
{
    const jt_json *sv = jt_json_get(q->p, "streams");
    *streams = 0;
    if (!sv)
        return 0;
    if (sv->kind != JT_JSON_ARRAY)
        return rpc_fail(q, "invalidParams", "Invalid field 'streams', not array.");
    for (size_t i = 0; i < sv->u.arr.n; i++) {
        const char *s = jt_json_string(sv->u.arr.items[i]);
        if (!s)
            return rpc_fail(q, "malformedStream", "Stream malformed.");
        if (!strcmp(s, "ledger"))
            *streams |= S_LEDGER;
        else if (!strcmp(s, "server"))
            *streams |= S_SERVER;
        else if (!strcmp(s, "transactions"))
            *streams |= S_TX;
        else if (!strcmp(s, "transactions_proposed") || !strcmp(s, "rt_transactions"))
            *streams |= S_TX_PROPOSED;
        else
            return rpc_fail(q, "unknownStream", "Unknown stream.");
    }
    return 0;
}

static int parse_accounts(req *q, const char *key, jt_account_id **out, size_t *n)
{
    const jt_json *av = jt_json_get(q->p, key);
    *out = NULL;
    *n = 0;
    if (!av)
        return 0;
    if (av->kind != JT_JSON_ARRAY)
        return rpc_fail(q, "invalidParams", "Invalid field '%s', not array.", key);
    if (av->u.arr.n > MAX_SUB_ACCOUNTS)
        return rpc_fail(q, "invalidParams", "At most %d accounts per request.", MAX_SUB_ACCOUNTS);
    jt_account_id *v = calloc(av->u.arr.n ? av->u.arr.n : 1, sizeof *v);
    if (!v)
        return rpc_fail(q, "internal", NULL);
    for (size_t i = 0; i < av->u.arr.n; i++) {
        const char *s = jt_json_string(av->u.arr.items[i]);
        jt_errinfo ei;
        if (!s || jt_address_decode(s, &v[i], &ei) != JT_OK) {
            free(v);
            return rpc_fail(q, "actMalformed", NULL);
        }
    }
    *out = v;
    *n = av->u.arr.n;
    return 0;
}

/* Adds (or removes) accounts to a subscription list. */
static int merge_accounts(jt_account_id **list, size_t *n, const jt_account_id *add, size_t na, bool remove)
{
    for (size_t i = 0; i < na; i++) {
        size_t k;
        for (k = 0; k < *n; k++)
            if (!memcmp(&(*list)[k], &add[i], 20))
                break;
        if (remove) {
            if (k < *n)
                (*list)[k] = (*list)[--*n];
            continue;
        }
        if (k < *n)
            continue;
        if (*n >= MAX_SUB_ACCOUNTS)
            return -1;
        jt_account_id *nl = realloc(*list, (*n + 1) * sizeof **list);
        if (!nl)
            return -1;
        *list = nl;
        (*list)[(*n)++] = add[i];
    }
    return 0;
}

/* ---------------------------------------------------------------- books
 *
 * A client's books are kept as the base ID of their directories
 * (jn_id_book_base: the book, one direction), which is also how a
 * transaction's offers name theirs (BookDirectory, quality cleared). */

typedef struct book_req {
    jt_amount pays, gets;
    jt_account_id taker;
    bool both, snapshot;
} book_req;

static void book_base(const jt_amount *pays, const jt_amount *gets, uint8_t out[32])
{
    jn_book_cursor c;
    jn_book_cursor_init(&c, pays, gets);
    memcpy(out, c.base, 32);
}

static bool flag(const jt_json *o, const char *k1, const char *k2)
{
    const jt_json *v = jt_json_get(o, k1);
    if (!v)
        v = jt_json_get(o, k2);
    return v && v->kind == JT_JSON_BOOL && v->u.b;
}

/* books: [{taker_pays, taker_gets, taker?, snapshot?, both?}], checked as
 * skywelld's subscribe checks them (state_now and both_sides are the old
 * names of snapshot and both). */
static int parse_books(req *q, book_req **out, size_t *n)
{
    const jt_json *bv = jt_json_get(q->p, "books");
    *out = NULL;
    *n = 0;
    if (!bv)
        return 0;
    if (bv->kind != JT_JSON_ARRAY)
        return rpc_fail(q, "invalidParams", "Invalid field 'books', not array.");
    unsigned cap = q->rpc->cfg.max_books_per_conn;
    if (bv->u.arr.n > cap)
        return rpc_fail(q, "invalidParams", "At most %u books per request.", cap);
    book_req *v = calloc(bv->u.arr.n ? bv->u.arr.n : 1, sizeof *v);
    if (!v)
        return rpc_fail(q, "internal", NULL);
    for (size_t i = 0; i < bv->u.arr.n; i++) {
        const jt_json *b = bv->u.arr.items[i];
        if (b->kind != JT_JSON_OBJECT) {
            free(v);
            return rpc_fail(q, "invalidParams",
                            "Invalid field 'books', an entry is not an object.");
        }
        if (rpc_param_book(q, b, &v[i].pays, &v[i].gets, &v[i].taker, "badIssuer")) {
            free(v);
            return -1;
        }
        v[i].both = flag(b, "both", "both_sides");
        v[i].snapshot = flag(b, "snapshot", "state_now");
    }
    *out = v;
    *n = bv->u.arr.n;
    return 0;
}

static bool has_book(const jn_client *c, const uint8_t base[32])
{
    for (size_t i = 0; i < c->n_books; i++)
        if (!memcmp(c->books[i], base, 32))
            return true;
    return false;
}

/* Adds (or removes) the books and, with both, their reverses. Adding
 * checks both limits first and changes nothing when either would be
 * passed. */
static int merge_books(req *q, const book_req *b, size_t n, bool remove)
{
    jn_rpc *r = q->rpc;
    jn_client *c = q->cl;
    uint8_t(*add)[32] = calloc(2 * n + 1, 32);
    size_t na = 0;
    if (!add)
        return rpc_fail(q, "internal", NULL);
    for (size_t i = 0; i < n; i++)
        for (int dir = 0; dir < (b[i].both ? 2 : 1); dir++) {
            uint8_t base[32];
            book_base(dir ? &b[i].gets : &b[i].pays, dir ? &b[i].pays : &b[i].gets, base);
            bool dup = false;
            for (size_t k = 0; k < na && !dup; k++)
                dup = !memcmp(add[k], base, 32);
            if (!dup && has_book(c, base) == remove)
                memcpy(add[na++], base, 32);
        }
    int rc = 0;
    if (remove) {
        for (size_t k = 0; k < na; k++)
            for (size_t i = 0; i < c->n_books; i++)
                if (!memcmp(c->books[i], add[k], 32)) {
                    memcpy(c->books[i], c->books[--c->n_books], 32);
                    r->n_books--;
                    break;
                }
    } else if (c->n_books + na > r->cfg.max_books_per_conn) {
        rc = rpc_fail(q, "invalidParams",
                      "At most %u books per connection (each direction counts one).",
                      r->cfg.max_books_per_conn);
    } else if (r->n_books + na > r->cfg.max_books) {
        rc = rpc_fail(q, "tooBusy", "The node serves %u book subscriptions at most.",
                      r->cfg.max_books);
    } else if (na) {
        uint8_t(*nb)[32] = realloc(c->books, (c->n_books + na) * 32);
        if (!nb) {
            rc = rpc_fail(q, "internal", NULL);
        } else {
            c->books = nb;
            memcpy(c->books[c->n_books], add, na * 32);
            c->n_books += na;
            r->n_books += na;
        }
    }
    free(add);
    return rc;
}

/* The snapshots asked for, from the last closed (validated) ledger, as
 * skywelld's subscribe gives them: "offers" holds the pages of the books
 * without both, one after another; "bids" those of the books with both
 * and "asks" their reverses. */
static void jw_snapshots(req *q, const book_req *b, size_t n)
{
    jn_ledger *L = q->rpc->L;
    const jn_view *v = jn_ledger_closed_view(L);
    const jn_params *prm = jn_ledger_params(L);
    const jn_env env = {.reserve_base = prm->reserve_base, .reserve_inc = prm->reserve_inc};
    jn_book_owner *owners = calloc(BOOK_PAGE_MAX, sizeof *owners);
    static const char *const keys[3] = {"offers", "bids", "asks"};
    for (int k = 0; k < 3 && owners; k++) {
        bool open = false;
        for (size_t i = 0; i < n; i++) {
            if (!b[i].snapshot || b[i].both != (k > 0))
                continue;
            if (!open) {
                jt_jw_key(q->w, keys[k]);
                jt_jw_array_begin(q->w);
                open = true;
            }
            jn_book_page p;
            bool rev = k == 2;
            jn_book_page_init(&p, v, rev ? &b[i].gets : &b[i].pays, rev ? &b[i].pays : &b[i].gets,
                              &b[i].taker, owners, BOOK_PAGE_MAX);
            (void)rpc_jw_book_page(q->w, v, &env, &p, BOOK_PAGE_MAX, NULL);
        }
        if (open)
            jt_jw_array_end(q->w);
    }
    free(owners);
}

static int sub_common(req *q, bool remove)
{
    unsigned streams;
    jt_account_id *a = NULL, *ap = NULL;
    size_t na = 0, nap = 0, nb = 0;
    book_req *b = NULL;
    if (parse_streams(q, &streams) || parse_accounts(q, "accounts", &a, &na) ||
        parse_accounts(q, "accounts_proposed", &ap, &nap) || parse_books(q, &b, &nb)) {
        free(a);
        free(ap);
        free(b);
        return -1;
    }
    jn_client *c = q->cl;
    int rc = merge_books(q, b, nb, remove);
    if (!rc && (merge_accounts(&c->accts, &c->n_accts, a, na, remove) ||
                merge_accounts(&c->accts_p, &c->n_accts_p, ap, nap, remove)))
        rc = rpc_fail(q, "invalidParams", "At most %d subscribed accounts per connection.", MAX_SUB_ACCOUNTS);
    free(a);
    free(ap);
    if (rc || remove) {
        if (!rc)
            c->streams &= ~streams;
        free(b);
        return rc;
    }
    c->streams |= streams;
    jt_jw *w = q->w;
    jw_snapshots(q, b, nb);
    free(b);
    if (streams & S_LEDGER)
        jw_ledger_stream(w, q->rpc->L);
    if (streams & S_SERVER) {
        jt_jw_key(w, "hostid");
        jt_jw_string(w, q->rpc->hostid);
        jt_jw_key(w, "load_base");
        jt_jw_uint(w, 256);
        jt_jw_key(w, "load_factor");
        jt_jw_uint(w, 256);
        jt_jw_key(w, "pubkey_node");
        jt_jw_string(w, q->rpc->pubkey_node);
        jt_jw_key(w, "random");
        random_hex(w);
        jt_jw_key(w, "server_status");
        jt_jw_string(w, "full");
        jt_jw_key(w, "stand_alone");
        jt_jw_bool(w, true);
    }
    return 0;
}

int cmd_subscribe(req *q)
{
    return sub_common(q, false);
}

int cmd_unsubscribe(req *q)
{
    return sub_common(q, true);
}

/* ---------------------------------------------------------------- pushed messages */

static bool wants_accounts(const jt_account_id *list, size_t n, const jt_account_id *accts, size_t na)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < na; k++)
            if (!memcmp(&list[i], &accts[k], 20))
                return true;
    return false;
}

void rpc_publish_proposed(jn_rpc *r, const jt_obj *tx, const uint8_t id[32], int ter)
{
    jt_account_id accts[64];
    size_t na = jn_tx_accounts(tx, accts, 64);
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jw_engine_result(&w, ter);
    jt_jw_key(&w, "ledger_current_index");
    jt_jw_uint(&w, jn_ledger_open_seq(r->L));
    jt_jw_key(&w, "status");
    jt_jw_string(&w, "proposed");
    jt_jw_key(&w, "transaction");
    rpc_jw_tx(&w, tx, id, NULL, false);
    jt_jw_key(&w, "type");
    jt_jw_string(&w, "transaction");
    jt_jw_key(&w, "validated");
    jt_jw_bool(&w, false);
    jt_jw_object_end(&w);
    if (jt_jw_finish(&w) == JT_OK)
        for (jn_client *c = r->clients; c; c = c->next)
            if ((c->streams & S_TX_PROPOSED) || wants_accounts(c->accts_p, c->n_accts_p, accts, na))
                send_buf(c, &b);
    jt_buf_clear(&b);
}

/* Adds the book of each Offer a transaction's metadata creates, modifies or
 * deletes to *books (distinct; grown as needed). Returns the count, or
 * what it could gather on ENOMEM. */
static size_t offer_books(const jt_obj *meta, uint8_t (**books)[32], size_t *cap)
{
    size_t n = 0, k = jt_obj_array_len(meta, "AffectedNodes");
    for (size_t i = 0; i < k; i++) {
        const jt_obj *node = jt_obj_array_at(meta, "AffectedNodes", i, NULL), *f;
        uint64_t lt = 0;
        if (!node || jt_obj_get_uint_f(node, FLD("LedgerEntryType"), &lt) != JT_OK ||
            lt != JT_LT_OFFER)
            continue;
        if (jt_obj_get_object_f(node, FLD("FinalFields"), &f) != JT_OK &&
            jt_obj_get_object_f(node, FLD("NewFields"), &f) != JT_OK)
            continue;
        uint8_t base[32];
        const uint8_t *dir;
        size_t len;
        jt_amount pays, gets;
        if (jt_obj_get_bytes_f(f, FLD("BookDirectory"), &dir, &len) == JT_OK && len == 32) {
            memcpy(base, dir, 24);
            memset(base + 24, 0, 8);
        } else if (jt_obj_get_amount_f(f, FLD("TakerPays"), &pays) == JT_OK &&
                   jt_obj_get_amount_f(f, FLD("TakerGets"), &gets) == JT_OK) {
            book_base(&pays, &gets, base);
        } else {
            continue;
        }
        size_t j = 0;
        while (j < n && memcmp((*books)[j], base, 32))
            j++;
        if (j < n)
            continue;
        if (n == *cap) {
            size_t nc = *cap ? 2 * *cap : 8;
            uint8_t(*nb)[32] = realloc(*books, nc * 32);
            if (!nb)
                return n;
            *books = nb;
            *cap = nc;
        }
        memcpy((*books)[n++], base, 32);
    }
    return n;
}

static bool wants_books(const jn_client *c, const uint8_t (*books)[32], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (has_book(c, books[i]))
            return true;
    return false;
}

/* One message per client and transaction, whichever of its
 * subscriptions (transactions, accounts, books) the transaction matches. */
static bool wants_tx(const jn_client *c, const jn_tx *t, const uint8_t (*books)[32], size_t nb)
{
    return (c->streams & S_TX) || wants_accounts(c->accts, c->n_accts, t->accts, t->n_accts) ||
           (c->n_books && wants_books(c, books, nb));
}

/* Announces a ledger that has just become durable (from the closer). */
void rpc_publish_closed(void *ctx, const jn_txlist *closed)
{
    jn_rpc *r = ctx;
    if (!r->clients)
        return;
    const jn_header *h = jn_ledger_last(r->L);
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jw_ledger_stream(&w, r->L);
    jt_jw_key(&w, "txn_count");
    jt_jw_uint(&w, closed->n);
    jt_jw_key(&w, "type");
    jt_jw_string(&w, "ledgerClosed");
    jt_jw_object_end(&w);
    if (jt_jw_finish(&w) == JT_OK)
        for (jn_client *c = r->clients; c; c = c->next)
            if (c->streams & S_LEDGER)
                send_buf(c, &b);
    jt_buf_clear(&b);

    rpc_path_on_close(r);

    bool any = r->n_books > 0;
    for (jn_client *c = r->clients; c && !any; c = c->next)
        if ((c->streams & S_TX) || c->n_accts)
            any = true;
    uint8_t(*books)[32] = NULL;
    size_t books_cap = 0;
    for (size_t i = 0; any && i < closed->n; i++) {
        const jn_tx *t = closed->v[i];
        jt_obj *meta = NULL;
        jt_errinfo ei;
        jt_errinfo_clear(&ei);
        if (jt_obj_from_binary(t->meta_blob, t->meta_len, &meta, &ei) != JT_OK)
            meta = NULL;
        size_t nb = r->n_books && meta ? offer_books(meta, &books, &books_cap) : 0;
        bool send = false;
        for (jn_client *c = r->clients; c && !send; c = c->next)
            send = wants_tx(c, t, (const uint8_t(*)[32])books, nb);
        if (!send) {
            jt_obj_free(meta);
            continue;
        }
        jt_buf_init(&b);
        jt_jw_init(&w, &b);
        jt_jw_object_begin(&w);
        jw_engine_result(&w, t->ter);
        jt_jw_key(&w, "ledger_hash");
        jt_jw_hex(&w, h->hash, 32);
        jt_jw_key(&w, "ledger_index");
        jt_jw_uint(&w, h->seq);
        jt_jw_key(&w, "meta");
        if (meta)
            rpc_jw_meta(&w, meta, t->tx);
        else
            jt_jw_null(&w);
        jt_obj_free(meta);
        jt_jw_key(&w, "status");
        jt_jw_string(&w, "closed");
        jt_jw_key(&w, "transaction");
        rpc_jw_tx(&w, t->tx, t->id, h, false);
        jt_jw_key(&w, "type");
        jt_jw_string(&w, "transaction");
        jt_jw_key(&w, "validated");
        jt_jw_bool(&w, true);
        jt_jw_object_end(&w);
        if (jt_jw_finish(&w) == JT_OK)
            for (jn_client *c = r->clients; c; c = c->next)
                if (wants_tx(c, t, (const uint8_t(*)[32])books, nb))
                    send_buf(c, &b);
        jt_buf_clear(&b);
    }
    free(books);
}
