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
    unsigned cap = q->rpc->cfg.max_accounts_per_conn;
    if (av->u.arr.n > cap)
        return rpc_fail(q, "invalidParams", "At most %u accounts per request (max_accounts_per_conn).",
                        cap);
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

/* ---------------------------------------------------------------- accounts
 *
 * A client's accounts are kept sorted, and each is also in the rpc's index
 * (acct, or acct_p for accounts_proposed) with the client among its
 * subscribers: the client's list answers "is it subscribed", the index
 * "who is". */

typedef struct acct_list {
    jt_account_id **v;
    size_t *n;
    jn_acctidx *idx;
} acct_list;

static int acct_cmp(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(jt_account_id));
}

static bool has_acct(const jt_account_id *v, size_t n, const jt_account_id *a)
{
    return n && bsearch(a, v, n, sizeof *v, acct_cmp);
}

/* Sorts the accounts of a request and keeps those that would change the
 * list: distinct, and absent from it (adding) or present (removing).
 * Returns how many. */
static size_t acct_changes(jt_account_id *v, size_t n, const acct_list *l, bool remove)
{
    if (n)
        qsort(v, n, sizeof *v, acct_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && !acct_cmp(&v[k - 1], &v[i]))
            continue;
        if (has_acct(*l->v, *l->n, &v[i]) == remove)
            v[k++] = v[i];
    }
    return k;
}

/* Takes the sorted accounts `rm` (all in the list) out of c's list and
 * the index. */
static void acct_remove(jn_client *c, const acct_list *l, const jt_account_id *rm, size_t n)
{
    size_t k = 0, j = 0;
    for (size_t i = 0; i < *l->n; i++) {
        if (j < n && !acct_cmp(&(*l->v)[i], &rm[j])) {
            jn_acctidx_remove(l->idx, &rm[j++], c);
            continue;
        }
        (*l->v)[k++] = (*l->v)[i];
    }
    *l->n = k;
}

/* Adds the sorted accounts `add` (none in the list) to c's list and the
 * index. -1 on ENOMEM, with nothing added. */
static int acct_add(jn_client *c, const acct_list *l, const jt_account_id *add, size_t n)
{
    if (!n)
        return 0;
    jt_account_id *m = malloc((*l->n + n) * sizeof *m);
    if (!m)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (jn_acctidx_add(l->idx, &add[i], c)) {
            while (i--)
                jn_acctidx_remove(l->idx, &add[i], c);
            free(m);
            return -1;
        }
    size_t i = 0, j = 0, k = 0;
    while (i < *l->n || j < n)
        m[k++] = j == n || (i < *l->n && acct_cmp(&(*l->v)[i], &add[j]) < 0) ? (*l->v)[i++]
                                                                             : add[j++];
    free(*l->v);
    *l->v = m;
    *l->n = k;
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

/* The book directions of a request that would change c's books: distinct,
 * and absent from them (adding) or present (removing), into a new array
 * (*out, free it). Returns how many, or -1 on ENOMEM. */
static long book_changes(jn_client *c, const book_req *b, size_t n, bool remove,
                         uint8_t (**out)[32])
{
    uint8_t(*add)[32] = calloc(2 * n + 1, 32);
    size_t na = 0;
    *out = add;
    if (!add)
        return -1;
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
    return (long)na;
}

static void books_remove(jn_rpc *r, jn_client *c, const uint8_t (*rm)[32], size_t n)
{
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < c->n_books; i++)
            if (!memcmp(c->books[i], rm[k], 32)) {
                memcpy(c->books[i], c->books[--c->n_books], 32);
                r->n_books--;
                break;
            }
}

/* Appends the books (none of them c's yet). -1 on ENOMEM, nothing added. */
static int books_add(jn_rpc *r, jn_client *c, const uint8_t (*add)[32], size_t n)
{
    if (!n)
        return 0;
    uint8_t(*nb)[32] = realloc(c->books, (c->n_books + n) * 32);
    if (!nb)
        return -1;
    c->books = nb;
    memcpy(c->books[c->n_books], add, n * 32);
    c->n_books += n;
    r->n_books += n;
    return 0;
}

/* Which clients the transaction streams go to is counted, so that a
 * message with no stream subscriber costs no scan of the clients. */
static void count_stream(size_t *n, unsigned was, unsigned is, unsigned bit)
{
    if ((is & bit) && !(was & bit))
        (*n)++;
    else if ((was & bit) && !(is & bit))
        (*n)--;
}

static void set_streams(jn_rpc *r, jn_client *c, unsigned streams)
{
    count_stream(&r->n_stream_tx, c->streams, streams, S_TX);
    count_stream(&r->n_stream_txp, c->streams, streams, S_TX_PROPOSED);
    c->streams = streams;
}

void rpc_stream_forget(jn_rpc *r, jn_client *c)
{
    set_streams(r, c, 0);
    for (size_t i = 0; i < c->n_accts; i++)
        jn_acctidx_remove(&r->acct, &c->accts[i], c);
    for (size_t i = 0; i < c->n_accts_p; i++)
        jn_acctidx_remove(&r->acct_p, &c->accts_p[i], c);
    c->n_accts = c->n_accts_p = 0;
}

/* Changes c's books and accounts as the request asks. Adding checks every
 * limit first, and a request that would pass one, or that runs out of
 * memory half-way, changes nothing. 0, or -1 with the error in q. */
static int apply_subs(req *q, const book_req *b, size_t nb, jt_account_id *a, size_t na,
                      jt_account_id *ap, size_t nap, bool remove)
{
    jn_rpc *r = q->rpc;
    jn_client *c = q->cl;
    const acct_list la = {&c->accts, &c->n_accts, &r->acct};
    const acct_list lp = {&c->accts_p, &c->n_accts_p, &r->acct_p};
    uint8_t(*books)[32];
    long k = book_changes(c, b, nb, remove, &books);
    if (k < 0)
        return rpc_fail(q, "internal", NULL);
    size_t nbk = (size_t)k;
    na = acct_changes(a, na, &la, remove);
    nap = acct_changes(ap, nap, &lp, remove);
    int rc = 0;
    if (remove) {
        books_remove(r, c, (const uint8_t(*)[32])books, nbk);
        acct_remove(c, &la, a, na);
        acct_remove(c, &lp, ap, nap);
    } else if (c->n_books + nbk > r->cfg.max_books_per_conn) {
        rc = rpc_fail(q, "invalidParams",
                      "At most %u books per connection (each direction counts one).",
                      r->cfg.max_books_per_conn);
    } else if (r->n_books + nbk > r->cfg.max_books) {
        rc = rpc_fail(q, "tooBusy", "The node serves %u book subscriptions at most.",
                      r->cfg.max_books);
    } else if (c->n_accts + c->n_accts_p + na + nap > r->cfg.max_accounts_per_conn) {
        rc = rpc_fail(q, "invalidParams",
                      "At most %u accounts per connection (max_accounts_per_conn; accounts and "
                      "accounts_proposed together).",
                      r->cfg.max_accounts_per_conn);
    } else if (r->acct.pairs + r->acct_p.pairs + na + nap > r->cfg.max_accounts) {
        rc = rpc_fail(q, "tooBusy", "The node serves %u account subscriptions at most (max_accounts).",
                      r->cfg.max_accounts);
    } else if (books_add(r, c, (const uint8_t(*)[32])books, nbk)) {
        rc = rpc_fail(q, "internal", NULL);
    } else if (acct_add(c, &la, a, na)) {
        books_remove(r, c, (const uint8_t(*)[32])books, nbk);
        rc = rpc_fail(q, "internal", NULL);
    } else if (acct_add(c, &lp, ap, nap)) {
        acct_remove(c, &la, a, na);
        books_remove(r, c, (const uint8_t(*)[32])books, nbk);
        rc = rpc_fail(q, "internal", NULL);
    }
    free(books);
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
    int rc = apply_subs(q, b, nb, a, na, ap, nap, remove);
    free(a);
    free(ap);
    if (rc || remove) {
        if (!rc)
            set_streams(q->rpc, c, c->streams & ~streams);
        free(b);
        return rc;
    }
    set_streams(q->rpc, c, c->streams | streams);
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

/* The recipients of one message are gathered first (r->to, each client
 * once, marked with the message's number), so that a message nobody wants
 * is never written. Returns false when there is no room for them. */
static bool pick_begin(jn_rpc *r)
{
    r->pub_mark++;
    r->n_to = 0;
    if (r->to_cap >= r->n_clients)
        return true;
    jn_client **nt = realloc(r->to, r->n_clients * sizeof *nt);
    if (!nt)
        return false;
    r->to = nt;
    r->to_cap = r->n_clients;
    return true;
}

static void pick(jn_rpc *r, jn_client *c)
{
    if (c->pub_mark == r->pub_mark)
        return;
    c->pub_mark = r->pub_mark;
    r->to[r->n_to++] = c;
}

/* The subscribers of each account (in `idx`), once each. */
static void pick_accounts(jn_rpc *r, const jn_acctidx *idx, const jt_account_id *accts, size_t na)
{
    for (size_t i = 0; i < na && idx->pairs; i++) {
        size_t n;
        void *const *subs = jn_acctidx_find(idx, &accts[i], &n);
        for (size_t k = 0; k < n; k++)
            pick(r, subs[k]);
    }
}

static void send_picked(jn_rpc *r, const jt_buf *b)
{
    for (size_t i = 0; i < r->n_to; i++)
        send_push(r->to[i], b);
}

void rpc_publish_proposed(jn_rpc *r, const jt_obj *tx, const uint8_t id[32], int ter)
{
    jt_account_id accts[64];
    size_t na = jn_tx_accounts(tx, accts, 64);
    if (!pick_begin(r))
        return;
    if (r->n_stream_txp)
        for (jn_client *c = r->clients; c; c = c->next)
            if (c->streams & S_TX_PROPOSED)
                pick(r, c);
    pick_accounts(r, &r->acct_p, accts, na);
    if (!r->n_to)
        return;
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
        send_picked(r, &b);
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

/* The clients a closed transaction goes to, once each, whichever of their
 * subscriptions (transactions, accounts, books) it matches. The clients
 * are scanned only when some have the stream or books. */
static void pick_closed(jn_rpc *r, const jn_tx *t, const uint8_t (*books)[32], size_t nb)
{
    if (r->n_stream_tx || (r->n_books && nb))
        for (jn_client *c = r->clients; c; c = c->next)
            if ((c->streams & S_TX) || (c->n_books && wants_books(c, books, nb)))
                pick(r, c);
    pick_accounts(r, &r->acct, t->accts, t->n_accts);
}

static jt_obj *meta_of(const jn_tx *t)
{
    jt_obj *meta = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    if (jt_obj_from_binary(t->meta_blob, t->meta_len, &meta, &ei) != JT_OK)
        return NULL;
    return meta;
}

/* A closed ledger's transactions go out PUB_SLICE at a time, the loop
 * turning between slices: a busy ledger's announcement (thousands of
 * messages, each with its metadata) would otherwise hold every reply for
 * tens of milliseconds. Each ledger is finished before the next begins, so
 * a subscriber still sees ledgers, and the transactions in each, in order.
 *
 * With a timer to hand (jn_rpc_set_after), the slices are also spread out
 * in time: up to PUB_GAP_MAX_US apart, and the whole announcement within a
 * quarter of the close interval. The subscriber (a gateway following its
 * accounts) then reads and handles them between its other work instead of
 * in one burst, and neither side's replies queue behind a whole ledger. */
#define PUB_SLICE      64
#define PUB_GAP_MAX_US 2000u

/* One closed transaction to the clients it concerns. */
static void publish_tx(jn_rpc *r, const jn_tx *t)
{
    const jn_header *h = &r->pub_h;
    if (!pick_begin(r))
        return;
    /* The metadata is read before picking only when books need it. */
    jt_obj *meta = NULL;
    bool parsed = false;
    size_t nb = 0;
    if (r->n_books) {
        meta = meta_of(t);
        parsed = true;
        nb = meta ? offer_books(meta, &r->pub_books, &r->pub_books_cap) : 0;
    }
    pick_closed(r, t, (const uint8_t(*)[32])r->pub_books, nb);
    if (!r->n_to) {
        jt_obj_free(meta);
        return;
    }
    if (!parsed)
        meta = meta_of(t);
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
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
        send_picked(r, &b);
    jt_buf_clear(&b);
}

/* The wait between two slices of a ledger of n transactions. */
static unsigned pub_gap(const jn_rpc *r, size_t n)
{
    size_t slices = (n + PUB_SLICE - 1) / PUB_SLICE;
    if (!r->after || slices < 2)
        return 0;
    uint64_t spread_us = (uint64_t)(r->close_ms ? r->close_ms : 1000) * 1000 / 4;
    uint64_t gap = spread_us / (slices - 1);
    return gap < PUB_GAP_MAX_US ? (unsigned)gap : PUB_GAP_MAX_US;
}

/* Announces up to `max` of the transactions left; true when some remain. */
static bool publish_some(jn_rpc *r, size_t max)
{
    bool any = r->n_books || r->n_stream_tx || r->acct.pairs;
    for (size_t done = 0; any && r->pub_next < r->pub_n; done++) {
        if (done == max)
            return true;
        publish_tx(r, r->pub_v[r->pub_next++]);
    }
    r->pub_next = r->pub_n = 0; /* nobody wants the rest */
    return false;
}

static void publish_next(void *ctx);

/* A slice now; the rest after the loop's turn (or now, when no turn can
 * be arranged). */
static void publish_more(jn_rpc *r)
{
    if (r->pub_inline || !r->post) {
        (void)publish_some(r, SIZE_MAX);
        return;
    }
    if (!publish_some(r, PUB_SLICE) || r->pub_posted)
        return;
    if (r->pub_gap_us && r->after(r->after_ctx, r->pub_gap_us, publish_next, r) == 0) {
        r->pub_posted = true;
        return;
    }
    if (r->post(r->post_ctx, publish_next, r) == 0)
        r->pub_posted = true;
    else
        (void)publish_some(r, SIZE_MAX);
}

static void publish_next(void *ctx)
{
    jn_rpc *r = ctx;
    r->pub_posted = false;
    publish_more(r);
}

void jn_rpc_set_after(jn_rpc *r, int (*after)(void *actx, unsigned us, void (*cb)(void *ctx), void *ctx),
                      void *after_ctx, unsigned close_ms)
{
    r->after = after;
    r->after_ctx = after_ctx;
    r->close_ms = close_ms;
}

void rpc_publish_rest(jn_rpc *r)
{
    (void)publish_some(r, SIZE_MAX);
}

void rpc_publish_flush(jn_rpc *r)
{
    r->pub_inline = true;
    rpc_publish_rest(r);
}

/* Announces a ledger that has just become durable (from the closer). */
void rpc_publish_closed(void *ctx, const jn_txlist *closed)
{
    jn_rpc *r = ctx;
    /* The previous ledger's last slices go first. Its transactions are
     * intact until the ledger after this one is written. */
    (void)publish_some(r, SIZE_MAX);
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
                send_push(c, &b);
    jt_buf_clear(&b);

    rpc_path_on_close(r);

    if (!(r->n_books || r->n_stream_tx || r->acct.pairs) || !closed->n)
        return;
    if (closed->n > r->pub_cap) {
        jn_tx **v = realloc(r->pub_v, closed->n * sizeof *v);
        if (!v) {
            /* No room to keep the list: announced at once from the
             * closer's. */
            r->pub_h = *h;
            for (size_t i = 0; i < closed->n; i++)
                publish_tx(r, closed->v[i]);
            return;
        }
        r->pub_v = v;
        r->pub_cap = closed->n;
    }
    memcpy(r->pub_v, closed->v, closed->n * sizeof *r->pub_v);
    r->pub_n = closed->n;
    r->pub_next = 0;
    r->pub_h = *h;
    r->pub_gap_us = pub_gap(r, closed->n);
    publish_more(r);
}
