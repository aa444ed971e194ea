/*
 * cmd_server.c — the commands about the node itself: ping, stop,
 * server_info (and server_state), and the answer for known commands it does
 * not offer.
 */
#include "rpc_int.h"

#include <stdio.h>

int cmd_ping(req *q)
{
    return 0;
}

/* Admin: the node stops as on SIGTERM (the ledger being written is kept),
 * after this reply has gone out. */
int cmd_stop(req *q)
{
    if (!q->rpc->cfg.stop)
        return rpc_fail(q, "notSupported", NULL);
    fprintf(stderr, "jt-node event=stop reason=\"stop command\"\n");
    q->rpc->cfg.stop(q->rpc->cfg.stop_ctx);
    jt_jw_key(q->w, "message");
    jt_jw_string(q->w, "jt-node stopping");
    return 0;
}

int cmd_server_info(req *q)
{
    jn_ledger *L = q->rpc->L;
    const jn_header *h = jn_ledger_last(L);
    const jn_params *p = jn_ledger_params(L);
    jt_jw *w = q->w;
    char buf[64];
    jt_jw_key(w, "info");
    jt_jw_object_begin(w);
    jt_jw_key(w, "build_version");
    jt_jw_string(w, q->rpc->version);
    jt_jw_key(w, "complete_ledgers");
    rpc_jw_validated_ledgers(w, L);
    jt_jw_key(w, "hostid");
    jt_jw_string(w, q->rpc->hostid);
    jt_jw_key(w, "io_latency_ms");
    jt_jw_uint(w, 1);
    jt_jw_key(w, "last_close");
    jt_jw_object_begin(w);
    jt_jw_key(w, "converge_time_s");
    jt_jw_uint(w, 0);
    jt_jw_key(w, "proposers");
    jt_jw_uint(w, 0);
    jt_jw_object_end(w);
    jt_jw_key(w, "load_factor");
    jt_jw_uint(w, 1);
    jt_jw_key(w, "peers");
    jt_jw_uint(w, 0);
    jt_jw_key(w, "pubkey_node");
    jt_jw_string(w, q->rpc->pubkey_node);
    jt_jw_key(w, "server_state");
    jt_jw_string(w, "full");
    jt_jw_key(w, "validated_ledger");
    jt_jw_object_begin(w);
    uint32_t now = jn_now();
    jt_jw_key(w, "age");
    jt_jw_uint(w, now > h->close_time ? now - h->close_time : 0);
    jt_jw_key(w, "base_fee_swt");
    snprintf(buf, sizeof buf, "%" PRIu64 ".%06" PRIu64, p->base_fee / 1000000, p->base_fee % 1000000);
    jt_jw_raw(w, buf, strlen(buf));
    jt_jw_key(w, "hash");
    jt_jw_hex(w, h->hash, 32);
    jt_jw_key(w, "reserve_base_swt");
    jt_jw_uint(w, p->reserve_base / 1000000);
    jt_jw_key(w, "reserve_inc_swt");
    jt_jw_uint(w, p->reserve_inc / 1000000);
    jt_jw_key(w, "seq");
    jt_jw_uint(w, h->seq);
    jt_jw_object_end(w);
    jt_jw_key(w, "validation_quorum");
    jt_jw_uint(w, 0);
    jt_jw_object_end(w);
    return 0;
}

int cmd_not_supported(req *q)
{
    return rpc_fail(q, "notSupported", NULL);
}
