/* node_client.c — the threaded node client: each handle is one service
 * thread running a libwebsockets context that carries one jt_session
 * (session.c does all the protocol work: transports, ids, timeouts,
 * reconnection, subscription renewal).
 *
 * Other threads hand their work to the service thread as `op`s on a queue
 * under n->mu and wake it with lws_cancel_service(); the service thread
 * runs them in the EVENT_WAIT_CANCELLED callback of a protocol of its own.
 * A blocking caller waits on a heap `waiter` that the service thread fills;
 * a caller that gives up marks it abandoned, and the service thread frees
 * it then. What the callers read (connected, counts, the permanent failure)
 * is mirrored under n->mu from the session's state callback. */
#include <libwebsockets.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "jt/json.h"
#include "jt/jtp.h"
#include "jt/node.h"
#include "jt/session.h"
#include "jt/util.h"
#include "nodewire.h"

#define DEFAULT_CALL_TIMEOUT_MS 30000
/* How much longer than the session's own timer a blocking caller waits: the
 * session's answer normally comes first; this only matters when the service
 * thread is held up by a callback. */
#define WAIT_MARGIN_MS   1000
#define SERVICE_PROTOCOL "jt-node-service"

typedef struct waiter {
    bool processed; /* the service thread has taken the op */
    bool done;
    bool abandoned; /* the caller stopped waiting: whoever finishes frees it */
    jt_err err;
    char *resp;
    jt_errinfo ei;
} waiter;

typedef enum op_kind { OP_CALL, OP_SUBSCRIBE, OP_UNSUBSCRIBE } op_kind;

typedef struct op {
    struct op *next;
    jt_node *n;
    op_kind kind;
    char *text; /* OP_CALL: the request */
    int timeout_ms;
    waiter *w;            /* blocking */
    jt_node_result_cb cb; /* async */
    void *ctx;
    jt_node_sub *sub; /* OP_SUBSCRIBE, OP_UNSUBSCRIBE */
} op;

struct jt_node_sub {
    jt_node *n;
    jt_node_sub *next; /* on n->subs (service thread) from its subscribe on */
    jt_session_sub *ss;
    char *params;
    jt_node_push_cb cb;
    void *ctx;
    waiter *w;     /* the first answer */
    bool answered; /* later answers are renewals */
};

struct jt_node {
    char url[512];
    jt__nodewire_transport tr;
    jt_node_options opt;
    char *ca_file;
    struct lws_protocols protos[3];
    struct lws_context *lws;
    jt_session *s;
    jt_node_sub *subs; /* service thread; the caller's once it has stopped */

    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool thread_started;

    /* under mu */
    bool stopping;
    bool open;
    unsigned conn_count;
    unsigned failures; /* failed attempts and lost connections */
    jt_errinfo last_err;
    bool has_fatal;
    jt_errinfo fatal;
    op *q_head, *q_tail;
    size_t pending; /* calls queued or in the session */
};

/* ---------------------------------------------------------------- helpers */

static void set_err(jt_errinfo *ei, jt_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(jt_errinfo *ei, jt_err code, const char *fmt, ...)
{
    jt_errinfo_clear(ei);
    ei->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ei->msg, sizeof ei->msg, fmt, ap);
    va_end(ap);
}

static jt_err copy_err(jt_errinfo *dst, const jt_errinfo *src)
{
    if (dst)
        *dst = *src;
    return src->code;
}

static char *dup_text(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static bool on_service_thread(jt_node *n)
{
    return n->thread_started && pthread_equal(pthread_self(), n->thread);
}

static void abs_deadline(struct timespec *abs, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, abs);
    abs->tv_sec += ms / 1000;
    abs->tv_nsec += (ms % 1000) * 1000000;
    if (abs->tv_nsec >= 1000000000) {
        abs->tv_sec++;
        abs->tv_nsec -= 1000000000;
    }
}

/* The session's "outcome unknown" is this client's JT_ECLOSED (node.h). */
static jt_err map_err(jt_err e)
{
    return e == JT_ELOST ? JT_ECLOSED : e;
}

/* Fills `w`; under the lock. */
static void waiter_fill(waiter *w, jt_err err, const char *text, size_t len, const jt_errinfo *ei)
{
    w->processed = true;
    w->done = true;
    w->err = err;
    w->ei = *ei;
    w->ei.code = err;
    w->resp = text ? dup_text(text, len) : NULL;
    if (text && !w->resp) {
        w->err = JT_ENOMEM;
        set_err(&w->ei, JT_ENOMEM, "out of memory for the response");
    }
}

/* Fills `w` and wakes its caller, or frees it when its caller gave up.
 * Returns false in that case. */
static bool waiter_finish(jt_node *n, waiter *w, jt_err err, const char *text, size_t len,
                          const jt_errinfo *ei)
{
    pthread_mutex_lock(&n->mu);
    bool abandoned = w->abandoned;
    if (!abandoned) {
        waiter_fill(w, err, text, len, ei);
        pthread_cond_broadcast(&n->cv);
    }
    pthread_mutex_unlock(&n->mu);
    if (abandoned)
        free(w);
    return !abandoned;
}

/* Waits for `w` (at most timeout_ms, < 0: without limit). Returns false when
 * it timed out: `w` is then abandoned, to be freed by the service thread. */
static bool waiter_wait(jt_node *n, waiter *w, int64_t timeout_ms)
{
    struct timespec abs;
    abs_deadline(&abs, timeout_ms < 0 ? 0 : timeout_ms);
    pthread_mutex_lock(&n->mu);
    int rc = 0;
    while (!w->done && rc == 0) {
        if (timeout_ms < 0)
            pthread_cond_wait(&n->cv, &n->mu);
        else
            rc = pthread_cond_timedwait(&n->cv, &n->mu, &abs);
    }
    bool done = w->done;
    if (!done)
        w->abandoned = true;
    pthread_mutex_unlock(&n->mu);
    return done;
}

static void sub_free(jt_node_sub *sub)
{
    if (sub) {
        free(sub->params);
        free(sub);
    }
}

/* ---------------------------------------------------------------- service thread */

static void call_done(void *ctx, const jt_session_reply *r)
{
    op *o = ctx;
    jt_node *n = o->n;
    jt_errinfo ei = *r->ei;
    ei.code = map_err(r->err);
    if (o->w)
        waiter_finish(n, o->w, ei.code, r->text, r->len, &ei);
    else
        o->cb(o->ctx, ei.code, r->text, r->len, &ei);
    pthread_mutex_lock(&n->mu);
    n->pending--;
    pthread_mutex_unlock(&n->mu);
    free(o->text);
    free(o);
}

static void push_tramp(void *ctx, const jt_json *msg, const char *text, size_t len)
{
    jt_node_sub *sub = ctx;
    if (sub->answered) /* active once the node said yes, as before */
        sub->cb(sub->ctx, msg, text, len);
}

static void sub_unlink(jt_node *n, jt_node_sub *sub)
{
    for (jt_node_sub **pp = &n->subs; *pp; pp = &(*pp)->next) {
        if (*pp == sub) {
            *pp = sub->next;
            break;
        }
    }
}

/* The first answer to a subscription's subscribe goes to its caller (who
 * frees `sub` on an error); when the caller gave up waiting, the
 * subscription is dropped here. The session's subscription is `ss` (NULL:
 * jt_session_subscribe itself failed). */
static void sub_first_answer(jt_node *n, jt_node_sub *sub, jt_session_sub *ss, jt_err err,
                             const char *text, size_t len, const jt_errinfo *ei)
{
    sub->answered = true;
    if (err) {
        if (ss)
            jt_session_unsubscribe(n->s, ss, NULL, NULL); /* nothing stays registered */
        sub->ss = NULL;
        sub_unlink(n, sub);
    }
    waiter *w = sub->w;
    sub->w = NULL;
    if (waiter_finish(n, w, err, text, len, ei))
        return; /* the caller has it now (and frees it on an error) */
    if (!err) {
        jt_session_unsubscribe(n->s, ss, NULL, NULL);
        sub_unlink(n, sub);
    }
    sub_free(sub);
}

static void sub_done(void *ctx, const jt_session_reply *r)
{
    jt_node_sub *sub = ctx;
    if (sub->answered)
        return; /* a renewal: a refusal stays registered for the next one */
    jt_errinfo ei = *r->ei;
    ei.code = map_err(r->err);
    sub_first_answer(sub->n, sub, sub->ss, ei.code, r->text, r->len, &ei);
}

static void unsub_done(void *ctx, const jt_session_reply *r)
{
    op *o = ctx;
    jt_errinfo ei = *r->ei;
    ei.code = map_err(r->err);
    waiter_finish(o->n, o->w, ei.code, NULL, 0, &ei);
    free(o);
}

static void run_op(jt_node *n, op *o)
{
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_err e;
    switch (o->kind) {
    case OP_CALL:
        e = jt_session_request(n->s, o->text, o->timeout_ms, call_done, o, NULL, &ei);
        if (e) {
            jt_session_reply r = {.err = e, .ei = &ei};
            call_done(o, &r);
        }
        break;
    case OP_SUBSCRIBE: {
        jt_node_sub *sub = o->sub;
        free(o);
        /* On n->subs from now, so that jt_node_free finds it even if its
         * caller gave up and no answer ever comes. */
        sub->next = n->subs;
        n->subs = sub;
        jt_session_sub *ss = NULL;
        e = jt_session_subscribe(n->s, sub->params, push_tramp, sub, sub_done, sub, &ss, &ei);
        if (e)
            sub_first_answer(n, sub, NULL, e, NULL, 0, &ei);
        else
            sub->ss = ss;
        break;
    }
    case OP_UNSUBSCRIBE: {
        jt_node_sub *sub = o->sub;
        sub_unlink(n, sub);
        jt_session_sub *ss = sub->ss;
        sub->ss = NULL;
        /* From here no push reaches it: its caller may free it. */
        pthread_mutex_lock(&n->mu);
        o->w->processed = true;
        pthread_cond_broadcast(&n->cv);
        pthread_mutex_unlock(&n->mu);
        if (!ss || !jt_session_unsubscribe(n->s, ss, unsub_done, o)) {
            /* Nothing sent: not connected (or the node had refused it, or
             * other subscriptions still want it all): nothing to undo. */
            waiter_finish(n, o->w, JT_OK, NULL, 0, &ei);
            free(o);
        }
        break;
    }
    }
}

static void run_ops(jt_node *n)
{
    pthread_mutex_lock(&n->mu);
    op *list = n->q_head;
    n->q_head = n->q_tail = NULL;
    pthread_mutex_unlock(&n->mu);
    while (list) {
        op *o = list;
        list = o->next;
        run_op(n, o);
    }
}

static int service_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                            size_t len)
{
    (void)user;
    (void)in;
    (void)len;
    if (reason != LWS_CALLBACK_EVENT_WAIT_CANCELLED || !wsi)
        return 0;
    struct lws_context *ctx = lws_get_context(wsi);
    jt_node *n = ctx ? lws_context_user(ctx) : NULL;
    if (n && n->s)
        run_ops(n);
    return 0;
}

static void on_state(void *ctx, jt_session_state st, const jt_errinfo *why, int retry_ms)
{
    jt_node *n = ctx;
    (void)retry_ms;
    if (st == JT_SESSION_CONNECTING)
        return;
    pthread_mutex_lock(&n->mu);
    if (st == JT_SESSION_CONNECTED) {
        n->open = true;
        n->conn_count++;
    } else {
        n->open = false;
        n->failures++;
        n->last_err = *why;
        if (st == JT_SESSION_FAILED && !n->has_fatal) {
            n->has_fatal = true;
            n->fatal = *why;
        }
    }
    pthread_cond_broadcast(&n->cv);
    bool stopping = n->stopping;
    pthread_mutex_unlock(&n->mu);
    if (n->opt.on_state && !stopping)
        n->opt.on_state(n->opt.state_ctx, st == JT_SESSION_CONNECTED, why);
}

static bool is_stopping(jt_node *n)
{
    pthread_mutex_lock(&n->mu);
    bool s = n->stopping;
    pthread_mutex_unlock(&n->mu);
    return s;
}

static void *service_main(void *arg)
{
    jt_node *n = arg;
    while (!is_stopping(n))
        if (lws_service(n->lws, 0) < 0)
            break;
    return NULL;
}

/* ---------------------------------------------------------------- API */

void jt_node_options_init(jt_node_options *o)
{
    memset(o, 0, sizeof *o);
    o->connect_timeout_ms = 5000;
    o->backoff_initial_ms = 100;
    o->backoff_max_ms = 5000;
    o->max_message = JT_JTP_DEFAULT_MAX_MESSAGE;
    o->max_pending = 4096;
}

static void quiet_lws_once(void)
{
    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
}

static jt_err make_context(jt_node *n, jt_errinfo *ei)
{
    /* libwebsockets' notices (version banner, build flags) land on stderr
     * of every program that opens a connection; keep errors and warnings. */
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, quiet_lws_once);
    memset(n->protos, 0, sizeof n->protos);
    n->protos[0] = *jt_session_lws_protocol();
    n->protos[1].name = SERVICE_PROTOCOL;
    n->protos[1].callback = service_callback;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = n->protos;
    info.gid = -1;
    info.uid = -1;
    info.user = n;
    if (n->tr == JT__NW_WSS) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        if (n->ca_file) {
            /* "Instead of the system's": trust only that bundle. */
            info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
            info.client_ssl_ca_filepath = n->ca_file;
        }
    }
    n->lws = lws_create_context(&info);
    if (!n->lws)
        return jt__err(ei, JT_ECONNECT, NULL, -1,
                       "cannot create the client's libwebsockets context%s",
                       n->ca_file ? " (check ca_file)" : "");
    return JT_OK;
}

static void stop_thread(jt_node *n)
{
    if (!n->thread_started)
        return;
    pthread_mutex_lock(&n->mu);
    n->stopping = true;
    pthread_mutex_unlock(&n->mu);
    lws_cancel_service(n->lws);
    pthread_join(n->thread, NULL);
    n->thread_started = false;
}

/* After the thread: this thread is the only user. Calls still queued or in
 * the session are canceled (their callbacks run here). */
static void node_destroy(jt_node *n)
{
    jt_errinfo why;
    set_err(&why, JT_ECANCELED, "the connection to %s was closed by its owner", n->url);
    op *list = n->q_head;
    n->q_head = n->q_tail = NULL;
    while (list) {
        op *o = list;
        list = o->next;
        /* Blocking callers are gone (they gave up: their waiters are
         * abandoned), async ones are told. */
        if (o->kind == OP_CALL && o->cb)
            o->cb(o->ctx, JT_ECANCELED, NULL, 0, &why);
        if (o->kind == OP_SUBSCRIBE) {
            free(o->sub->w);
            sub_free(o->sub);
        } else {
            free(o->w);
        }
        free(o->text);
        free(o);
    }
    jt_session_free(n->s);
    n->s = NULL;
    while (n->subs) {
        jt_node_sub *sub = n->subs;
        n->subs = sub->next;
        free(sub->w); /* unanswered: its caller gave up (abandoned) */
        sub_free(sub);
    }
    if (n->lws)
        lws_context_destroy(n->lws);
    free(n->ca_file);
    pthread_cond_destroy(&n->cv);
    pthread_mutex_destroy(&n->mu);
    free(n);
}

jt_err jt_node_connect(const char *url, const jt_node_options *opt, jt_node **out, jt_errinfo *ei)
{
    if (!url || !out)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_node_connect: NULL argument");
    *out = NULL;
    jt__nodewire_url u;
    jt_err e = jt__nodewire_url_parse(url, &u, ei);
    if (e)
        return e;
    jt_node *n = calloc(1, sizeof *n);
    if (!n)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&n->mu, NULL);
    n->tr = u.tr;
    snprintf(n->url, sizeof n->url, "%s", url);
    jt_node_options d;
    jt_node_options_init(&d);
    n->opt = opt ? *opt : d;
    if (n->opt.connect_timeout_ms <= 0)
        n->opt.connect_timeout_ms = d.connect_timeout_ms;
    if (n->opt.max_pending == 0)
        n->opt.max_pending = d.max_pending;
    n->opt.identity = NULL; /* the session copies it */
    n->opt.ca_file = NULL;
    if (opt && opt->ca_file && !(n->ca_file = strdup(opt->ca_file))) {
        e = jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
        goto fail;
    }
    if ((e = make_context(n, ei)) != JT_OK)
        goto fail;
    jt_session_options so;
    jt_session_options_init(&so);
    so.connect_timeout_ms = n->opt.connect_timeout_ms;
    so.request_timeout_ms = DEFAULT_CALL_TIMEOUT_MS;
    so.backoff_min_ms = n->opt.backoff_initial_ms;
    so.backoff_max_ms = n->opt.backoff_max_ms;
    so.backoff_jitter_pct = 0; /* node.h promises the plain doubling */
    so.max_message = n->opt.max_message;
    /* The handle counts its calls itself; renewals must never be refused. */
    so.max_pending = (size_t)-1;
    so.identity = opt ? opt->identity : NULL;
    so.on_state = on_state;
    so.state_ctx = n;
    if ((e = jt_session_new(n->lws, url, &so, &n->s, ei)) != JT_OK)
        goto fail;
    if (pthread_create(&n->thread, NULL, service_main, n) != 0) {
        e = jt__err(ei, JT_ENOMEM, NULL, -1, "cannot start the service thread");
        goto fail;
    }
    n->thread_started = true;

    /* Wait for the first connection or the first failure. */
    struct timespec abs;
    abs_deadline(&abs, (int64_t)n->opt.connect_timeout_ms * 2 + 1000);
    pthread_mutex_lock(&n->mu);
    int rc = 0;
    while (n->conn_count == 0 && n->failures == 0 && !n->has_fatal && rc == 0)
        rc = pthread_cond_timedwait(&n->cv, &n->mu, &abs);
    bool ok = n->conn_count > 0;
    jt_errinfo why = n->has_fatal ? n->fatal : n->last_err;
    pthread_mutex_unlock(&n->mu);
    if (!ok) {
        if (why.code == JT_OK)
            set_err(&why, JT_ECONNECT, "cannot connect to %s: timed out", url);
        e = copy_err(ei, &why);
        goto fail;
    }
    *out = n;
    return JT_OK;
fail:
    stop_thread(n);
    node_destroy(n);
    return e;
}

void jt_node_free(jt_node *n)
{
    if (!n)
        return;
    stop_thread(n);
    node_destroy(n);
}

static jt_err parse_object(jt_node *n, const char *json, const char *what, jt_json_doc **doc,
                           jt_errinfo *ei)
{
    if (!json)
        return jt__err(ei, JT_EINVAL, NULL, -1, "%s is NULL", what);
    jt_json_limits lim = jt__nodewire_json_limits(n->opt.max_message);
    jt_err e = jt_json_parse(json, strlen(json), &lim, doc, ei);
    if (e)
        return e;
    if (jt_json_root(*doc)->kind != JT_JSON_OBJECT) {
        jt_json_doc_free(*doc);
        *doc = NULL;
        return jt__err(ei, JT_EINVAL, NULL, -1, "%s must be a JSON object", what);
    }
    return JT_OK;
}

static jt_err check_request(jt_node *n, const char *json, jt_errinfo *ei)
{
    jt_json_doc *doc = NULL;
    jt_err e = parse_object(n, json, "the request", &doc, ei);
    if (e)
        return e;
    bool has_cmd = jt_json_string(jt_json_get(jt_json_root(doc), "command")) != NULL;
    size_t len = strlen(json);
    jt_json_doc_free(doc);
    if (!has_cmd)
        return jt__err(ei, JT_EINVAL, "command", -1, "the request has no \"command\" string");
    /* The id the session writes in adds a few bytes; this is the early,
     * cheap refusal of what can never fit. */
    if (len > n->opt.max_message)
        return jt__err(ei, JT_ETOOBIG, NULL, -1, "request of %zu bytes exceeds the limit of %zu",
                       len, n->opt.max_message);
    return JT_OK;
}

/* Queues `o` for the service thread. `counts`: a call, under max_pending
 * and refused once the handle failed for good. */
static jt_err post(jt_node *n, op *o, bool counts, jt_errinfo *ei)
{
    o->n = n;
    pthread_mutex_lock(&n->mu);
    jt_err e = JT_OK;
    if (counts && n->has_fatal)
        e = copy_err(ei, &n->fatal);
    else if (n->stopping)
        e = jt__err(ei, JT_ECANCELED, NULL, -1, "the connection is being closed");
    else if (counts && n->pending >= n->opt.max_pending)
        e = jt__err(ei, JT_ETOOBIG, NULL, -1, "too many calls pending (%zu)", n->pending);
    if (!e) {
        if (counts)
            n->pending++;
        o->next = NULL;
        if (n->q_tail)
            n->q_tail->next = o;
        else
            n->q_head = o;
        n->q_tail = o;
    }
    pthread_mutex_unlock(&n->mu);
    if (!e)
        lws_cancel_service(n->lws);
    return e;
}

static jt_err call_post(jt_node *n, const char *request_json, int timeout_ms, waiter *w,
                        jt_node_result_cb cb, void *ctx, jt_errinfo *ei)
{
    op *o = calloc(1, sizeof *o);
    if (!o || !(o->text = strdup(request_json))) {
        free(o);
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    }
    o->kind = OP_CALL;
    o->timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_CALL_TIMEOUT_MS;
    o->w = w;
    o->cb = cb;
    o->ctx = ctx;
    jt_err e = post(n, o, true, ei);
    if (e) {
        free(o->text);
        free(o);
    }
    return e;
}

jt_err jt_node_call(jt_node *n, const char *request_json, int timeout_ms, char **response_json,
                    jt_errinfo *ei)
{
    if (response_json)
        *response_json = NULL;
    if (!n)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_node_call: NULL handle");
    if (on_service_thread(n))
        return jt__err(ei, JT_ESTATE, NULL, -1,
                       "jt_node_call from a callback would deadlock; use jt_node_call_async");
    jt_err e = check_request(n, request_json, ei);
    if (e)
        return e;
    if (timeout_ms <= 0)
        timeout_ms = DEFAULT_CALL_TIMEOUT_MS;
    waiter *w = calloc(1, sizeof *w);
    if (!w)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    e = call_post(n, request_json, timeout_ms, w, NULL, NULL, ei);
    if (e) {
        free(w);
        return e;
    }
    if (!waiter_wait(n, w, (int64_t)timeout_ms + WAIT_MARGIN_MS))
        return jt__err(ei, JT_ETIMEDOUT, NULL, -1, "no response from %s within %d ms", n->url,
                       timeout_ms);
    e = w->err;
    if (e)
        copy_err(ei, &w->ei);
    if (response_json)
        *response_json = w->resp;
    else
        free(w->resp);
    free(w);
    return e;
}

jt_err jt_node_call_async(jt_node *n, const char *request_json, int timeout_ms,
                          jt_node_result_cb cb, void *ctx, jt_errinfo *ei)
{
    if (!n || !cb)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_node_call_async: NULL argument");
    jt_err e = check_request(n, request_json, ei);
    if (e)
        return e;
    return call_post(n, request_json, timeout_ms, NULL, cb, ctx, ei);
}

jt_err jt_node_subscribe(jt_node *n, const char *params_json, int timeout_ms, jt_node_push_cb cb,
                         void *ctx, jt_node_sub **out, jt_errinfo *ei)
{
    if (out)
        *out = NULL;
    if (!n || !cb)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_node_subscribe: NULL argument");
    if (on_service_thread(n))
        return jt__err(ei, JT_ESTATE, NULL, -1, "jt_node_subscribe from a callback would deadlock");
    jt_json_doc *doc = NULL;
    jt_err e = parse_object(n, params_json, "the subscription parameters", &doc, ei);
    jt_json_doc_free(doc);
    if (e)
        return e;
    if (timeout_ms <= 0)
        timeout_ms = DEFAULT_CALL_TIMEOUT_MS;
    jt_node_sub *sub = calloc(1, sizeof *sub);
    op *o = calloc(1, sizeof *o);
    waiter *w = calloc(1, sizeof *w);
    if (!sub || !o || !w || !(sub->params = strdup(params_json))) {
        sub_free(sub);
        free(o);
        free(w);
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    }
    sub->n = n;
    sub->cb = cb;
    sub->ctx = ctx;
    sub->w = w;
    o->kind = OP_SUBSCRIBE;
    o->sub = sub;
    pthread_mutex_lock(&n->mu);
    bool fatal = n->has_fatal;
    if (fatal)
        copy_err(ei, &n->fatal);
    e = fatal ? n->fatal.code : JT_OK;
    pthread_mutex_unlock(&n->mu);
    if (!e)
        e = post(n, o, false, ei);
    if (e) {
        sub_free(sub);
        free(o);
        free(w);
        return e;
    }
    if (!waiter_wait(n, w, (int64_t)timeout_ms + WAIT_MARGIN_MS)) {
        /* The service thread unregisters and frees it when the answer comes. */
        return jt__err(ei, JT_ETIMEDOUT, NULL, -1, "no answer from %s to subscribe within %d ms",
                       n->url, timeout_ms);
    }
    e = w->err;
    if (e)
        copy_err(ei, &w->ei);
    free(w->resp);
    free(w);
    if (e) {
        sub_free(sub); /* not registered */
        return e;
    }
    if (out)
        *out = sub;
    return JT_OK;
}

jt_err jt_node_unsubscribe(jt_node *n, jt_node_sub *sub, int timeout_ms, jt_errinfo *ei)
{
    if (!n || !sub)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_node_unsubscribe: NULL argument");
    if (on_service_thread(n))
        return jt__err(ei, JT_ESTATE, NULL, -1,
                       "jt_node_unsubscribe from a callback would deadlock");
    if (timeout_ms <= 0)
        timeout_ms = DEFAULT_CALL_TIMEOUT_MS;
    op *o = calloc(1, sizeof *o);
    waiter *w = calloc(1, sizeof *w);
    if (!o || !w) {
        free(o);
        free(w);
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    }
    o->kind = OP_UNSUBSCRIBE;
    o->sub = sub;
    o->w = w;
    jt_err e = post(n, o, false, NULL);
    if (e) {
        /* Only when stopping, which jt_node_free alone does. */
        free(o);
        free(w);
        return jt__err(ei, e, NULL, -1, "cannot unsubscribe: %s", jt_strerror(e));
    }
    /* First, without limit, until no push can reach it (the service thread
     * only has to take the op); then the node's answer, within timeout_ms. */
    pthread_mutex_lock(&n->mu);
    while (!w->processed)
        pthread_cond_wait(&n->cv, &n->mu);
    pthread_mutex_unlock(&n->mu);
    sub_free(sub);
    if (!waiter_wait(n, w, (int64_t)timeout_ms + WAIT_MARGIN_MS))
        return jt__err(ei, JT_ETIMEDOUT, NULL, -1, "no answer from %s to unsubscribe within %d ms",
                       n->url, timeout_ms);
    e = w->err;
    if (e)
        copy_err(ei, &w->ei);
    free(w->resp);
    free(w);
    return e;
}

bool jt_node_is_connected(jt_node *n)
{
    pthread_mutex_lock(&n->mu);
    bool o = n->open;
    pthread_mutex_unlock(&n->mu);
    return o;
}

unsigned jt_node_connection_count(jt_node *n)
{
    pthread_mutex_lock(&n->mu);
    unsigned c = n->conn_count;
    pthread_mutex_unlock(&n->mu);
    return c;
}

const char *jt_node_transport(const jt_node *n)
{
    return jt__nodewire_transport_name(n->tr);
}
