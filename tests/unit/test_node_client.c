/* test_node_client.c — the node client against small in-process nodes: a jtp
 * server (the jtp state machine on a loopback socket, in a thread) and a
 * WebSocket server (libwebsockets, in a thread). Both answer the same few
 * commands:
 *   echo     {"result":{"request":<the request>}}
 *   fail     an actNotFound error
 *   hold     no answer until "release", which is answered first
 *   slow     never answered
 *   drop     the connection is closed without an answer
 *   push     answered, then ledgerClosed + transaction to subscribed connections
 *   subscribe / unsubscribe
 */
#include <libwebsockets.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jt/jt.h"
#include "testutil.h"

/* ------------------------------------------------------------ helpers */

/* The fake servers run on their own threads, where cmocka's assertions
 * (which jump back into the test) must not be used. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static int64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Waits until *v >= want (atomic int), at most `ms`. */
static bool wait_atomic(atomic_int *v, int want, int ms)
{
    int64_t end = ms_now() + ms;
    while (atomic_load(v) < want && ms_now() < end)
        sleep_ms(5);
    return atomic_load(v) >= want;
}

static bool wait_conn_count(jt_node *n, unsigned want, int ms)
{
    int64_t end = ms_now() + ms;
    while (jt_node_connection_count(n) < want && ms_now() < end)
        sleep_ms(5);
    return jt_node_connection_count(n) >= want;
}

/* ------------------------------------------------------------ fake node logic */

typedef struct fconn fconn;
struct fconn {
    void (*send)(fconn *c, const char *msg, size_t len);
    bool close_now;
    bool subscribed;
    char *held; /* the answer to "hold", sent after "release" */
    fconn *next;
};

typedef struct fake {
    fconn *conns; /* the server thread's own list */
    atomic_int subscribes;
    atomic_int requests;
    atomic_int accepted;
    int ledger_index;
} fake;

static char *response(const jt_json *id, const char *status, const jt_json *req, const char *err)
{
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "id");
    jt_jw_value(&w, id);
    jt_jw_key(&w, "status");
    jt_jw_string(&w, status);
    jt_jw_key(&w, "type");
    jt_jw_string(&w, "response");
    if (err) {
        jt_jw_key(&w, "error");
        jt_jw_string(&w, err);
        jt_jw_key(&w, "error_code");
        jt_jw_int(&w, 18);
        jt_jw_key(&w, "error_message");
        jt_jw_string(&w, "Account not found.");
    } else {
        jt_jw_key(&w, "result");
        jt_jw_object_begin(&w);
        jt_jw_key(&w, "request");
        jt_jw_value(&w, req);
        jt_jw_object_end(&w);
    }
    jt_jw_object_end(&w);
    CHECK(jt_jw_finish(&w) == JT_OK);
    return (char *)b.data;
}

static void send_str(fconn *c, char *s)
{
    c->send(c, s, strlen(s));
    free(s);
}

static void fake_handle(fake *f, fconn *c, const char *msg, size_t len)
{
    jt_json_doc *doc = NULL;
    atomic_fetch_add(&f->requests, 1);
    if (jt_json_parse(msg, len, NULL, &doc, NULL) != JT_OK)
        return;
    const jt_json *req = jt_json_root(doc);
    const jt_json *id = jt_json_get(req, "id");
    const char *cmd = jt_json_string(jt_json_get(req, "command"));
    if (!id || !cmd)
        goto out;
    if (strcmp(cmd, "fail") == 0) {
        send_str(c, response(id, "error", req, "actNotFound"));
    } else if (strcmp(cmd, "hold") == 0) {
        free(c->held);
        c->held = response(id, "success", req, NULL);
    } else if (strcmp(cmd, "release") == 0) {
        send_str(c, response(id, "success", req, NULL));
        if (c->held) {
            send_str(c, c->held);
            c->held = NULL;
        }
    } else if (strcmp(cmd, "slow") == 0) {
        /* never answered */
    } else if (strcmp(cmd, "drop") == 0) {
        c->close_now = true;
    } else if (strcmp(cmd, "subscribe") == 0) {
        atomic_fetch_add(&f->subscribes, 1);
        c->subscribed = true;
        send_str(c, response(id, "success", req, NULL));
    } else if (strcmp(cmd, "push") == 0) {
        send_str(c, response(id, "success", req, NULL));
        f->ledger_index++;
        char m[128];
        for (fconn *o = f->conns; o; o = o->next) {
            if (!o->subscribed)
                continue;
            snprintf(m, sizeof m, "{\"type\":\"ledgerClosed\",\"ledger_index\":%d}",
                     f->ledger_index);
            o->send(o, m, strlen(m));
            snprintf(m, sizeof m, "{\"type\":\"transaction\",\"ledger_index\":%d}",
                     f->ledger_index);
            o->send(o, m, strlen(m));
        }
    } else {
        send_str(c, response(id, "success", req, NULL));
    }
out:
    jt_json_doc_free(doc);
}

static void fake_unlink(fake *f, fconn *c)
{
    for (fconn **pp = &f->conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    free(c->held);
    c->held = NULL;
}

/* ------------------------------------------------------------ jtp server */

typedef struct jconn {
    fconn f; /* first: the fconn pointer is the jconn pointer */
    int fd;
    jt_jtp *j;
    bool opened;
} jconn;

typedef struct jsrv {
    fake fk;
    int lfd;
    uint16_t port;
    pthread_t th;
    atomic_bool stop;
    uint8_t pk[32], sk[64];
    bool allow_plain;
    bool forbid;
    uint8_t last_peer[32];
    atomic_int peers_seen;
    jconn *conns[16];
} jsrv;

static void jconn_send(fconn *f, const char *msg, size_t len)
{
    jconn *c = (jconn *)f;
    CHECK(jt_jtp_send(c->j, msg, len, NULL) == JT_OK);
}

static void jconn_flush(jconn *c)
{
    const uint8_t *p;
    size_t n;
    jt_jtp_pending_output(c->j, &p, &n);
    while (n > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        jt_jtp_consume_output(c->j, (size_t)w);
        jt_jtp_pending_output(c->j, &p, &n);
    }
}

static void jconn_close(jsrv *s, int i)
{
    jconn *c = s->conns[i];
    fake_unlink(&s->fk, &c->f);
    close(c->fd);
    jt_jtp_free(c->j);
    free(c);
    s->conns[i] = NULL;
}

static void *jsrv_main(void *arg)
{
    jsrv *s = arg;
    uint8_t buf[65536];
    while (!atomic_load(&s->stop)) {
        struct pollfd p[17];
        int map[17];
        int np = 0;
        p[np].fd = s->lfd;
        p[np].events = POLLIN;
        map[np++] = -1;
        for (int i = 0; i < 16; i++) {
            if (s->conns[i]) {
                p[np].fd = s->conns[i]->fd;
                p[np].events = POLLIN;
                map[np++] = i;
            }
        }
        if (poll(p, (nfds_t)np, 20) <= 0)
            continue;
        if (p[0].revents & POLLIN) {
            int fd = accept(s->lfd, NULL, NULL);
            if (fd >= 0) {
                int slot = -1;
                for (int i = 0; i < 16 && slot < 0; i++)
                    if (!s->conns[i])
                        slot = i;
                jconn *c = calloc(1, sizeof *c);
                CHECK(c != NULL);
                c->fd = fd;
                c->f.send = jconn_send;
                CHECK(jt_jtp_new_server(s->pk, s->sk, NULL, s->allow_plain, &c->j, NULL) == JT_OK);
                atomic_fetch_add(&s->fk.accepted, 1);
                if (slot < 0) {
                    close(fd);
                    jt_jtp_free(c->j);
                    free(c);
                } else {
                    s->conns[slot] = c;
                    c->f.next = s->fk.conns;
                    s->fk.conns = &c->f;
                }
            }
        }
        for (int k = 1; k < np; k++) {
            if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int i = map[k];
            jconn *c = s->conns[i];
            ssize_t r = recv(c->fd, buf, sizeof buf, 0);
            if (r <= 0) {
                jconn_close(s, i);
                continue;
            }
            jt_err e = jt_jtp_feed(c->j, buf, (size_t)r, NULL);
            if (!c->opened && jt_jtp_get_state(c->j) == JT_JTP_OPEN) {
                c->opened = true;
                const uint8_t *peer = jt_jtp_peer_key(c->j);
                if (peer) {
                    memcpy(s->last_peer, peer, 32);
                    atomic_fetch_add(&s->peers_seen, 1);
                }
                if (s->forbid) {
                    const char *m = "{\"type\":\"error\",\"error\":\"forbidden\","
                                    "\"error_message\":\"Bad credentials.\"}";
                    jconn_send(&c->f, m, strlen(m));
                    c->f.close_now = true;
                }
            }
            const char *m;
            size_t mlen;
            while (!c->f.close_now && jt_jtp_next_message(c->j, &m, &mlen))
                fake_handle(&s->fk, &c->f, m, mlen);
            jconn_flush(c);
            if (e || c->f.close_now)
                jconn_close(s, i);
        }
        /* Pushes may have queued output on other connections. */
        for (int i = 0; i < 16; i++)
            if (s->conns[i])
                jconn_flush(s->conns[i]);
    }
    for (int i = 0; i < 16; i++)
        if (s->conns[i])
            jconn_close(s, i);
    return NULL;
}

/* A jtp node on 127.0.0.1:port (0: any free port), with the key pair given
 * (pk NULL: a fresh one). */
static jsrv *jsrv_start_ex(bool allow_plain, uint16_t port, const uint8_t *pk, const uint8_t *sk)
{
    jsrv *s = calloc(1, sizeof *s);
    assert_non_null(s);
    if (pk) {
        memcpy(s->pk, pk, 32);
        memcpy(s->sk, sk, 64);
    } else {
        crypto_sign_keypair(s->pk, s->sk);
    }
    s->allow_plain = allow_plain;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->lfd >= 0);
    int one = 1;
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 16), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->th, NULL, jsrv_main, s), 0);
    return s;
}

static jsrv *jsrv_start(bool allow_plain)
{
    return jsrv_start_ex(allow_plain, 0, NULL, NULL);
}

static void jsrv_stop(jsrv *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->th, NULL);
    close(s->lfd);
    free(s);
}

static void jsrv_url(jsrv *s, char *out, size_t cap)
{
    char key[JT_NODE_PUBLIC_MAX];
    assert_int_equal(jt_jtp_key_to_node_public(s->pk, key, sizeof key), JT_OK);
    snprintf(out, cap, "jtp://127.0.0.1:%u?key=%s", (unsigned)s->port, key);
}

/* ------------------------------------------------------------ ws server */

typedef struct wmsg {
    struct wmsg *next;
    size_t len;
    char text[];
} wmsg;

typedef struct wconn {
    fconn f;
    struct lws *wsi;
    wmsg *q, *qtail;
    jt_buf rx;
} wconn;

typedef struct wsrv {
    fake fk;
    struct lws_context *ctx;
    uint16_t port;
    pthread_t th;
    atomic_bool stop;
} wsrv;

static void wconn_send(fconn *f, const char *msg, size_t len)
{
    wconn *c = (wconn *)f;
    wmsg *m = malloc(sizeof *m + LWS_PRE + len);
    CHECK(m != NULL);
    m->next = NULL;
    m->len = len;
    memcpy(m->text + LWS_PRE, msg, len);
    if (c->qtail)
        c->qtail->next = m;
    else
        c->q = m;
    c->qtail = m;
    lws_callback_on_writable(c->wsi);
}

static int wsrv_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    wconn *c = user;
    struct lws_context *ctx = lws_get_context(wsi);
    wsrv *s = ctx ? lws_context_user(ctx) : NULL;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        memset(c, 0, sizeof *c);
        c->wsi = wsi;
        c->f.send = wconn_send;
        jt_buf_init(&c->rx);
        c->f.next = s->fk.conns;
        s->fk.conns = &c->f;
        atomic_fetch_add(&s->fk.accepted, 1);
        break;
    case LWS_CALLBACK_RECEIVE:
        CHECK(jt_buf_append(&c->rx, in, len) == JT_OK);
        if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
            fake_handle(&s->fk, &c->f, (const char *)c->rx.data, c->rx.len);
            c->rx.len = 0;
            if (c->f.close_now)
                return -1;
        }
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (c->q) {
            wmsg *m = c->q;
            c->q = m->next;
            if (!c->q)
                c->qtail = NULL;
            int w = lws_write(wsi, (unsigned char *)m->text + LWS_PRE, m->len, LWS_WRITE_TEXT);
            free(m);
            if (w < 0)
                return -1;
            if (c->q)
                lws_callback_on_writable(wsi);
        }
        break;
    case LWS_CALLBACK_CLOSED:
        fake_unlink(&s->fk, &c->f);
        while (c->q) {
            wmsg *m = c->q;
            c->q = m->next;
            free(m);
        }
        jt_buf_clear(&c->rx);
        break;
    default: break;
    }
    return 0;
}

static const struct lws_protocols wsrv_protocols[] = {
    {"fake-node", wsrv_cb, sizeof(wconn), 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *wsrv_main(void *arg)
{
    wsrv *s = arg;
    while (!atomic_load(&s->stop))
        if (lws_service(s->ctx, 0) < 0)
            break;
    return NULL;
}

/* cert/key NULL: plain ws. */
static wsrv *wsrv_start_tls(const char *cert, const char *key)
{
    wsrv *s = calloc(1, sizeof *s);
    assert_non_null(s);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    if (cert) {
        /* The server side needs no trust store; loading the system's
         * for the vhost's client half is wasted work. */
        info.options |=
            LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
        info.ssl_cert_filepath = cert;
        info.ssl_private_key_filepath = key;
    }
    info.port = 0;
    info.iface = "127.0.0.1";
    info.protocols = wsrv_protocols;
    info.gid = -1;
    info.uid = -1;
    info.user = s;
    s->ctx = lws_create_context(&info);
    assert_non_null(s->ctx);
    struct lws_vhost *vh = lws_get_vhost_by_name(s->ctx, "default");
    assert_non_null(vh);
    s->port = (uint16_t)lws_get_vhost_listen_port(vh);
    assert_true(s->port > 0);
    assert_int_equal(pthread_create(&s->th, NULL, wsrv_main, s), 0);
    return s;
}

static wsrv *wsrv_start(void)
{
    return wsrv_start_tls(NULL, NULL);
}

static void wsrv_stop(wsrv *s)
{
    atomic_store(&s->stop, true);
    lws_cancel_service(s->ctx);
    pthread_join(s->th, NULL);
    lws_context_destroy(s->ctx);
    free(s);
}

/* ------------------------------------------------------------ client-side helpers */

typedef struct async_res {
    atomic_int done;
    jt_err err;
    char text[512];
} async_res;

static void on_result(void *ctx, jt_err err, const char *json, size_t len, const jt_errinfo *ei)
{
    async_res *r = ctx;
    (void)ei;
    r->err = err;
    snprintf(r->text, sizeof r->text, "%.*s", json ? (int)len : 0, json ? json : "");
    atomic_store(&r->done, 1);
}

typedef struct counter {
    atomic_int ledger, tx, other;
    int last_index;
} counter;

static void on_push(void *ctx, const jt_json *msg, const char *text, size_t len)
{
    counter *c = ctx;
    (void)text;
    (void)len;
    const char *type = jt_json_string(jt_json_get(msg, "type"));
    int64_t idx = 0;
    jt_json_int64(jt_json_get(msg, "ledger_index"), false, &idx);
    if (type && strcmp(type, "ledgerClosed") == 0) {
        c->last_index = (int)idx;
        atomic_fetch_add(&c->ledger, 1);
    } else if (type && strcmp(type, "transaction") == 0) {
        atomic_fetch_add(&c->tx, 1);
    } else {
        atomic_fetch_add(&c->other, 1);
    }
}

static jt_node *connect_ok(const char *url, const jt_node_options *o)
{
    jt_node *n = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_err e = jt_node_connect(url, o, &n, &ei);
    if (e != JT_OK)
        fail_msg("connect %s: %s: %s", url, jt_errname(e), ei.msg);
    assert_true(jt_node_is_connected(n));
    return n;
}

/* call/response correlation, out-of-order answers, concurrent callers */

typedef struct caller_arg {
    jt_node *n;
    int tag;
    int ok;
} caller_arg;

static void *caller_main(void *arg)
{
    caller_arg *a = arg;
    for (int i = 0; i < 20; i++) {
        char req[96], want[64];
        snprintf(req, sizeof req, "{\"command\":\"echo\",\"tag\":\"t%d-%d\"}", a->tag, i);
        snprintf(want, sizeof want, "\"tag\":\"t%d-%d\"", a->tag, i);
        char *resp = NULL;
        if (jt_node_call(a->n, req, 5000, &resp, NULL) == JT_OK && strstr(resp, want))
            a->ok++;
        jt_free(resp);
    }
    return NULL;
}

static void check_calls(jt_node *n)
{
    /* Out of order: "hold" is answered after "release". */
    async_res held = {0};
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    assert_int_equal(
        jt_node_call_async(n, "{\"command\":\"hold\",\"tag\":\"H\"}", 5000, on_result, &held, &ei),
        JT_OK);
    char *resp = NULL;
    assert_int_equal(jt_node_call(n, "{\"command\":\"release\",\"tag\":\"R\"}", 5000, &resp, &ei),
                     JT_OK);
    assert_non_null(strstr(resp, "\"tag\":\"R\""));
    assert_non_null(strstr(resp, "\"status\":\"success\""));
    jt_free(resp);
    assert_true(wait_atomic(&held.done, 1, 3000));
    assert_int_equal(held.err, JT_OK);
    assert_non_null(strstr(held.text, "\"tag\":\"H\""));

    /* A caller's own "id" is replaced by the handle's. */
    assert_int_equal(jt_node_call(n, "{\"id\":\"mine\",\"command\":\"echo\"}", 5000, &resp, &ei),
                     JT_OK);
    assert_null(strstr(resp, "mine"));
    jt_free(resp);

    /* Concurrent callers each get their own answers. */
    pthread_t th[4];
    caller_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (caller_arg){.n = n, .tag = i, .ok = 0};
        assert_int_equal(pthread_create(&th[i], NULL, caller_main, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].ok, 20);
    }

    /* An error response. */
    assert_int_equal(jt_node_call(n, "{\"command\":\"fail\"}", 5000, &resp, &ei), JT_ERPC);
    assert_string_equal(ei.field, "actNotFound");
    assert_non_null(strstr(ei.msg, "Account not found."));
    assert_non_null(resp);
    assert_non_null(strstr(resp, "\"error\":\"actNotFound\""));
    jt_free(resp);

    /* Bad requests never leave the client. */
    assert_int_equal(jt_node_call(n, "[1,2]", 1000, &resp, &ei), JT_EINVAL);
    assert_null(resp);
    assert_int_equal(jt_node_call(n, "{\"x\":1}", 1000, &resp, &ei), JT_EINVAL);
    assert_int_equal(jt_node_call(n, "{\"command\":", 1000, &resp, &ei), JT_EJSON);

    /* A call that is never answered times out on time. */
    int64_t t0 = ms_now();
    assert_int_equal(jt_node_call(n, "{\"command\":\"slow\"}", 200, &resp, &ei), JT_ETIMEDOUT);
    int64_t dt = ms_now() - t0;
    assert_true(dt >= 150 && dt < 2000);
}

/* subscriptions, disconnect, reconnect and renewal */
static void check_subscriptions(jt_node *n, fake *fk)
{
    counter ledger = {0}, txs = {0};
    jt_node_sub *s_ledger = NULL, *s_tx = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    assert_int_equal(
        jt_node_subscribe(n, "{\"streams\":[\"ledger\"]}", 5000, on_push, &ledger, &s_ledger, &ei),
        JT_OK);
    assert_int_equal(
        jt_node_subscribe(n, "{\"streams\":[\"transactions\"]}", 5000, on_push, &txs, &s_tx, &ei),
        JT_OK);
    assert_int_equal(atomic_load(&fk->subscribes), 2);
    char *resp = NULL;
    assert_int_equal(jt_node_call(n, "{\"command\":\"push\"}", 5000, &resp, &ei), JT_OK);
    jt_free(resp);
    assert_true(wait_atomic(&ledger.ledger, 1, 3000));
    assert_true(wait_atomic(&txs.tx, 1, 3000));
    sleep_ms(50);
    /* Each gets only the type it asked for. */
    assert_int_equal(atomic_load(&ledger.tx), 0);
    assert_int_equal(atomic_load(&txs.ledger), 0);

    /* The node drops the connection: the pending calls fail at once. */
    async_res slow = {0};
    assert_int_equal(jt_node_call_async(n, "{\"command\":\"slow\"}", 20000, on_result, &slow, &ei),
                     JT_OK);
    int64_t t0 = ms_now();
    assert_int_equal(jt_node_call(n, "{\"command\":\"drop\"}", 20000, &resp, &ei), JT_ECLOSED);
    assert_true(ms_now() - t0 < 3000);
    assert_null(resp);
    assert_non_null(strstr(ei.msg, "lost"));
    assert_true(wait_atomic(&slow.done, 1, 3000));
    assert_int_equal(slow.err, JT_ECLOSED);

    /* It comes back, renews both subscriptions, and pushes flow again. */
    assert_true(wait_conn_count(n, 2, 5000));
    assert_true(wait_atomic(&fk->subscribes, 4, 3000));
    assert_int_equal(jt_node_call(n, "{\"command\":\"push\"}", 5000, &resp, &ei), JT_OK);
    jt_free(resp);
    assert_true(wait_atomic(&ledger.ledger, 2, 3000));
    assert_true(wait_atomic(&txs.tx, 2, 3000));
    assert_int_equal(ledger.last_index, 2);

    /* After unsubscribing, that callback hears nothing more. */
    assert_int_equal(jt_node_unsubscribe(n, s_ledger, 5000, &ei), JT_OK);
    assert_int_equal(jt_node_call(n, "{\"command\":\"push\"}", 5000, &resp, &ei), JT_OK);
    jt_free(resp);
    assert_true(wait_atomic(&txs.tx, 3, 3000));
    sleep_ms(50);
    assert_int_equal(atomic_load(&ledger.ledger), 2);
    assert_int_equal(jt_node_unsubscribe(n, s_tx, 5000, &ei), JT_OK);
}

/* ------------------------------------------------------------ tests */

static void jtp_calls(void **state)
{
    (void)state;
    jsrv *s = jsrv_start(false);
    char url[256];
    jsrv_url(s, url, sizeof url);
    jt_node *n = connect_ok(url, NULL);
    assert_string_equal(jt_node_transport(n), "jtp");
    check_calls(n);
    jt_node_free(n);
    jsrv_stop(s);
}

static void jtp_subscriptions_and_reconnect(void **state)
{
    (void)state;
    jsrv *s = jsrv_start(false);
    char url[256];
    jsrv_url(s, url, sizeof url);
    jt_node *n = connect_ok(url, NULL);
    check_subscriptions(n, &s->fk);
    jt_node_free(n);
    jsrv_stop(s);
}

static void jtp_identity_exact_key(void **state)
{
    (void)state;
    jsrv *s = jsrv_start(false);
    char url[256];
    jsrv_url(s, url, sizeof url);
    uint8_t seed[32];
    memset(seed, 9, sizeof seed);
    jt_jtp_identity *id = NULL;
    assert_int_equal(jt_jtp_identity_from_seed(seed, &id), JT_OK);
    jt_node_options o;
    jt_node_options_init(&o);
    o.identity = id;
    jt_node *n = connect_ok(url, &o);
    assert_true(wait_atomic(&s->peers_seen, 1, 2000));
    assert_memory_equal(s->last_peer, jt_jtp_identity_public(id), 32);
    jt_node_free(n);
    jt_jtp_identity_free(id);
    jsrv_stop(s);
}

static void jtp_wrong_key(void **state)
{
    (void)state;
    jsrv *s = jsrv_start(false);
    uint8_t other_pk[32], other_sk[64];
    crypto_sign_keypair(other_pk, other_sk);
    char key[JT_NODE_PUBLIC_MAX], url[256];
    assert_int_equal(jt_jtp_key_to_node_public(other_pk, key, sizeof key), JT_OK);
    snprintf(url, sizeof url, "jtp://127.0.0.1:%u?key=%s", (unsigned)s->port, key);
    jt_node *n = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_node_connect(url, NULL, &n, &ei), JT_EJTP_AUTH);
    assert_null(n);
    assert_non_null(strstr(ei.msg, "refused the handshake"));
    jsrv_stop(s);
}

static void jtp_forbidden_is_final(void **state)
{
    (void)state;
    jsrv *s = jsrv_start(false);
    s->forbid = true;
    char url[256];
    jsrv_url(s, url, sizeof url);
    jt_node *n = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_err e = jt_node_connect(url, NULL, &n, &ei);
    if (e == JT_OK) {
        /* The refusal may arrive just after the handshake. */
        char *resp = NULL;
        e = jt_node_call(n, "{\"command\":\"echo\"}", 3000, &resp, &ei);
        assert_null(resp);
    }
    assert_int_equal(e, JT_EJTP_AUTH);
    assert_non_null(strstr(ei.msg, "forbidden"));
    if (n) {
        sleep_ms(400); /* no reconnection attempts after a final refusal */
        assert_int_equal(atomic_load(&s->fk.accepted), 1);
        jt_node_free(n);
    }
    jsrv_stop(s);
}

static void jtp_plaintext(void **state)
{
    (void)state;
    jsrv *s = jsrv_start(true);
    char url[128];
    snprintf(url, sizeof url, "jtp+plain://127.0.0.1:%u", (unsigned)s->port);
    jt_node *n = connect_ok(url, NULL);
    assert_string_equal(jt_node_transport(n), "jtp+plain");
    char *resp = NULL;
    assert_int_equal(jt_node_call(n, "{\"command\":\"echo\",\"x\":1}", 5000, &resp, NULL), JT_OK);
    assert_non_null(strstr(resp, "\"x\":1"));
    jt_free(resp);
    jt_node_free(n);
    jsrv_stop(s);

    /* A node that refuses plaintext: the call fails with the reason. */
    s = jsrv_start(false);
    snprintf(url, sizeof url, "jtp+plain://127.0.0.1:%u", (unsigned)s->port);
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    n = NULL;
    assert_int_equal(jt_node_connect(url, NULL, &n, &ei), JT_OK);
    assert_int_equal(jt_node_call(n, "{\"command\":\"echo\"}", 3000, &resp, &ei),
                     JT_EJTP_PLAINTEXT);
    assert_non_null(strstr(ei.msg, "plaintextRefused"));
    jt_node_free(n);
    jsrv_stop(s);
}

static void connect_failures(void **state)
{
    (void)state;
    /* A port nobody listens on. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    unsigned port = ntohs(a.sin_port);
    close(fd);

    uint8_t pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    char key[JT_NODE_PUBLIC_MAX], url[256];
    assert_int_equal(jt_jtp_key_to_node_public(pk, key, sizeof key), JT_OK);
    jt_node *n = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    snprintf(url, sizeof url, "jtp://127.0.0.1:%u?key=%s", port, key);
    int64_t t0 = ms_now();
    assert_int_equal(jt_node_connect(url, NULL, &n, &ei), JT_ECONNECT);
    assert_non_null(strstr(ei.msg, "refused"));
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/", port);
    assert_int_equal(jt_node_connect(url, NULL, &n, &ei), JT_ECONNECT);
    assert_non_null(strstr(ei.msg, "127.0.0.1"));
    assert_true(ms_now() - t0 < 4000);
    assert_null(n);

    /* URLs refused before any connection. */
    const char *bad[] = {"ftp://x",     "jtp://127.0.0.1:1", "jtp+plain://10.1.2.3:1",
                         "ws://",       "ws://h:99999/",     "ws://h:1 x",
                         "wss://[::1/", "http://127.0.0.1/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jt_errinfo_clear(&ei);
        assert_int_equal(jt_node_connect(bad[i], NULL, &n, &ei), JT_EURL);
        assert_true(ei.msg[0] != '\0');
    }
}

typedef struct cb_probe {
    jt_node *n;
    atomic_int calls;
    jt_err blocking_err;
    async_res nested;
} cb_probe;

static void probe_push(void *ctx, const jt_json *msg, const char *text, size_t len)
{
    cb_probe *p = ctx;
    (void)msg;
    (void)text;
    (void)len;
    if (atomic_fetch_add(&p->calls, 1) == 0) {
        char *resp = NULL;
        p->blocking_err = jt_node_call(p->n, "{\"command\":\"echo\"}", 1000, &resp, NULL);
        jt_free(resp);
        jt_errinfo ei;
        jt_errinfo_clear(&ei);
        if (jt_node_call_async(p->n, "{\"command\":\"echo\",\"nested\":true}", 5000, on_result,
                               &p->nested, &ei) != JT_OK)
            p->blocking_err = JT_EIO;
    }
}

static void calls_from_callbacks(void **state)
{
    (void)state;
    jsrv *s = jsrv_start(false);
    char url[256];
    jsrv_url(s, url, sizeof url);
    jt_node *n = connect_ok(url, NULL);
    cb_probe p;
    memset(&p, 0, sizeof p);
    p.n = n;
    assert_int_equal(
        jt_node_subscribe(n, "{\"streams\":[\"ledger\"]}", 5000, probe_push, &p, NULL, NULL),
        JT_OK);
    char *resp = NULL;
    assert_int_equal(jt_node_call(n, "{\"command\":\"push\"}", 5000, &resp, NULL), JT_OK);
    jt_free(resp);
    assert_true(wait_atomic(&p.nested.done, 1, 3000));
    assert_int_equal(p.blocking_err, JT_ESTATE);
    assert_int_equal(p.nested.err, JT_OK);
    assert_non_null(strstr(p.nested.text, "\"nested\":true"));
    jt_node_free(n); /* frees the subscription too */
    jsrv_stop(s);
}

static void free_cancels_pending(void **state)
{
    (void)state;
    jsrv *s = jsrv_start(false);
    char url[256];
    jsrv_url(s, url, sizeof url);
    jt_node *n = connect_ok(url, NULL);
    async_res r = {0};
    assert_int_equal(jt_node_call_async(n, "{\"command\":\"slow\"}", 20000, on_result, &r, NULL),
                     JT_OK);
    sleep_ms(50);
    jt_node_free(n);
    assert_int_equal(atomic_load(&r.done), 1);
    assert_int_equal(r.err, JT_ECANCELED);
    jsrv_stop(s);
}

/* Calls and subscriptions that give up while the node is away are freed
 * with the handle (ASan checks), and a subscription's timeout is its own. */
static void give_up_while_down(void **state)
{
    (void)state;
    jsrv *s = jsrv_start(false);
    char url[256];
    jsrv_url(s, url, sizeof url);
    jt_node *n = connect_ok(url, NULL);
    jsrv_stop(s);
    int64_t end = ms_now() + 3000;
    while (jt_node_is_connected(n) && ms_now() < end)
        sleep_ms(5);
    assert_false(jt_node_is_connected(n));
    counter c = {0};
    jt_node_sub *sub = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    int64_t t0 = ms_now();
    assert_int_equal(
        jt_node_subscribe(n, "{\"streams\":[\"ledger\"]}", 200, on_push, &c, &sub, &ei),
        JT_ETIMEDOUT);
    assert_null(sub);
    assert_true(ms_now() - t0 < 3000);
    char *resp = NULL;
    assert_int_equal(jt_node_call(n, "{\"command\":\"echo\"}", 200, &resp, &ei), JT_ETIMEDOUT);
    assert_null(resp);
    async_res r = {0};
    assert_int_equal(jt_node_call_async(n, "{\"command\":\"echo\"}", 20000, on_result, &r, NULL),
                     JT_OK);
    jt_node_free(n);
    assert_int_equal(atomic_load(&r.done), 1);
    assert_int_equal(r.err, JT_ECANCELED);
}

static void ws_calls(void **state)
{
    (void)state;
    wsrv *s = wsrv_start();
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/", (unsigned)s->port);
    jt_node *n = connect_ok(url, NULL);
    assert_string_equal(jt_node_transport(n), "ws");
    check_calls(n);
    jt_node_free(n);
    wsrv_stop(s);
}

static void ws_subscriptions_and_reconnect(void **state)
{
    (void)state;
    wsrv *s = wsrv_start();
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%u", (unsigned)s->port);
    jt_node *n = connect_ok(url, NULL);
    check_subscriptions(n, &s->fk);
    jt_node_free(n);
    wsrv_stop(s);
}

static void ws_large_message(void **state)
{
    (void)state;
    wsrv *s = wsrv_start();
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/", (unsigned)s->port);
    jt_node *n = connect_ok(url, NULL);
    /* Larger than one receive buffer: arrives in several callbacks. */
    size_t big = 200000;
    char *req = malloc(big + 64);
    int k = snprintf(req, big + 64, "{\"command\":\"echo\",\"blob\":\"");
    memset(req + k, 'b', big);
    memcpy(req + k + big, "\"}", 3);
    char *resp = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_node_call(n, req, 10000, &resp, &ei), JT_OK);
    assert_true(strlen(resp) > big);
    jt_free(resp);
    free(req);
    jt_node_free(n);
    wsrv_stop(s);
}

typedef struct state_log {
    pthread_mutex_t mu;
    int64_t down[64];
    int ndown;
    atomic_int ups;
} state_log;

static void on_state(void *ctx, bool connected, const jt_errinfo *why)
{
    state_log *l = ctx;
    if (connected) {
        atomic_fetch_add(&l->ups, 1);
        return;
    }
    CHECK(why->code != JT_OK && why->msg[0] != '\0');
    pthread_mutex_lock(&l->mu);
    if (l->ndown < 64)
        l->down[l->ndown++] = ms_now();
    pthread_mutex_unlock(&l->mu);
}

static int ndown(state_log *l)
{
    pthread_mutex_lock(&l->mu);
    int k = l->ndown;
    pthread_mutex_unlock(&l->mu);
    return k;
}

/* The node goes away for a while: attempts back off (doubling, capped),
 * then the client reconnects once it is back, on its own. */
static void reconnect_backoff(void **state)
{
    (void)state;
    jsrv *s = jsrv_start(false);
    uint8_t pk[32], sk[64];
    memcpy(pk, s->pk, 32);
    memcpy(sk, s->sk, 64);
    uint16_t port = s->port;
    char url[256];
    jsrv_url(s, url, sizeof url);
    state_log log;
    memset(&log, 0, sizeof log);
    pthread_mutex_init(&log.mu, NULL);
    jt_node_options o;
    jt_node_options_init(&o);
    o.backoff_initial_ms = 50;
    o.backoff_max_ms = 400;
    o.on_state = on_state;
    o.state_ctx = &log;
    jt_node *n = connect_ok(url, &o);
    assert_true(wait_atomic(&log.ups, 1, 2000));
    jsrv_stop(s);
    /* lost, then failed attempts after about 50, 100, 200, 400, 400 ms */
    int64_t end = ms_now() + 5000;
    while (ndown(&log) < 6 && ms_now() < end)
        sleep_ms(10);
    assert_true(ndown(&log) >= 6);
    assert_false(jt_node_is_connected(n));
    int64_t g[5];
    for (int i = 0; i < 5; i++)
        g[i] = log.down[i + 1] - log.down[i];
    print_message("backoff gaps: %lld %lld %lld %lld %lld ms\n", (long long)g[0], (long long)g[1],
                  (long long)g[2], (long long)g[3], (long long)g[4]);
    assert_true(g[0] >= 40 && g[0] < 300);
    assert_true(g[2] >= 180);
    assert_true(g[3] >= 350);
    assert_true(g[4] >= 350 && g[4] < 800); /* capped at 400 */

    /* Calls made while disconnected wait for the connection. */
    async_res r = {0};
    assert_int_equal(jt_node_call_async(n, "{\"command\":\"echo\",\"while\":\"down\"}", 10000,
                                        on_result, &r, NULL),
                     JT_OK);
    s = jsrv_start_ex(false, port, pk, sk);
    assert_true(wait_conn_count(n, 2, 3000));
    assert_true(wait_atomic(&r.done, 1, 3000));
    assert_int_equal(r.err, JT_OK);
    assert_non_null(strstr(r.text, "\"while\":\"down\""));
    jt_node_free(n);
    jsrv_stop(s);
    pthread_mutex_destroy(&log.mu);
}

/* The TLS node runs in a child process: libwebsockets 4.1 loses track of a
 * server vhost's TLS state when another TLS context (ours) comes and goes
 * in the same process, and that is its leak, not the client's. */
static pid_t wss_child(const char *cert, const char *key, uint16_t *port)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        wsrv *s = wsrv_start_tls(cert, key);
        ssize_t w = write(p[1], &s->port, sizeof s->port);
        (void)w;
        close(p[1]);
        for (;;)
            pause();
    }
    close(p[1]);
    ssize_t r = read(p[0], port, sizeof *port);
    close(p[0]);
    assert_int_equal(r, (ssize_t)sizeof *port);
    return pid;
}

static void wss_with_pinned_ca(void **state)
{
    (void)state;
    char dir[] = "/tmp/jt-wss-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cert[128], key[128], cmd[512];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout %s -out %s -subj /CN=localhost -addext subjectAltName=DNS:localhost "
             "-days 2 >/dev/null 2>&1",
             key, cert);
    if (system(cmd) != 0) {
        rmdir(dir);
        skip(); /* no openssl command: nothing to test with */
    }
    uint16_t port = 0;
    pid_t child = wss_child(cert, key, &port);
    char url[128];
    snprintf(url, sizeof url, "wss://localhost:%u/", (unsigned)port);
    jt_node_options o;
    jt_node_options_init(&o);
    o.ca_file = cert;
    jt_node *n = connect_ok(url, &o);
    assert_string_equal(jt_node_transport(n), "wss");
    char *resp = NULL;
    assert_int_equal(jt_node_call(n, "{\"command\":\"echo\",\"tls\":1}", 5000, &resp, NULL), JT_OK);
    assert_non_null(strstr(resp, "\"tls\":1"));
    jt_free(resp);
    jt_node_free(n);

    /* Without trusting that certificate (system CAs only), it is refused. */
    n = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_node_connect(url, NULL, &n, &ei), JT_ECONNECT);
    assert_null(n);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    unlink(cert);
    unlink(key);
    rmdir(dir);
}

int main(void)
{
    lws_set_log_level(LLL_ERR, NULL);
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jtp_calls),
        cmocka_unit_test(jtp_subscriptions_and_reconnect),
        cmocka_unit_test(jtp_identity_exact_key),
        cmocka_unit_test(jtp_wrong_key),
        cmocka_unit_test(jtp_forbidden_is_final),
        cmocka_unit_test(jtp_plaintext),
        cmocka_unit_test(connect_failures),
        cmocka_unit_test(calls_from_callbacks),
        cmocka_unit_test(free_cancels_pending),
        cmocka_unit_test(give_up_while_down),
        cmocka_unit_test(ws_calls),
        cmocka_unit_test(ws_subscriptions_and_reconnect),
        cmocka_unit_test(ws_large_message),
        cmocka_unit_test(reconnect_backoff),
        cmocka_unit_test(wss_with_pinned_ca),
    };
    const char *filter = getenv("JT_TEST_FILTER");
    if (filter)
        cmocka_set_test_filter(filter);
    return cmocka_run_group_tests_name("node_client", tests, NULL, NULL);
}
