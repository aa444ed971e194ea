/*
 * cmd_path.c — path finding commands: skywell_path_find (one answer) and
 * path_find (create, close, status; the answer again, pushed to the
 * client as each ledger closes), over the path finder (pathfind.c).
 *
 * As skywelld's PathRequests: a connection has one path request at a time
 * (a new create replaces it), requests are updated on each close against
 * the new last closed ledger, and the updates are pushed as "path_find"
 * messages with the create's id. Work is bounded per request (pathfind.h)
 * and per close (JN_RPC_PATH_CLOSE_MS, resuming where the last close
 * stopped), and the number of open requests is capped (JN_RPC_MAX_PATHS).
 */
#include "rpc_int.h"

#include <stdlib.h>
#include <time.h>

#include "pathfind.h"

struct jn_pathreq {
    jt_account_id src, dst;
    jt_amount amt;
    jt_currency src_cur[JN_PF_MAX_SRC_CUR];
    size_t n_src_cur;
    jt_buf id;     /* the create's id (JSON text), empty when none */
    jt_buf status; /* the last answer's members (a JSON object text) */
    uint32_t seq;  /* the ledger it was computed on */
};

/* ---------------------------------------------------------------- parameters */

static int param_amount(req *q, jt_amount *a)
{
    const jt_json *v = jt_json_get(q->p, "destination_amount");
    jt_errinfo ei;
    if (!v)
        return rpc_fail(q, "invalidParams", "Missing field 'destination_amount'.");
    const char *s = jt_json_string(v);
    if (s) {
        if (jt_amount_from_drops(a, s, 0, &ei) != JT_OK)
            return rpc_fail(q, "dstAmtMalformed", NULL);
    } else if (v->kind == JT_JSON_OBJECT) {
        const char *val = jt_json_string(jt_json_get(v, "value"));
        const char *cur = jt_json_string(jt_json_get(v, "currency"));
        const char *iss = jt_json_string(jt_json_get(v, "issuer"));
        if (!val || !cur || !iss || jt_amount_issued(a, val, cur, iss, 0, &ei) != JT_OK)
            return rpc_fail(q, "dstAmtMalformed", NULL);
    } else {
        return rpc_fail(q, "dstAmtMalformed", NULL);
    }
    if (jt_amount_sign(a) <= 0)
        return rpc_fail(q, "dstAmtMalformed", NULL);
    return 0;
}

static int param_src_cur(req *q, jn_pathreq *pr)
{
    const jt_json *v = jt_json_get(q->p, "source_currencies");
    pr->n_src_cur = 0;
    if (!v)
        return 0;
    if (v->kind != JT_JSON_ARRAY)
        return rpc_fail(q, "srcCurMalformed", NULL);
    for (size_t i = 0; i < v->u.arr.n; i++) {
        const jt_json *e = v->u.arr.items[i];
        const char *c = e && e->kind == JT_JSON_OBJECT ? jt_json_string(jt_json_get(e, "currency")) : NULL;
        jt_currency cur;
        jt_errinfo ei;
        if (!c || jt_currency_from_text(c, true, &cur, &ei) != JT_OK)
            return rpc_fail(q, "srcCurMalformed", NULL);
        if (pr->n_src_cur < JN_PF_MAX_SRC_CUR)
            pr->src_cur[pr->n_src_cur++] = cur;
    }
    return 0;
}

/* The request's accounts and amount. */
static int parse_request(req *q, jn_pathreq *pr)
{
    const jt_json *sv = jt_json_get(q->p, "source_account");
    const jt_json *dv = jt_json_get(q->p, "destination_account");
    jt_errinfo ei;
    const char *s = jt_json_string(sv), *d = jt_json_string(dv);
    if (!sv)
        return rpc_fail(q, "srcActMissing", NULL);
    if (!s || jt_address_decode(s, &pr->src, &ei) != JT_OK)
        return rpc_fail(q, "srcActMalformed", NULL);
    if (!dv)
        return rpc_fail(q, "dstActMissing", NULL);
    if (!d || jt_address_decode(d, &pr->dst, &ei) != JT_OK)
        return rpc_fail(q, "dstActMalformed", NULL);
    if (param_amount(q, &pr->amt) || param_src_cur(q, pr))
        return -1;
    return 0;
}

/* skywelld's PathRequest::isValid against the ledger v. */
static int check_request(req *q, const jn_view *v, const jn_pathreq *pr)
{
    if (!jn_read_account(v, &pr->src))
        return rpc_fail(q, "srcActNotFound", NULL);
    if (!jn_read_account(v, &pr->dst)) {
        if (!pr->amt.native)
            return rpc_fail(q, "actNotFound", NULL);
        const jn_params *p = jn_ledger_params(q->rpc->L);
        if (jt_amount_drops(&pr->amt) < (int64_t)p->reserve_base)
            return rpc_fail(q, "dstAmtMalformed", NULL);
    }
    return 0;
}

/* ---------------------------------------------------------------- the answer */

static void jw_path_elem(jt_jw *w, const jn_pf_elem *e)
{
    char hex[17];
    jt_jw_object_begin(w);
    if (e->type & JN_PF_ACCOUNT) {
        jt_jw_key(w, "account");
        jw_account(w, &e->account);
    }
    if (e->type & JN_PF_CURRENCY) {
        jt_jw_key(w, "currency");
        jw_currency(w, &e->currency);
    }
    if (e->type & JN_PF_ISSUER) {
        jt_jw_key(w, "issuer");
        jw_account(w, &e->issuer);
    }
    jt_jw_key(w, "type");
    jt_jw_uint(w, e->type);
    jt_jw_key(w, "type_hex");
    snprintf(hex, sizeof hex, "%016X", e->type);
    jt_jw_string(w, hex);
    jt_jw_object_end(w);
}

/* The members of the answer (skywelld's PathRequest status): alternatives,
 * destination_account, destination_amount, destination_currencies,
 * full_reply, ledger_hash, ledger_index, source_account. */
static void jw_answer(jt_jw *w, jn_rpc *r, const jn_view *v, const jn_header *h,
                      const jn_pathreq *pr, const jn_pf_result *res)
{
    jt_jw_key(w, "alternatives");
    jt_jw_array_begin(w);
    for (size_t i = 0; i < res->n; i++) {
        const jn_pf_alt *a = &res->alt[i];
        jt_jw_object_begin(w);
        jt_jw_key(w, "paths_computed");
        jt_jw_array_begin(w);
        for (size_t p = 0; p < a->n_paths; p++) {
            jt_jw_array_begin(w);
            for (size_t e = 0; e < a->paths[p].n; e++)
                jw_path_elem(w, &a->paths[p].e[e]);
            jt_jw_array_end(w);
        }
        jt_jw_array_end(w);
        jt_jw_key(w, "source_amount");
        jw_amount(w, &a->source_amount);
        jt_jw_object_end(w);
    }
    jt_jw_array_end(w);
    jt_jw_key(w, "destination_account");
    jw_account(w, &pr->dst);
    jt_jw_key(w, "destination_amount");
    jw_amount(w, &pr->amt);
    jt_jw_key(w, "destination_currencies");
    jt_jw_array_begin(w);
    jt_currency dc[64];
    size_t nd = 1;
    memset(&dc[0], 0, sizeof dc[0]);
    const jt_obj *droot = jn_read_account(v, &pr->dst);
    if (droot) {
        nd = jn_pf_dest_currencies(v, &pr->dst, dc, 64);
        if (get_u(droot, "Flags", 0) & JT_LSF_DISALLOW_SWT) {
            memmove(dc, dc + 1, (nd - 1) * sizeof dc[0]);
            nd--;
        }
    }
    for (size_t i = 0; i < nd; i++)
        jw_currency(w, &dc[i]);
    jt_jw_array_end(w);
    jt_jw_key(w, "full_reply");
    jt_jw_bool(w, !res->truncated);
    jt_jw_key(w, "ledger_hash");
    jt_jw_hex(w, h->hash, 32);
    jt_jw_key(w, "ledger_index");
    jt_jw_uint(w, h->seq);
    jt_jw_key(w, "source_account");
    jw_account(w, &pr->src);
}

static jn_pf_limits limits_of(const jn_rpc *r)
{
    return (jn_pf_limits){.max_nodes = r->cfg.path_max_nodes,
                          .max_calcs = r->cfg.path_max_calcs,
                          .max_ms = r->cfg.path_max_ms};
}

static int find(jn_rpc *r, const jn_view *v, const jn_pathreq *pr, jn_pf_result *res)
{
    const jn_params *p = jn_ledger_params(r->L);
    const jn_header *h = jn_ledger_last(r->L);
    jn_env env = {.base_fee = p->base_fee,
                  .reserve_base = p->reserve_base,
                  .reserve_inc = p->reserve_inc,
                  .ledger_seq = h->seq + 1,
                  .parent_close_time = h->close_time,
                  .no_meta = true};
    jn_pf_limits lim = limits_of(r);
    return jn_pathfind(v, &env, &pr->src, &pr->dst, &pr->amt, pr->src_cur, pr->n_src_cur, &lim, res);
}

/* ---------------------------------------------------------------- skywell_path_find */

int cmd_skywell_path_find(req *q)
{
    jn_pathreq pr;
    memset(&pr, 0, sizeof pr);
    lsel s;
    if (parse_request(q, &pr) || rpc_select_ledger(q, &s, false) || need_state(q, &s) ||
        check_request(q, s.v, &pr))
        return -1;
    jn_pf_result *res = malloc(sizeof *res);
    if (!res)
        return rpc_fail(q, "internal", "out of memory");
    if (find(q->rpc, s.v, &pr, res)) {
        free(res);
        return rpc_fail(q, "internal", "out of memory");
    }
    jw_answer(q->w, q->rpc, s.v, &s.h, &pr, res);
    free(res);
    return 0;
}

/* ---------------------------------------------------------------- path_find */

static void pathreq_free(jn_pathreq *pr)
{
    if (!pr)
        return;
    jt_buf_clear(&pr->id);
    jt_buf_clear(&pr->status);
    free(pr);
}

void rpc_path_forget(jn_rpc *r, jn_client *c)
{
    if (c->preq) {
        pathreq_free(c->preq);
        c->preq = NULL;
        r->n_paths--;
    }
}

/* Computes pr's answer on the last closed ledger into pr->status. */
static int update(jn_rpc *r, jn_pathreq *pr)
{
    const jn_view *v = jn_ledger_closed_view(r->L);
    const jn_header *h = jn_ledger_last(r->L);
    jn_pf_result *res = malloc(sizeof *res);
    if (!res)
        return -1;
    int rc = find(r, v, pr, res);
    pr->status.len = 0;
    jt_jw w;
    jt_jw_init(&w, &pr->status);
    jt_jw_object_begin(&w);
    jw_answer(&w, r, v, h, pr, res);
    jt_jw_object_end(&w);
    free(res);
    pr->seq = h->seq;
    if (jt_jw_finish(&w) != JT_OK)
        return -1;
    return rc;
}

static void jw_status(jt_jw *w, const jn_pathreq *pr)
{
    if (pr->status.len > 2)
        jt_jw_members(w, (const char *)pr->status.data, pr->status.len);
    if (pr->id.len) {
        jt_jw_key(w, "id");
        jt_jw_raw(w, (const char *)pr->id.data, pr->id.len);
    }
}

static int path_create(req *q)
{
    jn_rpc *r = q->rpc;
    jn_pathreq *pr = calloc(1, sizeof *pr);
    if (!pr)
        return rpc_fail(q, "internal", "out of memory");
    jt_buf_init(&pr->id);
    jt_buf_init(&pr->status);
    const jn_view *v = jn_ledger_closed_view(r->L);
    if (parse_request(q, pr) || check_request(q, v, pr)) {
        pathreq_free(pr);
        return -1;
    }
    /* A new request replaces the connection's (skywelld: one per subscriber). */
    rpc_path_forget(r, q->cl);
    unsigned cap = r->cfg.max_paths ? r->cfg.max_paths : JN_RPC_MAX_PATHS;
    if (r->n_paths >= cap) {
        pathreq_free(pr);
        return rpc_fail(q, "tooBusy", "too many path requests open (%u)", cap);
    }
    const jt_json *id = jt_json_get(q->p, "id");
    if (id) {
        jt_jw w;
        jt_jw_init(&w, &pr->id);
        jt_jw_value(&w, id);
        if (jt_jw_finish(&w) != JT_OK)
            pr->id.len = 0;
    }
    if (update(r, pr)) {
        pathreq_free(pr);
        return rpc_fail(q, "internal", "out of memory");
    }
    q->cl->preq = pr;
    r->n_paths++;
    if (pr->status.len > 2)
        jt_jw_members(q->w, (const char *)pr->status.data, pr->status.len);
    return 0;
}

int cmd_path_find(req *q)
{
    const char *sub = jt_json_string(jt_json_get(q->p, "subcommand"));
    if (!q->cl)
        return rpc_fail(q, "noEvents", NULL);
    if (!sub)
        return rpc_fail(q, "invalidParams", "Missing field 'subcommand'.");
    if (!strcmp(sub, "create"))
        return path_create(q);
    if (!strcmp(sub, "close")) {
        if (!q->cl->preq)
            return rpc_fail(q, "noPathRequest", NULL);
        rpc_path_forget(q->rpc, q->cl);
        jt_jw_key(q->w, "closed");
        jt_jw_bool(q->w, true);
        return 0;
    }
    if (!strcmp(sub, "status")) {
        if (!q->cl->preq)
            return rpc_fail(q, "noPathRequest", NULL);
        jw_status(q->w, q->cl->preq);
        return 0;
    }
    return rpc_fail(q, "invalidParams", "Invalid field 'subcommand'.");
}

/* ---------------------------------------------------------------- updates as ledgers close */

static unsigned ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    long ms = (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
    return ms < 0 ? 0 : (unsigned)ms;
}

void rpc_path_on_close(jn_rpc *r)
{
    if (!r->n_paths)
        return;
    uint32_t seq = jn_ledger_last(r->L)->seq;
    unsigned budget = r->cfg.path_close_ms ? r->cfg.path_close_ms : JN_RPC_PATH_CLOSE_MS;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* Oldest answers first: a request left out by the budget last time goes
     * before those updated then. */
    for (;;) {
        jn_client *best = NULL;
        for (jn_client *c = r->clients; c; c = c->next)
            if (c->preq && c->preq->seq < seq && (!best || c->preq->seq < best->preq->seq))
                best = c;
        if (!best || ms_since(&t0) >= budget)
            break;
        jn_pathreq *pr = best->preq;
        if (update(r, pr)) {
            pr->seq = seq; /* out of memory: try again next close */
            continue;
        }
        jt_buf b;
        jt_buf_init(&b);
        jt_jw w;
        jt_jw_init(&w, &b);
        jt_jw_object_begin(&w);
        jw_status(&w, pr);
        jt_jw_key(&w, "type");
        jt_jw_string(&w, "path_find");
        jt_jw_object_end(&w);
        if (jt_jw_finish(&w) == JT_OK)
            send_push(best, &b);
        jt_buf_clear(&b);
    }
}
