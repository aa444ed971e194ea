/*
 * cmd_account.c — the commands that read one account: account_info,
 * account_lines, account_offers, account_objects, account_currencies,
 * account_relation and account_tx.
 */
#include "rpc_int.h"

int cmd_account_info(req *q)
{
    jt_account_id a;
    lsel s;
    if (!rpc_param_account(q, "account", &a, true) || rpc_select_ledger(q, &s, true) || need_state(q, &s))
        return -1;
    uint8_t id[32];
    jn_id_account(&a, id);
    const jt_obj *o = jn_view_read(s.v, id);
    if (!o) {
        const char *t = jt_json_string(jt_json_get(q->p, "account"));
        snprintf(q->account, sizeof q->account, "%s", t ? t : "");
        return rpc_fail(q, "actNotFound", NULL);
    }
    jt_jw_key(q->w, "account_data");
    jw_entry(q->w, o, id);
    rpc_jw_ledger_fields(q->w, &s, q->rpc->L);
    return 0;
}

static int check_account_exists(req *q, const lsel *s, const jt_account_id *a)
{
    uint8_t id[32];
    jn_id_account(a, id);
    if (jn_view_read(s->v, id))
        return 0;
    const char *t = jt_json_string(jt_json_get(q->p, "account"));
    snprintf(q->account, sizeof q->account, "%s", t ? t : "");
    return rpc_fail(q, "actNotFound", NULL);
}

/* Marker: the hex ID of the item to continue from. */
static bool parse_marker(req *q, uint8_t out[32], bool *has)
{
    const jt_json *m = jt_json_get(q->p, "marker");
    *has = false;
    if (!m || m->kind == JT_JSON_NULL)
        return true;
    const char *t = jt_json_string(m);
    size_t n;
    if (!t || jt_hex_decode(t, strlen(t), out, 32, &n) != JT_OK || n != 32) {
        rpc_fail(q, "invalidParams", "Invalid field 'marker'.");
        return false;
    }
    *has = true;
    return true;
}

/* The owned-entry listings (account_lines, account_offers, account_objects)
 * share one walk of the owner directory: from the marker, entries that
 * `match` are written by `write` until `limit`; then limit and marker. */
typedef struct owned_list {
    const char *key; /* "lines", "offers", "account_objects" */
    bool (*match)(const jt_obj *o, const jt_account_id *a, void *ctx);
    void (*write)(jt_jw *w, const jt_obj *o, const uint8_t id[32], const jt_account_id *a, void *ctx);
    void *ctx;
} owned_list;

static int list_owned(req *q, const jt_account_id *a, const owned_list *ol)
{
    lsel s;
    if (rpc_select_ledger(q, &s, false) || need_state(q, &s) || check_account_exists(q, &s, a))
        return -1;
    unsigned limit = rpc_param_limit(q, 200, 10, 400);
    uint8_t marker[32];
    bool has_marker;
    if (!parse_marker(q, marker, &has_marker))
        return -1;
    /* The marker is the entry to start from (skywelld's): found in the
     * page it records, so the cost is that of the entries returned. */
    jn_dir_cursor c = {0};
    if (has_marker && !jn_read_owner_seek(s.v, a, marker, &c))
        return rpc_fail(q, "invalidParams", "Invalid field 'marker'.");
    jt_jw *w = q->w;
    jt_jw_key(w, "account");
    jt_jw_string(w, jt_json_string(jt_json_get(q->p, "account")));
    jt_jw_key(w, ol->key);
    jt_jw_array_begin(w);
    unsigned count = 0;
    bool more = false;
    uint8_t id[32];
    while (jn_read_owner_next(s.v, a, &c, id)) {
        const jt_obj *o = jn_view_read(s.v, id);
        if (!o || !ol->match(o, a, ol->ctx))
            continue;
        if (count == limit) {
            more = true;
            break;
        }
        count++;
        ol->write(w, o, id, a, ol->ctx);
    }
    jt_jw_array_end(w);
    if (more) {
        jt_jw_key(w, "limit");
        jt_jw_uint(w, limit);
        jt_jw_key(w, "marker");
        jt_jw_hex(w, id, 32);
    }
    rpc_jw_ledger_fields(w, &s, q->rpc->L);
    return 0;
}

typedef struct line_filter {
    bool has_peer;
    jt_account_id peer;
} line_filter;

static bool match_line(const jt_obj *o, const jt_account_id *a, void *ctx)
{
    const line_filter *f = ctx;
    jn_line_side l;
    if (!jn_read_line_side(o, a, &l))
        return false;
    return !f->has_peer || !memcmp(&l.limit_peer.issuer, &f->peer, 20);
}

static void write_line(jt_jw *w, const jt_obj *o, const uint8_t id[32], const jt_account_id *a, void *ctx)
{
    jn_line_side l;
    if (!jn_read_line_side(o, a, &l))
        return;
    jt_jw_object_begin(w);
    jt_jw_key(w, "account");
    jw_account(w, &l.limit_peer.issuer);
    jt_jw_key(w, "balance");
    jw_value_text(w, &l.balance);
    jt_jw_key(w, "currency");
    jw_currency(w, &l.balance.currency);
    jt_jw_key(w, "limit");
    jw_value_text(w, &l.limit);
    jt_jw_key(w, "limit_peer");
    jw_value_text(w, &l.limit_peer);
    jt_jw_key(w, "quality_in");
    jt_jw_uint(w, l.quality_in);
    jt_jw_key(w, "quality_out");
    jt_jw_uint(w, l.quality_out);
    struct {
        const char *k;
        bool on;
    } flags[] = {{"authorized", l.authorized},      {"peer_authorized", l.peer_authorized},
                 {"no_skywell", l.no_skywell},      {"no_skywell_peer", l.no_skywell_peer},
                 {"freeze", l.freeze},              {"freeze_peer", l.freeze_peer}};
    for (size_t k = 0; k < sizeof flags / sizeof *flags; k++)
        if (flags[k].on) {
            jt_jw_key(w, flags[k].k);
            jt_jw_bool(w, true);
        }
    jt_jw_object_end(w);
}

int cmd_account_lines(req *q)
{
    jt_account_id a;
    line_filter f = {0};
    if (!rpc_param_account(q, "account", &a, true))
        return -1;
    f.has_peer = jt_json_get(q->p, "peer") != NULL;
    if (f.has_peer && !rpc_param_account(q, "peer", &f.peer, true))
        return -1;
    owned_list ol = {"lines", match_line, write_line, &f};
    return list_owned(q, &a, &ol);
}

static bool match_offer(const jt_obj *o, const jt_account_id *a, void *ctx)
{
    return get_u(o, "LedgerEntryType", 0) == JT_LT_OFFER;
}

static void write_offer(jt_jw *w, const jt_obj *o, const uint8_t id[32], const jt_account_id *a, void *ctx)
{
    jt_amount pays, gets;
    if (jt_obj_get_amount_f(o, FLD("TakerPays"), &pays) || jt_obj_get_amount_f(o, FLD("TakerGets"), &gets))
        return;
    jt_jw_object_begin(w);
    jt_jw_key(w, "flags");
    jt_jw_uint(w, get_u(o, "Flags", 0));
    jt_jw_key(w, "seq");
    jt_jw_uint(w, get_u(o, "Sequence", 0));
    jt_jw_key(w, "taker_gets");
    jw_amount(w, &gets);
    jt_jw_key(w, "taker_pays");
    jw_amount(w, &pays);
    /* Not in skywelld's reply; later rippled's, and what a client would
     * otherwise work out: the offer's price, and when it expires. */
    const uint8_t *dir;
    size_t n;
    if (jt_obj_get_bytes_f(o, FLD("BookDirectory"), &dir, &n) == JT_OK && n == 32) {
        uint64_t q = 0;
        for (int i = 24; i < 32; i++)
            q = q << 8 | dir[i];
        char qt[JT_AMOUNT_TEXT_MAX];
        (void)jt_amount_quality_text(q, qt, sizeof qt);
        jt_jw_key(w, "quality");
        jt_jw_string(w, qt);
    }
    uint64_t exp;
    if (jt_obj_get_uint_f(o, FLD("Expiration"), &exp) == JT_OK) {
        jt_jw_key(w, "expiration");
        jt_jw_uint(w, exp);
    }
    jt_jw_object_end(w);
}

int cmd_account_offers(req *q)
{
    jt_account_id a;
    if (!rpc_param_account(q, "account", &a, true))
        return -1;
    owned_list ol = {"offers", match_offer, write_offer, NULL};
    return list_owned(q, &a, &ol);
}

static bool match_type(const jt_obj *o, const jt_account_id *a, void *ctx)
{
    int want = *(const int *)ctx;
    return want < 0 || get_u(o, "LedgerEntryType", 0) == (uint64_t)want;
}

static void write_entry(jt_jw *w, const jt_obj *o, const uint8_t id[32], const jt_account_id *a, void *ctx)
{
    jw_entry(w, o, id);
}

int cmd_account_objects(req *q)
{
    jt_account_id a;
    if (!rpc_param_account(q, "account", &a, true))
        return -1;
    const char *type = jt_json_string(jt_json_get(q->p, "type"));
    int want = -1;
    if (type) {
        static const struct {
            const char *k, *n;
        } alias[] = {{"state", "SkywellState"}, {"offer", "Offer"}, {"signer_list", "SignerList"},
                     {"directory", "DirectoryNode"}, {"trust_state", "TrustState"}};
        const char *name = type;
        for (size_t i = 0; i < sizeof alias / sizeof *alias; i++)
            if (!strcmp(type, alias[i].k))
                name = alias[i].n;
        want = jt_ledger_type_by_name(name);
        if (want < 0)
            return rpc_fail(q, "invalidParams", "Invalid field 'type'.");
    }
    owned_list ol = {"account_objects", match_type, write_entry, &want};
    return list_owned(q, &a, &ol);
}

int cmd_account_currencies(req *q)
{
    jt_account_id a;
    lsel s;
    if (!rpc_param_account(q, "account", &a, true) || rpc_select_ledger(q, &s, false) || need_state(q, &s) ||
        check_account_exists(q, &s, &a))
        return -1;
    jt_currency recv[256], send[256];
    size_t nr = 0, ns = 0;
    uint8_t id[32];
    jn_dir_cursor c = {0};
    while (jn_read_owner_next(s.v, &a, &c, id)) {
        const jt_obj *o = jn_view_read(s.v, id);
        jn_line_side l;
        if (!o || !jn_read_line_side(o, &a, &l))
            continue;
        const jt_amount *bal = &l.balance;
        jt_amount room;
        /* Can receive when below my limit; can send when I hold some or the peer extends credit. */
        if (!jt_amount_sub(&l.limit, bal, &room) && jt_amount_sign(&room) > 0) {
            size_t k;
            for (k = 0; k < nr && memcmp(&recv[k], &bal->currency, 20); k++)
                ;
            if (k == nr && nr < 256)
                recv[nr++] = bal->currency;
        }
        jt_amount neg = *bal;
        jt_amount_negate(&neg);
        if (jt_amount_sign(bal) > 0 || jt_amount_cmp(&l.limit_peer, &neg) > 0) {
            size_t k;
            for (k = 0; k < ns && memcmp(&send[k], &bal->currency, 20); k++)
                ;
            if (k == ns && ns < 256)
                send[ns++] = bal->currency;
        }
    }
    jt_jw *w = q->w;
    jt_jw_key(w, "receive_currencies");
    jt_jw_array_begin(w);
    for (size_t i = 0; i < nr; i++)
        jw_currency(w, &recv[i]);
    jt_jw_array_end(w);
    jt_jw_key(w, "send_currencies");
    jt_jw_array_begin(w);
    for (size_t i = 0; i < ns; i++)
        jw_currency(w, &send[i]);
    jt_jw_array_end(w);
    rpc_jw_ledger_fields(w, &s, q->rpc->L);
    return 0;
}

/* Relations (TrustState) are listed in the owner's directory and, since
 * they carry LowNode/HighNode, in the target's. skywelld's account_relation
 * lists the ones the account set (its own limit), account_relcp the ones
 * naming it (the peer's limit); jt-node's account_relation lists both, so a
 * holder finds the relations an issuer set on it. */
typedef struct rel_filter {
    uint64_t type;  /* 0: any */
    bool has_peer;
    jt_account_id peer;
    bool owned, named; /* the relations the account set; those naming it */
} rel_filter;

/* The relation's owner, target and LimitAmount; false when o is not one. */
static bool rel_read(const jt_obj *o, jt_account_id *owner, jt_account_id *target, jt_amount *lim)
{
    return get_u(o, "LedgerEntryType", 0) == JT_LT_TRUST_STATE &&
           !jt_obj_get_account_f(o, FLD("Account"), owner) && !jt_obj_get_account_f(o, FLD("Target"), target) &&
           !jt_obj_get_amount_f(o, FLD("LimitAmount"), lim);
}

static bool match_relation(const jt_obj *o, const jt_account_id *a, void *ctx)
{
    const rel_filter *f = ctx;
    jt_account_id owner, target;
    jt_amount lim;
    if (!rel_read(o, &owner, &target, &lim))
        return false;
    bool mine = !memcmp(&owner, a, 20);
    const jt_account_id *peer = mine ? &target : &owner;
    if (mine ? !f->owned : (!f->named || memcmp(&target, a, 20)))
        return false;
    if (f->type && get_u(o, "RelationType", 0) != f->type)
        return false;
    return !f->has_peer || !memcmp(peer, &f->peer, 20);
}

static void write_relation(jt_jw *w, const jt_obj *o, const uint8_t id[32], const jt_account_id *a, void *ctx)
{
    (void)id;
    (void)ctx;
    jt_account_id owner, target;
    jt_amount lim;
    if (!rel_read(o, &owner, &target, &lim))
        return;
    char t[24];
    snprintf(t, sizeof t, "%" PRIu64, get_u(o, "RelationType", 0));
    jt_jw_object_begin(w);
    jt_jw_key(w, "currency");
    jw_currency(w, &lim.currency);
    jt_jw_key(w, "issuer");
    jw_account(w, &lim.issuer);
    jt_jw_key(w, "limit");
    jw_value_text(w, &lim);
    jt_jw_key(w, "limit_peer"); /* skywelld's name for the peer's address */
    jw_account(w, memcmp(&owner, a, 20) ? &owner : &target);
    jt_jw_key(w, "relation_type");
    jt_jw_string(w, t);
    jt_jw_object_end(w);
}

static int list_relations(req *q, bool owned, bool named)
{
    jt_account_id a;
    rel_filter f = {.owned = owned, .named = named};
    if (!rpc_param_account(q, "account", &a, true))
        return -1;
    f.has_peer = jt_json_get(q->p, "peer") != NULL;
    if (f.has_peer && !rpc_param_account(q, "peer", &f.peer, true))
        return -1;
    const jt_json *rt = jt_json_get(q->p, "relation_type");
    if (rt && rt->kind != JT_JSON_NULL && !jt_json_uint64(rt, true, &f.type))
        return rpc_fail(q, "invalidParams", "Invalid field 'relation_type'.");
    owned_list ol = {"lines", match_relation, write_relation, &f};
    return list_owned(q, &a, &ol);
}

int cmd_account_relation(req *q)
{
    return list_relations(q, true, true);
}

int cmd_account_relcp(req *q)
{
    return list_relations(q, false, true);
}

/* ---------------------------------------------------------------- account_tx */

typedef struct atx_ctx {
    req *q;
    bool binary;
    jn_header h; /* cache */
    bool have_h;
} atx_ctx;

static int atx_cb(void *vctx, const jn_txrec *t)
{
    atx_ctx *a = vctx;
    jt_jw *w = a->q->w;
    jn_store *st = jn_ledger_store(a->q->rpc->L);
    if (!a->have_h || a->h.seq != t->seq) {
        if (jn_store_header_by_seq(st, t->seq, &a->h))
            return 0;
        a->have_h = true;
    }
    jt_jw_object_begin(w);
    if (a->binary) {
        jt_jw_key(w, "ledger_index");
        jt_jw_uint(w, t->seq);
        jt_jw_key(w, "meta");
        jt_jw_hex(w, t->meta, t->meta_len);
        jt_jw_key(w, "tx_blob");
        jt_jw_hex(w, t->blob, t->blob_len);
    } else {
        jt_obj *tx = NULL, *meta = NULL;
        jt_errinfo ei;
        if (jt_obj_from_binary(t->blob, t->blob_len, &tx, &ei) == JT_OK &&
            jt_obj_from_binary(t->meta, t->meta_len, &meta, &ei) == JT_OK) {
            jt_jw_key(w, "meta");
            rpc_jw_meta(w, meta, tx);
            jt_jw_key(w, "tx");
            rpc_jw_tx(w, tx, t->id, &a->h, true);
        }
        jt_obj_free(tx);
        jt_obj_free(meta);
    }
    jt_jw_key(w, "validated");
    jt_jw_bool(w, true);
    jt_jw_object_end(w);
    return 0;
}

int cmd_account_tx(req *q)
{
    jt_account_id a;
    if (!rpc_param_account(q, "account", &a, true))
        return -1;
    jn_ledger *L = q->rpc->L;
    int64_t lo = -1, hi = -1;
    const jt_json *v;
    if ((v = jt_json_get(q->p, "ledger_index_min")) && !jt_json_int64(v, true, &lo))
        return rpc_fail(q, "lgrIdxMalformed", NULL);
    if ((v = jt_json_get(q->p, "ledger_index_max")) && !jt_json_int64(v, true, &hi))
        return rpc_fail(q, "lgrIdxMalformed", NULL);
    uint32_t first = jn_ledger_first_seq(L), last = jn_ledger_last(L)->seq;
    /* A single ledger_index / ledger_hash selects one ledger. */
    if (jt_json_get(q->p, "ledger_index") || jt_json_get(q->p, "ledger_hash")) {
        lsel s;
        if (rpc_select_ledger(q, &s, false))
            return -1;
        if (s.kind == 0)
            return rpc_fail(q, "lgrIdxsInvalid", "Ledger indexes invalid.");
        lo = hi = s.h.seq;
    }
    uint32_t min = lo < 0 || lo < first ? first : (uint32_t)(lo > UINT32_MAX ? UINT32_MAX : lo);
    uint32_t max = hi < 0 || hi > last ? last : (uint32_t)hi;
    if (lo >= 0 && hi >= 0 && lo > hi)
        return rpc_fail(q, "lgrIdxsInvalid", "Ledger indexes invalid.");
    unsigned limit = rpc_param_limit(q, 200, 1, 1000);
    bool forward = param_bool(q, "forward");
    bool has_marker = false;
    uint64_t mseq = 0, midx = 0;
    const jt_json *m = jt_json_get(q->p, "marker");
    if (m && m->kind != JT_JSON_NULL) {
        if (m->kind != JT_JSON_OBJECT || !jt_json_uint64(jt_json_get(m, "ledger"), true, &mseq) ||
            !jt_json_uint64(jt_json_get(m, "seq"), true, &midx) || mseq > UINT32_MAX || midx > UINT32_MAX)
            return rpc_fail(q, "invalidParams", "Invalid field 'marker'.");
        has_marker = true;
    }
    jt_jw *w = q->w;
    jt_jw_key(w, "account");
    jt_jw_string(w, jt_json_string(jt_json_get(q->p, "account")));
    jt_jw_key(w, "ledger_index_max");
    jt_jw_uint(w, max);
    jt_jw_key(w, "ledger_index_min");
    jt_jw_uint(w, min);
    jt_jw_key(w, "limit");
    jt_jw_uint(w, limit);
    jt_jw_key(w, "transactions");
    jt_jw_array_begin(w);
    atx_ctx ac = {.q = q, .binary = param_bool(q, "binary")};
    bool more = false;
    uint32_t nseq = 0, nidx = 0;
    if (min <= max &&
        jn_store_account_tx(jn_ledger_store(L), a.bytes, min, max, forward, has_marker, (uint32_t)mseq,
                            (uint32_t)midx, limit, atx_cb, &ac, &more, &nseq, &nidx) < 0) {
        return rpc_fail(q, "internal", "reading history: %s", jn_store_errmsg(jn_ledger_store(L)));
    }
    jt_jw_array_end(w);
    if (more) {
        jt_jw_key(w, "marker");
        jt_jw_object_begin(w);
        jt_jw_key(w, "ledger");
        jt_jw_uint(w, nseq);
        jt_jw_key(w, "seq");
        jt_jw_uint(w, nidx);
        jt_jw_object_end(w);
    }
    jt_jw_key(w, "validated");
    jt_jw_bool(w, true);
    return 0;
}

/* Fee_Info {account, ledger_index?}: the Brokerage entries the account set
 * as a platform, in owner-directory order, in the shape PROTOCOL.md §6.10
 * sketches: FeeCurrency and FeeCurrencyIssuer ("SWT" and "" for SWT), the
 * rate as the entry holds it (UInt64 hex, as jingtum-lib parses it),
 * Platform and fee_account. The validated ledger by default. */
int cmd_fee_info(req *q)
{
    jt_account_id a;
    lsel s;
    if (!rpc_param_account(q, "account", &a, true) || rpc_select_ledger(q, &s, false) ||
        need_state(q, &s) || check_account_exists(q, &s, &a))
        return -1;
    jt_jw *w = q->w;
    jt_jw_key(w, "account");
    jw_account(w, &a);
    jt_jw_key(w, "brokerages");
    jt_jw_array_begin(w);
    uint8_t id[32];
    jn_dir_cursor c = {0};
    while (jn_read_owner_next(s.v, &a, &c, id)) {
        const jt_obj *o = jn_view_read(s.v, id);
        if (!o || get_u(o, "LedgerEntryType", 0) != JT_LT_BROKERAGE)
            continue;
        jt_amount cur;
        jt_account_id platform, collector;
        if (jt_obj_get_amount(o, "Amount", &cur) != JT_OK ||
            jt_obj_get_account(o, "Platform", &platform) != JT_OK ||
            jt_obj_get_account(o, "FeeAccountID", &collector) != JT_OK)
            continue;
        char hex[17];
        jt_jw_object_begin(w);
        jt_jw_key(w, "FeeCurrency");
        if (cur.native)
            jt_jw_string(w, "SWT");
        else
            jw_currency(w, &cur.currency);
        jt_jw_key(w, "FeeCurrencyIssuer");
        if (cur.native)
            jt_jw_string(w, "");
        else
            jw_account(w, &cur.issuer);
        jt_jw_key(w, "OfferFeeRateNum");
        snprintf(hex, sizeof hex, "%016llX", (unsigned long long)get_u(o, "OfferFeeRateNum", 0));
        jt_jw_string(w, hex);
        jt_jw_key(w, "OfferFeeRateDen");
        snprintf(hex, sizeof hex, "%016llX", (unsigned long long)get_u(o, "OfferFeeRateDen", 0));
        jt_jw_string(w, hex);
        jt_jw_key(w, "Platform");
        jw_account(w, &platform);
        jt_jw_key(w, "fee_account");
        jw_account(w, &collector);
        jt_jw_key(w, "index");
        jt_jw_hex(w, id, 32);
        jt_jw_object_end(w);
    }
    jt_jw_array_end(w);
    rpc_jw_ledger_fields(w, &s, q->rpc->L);
    return 0;
}
