/* test_srv.c — the server core (server/srv.h) over real loopback sockets.
 *
 * Each test starts srv_net on kernel-chosen ports ("127.0.0.1:0") with its
 * loop in a thread and an echo handler, then talks to it with a small
 * WebSocket client written here (handshake and masked framing on a plain
 * socket) or with libjt's jtp client state machine. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "jt/jtp.h"
#include "srv.h"
#include "srv_alloc.h"
#include "testutil.h"

/* ------------------------------------------------------------ server */

typedef struct flood {
    srv_conn *c; /* loop thread only */
    size_t msg_size;
    atomic_size_t sent;  /* bytes accepted by srv_conn_send */
    atomic_bool refused; /* srv_conn_send returned -1 */
} flood;

typedef struct srv {
    srv_net *net;
    pthread_t th;
    pthread_t loop_tid;
    atomic_bool loop_started;
    int ws_port, jtp_port;
    atomic_uint requests, closes, over_rate, double_close;
    /* handler-observed breaches of srv.h's contract: a message without its
     * NUL, a send accepted after srv_conn_close */
    atomic_uint violations;
    atomic_uint ticks, posts_on_loop, posts_off_loop;
    atomic_uint replies_refused; /* srv_conn_reply returned -1 */
    flood fl;
} srv;

static srv S;

#define BIG_REPLY ((size_t)64 << 10)

/* Marks a connection as seen; freed by on_close, so ASan reports a
 * connection closed twice (double free) or never (leak). */
typedef struct seen {
    uint64_t id;
    bool closed;
} seen;

static void flood_step(void *ctx);

static void reply(srv_conn *c, const char *prefix, const char *msg, size_t len)
{
    size_t pl = strlen(prefix);
    char *r = malloc(pl + len);
    memcpy(r, prefix, pl);
    memcpy(r + pl, msg, len);
    srv_conn_send(c, r, pl + len);
    free(r);
}

static void on_request(void *ctx, srv_conn *c, const char *msg, size_t len, bool over)
{
    srv *s = ctx;
    atomic_fetch_add(&s->requests, 1);
    if (msg[len] != '\0')
        atomic_fetch_add(&s->violations, 1);
    if (!srv_conn_user(c)) {
        seen *m = calloc(1, sizeof *m);
        m->id = srv_conn_id(c);
        srv_conn_set_user(c, m);
    }
    if (over)
        atomic_fetch_add(&s->over_rate, 1);
    if (len == 5 && memcmp(msg, "flood", 5) == 0) {
        s->fl.c = c;
        srv_net_post(s->net, flood_step, s);
        return;
    }
    if (len == 6 && memcmp(msg, "whoami", 6) == 0) {
        char w[128];
        int k = snprintf(w, sizeof w, "W:%s:admin=%d:loopback=%d", srv_conn_transport(c),
                         srv_conn_is_admin(c), srv_conn_is_loopback(c));
        srv_conn_send(c, w, (size_t)k);
        return;
    }
    if (len == 3 && memcmp(msg, "bye", 3) == 0) {
        srv_conn_send(c, "bye!", 4);
        srv_conn_close(c);
        if (srv_conn_send(c, "late", 4) != -1) /* refused once closing */
            atomic_fetch_add(&s->violations, 1);
        return;
    }
    if (len > 4 && memcmp(msg, "big:", 4) == 0) {
        /* A large reply that starts with the request: the pipelining
         * tests ask for many more of these than max_outbuf holds. */
        char *r = malloc(BIG_REPLY);
        memset(r, 'y', BIG_REPLY);
        memcpy(r, msg, len);
        r[len] = ';';
        if (srv_conn_reply(c, r, BIG_REPLY) != 0)
            atomic_fetch_add(&s->replies_refused, 1);
        free(r);
        return;
    }
    if (len == 4 && memcmp(msg, "peer", 4) == 0) {
        const char *p = srv_conn_peer(c);
        srv_conn_send(c, p, strlen(p));
        return;
    }
    reply(c, over ? "R1:" : "R0:", msg, len);
}

static void on_close(void *ctx, srv_conn *c)
{
    srv *s = ctx;
    atomic_fetch_add(&s->closes, 1);
    seen *m = srv_conn_user(c);
    if (m) {
        if (m->closed || m->id != srv_conn_id(c))
            atomic_fetch_add(&s->double_close, 1);
        m->closed = true;
        free(m);
        srv_conn_set_user(c, NULL);
    }
    if (s->fl.c == c)
        s->fl.c = NULL;
}

/* Sends one message per loop round to a client that never reads: the
 * kernel buffers fill, then the connection's queue, then srv_conn_send must
 * refuse and close instead of buffering without bound. */
static void flood_step(void *ctx)
{
    srv *s = ctx;
    if (!s->fl.c)
        return;
    static char buf[1 << 16];
    memset(buf, 'x', s->fl.msg_size);
    if (srv_conn_send(s->fl.c, buf, s->fl.msg_size) != 0) {
        atomic_store(&s->fl.refused, true);
        s->fl.c = NULL;
        return;
    }
    if (atomic_fetch_add(&s->fl.sent, s->fl.msg_size) > ((size_t)512 << 20)) {
        s->fl.c = NULL; /* give up: the limit was never hit */
        return;
    }
    srv_net_post(s->net, flood_step, s);
}

static const srv_net_handlers HANDLERS = {.on_request = on_request, .on_close = on_close};

static void *loop_main(void *arg)
{
    srv *s = arg;
    s->loop_tid = pthread_self();
    atomic_store(&s->loop_started, true);
    srv_net_run(s->net);
    return NULL;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void srv_start(srv_net_config *cfg)
{
    memset(&S, 0, sizeof S);
    S.fl.msg_size = 4096;
    if (cfg->ws_addr == NULL || strcmp(cfg->ws_addr, "127.0.0.1:5020") == 0)
        cfg->ws_addr = "127.0.0.1:0";
    if (cfg->jtp_addr == NULL || strcmp(cfg->jtp_addr, "127.0.0.1:5030") == 0)
        cfg->jtp_addr = "127.0.0.1:0";
    static const uint8_t zero[32];
    if (memcmp(cfg->node_pk, zero, 32) == 0) {
        /* The jtp listener needs a node identity even when unused. */
        jt_jtp_identity *id;
        assert_int_equal(jt_jtp_identity_generate(&id), JT_OK);
        memcpy(cfg->node_pk, jt_jtp_identity_public(id), 32);
        memcpy(cfg->node_sk, jt_jtp_identity_secret(id), 64);
        jt_jtp_identity_free(id);
    }
    char err[256] = "";
    int rc = srv_net_new(cfg, &HANDLERS, &S, &S.net, err, sizeof err);
    if (rc != 0)
        fail_msg("srv_net_new: %s", err);
    S.ws_port = srv_net_listen_port(S.net, "ws");
    S.jtp_port = srv_net_listen_port(S.net, "jtp");
    assert_true(S.ws_port > 0);
    assert_true(S.jtp_port > 0);
    assert_int_equal(pthread_create(&S.th, NULL, loop_main, &S), 0);
    while (!atomic_load(&S.loop_started))
        sleep_ms(1);
}

static void srv_stop(void)
{
    srv_net_stop(S.net);
    pthread_join(S.th, NULL);
    srv_net_free(S.net);
    S.net = NULL;
    assert_int_equal(atomic_load(&S.violations), 0);
    assert_int_equal(atomic_load(&S.double_close), 0);
}

static bool wait_for(atomic_uint *v, unsigned want, int ms)
{
    for (int i = 0; i < ms; i += 5) {
        if (atomic_load(v) >= want)
            return true;
        sleep_ms(5);
    }
    return atomic_load(v) >= want;
}

static bool wait_conns(unsigned want, int ms)
{
    for (int i = 0; i < ms; i += 5) {
        if (srv_net_conn_count(S.net) == want)
            return true;
        sleep_ms(5);
    }
    return srv_net_conn_count(S.net) == want;
}

/* ---------------------------------------------------- socket helpers */

/* rcvbuf > 0 shrinks the client's receive buffer (before connect, so the
 * advertised window stays small). */
static int tcp_connect2(int port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int tcp_connect(int port)
{
    return tcp_connect2(port, 0);
}

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads exactly n bytes; -1 on EOF, error or timeout. */
static int read_full(int fd, void *p, size_t n, int timeout_ms)
{
    uint8_t *b = p;
    while (n) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int r = poll(&pfd, 1, timeout_ms);
        if (r <= 0)
            return -1;
        ssize_t k = recv(fd, b, n, 0);
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

/* True when the peer closed (EOF or reset) within timeout_ms, reading and
 * discarding anything before that. */
static bool peer_closes(int fd, int timeout_ms)
{
    uint8_t junk[4096];
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 50) > 0) {
            ssize_t k = recv(fd, junk, sizeof junk, 0);
            if (k <= 0)
                return true;
        }
    }
    return false;
}

/* ------------------------------------------------- WebSocket client */

/* Reads an HTTP answer's head (through the empty line), byte by byte so
 * that no frame byte after it is swallowed; NUL-terminated. 0, or -1 on
 * EOF, timeout or a head that does not fit. */
static int read_head(int fd, char *out, size_t cap)
{
    size_t n = 0;
    while (n < cap - 1) {
        if (read_full(fd, out + n, 1, 3000))
            return -1;
        n++;
        if (n >= 4 && memcmp(out + n - 4, "\r\n\r\n", 4) == 0) {
            out[n] = '\0';
            return 0;
        }
    }
    return -1;
}

/* Opens a WebSocket on `path` from an already connected socket; -1 (and
 * the socket closed) when the server refuses or closes. */
static int ws_handshake(int fd, int port, const char *path)
{
    if (fd < 0)
        return -1;
    char req[512];
    int k = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     path, port);
    if (write_all(fd, req, (size_t)k)) {
        close(fd);
        return -1;
    }
    char resp[2048];
    if (read_head(fd, resp, sizeof resp)) {
        close(fd);
        return -1;
    }
    if (strncmp(resp, "HTTP/1.1 101", 12) != 0 || !strstr(resp, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")) {
        close(fd);
        return -1;
    }
    return fd;
}

static int ws_open_path(int port, const char *path)
{
    return ws_handshake(tcp_connect(port), port, path);
}

static int ws_open(int port)
{
    return ws_open_path(port, "/");
}

enum { OP_CONT = 0, OP_TEXT = 1, OP_BIN = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };

static int ws_send_frame(int fd, int opcode, bool fin, const void *p, size_t n)
{
    uint8_t hdr[14];
    size_t h = 0;
    hdr[h++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    if (n < 126) {
        hdr[h++] = (uint8_t)(0x80 | n);
    } else if (n < 65536) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (uint8_t)(n >> 8);
        hdr[h++] = (uint8_t)n;
    } else {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            hdr[h++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
    memcpy(hdr + h, mask, 4);
    h += 4;
    uint8_t *buf = malloc(h + n + 1);
    memcpy(buf, hdr, h);
    for (size_t i = 0; i < n; i++)
        buf[h + i] = ((const uint8_t *)p)[i] ^ mask[i & 3];
    int rc = write_all(fd, buf, h + n);
    free(buf);
    return rc;
}

static int ws_send_text(int fd, const char *s)
{
    return ws_send_frame(fd, OP_TEXT, true, s, strlen(s));
}

/* One frame from the server (unmasked). Returns its opcode, or -1 on
 * EOF/timeout. The payload is NUL-terminated in *out (free it). */
/* The FIN bit of the last frame ws_recv_frame read. */
static bool ws_last_fin;

static int ws_recv_frame(int fd, char **out, size_t *len, int timeout_ms)
{
    uint8_t h[2];
    *out = NULL;
    *len = 0;
    if (read_full(fd, h, 2, timeout_ms))
        return -1;
    uint64_t n = h[1] & 0x7F;
    if (n == 126) {
        uint8_t e[2];
        if (read_full(fd, e, 2, timeout_ms))
            return -1;
        n = ((uint64_t)e[0] << 8) | e[1];
    } else if (n == 127) {
        uint8_t e[8];
        if (read_full(fd, e, 8, timeout_ms))
            return -1;
        n = 0;
        for (int i = 0; i < 8; i++)
            n = (n << 8) | e[i];
    }
    assert_true(n < ((uint64_t)64 << 20));
    char *b = malloc((size_t)n + 1);
    if (n && read_full(fd, b, (size_t)n, timeout_ms)) {
        free(b);
        return -1;
    }
    b[n] = '\0';
    *out = b;
    *len = (size_t)n;
    ws_last_fin = (h[0] & 0x80) != 0;
    return h[0] & 0x0F;
}

/* The next text message (pongs skipped); NULL on close/EOF/timeout. */
/* One text message, its fragments (the node sends long ones in several)
 * put together. */
static char *ws_recv_text(int fd)
{
    for (;;) {
        char *p;
        size_t n;
        int op = ws_recv_frame(fd, &p, &n, 5000);
        if (op == OP_TEXT) {
            while (!ws_last_fin) {
                char *q;
                size_t m;
                int op2 = ws_recv_frame(fd, &q, &m, 5000);
                if (op2 == OP_PONG) {
                    free(q);
                    continue;
                }
                if (op2 != OP_CONT) {
                    free(q);
                    free(p);
                    return NULL;
                }
                char *pq = realloc(p, n + m + 1);
                assert_non_null(pq);
                memcpy(pq + n, q, m + 1);
                p = pq;
                n += m;
                free(q);
            }
            return p;
        }
        free(p);
        if (op != OP_PONG)
            return NULL;
    }
}

static void ws_expect(int fd, const char *send, const char *want)
{
    assert_int_equal(ws_send_text(fd, send), 0);
    char *got = ws_recv_text(fd);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

/* ------------------------------------------------------- jtp client */

typedef struct jtpc {
    int fd;
    jt_jtp *j;
} jtpc;

static int jtpc_flush(jtpc *c)
{
    const uint8_t *p;
    size_t n;
    jt_jtp_pending_output(c->j, &p, &n);
    if (n && write_all(c->fd, p, n))
        return -1;
    jt_jtp_consume_output(c->j, n);
    return 0;
}

/* Reads once and feeds; -1 on EOF/timeout. */
static int jtpc_pump(jtpc *c, int timeout_ms)
{
    uint8_t buf[65536];
    struct pollfd pfd = {c->fd, POLLIN, 0};
    if (poll(&pfd, 1, timeout_ms) <= 0)
        return -1;
    ssize_t k = recv(c->fd, buf, sizeof buf, 0);
    if (k <= 0)
        return -1;
    /* A failure shows in the handle's state; callers look there. */
    jt_errinfo ei;
    jt_err e = jt_jtp_feed(c->j, buf, (size_t)k, &ei);
    (void)e;
    return 0;
}

/* Completes the client side of the handshake on a connected socket.
 * identity NULL = a fresh random client key; plaintext ignores keys. */
static int jtpc_open_fd(jtpc *c, int fd, const uint8_t *node_pk, const jt_jtp_identity *id,
                        bool plaintext)
{
    jt_errinfo ei;
    c->j = NULL;
    c->fd = fd;
    if (c->fd < 0)
        return -1;
    jt_err e = plaintext
                   ? jt_jtp_new_client_plaintext(NULL, &c->j, &ei)
                   : jt_jtp_new_client(node_pk, id ? jt_jtp_identity_public(id) : NULL,
                                       id ? jt_jtp_identity_secret(id) : NULL, NULL, &c->j, &ei);
    assert_int_equal(e, JT_OK);
    if (jtpc_flush(c))
        return -1;
    while (jt_jtp_get_state(c->j) == JT_JTP_HANDSHAKE) {
        if (jtpc_pump(c, 3000))
            return -1;
        if (jtpc_flush(c))
            return -1;
    }
    return jt_jtp_get_state(c->j) == JT_JTP_OPEN ? 0 : -1;
}

static int jtpc_open(jtpc *c, int port, const uint8_t *node_pk, const jt_jtp_identity *id,
                     bool plaintext)
{
    return jtpc_open_fd(c, tcp_connect(port), node_pk, id, plaintext);
}

static void jtpc_close(jtpc *c)
{
    if (c->fd >= 0)
        close(c->fd);
    jt_jtp_free(c->j);
    c->fd = -1;
    c->j = NULL;
}

static int jtpc_send(jtpc *c, const char *msg)
{
    jt_errinfo ei;
    if (jt_jtp_send(c->j, msg, strlen(msg), &ei) != JT_OK)
        return -1;
    return jtpc_flush(c);
}

/* The next message as a malloc()ed string, NULL on EOF/timeout. */
static char *jtpc_recv(jtpc *c)
{
    const char *m;
    size_t n;
    while (!jt_jtp_next_message(c->j, &m, &n)) {
        if (jt_jtp_get_state(c->j) == JT_JTP_FAILED || jtpc_pump(c, 5000))
            return NULL;
    }
    char *r = malloc(n + 1);
    memcpy(r, m, n + 1);
    return r;
}

static void jtp_expect(jtpc *c, const char *send, const char *want)
{
    assert_int_equal(jtpc_send(c, send), 0);
    char *got = jtpc_recv(c);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

/* ------------------------------------------------------------- tests */

/* The per-address limits count an IPv4 address itself and an IPv6 address
 * by its /64: one host given a /64 cannot multiply its share by using more
 * of its addresses. */
static void addr_keys(void **state)
{
    (void)state;
    srv_net_prefix a, b;
    uint8_t ka[16], kb[16];
    assert_int_equal(srv_net_prefix_parse("2001:db8:1:2::1", &a), 0);
    assert_int_equal(srv_net_prefix_parse("2001:db8:1:2:ffff:0:0:9", &b), 0);
    srv_addr_key(a.addr, ka);
    srv_addr_key(b.addr, kb);
    assert_memory_equal(ka, kb, 16); /* one /64 */
    assert_int_equal(srv_net_prefix_parse("2001:db8:1:3::1", &b), 0);
    srv_addr_key(b.addr, kb);
    assert_memory_not_equal(ka, kb, 16); /* the next /64 */
    assert_int_equal(srv_net_prefix_parse("10.1.2.3", &a), 0);
    assert_int_equal(srv_net_prefix_parse("10.1.2.4", &b), 0);
    srv_addr_key(a.addr, ka);
    srv_addr_key(b.addr, kb);
    assert_memory_equal(ka, a.addr, 16); /* IPv4: the address itself */
    assert_memory_not_equal(ka, kb, 16);
}

static void ws_round_trip(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    srv_start(&cfg);

    int fd = ws_open(S.ws_port);
    assert_true(fd >= 0);
    ws_expect(fd, "{\"id\":1,\"command\":\"ping\"}", "R0:{\"id\":1,\"command\":\"ping\"}");
    ws_expect(fd, "whoami", "W:ws:admin=1:loopback=1");
    /* Any URL path is accepted. */
    int fd2 = ws_open_path(S.ws_port, "/some/path?x=1");
    assert_true(fd2 >= 0);
    ws_expect(fd2, "hello", "R0:hello");
    /* The peer as the dispatcher sees it. */
    assert_int_equal(ws_send_text(fd2, "peer"), 0);
    char *peer = ws_recv_text(fd2);
    assert_non_null(peer);
    assert_memory_equal(peer, "127.0.0.1:", 10);
    free(peer);
    /* A message fragmented over three frames with a ping in between. */
    assert_int_equal(ws_send_frame(fd, OP_TEXT, false, "ab", 2), 0);
    assert_int_equal(ws_send_frame(fd, OP_CONT, false, "cd", 2), 0);
    assert_int_equal(ws_send_frame(fd, OP_PING, true, "p", 1), 0);
    assert_int_equal(ws_send_frame(fd, OP_CONT, true, "ef", 2), 0);
    char *got = ws_recv_text(fd);
    assert_non_null(got);
    assert_string_equal(got, "R0:abcdef");
    free(got);
    /* A large message, well over one read or frame chunk. */
    size_t big = 300000;
    char *bigmsg = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        bigmsg[i] = (char)('a' + i % 26);
    bigmsg[big] = '\0';
    assert_int_equal(ws_send_text(fd, bigmsg), 0);
    got = ws_recv_text(fd);
    assert_non_null(got);
    assert_int_equal(strlen(got), big + 3);
    assert_memory_equal(got + 3, bigmsg, big);
    free(got);
    free(bigmsg);
    /* Plain HTTP on the WebSocket port gets an answer, not a hang. */
    int h = tcp_connect(S.ws_port);
    const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(write_all(h, get, sizeof get - 1), 0);
    char resp[13] = "";
    assert_int_equal(read_full(h, resp, 12, 3000), 0);
    assert_string_equal(resp, "HTTP/1.1 400");
    close(h);
    /* The dispatcher may close a connection after a last reply. */
    ws_expect(fd2, "bye", "bye!");
    char *cl;
    size_t cn;
    assert_int_equal(ws_recv_frame(fd2, &cl, &cn, 5000), OP_CLOSE);
    assert_true(cn >= 2);
    assert_int_equal(((uint8_t)cl[0] << 8) | (uint8_t)cl[1], 1000);
    free(cl);
    assert_true(peer_closes(fd2, 5000));

    close(fd);
    close(fd2);
    assert_true(wait_conns(0, 3000));
    assert_int_equal(atomic_load(&S.closes), 2);
    srv_stop();
}

static void ws_binary_refused(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    srv_start(&cfg);
    int fd = ws_open(S.ws_port);
    assert_true(fd >= 0);
    assert_int_equal(ws_send_frame(fd, OP_BIN, true, "\x01\x02", 2), 0);
    char *got = ws_recv_text(fd);
    assert_non_null(got);
    assert_non_null(strstr(got, "\"error\":\"wsTextRequired\""));
    assert_non_null(strstr(got, "\"type\":\"error\""));
    free(got);
    /* A fragmented binary message is answered once. */
    assert_int_equal(ws_send_frame(fd, OP_BIN, false, "a", 1), 0);
    assert_int_equal(ws_send_frame(fd, OP_CONT, true, "b", 1), 0);
    got = ws_recv_text(fd);
    assert_non_null(got);
    assert_non_null(strstr(got, "wsTextRequired"));
    free(got);
    /* Still open and serving. */
    ws_expect(fd, "after", "R0:after");
    assert_int_equal(atomic_load(&S.requests), 1);
    close(fd);
    srv_stop();
    assert_int_equal(atomic_load(&S.closes), 1);
}

/* RFC 6455 §5.1: a server MUST close the connection on an unmasked frame
 * from a client, with 1002 (protocol error), and act on nothing in it. */
static void ws_unmasked_frame_closes(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    srv_start(&cfg);
    int good = ws_open(S.ws_port);
    int bad = ws_open(S.ws_port);
    assert_true(good >= 0 && bad >= 0);
    const char msg[] = "{\"id\":1,\"command\":\"ping\"}";
    uint8_t frame[2 + sizeof msg - 1];
    frame[0] = 0x80 | OP_TEXT;
    frame[1] = (uint8_t)(sizeof msg - 1); /* no mask bit, no masking key */
    memcpy(frame + 2, msg, sizeof msg - 1);
    assert_int_equal(write_all(bad, frame, sizeof frame), 0);
    char *got;
    size_t n;
    int op = ws_recv_frame(bad, &got, &n, 3000);
    assert_int_equal(op, OP_CLOSE);
    assert_true(n >= 2);
    assert_int_equal(((uint8_t)got[0] << 8) | (uint8_t)got[1], 1002);
    free(got);
    assert_true(peer_closes(bad, 5000));
    assert_int_equal(atomic_load(&S.requests), 0);
    /* A masked frame on another connection is served as ever. */
    ws_expect(good, "masked", "R0:masked");
    close(bad);
    close(good);
    srv_stop();
}

/* The rest of RFC 6455 as the "ws" listener speaks it on the wire: pings
 * answered with their payload, a client's close answered with its code,
 * frames sent right behind the handshake, refusals of bad handshakes. */
static void ws_control_frames(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    srv_start(&cfg);
    int fd = ws_open(S.ws_port);
    assert_true(fd >= 0);
    assert_int_equal(ws_send_frame(fd, OP_PING, true, "are you there", 13), 0);
    char *got;
    size_t n;
    assert_int_equal(ws_recv_frame(fd, &got, &n, 3000), OP_PONG);
    assert_int_equal(n, 13);
    assert_memory_equal(got, "are you there", 13);
    free(got);
    /* Pings faster than pongs go out: the latest ping is always answered
     * (older ones may not be: RFC 6455 §5.5.3), and the connection serves on. */
    uint8_t burst[6 * (6 + 125)];
    size_t bn = 0;
    for (int i = 0; i < 6; i++) {
        char pl[125];
        memset(pl, 'a' + i, sizeof pl);
        uint8_t *f = burst + bn;
        f[0] = 0x80 | OP_PING;
        f[1] = 0x80 | 125;
        memset(f + 2, 0, 4); /* a zero mask */
        memcpy(f + 6, pl, sizeof pl);
        bn += 6 + 125;
    }
    assert_int_equal(write_all(fd, burst, bn), 0);
    int pongs = 0;
    char last = 0;
    for (;;) {
        int op = ws_recv_frame(fd, &got, &n, pongs ? 300 : 3000);
        if (op < 0)
            break;
        assert_int_equal(op, OP_PONG);
        assert_int_equal(n, 125);
        assert_true(got[0] > last); /* in order, none twice */
        last = got[0];
        free(got);
        pongs++;
    }
    assert_true(pongs >= 1 && pongs <= 6);
    assert_int_equal(last, 'f');
    /* A pong from the client is taken and ignored. */
    assert_int_equal(ws_send_frame(fd, OP_PONG, true, "x", 1), 0);
    ws_expect(fd, "still", "R0:still");
    /* The client closes with 1001: the same code comes back, then EOF. */
    assert_int_equal(ws_send_frame(fd, OP_CLOSE, true, "\x03\xe9" "bye", 5), 0);
    assert_int_equal(ws_recv_frame(fd, &got, &n, 3000), OP_CLOSE);
    assert_true(n >= 2);
    assert_int_equal(((uint8_t)got[0] << 8) | (uint8_t)got[1], 1001);
    free(got);
    assert_true(peer_closes(fd, 3000));
    close(fd);

    /* The handshake and a first request in one write. */
    fd = tcp_connect(S.ws_port);
    char req[512];
    int k = snprintf(req, sizeof req,
                     "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n");
    const uint8_t frame[] = {0x81, 0x82, 0, 0, 0, 0, 'h', 'i'}; /* masked with zeros */
    memcpy(req + k, frame, sizeof frame);
    assert_int_equal(write_all(fd, req, (size_t)k + sizeof frame), 0);
    char head[4096];
    assert_int_equal(read_head(fd, head, sizeof head), 0);
    assert_non_null(strstr(head, "HTTP/1.1 101 "));
    assert_non_null(strstr(head, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    got = ws_recv_text(fd);
    assert_non_null(got);
    assert_string_equal(got, "R0:hi");
    free(got);
    close(fd);

    /* A handshake arriving a few bytes at a time. */
    fd = tcp_connect(S.ws_port);
    for (int off = 0; off < k; off += 7) {
        assert_int_equal(write_all(fd, req + off, (size_t)(k - off < 7 ? k - off : 7)), 0);
        sleep_ms(2);
    }
    assert_int_equal(read_head(fd, head, sizeof head), 0);
    assert_non_null(strstr(head, "HTTP/1.1 101 "));
    ws_expect(fd, "piecemeal", "R0:piecemeal");
    close(fd);

    /* Refused handshakes: an answer that says why, then EOF. */
    struct {
        const char *req, *status, *why;
    } bad[] = {
        {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
         "HTTP/1.1 426 ", "Sec-WebSocket-Version: 13"},
        {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: short==\r\nSec-WebSocket-Version: 13\r\n\r\n",
         "HTTP/1.1 400 ", "bad Sec-WebSocket-Key"},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 400 ",
         "WebSocket only"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fd = tcp_connect(S.ws_port);
        assert_int_equal(write_all(fd, bad[i].req, strlen(bad[i].req)), 0);
        char resp[1024];
        size_t rn = 0;
        for (;;) {
            struct pollfd pfd = {fd, POLLIN, 0};
            assert_true(poll(&pfd, 1, 3000) > 0);
            ssize_t r = recv(fd, resp + rn, sizeof resp - 1 - rn, 0);
            if (r <= 0)
                break;
            rn += (size_t)r;
        }
        resp[rn] = '\0';
        assert_memory_equal(resp, bad[i].status, strlen(bad[i].status));
        assert_non_null(strstr(resp, bad[i].why));
        close(fd);
    }

    /* A head that never ends is cut off at 8 KiB with a 400. */
    fd = tcp_connect(S.ws_port);
    char junk[1024];
    memset(junk, 'a', sizeof junk);
    memcpy(junk, "GET / HTTP/1.1\r\nX-Pad: ", 23);
    assert_int_equal(write_all(fd, junk, sizeof junk), 0);
    for (int i = 0; i < 8; i++)
        (void)write_all(fd, junk + 23, sizeof junk - 23);
    char resp[64] = "";
    assert_int_equal(read_full(fd, resp, 12, 3000), 0);
    assert_memory_equal(resp, "HTTP/1.1 400", 12);
    assert_true(peer_closes(fd, 3000));
    close(fd);
    assert_true(wait_conns(0, 3000));
    /* Only the three that opened reached the dispatcher. */
    assert_int_equal(atomic_load(&S.closes), 3);
    srv_stop();
}

/* A client that connects and sends half a handshake is closed once the
 * message deadline (at most 10 s) has passed. */
static void ws_handshake_deadline(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    cfg.msg_deadline_s = 1;
    srv_start(&cfg);
    int half = tcp_connect(S.ws_port), silent = tcp_connect(S.ws_port);
    assert_true(half >= 0 && silent >= 0);
    const char part[] = "GET / HTTP/1.1\r\nHost: x\r\n";
    assert_int_equal(write_all(half, part, sizeof part - 1), 0);
    assert_true(peer_closes(half, 4000));
    assert_true(peer_closes(silent, 4000));
    int ok = ws_open(S.ws_port);
    assert_true(ok >= 0);
    ws_expect(ok, "fine", "R0:fine");
    close(ok);
    close(half);
    close(silent);
    assert_true(wait_conns(0, 3000));
    srv_stop();
}

static void ws_oversize_closes(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    cfg.max_message = 1000;
    srv_start(&cfg);
    int good = ws_open(S.ws_port);
    int bad = ws_open(S.ws_port);
    int bad2 = ws_open(S.ws_port);
    assert_true(good >= 0 && bad >= 0 && bad2 >= 0);

    /* Exactly at the cap is fine. */
    char msg[1002];
    memset(msg, 'y', 1001);
    msg[1000] = '\0';
    char want[1004] = "R0:";
    memcpy(want + 3, msg, 1001);
    ws_expect(good, msg, want);

    /* One byte over in one frame: an error, a close frame (1009), EOF. */
    msg[1000] = 'y';
    msg[1001] = '\0';
    assert_int_equal(ws_send_text(bad, msg), 0);
    char *got;
    size_t n;
    assert_int_equal(ws_recv_frame(bad, &got, &n, 5000), OP_TEXT);
    assert_non_null(strstr(got, "\"error\":\"frameTooLarge\""));
    free(got);
    assert_int_equal(ws_recv_frame(bad, &got, &n, 5000), OP_CLOSE);
    assert_true(n >= 2);
    assert_int_equal(((uint8_t)got[0] << 8) | (uint8_t)got[1], 1009);
    free(got);
    assert_true(peer_closes(bad, 5000));

    /* Over the cap only once fragments add up. */
    assert_int_equal(ws_send_frame(bad2, OP_TEXT, false, msg, 600), 0);
    assert_int_equal(ws_send_frame(bad2, OP_CONT, true, msg, 600), 0);
    assert_int_equal(ws_recv_frame(bad2, &got, &n, 5000), OP_TEXT);
    assert_non_null(strstr(got, "frameTooLarge"));
    free(got);
    assert_true(peer_closes(bad2, 5000));

    /* The other client is still served. */
    ws_expect(good, "still", "R0:still");
    assert_true(wait_conns(1, 3000));
    close(good);
    close(bad);
    close(bad2);
    srv_stop();
    assert_int_equal(atomic_load(&S.closes), 3);
}

/* With the server started at a limit of two connections (for the node or
 * for this address): two are held (one on each listener), both listeners
 * refuse a third, and when one goes another may come. */
static void two_then_refused(void)
{
    int a = ws_open(S.ws_port);
    assert_true(a >= 0);
    int b = tcp_connect(S.jtp_port); /* counts once accepted, handshake or not */
    assert_true(b >= 0);
    assert_true(wait_conns(2, 3000));
    assert_int_equal(ws_open(S.ws_port), -1);
    int d = tcp_connect(S.jtp_port);
    if (d >= 0) {
        assert_true(peer_closes(d, 3000));
        close(d);
    }
    assert_int_equal(srv_net_conn_count(S.net), 2);
    ws_expect(a, "alive", "R0:alive");
    close(a);
    assert_true(wait_conns(1, 3000));
    int c = ws_open(S.ws_port);
    assert_true(c >= 0);
    ws_expect(c, "third", "R0:third");
    close(b);
    close(c);
    assert_true(wait_conns(0, 3000));
}

static void max_conns_enforced(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    cfg.max_conns = 2;
    srv_start(&cfg);
    two_then_refused();
    srv_stop();
    assert_int_equal(atomic_load(&S.closes), 3);
}

/* One address may hold max_conns_per_addr connections, across both
 * listeners, however many the node could still take. */
static void max_conns_per_addr_enforced(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    assert_int_equal(cfg.max_conns_per_addr, 64); /* on by default */
    cfg.max_conns = 100;
    cfg.max_conns_per_addr = 2;
    srv_start(&cfg);
    two_then_refused();
    srv_stop();
    assert_int_equal(atomic_load(&S.closes), 3);
}

static void over_rate_flagged(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    cfg.rate_per_sec = 1;
    cfg.rate_burst = 3;
    srv_start(&cfg);
    int fd = ws_open(S.ws_port);
    assert_true(fd >= 0);
    for (int i = 0; i < 8; i++)
        assert_int_equal(ws_send_text(fd, "q"), 0);
    int flagged = 0;
    for (int i = 0; i < 8; i++) {
        char *got = ws_recv_text(fd); /* nothing is dropped */
        assert_non_null(got);
        if (i < 3)
            assert_string_equal(got, "R0:q"); /* the burst */
        flagged += strcmp(got, "R1:q") == 0;
        free(got);
    }
    /* At most one token can have been refilled in the meantime. */
    assert_true(flagged >= 4);
    assert_int_equal(atomic_load(&S.over_rate), (unsigned)flagged);
    /* Another connection has its own bucket. */
    int fd2 = ws_open(S.ws_port);
    ws_expect(fd2, "q", "R0:q");
    close(fd);
    close(fd2);
    srv_stop();
}

/* With the server started: a client that asks for a flood and never
 * reads must be cut off after fewer than max_sent bytes (kernel buffers
 * plus whichever queue cap applies), and others are still served. */
static void flood_is_cut(size_t max_sent)
{
    int slow = ws_handshake(tcp_connect2(S.ws_port, 8192), S.ws_port, "/");
    assert_true(slow >= 0);
    assert_int_equal(ws_send_text(slow, "flood"), 0);
    for (int i = 0; i < 2000 && !atomic_load(&S.fl.refused); i++)
        sleep_ms(10);
    assert_true(atomic_load(&S.fl.refused));
    assert_true(atomic_load(&S.fl.sent) < max_sent);
    assert_true(wait_for(&S.closes, 1, 5000));
    assert_true(wait_conns(0, 3000));
    int good = ws_open(S.ws_port);
    ws_expect(good, "ok", "R0:ok");
    close(good);
    close(slow);
}

static void slow_consumer_dropped(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    cfg.max_outbuf = 256 << 10;
    srv_start(&cfg);
    /* Not the 512 MiB the flood would go on to. */
    flood_is_cut((size_t)64 << 20);
    srv_stop();
}

/* Output queued across every connection has its own cap: a client that
 * never reads is closed when the total reaches max_out_total, long before
 * its own max_outbuf, and others are still served. */
static void out_total_enforced(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    assert_int_equal(cfg.max_out_total, (size_t)512 << 20); /* on by default */
    cfg.max_outbuf = 64 << 20;
    cfg.max_out_total = 256 << 10;
    srv_start(&cfg);
    /* Kernel buffers plus the 256 KiB total, not the 64 MiB of its own cap. */
    flood_is_cut((size_t)16 << 20);
    srv_stop();
}

/* A WebSocket message begun must be finished within msg_deadline_s: a
 * first fragment with no continuation gets the connection closed; one
 * finished in time is answered and the connection stays. */
static void msg_deadline_enforced(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    assert_int_equal(cfg.msg_deadline_s, 30); /* on by default */
    cfg.msg_deadline_s = 1;
    srv_start(&cfg);
    int ok = ws_open(S.ws_port), stall = ws_open(S.ws_port);
    assert_true(ok >= 0 && stall >= 0);
    /* ok: two fragments, the second within the deadline. */
    assert_int_equal(ws_send_frame(ok, 1, false, "he", 2), 0);
    sleep_ms(300);
    assert_int_equal(ws_send_frame(ok, 0, true, "llo", 3), 0);
    char *got = ws_recv_text(ok);
    assert_non_null(got);
    assert_string_equal(got, "R0:hello");
    free(got);
    /* stall: a first fragment and nothing more. */
    assert_int_equal(ws_send_frame(stall, 1, false, "half", 4), 0);
    assert_true(peer_closes(stall, 4000));
    assert_true(wait_conns(1, 3000));
    /* The finished one is still served after the deadline has passed. */
    sleep_ms(1500);
    ws_expect(ok, "again", "R0:again");
    close(ok);
    close(stall);
    assert_true(wait_conns(0, 3000));
    srv_stop();
}

/* Input buffered across every connection has its own cap: a message
 * growing past what is left of max_in_total gets the connection holding
 * the most input closed (here the one sending it), while small messages
 * are still served. */
static void in_total_enforced(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    assert_int_equal(cfg.max_in_total, (size_t)256 << 20); /* on by default */
    cfg.max_in_total = 64 << 10;
    srv_start(&cfg);
    int small = ws_open(S.ws_port), big = ws_open(S.ws_port);
    assert_true(small >= 0 && big >= 0);
    ws_expect(small, "before", "R0:before");
    size_t n = 100 << 10;
    char *part = malloc(n);
    memset(part, 'q', n);
    /* The first 100 KiB of a message that never ends: more than the 64 KiB
     * all connections may hold. */
    assert_int_equal(ws_send_frame(big, 1, false, part, n), 0);
    free(part);
    assert_true(peer_closes(big, 4000));
    assert_true(wait_conns(1, 3000));
    ws_expect(small, "after", "R0:after");
    close(small);
    close(big);
    assert_true(wait_conns(0, 3000));
    srv_stop();
}

static void tick(void *ctx)
{
    srv *s = ctx;
    atomic_fetch_add(&s->ticks, 1);
}

static void start_timer(void *ctx)
{
    srv_net_set_timer(S.net, 10, tick, ctx);
}

static atomic_bool timer_stopped;

static void stop_timer(void *ctx)
{
    srv_net_set_timer(S.net, 0, NULL, ctx);
    atomic_store(&timer_stopped, true);
}

static void count_post(void *ctx)
{
    srv *s = ctx;
    if (pthread_equal(pthread_self(), s->loop_tid))
        atomic_fetch_add(&s->posts_on_loop, 1);
    else
        atomic_fetch_add(&s->posts_off_loop, 1);
}

static void *poster(void *arg)
{
    (void)arg;
    for (int i = 0; i < 500; i++)
        assert_int_equal(srv_net_post(S.net, count_post, &S), 0);
    return NULL;
}

static void timer_and_post(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    srv_start(&cfg);
    atomic_store(&timer_stopped, false);
    assert_int_equal(srv_net_post(S.net, start_timer, &S), 0);
    assert_true(wait_for(&S.ticks, 5, 3000));
    assert_int_equal(srv_net_post(S.net, stop_timer, &S), 0);
    while (!atomic_load(&timer_stopped))
        sleep_ms(1);
    unsigned t0 = atomic_load(&S.ticks);
    sleep_ms(100);
    assert_int_equal(atomic_load(&S.ticks), t0);

    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, poster, NULL), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_true(wait_for(&S.posts_on_loop, 2000, 5000));
    assert_int_equal(atomic_load(&S.posts_on_loop), 2000);
    assert_int_equal(atomic_load(&S.posts_off_loop), 0);
    srv_stop();
}

/* srv_net_after: each callback once, on the loop, not before its time,
 * in the order of their times; one still waiting runs when the net is
 * freed. */
typedef struct later_rec {
    int id;
    double at; /* seconds since `t0` when it ran */
    bool on_loop;
} later_rec;

static struct {
    double t0;
    later_rec ran[8];
    atomic_uint n;
} L8;

static double clock_s(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mono_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static int later_again_rc = 1;

static void later_cb(void *ctx)
{
    /* The last one runs while the net is freed: it may not come back. */
    if ((intptr_t)ctx == 4)
        later_again_rc = srv_net_after(S.net, 0, later_cb, ctx);
    unsigned k = atomic_load(&L8.n);
    if (k < 8) {
        L8.ran[k] = (later_rec){(int)(intptr_t)ctx, mono_s() - L8.t0,
                                pthread_equal(pthread_self(), S.loop_tid) != 0};
        atomic_store(&L8.n, k + 1);
    }
}

static void schedule_laters(void *ctx)
{
    (void)ctx;
    L8.t0 = mono_s();
    assert_int_equal(srv_net_after(S.net, 40000, later_cb, (void *)(intptr_t)3), 0);
    assert_int_equal(srv_net_after(S.net, 0, later_cb, (void *)(intptr_t)1), 0);
    assert_int_equal(srv_net_after(S.net, 15000, later_cb, (void *)(intptr_t)2), 0);
    assert_int_equal(srv_net_after(S.net, 60u * 1000 * 1000, later_cb, (void *)(intptr_t)4), 0);
}

static void after_runs_once_in_time(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    srv_start(&cfg);
    atomic_store(&L8.n, 0);
    assert_int_equal(srv_net_post(S.net, schedule_laters, NULL), 0);
    assert_true(wait_for(&L8.n, 3, 3000));
    sleep_ms(50);
    assert_int_equal(atomic_load(&L8.n), 3); /* the one a minute away waits */
    static const double due[] = {0, 0.015, 0.040};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(L8.ran[i].id, i + 1);
        assert_true(L8.ran[i].on_loop);
        assert_true(L8.ran[i].at >= due[i] - 0.001);
    }
    srv_stop(); /* frees the net: the last one runs then, once */
    assert_int_equal(atomic_load(&L8.n), 4);
    assert_int_equal(L8.ran[3].id, 4);
    assert_int_equal(later_again_rc, -1);
    assert_true(L8.ran[3].at < 30);
}

/* srv_net_after waits in poll(), not around it: a chain of laters 1.9 ms
 * apart (jt-node's gaps between slices of an announcement) costs the loop
 * almost no CPU. With lws's millisecond timers the loop polled without
 * waiting for the last 0.9 ms of each gap, about half of the time. */
static struct {
    int left;
    double wall0, cpu0, wall, cpu;
    bool early;
    double due;
    atomic_uint done;
} CH;

static void chain_cb(void *ctx)
{
    (void)ctx;
    double now = mono_s();
    if (CH.due > 0 && now < CH.due - 0.0001)
        CH.early = true;
    if (CH.left-- == 0) {
        CH.wall = now - CH.wall0;
        CH.cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - CH.cpu0;
        atomic_store(&CH.done, 1);
        return;
    }
    CH.due = now + 0.0019;
    assert_int_equal(srv_net_after(S.net, 1900, chain_cb, NULL), 0);
}

static void chain_start(void *ctx)
{
    (void)ctx;
    CH.left = 150;
    CH.due = 0;
    CH.wall0 = mono_s();
    CH.cpu0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    chain_cb(NULL);
}

static void after_waits_without_spinning(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    srv_start(&cfg);
    atomic_store(&CH.done, 0);
    CH.early = false;
    assert_int_equal(srv_net_post(S.net, chain_start, NULL), 0);
    assert_true(wait_for(&CH.done, 1, 10000));
    assert_false(CH.early);
    assert_true(CH.wall >= 150 * 0.0019);
    /* About 0.5 with the spin; a few per cent without it. */
    assert_true(CH.cpu < 0.2 * CH.wall);
    srv_stop();
}

/* The log on a regular file: the loop buffers it, writes it once per turn
 * and hands each megabyte to the kernel's writeback as it goes; 3 MB of
 * lines written from the loop all arrive, whole and in order. */
#define LOG_LINES 40000

static atomic_uint log_posts_done;

static void log_some(void *ctx)
{
    int from = (int)(intptr_t)ctx;
    for (int i = from; i < from + 1000; i++)
        fprintf(stderr, "level=info mod=test event=line n=%d pad=%060d\n", i, i);
    atomic_fetch_add(&log_posts_done, 1);
}

static void log_file_whole(void **state)
{
    (void)state;
    char path[] = "/tmp/jt-test-srv-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fd, 2), 2);
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    srv_start(&cfg);
    atomic_store(&log_posts_done, 0);
    for (int k = 0; k < LOG_LINES / 1000; k++) {
        assert_int_equal(srv_net_post(S.net, log_some, (void *)(intptr_t)(k * 1000)), 0);
        sleep_ms(2); /* several turns */
    }
    bool all = wait_for(&log_posts_done, LOG_LINES / 1000, 10000);
    srv_stop();
    fflush(stderr);
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    assert_true(all);
    FILE *f = fdopen(fd, "r");
    assert_non_null(f);
    rewind(f);
    char line[256];
    int next = 0;
    while (fgets(line, sizeof line, f)) {
        int n = -1;
        if (sscanf(line, "level=info mod=test event=line n=%d ", &n) != 1)
            continue; /* the server's own lines */
        assert_int_equal(n, next);
        assert_non_null(strchr(line, '\n'));
        next++;
    }
    assert_int_equal(next, LOG_LINES);
    fclose(f);
    unlink(path);
}

static void on_signal(int sig)
{
    (void)sig;
    srv_net_stop(S.net);
}

static void stop_from_signal_handler(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    srv_start(&cfg);
    int fd = ws_open(S.ws_port);
    ws_expect(fd, "x", "R0:x");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    pthread_join(S.th, NULL); /* returns only because the loop stopped */
    signal(SIGUSR1, SIG_DFL);
    /* Connections still open at free are closed with on_close. */
    assert_int_equal(srv_net_conn_count(S.net), 1);
    srv_net_free(S.net);
    S.net = NULL;
    assert_int_equal(atomic_load(&S.closes), 1);
    assert_true(peer_closes(fd, 3000));
    close(fd);
}

static void config_errors(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net *n = NULL;
    char err[256];

    srv_net_config_init(&cfg);
    assert_string_equal(cfg.ws_addr, "127.0.0.1:5020");
    assert_string_equal(cfg.jtp_addr, "127.0.0.1:5030");
    assert_int_equal(cfg.max_message, 1 << 20);
    assert_int_equal(cfg.max_conns, 1024);
    assert_int_equal(cfg.max_outbuf, 16 << 20);

    const char *bad[] = {"nonsense", "127.0.0.1",        "127.0.0.1:",   "127.0.0.1:99999",
                         "::1:5020", "example.com:5020", "127.0.0.1:12x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cfg.ws_addr = bad[i];
        cfg.jtp_addr = NULL;
        err[0] = '\0';
        assert_int_equal(srv_net_new(&cfg, &HANDLERS, NULL, &n, err, sizeof err), -1);
        assert_null(n);
        assert_non_null(strstr(err, bad[i]));
    }

    /* A busy port fails at srv_net_new, saying why. */
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l, 4), 0);
    socklen_t al = sizeof a;
    getsockname(l, (struct sockaddr *)&a, &al);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", ntohs(a.sin_port));
    cfg.ws_addr = addr;
    assert_int_equal(srv_net_new(&cfg, &HANDLERS, NULL, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "in use"));
    close(l);

    /* jtp with a key pair that does not match. */
    cfg.ws_addr = NULL;
    cfg.jtp_addr = "127.0.0.1:0";
    memset(cfg.node_pk, 1, 32);
    memset(cfg.node_sk, 2, 64);
    assert_int_equal(srv_net_new(&cfg, &HANDLERS, NULL, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "key"));

    /* Both listeners off is allowed; free accepts NULL. */
    cfg.jtp_addr = "";
    assert_int_equal(srv_net_new(&cfg, &HANDLERS, NULL, &n, err, sizeof err), 0);
    assert_int_equal(srv_net_listen_port(n, "ws"), -1);
    srv_net_free(n);
    srv_net_free(NULL);
}

static void ipv6_loopback(void **state)
{
    (void)state;
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a6 = {0};
    a6.sin6_family = AF_INET6;
    a6.sin6_addr = in6addr_loopback;
    if (probe < 0 || bind(probe, (struct sockaddr *)&a6, sizeof a6) != 0) {
        if (probe >= 0)
            close(probe);
        skip();
    }
    close(probe);
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    cfg.ws_addr = "[::1]:0";
    srv_start(&cfg);
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    a6.sin6_port = htons((uint16_t)S.ws_port);
    assert_int_equal(connect(fd, (struct sockaddr *)&a6, sizeof a6), 0);
    fd = ws_handshake(fd, S.ws_port, "/");
    assert_true(fd >= 0);
    ws_expect(fd, "whoami", "W:ws:admin=1:loopback=1");
    assert_int_equal(ws_send_text(fd, "peer"), 0);
    char *p = ws_recv_text(fd);
    assert_non_null(p);
    assert_memory_equal(p, "[::1]:", 6);
    free(p);
    close(fd);
    srv_stop();
}

/* -------------------------------------------------------------- jtp */

typedef struct keys {
    jt_jtp_identity *node, *a, *b;
} keys;

static void keys_make(keys *k, srv_net_config *cfg)
{
    assert_int_equal(jt_jtp_identity_generate(&k->node), JT_OK);
    assert_int_equal(jt_jtp_identity_generate(&k->a), JT_OK);
    assert_int_equal(jt_jtp_identity_generate(&k->b), JT_OK);
    memcpy(cfg->node_pk, jt_jtp_identity_public(k->node), 32);
    memcpy(cfg->node_sk, jt_jtp_identity_secret(k->node), 64);
}

static void keys_free(keys *k)
{
    jt_jtp_identity_free(k->node);
    jt_jtp_identity_free(k->a);
    jt_jtp_identity_free(k->b);
}

static void jtp_round_trip(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    keys k;
    keys_make(&k, &cfg);
    uint8_t admin[1][32];
    memcpy(admin[0], jt_jtp_identity_public(k.a), 32);
    cfg.admin_keys = (const uint8_t(*)[32])admin;
    cfg.n_admin = 1;
    srv_start(&cfg);
    const uint8_t *node_pk = jt_jtp_identity_public(k.node);

    jtpc ca, cb, cr;
    assert_int_equal(jtpc_open(&ca, S.jtp_port, node_pk, k.a, false), 0);
    jtp_expect(&ca, "{\"id\":1,\"command\":\"ping\"}", "R0:{\"id\":1,\"command\":\"ping\"}");
    jtp_expect(&ca, "whoami", "W:jtp:admin=1:loopback=1");
    /* Encrypted from loopback is not admin by itself: the key decides. */
    assert_int_equal(jtpc_open(&cb, S.jtp_port, node_pk, k.b, false), 0);
    jtp_expect(&cb, "whoami", "W:jtp:admin=0:loopback=1");
    assert_int_equal(jtpc_open(&cr, S.jtp_port, node_pk, NULL, false), 0);
    jtp_expect(&cr, "whoami", "W:jtp:admin=0:loopback=1");
    /* Several messages in one write come back in order. */
    jt_errinfo ei;
    for (int i = 0; i < 5; i++) {
        char m[16];
        snprintf(m, sizeof m, "m%d", i);
        assert_int_equal(jt_jtp_send(ca.j, m, strlen(m), &ei), JT_OK);
    }
    assert_int_equal(jtpc_flush(&ca), 0);
    for (int i = 0; i < 5; i++) {
        char want[16];
        snprintf(want, sizeof want, "R0:m%d", i);
        char *got = jtpc_recv(&ca);
        assert_non_null(got);
        assert_string_equal(got, want);
        free(got);
    }
    /* A client pinning another key cannot get in. */
    jtpc cw;
    assert_int_equal(jtpc_open(&cw, S.jtp_port, jt_jtp_identity_public(k.b), k.a, false), -1);
    assert_true(peer_closes(cw.fd, 3000));
    jtpc_close(&cw);
    /* Not jtp at all. */
    int g = tcp_connect(S.jtp_port);
    assert_int_equal(write_all(g, "GET / HTTP/1.1\r\n\r\n", 18), 0);
    assert_true(peer_closes(g, 3000));
    close(g);

    jtpc_close(&ca);
    jtpc_close(&cb);
    jtpc_close(&cr);
    assert_true(wait_conns(0, 3000));
    srv_stop();
    assert_int_equal(atomic_load(&S.closes), 5);
    keys_free(&k);
}

static void jtp_allow_list(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    keys k;
    keys_make(&k, &cfg);
    uint8_t allowed[1][32];
    memcpy(allowed[0], jt_jtp_identity_public(k.a), 32);
    cfg.allowed_keys = (const uint8_t(*)[32])allowed;
    cfg.n_allowed = 1;
    srv_start(&cfg);
    const uint8_t *node_pk = jt_jtp_identity_public(k.node);

    jtpc ca, cb;
    assert_int_equal(jtpc_open(&ca, S.jtp_port, node_pk, k.a, false), 0);
    jtp_expect(&ca, "hi", "R0:hi");
    /* B's requests are never seen by the dispatcher; it is told forbidden
     * and closed. */
    if (jtpc_open(&cb, S.jtp_port, node_pk, k.b, false) == 0) {
        (void)jtpc_send(&cb, "sneaky");
        char *got = jtpc_recv(&cb);
        assert_non_null(got);
        assert_non_null(strstr(got, "\"error\":\"forbidden\""));
        free(got);
    }
    assert_true(peer_closes(cb.fd, 3000));
    assert_int_equal(atomic_load(&S.requests), 1);
    jtp_expect(&ca, "again", "R0:again");
    jtpc_close(&ca);
    jtpc_close(&cb);
    srv_stop();
    keys_free(&k);
}

/* A jtp frame begun after the handshake must arrive whole within
 * msg_deadline_s: half a frame header and nothing more gets the session
 * closed, while a session that sends whole frames stays. */
static void jtp_frame_deadline(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    keys k;
    keys_make(&k, &cfg);
    cfg.msg_deadline_s = 1;
    srv_start(&cfg);
    const uint8_t *node_pk = jt_jtp_identity_public(k.node);
    jtpc ok, stall;
    assert_int_equal(jtpc_open(&ok, S.jtp_port, node_pk, k.a, false), 0);
    assert_int_equal(jtpc_open(&stall, S.jtp_port, node_pk, k.b, false), 0);
    jtp_expect(&stall, "first", "R0:first");
    const uint8_t half[2] = {0, 0};
    assert_int_equal(write_all(stall.fd, half, sizeof half), 0);
    assert_true(peer_closes(stall.fd, 4000));
    sleep_ms(1500);
    jtp_expect(&ok, "still", "R0:still");
    jtpc_close(&ok);
    jtpc_close(&stall);
    srv_stop();
    keys_free(&k);
}

static void jtp_plaintext(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    keys k;
    keys_make(&k, &cfg);
    srv_start(&cfg);
    /* Refused unless configured. */
    jtpc p;
    assert_int_equal(jtpc_open(&p, S.jtp_port, NULL, NULL, true), 0);
    (void)jtpc_send(&p, "hello");
    char *got = jtpc_recv(&p);
    assert_non_null(got);
    assert_non_null(strstr(got, "plaintextRefused"));
    free(got);
    assert_true(peer_closes(p.fd, 3000));
    jtpc_close(&p);
    assert_int_equal(atomic_load(&S.requests), 0);
    srv_stop();

    cfg.jtp_plaintext = true;
    srv_start(&cfg);
    assert_int_equal(jtpc_open(&p, S.jtp_port, NULL, NULL, true), 0);
    jtp_expect(&p, "whoami", "W:jtp:admin=1:loopback=1");
    jtp_expect(&p, "x", "R0:x");
    jtp_expect(&p, "bye", "bye!");
    assert_true(peer_closes(p.fd, 3000));
    jtpc_close(&p);
    srv_stop();
    keys_free(&k);
}

static void jtp_oversize_closes(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    cfg.max_message = 1000;
    keys k;
    keys_make(&k, &cfg);
    srv_start(&cfg);
    const uint8_t *node_pk = jt_jtp_identity_public(k.node);
    jtpc good, bad;
    assert_int_equal(jtpc_open(&good, S.jtp_port, node_pk, NULL, false), 0);
    assert_int_equal(jtpc_open(&bad, S.jtp_port, node_pk, NULL, false), 0);
    char big[2001];
    memset(big, 'z', 2000);
    big[2000] = '\0';
    assert_int_equal(jtpc_send(&bad, big), 0);
    assert_true(peer_closes(bad.fd, 3000));
    jtp_expect(&good, "fine", "R0:fine");
    jtpc_close(&good);
    jtpc_close(&bad);
    srv_stop();
    assert_int_equal(atomic_load(&S.requests), 1);
    keys_free(&k);
}

static void jtp_slow_consumer_dropped(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    cfg.max_outbuf = 256 << 10;
    keys k;
    keys_make(&k, &cfg);
    srv_start(&cfg);
    const uint8_t *node_pk = jt_jtp_identity_public(k.node);
    jtpc slow;
    assert_int_equal(jtpc_open_fd(&slow, tcp_connect2(S.jtp_port, 8192), node_pk, NULL, false), 0);
    assert_int_equal(jtpc_send(&slow, "flood"), 0);
    for (int i = 0; i < 2000 && !atomic_load(&S.fl.refused); i++)
        sleep_ms(10);
    assert_true(atomic_load(&S.fl.refused));
    assert_true(atomic_load(&S.fl.sent) < ((size_t)64 << 20));
    assert_true(wait_conns(0, 3000));
    jtpc good;
    assert_int_equal(jtpc_open(&good, S.jtp_port, node_pk, NULL, false), 0);
    jtp_expect(&good, "ok", "R0:ok");
    jtpc_close(&good);
    jtpc_close(&slow);
    srv_stop();
    keys_free(&k);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Many pipelined requests over one encrypted session: all answered, in
 * order. Prints the rate (meaningful only in an optimised build). */
static void jtp_pipelined(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    keys k;
    keys_make(&k, &cfg);
    srv_start(&cfg);
    jtpc c;
    assert_int_equal(jtpc_open(&c, S.jtp_port, jt_jtp_identity_public(k.node), NULL, false), 0);
    const int total = 20000, window = 200;
    int sent = 0, recvd = 0;
    double t0 = now_s();
    jt_errinfo ei;
    while (recvd < total) {
        while (sent < total && sent - recvd < window) {
            char m[64];
            int n = snprintf(m, sizeof m, "{\"id\":%d,\"command\":\"ping\"}", sent);
            assert_int_equal(jt_jtp_send(c.j, m, (size_t)n, &ei), JT_OK);
            sent++;
        }
        assert_int_equal(jtpc_flush(&c), 0);
        const char *m;
        size_t n;
        bool any = false;
        while (jt_jtp_next_message(c.j, &m, &n)) {
            char want[80];
            snprintf(want, sizeof want, "R0:{\"id\":%d,\"command\":\"ping\"}", recvd);
            assert_string_equal(m, want);
            recvd++;
            any = true;
        }
        if (!any)
            assert_int_equal(jtpc_pump(&c, 5000), 0);
    }
    double dt = now_s() - t0;
    print_message("jtp pipelined: %d requests in %.3f s (%.0f/s)\n", total, dt, total / dt);
    /* Lock-step: one request in flight, a round trip each. */
    t0 = now_s();
    for (int i = 0; i < 2000; i++)
        jtp_expect(&c, "{\"command\":\"ping\"}", "R0:{\"command\":\"ping\"}");
    dt = now_s() - t0;
    print_message("jtp lock-step: 2000 requests in %.3f s (%.0f/s)\n", dt, 2000 / dt);
    jtpc_close(&c);
    srv_stop();
    keys_free(&k);
}

typedef struct worker {
    int port;
    const uint8_t *node_pk;
    int n;
    atomic_int *ok;
} worker;

static void *lockstep_client(void *arg)
{
    worker *w = arg;
    jtpc c;
    if (jtpc_open(&c, w->port, w->node_pk, NULL, false) != 0) {
        jtpc_close(&c);
        return NULL;
    }
    for (int i = 0; i < w->n; i++) {
        char m[64], want[80];
        int k = snprintf(m, sizeof m, "{\"id\":%d}", i);
        snprintf(want, sizeof want, "R0:%s", m);
        jt_errinfo ei;
        if (jt_jtp_send(c.j, m, (size_t)k, &ei) != JT_OK || jtpc_flush(&c))
            break;
        char *got = jtpc_recv(&c);
        bool good = got && strcmp(got, want) == 0;
        free(got);
        if (!good)
            break;
        atomic_fetch_add(w->ok, 1);
    }
    jtpc_close(&c);
    return NULL;
}

/* Several clients, each with one request in flight: every reply reaches
 * the right client. Prints the aggregate rate. */
static void jtp_concurrent_clients(void **state)
{
    (void)state;
    srv_net_config cfg;
    srv_net_config_init(&cfg);
    keys k;
    keys_make(&k, &cfg);
    srv_start(&cfg);
    enum { NCLIENTS = 8, PER = 1500 };
    atomic_int ok = 0;
    worker w = {S.jtp_port, jt_jtp_identity_public(k.node), PER, &ok};
    pthread_t th[NCLIENTS];
    double t0 = now_s();
    for (int i = 0; i < NCLIENTS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, lockstep_client, &w), 0);
    for (int i = 0; i < NCLIENTS; i++)
        pthread_join(th[i], NULL);
    double dt = now_s() - t0;
    assert_int_equal(atomic_load(&ok), NCLIENTS * PER);
    print_message("jtp %d lock-step clients: %d requests in %.3f s (%.0f/s)\n", NCLIENTS,
                  NCLIENTS * PER, dt, NCLIENTS * PER / dt);
    srv_stop();
    keys_free(&k);
}

/* ------------------------------------------- reading clients are throttled
 *
 * A client pipelines N requests for 64 KiB replies: N × 64 KiB is far more
 * than max_outbuf. One that reads gets every reply, in order, and stays
 * connected; while it does not read, the node stops reading its requests
 * (it has seen fewer than N of them). One that never reads is closed after
 * slow_reader_s. */

enum { PIPELINED = 300 };

static void throttle_config(srv_net_config *cfg)
{
    srv_net_config_init(cfg);
    assert_int_equal(cfg->slow_reader_s, 10); /* on by default */
    cfg->max_outbuf = 256 << 10;
    cfg->slow_reader_s = 1;
}

static char *big_requests(int first, int n, size_t *len)
{
    char *all = malloc((size_t)n * 32);
    size_t k = 0;
    for (int i = first; i < first + n; i++)
        k += (size_t)snprintf(all + k, 32, "big:%d", i) + 1; /* NUL-separated */
    *len = k;
    return all;
}

/* Checks the i-th reply: its size and the request it answers. */
static void expect_big(const char *got, size_t n, int i)
{
    char want[32];
    int k = snprintf(want, sizeof want, "big:%d;", i);
    assert_int_equal(n, BIG_REPLY);
    assert_memory_equal(got, want, (size_t)k);
}

static void ws_reader_throttled(void **state)
{
    (void)state;
    srv_net_config cfg;
    throttle_config(&cfg);
    srv_start(&cfg);
    /* Small socket buffers, so that what the kernel holds is little
     * beside max_outbuf. */
    int idle = ws_handshake(tcp_connect2(S.ws_port, 8192), S.ws_port, "/");
    int rd = ws_handshake(tcp_connect2(S.ws_port, 8192), S.ws_port, "/");
    assert_true(idle >= 0 && rd >= 0);
    size_t len;
    char *reqs = big_requests(0, PIPELINED, &len);
    /* Every request in one write, as a pipelining client sends them: the
     * node reads them in one go. */
    uint8_t *frames = malloc(len * 2 + (size_t)PIPELINED * 8), *f = frames;
    for (size_t off = 0; off < len; off += strlen(reqs + off) + 1) {
        size_t n = strlen(reqs + off);
        const uint8_t mask[4] = {1, 2, 3, 4};
        *f++ = 0x80 | OP_TEXT;
        *f++ = (uint8_t)(0x80 | n);
        memcpy(f, mask, 4);
        f += 4;
        for (size_t i = 0; i < n; i++)
            *f++ = (uint8_t)reqs[off + i] ^ mask[i & 3];
    }
    assert_int_equal(write_all(idle, frames, (size_t)(f - frames)), 0);
    assert_int_equal(write_all(rd, frames, (size_t)(f - frames)), 0);
    free(frames);
    free(reqs);
    sleep_ms(300);
    /* Neither has read: both paused long before their last request. */
    assert_true(atomic_load(&S.requests) < PIPELINED);
    for (int i = 0; i < PIPELINED; i++) {
        char *p;
        size_t n;
        assert_int_equal(ws_recv_frame(rd, &p, &n, 5000), OP_TEXT);
        expect_big(p, n, i);
        free(p);
        if (i == PIPELINED / 2)
            sleep_ms(300); /* a pause in reading is not a stall */
    }
    assert_int_equal(atomic_load(&S.replies_refused), 0);
    /* idle never read: closed for that, well within the test. */
    assert_true(wait_conns(1, 5000));
    ws_expect(rd, "still", "R0:still");
    close(idle);
    close(rd);
    assert_true(wait_conns(0, 3000));
    srv_stop();
}

static void jtp_reader_throttled(void **state)
{
    (void)state;
    srv_net_config cfg;
    throttle_config(&cfg);
    keys k;
    keys_make(&k, &cfg);
    srv_start(&cfg);
    const uint8_t *node_pk = jt_jtp_identity_public(k.node);
    jtpc idle, rd;
    assert_int_equal(jtpc_open_fd(&idle, tcp_connect2(S.jtp_port, 8192), node_pk, NULL, false), 0);
    assert_int_equal(jtpc_open_fd(&rd, tcp_connect2(S.jtp_port, 8192), node_pk, NULL, false), 0);
    size_t len;
    char *reqs = big_requests(0, PIPELINED, &len);
    jt_errinfo ei;
    /* Every request in one write: they reach the node together and wait
     * in its jtp buffer while it is paused. */
    for (size_t off = 0; off < len; off += strlen(reqs + off) + 1) {
        assert_int_equal(jt_jtp_send(idle.j, reqs + off, strlen(reqs + off), &ei), JT_OK);
        assert_int_equal(jt_jtp_send(rd.j, reqs + off, strlen(reqs + off), &ei), JT_OK);
    }
    free(reqs);
    assert_int_equal(jtpc_flush(&idle), 0);
    assert_int_equal(jtpc_flush(&rd), 0);
    sleep_ms(300);
    assert_true(atomic_load(&S.requests) < PIPELINED);
    for (int i = 0; i < PIPELINED; i++) {
        const char *m;
        size_t n;
        while (!jt_jtp_next_message(rd.j, &m, &n))
            assert_int_equal(jtpc_pump(&rd, 5000), 0);
        expect_big(m, n, i);
    }
    assert_int_equal(atomic_load(&S.replies_refused), 0);
    assert_true(wait_conns(1, 5000));
    jtp_expect(&rd, "still", "R0:still");
    jtpc_close(&idle);
    jtpc_close(&rd);
    assert_true(wait_conns(0, 3000));
    srv_stop();
    keys_free(&k);
}

/* The free memory kept while busy: 1 GiB at most, an eighth of the
 * machine's memory when that is less, never under 64 MiB; and a release
 * (busy or idle) leaves what is in use alone. */
static void alloc_keep_limit(void **state)
{
    (void)state;
    size_t keep = srv_alloc_keep();
    uint64_t ram = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
    assert_true(keep <= (size_t)1 << 30);
    assert_true(keep >= (size_t)64 << 20);
    if (ram / 8 >= (uint64_t)64 << 20)
        assert_true(keep <= ram / 8);
    if (ram / 8 >= (uint64_t)1 << 30)
        assert_int_equal(keep, (size_t)1 << 30);
    const char *name = srv_alloc_name();
    assert_true(!strcmp(name, "jemalloc") || !strcmp(name, "libc"));
    srv_alloc_setup();
    char *p = malloc(1 << 20), *big = malloc((size_t)16 << 20);
    assert_non_null(p);
    assert_non_null(big);
    memset(p, 7, 1 << 20);
    memset(big, 9, (size_t)16 << 20);
    free(big);
    srv_alloc_release(false);
    srv_alloc_release(true);
    for (size_t i = 0; i < 1 << 20; i += 4096)
        assert_int_equal(p[i], 7);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alloc_keep_limit),
        cmocka_unit_test(addr_keys),
        cmocka_unit_test(ws_round_trip),
        cmocka_unit_test(ws_binary_refused),
        cmocka_unit_test(ws_unmasked_frame_closes),
        cmocka_unit_test(ws_control_frames),
        cmocka_unit_test(ws_handshake_deadline),
        cmocka_unit_test(ws_oversize_closes),
        cmocka_unit_test(max_conns_enforced),
        cmocka_unit_test(max_conns_per_addr_enforced),
        cmocka_unit_test(out_total_enforced),
        cmocka_unit_test(in_total_enforced),
        cmocka_unit_test(msg_deadline_enforced),
        cmocka_unit_test(jtp_frame_deadline),
        cmocka_unit_test(over_rate_flagged),
        cmocka_unit_test(slow_consumer_dropped),
        cmocka_unit_test(timer_and_post),
        cmocka_unit_test(stop_from_signal_handler),
        cmocka_unit_test(config_errors),
        cmocka_unit_test(ipv6_loopback),
        cmocka_unit_test(jtp_round_trip),
        cmocka_unit_test(jtp_allow_list),
        cmocka_unit_test(jtp_plaintext),
        cmocka_unit_test(jtp_oversize_closes),
        cmocka_unit_test(jtp_slow_consumer_dropped),
        cmocka_unit_test(jtp_pipelined),
        cmocka_unit_test(after_runs_once_in_time),
        cmocka_unit_test(after_waits_without_spinning),
        cmocka_unit_test(log_file_whole),
        cmocka_unit_test(jtp_concurrent_clients),
        cmocka_unit_test(ws_reader_throttled),
        cmocka_unit_test(jtp_reader_throttled),
    };
    /* JN_NET_TESTS=jtp_* runs a subset (cmocka's glob). */
    const char *filter = getenv("JN_NET_TESTS");
    if (filter)
        cmocka_set_test_filter(filter);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
