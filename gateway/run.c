/*
 * run.c — `jt-gateway run`: the daemon. One event loop (the server core's)
 * carries the HTTP API and the node link; the store's writer and the
 * submission persister are the only other threads.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libwebsockets.h>
#include <sodium.h>
#include <jt/keystore.h>
#include <jt/session.h>

#include "audit.h"
#include "config.h"
#include "datadir.h"
#include "events.h"
#include "gateway.h"
#include "http.h"
#include "link.h"
#include "map.h"
#include "memo.h"
#include "pass.h"
#include "routes.h"
#include "srv.h"
#include "srv_alloc.h"
#include "store.h"
#include "submit.h"
#include "webhooks.h"

#define KEYSTORE_NAME "keystore.json"

static srv_net *g_net;

static void on_signal(int sig)
{
    (void)sig;
    if (g_net)
        srv_net_stop(g_net);
}

/* Seconds without an HTTP request before the gateway counts as idle and
 * gives its free memory back (srv_alloc_release). */
#define IDLE_SECONDS 60
#define TICK_MS 250

static void on_tick(void *ctx)
{
    gw *g = ctx;
    gw_submit_tick(g->submit);
    gw_events_tick(g->events);
    gw_webhooks_tick(g->webhooks);
    /* Once a second: the allocator's free memory (idle: once, after a
     * quiet minute). */
    if (++g->ticks % (1000 / TICK_MS))
        return;
    g->quiet_s = g->requests == g->requests_seen ? g->quiet_s + 1 : 0;
    g->requests_seen = g->requests;
    srv_alloc_release(g->quiet_s == IDLE_SECONDS);
}

/* The link's hooks go to the submission code. */
static void hook_connected(void *ctx)
{
    gw *g = ctx;
    gw_submit_on_connected(g->submit);
    gw_events_on_connected(g->events);
}

static void hook_ledger(void *ctx, uint32_t index)
{
    gw *g = ctx;
    gw_reads_on_ledger(index);
    gw_submit_on_ledger(g->submit, index);
    gw_events_on_ledger(g->events, index);
}

static void hook_tx(void *ctx, const jt_json *msg, const char *text, size_t len)
{
    gw *g = ctx;
    gw_submit_on_tx(g->submit, msg, text, len);
}

static int open_keystore(gw *g, const gw_config *c, char *err, size_t errcap)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", g->dir, KEYSTORE_NAME);
    struct stat st;
    bool exists = stat(path, &st) == 0;
    char *pass = NULL;
    if (gw_passphrase_get(c, exists ? "to open the keystore" : "for a new keystore", !exists,
                          &pass, err, errcap))
        return -1;
    jt_keystore_params kp;
    jt_keystore_params_preset((jt_keystore_cost)c->kdf_cost, &kp);
    jt_errinfo ei = {0};
    jt_err rc = exists ? jt_keystore_open(path, pass, &g->ks, &ei)
                       : jt_keystore_create(path, pass, &kp, &g->ks, &ei);
    gw_passphrase_free(pass);
    if (rc != JT_OK) {
        snprintf(err, errcap, "%s: %s", path, ei.msg[0] ? ei.msg : jt_strerror(rc));
        return -1;
    }
    if (!exists && jt_keystore_save(g->ks, &ei) != JT_OK) {
        snprintf(err, errcap, "%s: %s", path, ei.msg);
        return -1;
    }
    return 0;
}

static const char *host_of(const char *addr, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", addr);
    char *colon = strrchr(buf, ':');
    if (colon)
        *colon = 0;
    return buf;
}

static bool free_bucket(void *ctx, const char *k, size_t kl, void *v)
{
    free(v);
    return true;
}

int gw_run(const char *dir, const char *config_path)
{
    char conf[4200], err[4800];
    snprintf(conf, sizeof conf, "%s/jt-gateway.conf", dir);
    struct stat st;
    if (stat(conf, &st) != 0) {
        fprintf(stderr, "jt-gateway: %s is not a gateway data directory (no jt-gateway.conf); run `jt-gateway init --data %s` first\n",
                dir, dir);
        return 1;
    }
    srv_alloc_setup();
    gw_config c;
    gw_config_init(&c);
    if (gw_config_load(&c, config_path ? config_path : conf, err, sizeof err)) {
        fprintf(stderr, "jt-gateway: %s\n", err);
        return 1;
    }
    static const char *const whole_files[] = {"jt-gateway.conf", KEYSTORE_NAME, NULL};
    srv_datadir *dd;
    if (srv_datadir_open(dir, "jt-gateway", "run", whole_files, false, &dd, err, sizeof err)) {
        fprintf(stderr, "jt-gateway: %s\n", err);
        return 1;
    }
    gw g = {0};
    g.cfg = &c;
    snprintf(g.dir, sizeof g.dir, "%s", dir);
    g.started = srv_mono_seconds();
    int rcode = 1;
    srv_net *net = NULL;
    if (open_keystore(&g, &c, err, sizeof err) ||
        gw_store_open(dir, c.map_size, &g.store, err, sizeof err) ||
        gw_audit_open(dir, &g.audit, err, sizeof err)) {
        fprintf(stderr, "jt-gateway: %s\n", err);
        goto out;
    }
    g.buckets = gw_map_new();
    if (gw_webhooks_new(&g, &g.webhooks, err, sizeof err) ||
        gw_events_new(&g, &g.events, err, sizeof err)) {
        fprintf(stderr, "jt-gateway: %s\n", err);
        goto out;
    }
    g.memos = gw_memos_new(g.ks, c.keys_loaded);
    srv_net_config nc;
    srv_net_config_init(&nc);
    nc.ws_addr = NULL;
    nc.jtp_addr = NULL;
    nc.http_addr = c.http_addr;
    nc.http_tls_cert = c.tls_cert[0] ? c.tls_cert : NULL;
    nc.http_tls_key = c.tls_key[0] ? c.tls_key : NULL;
    nc.http_max_body = c.max_body;
    nc.max_conns = c.max_conns;
    nc.max_conns_per_addr = c.max_conns_per_addr;
    /* Every request, authenticated or not, counts against its connection's
     * rate: a flood of bad keys is refused before any lookup or log line. */
    nc.rate_per_sec = c.conn_rate;
    nc.http_idle_s = c.idle_s;
    nc.http_deadline_s = c.msg_deadline_s;
    nc.slow_reader_s = c.slow_reader_s;
    nc.max_outbuf = c.max_outbuf;
    nc.max_out_total = c.max_outbuf_total;
    nc.client_protocols = jt_session_lws_protocol();
    nc.n_client_protocols = 1;
    /* /v2/events: the upgrade's headers do not reach the handlers, so the
     * API key comes in the first message (events.c). */
    static const char *const ws_paths[] = {"/v2/events"};
    nc.http_ws_paths = ws_paths;
    nc.n_http_ws_paths = 1;
    srv_net_handlers h = {.on_http = gw_http_on_request,
                          .on_http_abort = gw_http_on_abort,
                          .on_request = gw_events_on_request,
                          .on_close = gw_events_on_close,
                          .keep = gw_events_keep};
    if (!g.buckets || !g.memos || srv_net_new(&nc, &h, &g, &net, err, sizeof err)) {
        fprintf(stderr, "jt-gateway: %s\n", err[0] ? err : "out of memory");
        goto out;
    }
    g.net = net;
    const char *urls[GW_MAX_NODES];
    for (size_t i = 0; i < c.n_nodes; i++)
        urls[i] = c.nodes[i];
    gw_link_hooks hooks = {.ctx = &g,
                           .on_connected = hook_connected,
                           .on_ledger = hook_ledger,
                           .on_tx = hook_tx};
    if (gw_link_new(srv_net_lws_context(net), srv_net_client_vhost(net), urls, c.n_nodes, c.request_timeout_ms, &hooks, &g.link,
                    err, sizeof err) ||
        gw_submit_new(&c, g.store, g.audit, g.ks, g.link, net, &g.submit, err, sizeof err)) {
        fprintf(stderr, "jt-gateway: %s\n", err);
        goto out;
    }
    size_t nkeys = jt_keystore_count(g.ks);
    for (size_t i = 0; i < nkeys; i++) {
        jt_keystore_entry e;
        if (jt_keystore_entry_at(g.ks, i, &e) == JT_OK)
            gw_link_follow(g.link, e.address);
    }
    g_net = net;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    srv_net_set_timer(net, TICK_MS, on_tick, &g);
    char hb[160];
    fprintf(stderr,
            "jt-gateway event=start http=%s:%d tls=%s node=%s keys=%zu allocator=%s\n",
            host_of(c.http_addr, hb, sizeof hb), srv_net_listen_port(net, "http"),
            c.tls_cert[0] ? "on" : "off", c.nodes[0], nkeys, srv_alloc_name());
    srv_net_run(net);
    fprintf(stderr, "jt-gateway event=stop\n");
    rcode = 0;
out:
    g_net = NULL;
    /* The persister stops first (nothing more is posted to the loop); the
     * link's requests then complete (cancelled) into the submission code;
     * callers still waiting are answered while the HTTP server can take
     * it; the server core's free runs what was posted; the submission
     * code goes last. */
    gw_submit_stop(g.submit);
    gw_events_stop(g.events);
    gw_link_free(g.link);
    g.link = NULL;
    gw_submit_drain(g.submit);
    /* The webhook worker is joined (its attempts under way stay owed). */
    gw_webhooks_stop(g.webhooks);
    /* The store's writer finishes (its callbacks post to the loop) before
     * the server core runs what was posted and goes. */
    gw_store_close(g.store);
    g.store = NULL;
    srv_net_free(net);
    gw_events_free(g.events);
    gw_webhooks_free(g.webhooks);
    gw_submit_free(g.submit);
    if (g.buckets)
        gw_map_each(g.buckets, free_bucket, NULL);
    gw_map_free(g.buckets);
    gw_reads_free();
    gw_audit_close(g.audit);
    gw_store_close(g.store);
    gw_memos_free(g.memos);
    jt_keystore_free(g.ks);
    srv_datadir_close(dd);
    return rcode;
}
