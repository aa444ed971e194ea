#include "common.h"

/* ---------------------------------------------------------------- jtp connections */

static void conn_flush(conn *c)
{
    const uint8_t *p;
    size_t n;
    jt_jtp_pending_output(c->j, &p, &n);
    while (n) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR)
                continue;
            node_check_gone();
            die("%s: send: %s", c->name, strerror(errno));
        }
        jt_jtp_consume_output(c->j, (size_t)w);
        jt_jtp_pending_output(c->j, &p, &n);
    }
}

static bool conn_has_output(const conn *c)
{
    const uint8_t *p;
    size_t n;
    jt_jtp_pending_output(c->j, &p, &n);
    return n > 0;
}

void conn_open(bench *b, conn *c, const char *name, bool admin)
{
    snprintf(c->name, sizeof c->name, "%s", name);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        die("socket: %s", strerror(errno));
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)b->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa))
        die("%s: connect 127.0.0.1:%d: %s", name, b->port, strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    jt_jtp_limits lim;
    jt_jtp_limits_init(&lim);
    lim.max_message = MAX_MSG;
    lim.max_queued = MAX_MSG + 1;
    lim.max_output = (size_t)256 << 20; /* a full window of submits always fits */
    jt_errinfo ei;
    const uint8_t *pk = admin ? jt_jtp_identity_public(b->me) : NULL;
    const uint8_t *sk = admin ? jt_jtp_identity_secret(b->me) : NULL;
    if (jt_jtp_new_client(b->node_pk, pk, sk, &lim, &c->j, &ei) != JT_OK)
        die("%s: jtp client: %s", name, ei.msg);
    conn_flush(c);
}

void conn_close(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    jt_jtp_free(c->j);
    c->j = NULL;
}

/* ---- message handling ---- */

static void note_result(bench *b, int ter)
{
    for (int i = 0; i < b->nsub_codes; i++)
        if (b->sub_codes[i] == ter) {
            b->sub_results[i]++;
            return;
        }
    if (b->nsub_codes < 8) {
        b->sub_codes[b->nsub_codes] = ter;
        b->sub_results[b->nsub_codes++] = 1;
    }
}

const char *ter_name(int ter)
{
    const jt_ter *t = jt_ter_by_code(ter);
    return t ? t->token : "?";
}

static ledger_rec *ledger_get(bench *b, uint32_t seq)
{
    for (size_t i = b->nledgers; i-- > 0;)
        if (b->ledgers[i].seq == seq)
            return &b->ledgers[i];
    if (b->nledgers >= MAX_LEDGERS)
        die("more than %d ledgers", MAX_LEDGERS);
    ledger_rec *l = &b->ledgers[b->nledgers++];
    memset(l, 0, sizeof *l);
    l->seq = seq;
    return l;
}

/* A transaction of the current set was found in validated ledger `seq`. */
static void mark_validated(bench *b, long k, uint32_t seq, double t)
{
    ptx *p = &b->cur->v[k];
    if (p->state == P_VALIDATED)
        return;
    p->state = P_VALIDATED;
    p->t_val = t;
    p->ledger = seq;
    b->validated++;
    b->t_last_val = t;
    ledger_rec *l = ledger_get(b, seq);
    l->ours++;
    if (t > l->t_known)
        l->t_known = t;
}

/* Its final result, from the ledger's metadata. */
static void set_result(bench *b, long k, int ter)
{
    ptx *p = &b->cur->v[k];
    if (p->has_result)
        return;
    p->has_result = true;
    p->ter_val = (int16_t)ter;
    if (ter == 0) {
        b->val_tes++;
        ledger_get(b, p->ledger)->tes++;
    }
}

static long find_tx(bench *b, const uint8_t id[32])
{
    return b->cur ? idmap_find(&b->cur->map, id) : -1;
}

/* The result token starting at `tok` (up to the next '"', which *end
 * gets), or NULL. */
static const jt_ter *ter_at(const char *tok, const char **end)
{
    const char *q = strchr(tok, '"');
    *end = q;
    if (!q || q - tok > 40)
        return NULL;
    char name[48];
    memcpy(name, tok, (size_t)(q - tok));
    name[q - tok] = 0;
    return jt_ter_by_token(name);
}

/* {"id":K,"result":{"engine_result":"tesSUCCESS",...}: the fast path for
 * the bulk of the traffic; anything else goes through the JSON parser. */
static bool submit_reply_fast(bench *b, conn *c, const char *msg, size_t len, double t)
{
    if (len < 40 || strncmp(msg, "{\"id\":", 6))
        return false;
    char *end;
    unsigned long long k = strtoull(msg + 6, &end, 10);
    if (k >= CTRL_ID)
        return false;
    static const char pre[] = ",\"result\":{\"engine_result\":\"";
    if (strncmp(end, pre, sizeof pre - 1))
        return false;
    const char *q;
    const jt_ter *ter = ter_at(end + sizeof pre - 1, &q);
    if (!ter)
        return false;
    if (!b->cur || k >= b->cur->n)
        die("reply for transaction %llu, which was not sent", k);
    ptx *p = &b->cur->v[k];
    if (p->t_ack > 0 || p->state == P_UNSENT)
        die("%s: a second reply for transaction %llu, or one for a transaction not sent", c->name,
            k);
    p->t_ack = t;
    p->ter_sub = (int16_t)ter->code;
    b->t_last_ack = t;
    c->inflight--;
    /* Claimed (tes, tec) transactions will be in a ledger; others never. The
     * stream (another connection) may have shown it validated already. */
    if (ter->code == 0 || (ter->code >= 100 && ter->code < 256)) {
        if (p->state == P_SENT)
            p->state = P_ACKED;
        b->acked++;
    } else {
        p->state = P_REJECTED;
        b->rejected++;
    }
    if (ter->code != 0)
        note_result(b, ter->code);
    return true;
}

/* A "transaction" stream message (validated). */
static bool stream_tx_fast(bench *b, const char *msg, double t)
{
    static const char pre[] = "{\"engine_result\":\"";
    if (strncmp(msg, pre, sizeof pre - 1))
        return false;
    const char *q;
    const jt_ter *ter = ter_at(msg + sizeof pre - 1, &q);
    if (!ter)
        return false;
    const char *li = strstr(q, "\"ledger_index\":");
    const char *tr = strstr(q, "\"transaction\":{");
    const char *h = tr ? strstr(tr, "\"hash\":\"") : NULL;
    if (!li || !h || !strstr(q, "\"validated\":true"))
        return false;
    uint32_t seq = (uint32_t)strtoul(li + 15, NULL, 10);
    uint8_t id[32];
    size_t n = 0;
    if (jt_hex_decode(h + 8, 64, id, sizeof id, &n) != JT_OK || n != 32)
        return false;
    long k = find_tx(b, id);
    if (k >= 0) {
        mark_validated(b, k, seq, t);
        set_result(b, k, ter->code);
        ledger_get(b, seq)->results = true;
    } else {
        b->other_ledger_txs++;
    }
    return true;
}

/* Asks for ledger `seq`'s transactions: their IDs only (what the load
 * tracks: small replies, so the node spends little on them), or in binary
 * with metadata (for the results, fetched after a round). */
void request_ledger(bench *b, uint32_t seq, bool binary)
{
    char req[200];
    int n = snprintf(req, sizeof req,
                     "{\"id\":%" PRIu64 ",\"command\":\"ledger\",\"ledger_index\":%" PRIu32
                     ",\"transactions\":true%s}",
                     (uint64_t)((binary ? RESULT_ID : LEDGER_ID) + seq), seq,
                     binary ? ",\"expand\":true,\"binary\":true" : "");
    jt_errinfo ei;
    if (jt_jtp_send(b->ctl.j, req, (size_t)n, &ei) != JT_OK)
        die("ctl: sending a ledger request: %s", ei.msg);
    conn_flush(&b->ctl);
}

static void on_ledger_closed(bench *b, const jt_json *root, double t)
{
    uint64_t seq = 0, cnt = 0;
    if (!jt_json_uint64(jt_json_get(root, "ledger_index"), true, &seq) ||
        !jt_json_uint64(jt_json_get(root, "txn_count"), true, &cnt))
        die("ledgerClosed without ledger_index or txn_count");
    ledger_rec *l = ledger_get(b, (uint32_t)seq);
    l->t_closed = t;
    l->txn_count = (uint32_t)cnt;
    if (seq > b->last_closed)
        b->last_closed = (uint32_t)seq;
    if (cnt == 0)
        l->results = true;
    else if (!b->stream)
        request_ledger(b, (uint32_t)seq, false);
}

/* What an OfferCreate did to the books, from its metadata: offers of
 * other accounts it took from (ModifiedNode: in part, DeletedNode: in full)
 * and whether its own offer was placed (CreatedNode). */
static void offer_meta(ptx *p, const jt_obj *meta)
{
    static const jt_field *f_nodes, *f_type, *f_created, *f_deleted;
    if (!f_nodes) {
        f_nodes = jt_field_by_name("AffectedNodes");
        f_type = jt_field_by_name("LedgerEntryType");
        f_created = jt_field_by_name("CreatedNode");
        f_deleted = jt_field_by_name("DeletedNode");
    }
    unsigned crossed = 0, taken = 0;
    bool placed = false;
    size_t n = jt_obj_array_len(meta, f_nodes->name);
    for (size_t i = 0; i < n; i++) {
        const jt_field *wrap = NULL;
        const jt_obj *node = jt_obj_array_at(meta, f_nodes->name, i, &wrap);
        uint64_t type = 0;
        if (!node || jt_obj_get_uint_f(node, f_type, &type) != JT_OK || type != 0x6F /* Offer */)
            continue;
        if (wrap == f_created) {
            placed = true;
        } else {
            crossed++;
            taken += wrap == f_deleted;
        }
    }
    p->crossed = (uint8_t)(crossed > 255 ? 255 : crossed);
    p->taken = (uint8_t)(taken > 255 ? 255 : taken);
    p->placed = placed;
}

/* Did a cross-currency payment (xpay mode) deliver its Amount? Read from
 * its metadata as a `tx` reply's delivered_amount would be, but checked
 * against the ledger's own change: the Destination's trust line
 * (RippleState) must have grown by exactly the Amount, seen from the
 * Destination's side, and a DeliveredAmount, if the node wrote one, must
 * equal the Amount. */
static bool xpay_delivered(const uint8_t *blob, size_t n, const jt_obj *meta, uint32_t seq)
{
    static const jt_field *f_nodes, *f_type, *f_modified;
    if (!f_nodes) {
        f_nodes = jt_field_by_name("AffectedNodes");
        f_type = jt_field_by_name("LedgerEntryType");
        f_modified = jt_field_by_name("ModifiedNode");
    }
    jt_obj *tx = NULL;
    jt_amount amt, d;
    jt_account_id dst;
    if (jt_obj_from_binary(blob, n, &tx, NULL) != JT_OK ||
        jt_obj_get_amount(tx, "Amount", &amt) != JT_OK ||
        jt_obj_get_account(tx, "Destination", &dst) != JT_OK)
        die("ledger %" PRIu32 ": an unreadable payment", seq);
    jt_obj_free(tx);
    if (jt_obj_get_amount(meta, "DeliveredAmount", &d) == JT_OK && jt_amount_cmp(&d, &amt))
        return false;
    size_t lines = 0, nn = jt_obj_array_len(meta, f_nodes->name);
    bool ok = false;
    for (size_t i = 0; i < nn; i++) {
        const jt_field *wrap = NULL;
        const jt_obj *node = jt_obj_array_at(meta, f_nodes->name, i, &wrap), *fin, *prev;
        uint64_t type = 0;
        jt_amount lo, hi, bal, bal0, delta;
        if (!node || wrap != f_modified || jt_obj_get_uint_f(node, f_type, &type) != JT_OK ||
            type != 0x72 /* RippleState */ ||
            jt_obj_get_object(node, "FinalFields", &fin) != JT_OK ||
            jt_obj_get_amount(fin, "LowLimit", &lo) != JT_OK ||
            jt_obj_get_amount(fin, "HighLimit", &hi) != JT_OK)
            continue;
        bool low = !memcmp(lo.issuer.bytes, dst.bytes, 20);
        if (!low && memcmp(hi.issuer.bytes, dst.bytes, 20))
            continue; /* another account's line */
        lines++;
        if (jt_obj_get_amount(fin, "Balance", &bal) != JT_OK ||
            jt_obj_get_object(node, "PreviousFields", &prev) != JT_OK ||
            jt_obj_get_amount(prev, "Balance", &bal0) != JT_OK ||
            jt_amount_sub(&bal, &bal0, &delta) != JT_OK)
            continue; /* the balance did not change */
        if (!low)
            jt_amount_negate(&delta);
        ok = jt_amount_cmp(&delta, &amt) == 0;
    }
    return ok && lines == 1;
}

/* One transaction's result, from its blob and metadata in hex: `seq` is
 * the ledger that holds it, `what` names the reply for errors. Returns
 * false when the transaction is not one of the set being tracked. */
static bool take_result(bench *b, uint32_t seq, const char *bh, const char *mh, uint8_t *blob,
                        const char *what)
{
    uint8_t id[32];
    size_t n = 0;
    if (!bh || !mh || jt_hex_decode(bh, strlen(bh), blob, JT_CODEC_MAX_BYTES, &n) != JT_OK)
        die("ledger %" PRIu32 ": %s is not binary", seq, what);
    jt_tx_blob_id(blob, n, id);
    long k = find_tx(b, id);
    if (k < 0)
        return false;
    jt_obj *meta = NULL;
    uint64_t res = 0;
    if (jt_obj_from_hex(mh, strlen(mh), &meta, NULL) != JT_OK ||
        jt_obj_get_uint(meta, "TransactionResult", &res) != JT_OK)
        die("ledger %" PRIu32 ": unreadable metadata in %s", seq, what);
    ptx *p = &b->cur->v[k];
    if (p->state != P_VALIDATED || p->ledger != seq)
        die("ledger %" PRIu32 ": holds a transaction its ID list did not show", seq);
    set_result(b, k, (int)res);
    if (b->offer_meta && p->kind != K_OTHER) {
        offer_meta(p, meta);
        if (p->kind == K_XPAY)
            p->delivered = res == 0 && xpay_delivered(blob, n, meta, seq);
        if (((p->kind == K_TAKER && res == 0) || (p->kind == K_XPAY && p->delivered)) && p->crossed)
            ledger_get(b, seq)->cross++;
    }
    jt_obj_free(meta);
    return true;
}

/* A ledger whose transactions with metadata do not fit in one reply (the
 * node answers an error): its results are asked for one transaction at a
 * time (`tx`, binary), those of the set being tracked that it holds. */
static void results_by_tx(bench *b, ledger_rec *l)
{
    l->by_tx = true;
    for (size_t k = 0; k < b->cur->n; k++) {
        const ptx *p = &b->cur->v[k];
        if (p->state != P_VALIDATED || p->ledger != l->seq)
            continue;
        if (b->txr_n == b->txr_cap) {
            b->txr_cap = b->txr_cap ? b->txr_cap * 2 : 65536;
            b->txr_queue = realloc(b->txr_queue, b->txr_cap * sizeof *b->txr_queue);
            if (!b->txr_queue)
                die("out of memory");
        }
        b->txr_queue[b->txr_n++] = (uint32_t)k;
    }
}

/* Keeps up to 256 of the queued `tx` requests outstanding on ctl. */
static void txr_send(bench *b)
{
    while (b->txr_inflight < 256 && b->txr_next < b->txr_n) {
        uint32_t k = b->txr_queue[b->txr_next++];
        char req[200], hex[65];
        jt_hex_encode(b->cur->v[k].id, 32, hex, sizeof hex);
        int n = snprintf(req, sizeof req,
                         "{\"id\":%" PRIu64
                         ",\"command\":\"tx\",\"transaction\":\"%s\",\"binary\":true}",
                         (uint64_t)(TXR_ID + k), hex);
        jt_errinfo ei;
        if (jt_jtp_send(b->ctl.j, req, (size_t)n, &ei) != JT_OK)
            die("ctl: sending a tx request: %s", ei.msg);
        b->txr_inflight++;
    }
    conn_flush(&b->ctl);
}

static void on_tx_reply(bench *b, uint64_t k, const jt_json *root)
{
    const jt_json *r = jt_json_get(root, "result");
    uint64_t seq = 0;
    if (k >= b->cur->n || !b->txr_inflight)
        die("ctl: a tx reply for a request not sent");
    b->txr_inflight--;
    if (!jt_json_uint64(jt_json_get(r, "ledger_index"), true, &seq)) {
        const char *err = jt_json_string(jt_json_get(root, "error"));
        die("tx %" PRIu64 ": reply without a ledger (%s)", k, err ? err : "no error given");
    }
    uint8_t *blob = malloc(JT_CODEC_MAX_BYTES);
    if (!blob)
        die("out of memory");
    if (!take_result(b, (uint32_t)seq, jt_json_string(jt_json_get(r, "tx")),
                     jt_json_string(jt_json_get(r, "meta")), blob, "a tx reply"))
        die("tx %" PRIu64 ": not a transaction of the benchmark", k);
    free(blob);
    /* A ledger fetched this way is done when none of its requests is left. */
    if (b->txr_inflight == 0 && b->txr_next == b->txr_n) {
        for (size_t i = 0; i < b->nledgers; i++)
            if (b->ledgers[i].by_tx && !b->ledgers[i].results)
                b->ledgers[i].results = true;
        b->txr_n = b->txr_next = 0;
    } else {
        txr_send(b);
    }
}

static void on_ledger_reply(bench *b, uint32_t seq, const jt_json *root, double t, bool binary)
{
    const jt_json *txs =
        jt_json_get(jt_json_get(jt_json_get(root, "result"), "ledger"), "transactions");
    if (!txs || txs->kind != JT_JSON_ARRAY) {
        const char *err = jt_json_string(jt_json_get(root, "error"));
        if (binary && b->cur) {
            ledger_rec *l = ledger_get(b, seq);
            results_by_tx(b, l);
            if (b->txr_next == b->txr_n && !b->txr_inflight)
                l->results = true; /* none of ours in it */
            else
                txr_send(b);
            return;
        }
        die("ledger %" PRIu32 ": reply without transactions (%s)", seq,
            err ? err : "no error given");
    }
    uint8_t *blob = binary ? malloc(JT_CODEC_MAX_BYTES) : NULL;
    if (binary && !blob)
        die("out of memory");
    for (size_t i = 0; i < txs->u.arr.n; i++) {
        const jt_json *e = txs->u.arr.items[i];
        if (!binary) {
            uint8_t id[32];
            size_t n = 0;
            const char *h = jt_json_string(e);
            if (!h || jt_hex_decode(h, strlen(h), id, sizeof id, &n) != JT_OK || n != 32)
                die("ledger %" PRIu32 ": transaction %zu is not a hash", seq, i);
            long k = find_tx(b, id);
            if (k >= 0)
                mark_validated(b, k, seq, t);
            else
                b->other_ledger_txs++;
            continue;
        }
        (void)take_result(b, seq, jt_json_string(jt_json_get(e, "tx_blob")),
                          jt_json_string(jt_json_get(e, "meta")), blob, "a transaction");
    }
    free(blob);
    if (binary)
        ledger_get(b, seq)->results = true;
}

/* Latency of request n, answered at t, when it was sent in the window. */
static void book_latency(book_run *r, size_t n, double t)
{
    if (r->t_send[n] < r->t_start)
        return;
    if (r->nlat == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 65536;
        r->lat = realloc(r->lat, r->cap * sizeof *r->lat);
        if (!r->lat)
            die("out of memory");
    }
    r->lat[r->nlat++] = (t - r->t_send[n]) * 1e3;
}

/* A skywell_path_find reply (pathfind mode), request n: it must be a
 * success; it counts when it holds at least one alternative, told by its
 * "paths_computed" members (one per alternative), without parsing it.
 * Latency: every successful reply to a request sent in the window. */
static bool path_reply(book_run *r, const char *msg, size_t len, size_t n, double t)
{
    static const char ok_end[] = ",\"status\":\"success\",\"type\":\"response\"}";
    static const char alt[] = "\"paths_computed\":";
    const char *end = msg + len;
    bool ok = len > sizeof ok_end &&
              !memcmp(end - (sizeof ok_end - 1), ok_end, sizeof ok_end - 1) &&
              memmem(msg, len, "\"alternatives\":[", 16);
    if (!ok) {
        if (!r->bad++)
            snprintf(r->first_bad, sizeof r->first_bad, "%.200s", msg);
        return true;
    }
    if (t < r->t_start || t > r->t_end)
        return true;
    if (memmem(msg, len, alt, sizeof alt - 1))
        r->replies++;
    else
        r->none++;
    if (memmem(msg, len, "\"full_reply\":false", 18))
        r->partial++;
    book_latency(r, n, t);
    return true;
}

/* A book_offers reply: {"id":K,"result":{...,"offers":[...]},"status":"success",...}.
 * Checked by counting its offers, without parsing it (a parse would cost
 * the benchmark more than the node spends on the request). */
static bool book_reply_fast(bench *b, conn *c, const char *msg, size_t len, double t)
{
    static const char ok_end[] = ",\"status\":\"success\",\"type\":\"response\"}";
    static const char offer[] = "\"LedgerEntryType\":\"Offer\"";
    if (len < 40 || strncmp(msg, "{\"id\":", 6))
        return false;
    unsigned long long id = strtoull(msg + 6, NULL, 10);
    if (id < BOOK_ID || id >= TXR_ID)
        return false;
    book_run *r = &b->br;
    size_t n = (size_t)(id - BOOK_ID);
    if (n >= r->sent || !c->inflight)
        die("%s: a book_offers reply for a request not sent", c->name);
    c->inflight--;
    if (b->pf_req)
        return path_reply(r, msg, len, n, t);
    size_t offers = 0;
    const char *p = msg, *end = msg + len;
    while ((p = memmem(p, (size_t)(end - p), offer, sizeof offer - 1))) {
        offers++;
        p += sizeof offer - 1;
    }
    bool ok = len > sizeof ok_end &&
              !memcmp(end - (sizeof ok_end - 1), ok_end, sizeof ok_end - 1) &&
              memmem(msg, len, "\"offers\":[", 10) && offers == r->expect;
    if (!ok) {
        if (!r->bad++)
            snprintf(r->first_bad, sizeof r->first_bad, "%zu offers in: %.200s", offers, msg);
        return true;
    }
    if (t < r->t_start || t > r->t_end)
        return true;
    r->replies++;
    book_latency(r, n, t);
    return true;
}

static void dispatch(bench *b, conn *c, const char *msg, size_t len)
{
    double t = now();
    if (submit_reply_fast(b, c, msg, len, t) || book_reply_fast(b, c, msg, len, t))
        return;
    if (b->stream && stream_tx_fast(b, msg, t))
        return;
    jt_json_limits lim = {.max_bytes = MAX_MSG, .max_depth = 32, .max_items = 50000000};
    jt_json_doc *doc = NULL;
    jt_errinfo ei;
    if (jt_json_parse(msg, len, &lim, &doc, &ei) != JT_OK)
        die("%s: unparsable message from the node: %s", c->name, ei.msg);
    const jt_json *root = jt_json_root(doc);
    const char *type = jt_json_string(jt_json_get(root, "type"));
    uint64_t id = 0;
    bool has_id = jt_json_uint64(jt_json_get(root, "id"), false, &id);
    if (type && !strcmp(type, "ledgerClosed")) {
        on_ledger_closed(b, root, t);
    } else if (has_id && id >= TXR_ID) {
        on_tx_reply(b, id - TXR_ID, root);
    } else if (has_id && id >= BOOK_ID) {
        die("%s: %s failed: %.300s", c->name, b->pf_req ? "skywell_path_find" : "book_offers", msg);
    } else if (has_id && id >= RESULT_ID) {
        on_ledger_reply(b, (uint32_t)(id - RESULT_ID), root, t, true);
    } else if (has_id && id >= LEDGER_ID) {
        on_ledger_reply(b, (uint32_t)(id - LEDGER_ID), root, t, false);
    } else if (has_id && id >= CTRL_ID && id == b->ctrl_wait) {
        b->ctrl_reply = doc;
        return;
    } else if (has_id && id < CTRL_ID) {
        /* A submit that failed as a request (not an engine result). */
        const char *err = jt_json_string(jt_json_get(root, "error"));
        const char *em = jt_json_string(jt_json_get(root, "error_message"));
        die("%s: submit %" PRIu64 " failed: %s%s%s", c->name, id, err ? err : "?", em ? ": " : "",
            em ? em : "");
    } else if (type && !strcmp(type, "error")) {
        die("%s: the node sent an error: %.300s", c->name, msg);
    }
    /* Anything else (a stream message we do not follow) is ignored. */
    jt_json_doc_free(doc);
}

static void conn_read(bench *b, conn *c)
{
    for (int rounds = 0; rounds < 8; rounds++) {
        ssize_t r = recv(c->fd, b->rbuf, READ_CHUNK, 0);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR)
                continue;
            node_check_gone();
            die("%s: recv: %s", c->name, strerror(errno));
        }
        if (r == 0) {
            node_check_gone();
            die("%s: the node closed the connection", c->name);
        }
        jt_errinfo ei;
        if (jt_jtp_feed(c->j, (const uint8_t *)b->rbuf, (size_t)r, &ei) != JT_OK)
            die("%s: jtp: %s", c->name, ei.msg);
        const char *msg;
        size_t len;
        while (jt_jtp_next_message(c->j, &msg, &len))
            dispatch(b, c, msg, len);
        conn_flush(c); /* handshake replies */
        if ((size_t)r < READ_CHUNK)
            return;
    }
}

/* Sends transactions on `c` until its window is full. */
static void conn_top_up(bench *b, conn *c)
{
    if (jt_jtp_get_state(c->j) != JT_JTP_OPEN || !b->submitting)
        return;
    bool any = false;
    while (c->inflight < b->window && c->next < c->norder) {
        if (b->deadline > 0 && now() >= b->deadline)
            break;
        ptx *p = &b->cur->v[c->order[c->next]];
        jt_errinfo ei;
        if (jt_jtp_send(c->j, p->req, p->req_len, &ei) != JT_OK)
            die("%s: jtp send: %s", c->name, ei.msg);
        double t = now();
        p->t_sub = t;
        p->state = P_SENT;
        p->round = (uint8_t)b->round_no;
        if (!b->sent++)
            b->t_first_sub = t;
        b->t_last_sub = t;
        c->next++;
        c->inflight++;
        any = true;
    }
    if (any)
        conn_flush(c);
}

/* Sends book_offers requests on `c` until its window is full. */
static void book_top_up(bench *b, conn *c)
{
    book_run *r = &b->br;
    if (jt_jtp_get_state(c->j) != JT_JTP_OPEN || !r->sending)
        return;
    bool any = false;
    size_t window = b->pf_req ? b->pf_window : b->book_window;
    while (c->inflight < window) {
        if (r->sent == r->tcap) {
            r->tcap = r->tcap ? r->tcap * 2 : 65536;
            r->t_send = realloc(r->t_send, r->tcap * sizeof *r->t_send);
            if (!r->t_send)
                die("out of memory");
        }
        char req[1024];
        int n = snprintf(req, sizeof req, "{\"id\":%llu,%s}", BOOK_ID + (unsigned long long)r->sent,
                         b->pf_req ? b->pf_req[r->sent % b->npf_req] : b->book_req);
        if (n < 0 || (size_t)n >= sizeof req)
            die("%s: a request too long", c->name);
        jt_errinfo ei;
        if (jt_jtp_send(c->j, req, (size_t)n, &ei) != JT_OK)
            die("%s: jtp send: %s", c->name, ei.msg);
        r->t_send[r->sent++] = now();
        c->inflight++;
        any = true;
    }
    if (any)
        conn_flush(c);
}

/* One round of I/O on every connection; waits at most timeout_ms. */
void pump(bench *b, int timeout_ms)
{
    struct pollfd pf[2 * MAX_CONNS + 1];
    conn *cs[2 * MAX_CONNS + 1];
    int n = 0;
    cs[n++] = &b->ctl;
    for (int i = 0; i < b->nconns; i++)
        if (b->load[i].j)
            cs[n++] = &b->load[i];
    for (int i = 0; i < b->nbook; i++)
        if (b->book[i].j)
            cs[n++] = &b->book[i];
    for (int i = 0; i < n; i++) {
        if (cs[i] >= b->book && cs[i] < b->book + MAX_CONNS)
            book_top_up(b, cs[i]);
        else if (cs[i] != &b->ctl)
            conn_top_up(b, cs[i]);
        pf[i].fd = cs[i]->fd;
        pf[i].events = (short)(POLLIN | (conn_has_output(cs[i]) ? POLLOUT : 0));
        pf[i].revents = 0;
    }
    int r = poll(pf, (nfds_t)n, timeout_ms);
    if (r < 0 && errno != EINTR)
        die("poll: %s", strerror(errno));
    for (int i = 0; r > 0 && i < n; i++) {
        if (pf[i].revents & POLLOUT)
            conn_flush(cs[i]);
        if (pf[i].revents & (POLLIN | POLLERR | POLLHUP))
            conn_read(b, cs[i]);
    }
}

void wait_open(bench *b, conn *c)
{
    double t0 = now();
    while (jt_jtp_get_state(c->j) != JT_JTP_OPEN) {
        if (jt_jtp_get_state(c->j) == JT_JTP_FAILED)
            die("%s: jtp handshake failed: %s", c->name, jt_jtp_error(c->j)->msg);
        if (now() - t0 > 10)
            die("%s: no jtp session after 10 s", c->name);
        node_check_alive();
        pump(b, 50);
    }
}

static jt_json_doc *ctrl_vcall(bench *b, double timeout, bool must_succeed, const char *fmt,
                               va_list ap) __attribute__((format(printf, 4, 0)));
static jt_json_doc *ctrl_vcall(bench *b, double timeout, bool must_succeed, const char *fmt,
                               va_list ap)
{
    char req[1024];
    uint64_t id = CTRL_ID + b->ctrl_next++;
    int n = snprintf(req, sizeof req, "{\"id\":%" PRIu64 ",", id);
    n += vsnprintf(req + n, sizeof req - (size_t)n, fmt, ap);
    n += snprintf(req + n, sizeof req - (size_t)n, "}");
    jt_errinfo ei;
    if (jt_jtp_send(b->ctl.j, req, (size_t)n, &ei) != JT_OK)
        die("ctl: send: %s", ei.msg);
    conn_flush(&b->ctl);
    b->ctrl_wait = id;
    b->ctrl_reply = NULL;
    double t0 = now();
    while (!b->ctrl_reply) {
        if (now() - t0 > timeout)
            die("no reply within %.0f s to %s", timeout, req);
        node_check_alive();
        pump(b, 50);
    }
    b->ctrl_wait = 0;
    const jt_json *root = jt_json_root(b->ctrl_reply);
    const char *status = jt_json_string(jt_json_get(root, "status"));
    if (must_succeed && (!status || strcmp(status, "success"))) {
        const char *err = jt_json_string(jt_json_get(root, "error"));
        die("%s failed: %s", req, err ? err : "no status");
    }
    return b->ctrl_reply;
}

/* Sends a control request on the ctl connection and waits for its reply,
 * which must be a success. `fmt` is the request without the id: it is
 * inserted first. */
jt_json_doc *ctrl_call(bench *b, double timeout, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    jt_json_doc *d = ctrl_vcall(b, timeout, true, fmt, ap);
    va_end(ap);
    return d;
}

/* The same, returning whatever the node answered (an error too). */
jt_json_doc *ctrl_call_any(bench *b, double timeout, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    jt_json_doc *d = ctrl_vcall(b, timeout, false, fmt, ap);
    va_end(ap);
    return d;
}
