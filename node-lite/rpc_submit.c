/*
 * rpc_submit.c — the submit queue.
 *
 * With verify workers (jn_rpc_start_verifiers) a submit is decoded on the
 * loop, its signature checked on a worker, and the transaction applied
 * back on the loop; requests are finished strictly in arrival order, and a
 * client's later requests wait behind its earlier submits. This path runs
 * for every payment: it allocates one queue entry per request and nothing
 * else of its own.
 */
#include "rpc_int.h"

#include <stddef.h>
#include <stdlib.h>

/* ---------------------------------------------------------------- submit */

/* Signs tx_json with secret (loopback only). On success *blob is the
 * signed transaction (caller frees). */
static int sign_request(req *q, jt_buf *blob)
{
    if (!q->cl->admin)
        return rpc_fail(q, "noPermission", "Signing on the node is allowed only to admin connections ([admin] in the node's config).");
    const char *secret = jt_json_string(jt_json_get(q->p, "secret"));
    const jt_json *tj = jt_json_get(q->p, "tx_json");
    if (!tj || tj->kind != JT_JSON_OBJECT)
        return rpc_fail(q, "invalidParams", "Missing field 'tx_json'.");
    jt_keypair kp;
    jt_errinfo ei;
    if (jt_keypair_from_secret(secret, &kp, &ei) != JT_OK)
        return rpc_fail(q, "badSecret", NULL);
    jt_obj *tx = NULL;
    int rc = -1;
    if (jt_obj_from_jsonv(tj, &tx, &ei) != JT_OK) {
        rc = rpc_fail(q, "invalidParams", "tx_json: %s", ei.msg);
        goto done;
    }
    jt_account_id acct;
    if (jt_obj_get_account_f(tx, FLD("Account"), &acct) != JT_OK) {
        rc = rpc_fail(q, "invalidParams", "Missing field 'tx_json.Account'.");
        goto done;
    }
    if (!jt_obj_has_f(tx, FLD("Sequence"))) {
        uint8_t id[32];
        jn_id_account(&acct, id);
        const jt_obj *root = jn_view_read(jn_ledger_open_view(q->rpc->L), id);
        if (!root) {
            rc = rpc_fail(q, "actNotFound", NULL);
            goto done;
        }
        if (jt_obj_set_uint_f(tx, FLD("Sequence"), get_u(root, "Sequence", 0)) != JT_OK)
            goto done;
    }
    if (!jt_obj_has_f(tx, FLD("Fee"))) {
        jt_amount fee;
        jt_amount_native(&fee, 10000);
        if (jt_obj_set_amount_f(tx, FLD("Fee"), &fee) != JT_OK)
            goto done;
    }
    if (!jt_obj_has_f(tx, FLD("Flags")) && jt_obj_set_uint_f(tx, FLD("Flags"), 0) != JT_OK)
        goto done;
    if (jt_tx_sign(tx, &kp, &ei) != JT_OK) {
        rc = rpc_fail(q, "invalidParams", "signing: %s", ei.msg);
        goto done;
    }
    if (jt_obj_to_binary(tx, 0, blob) != JT_OK)
        goto done;
    rc = 0;
done:
    jt_keypair_clear(&kp);
    jt_obj_free(tx);
    if (rc && !q->err)
        rc = rpc_fail(q, "internal", NULL);
    return rc;
}

/* The part of submit before the signature check. */
int rpc_submit_prepare(req *q, jt_buf *blob_out, jt_obj **txp)
{
    jt_buf blob;
    jt_buf_init(&blob);
    *txp = NULL;
    const jt_json *bv = jt_json_get(q->p, "tx_blob");
    int rc = -1;
    if (!bv) {
        if (!jt_json_get(q->p, "secret"))
            return rpc_fail(q, "invalidParams", "Missing field 'tx_blob'.");
        if (sign_request(q, &blob))
            goto done;
    } else {
        const char *hex = jt_json_string(bv);
        size_t hl = hex ? strlen(hex) : 0;
        if (!hex || hl == 0 || hl % 2 || hl / 2 > JT_CODEC_MAX_BYTES) {
            rc = rpc_fail(q, "invalidParams", "Invalid field 'tx_blob': expected hex of an encoded transaction.");
            goto done;
        }
        if (!(blob.data = malloc(hl / 2)) ) {
            rc = rpc_fail(q, "internal", NULL);
            goto done;
        }
        blob.cap = hl / 2;
        if (jt_hex_decode(hex, hl, blob.data, blob.cap, &blob.len) != JT_OK) {
            rc = rpc_fail(q, "invalidParams", "Invalid field 'tx_blob': not hex.");
            goto done;
        }
    }
    jt_obj *tx = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    if (jt_obj_from_binary(blob.data, blob.len, &tx, &ei) != JT_OK) {
        snprintf(q->exception, sizeof q->exception, "%s", ei.msg[0] ? ei.msg : "blob does not parse");
        rc = rpc_fail(q, "invalidTransaction", NULL);
        goto done;
    }
    /* Canonical: re-encoding gives the same bytes. */
    jt_buf again;
    jt_buf_init(&again);
    bool canonical = jt_obj_to_binary(tx, 0, &again) == JT_OK && again.len == blob.len &&
                     !memcmp(again.data, blob.data, blob.len);
    jt_buf_clear(&again);
    if (!canonical) {
        jt_obj_free(tx);
        snprintf(q->exception, sizeof q->exception, "transaction is not in canonical form");
        rc = rpc_fail(q, "invalidTransaction", NULL);
        goto done;
    }
    if (!jt_obj_has_f(tx, FLD("TransactionType")) || !jt_obj_has_f(tx, FLD("Account"))) {
        jt_obj_free(tx);
        snprintf(q->exception, sizeof q->exception, "not a transaction: TransactionType and Account are required");
        rc = rpc_fail(q, "invalidTransaction", NULL);
        goto done;
    }
    *txp = tx;
    *blob_out = blob;
    return 0;
done:
    jt_buf_clear(&blob);
    return rc;
}

/* The reply's tx_json: written before the ledger takes the object. */
static bool write_tx_json(const jt_obj *tx, const uint8_t id[32], jt_buf *tj)
{
    (void)jt_buf_reserve(tj, 1024); /* a payment's tx_json: grown once */
    jt_jw tw;
    jt_jw_init(&tw, tj);
    rpc_jw_tx(&tw, tx, id, NULL, false);
    return jt_jw_finish(&tw) == JT_OK;
}

/* The rest of submit, once the signature check gave `verr`. */
int rpc_submit_finish(req *q, jt_buf *blob, jt_obj *tx, jt_err verr, const jt_errinfo *vei,
                      const uint8_t *id_done, const jt_buf *tx_json)
{
    int rc = -1;
    if (verr != JT_OK) {
        jt_obj_free(tx);
        snprintf(q->exception, sizeof q->exception, "fails local checks: %s",
                 vei->msg[0] ? vei->msg : "invalid signature");
        rc = rpc_fail(q, "invalidTransaction", NULL);
        goto done;
    }
    uint8_t id[32];
    if (id_done)
        memcpy(id, id_done, 32);
    else
        jt_tx_blob_id(blob->data, blob->len, id);
    jt_buf tj;
    jt_buf_init(&tj);
    bool tj_ok = tx_json ? tx_json->data != NULL : write_tx_json(tx, id, &tj);
    if (tx_json)
        tj = *tx_json; /* borrowed: the caller frees it */
    /* A copy for proposed-stream subscribers only: the ledger takes tx. */
    jt_obj *pub = wants_proposed(q->rpc) ? jt_obj_clone(tx) : NULL;
    const jn_txmemo *memo = q->job ? &q->job->memo : NULL;
    int ter = jn_ledger_submit(q->rpc->L, tx, blob->data, blob->len, id, memo);
    jw_engine_result(q->w, ter);
    jt_jw_key(q->w, "tx_blob");
    jt_jw_hex(q->w, blob->data, blob->len);
    if (tj_ok) {
        jt_jw_key(q->w, "tx_json");
        jt_jw_raw(q->w, (const char *)tj.data, tj.len);
    }
    if (!tx_json)
        jt_buf_clear(&tj);
    if (pub && jt_ter_is_claimed(ter))
        rpc_publish_proposed(q->rpc, pub, id, ter);
    jt_obj_free(pub);
    rc = 0;
done:
    jt_buf_clear(blob);
    return rc;
}

/* ---------------------------------------------------------------- the queue */

/* A queued submit on a worker: decoded (unless the loop signed it), its
 * signature checked (by the worker, between these two), and, when good, what
 * its apply and its reply need from it alone worked out: entry IDs and
 * signer, ID, tx_json. Reads the request document, which the loop leaves
 * alone until the job is done. */
static bool submit_prepare(jn_vjob *j)
{
    pending *p = (pending *)((char *)j - offsetof(pending, vj));
    if (!p->tx) {
        req wq = {.p = jt_json_root(p->doc)};
        if (rpc_submit_prepare(&wq, &p->blob, &p->tx)) {
            snprintf(p->msg, sizeof p->msg, "%s", wq.msg);
            snprintf(p->exception, sizeof p->exception, "%s", wq.exception);
            p->w_err = wq.err ? wq.err : "internal";
            return false;
        }
    }
    j->tx = p->tx;
    return true;
}

static void submit_finish(jn_vjob *j)
{
    pending *p = (pending *)((char *)j - offsetof(pending, vj));
    jn_txmemo_fill(&p->memo, p->tx);
    jt_tx_blob_id(p->blob.data, p->blob.len, p->id);
    if (!write_tx_json(p->tx, p->id, &p->tx_json))
        jt_buf_clear(&p->tx_json);
}

/* The rest of a queued submit, once the worker is done. */
static int submit_queued(req *q)
{
    pending *p = q->job;
    if (p->w_err) {
        q->err = p->w_err;
        memcpy(q->msg, p->msg, sizeof q->msg);
        memcpy(q->exception, p->exception, sizeof q->exception);
        return -1;
    }
    if (p->sign_here) {
        /* Signed now, by the node, with the open ledger as it stands. */
        jt_obj *tx = NULL;
        if (rpc_submit_prepare(q, &p->blob, &tx))
            return -1;
        return rpc_submit_finish(q, &p->blob, tx, JT_OK, NULL, NULL, NULL);
    }
    jt_obj *tx = p->tx;
    p->tx = NULL; /* rpc_submit_finish takes it */
    bool good = p->vj.err == JT_OK;
    return rpc_submit_finish(q, &p->blob, tx, p->vj.err, &p->vj.ei, good ? p->id : NULL,
                             good ? &p->tx_json : NULL);
}

static void enqueue(jn_rpc *r, pending *p)
{
    p->next = NULL;
    if (r->q_tail)
        r->q_tail->next = p;
    else
        r->q_head = p;
    r->q_tail = p;
    r->q_len++;
    if (p->cl)
        p->cl->pending++;
}

static void pending_free(pending *p)
{
    jt_obj_free(p->tx);
    jt_buf_clear(&p->blob);
    jt_buf_clear(&p->tx_json);
    jt_json_doc_free(p->doc);
    free(p);
}

/* Finishes a queued request on the loop thread and replies (if its client
 * is still there). A submit is applied even when its client has gone: the
 * transaction was accepted from the network and must not be lost. */
static void finish_pending(jn_rpc *r, pending *p)
{
    jt_buf local;
    jt_buf *result = scratch_get(&r->result_buf, &local);
    jt_jw rw;
    jt_jw_init(&rw, result);
    const jt_json *root = jt_json_root(p->doc);
    req q = {.rpc = r, .cl = p->cl, .p = root, .w = &rw};
    int rc = -1;
    if (p->err) {
        q.err = p->err;
        memcpy(q.msg, p->msg, sizeof q.msg);
        memcpy(q.exception, p->exception, sizeof q.exception);
    } else if (p->submit) {
        q.job = p;
        rc = run_command(&q, submit_queued);
    } else if (p->cl) {
        rc = run_command(&q, p->cmd->fn);
    }
    if (p->cl)
        rpc_send_reply(p->cl, &q, rc, root, result);
    scratch_put(&r->result_buf, result);
}

static void verified(void *ctx);

bool rpc_queue(req *q, const command *cmd, jt_json_doc *doc)
{
    jn_rpc *r = q->rpc;
    jn_client *c = q->cl;
    pending *p = r->q_len < MAX_PENDING ? calloc(1, sizeof *p) : NULL;
    if (!p) {
        rpc_fail(q, "tooBusy", NULL);
        return false;
    }
    p->cl = c;
    p->cmd = cmd;
    int rc = 0;
    if (r->ver && (cmd->flags & C_SUBMIT)) {
        p->submit = true;
        jt_buf_init(&p->blob);
        jt_buf_init(&p->tx_json);
        /* A blob is decoded by the worker. One the node signs (secret) is
         * signed in its turn, on the loop: it fills in Sequence from the
         * open ledger, which must hold the client's earlier submits by
         * then, or pipelined signing requests would all get one Sequence. */
        p->sign_here = !jt_json_get(q->p, "tx_blob");
    }
    if (rc && !c->pending) {
        free(p); /* answered now */
        return false;
    }
    /* Queued; a refused submit is answered in its turn too. */
    if (rc) {
        p->err = q->err;
        memcpy(p->msg, q->msg, sizeof p->msg);
        memcpy(p->exception, q->exception, sizeof p->exception);
    }
    p->doc = doc;
    p->vj.prepare = submit_prepare;
    p->vj.finish = submit_finish;
    enqueue(r, p);
    if (p->submit && p->sign_here) {
        atomic_store(&p->vj.done, true); /* nothing for a worker */
        verified(r);                      /* the queue moves on at the next safe point */
    } else if (p->submit && !p->err)
        jn_verifier_push(r->ver, &p->vj);
    return true;
}

void rpc_queue_forget(jn_rpc *r, jn_client *c)
{
    for (pending *p = r->q_head; p && c->pending; p = p->next)
        if (p->cl == c) {
            p->cl = NULL;
            c->pending--;
        }
}

static bool pending_ready(const pending *p)
{
    return !p->submit || p->err || atomic_load(&p->vj.done);
}

/* Applying a payment reads two account entries that are usually out of
 * cache. While one request finishes, the entries of the ready submits a few
 * places behind it are fetched in stages (PF_* places ahead): their IDs and
 * the map slots, the objects, their members. The transaction is only read:
 * its check is done. */
#define PF_KEYS    6
#define PF_OBJECT  4
#define PF_FIELDS  2

static void prefetch_pending(jn_rpc *r, pending *p, int stage)
{
    if (!p || !p->submit || p->sign_here || p->err || !atomic_load(&p->vj.done) || p->w_err || p->vj.err)
        return;
    /* The request was parsed and decoded long ago: its document and
     * transaction too. */
    if (stage == 1) {
        __builtin_prefetch(p->doc);
        jt_obj_prefetch(p->tx, false);
    } else if (stage == 2) {
        jt_json_prefetch(jt_json_root(p->doc));
        jt_obj_prefetch(p->tx, true);
    }
    jn_ledger_prefetch(r->L, &p->memo, stage); /* the worker filled it in */
    if (stage == 0)
        jn_ledger_prefetch_id(r->L, p->id); /* its duplicate check */
}

/* Requests one drain finishes before the loop turns again. Finishing
 * every ready request at once let the loop apply for milliseconds while it
 * read nothing: the workers ran out of submits to check, then the loop
 * waited for them, and the two cores took turns (15-20 % of them idle under
 * load). A slice this size, then the loop's own turn (reading requests,
 * which feeds the workers), then the next slice, keeps both busy. */
#define DRAIN_SLICE 64

/* Finishes up to `max` requests at the head of the queue that are ready,
 * in order; true when a ready one is left. */
static bool drain_some(jn_rpc *r, size_t max)
{
    size_t done = 0;
    while (r->q_head && pending_ready(r->q_head)) {
        if (done++ == max)
            return true;
        pending *p = r->q_head;
        pending *ahead = p;
        for (int k = 1; k <= PF_KEYS && ahead; k++) {
            ahead = ahead->next;
            if (k == PF_FIELDS)
                prefetch_pending(r, ahead, 2);
            else if (k == PF_OBJECT)
                prefetch_pending(r, ahead, 1);
            else if (k == PF_KEYS)
                prefetch_pending(r, ahead, 0);
        }
        r->q_head = p->next;
        if (!r->q_head)
            r->q_tail = NULL;
        r->q_len--;
        if (p->cl)
            p->cl->pending--;
        finish_pending(r, p);
        pending_free(p);
    }
    return false;
}

static void drain(void *ctx);

/* Posts a drain to the loop unless one is waiting; false when it could
 * not be posted (out of memory). */
static bool post_drain(jn_rpc *r)
{
    if (!atomic_exchange(&r->wake, true) && r->post(r->post_ctx, drain, r)) {
        atomic_store(&r->wake, false);
        return false;
    }
    return true;
}

/* On the loop thread, after a worker finished a check: finishes a slice of
 * the ready requests, and comes back for the rest after the loop's turn
 * (or, if that cannot be arranged, finishes them all now: no worker may be
 * left to post again). */
static void drain(void *ctx)
{
    jn_rpc *r = ctx;
    atomic_store(&r->wake, false);
    if (drain_some(r, DRAIN_SLICE) && !post_drain(r))
        (void)drain_some(r, SIZE_MAX);
}

/* Worker thread: one check finished. Posts a drain unless one is waiting. */
static void verified(void *ctx)
{
    (void)post_drain(ctx);
}

/* ---------------------------------------------------------------- the verify workers */

int jn_rpc_start_verifiers(jn_rpc *r, unsigned threads,
                           int (*post)(void *pctx, void (*cb)(void *ctx), void *ctx), void *post_ctx)
{
    if (r->ver || !threads)
        return 0;
    r->post = post;
    r->post_ctx = post_ctx;
    r->ver = jn_verifier_new(threads, verified, r);
    return r->ver ? 0 : -1;
}

void jn_rpc_stop_verifiers(jn_rpc *r)
{
    if (!r)
        return;
    rpc_publish_flush(r); /* the loop has stopped: no slice would follow */
    if (!r->ver)
        return;
    jn_verifier_free(r->ver);
    r->ver = NULL;
    /* What the workers finished is applied; what they did not start is
     * dropped unanswered (the node is stopping). */
    (void)drain_some(r, SIZE_MAX);
    while (r->q_head) {
        pending *p = r->q_head;
        r->q_head = p->next;
        pending_free(p);
    }
    r->q_tail = NULL;
    r->q_len = 0;
}
