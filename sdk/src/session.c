/* session.c — a node connection on the caller's libwebsockets loop: ws/wss
 * through lws' WebSocket client, jtp through lws' raw client and the jtp
 * state machine, timers as lws_sul.
 *
 * Requests live on two lists: `out` (not yet written, oldest first, the
 * subscription renewals of a new connection at its head) and `wait`
 * (written, waiting for their response). Each request has its own timeout
 * timer.
 *
 * Re-entrancy: user callbacks may call anything, jt_session_free included.
 * Every entry from the loop (the protocol callback, the timers) counts
 * itself in s->busy; jt_session_free inside one only marks the session
 * dying (and does what must be done at once), and the last exit frees it.
 * Code that runs a user callback checks s->dying afterwards and touches
 * nothing more when it is set. */
#include <errno.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "jt/json.h"
#include "jt/jtp.h"
#include "jt/session.h"
#include "jt/util.h"
#include "nodewire.h"

/* jtp: requests move into the jtp output only while it holds less than this,
 * so that a slow link keeps them in `out` (and their `sent` false). */
#define JTP_OUT_HIGH_WATER ((size_t)1 << 20)
/* jtp: bytes handed to lws per writable callback. */
#define JTP_WRITE_CHUNK 65536

typedef enum req_kind { RK_USER, RK_SUB, RK_UNSUB } req_kind;

typedef struct req {
    struct req *next, *prev;
    jt_session *s;
    uint64_t id;
    req_kind kind;
    bool sent;  /* on `wait` */
    char *text; /* until written */
    size_t len;
    int timeout_ms;
    jt_session_reply_cb cb; /* RK_USER; RK_UNSUB (may be NULL) */
    void *ctx;
    jt_session_sub *sub; /* RK_SUB; NULL once the subscription is gone */
    lws_sorted_usec_list_t sul;
} req;

typedef struct req_list {
    req *head, *tail;
    size_t n;
} req_list;

struct jt_session_sub {
    jt_session_sub *next, *prev;
    jt_session *s;
    jt_json_doc *params;
    unsigned types;
    jt_session_push_cb push;
    void *push_ctx;
    jt_session_reply_cb done;
    void *done_ctx;
    bool active; /* pushed to and renewed */
    bool dead;   /* unsubscribed; freed once refs is 0 */
    int refs;    /* callbacks running */
};

struct jt_session {
    uint64_t push_serial; /* the pushed messages handed out so far */
    struct lws_context *ctx;
    struct lws_vhost *vh;
    jt__nodewire_url u;
    char url[512];
    jt_session_options opt;
    jt_jtp_identity *ident;

    jt_session_state state;
    bool has_fatal;
    jt_errinfo fatal;
    unsigned conn_count;
    int backoff;

    req_list out, wait;
    uint64_t next_id;
    jt_session_sub *subs, *subs_tail; /* oldest first */

    /* the connection or attempt */
    struct lws *wsi;
    bool conn_active; /* an attempt or a connection exists */
    bool open;        /* ws established / jtp handshake done */
    jt_jtp *jtp;
    jt_buf rx; /* ws: the message being received */
    bool rx_overflow, rx_binary;
    char close_reason[200]; /* a transport error the node sent */
    lws_sorted_usec_list_t retry_sul, conn_sul;

    /* jtp: the TCP connection is made here (lws' raw client does not say
     * why a connection failed) and the socket adopted once it is under
     * way; the addresses not tried yet */
    struct addrinfo *ai_list, *ai_next;
    bool tcp_connecting;
    char tcp_err[160];

    int busy;
    bool dying;
    int entry_errno; /* errno as libwebsockets left it when it called us */
};

static int session_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                            size_t len);

static const struct lws_protocols session_protocol = {
    JT_SESSION_LWS_PROTOCOL_NAME, session_callback, 0, 65536, 0, NULL, 0};

const struct lws_protocols *jt_session_lws_protocol(void)
{
    return &session_protocol;
}

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

static void list_append(req_list *l, req *r)
{
    r->next = NULL;
    r->prev = l->tail;
    if (l->tail)
        l->tail->next = r;
    else
        l->head = r;
    l->tail = r;
    l->n++;
}

static void list_prepend(req_list *l, req *r)
{
    r->prev = NULL;
    r->next = l->head;
    if (l->head)
        l->head->prev = r;
    else
        l->tail = r;
    l->head = r;
    l->n++;
}

static void list_remove(req_list *l, req *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        l->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        l->tail = r->prev;
    r->next = r->prev = NULL;
    l->n--;
}

static void enter(jt_session *s)
{
    s->busy++;
}

static void destroy(jt_session *s);

static void leave(jt_session *s)
{
    if (--s->busy == 0 && s->dying)
        destroy(s);
}

static void sub_free(jt_session_sub *sub)
{
    jt_json_doc_free(sub->params);
    free(sub);
}

static void sub_unlink(jt_session *s, jt_session_sub *sub)
{
    if (sub->prev)
        sub->prev->next = sub->next;
    else
        s->subs = sub->next;
    if (sub->next)
        sub->next->prev = sub->prev;
    else
        s->subs_tail = sub->prev;
    sub->next = sub->prev = NULL;
}

static void sub_release(jt_session_sub *sub)
{
    if (--sub->refs == 0 && sub->dead)
        sub_free(sub);
}

static void notify_state(jt_session *s, jt_session_state st, const jt_errinfo *why, int retry_ms)
{
    s->state = st;
    if (s->opt.on_state && !s->dying)
        s->opt.on_state(s->opt.state_ctx, st, why, retry_ms);
}

static void want_write(jt_session *s)
{
    if (s->wsi && s->open && !s->dying)
        lws_callback_on_writable(s->wsi);
}

/* ---------------------------------------------------------------- requests */

static void req_timeout(lws_sorted_usec_list_t *sul);

static void req_free(req *r)
{
    free(r->text);
    free(r);
}

/* Answers `r`, already off its list, and frees it: the callback of a user
 * request, the `done` of a subscription's subscribe. */
static void req_answer(jt_session *s, req *r, jt_err err, const char *text, size_t len,
                       const jt_json *msg, const jt_errinfo *ei)
{
    lws_sul_cancel(&r->sul);
    jt_session_reply rep = {.err = err,
                            .id = r->id,
                            .sent = r->sent,
                            .text = text,
                            .len = text ? len : 0,
                            .msg = text ? msg : NULL,
                            .ei = ei};
    if (r->kind != RK_SUB) {
        if (r->cb)
            r->cb(r->ctx, &rep);
    } else if (r->kind == RK_SUB && r->sub) {
        jt_session_sub *sub = r->sub;
        if (err == JT_ERPC)
            sub->active = false; /* refused: not renewed, nothing pushed */
        if (sub->done && !sub->dead && !s->dying) {
            sub->refs++;
            sub->done(sub->done_ctx, &rep);
            sub_release(sub);
        }
    }
    req_free(r);
}

static void req_finish(jt_session *s, req *r, jt_err err, const char *text, size_t len,
                       const jt_json *msg, const jt_errinfo *ei)
{
    list_remove(r->sent ? &s->wait : &s->out, r);
    req_answer(s, r, err, text, len, msg, ei);
}

static void req_timeout(lws_sorted_usec_list_t *sul)
{
    req *r = lws_container_of(sul, req, sul);
    jt_session *s = r->s;
    enter(s);
    jt_errinfo ei;
    if (r->sent)
        set_err(&ei, JT_ETIMEDOUT,
                "no response from %s within %d ms; the request was sent and may or may not "
                "have been carried out",
                s->url, r->timeout_ms);
    else
        set_err(&ei, JT_ETIMEDOUT, "request to %s not sent within %d ms (%s)", s->url,
                r->timeout_ms, s->open ? "connection busy" : "not connected");
    req_finish(s, r, JT_ETIMEDOUT, NULL, 0, NULL, &ei);
    leave(s);
}

/* A new request on `out` (at the head when `first`), its timer started. */
static jt_err req_add(jt_session *s, req_kind kind, const jt_json *obj, const char *command,
                      int timeout_ms, bool first, req **out, jt_errinfo *ei)
{
    req *r = calloc(1, sizeof *r);
    if (!r)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    r->s = s;
    r->kind = kind;
    r->id = s->next_id++;
    r->timeout_ms = timeout_ms > 0 ? timeout_ms : s->opt.request_timeout_ms;
    jt_err e = jt__nodewire_request(obj, r->id, command, s->opt.max_message, &r->text, &r->len, ei);
    if (e) {
        free(r);
        return e;
    }
    if (first)
        list_prepend(&s->out, r);
    else
        list_append(&s->out, r);
    lws_sul_schedule(s->ctx, 0, &r->sul, req_timeout, (lws_usec_t)r->timeout_ms * LWS_US_PER_MS);
    if (out)
        *out = r;
    return JT_OK;
}

/* Answers every request of `from` with `why`. The list is taken first:
 * the callbacks may add requests. Stops calling back once dying (req_answer
 * checks). */
static void finish_all(jt_session *s, req_list *from, const jt_errinfo *why)
{
    req_list l = *from;
    memset(from, 0, sizeof *from);
    while (l.head) {
        req *r = l.head;
        list_remove(&l, r);
        req_answer(s, r, why->code, NULL, 0, NULL, why);
    }
}

/* ---------------------------------------------------------------- connection */

static void schedule_attempt(jt_session *s, int delay_ms);

/* The connection ended, or an attempt failed: once per attempt. With
 * `kill`, the connection is closed here (otherwise lws is closing it). */
static void conn_gone(jt_session *s, bool kill, jt_err code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void conn_gone(jt_session *s, bool kill, jt_err code, const char *fmt, ...)
{
    if (!s->conn_active)
        return;
    bool was_open = s->open;
    s->conn_active = false;
    s->open = false;
    if (s->wsi) {
        lws_set_opaque_user_data(s->wsi, NULL);
        if (kill)
            lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        s->wsi = NULL;
    }
    jt_jtp_free(s->jtp);
    s->jtp = NULL;
    if (s->ai_list)
        freeaddrinfo(s->ai_list);
    s->ai_list = s->ai_next = NULL;
    s->tcp_connecting = false;
    s->rx.len = 0;
    s->rx_overflow = s->rx_binary = false;
    lws_sul_cancel(&s->conn_sul);

    jt_errinfo why;
    jt_errinfo_clear(&why);
    why.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why.msg, sizeof why.msg, fmt, ap);
    va_end(ap);
    if (s->close_reason[0]) {
        size_t ml = strlen(why.msg);
        snprintf(why.msg + ml, sizeof why.msg - ml, " (the node said: %s)", s->close_reason);
        s->close_reason[0] = '\0';
    }

    if (was_open && s->wait.n && s->has_fatal) {
        /* The node refused this client: it carries out nothing of it. The
         * requests keep `sent`, so a caller that cannot rely on that still
         * sees the outcome as unknown. */
        finish_all(s, &s->wait, &s->fatal);
        if (s->dying)
            return;
    } else if (was_open && s->wait.n) {
        jt_errinfo lost;
        set_err(&lost, JT_ELOST,
                "connection to %s lost after the request was sent (%s); it may or may not have "
                "been carried out",
                s->url, why.msg);
        finish_all(s, &s->wait, &lost);
        if (s->dying)
            return;
    }
    /* A new connection renews every subscription anyway, and the node has
     * forgotten this connection's. */
    for (req *r = s->out.head, *next; r; r = next) {
        next = r->next;
        if (r->kind != RK_USER) {
            list_remove(&s->out, r);
            lws_sul_cancel(&r->sul);
            req_free(r);
        }
    }
    if (s->has_fatal) {
        finish_all(s, &s->out, &s->fatal);
        if (s->dying)
            return;
        notify_state(s, JT_SESSION_FAILED, &s->fatal, 0);
        return;
    }
    int delay = s->backoff;
    if (s->opt.backoff_jitter_pct > 0 && delay > 1) {
        uint32_t span = (uint32_t)((int64_t)delay * s->opt.backoff_jitter_pct / 100);
        delay -= (int)randombytes_uniform(span + 1);
        if (delay < 1)
            delay = 1;
    }
    s->backoff = s->backoff >= s->opt.backoff_max_ms / 2 ? s->opt.backoff_max_ms : s->backoff * 2;
    schedule_attempt(s, delay);
    notify_state(s, JT_SESSION_DISCONNECTED, &why, delay);
}

/* The node refused us for good: every request not yet sent fails with it
 * once the connection is gone (conn_gone). */
static void set_fatal(jt_session *s, jt_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_fatal(jt_session *s, jt_err code, const char *fmt, ...)
{
    if (s->has_fatal)
        return;
    s->has_fatal = true;
    jt_errinfo_clear(&s->fatal);
    s->fatal.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->fatal.msg, sizeof s->fatal.msg, fmt, ap);
    va_end(ap);
}

static void conn_opened(jt_session *s)
{
    s->open = true;
    s->conn_count++;
    s->backoff = s->opt.backoff_min_ms;
    lws_sul_cancel(&s->conn_sul);
    /* Renewals go first, oldest subscription first. */
    for (jt_session_sub *sub = s->subs_tail; sub; sub = sub->prev) {
        if (!sub->active)
            continue;
        req *r = NULL;
        if (req_add(s, RK_SUB, jt_json_root(sub->params), "subscribe", 0, true, &r, NULL) == JT_OK)
            r->sub = sub;
    }
    jt_errinfo ok;
    jt_errinfo_clear(&ok);
    notify_state(s, JT_SESSION_CONNECTED, &ok, 0);
    want_write(s);
}

static void conn_timeout(lws_sorted_usec_list_t *sul)
{
    jt_session *s = lws_container_of(sul, jt_session, conn_sul);
    enter(s);
    if (s->conn_active && !s->open)
        conn_gone(s, true, JT_ECONNECT, "cannot connect to %s: timed out after %d ms", s->url,
                  s->opt.connect_timeout_ms);
    leave(s);
}

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

/* jtp: starts a TCP connection to the next address not tried yet and adopts
 * the socket into the loop (RAW_WRITEABLE says when it is connected); when
 * none is left, the attempt has failed. The name is resolved on the loop
 * thread (as libwebsockets' own client does without its async resolver). */
static void tcp_next(jt_session *s)
{
    if (!s->ai_list) {
        char port[8];
        snprintf(port, sizeof port, "%u", (unsigned)s->u.port);
        struct addrinfo hints;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        int rc = getaddrinfo(s->u.host, port, &hints, &s->ai_list);
        if (rc != 0) {
            s->ai_list = NULL;
            conn_gone(s, false, JT_ECONNECT, "cannot resolve %s: %s", s->u.host, gai_strerror(rc));
            return;
        }
        s->ai_next = s->ai_list;
        snprintf(s->tcp_err, sizeof s->tcp_err, "no usable address");
    }
    while (s->ai_next) {
        struct addrinfo *a = s->ai_next;
        s->ai_next = a->ai_next;
        if (s->u.tr == JT__NW_JTP_PLAIN && !addr_is_loopback(a->ai_addr)) {
            set_fatal(s, JT_EURL,
                      "%s resolves to a non-loopback address; plaintext jtp is for loopback only",
                      s->u.host);
            continue;
        }
        int fd =
            socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            snprintf(s->tcp_err, sizeof s->tcp_err, "socket: %s", strerror(errno));
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
            snprintf(s->tcp_err, sizeof s->tcp_err, "%s", strerror(errno));
            close(fd);
            continue;
        }
        lws_sock_file_fd_type d;
        memset(&d, 0, sizeof d);
        d.sockfd = fd;
        /* lws closes fd when it fails. */
        struct lws *wsi = lws_adopt_descriptor_vhost(s->vh, LWS_ADOPT_SOCKET, d,
                                                     JT_SESSION_LWS_PROTOCOL_NAME, NULL);
        if (!wsi) {
            snprintf(s->tcp_err, sizeof s->tcp_err, "libwebsockets did not take the socket");
            continue;
        }
        lws_set_opaque_user_data(wsi, s);
        s->wsi = wsi;
        s->tcp_connecting = true;
        lws_callback_on_writable(wsi);
        return;
    }
    if (s->has_fatal)
        conn_gone(s, false, s->fatal.code, "%s", s->fatal.msg);
    else
        conn_gone(s, false, JT_ECONNECT, "cannot connect to %s:%u: %s", s->u.host,
                  (unsigned)s->u.port, s->tcp_err);
}

/* jtp: the TCP connection being made failed (`err`, 0 when unknown): the
 * next address, or the attempt has failed. `wsi` is closing. */
static void tcp_failed(jt_session *s, int err)
{
    lws_set_opaque_user_data(s->wsi, NULL);
    s->wsi = NULL;
    s->tcp_connecting = false;
    snprintf(s->tcp_err, sizeof s->tcp_err, "%s", err ? strerror(err) : "connection failed");
    tcp_next(s);
}

static int sock_error(struct lws *wsi)
{
    int err = 0, fd = (int)lws_get_socket_fd(wsi);
    socklen_t sl = sizeof err;
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0)
        return 0;
    return err;
}

static void attempt(lws_sorted_usec_list_t *sul)
{
    jt_session *s = lws_container_of(sul, jt_session, retry_sul);
    enter(s);
    if (s->dying || s->has_fatal || s->conn_active)
        goto out;
    jt_errinfo ok;
    jt_errinfo_clear(&ok);
    notify_state(s, JT_SESSION_CONNECTING, &ok, 0);
    if (s->dying)
        goto out;
    bool jtp = s->u.tr == JT__NW_JTP || s->u.tr == JT__NW_JTP_PLAIN;
    struct lws_client_connect_info cc;
    memset(&cc, 0, sizeof cc);
    cc.context = s->ctx;
    cc.vhost = s->vh;
    cc.address = s->u.host;
    cc.port = s->u.port;
    cc.path = s->u.path;
    cc.host = s->u.host;
    cc.origin = s->u.host;
    cc.protocol = NULL; /* skywelld speaks no subprotocol */
    cc.local_protocol_name = JT_SESSION_LWS_PROTOCOL_NAME;
    cc.ietf_version_or_minus_one = -1;
    cc.ssl_connection = s->u.tr == JT__NW_WSS ? LCCSCF_USE_SSL : 0;
    cc.opaque_user_data = s;
    cc.pwsi = &s->wsi;
    s->conn_active = true;
    s->open = false;
    s->close_reason[0] = '\0';
    lws_sul_schedule(s->ctx, 0, &s->conn_sul, conn_timeout,
                     (lws_usec_t)s->opt.connect_timeout_ms * LWS_US_PER_MS);
    if (jtp) {
        tcp_next(s);
        goto out;
    }
    if (!lws_client_connect_via_info(&cc)) {
        /* It may have failed through the callback already; conn_gone
         * reports it once either way. */
        s->wsi = NULL;
        conn_gone(s, false, JT_ECONNECT, "cannot connect to %s: connection could not be started",
                  s->url);
    }
out:
    leave(s);
}

static void schedule_attempt(jt_session *s, int delay_ms)
{
    lws_sul_schedule(s->ctx, 0, &s->retry_sul, attempt,
                     (lws_usec_t)(delay_ms > 0 ? delay_ms : 1) * LWS_US_PER_MS);
}

void jt_session_retry_now(jt_session *s)
{
    if (!s || s->dying || s->has_fatal || s->conn_active)
        return;
    s->backoff = s->opt.backoff_min_ms;
    lws_sul_cancel(&s->retry_sul);
    schedule_attempt(s, 1);
}

/* ---------------------------------------------------------------- messages */

static void dispatch_push(jt_session *s, const jt_json *root, const char *text, size_t len)
{
    unsigned bit = jt__nodewire_push_bit(jt_json_string(jt_json_get(root, "type")));
    jt_session_sub *few[16], **targets = few;
    size_t count = 0, k = 0;
    for (jt_session_sub *sub = s->subs; sub; sub = sub->next)
        count += sub->active && jt__nodewire_wants(sub->types, bit);
    if (count > JT__ARRAY_LEN(few) && !(targets = malloc(count * sizeof *targets)))
        return; /* out of memory: this message is lost, the next may not be */
    for (jt_session_sub *sub = s->subs; sub && k < count; sub = sub->next) {
        if (sub->active && jt__nodewire_wants(sub->types, bit)) {
            sub->refs++;
            targets[k++] = sub;
        }
    }
    s->push_serial++;
    /* The callbacks may unsubscribe anything (refs keeps it readable) or
     * free the session (then the rest is skipped). */
    for (size_t i = 0; i < k; i++)
        if (targets[i]->active && !targets[i]->dead && !s->dying)
            targets[i]->push(targets[i]->push_ctx, root, text, len);
    for (size_t i = 0; i < k; i++)
        sub_release(targets[i]);
    if (targets != few)
        free(targets);
}

/* A transport error message; the ones retrying cannot fix make the session
 * fail. Returns true when the connection must close. */
static bool transport_error(jt_session *s, const jt_json *root)
{
    const char *err = jt_json_string(jt_json_get(root, "error"));
    const char *msg = jt_json_string(jt_json_get(root, "error_message"));
    if (!err)
        return false;
    snprintf(s->close_reason, sizeof s->close_reason, "%s%s%s", err, msg ? ": " : "",
             msg ? msg : "");
    jt_err code = JT_OK;
    if (strcmp(err, "forbidden") == 0)
        code = JT_EJTP_AUTH;
    else if (strcmp(err, "plaintextRefused") == 0)
        code = JT_EJTP_PLAINTEXT;
    if (code == JT_OK)
        return false;
    set_fatal(s, code, "%s refused this client: %s", s->url, s->close_reason);
    return true;
}

/* One message from the node. Returns true when the connection must close. */
static bool on_message(jt_session *s, const char *text, size_t len)
{
    jt_json_doc *doc = NULL;
    jt_json_limits lim = jt__nodewire_json_limits(s->opt.max_message);
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
            close_now = transport_error(s, root);
        else
            dispatch_push(s, root, text, len);
        goto out;
    }
    uint64_t id;
    if (!jt_json_uint64(idv, false, &id))
        goto out; /* not an id we gave */
    req *r = s->wait.head;
    while (r && r->id != id)
        r = r->next;
    if (r) {
        jt_errinfo ei;
        jt_err st = jt__nodewire_status(root, &ei);
        req_finish(s, r, st, text, len, root, &ei);
    }
out:
    jt_json_doc_free(doc);
    return close_now;
}

/* ---------------------------------------------------------------- ws */

static int ws_receive(jt_session *s, struct lws *wsi, const void *in, size_t len)
{
    /* A message may come in several callbacks (fragments, or a frame larger
     * than the receive buffer). */
    if (lws_frame_is_binary(wsi))
        s->rx_binary = true; /* the API is text; binary is not ours */
    if (!s->rx_binary && !s->rx_overflow) {
        if (s->rx.len + len > s->opt.max_message || jt_buf_append(&s->rx, in, len) != JT_OK)
            s->rx_overflow = true;
    }
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) != 0)
        return 0;
    bool skip = s->rx_binary, over = s->rx_overflow;
    s->rx_binary = s->rx_overflow = false;
    if (over) {
        s->rx.len = 0;
        conn_gone(s, false, JT_ETOOBIG, "%s sent a message over the %zu-byte limit", s->url,
                  s->opt.max_message);
        return -1;
    }
    /* The text is NUL-terminated for the callbacks. */
    if (!skip && jt_buf_append(&s->rx, "", 1) == JT_OK) {
        size_t n = s->rx.len - 1;
        s->rx.len = 0;
        bool close_now = on_message(s, (const char *)s->rx.data, n);
        if (s->dying)
            return 0;
        if (close_now) {
            conn_gone(s, false, JT_ECLOSED, "%s refused this client", s->url);
            return -1;
        }
    }
    s->rx.len = 0;
    return 0;
}

/* Bytes of requests written in one writeable turn at most: a burst (a
 * group commit's worth of submits) goes out in one turn rather than one
 * request per turn of the loop, and one turn still cannot hold the loop
 * for long. */
#define WS_WRITE_TURN (256u << 10)

static int ws_writeable(jt_session *s, struct lws *wsi)
{
    size_t turn = 0;
    /* Another frame follows only while lws holds no part of the last one:
     * a partial write is kept by lws and sent before anything else. */
    while (s->open && s->out.head && turn < WS_WRITE_TURN &&
           (turn == 0 || !lws_partial_buffered(wsi))) {
        req *r = s->out.head;
        uint8_t *frame = malloc(LWS_PRE + r->len);
        if (!frame) {
            conn_gone(s, false, JT_ENOMEM, "out of memory writing to %s", s->url);
            return -1;
        }
        memcpy(frame + LWS_PRE, r->text, r->len);
        /* From here the node may see it. */
        list_remove(&s->out, r);
        r->sent = true;
        list_append(&s->wait, r);
        free(r->text);
        r->text = NULL;
        size_t len = r->len;
        int w = lws_write(wsi, frame + LWS_PRE, len, LWS_WRITE_TEXT);
        free(frame);
        if (w < (int)len) {
            conn_gone(s, false, JT_ECLOSED, "write to %s failed", s->url);
            return -1;
        }
        turn += len;
    }
    if (s->open && s->out.head)
        lws_callback_on_writable(wsi);
    return 0;
}

/* ---------------------------------------------------------------- jtp */

static int jtp_connected(jt_session *s, struct lws *wsi)
{
    jt_jtp_limits lim;
    jt_jtp_limits_init(&lim);
    lim.max_message = s->opt.max_message;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_err e;
    if (s->u.tr == JT__NW_JTP_PLAIN)
        e = jt_jtp_new_client_plaintext(&lim, &s->jtp, &ei);
    else
        e = jt_jtp_new_client(s->u.key, jt_jtp_identity_public(s->ident),
                              jt_jtp_identity_secret(s->ident), &lim, &s->jtp, &ei);
    if (e) {
        conn_gone(s, false, e, "%s: %s", s->url, ei.msg);
        return -1;
    }
    lws_callback_on_writable(wsi);               /* the magic and the first handshake message */
    if (jt_jtp_get_state(s->jtp) == JT_JTP_OPEN) /* plaintext: no handshake */
        conn_opened(s);
    return 0;
}

static int jtp_receive(jt_session *s, struct lws *wsi, const void *in, size_t len)
{
    if (!s->jtp)
        return 0;
    jt_errinfo fe;
    jt_errinfo_clear(&fe);
    jt_err e = jt_jtp_feed(s->jtp, in, len, &fe);
    if (!s->open && jt_jtp_get_state(s->jtp) == JT_JTP_OPEN) {
        conn_opened(s);
        if (s->dying)
            return 0;
    }
    const char *m;
    size_t mlen;
    bool close_now = false;
    /* jt_jtp_feed cannot run in a callback: the message stays valid. */
    while (!close_now && s->jtp && jt_jtp_next_message(s->jtp, &m, &mlen)) {
        close_now = on_message(s, m, mlen);
        if (s->dying)
            return 0;
    }
    if (e) {
        /* A handshake that fails authentication before any connection
         * succeeded is a configuration error (the wrong key pinned, our key
         * not allowed): final. Once connected, it may be a node that
         * changed hands or an injected ERROR frame (its text is not
         * authenticated): retried, and reported on each attempt. */
        if (e == JT_EJTP_PLAINTEXT || (e == JT_EJTP_AUTH && s->conn_count == 0))
            set_fatal(s, e, "%s: %s", s->url, fe.msg);
        conn_gone(s, false, e, "%s: %s", s->url, fe.msg);
        return -1;
    }
    if (close_now) {
        conn_gone(s, false, JT_ECLOSED, "%s refused this client", s->url);
        return -1;
    }
    const uint8_t *p;
    size_t n;
    jt_jtp_pending_output(s->jtp, &p, &n);
    if (n || (s->open && s->out.head))
        lws_callback_on_writable(wsi);
    return 0;
}

static int jtp_writeable(jt_session *s, struct lws *wsi)
{
    if (!s->jtp)
        return 0;
    const uint8_t *p;
    size_t n;
    jt_jtp_pending_output(s->jtp, &p, &n);
    while (s->open && s->out.head && n < JTP_OUT_HIGH_WATER) {
        req *r = s->out.head;
        jt_errinfo se;
        jt_errinfo_clear(&se);
        jt_err e = jt_jtp_send(s->jtp, r->text, r->len, &se);
        if (e) {
            conn_gone(s, false, e, "%s: %s", s->url, se.msg);
            return -1;
        }
        list_remove(&s->out, r);
        r->sent = true;
        list_append(&s->wait, r);
        free(r->text);
        r->text = NULL;
        jt_jtp_pending_output(s->jtp, &p, &n);
    }
    if (n == 0)
        return 0;
    size_t chunk = n < JTP_WRITE_CHUNK ? n : JTP_WRITE_CHUNK;
    uint8_t *buf = malloc(LWS_PRE + chunk);
    if (!buf) {
        conn_gone(s, false, JT_ENOMEM, "out of memory writing to %s", s->url);
        return -1;
    }
    memcpy(buf + LWS_PRE, p, chunk);
    int w = lws_write(wsi, buf + LWS_PRE, chunk, LWS_WRITE_RAW);
    free(buf);
    if (w < (int)chunk) {
        conn_gone(s, false, JT_ECLOSED, "write to %s failed", s->url);
        return -1;
    }
    jt_jtp_consume_output(s->jtp, chunk);
    jt_jtp_pending_output(s->jtp, &p, &n);
    if (n || (s->open && s->out.head))
        lws_callback_on_writable(wsi);
    return 0;
}

/* ---------------------------------------------------------------- lws callback */

static int dispatch(jt_session *s, struct lws *wsi, enum lws_callback_reasons reason, void *in,
                    size_t len)
{
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        s->rx.len = 0;
        conn_opened(s);
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        conn_gone(s, false, JT_ECONNECT, "cannot connect to %s: %.*s", s->url,
                  in && len ? (int)len : 200, in ? (const char *)in : "connection failed");
        return 0;
    }
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_RAW_CLOSE:
    case LWS_CALLBACK_WSI_DESTROY:
        if (s->tcp_connecting) {
            /* lws has read the socket's error already (a read that failed
             * with it): errno still holds it. */
            int err = sock_error(wsi);
            int e0 = s->entry_errno;
            if (!err && e0 != EAGAIN && e0 != EWOULDBLOCK && e0 != EINPROGRESS && e0 != EINTR)
                err = e0;
            tcp_failed(s, err);
            return 0;
        }
        if (s->open)
            conn_gone(s, false, JT_ECLOSED, "%s closed the connection", s->url);
        else
            conn_gone(s, false, JT_ECONNECT,
                      "cannot connect to %s: connection closed during the %s", s->url,
                      s->u.tr == JT__NW_JTP || s->u.tr == JT__NW_JTP_PLAIN ? "jtp handshake"
                                                                           : "WebSocket handshake");
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE: return ws_receive(s, wsi, in, len);
    case LWS_CALLBACK_CLIENT_WRITEABLE: return ws_writeable(s, wsi);
    case LWS_CALLBACK_RAW_RX: return jtp_receive(s, wsi, in, len);
    case LWS_CALLBACK_RAW_WRITEABLE:
        if (s->tcp_connecting) {
            int err = sock_error(wsi);
            if (err) {
                tcp_failed(s, err);
                return -1;
            }
            s->tcp_connecting = false;
            if (s->ai_list)
                freeaddrinfo(s->ai_list);
            s->ai_list = s->ai_next = NULL;
            return jtp_connected(s, wsi);
        }
        return jtp_writeable(s, wsi);
    default: return 0;
    }
}

static int session_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                            size_t len)
{
    (void)user;
    int saved = errno;
    jt_session *s = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    if (s)
        s->entry_errno = saved;
    if (!s || s->wsi != wsi || s->dying)
        return 0;
    enter(s);
    int r = dispatch(s, wsi, reason, in, len);
    leave(s);
    return r;
}

/* ---------------------------------------------------------------- API */

void jt_session_options_init(jt_session_options *o)
{
    memset(o, 0, sizeof *o);
    o->connect_timeout_ms = 5000;
    o->request_timeout_ms = 30000;
    o->backoff_min_ms = 100;
    o->backoff_max_ms = 5000;
    o->backoff_jitter_pct = 20;
    o->max_message = JT_JTP_DEFAULT_MAX_MESSAGE;
    o->max_pending = 4096;
}

static void destroy(jt_session *s)
{
    while (s->subs) {
        jt_session_sub *sub = s->subs;
        sub_unlink(s, sub);
        sub_free(sub);
    }
    jt_jtp_free(s->jtp);
    if (s->ai_list)
        freeaddrinfo(s->ai_list);
    jt_jtp_identity_free(s->ident);
    jt_buf_clear(&s->rx);
    free(s);
}

jt_err jt_session_new(struct lws_context *ctx, const char *url, const jt_session_options *opt,
                      jt_session **out, jt_errinfo *ei)
{
    if (!ctx || !url || !out)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_session_new: NULL argument");
    *out = NULL;
    if (jt__sodium_ready() != 0)
        return jt__err(ei, JT_ECRYPTO, NULL, -1, "libsodium failed to initialise");
    jt_session *s = calloc(1, sizeof *s);
    if (!s)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    jt_buf_init(&s->rx);
    s->ctx = ctx;
    jt_session_options d;
    jt_session_options_init(&d);
    s->opt = opt ? *opt : d;
    if (s->opt.connect_timeout_ms <= 0)
        s->opt.connect_timeout_ms = d.connect_timeout_ms;
    if (s->opt.request_timeout_ms <= 0)
        s->opt.request_timeout_ms = d.request_timeout_ms;
    if (s->opt.backoff_min_ms <= 0)
        s->opt.backoff_min_ms = d.backoff_min_ms;
    if (s->opt.backoff_max_ms < s->opt.backoff_min_ms)
        s->opt.backoff_max_ms =
            s->opt.backoff_min_ms > d.backoff_max_ms ? s->opt.backoff_min_ms : d.backoff_max_ms;
    if (s->opt.backoff_jitter_pct < 0)
        s->opt.backoff_jitter_pct = 0;
    if (s->opt.backoff_jitter_pct > 100)
        s->opt.backoff_jitter_pct = 100;
    if (s->opt.max_message == 0)
        s->opt.max_message = d.max_message;
    if (s->opt.max_message > JT_JTP_MAX_MESSAGE_CEILING)
        s->opt.max_message = JT_JTP_MAX_MESSAGE_CEILING;
    if (s->opt.max_pending == 0)
        s->opt.max_pending = d.max_pending;
    s->opt.identity = NULL; /* copied below; never kept */
    s->backoff = s->opt.backoff_min_ms;
    s->next_id = 1;
    s->state = JT_SESSION_DISCONNECTED;
    snprintf(s->url, sizeof s->url, "%s", url);

    s->vh = s->opt.vhost ? s->opt.vhost : lws_get_vhost_by_name(ctx, "default");
    jt_err e = jt__nodewire_url_parse(url, &s->u, ei);
    if (e)
        goto fail;
    if (!s->vh || !lws_vhost_name_to_protocol(s->vh, JT_SESSION_LWS_PROTOCOL_NAME)) {
        e = jt__err(ei, JT_EINVAL, NULL, -1,
                    "the libwebsockets %s has no \"%s\" protocol: add jt_session_lws_protocol() "
                    "to its protocol list",
                    s->vh ? "vhost" : "context (no default vhost)", JT_SESSION_LWS_PROTOCOL_NAME);
        goto fail;
    }
    if (s->u.tr == JT__NW_JTP) {
        if (opt && opt->identity)
            e = jt_jtp_identity_from_seed(jt_jtp_identity_secret(opt->identity), &s->ident);
        else
            e = jt_jtp_identity_generate(&s->ident);
        if (e) {
            e = jt__err(ei, e, NULL, -1, "cannot set up the jtp identity: %s", jt_strerror(e));
            goto fail;
        }
    }
    schedule_attempt(s, 0);
    *out = s;
    return JT_OK;
fail:
    destroy(s);
    return e;
}

void jt_session_free(jt_session *s)
{
    if (!s || s->dying)
        return;
    enter(s);
    /* Requests first, while the connection still counts as it was: their
     * callbacks see `sent` as it is. */
    jt_errinfo why;
    set_err(&why, JT_ECANCELED, "the session with %s was closed by its owner", s->url);
    s->dying = true; /* no new requests, no state callback, no pushes */
    if (s->wsi) {
        lws_set_opaque_user_data(s->wsi, NULL);
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        s->wsi = NULL;
    }
    s->conn_active = s->open = false;
    lws_sul_cancel(&s->retry_sul);
    lws_sul_cancel(&s->conn_sul);
    /* Callbacks of user requests run; those of subscriptions do not
     * (req_finish checks dying). */
    finish_all(s, &s->wait, &why);
    finish_all(s, &s->out, &why);
    for (jt_session_sub *sub = s->subs; sub; sub = sub->next)
        sub->active = false;
    leave(s); /* frees it now, or when the callback that called us returns */
}

static jt_err check_usable(jt_session *s, jt_errinfo *ei)
{
    if (s->dying)
        return jt__err(ei, JT_ECANCELED, NULL, -1, "the session is being freed");
    if (s->has_fatal) {
        if (ei)
            *ei = s->fatal;
        return s->fatal.code;
    }
    if (s->out.n + s->wait.n >= s->opt.max_pending)
        return jt__err(ei, JT_ETOOBIG, NULL, -1, "too many requests pending (%zu)",
                       s->out.n + s->wait.n);
    return JT_OK;
}

static jt_err parse_object(jt_session *s, const char *json, const char *what, jt_json_doc **doc,
                           jt_errinfo *ei)
{
    if (!json)
        return jt__err(ei, JT_EINVAL, NULL, -1, "%s is NULL", what);
    jt_json_limits lim = jt__nodewire_json_limits(s->opt.max_message);
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

jt_err jt_session_request(jt_session *s, const char *request_json, int timeout_ms,
                          jt_session_reply_cb cb, void *ctx, uint64_t *id_out, jt_errinfo *ei)
{
    if (!s || !cb)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_session_request: NULL argument");
    jt_err e = check_usable(s, ei);
    if (e)
        return e;
    jt_json_doc *doc = NULL;
    e = parse_object(s, request_json, "the request", &doc, ei);
    if (e)
        return e;
    if (!jt_json_string(jt_json_get(jt_json_root(doc), "command"))) {
        jt_json_doc_free(doc);
        return jt__err(ei, JT_EINVAL, "command", -1, "the request has no \"command\" string");
    }
    req *r = NULL;
    e = req_add(s, RK_USER, jt_json_root(doc), NULL, timeout_ms, false, &r, ei);
    jt_json_doc_free(doc);
    if (e)
        return e;
    r->cb = cb;
    r->ctx = ctx;
    if (id_out)
        *id_out = r->id;
    want_write(s);
    return JT_OK;
}

uint64_t jt_session_push_serial(const jt_session *s)
{
    return s ? s->push_serial : 0;
}

jt_err jt_session_subscribe(jt_session *s, const char *params_json, jt_session_push_cb push,
                            void *push_ctx, jt_session_reply_cb done, void *done_ctx,
                            jt_session_sub **out, jt_errinfo *ei)
{
    if (out)
        *out = NULL;
    if (!s || !push)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_session_subscribe: NULL argument");
    jt_err e = check_usable(s, ei);
    if (e)
        return e;
    jt_session_sub *sub = calloc(1, sizeof *sub);
    if (!sub)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    e = parse_object(s, params_json, "the subscription parameters", &sub->params, ei);
    if (e) {
        free(sub);
        return e;
    }
    sub->s = s;
    sub->types = jt__nodewire_sub_types(jt_json_root(sub->params));
    sub->push = push;
    sub->push_ctx = push_ctx;
    sub->done = done;
    sub->done_ctx = done_ctx;
    sub->active = true;
    if (s->open) {
        req *r = NULL;
        e = req_add(s, RK_SUB, jt_json_root(sub->params), "subscribe", 0, false, &r, ei);
        if (e) {
            sub_free(sub);
            return e;
        }
        r->sub = sub;
        want_write(s);
    }
    /* Otherwise the next connection sends it. */
    sub->prev = s->subs_tail;
    if (s->subs_tail)
        s->subs_tail->next = sub;
    else
        s->subs = sub;
    s->subs_tail = sub;
    if (out)
        *out = sub;
    return JT_OK;
}

/* Whether two JSON values are written the same (book sides: currency,
 * issuer). */
static bool same_json(const jt_json *a, const jt_json *b)
{
    if (!a || !b)
        return a == b;
    jt_buf ba, bb;
    jt_buf_init(&ba);
    jt_buf_init(&bb);
    jt_jw wa, wb;
    jt_jw_init(&wa, &ba);
    jt_jw_init(&wb, &bb);
    jt_jw_value(&wa, a);
    jt_jw_value(&wb, b);
    bool eq = jt_jw_finish(&wa) == JT_OK && jt_jw_finish(&wb) == JT_OK && ba.len == bb.len &&
              memcmp(ba.data, bb.data, ba.len) == 0;
    jt_buf_clear(&ba);
    jt_buf_clear(&bb);
    return eq;
}

static bool same_item(const jt_json *a, const jt_json *b)
{
    if (a->kind == JT_JSON_STRING && b->kind == JT_JSON_STRING)
        return strcmp(jt_json_string(a), jt_json_string(b)) == 0;
    if (a->kind == JT_JSON_OBJECT && b->kind == JT_JSON_OBJECT) /* a book */
        return same_json(jt_json_get(a, "taker_gets"), jt_json_get(b, "taker_gets")) &&
               same_json(jt_json_get(a, "taker_pays"), jt_json_get(b, "taker_pays"));
    return false;
}

/* Whether another active subscription of `s` names `item` under `key`. */
static bool still_wanted(const jt_session *s, const jt_session_sub *self, const char *key,
                         const jt_json *item)
{
    for (const jt_session_sub *o = s->subs; o; o = o->next) {
        if (o == self || !o->active)
            continue;
        const jt_json *arr = jt_json_get(jt_json_root(o->params), key);
        if (!arr || arr->kind != JT_JSON_ARRAY)
            continue;
        for (size_t i = 0; i < arr->u.arr.n; i++)
            if (same_item(arr->u.arr.items[i], item))
                return true;
    }
    return false;
}

/* The parameters of the unsubscribe that undoes `sub` without taking from
 * the node what other subscriptions of this session still want (the node
 * keeps one set per connection, not one per subscribe). NULL when nothing is
 * left to undo, or out of memory. */
static jt_json_doc *unsub_params(const jt_session *s, const jt_session_sub *sub)
{
    static const char *const lists[] = {"streams", "accounts", "accounts_proposed", "rt_accounts",
                                        "books"};
    const jt_json *p = jt_json_root(sub->params);
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    size_t left = 0;
    for (size_t i = 0; i < p->u.obj.n; i++) {
        const char *k = p->u.obj.keys[i];
        const jt_json *v = p->u.obj.vals[i];
        bool is_list = false;
        for (size_t l = 0; l < JT__ARRAY_LEN(lists); l++)
            is_list |= strcmp(k, lists[l]) == 0;
        if (!is_list || v->kind != JT_JSON_ARRAY) {
            jt_jw_key(&w, k);
            jt_jw_value(&w, v);
            continue;
        }
        size_t kept = 0;
        for (size_t j = 0; j < v->u.arr.n; j++)
            kept += !still_wanted(s, sub, k, v->u.arr.items[j]);
        if (kept == 0)
            continue;
        jt_jw_key(&w, k);
        jt_jw_array_begin(&w);
        for (size_t j = 0; j < v->u.arr.n; j++)
            if (!still_wanted(s, sub, k, v->u.arr.items[j]))
                jt_jw_value(&w, v->u.arr.items[j]);
        jt_jw_array_end(&w);
        left += kept;
    }
    jt_jw_object_end(&w);
    jt_json_doc *doc = NULL;
    if (jt_jw_finish(&w) == JT_OK && left > 0 &&
        jt_json_parse((const char *)b.data, b.len, NULL, &doc, NULL) != JT_OK)
        doc = NULL;
    jt_buf_clear(&b);
    return doc;
}

bool jt_session_unsubscribe(jt_session *s, jt_session_sub *sub, jt_session_reply_cb done, void *ctx)
{
    if (!s || !sub || sub->dead)
        return false;
    bool was_active = sub->active;
    for (int pass = 0; pass < 2; pass++)
        for (req *r = pass ? s->wait.head : s->out.head; r; r = r->next)
            if (r->sub == sub)
                r->sub = NULL;
    sub_unlink(s, sub);
    sub->active = false;
    sub->dead = true;
    bool queued = false;
    /* Not connected: a new connection would not have it anyway. */
    if (was_active && s->open && !s->dying && check_usable(s, NULL) == JT_OK) {
        jt_json_doc *params = unsub_params(s, sub);
        req *r = NULL;
        if (params && req_add(s, RK_UNSUB, jt_json_root(params), "unsubscribe", 0, false, &r,
                              NULL) == JT_OK) {
            r->cb = done;
            r->ctx = ctx;
            queued = true;
            want_write(s);
        }
        jt_json_doc_free(params);
    }
    if (sub->refs == 0)
        sub_free(sub);
    return queued;
}

bool jt_session_sub_active(const jt_session_sub *sub)
{
    return sub && sub->active;
}

jt_session_state jt_session_get_state(const jt_session *s)
{
    return s->state;
}

unsigned jt_session_connection_count(const jt_session *s)
{
    return s->conn_count;
}

size_t jt_session_pending(const jt_session *s)
{
    return s->out.n + s->wait.n;
}

const char *jt_session_transport(const jt_session *s)
{
    return jt__nodewire_transport_name(s->u.tr);
}

const char *jt_session_url(const jt_session *s)
{
    return s->url;
}
