/*
 * rpc.c — the command dispatcher (see rpc.h): the command table, the
 * request entry and the reply envelope.
 *
 * Each command writes its result object through a jt_jw into its own buffer;
 * the envelope is added around it, so a command that fails half-way sends
 * only the error.
 */
#include "rpc_int.h"

#include <stdarg.h>
#include <stdlib.h>

#include "rpc_errors.h"

/* ---------------------------------------------------------------- errors */

static const jn_rpc_error *rpc_error(const char *tok)
{
    for (size_t i = 0; i < sizeof jn_rpc_errors / sizeof *jn_rpc_errors; i++)
        if (!strcmp(jn_rpc_errors[i].token, tok))
            return &jn_rpc_errors[i];
    return NULL;
}

int rpc_fail(req *q, const char *tok, const char *fmt, ...)
{
    q->err = tok;
    q->msg[0] = 0;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(q->msg, sizeof q->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---------------------------------------------------------------- table */

static const command commands[] = {
    {"account_currencies", cmd_account_currencies, 0, "currencies an account can send and receive", 5, PRICE_FLAT},
    {"account_info", cmd_account_info, 0, "an account's AccountRoot", 1, PRICE_FLAT},
    {"account_lines", cmd_account_lines, 0, "an account's trust lines", 5, PRICE_FLAT},
    {"account_objects", cmd_account_objects, 0, "the ledger entries an account owns", 5, PRICE_FLAT},
    {"account_offers", cmd_account_offers, 0, "an account's offers", 5, PRICE_FLAT},
    {"account_relation", cmd_account_relation, 0, "an account's relations (authorize/freeze), both the ones it set and the ones naming it", 5, PRICE_FLAT},
    {"account_relcp", cmd_account_relcp, 0, "the relations naming an account (skywelld's)", 5, PRICE_FLAT},
    {"account_tx", cmd_account_tx, 0, "an account's transaction history", 10, PRICE_TX_PAGE},
    {"Fee_Info", cmd_fee_info, 0, "the platform fees (Brokerage) an account sets", 1, PRICE_FLAT},
    {"book_offers", cmd_book_offers, 0, "offers in one order book", 10, PRICE_BOOK_PAGE},
    {"ledger", cmd_ledger, 0, "a ledger header, its transactions or state", 5, PRICE_LEDGER},
    {"ledger_accept", cmd_ledger_accept, C_ADMIN, "close the open ledger now (admin)", 1, PRICE_FLAT},
    {"ledger_closed", cmd_ledger_closed, 0, "the last closed ledger", 1, PRICE_FLAT},
    {"ledger_current", cmd_ledger_current, 0, "the open ledger's index", 1, PRICE_FLAT},
    {"path_find", cmd_path_find, 0, "payment paths, updated as ledgers close (create, close, status)", 100, PRICE_FLAT},
    {"ping", cmd_ping, 0, "liveness", 1, PRICE_FLAT},
    {"server_info", cmd_server_info, 0, "node status", 1, PRICE_FLAT},
    {"server_state", cmd_server_info, 0, "node status", 1, PRICE_FLAT},
    {"skywell_path_find", cmd_skywell_path_find, 0, "payment paths, once", 100, PRICE_FLAT},
    {"stop", cmd_stop, C_ADMIN, "shut the node down (admin)", 1, PRICE_FLAT},
    {"submit", cmd_submit, C_SUBMIT, "submit a signed transaction", 1, PRICE_FLAT},
    {"subscribe", cmd_subscribe, 0, "streams and accounts", 5, PRICE_FLAT},
    {"tx", cmd_tx, 0, "a transaction by hash", 1, PRICE_FLAT},
    {"unsubscribe", cmd_unsubscribe, 0, "stop streams and accounts", 5, PRICE_FLAT},
    /* Known Jingtum commands this node does not offer. */
    {"account_count", cmd_not_supported, 0, NULL, 1, PRICE_FLAT},
    {"account_erc", cmd_not_supported, 0, NULL, 1, PRICE_FLAT},
    {"aleth_eventlog", cmd_not_supported, 0, NULL, 1, PRICE_FLAT},
    {"blacklist_info", cmd_not_supported, 0, NULL, 1, PRICE_FLAT},
    {"erc_info", cmd_not_supported, 0, NULL, 1, PRICE_FLAT},
    {"erc_issue", cmd_not_supported, 0, NULL, 1, PRICE_FLAT},
    {"peers", cmd_not_supported, 0, NULL, 1, PRICE_FLAT},
    {"sign", cmd_not_supported, 0, NULL, 1, PRICE_FLAT},
    {"sign_for", cmd_not_supported, 0, NULL, 1, PRICE_FLAT},
    {"submit_multisigned", cmd_not_supported, 0, NULL, 1, PRICE_FLAT},
};

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

/* ---------------------------------------------------------------- envelope */

/* Length of the valid UTF-8 sequence at p (1–4), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    if (p[0] < 0x80)
        return 1;
    size_t k = (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (!k || k > n || (k == 2 && p[0] < 0xC2) || (k == 4 && p[0] > 0xF4))
        return 0;
    for (size_t i = 1; i < k; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if (k == 3 && ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0)))
        return 0;
    if (k == 4 && ((p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90)))
        return 0;
    return k;
}

static void send_transport_error(jn_client *c, const char *tok, const char *text, size_t len)
{
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "error");
    jt_jw_string(&w, tok);
    jt_jw_key(&w, "type");
    jt_jw_string(&w, "error");
    if (text) {
        /* Echo the text, with bytes that are not UTF-8 (and NUL, which
         * JSON readers that hand out C strings refuse) replaced, so the
         * reply itself is always valid JSON that any client reads. */
        char clean[1024];
        size_t o = 0, i = 0;
        const unsigned char *u = (const unsigned char *)text;
        while (i < len && o + 4 < sizeof clean) {
            size_t k = u[i] ? utf8_seq(u + i, len - i) : 0;
            if (k == 0) {
                clean[o++] = '?';
                i++;
                continue;
            }
            memcpy(clean + o, text + i, k);
            o += k;
            i += k;
        }
        jt_jw_key(&w, "value");
        jt_jw_string_n(&w, clean, o);
    }
    jt_jw_object_end(&w);
    if (jt_jw_finish(&w) == JT_OK)
        send_buf(c, &b);
    jt_buf_clear(&b);
}

/* Sends the reply to a request: the command's result, or the error in q. */
void rpc_send_reply(jn_client *c, req *q, int rc, const jt_json *root, const jt_buf *result)
{
    /* What a reply costs beyond its request's price: building and sending
     * it grows with its size (a unit a KiB), charged after the fact. */
    rpc_budget_charge(q->rpc, c, (double)result->len / 1024);
    const jt_json *id = jt_json_get(root, "id");
    jt_buf local;
    jt_buf *out = scratch_get(&q->rpc->reply_buf, &local);
    if (!rc)
        (void)jt_buf_reserve(out, result->len + 128); /* grows once, or not at all */
    jt_jw w;
    jt_jw_init(&w, out);
    jt_jw_object_begin(&w);
    if (rc) {
        const jn_rpc_error *e = rpc_error(q->err);
        if (!strcmp(q->err, "actNotFound") && q->account[0]) {
            jt_jw_key(&w, "account");
            jt_jw_string(&w, q->account);
        }
        jt_jw_key(&w, "error");
        jt_jw_string(&w, q->err);
        if (e && strcmp(q->err, "missingCommand")) {
            jt_jw_key(&w, "error_code");
            jt_jw_int(&w, e->code);
        }
        if (q->exception[0]) {
            jt_jw_key(&w, "error_exception");
            jt_jw_string(&w, q->exception);
        }
        if (strcmp(q->err, "missingCommand")) {
            jt_jw_key(&w, "error_message");
            jt_jw_string(&w, q->msg[0]                  ? q->msg
                             : e && e->message[0]   ? e->message
                             : q->exception[0]      ? q->exception
                                                    : q->err);
        }
        if (id) {
            jt_jw_key(&w, "id");
            jt_jw_value(&w, id);
        }
        jt_jw_key(&w, "request");
        jt_jw_value(&w, root);
        jt_jw_key(&w, "status");
        jt_jw_string(&w, "error");
    } else {
        if (id) {
            jt_jw_key(&w, "id");
            jt_jw_value(&w, id);
        }
        jt_jw_key(&w, "result");
        jt_jw_raw(&w, (const char *)result->data, result->len);
        jt_jw_key(&w, "status");
        jt_jw_string(&w, "success");
    }
    jt_jw_key(&w, "type");
    jt_jw_string(&w, "response");
    jt_jw_object_end(&w);
    if (jt_jw_finish(&w) == JT_OK)
        send_buf(c, out);
    scratch_put(&q->rpc->reply_buf, out);
}

void jn_rpc_request(jn_rpc *r, jn_client *c, const char *msg, size_t len, bool over_rate)
{
    jt_json_doc *doc = NULL;
    jt_errinfo ei;
    jt_json_limits lim = {.max_bytes = JT_CODEC_MAX_BYTES * 3, .max_depth = 32, .max_items = 100000};
    if (jt_json_parse(msg, len, &lim, &doc, &ei) != JT_OK || jt_json_root(doc)->kind != JT_JSON_OBJECT) {
        jt_json_doc_free(doc);
        send_transport_error(c, "jsonInvalid", msg, len);
        return;
    }
    const jt_json *root = jt_json_root(doc);
    const char *name = jt_json_string(jt_json_get(root, "command"));
    if (!name)
        name = jt_json_string(jt_json_get(root, "method"));

    jt_buf local;
    jt_buf *result = scratch_get(&r->result_buf, &local);
    jt_jw rw;
    jt_jw_init(&rw, result);
    req q = {.rpc = r, .cl = c, .p = root, .w = &rw};
    int rc;
    const command *cmd = name ? find_command(name) : NULL;
    if (over_rate || !rpc_budget_take(r, c, rpc_request_cost(cmd, root)))
        rc = rpc_fail(&q, "slowDown", NULL);
    else if (!name)
        rc = rpc_fail(&q, "missingCommand", NULL);
    else if (!cmd)
        rc = rpc_fail(&q, "unknownCmd", NULL);
    else if ((cmd->flags & C_ADMIN) && !c->admin)
        rc = rpc_fail(&q, "noPermission", NULL);
    else if ((r->ver && (cmd->flags & C_SUBMIT)) || c->pending) {
        /* Queued: a submit for its signature check, anything else behind
         * this client's earlier submits. */
        if (rpc_queue(&q, cmd, doc)) {
            scratch_put(&r->result_buf, result);
            return;
        }
        rc = -1;
    } else {
        rc = run_command(&q, cmd->fn);
    }
    rpc_send_reply(c, &q, rc, root, result);
    scratch_put(&r->result_buf, result);
    jt_json_doc_free(doc);
}

/* ---------------------------------------------------------------- lifecycle */

jn_rpc *jn_rpc_new(jn_ledger *L, const jn_rpc_config *cfg)
{
    jn_rpc *r = cfg->closer ? calloc(1, sizeof *r) : NULL;
    if (!r)
        return NULL;
    r->L = L;
    r->closer = cfg->closer;
    r->cfg = *cfg;
    if (!r->cfg.max_books_per_conn)
        r->cfg.max_books_per_conn = JN_RPC_MAX_BOOKS_PER_CONN;
    if (!r->cfg.max_books)
        r->cfg.max_books = JN_RPC_MAX_BOOKS;
    if (!r->cfg.budget_per_sec)
        r->cfg.budget_per_sec = JN_RPC_BUDGET;
    if (!r->cfg.budget_burst)
        r->cfg.budget_burst = r->cfg.budget_per_sec * 2;
    if (!r->cfg.addr_budget_per_sec)
        r->cfg.addr_budget_per_sec = JN_RPC_ADDR_BUDGET;
    if (!r->cfg.addr_budget_burst)
        r->cfg.addr_budget_burst = r->cfg.addr_budget_per_sec * 2;
    if (!r->cfg.max_accounts_per_conn)
        r->cfg.max_accounts_per_conn = JN_RPC_MAX_ACCOUNTS_PER_CONN;
    if (!r->cfg.max_accounts)
        r->cfg.max_accounts = JN_RPC_MAX_ACCOUNTS;
    jn_acctidx_init(&r->acct);
    jn_acctidx_init(&r->acct_p);
    uint8_t pk[33];
    pk[0] = 0xED;
    memcpy(pk + 1, cfg->node_pk, 32);
    if (jt_node_public_encode(pk, r->pubkey_node) != JT_OK)
        r->pubkey_node[0] = 0;
    snprintf(r->hostid, sizeof r->hostid, "%s", cfg->hostid ? cfg->hostid : "jt-node");
    snprintf(r->version, sizeof r->version, "%s", cfg->version ? cfg->version : "0");
    jn_closer_set_announce(r->closer, rpc_publish_closed, r);
    return r;
}

void jn_rpc_free(jn_rpc *r)
{
    if (!r)
        return;
    jn_rpc_stop_verifiers(r);
    jn_closer_set_announce(r->closer, NULL, NULL);
    while (r->clients)
        jn_rpc_client_free(r, r->clients);
    jt_buf_clear(&r->result_buf.b);
    jt_buf_clear(&r->reply_buf.b);
    jn_acctidx_clear(&r->acct);
    jn_acctidx_clear(&r->acct_p);
    free(r->to);
    free(r->pub_v);
    free(r->pub_books);
    free(r);
}

jn_client *jn_rpc_client_new(jn_rpc *r, jn_send_fn send, void *sctx, bool admin,
                             const uint8_t addr[16])
{
    jn_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (rpc_budget_attach(r, c, addr)) {
        free(c);
        return NULL;
    }
    c->send = send;
    c->sctx = sctx;
    c->admin = admin;
    c->next = r->clients;
    if (r->clients)
        r->clients->prev = c;
    r->clients = c;
    r->n_clients++;
    return c;
}

bool jn_rpc_client_holds(const jn_rpc *r, const jn_client *c)
{
    (void)r;
    return c->streams || c->n_accts || c->n_accts_p || c->n_books || c->preq || c->pending;
}

void jn_rpc_client_free(jn_rpc *r, jn_client *c)
{
    if (!c)
        return;
    rpc_queue_forget(r, c);
    if (c->prev)
        c->prev->next = c->next;
    else
        r->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    r->n_clients--;
    r->n_books -= c->n_books;
    rpc_stream_forget(r, c);
    rpc_path_forget(r, c);
    rpc_budget_detach(r, c);
    free(c->accts);
    free(c->accts_p);
    free(c->books);
    free(c);
}
