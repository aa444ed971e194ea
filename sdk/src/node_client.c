/* node_client.c — the node client: ws/wss through libwebsockets, jtp through
 * a plain socket and the jtp state machine; one service thread per handle.
 *
 * Shape: the transport-independent part ("session": calls, ids,
 * subscriptions, reconnection timing) is shared; each transport has a thread
 * function that does the I/O and calls sess_opened / sess_message /
 * sess_closed / sess_next_out / sess_tick. All shared state is under n->mu;
 * user callbacks always run with the lock released. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "jt/json.h"
#include "jt/jtp.h"
#include "jt/node.h"
#include "jt/util.h"
#include "nodewire.h"

#define DEFAULT_CALL_TIMEOUT_MS 30000
#define TICK_MS                 50
#define READ_CHUNK              65536
/* jtp: stop taking calls into the session's output beyond this much unsent
 * data, so that a slow link pushes back on the call queue instead. */
#define JTP_OUT_HIGH_WATER ((size_t)1 << 20)

typedef jt__nodewire_transport transport;
#define TR_WS        JT__NW_WS
#define TR_WSS       JT__NW_WSS
#define TR_JTP       JT__NW_JTP
#define TR_JTP_PLAIN JT__NW_JTP_PLAIN

typedef struct waiter {
    bool done;
    jt_err err;
    char *resp;
    jt_errinfo ei;
} waiter;

typedef enum call_kind { CK_BLOCKING, CK_ASYNC, CK_RESUBSCRIBE } call_kind;

typedef struct call {
    struct call *next, *prev;
    uint64_t id;
    call_kind kind;
    bool sent;
    char *req; /* request text with our id; NULL once handed to the transport */
    size_t req_len;
    int64_t deadline;
    waiter *w;            /* CK_BLOCKING */
    jt_node_result_cb cb; /* CK_ASYNC */
    void *ctx;
    jt_node_sub *activate; /* subscribe: registered when the node says yes */
    /* result, for async calls completed outside the lock */
    jt_err res_err;
    char *res_text;
    size_t res_len;
    jt_errinfo res_ei;
} call;

struct jt_node_sub {
    jt_node_sub *next;
    char *params; /* the parameters as JSON object text */
    unsigned types;
    jt_node_push_cb cb;
    void *ctx;
    int refs;    /* dispatches in progress */
    bool active; /* registered */
};

struct jt_node {
    transport tr;
    char url[512]; /* for messages; the key part is kept (it is public) */
    char host[256];
    uint16_t port;
    char path[512];
    uint8_t node_key[32];
    jt_jtp_identity *ident;
    jt_node_options opt;
    char *ca_file;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool thread_started;

    /* under mu */
    bool stopping;
    bool open;
    unsigned conn_count;
    unsigned failures; /* connection attempts or connections lost since the start */
    jt_errinfo last_err;
    bool has_fatal;
    jt_errinfo fatal;
    int64_t next_attempt;
    int backoff;
    call *head, *tail;
    size_t ncalls;
    uint64_t next_id;
    jt_node_sub *subs;

    /* service thread only */
    char close_reason[200]; /* a transport error message the node sent before closing */
    /* jtp */
    int wake_rd, wake_wr;
    /* ws */
    struct lws_context *lws;
    struct lws *wsi;
    bool ws_active, ws_open, ws_close_now, ws_skip_binary;
    int64_t ws_deadline;
    jt_buf rx;
    bool rx_overflow;
    lws_sorted_usec_list_t sul;
};

/* ---------------------------------------------------------------- helpers */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

static void wake(jt_node *n)
{
    if (n->tr == TR_WS || n->tr == TR_WSS) {
        if (n->lws)
            lws_cancel_service(n->lws);
    } else if (n->wake_wr >= 0) {
        ssize_t r;
        do
            r = write(n->wake_wr, "x", 1);
        while (r < 0 && errno == EINTR);
        /* EAGAIN: the pipe is full, so a wake-up is already pending. */
    }
}

static bool on_service_thread(jt_node *n)
{
    return n->thread_started && pthread_equal(pthread_self(), n->thread);
}

/* ---------------------------------------------------------------- requests */

/* {"id":id,"command":command?, ...members of obj except id (and command when
 * given)} into a new string. */
static jt_err build_request(jt_node *n, const jt_json *obj, uint64_t id, const char *command,
                            char **out, size_t *outlen, jt_errinfo *ei)
{
    return jt__nodewire_request(obj, id, command, n->opt.max_message, out, outlen, ei);
}

static jt_json_limits json_limits(const jt_node *n)
{
    return jt__nodewire_json_limits(n->opt.max_message);
}

static jt_err parse_object(jt_node *n, const char *json, const char *what, jt_json_doc **doc,
                           jt_errinfo *ei)
{
    if (!json)
        return jt__err(ei, JT_EINVAL, NULL, -1, "%s is NULL", what);
    jt_json_limits lim = json_limits(n);
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

/* ---------------------------------------------------------------- calls */

static void call_link_tail(jt_node *n, call *c)
{
    c->next = NULL;
    c->prev = n->tail;
    if (n->tail)
        n->tail->next = c;
    else
        n->head = c;
    n->tail = c;
    n->ncalls++;
}

static void call_link_head(jt_node *n, call *c)
{
    c->prev = NULL;
    c->next = n->head;
    if (n->head)
        n->head->prev = c;
    else
        n->tail = c;
    n->head = c;
    n->ncalls++;
}

static void call_unlink(jt_node *n, call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        n->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        n->tail = c->prev;
    c->next = c->prev = NULL;
    n->ncalls--;
}

static void call_free(call *c)
{
    if (!c)
        return;
    free(c->req);
    free(c->res_text);
    free(c);
}

/* Completes `c` (already unlinked), under the lock. Async calls go to *done
 * to be called back once the lock is released. */
static void call_complete(jt_node *n, call *c, jt_err err, const char *text, size_t len,
                          const jt_errinfo *ei, call **done)
{
    if (err == JT_OK && c->activate) {
        jt_node_sub *s = c->activate;
        s->active = true;
        s->next = n->subs;
        n->subs = s;
    }
    c->activate = NULL;
    switch (c->kind) {
    case CK_BLOCKING:
        c->w->done = true;
        c->w->err = err;
        c->w->ei = *ei;
        c->w->resp = text ? dup_text(text, len) : NULL;
        if (text && !c->w->resp) {
            c->w->err = JT_ENOMEM;
            set_err(&c->w->ei, JT_ENOMEM, "out of memory for the response");
        }
        pthread_cond_broadcast(&n->cv);
        call_free(c);
        break;
    case CK_ASYNC:
        c->res_err = err;
        c->res_ei = *ei;
        c->res_text = text ? dup_text(text, len) : NULL;
        c->res_len = c->res_text ? len : 0;
        if (text && !c->res_text) {
            c->res_err = JT_ENOMEM;
            set_err(&c->res_ei, JT_ENOMEM, "out of memory for the response");
        }
        c->next = *done;
        *done = c;
        break;
    case CK_RESUBSCRIBE:
        /* A renewal the node refused stays registered: the next
         * reconnection tries again. Nothing waits for it. */
        call_free(c);
        break;
    }
}

static void run_done(call *done)
{
    while (done) {
        call *c = done;
        done = c->next;
        c->cb(c->ctx, c->res_err, c->res_text, c->res_len, &c->res_ei);
        call_free(c);
    }
}

/* Fails every call (sent_only: only those already sent), under the lock. */
static void fail_calls(jt_node *n, bool sent_only, const jt_errinfo *why, call **done)
{
    call *c = n->head;
    while (c) {
        call *next = c->next;
        if (!sent_only || c->sent) {
            call_unlink(n, c);
            call_complete(n, c, why->code, NULL, 0, why, done);
        }
        c = next;
    }
}

/* ---------------------------------------------------------------- session */

static void state_cb(jt_node *n, bool connected, const jt_errinfo *why)
{
    if (n->opt.on_state)
        n->opt.on_state(n->opt.state_ctx, connected, why);
}

static void queue_resubscribes(jt_node *n)
{
    /* Renewals go before every other call. n->subs is newest first, and each
     * renewal is put at the head of the queue, so the oldest ends up first. */
    for (jt_node_sub *s = n->subs; s; s = s->next) {
        if (!s->active)
            continue;
        jt_json_doc *doc = NULL;
        call *c = calloc(1, sizeof *c);
        if (!c || jt_json_parse(s->params, strlen(s->params), NULL, &doc, NULL) != JT_OK) {
            free(c);
            continue;
        }
        c->kind = CK_RESUBSCRIBE;
        c->id = n->next_id++;
        c->deadline = now_ms() + DEFAULT_CALL_TIMEOUT_MS;
        if (build_request(n, jt_json_root(doc), c->id, "subscribe", &c->req, &c->req_len, NULL) !=
            JT_OK) {
            free(c);
        } else {
            call_link_head(n, c);
        }
        jt_json_doc_free(doc);
    }
}

static void sess_opened(jt_node *n)
{
    pthread_mutex_lock(&n->mu);
    n->open = true;
    n->conn_count++;
    n->backoff = n->opt.backoff_initial_ms;
    n->close_reason[0] = '\0';
    queue_resubscribes(n);
    pthread_cond_broadcast(&n->cv);
    bool stopping = n->stopping;
    pthread_mutex_unlock(&n->mu);
    if (!stopping) {
        jt_errinfo ok;
        jt_errinfo_clear(&ok);
        state_cb(n, true, &ok);
    }
}

/* The connection is gone (was_open) or an attempt failed. */
static void sess_closed(jt_node *n, bool was_open, const jt_errinfo *cause)
{
    jt_errinfo why = *cause;
    if (n->close_reason[0])
        set_err(&why, cause->code, "%s (the node said: %s)", cause->msg, n->close_reason);
    call *done = NULL;
    pthread_mutex_lock(&n->mu);
    n->open = false;
    n->failures++;
    n->last_err = why;
    if (was_open) {
        jt_errinfo lost;
        set_err(&lost, JT_ECLOSED,
                "connection to %s lost before the response (%s); the request may or may not "
                "have been carried out",
                n->url, why.msg);
        fail_calls(n, true, &lost, &done);
    }
    if (n->has_fatal)
        fail_calls(n, false, &n->fatal, &done);
    n->next_attempt = now_ms() + n->backoff;
    n->backoff = n->backoff >= n->opt.backoff_max_ms / 2 ? n->opt.backoff_max_ms : n->backoff * 2;
    pthread_cond_broadcast(&n->cv);
    bool stopping = n->stopping;
    pthread_mutex_unlock(&n->mu);
    n->close_reason[0] = '\0';
    run_done(done);
    if (!stopping)
        state_cb(n, false, &why);
}

/* A transport error the node pushed; the ones retrying cannot fix make the
 * handle fail for good. Returns true when the connection must be closed. */
static bool transport_error(jt_node *n, const jt_json *root)
{
    const char *err = jt_json_string(jt_json_get(root, "error"));
    const char *msg = jt_json_string(jt_json_get(root, "error_message"));
    if (!err)
        return false;
    snprintf(n->close_reason, sizeof n->close_reason, "%s%s%s", err, msg ? ": " : "",
             msg ? msg : "");
    jt_err fatal = JT_OK;
    if (strcmp(err, "forbidden") == 0)
        fatal = JT_EJTP_AUTH;
    else if (strcmp(err, "plaintextRefused") == 0)
        fatal = JT_EJTP_PLAINTEXT;
    if (fatal == JT_OK)
        return false;
    call *done = NULL;
    pthread_mutex_lock(&n->mu);
    if (!n->has_fatal) {
        n->has_fatal = true;
        set_err(&n->fatal, fatal, "%s refused this client: %s", n->url, n->close_reason);
    }
    fail_calls(n, false, &n->fatal, &done);
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
    run_done(done);
    return true;
}

static void dispatch_push(jt_node *n, const jt_json *root, const char *text, size_t len)
{
    unsigned bit = jt__nodewire_push_bit(jt_json_string(jt_json_get(root, "type")));
    /* The callbacks run unlocked, so the subscriptions are pinned (refs)
     * against jt_node_unsubscribe while they run. */
    jt_node_sub *few[16], **targets = few;
    size_t k = 0, count = 0;
    pthread_mutex_lock(&n->mu);
    for (jt_node_sub *s = n->subs; s; s = s->next)
        count += s->active && jt__nodewire_wants(s->types, bit);
    if (count > JT__ARRAY_LEN(few) && !(targets = malloc(count * sizeof *targets)))
        count = 0; /* out of memory: this message is lost, the next may not be */
    for (jt_node_sub *s = n->subs; s && k < count; s = s->next) {
        if (s->active && jt__nodewire_wants(s->types, bit)) {
            s->refs++;
            targets[k++] = s;
        }
    }
    pthread_mutex_unlock(&n->mu);
    for (size_t i = k; i-- > 0;) /* oldest subscription first */
        targets[i]->cb(targets[i]->ctx, root, text, len);
    if (k) {
        pthread_mutex_lock(&n->mu);
        for (size_t i = 0; i < k; i++)
            targets[i]->refs--;
        pthread_cond_broadcast(&n->cv);
        pthread_mutex_unlock(&n->mu);
    }
    if (targets != few)
        free(targets);
}

/* One message from the node. Returns true when the connection must close. */
static bool sess_message(jt_node *n, const char *text, size_t len)
{
    jt_json_doc *doc = NULL;
    jt_json_limits lim = json_limits(n);
    if (jt_json_parse(text, len, &lim, &doc, NULL) != JT_OK)
        return false; /* not ours to judge; nothing can be matched to it */
    const jt_json *root = jt_json_root(doc);
    bool close_now = false;
    if (root->kind != JT_JSON_OBJECT)
        goto out;
    const jt_json *idv = jt_json_get(root, "id");
    if (!idv) {
        const char *type = jt_json_string(jt_json_get(root, "type"));
        if (type && strcmp(type, "error") == 0)
            close_now = transport_error(n, root);
        else
            dispatch_push(n, root, text, len);
        goto out;
    }
    uint64_t id;
    if (!jt_json_uint64(idv, false, &id))
        goto out; /* not an id we gave */
    call *done = NULL;
    pthread_mutex_lock(&n->mu);
    call *c = n->head;
    while (c && !(c->sent && c->id == id))
        c = c->next;
    if (c) {
        call_unlink(n, c);
        jt_errinfo ei;
        jt_err st = jt__nodewire_status(root, &ei);
        call_complete(n, c, st, text, len, &ei, &done);
    }
    pthread_mutex_unlock(&n->mu);
    run_done(done);
out:
    jt_json_doc_free(doc);
    return close_now;
}

/* The next request to send (ownership of the text passes to the caller), or
 * NULL. */
static char *sess_next_out(jt_node *n, size_t *len)
{
    char *text = NULL;
    pthread_mutex_lock(&n->mu);
    if (n->open && !n->has_fatal) {
        for (call *c = n->head; c; c = c->next) {
            if (!c->sent) {
                c->sent = true;
                text = c->req;
                *len = c->req_len;
                c->req = NULL;
                break;
            }
        }
    }
    pthread_mutex_unlock(&n->mu);
    return text;
}

static bool sess_has_out(jt_node *n)
{
    bool any = false;
    pthread_mutex_lock(&n->mu);
    if (n->open)
        for (call *c = n->head; c && !any; c = c->next)
            any = !c->sent;
    pthread_mutex_unlock(&n->mu);
    return any;
}

/* Times out calls past their deadline. Returns true when a new connection
 * attempt is due. */
static bool sess_tick(jt_node *n)
{
    int64_t now = now_ms();
    call *done = NULL;
    pthread_mutex_lock(&n->mu);
    call *c = n->head;
    while (c) {
        call *next = c->next;
        if (now >= c->deadline) {
            jt_errinfo ei;
            set_err(&ei, JT_ETIMEDOUT, "no response from %s within the call's timeout%s", n->url,
                    n->open ? "" : " (not connected)");
            call_unlink(n, c);
            call_complete(n, c, JT_ETIMEDOUT, NULL, 0, &ei, &done);
        }
        c = next;
    }
    bool due = !n->open && !n->has_fatal && !n->stopping && now >= n->next_attempt;
    pthread_mutex_unlock(&n->mu);
    run_done(done);
    return due;
}

static bool is_stopping(jt_node *n)
{
    pthread_mutex_lock(&n->mu);
    bool s = n->stopping;
    pthread_mutex_unlock(&n->mu);
    return s;
}

/* ---------------------------------------------------------------- jtp */

static bool addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
        return memcmp(&s6->sin6_addr, &in6addr_loopback, sizeof s6->sin6_addr) == 0;
    }
    return false;
}

/* Connects a TCP socket (non-blocking once connected) within the connect
 * timeout; gives up early when the handle is stopping. */
static int tcp_connect(jt_node *n, jt_errinfo *ei)
{
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)n->port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(n->host, port, &hints, &res);
    if (rc != 0) {
        set_err(ei, JT_ECONNECT, "cannot resolve %s: %s", n->host, gai_strerror(rc));
        return -1;
    }
    int64_t deadline = now_ms() + n->opt.connect_timeout_ms;
    int fd = -1;
    set_err(ei, JT_ECONNECT, "cannot connect to %s:%u: no usable address", n->host,
            (unsigned)n->port);
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        if (n->tr == TR_JTP_PLAIN && !addr_is_loopback(a->ai_addr)) {
            set_err(ei, JT_EURL,
                    "%s resolves to a non-loopback address; plaintext jtp is for "
                    "loopback only",
                    n->host);
            continue;
        }
        int s = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (s < 0)
            continue;
        int fl = fcntl(s, F_GETFL, 0);
        fcntl(s, F_SETFL, fl | O_NONBLOCK);
        int one = 1;
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        int err = 0;
        if (connect(s, a->ai_addr, a->ai_addrlen) != 0) {
            err = errno;
            while (err == EINPROGRESS || err == EINTR) {
                int64_t left = deadline - now_ms();
                if (left <= 0) {
                    err = ETIMEDOUT;
                    break;
                }
                struct pollfd p[2] = {{.fd = s, .events = POLLOUT},
                                      {.fd = n->wake_rd, .events = POLLIN}};
                int pr = poll(p, 2, left > TICK_MS ? TICK_MS : (int)left);
                if (pr < 0 && errno != EINTR) {
                    err = errno;
                    break;
                }
                if (is_stopping(n)) {
                    err = ECANCELED;
                    break;
                }
                if (pr > 0 && (p[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
                    socklen_t sl = sizeof err;
                    if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &sl) != 0)
                        err = errno;
                    break;
                }
            }
        }
        if (err == 0) {
            fd = s;
        } else {
            close(s);
            set_err(ei, JT_ECONNECT, "cannot connect to %s:%u: %s", n->host, (unsigned)n->port,
                    err == ETIMEDOUT ? "timed out" : strerror(err));
        }
    }
    freeaddrinfo(res);
    return fd;
}

static void drain_wake(jt_node *n)
{
    char buf[64];
    while (read(n->wake_rd, buf, sizeof buf) > 0) {
    }
}

typedef struct jtp_conn {
    int fd;
    jt_jtp *j;
    bool opened;
    int64_t deadline; /* for the handshake */
} jtp_conn;

static void jtp_drop(jt_node *n, jtp_conn *c, const jt_errinfo *why)
{
    if (c->fd >= 0)
        close(c->fd);
    jt_jtp_free(c->j);
    bool was_open = c->opened;
    c->fd = -1;
    c->j = NULL;
    c->opened = false;
    sess_closed(n, was_open, why);
}

/* Writes what the session has pending. false on a socket error. */
static bool jtp_flush(jtp_conn *c, jt_errinfo *why)
{
    for (;;) {
        const uint8_t *p;
        size_t len;
        jt_jtp_pending_output(c->j, &p, &len);
        if (len == 0)
            return true;
        ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (w < 0) {
            set_err(why, JT_ECLOSED, "write failed: %s", strerror(errno));
            return false;
        }
        jt_jtp_consume_output(c->j, (size_t)w);
    }
}

static void jtp_start(jt_node *n, jtp_conn *c)
{
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    int fd = tcp_connect(n, &ei);
    if (fd < 0) {
        if (!is_stopping(n))
            sess_closed(n, false, &ei);
        return;
    }
    jt_jtp_limits lim;
    jt_jtp_limits_init(&lim);
    lim.max_message = n->opt.max_message;
    jt_err e;
    if (n->tr == TR_JTP_PLAIN)
        e = jt_jtp_new_client_plaintext(&lim, &c->j, &ei);
    else
        e = jt_jtp_new_client(n->node_key, jt_jtp_identity_public(n->ident),
                              jt_jtp_identity_secret(n->ident), &lim, &c->j, &ei);
    c->fd = fd;
    c->opened = false;
    c->deadline = now_ms() + n->opt.connect_timeout_ms;
    if (e) {
        jtp_drop(n, c, &ei);
        return;
    }
    if (!jtp_flush(c, &ei)) {
        jtp_drop(n, c, &ei);
        return;
    }
    if (jt_jtp_get_state(c->j) == JT_JTP_OPEN) { /* plaintext: no handshake */
        c->opened = true;
        sess_opened(n);
    }
}

/* Reads what is there, feeds it, handles messages. false when the
 * connection ended (already dropped). */
static bool jtp_read(jt_node *n, jtp_conn *c, uint8_t *buf)
{
    for (int rounds = 0; rounds < 16; rounds++) {
        ssize_t r = recv(c->fd, buf, READ_CHUNK, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        jt_errinfo why;
        if (r <= 0) {
            if (r == 0)
                set_err(&why, c->opened ? JT_ECLOSED : JT_ECONNECT, "%s closed the connection%s",
                        n->url, c->opened ? "" : " during the handshake");
            else
                set_err(&why, c->opened ? JT_ECLOSED : JT_ECONNECT, "read from %s failed: %s",
                        n->url, strerror(errno));
            jtp_drop(n, c, &why);
            return false;
        }
        jt_errinfo fe;
        jt_errinfo_clear(&fe);
        jt_err e = jt_jtp_feed(c->j, buf, (size_t)r, &fe);
        if (!c->opened && jt_jtp_get_state(c->j) == JT_JTP_OPEN) {
            c->opened = true;
            sess_opened(n);
        }
        const char *m;
        size_t mlen;
        bool close_now = false;
        while (!close_now && jt_jtp_next_message(c->j, &m, &mlen))
            close_now = sess_message(n, m, mlen);
        if (e || close_now) {
            if (e)
                set_err(&why, e, "%s: %s", n->url, fe.msg);
            else
                set_err(&why, JT_ECLOSED, "%s refused this client", n->url);
            jtp_drop(n, c, &why);
            return false;
        }
    }
    return true;
}

static void jtp_loop(jt_node *n)
{
    jtp_conn c = {.fd = -1, .j = NULL, .opened = false, .deadline = 0};
    uint8_t *buf = malloc(READ_CHUNK);
    while (buf && !is_stopping(n)) {
        if (c.fd < 0) {
            if (sess_tick(n))
                jtp_start(n, &c);
            if (c.fd < 0) {
                struct pollfd p = {.fd = n->wake_rd, .events = POLLIN};
                poll(&p, 1, TICK_MS);
                drain_wake(n);
                continue;
            }
        }
        /* Move queued calls into the session while its output is small. */
        if (c.opened) {
            const uint8_t *op;
            size_t olen;
            jt_jtp_pending_output(c.j, &op, &olen);
            while (olen < JTP_OUT_HIGH_WATER) {
                size_t len = 0;
                char *text = sess_next_out(n, &len);
                if (!text)
                    break;
                jt_errinfo se;
                jt_errinfo_clear(&se);
                jt_err e = jt_jtp_send(c.j, text, len, &se);
                free(text);
                if (e) {
                    jtp_drop(n, &c, &se);
                    break;
                }
                jt_jtp_pending_output(c.j, &op, &olen);
            }
            if (c.fd < 0)
                continue;
        }
        jt_errinfo why;
        jt_errinfo_clear(&why);
        if (!jtp_flush(&c, &why)) {
            jtp_drop(n, &c, &why);
            continue;
        }
        const uint8_t *op;
        size_t olen;
        jt_jtp_pending_output(c.j, &op, &olen);
        struct pollfd p[2] = {{.fd = c.fd, .events = (short)(POLLIN | (olen ? POLLOUT : 0))},
                              {.fd = n->wake_rd, .events = POLLIN}};
        int pr = poll(p, 2, TICK_MS);
        drain_wake(n);
        if (pr > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            if (!jtp_read(n, &c, buf))
                continue;
        }
        if (!c.opened && now_ms() > c.deadline) {
            set_err(&why, JT_ECONNECT, "jtp handshake with %s timed out after %d ms", n->url,
                    n->opt.connect_timeout_ms);
            jtp_drop(n, &c, &why);
            continue;
        }
        sess_tick(n);
    }
    if (c.fd >= 0)
        close(c.fd);
    jt_jtp_free(c.j);
    free(buf);
}

/* ---------------------------------------------------------------- ws */

static void ws_gone(jt_node *n, jt_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ws_gone(jt_node *n, jt_err code, const char *fmt, ...)
{
    if (!n->ws_active)
        return;
    bool was_open = n->ws_open;
    n->ws_active = n->ws_open = false;
    n->wsi = NULL;
    n->rx.len = 0;
    n->rx_overflow = false;
    n->ws_skip_binary = false;
    jt_errinfo why;
    jt_errinfo_clear(&why);
    why.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why.msg, sizeof why.msg, fmt, ap);
    va_end(ap);
    sess_closed(n, was_open, &why);
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    jt_node *n = ctx ? lws_context_user(ctx) : NULL;
    if (!n)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        n->ws_open = true;
        n->rx.len = 0;
        sess_opened(n);
        lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (wsi != n->wsi && n->wsi)
            break;
        if (n->ws_deadline && now_ms() >= n->ws_deadline)
            ws_gone(n, JT_ECONNECT, "cannot connect to %s: timed out after %d ms", n->url,
                    n->opt.connect_timeout_ms);
        else
            ws_gone(n, JT_ECONNECT, "cannot connect to %s: %.*s", n->url,
                    in && len ? (int)len : 200, in ? (const char *)in : "connection failed");
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        if (wsi != n->wsi)
            break;
        if (n->ws_open)
            ws_gone(n, JT_ECLOSED, "%s closed the connection", n->url);
        else
            ws_gone(n, JT_ECONNECT,
                    "cannot connect to %s: connection closed during the WebSocket handshake",
                    n->url);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        /* A message may arrive in several callbacks (fragments, or a frame
         * larger than the receive buffer); the state resets after each
         * complete message. */
        if (lws_frame_is_binary(wsi))
            n->ws_skip_binary = true; /* the API is text; binary is not ours */
        if (!n->ws_skip_binary && !n->rx_overflow) {
            if (n->rx.len + len > n->opt.max_message || jt_buf_append(&n->rx, in, len) != JT_OK)
                n->rx_overflow = true;
        }
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) != 0)
            break;
        bool skip = n->ws_skip_binary, over = n->rx_overflow;
        n->ws_skip_binary = n->rx_overflow = false;
        if (over) {
            n->rx.len = 0;
            snprintf(n->close_reason, sizeof n->close_reason, "message over the %zu-byte limit",
                     n->opt.max_message);
            return -1;
        }
        bool close_now = !skip && sess_message(n, (const char *)n->rx.data, n->rx.len);
        n->rx.len = 0;
        if (close_now)
            return -1;
        break;
    }
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        if (n->ws_close_now)
            return -1;
        size_t tlen = 0;
        char *text = sess_next_out(n, &tlen);
        if (!text)
            break;
        uint8_t *frame = malloc(LWS_PRE + tlen);
        if (!frame) {
            free(text);
            return -1;
        }
        memcpy(frame + LWS_PRE, text, tlen);
        free(text);
        int w = lws_write(wsi, frame + LWS_PRE, tlen, LWS_WRITE_TEXT);
        free(frame);
        if (w < (int)tlen)
            return -1;
        if (sess_has_out(n))
            lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (n->wsi && n->ws_open) {
            pthread_mutex_lock(&n->mu);
            if (n->has_fatal || n->stopping)
                n->ws_close_now = true;
            pthread_mutex_unlock(&n->mu);
            if (n->ws_close_now || sess_has_out(n))
                lws_callback_on_writable(n->wsi);
        }
        break;
    default: break;
    }
    return 0;
}

static const struct lws_protocols ws_protocols[] = {
    {"jt-node-client", ws_callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void ws_start(jt_node *n)
{
    struct lws_client_connect_info cc;
    memset(&cc, 0, sizeof cc);
    cc.context = n->lws;
    cc.address = n->host;
    cc.port = n->port;
    cc.path = n->path;
    cc.host = n->host;
    cc.origin = n->host;
    cc.protocol = NULL; /* skywelld speaks no subprotocol */
    cc.local_protocol_name = ws_protocols[0].name;
    cc.ietf_version_or_minus_one = -1;
    cc.ssl_connection = n->tr == TR_WSS ? LCCSCF_USE_SSL : 0;
    cc.pwsi = &n->wsi;
    n->ws_active = true;
    n->ws_open = false;
    n->ws_close_now = false;
    n->ws_deadline = now_ms() + n->opt.connect_timeout_ms;
    if (!lws_client_connect_via_info(&cc)) {
        /* A synchronous failure may or may not have come through the
         * callback already; ws_gone reports it once either way. */
        n->wsi = NULL;
        ws_gone(n, JT_ECONNECT, "cannot connect to %s: connection could not be started", n->url);
    }
}

static void ws_tick(lws_sorted_usec_list_t *sul)
{
    jt_node *n = lws_container_of(sul, jt_node, sul);
    if (sess_tick(n) && !n->ws_active)
        ws_start(n);
    if (n->ws_active && !n->ws_open && n->wsi && now_ms() >= n->ws_deadline)
        lws_set_timeout(n->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    lws_sul_schedule(n->lws, 0, &n->sul, ws_tick, TICK_MS * LWS_US_PER_MS);
}

static void ws_loop(jt_node *n)
{
    lws_sul_schedule(n->lws, 0, &n->sul, ws_tick, 1);
    while (!is_stopping(n)) {
        if (lws_service(n->lws, 0) < 0)
            break;
    }
    lws_sul_cancel(&n->sul);
}

static void quiet_lws_once(void)
{
    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
}

static jt_err ws_context(jt_node *n, jt_errinfo *ei)
{
    /* libwebsockets' notices (version banner, build flags) land on stderr
     * of every program that opens a connection; keep errors and warnings. */
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, quiet_lws_once);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = ws_protocols;
    info.gid = -1;
    info.uid = -1;
    info.user = n;
    if (n->tr == TR_WSS) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        if (n->ca_file) {
            /* "Instead of the system's": trust only that bundle. */
            info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
            info.client_ssl_ca_filepath = n->ca_file;
        }
    }
    n->lws = lws_create_context(&info);
    if (!n->lws)
        return jt__err(ei, JT_ECONNECT, NULL, -1, "cannot create the WebSocket client context%s",
                       n->ca_file ? " (check ca_file)" : "");
    return JT_OK;
}

/* ---------------------------------------------------------------- thread */

static void *service_main(void *arg)
{
    jt_node *n = arg;
    if (n->tr == TR_WS || n->tr == TR_WSS)
        ws_loop(n);
    else
        jtp_loop(n);
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

static void node_destroy(jt_node *n)
{
    if (n->lws)
        lws_context_destroy(n->lws);
    if (n->wake_rd >= 0)
        close(n->wake_rd);
    if (n->wake_wr >= 0)
        close(n->wake_wr);
    jt_jtp_identity_free(n->ident);
    free(n->ca_file);
    jt_buf_clear(&n->rx);
    while (n->subs) {
        jt_node_sub *s = n->subs;
        n->subs = s->next;
        free(s->params);
        free(s);
    }
    pthread_cond_destroy(&n->cv);
    pthread_mutex_destroy(&n->mu);
    free(n);
}

static void stop_thread(jt_node *n)
{
    if (!n->thread_started)
        return;
    pthread_mutex_lock(&n->mu);
    n->stopping = true;
    pthread_mutex_unlock(&n->mu);
    wake(n);
    pthread_join(n->thread, NULL);
    n->thread_started = false;
}

jt_err jt_node_connect(const char *url, const jt_node_options *opt, jt_node **out, jt_errinfo *ei)
{
    if (!url || !out)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_node_connect: NULL argument");
    *out = NULL;
    if (jt__sodium_ready() != 0)
        return jt__err(ei, JT_ECRYPTO, NULL, -1, "libsodium failed to initialise");
    jt_node *n = calloc(1, sizeof *n);
    if (!n)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    n->wake_rd = n->wake_wr = -1;
    jt_buf_init(&n->rx);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&n->mu, NULL);
    jt_node_options_init(&n->opt);
    if (opt)
        n->opt = *opt;
    jt_node_options d;
    jt_node_options_init(&d);
    if (n->opt.connect_timeout_ms <= 0)
        n->opt.connect_timeout_ms = d.connect_timeout_ms;
    if (n->opt.backoff_initial_ms <= 0)
        n->opt.backoff_initial_ms = d.backoff_initial_ms;
    if (n->opt.backoff_max_ms < n->opt.backoff_initial_ms)
        n->opt.backoff_max_ms = n->opt.backoff_initial_ms > d.backoff_max_ms
                                    ? n->opt.backoff_initial_ms
                                    : d.backoff_max_ms;
    if (n->opt.max_message == 0)
        n->opt.max_message = d.max_message;
    if (n->opt.max_message > JT_JTP_MAX_MESSAGE_CEILING)
        n->opt.max_message = JT_JTP_MAX_MESSAGE_CEILING;
    if (n->opt.max_pending == 0)
        n->opt.max_pending = d.max_pending;
    n->opt.identity = NULL; /* copied below; never kept */
    n->backoff = n->opt.backoff_initial_ms;
    n->next_id = 1;
    snprintf(n->url, sizeof n->url, "%s", url);

    jt__nodewire_url u;
    jt_err e = jt__nodewire_url_parse(url, &u, ei);
    if (!e) {
        n->tr = u.tr;
        memcpy(n->host, u.host, sizeof n->host);
        n->port = u.port;
        memcpy(n->path, u.path, sizeof n->path);
        memcpy(n->node_key, u.key, sizeof n->node_key);
    }
    if (e)
        goto fail;
    if (n->tr == TR_JTP) {
        if (opt && opt->identity)
            e = jt_jtp_identity_from_seed(jt_jtp_identity_secret(opt->identity), &n->ident);
        else
            e = jt_jtp_identity_generate(&n->ident);
        if (e) {
            e = jt__err(ei, e, NULL, -1, "cannot set up the jtp identity: %s", jt_strerror(e));
            goto fail;
        }
    }
    if (opt && opt->ca_file && !(n->ca_file = strdup(opt->ca_file))) {
        e = jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
        goto fail;
    }
    if (n->tr == TR_WS || n->tr == TR_WSS) {
        if ((e = ws_context(n, ei)) != JT_OK)
            goto fail;
    } else {
        int fds[2];
        if (pipe(fds) != 0) {
            e = jt__err(ei, JT_EIO, NULL, -1, "pipe: %s", strerror(errno));
            goto fail;
        }
        n->wake_rd = fds[0];
        n->wake_wr = fds[1];
        for (int i = 0; i < 2; i++) {
            fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL, 0) | O_NONBLOCK);
            fcntl(fds[i], F_SETFD, FD_CLOEXEC);
        }
    }
    if (pthread_create(&n->thread, NULL, service_main, n) != 0) {
        e = jt__err(ei, JT_ENOMEM, NULL, -1, "cannot start the service thread");
        goto fail;
    }
    n->thread_started = true;

    /* Wait for the first connection or the first failure. */
    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    int64_t wait_ms = (int64_t)n->opt.connect_timeout_ms * 2 + 1000;
    abs.tv_sec += wait_ms / 1000;
    abs.tv_nsec += (wait_ms % 1000) * 1000000;
    if (abs.tv_nsec >= 1000000000) {
        abs.tv_sec++;
        abs.tv_nsec -= 1000000000;
    }
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
    /* The service thread is gone: this thread is now the only user. */
    if (n->lws) {
        lws_context_destroy(n->lws);
        n->lws = NULL;
    }
    call *done = NULL;
    jt_errinfo why;
    set_err(&why, JT_ECANCELED, "the connection to %s was closed by its owner", n->url);
    pthread_mutex_lock(&n->mu);
    fail_calls(n, false, &why, &done);
    pthread_mutex_unlock(&n->mu);
    run_done(done);
    node_destroy(n);
}

/* Creates and queues a call; under no lock. */
static jt_err enqueue(jt_node *n, const jt_json *obj, const char *command, int timeout_ms,
                      call_kind kind, waiter *w, jt_node_result_cb cb, void *ctx,
                      jt_node_sub *activate, uint64_t *id_out, jt_errinfo *ei)
{
    call *c = calloc(1, sizeof *c);
    if (!c)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    c->kind = kind;
    c->w = w;
    c->cb = cb;
    c->ctx = ctx;
    c->activate = activate;
    c->deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : DEFAULT_CALL_TIMEOUT_MS);
    pthread_mutex_lock(&n->mu);
    jt_err e = JT_OK;
    if (n->has_fatal) {
        e = copy_err(ei, &n->fatal);
    } else if (n->stopping) {
        e = jt__err(ei, JT_ECANCELED, NULL, -1, "the connection is being closed");
    } else if (n->ncalls >= n->opt.max_pending) {
        e = jt__err(ei, JT_ETOOBIG, NULL, -1, "too many calls pending (%zu)", n->ncalls);
    } else {
        c->id = n->next_id++;
        e = build_request(n, obj, c->id, command, &c->req, &c->req_len, ei);
    }
    if (e) {
        pthread_mutex_unlock(&n->mu);
        call_free(c);
        return e;
    }
    if (id_out)
        *id_out = c->id;
    call_link_tail(n, c);
    bool open = n->open;
    pthread_mutex_unlock(&n->mu);
    if (open)
        wake(n);
    return JT_OK;
}

static jt_err check_request(jt_node *n, const char *json, jt_json_doc **doc, jt_errinfo *ei)
{
    jt_err e = parse_object(n, json, "the request", doc, ei);
    if (e)
        return e;
    if (!jt_json_string(jt_json_get(jt_json_root(*doc), "command"))) {
        jt_json_doc_free(*doc);
        *doc = NULL;
        return jt__err(ei, JT_EINVAL, "command", -1, "the request has no \"command\" string");
    }
    return JT_OK;
}

/* Sends and waits; `obj` with `command` (NULL: the request's own). */
static jt_err call_blocking(jt_node *n, const jt_json *obj, const char *command, int timeout_ms,
                            jt_node_sub *activate, char **resp, jt_errinfo *ei)
{
    waiter w;
    memset(&w, 0, sizeof w);
    uint64_t id = 0;
    if (timeout_ms <= 0)
        timeout_ms = DEFAULT_CALL_TIMEOUT_MS;
    jt_err e = enqueue(n, obj, command, timeout_ms, CK_BLOCKING, &w, NULL, NULL, activate, &id, ei);
    if (e)
        return e;
    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    /* A little after the service thread's own timeout, which normally wins;
     * this one only matters if that thread is held up by a callback. */
    int64_t ms = timeout_ms + 2 * TICK_MS;
    abs.tv_sec += ms / 1000;
    abs.tv_nsec += (ms % 1000) * 1000000;
    if (abs.tv_nsec >= 1000000000) {
        abs.tv_sec++;
        abs.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&n->mu);
    int rc = 0;
    while (!w.done && rc == 0)
        rc = pthread_cond_timedwait(&n->cv, &n->mu, &abs);
    if (!w.done) {
        for (call *c = n->head; c; c = c->next) {
            if (c->w == &w) {
                call_unlink(n, c);
                call_free(c);
                break;
            }
        }
        set_err(&w.ei, JT_ETIMEDOUT, "no response from %s within %d ms", n->url, timeout_ms);
        w.err = JT_ETIMEDOUT;
    }
    pthread_mutex_unlock(&n->mu);
    if (resp)
        *resp = w.resp;
    else
        free(w.resp);
    if (w.err)
        copy_err(ei, &w.ei);
    return w.err;
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
    jt_json_doc *doc = NULL;
    jt_err e = check_request(n, request_json, &doc, ei);
    if (e)
        return e;
    e = call_blocking(n, jt_json_root(doc), NULL, timeout_ms, NULL, response_json, ei);
    jt_json_doc_free(doc);
    return e;
}

jt_err jt_node_call_async(jt_node *n, const char *request_json, int timeout_ms,
                          jt_node_result_cb cb, void *ctx, jt_errinfo *ei)
{
    if (!n || !cb)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_node_call_async: NULL argument");
    jt_json_doc *doc = NULL;
    jt_err e = check_request(n, request_json, &doc, ei);
    if (e)
        return e;
    e = enqueue(n, jt_json_root(doc), NULL, timeout_ms, CK_ASYNC, NULL, cb, ctx, NULL, NULL, ei);
    jt_json_doc_free(doc);
    return e;
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
    if (e)
        return e;
    jt_node_sub *s = calloc(1, sizeof *s);
    if (!s || !(s->params = strdup(params_json))) {
        free(s);
        jt_json_doc_free(doc);
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    }
    s->cb = cb;
    s->ctx = ctx;
    s->types = jt__nodewire_sub_types(jt_json_root(doc));
    e = call_blocking(n, jt_json_root(doc), "subscribe", timeout_ms, s, NULL, ei);
    jt_json_doc_free(doc);
    if (e) {
        /* Not registered: a call that failed never activates. But a call
         * that timed out here might still be in the list pointing at s. */
        pthread_mutex_lock(&n->mu);
        for (call *c = n->head; c; c = c->next)
            if (c->activate == s)
                c->activate = NULL;
        bool registered = s->active;
        pthread_mutex_unlock(&n->mu);
        if (!registered) {
            free(s->params);
            free(s);
            return e;
        }
    }
    if (out)
        *out = s;
    return e;
}

jt_err jt_node_unsubscribe(jt_node *n, jt_node_sub *sub, int timeout_ms, jt_errinfo *ei)
{
    if (!n || !sub)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_node_unsubscribe: NULL argument");
    if (on_service_thread(n))
        return jt__err(ei, JT_ESTATE, NULL, -1,
                       "jt_node_unsubscribe from a callback would deadlock");
    /* Forget it first, so no push reaches it from now on. */
    pthread_mutex_lock(&n->mu);
    for (jt_node_sub **pp = &n->subs; *pp; pp = &(*pp)->next) {
        if (*pp == sub) {
            *pp = sub->next;
            break;
        }
    }
    sub->active = false;
    while (sub->refs > 0)
        pthread_cond_wait(&n->cv, &n->mu);
    bool open = n->open;
    pthread_mutex_unlock(&n->mu);

    jt_err e = JT_OK;
    if (open) {
        jt_json_doc *doc = NULL;
        e = jt_json_parse(sub->params, strlen(sub->params), NULL, &doc, ei);
        if (!e)
            e = call_blocking(n, jt_json_root(doc), "unsubscribe", timeout_ms, NULL, NULL, ei);
        jt_json_doc_free(doc);
    }
    free(sub->params);
    free(sub);
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
