/*
 * link.c — the node link (link.h).
 */
#include "link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "srv.h"

/* Failed attempts in a row before moving to the next URL. */
#define FAILOVER_AFTER 2

typedef struct follow {
    char address[40];
    jt_session_sub *sub;
} follow;

struct gw_link {
    struct lws_context *lws;
    struct lws_vhost *vhost;
    char **urls;
    size_t n_urls, cur;
    unsigned timeout_ms;
    gw_link_hooks hooks;
    jt_session *s;
    jt_session_sub *ledger_sub;
    uint64_t last_push; /* the session's push serial last handled (on_account_push) */
    jt_session_state state;
    bool ready;
    unsigned fails, reconnects;
    uint32_t validated;
    double validated_at;
    char last_error[512];
    follow *follows;
    size_t n_follows, cap_follows;
};

static void link_log(const char *level, const char *event, const gw_link *l, const char *extra)
{
    fprintf(stderr, "level=%s mod=link event=%s node=%s%s%s\n", level, event,
            l->n_urls ? l->urls[l->cur] : "-", extra && extra[0] ? " " : "", extra ? extra : "");
}

static void see_ledger(gw_link *l, const jt_json *msg)
{
    uint64_t idx = 0;
    if (!jt_json_uint64(jt_json_get(msg, "ledger_index"), true, &idx) || idx == 0 ||
        idx > UINT32_MAX)
        return;
    if ((uint32_t)idx < l->validated)
        return; /* an older ledger (another node after a failover, say) */
    bool fresh = (uint32_t)idx > l->validated;
    l->validated = (uint32_t)idx;
    l->validated_at = srv_mono_seconds();
    if (fresh && l->hooks.on_ledger)
        l->hooks.on_ledger(l->hooks.ctx, l->validated);
}

static void on_ledger_push(void *ctx, const jt_json *msg, const char *text, size_t len)
{
    gw_link *l = ctx;
    const char *type = jt_json_string(jt_json_get(msg, "type"));
    if (type && !strcmp(type, "ledgerClosed"))
        see_ledger(l, msg);
}

static void on_ledger_sub(void *ctx, const jt_session_reply *r)
{
    gw_link *l = ctx;
    if (r->err != JT_OK) {
        snprintf(l->last_error, sizeof l->last_error, "ledger subscription: %s",
                 r->ei ? r->ei->msg : "failed");
        return;
    }
    see_ledger(l, jt_json_get(r->msg, "result"));
    l->ready = l->validated > 0;
    if (l->ready) {
        link_log("info", "ready", l, NULL);
        if (l->hooks.on_connected)
            l->hooks.on_connected(l->hooks.ctx);
    }
}

static void on_account_push(void *ctx, const jt_json *msg, const char *text, size_t len)
{
    gw_link *l = ctx;
    /* Every account subscription is given a transaction touching its
     * account: handled once, however many of the gateway's accounts it
     * touches, so a message costs the same with one account or thousands. */
    uint64_t serial = jt_session_push_serial(l->s);
    if (serial == l->last_push)
        return;
    l->last_push = serial;
    const char *type = jt_json_string(jt_json_get(msg, "type"));
    const jt_json *v = jt_json_get(msg, "validated");
    if (type && !strcmp(type, "transaction") && v && v->kind == JT_JSON_BOOL && v->u.b &&
        l->hooks.on_tx)
        l->hooks.on_tx(l->hooks.ctx, msg, text, len);
}

static int subscribe_account(gw_link *l, follow *f)
{
    char params[96];
    snprintf(params, sizeof params, "{\"accounts\":[\"%s\"]}", f->address);
    jt_errinfo ei;
    if (jt_session_subscribe(l->s, params, on_account_push, l, NULL, NULL, &f->sub, &ei) != JT_OK) {
        f->sub = NULL;
        snprintf(l->last_error, sizeof l->last_error, "subscribe %s: %s", f->address, ei.msg);
        return -1;
    }
    return 0;
}

static void on_state(void *ctx, jt_session_state st, const jt_errinfo *why, int retry_ms);

static int open_session(gw_link *l)
{
    jt_session_options o;
    jt_session_options_init(&o);
    o.request_timeout_ms = (int)l->timeout_ms;
    o.on_state = on_state;
    o.state_ctx = l;
    o.vhost = l->vhost;
    /* A ledger with its transactions (events) runs to megabytes under
     * load; the node's answers are trusted to this size. */
    o.max_message = (size_t)64 << 20;
    jt_errinfo ei;
    l->ready = false;
    l->ledger_sub = NULL;
    l->last_push = 0; /* a new session counts from 1 */
    if (jt_session_new(l->lws, l->urls[l->cur], &o, &l->s, &ei) != JT_OK) {
        l->s = NULL;
        snprintf(l->last_error, sizeof l->last_error, "%s", ei.msg);
        return -1;
    }
    if (jt_session_subscribe(l->s, "{\"streams\":[\"ledger\"]}", on_ledger_push, l, on_ledger_sub,
                             l, &l->ledger_sub, &ei) != JT_OK) {
        snprintf(l->last_error, sizeof l->last_error, "%s", ei.msg);
        jt_session_free(l->s);
        l->s = NULL;
        return -1;
    }
    for (size_t i = 0; i < l->n_follows; i++)
        subscribe_account(l, &l->follows[i]);
    return 0;
}

static void failover(gw_link *l)
{
    jt_session *old = l->s;
    l->s = NULL;
    l->ready = false;
    for (size_t i = 0; i < l->n_follows; i++)
        l->follows[i].sub = NULL; /* freed with the session */
    jt_session_free(old);
    for (size_t tries = 0; tries < l->n_urls; tries++) {
        l->cur = (l->cur + 1) % l->n_urls;
        l->fails = 0;
        link_log("warn", "failover", l, NULL);
        if (open_session(l) == 0)
            return;
        link_log("error", "session_refused", l, l->last_error);
    }
}

static void on_state(void *ctx, jt_session_state st, const jt_errinfo *why, int retry_ms)
{
    gw_link *l = ctx;
    l->state = st;
    char extra[320] = "";
    if (why && why->code != JT_OK) {
        snprintf(l->last_error, sizeof l->last_error, "%s", why->msg);
        snprintf(extra, sizeof extra, "why=\"%.256s\"", why->msg);
    }
    switch (st) {
    case JT_SESSION_CONNECTED:
        l->fails = 0;
        l->reconnects++;
        link_log("info", "connected", l, NULL);
        break;
    case JT_SESSION_CONNECTING:
        break;
    case JT_SESSION_DISCONNECTED:
        l->ready = false;
        l->fails++;
        link_log("warn", "disconnected", l, extra);
        if (l->n_urls > 1 && l->fails >= FAILOVER_AFTER)
            failover(l);
        break;
    case JT_SESSION_FAILED:
        l->ready = false;
        link_log("error", "refused", l, extra);
        if (l->n_urls > 1)
            failover(l);
        break;
    }
}

int gw_link_new(struct lws_context *lws, struct lws_vhost *vhost, const char *const *urls, size_t n_urls,
                unsigned request_timeout_ms, const gw_link_hooks *hooks, gw_link **out, char *err,
                size_t errcap)
{
    *out = NULL;
    gw_link *l = calloc(1, sizeof *l);
    if (!l || !n_urls || !(l->urls = calloc(n_urls, sizeof *l->urls))) {
        snprintf(err, errcap, n_urls ? "out of memory" : "no node URL");
        free(l);
        return -1;
    }
    l->lws = lws;
    l->vhost = vhost;
    l->n_urls = n_urls;
    for (size_t i = 0; i < n_urls; i++)
        l->urls[i] = strdup(urls[i]);
    l->timeout_ms = request_timeout_ms;
    l->hooks = *hooks;
    l->validated_at = -1;
    l->state = JT_SESSION_CONNECTING;
    /* A URL that cannot even be parsed is a configuration error: say so
     * now rather than failing over forever. */
    for (size_t i = 0; i < n_urls; i++) {
        l->cur = i;
        if (open_session(l)) {
            snprintf(err, errcap, "[node] url %s: %s", urls[i], l->last_error);
            gw_link_free(l);
            return -1;
        }
        if (i + 1 < n_urls) {
            jt_session_free(l->s);
            l->s = NULL;
        }
    }
    if (n_urls > 1) {
        jt_session_free(l->s);
        l->s = NULL;
        l->cur = 0;
        if (open_session(l)) {
            snprintf(err, errcap, "[node] url %s: %s", urls[0], l->last_error);
            gw_link_free(l);
            return -1;
        }
    }
    *out = l;
    return 0;
}

void gw_link_free(gw_link *l)
{
    if (!l)
        return;
    jt_session_free(l->s);
    for (size_t i = 0; i < l->n_urls; i++)
        free(l->urls[i]);
    free(l->urls);
    free(l->follows);
    free(l);
}

bool gw_link_ready(const gw_link *l)
{
    return l->s && l->ready && l->state == JT_SESSION_CONNECTED;
}

const char *gw_link_state_text(const gw_link *l)
{
    if (!l->s)
        return "down";
    switch (l->state) {
    case JT_SESSION_CONNECTED:
        return l->ready ? "connected" : "syncing";
    case JT_SESSION_CONNECTING:
        return "connecting";
    case JT_SESSION_DISCONNECTED:
        return "disconnected";
    case JT_SESSION_FAILED:
        return "refused";
    }
    return "unknown";
}

const char *gw_link_url(const gw_link *l)
{
    return l->urls[l->cur];
}

uint32_t gw_link_validated(const gw_link *l)
{
    return l->validated;
}

double gw_link_validated_age(const gw_link *l)
{
    return l->validated_at < 0 ? -1 : srv_mono_seconds() - l->validated_at;
}

unsigned gw_link_reconnects(const gw_link *l)
{
    return l->reconnects ? l->reconnects - 1 : 0;
}

const char *gw_link_last_error(const gw_link *l)
{
    return l->last_error;
}

jt_err gw_link_request(gw_link *l, const char *json, int timeout_ms, jt_session_reply_cb cb,
                       void *ctx, jt_errinfo *ei)
{
    if (!l->s) {
        memset(ei, 0, sizeof *ei);
        ei->code = JT_ECLOSED;
        snprintf(ei->msg, sizeof ei->msg, "no node link");
        return JT_ECLOSED;
    }
    return jt_session_request(l->s, json, timeout_ms, cb, ctx, NULL, ei);
}

int gw_link_follow(gw_link *l, const char *address)
{
    for (size_t i = 0; i < l->n_follows; i++)
        if (!strcmp(l->follows[i].address, address))
            return 0;
    if (l->n_follows == l->cap_follows) {
        size_t cap = l->cap_follows ? l->cap_follows * 2 : 16;
        follow *f = realloc(l->follows, cap * sizeof *f);
        if (!f)
            return -1;
        l->follows = f;
        l->cap_follows = cap;
    }
    follow *f = &l->follows[l->n_follows++];
    memset(f, 0, sizeof *f);
    snprintf(f->address, sizeof f->address, "%s", address);
    return l->s ? subscribe_account(l, f) : 0;
}
