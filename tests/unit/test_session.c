/* test_session.c — jt_session against a real jt-node ($JT_BUILD/bin/jt-node,
 * default build/test), started per test on loopback with a scratch data
 * directory, driven on a libwebsockets context the test owns (beside a
 * protocol of its own, as a daemon's loop would have).
 *
 * The node is stopped (SIGSTOP) to hold requests in flight and killed
 * (SIGKILL) to break connections; it is restarted on the same ports to see
 * the sessions come back and renew their subscriptions. */
#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jt/jt.h"
#include "testutil.h"

/* ------------------------------------------------------------ the node */

typedef struct node {
    char dir[128];
    char bin[512];
    pid_t pid;
    int ws_port, jtp_port;
    char key_hex[65];
} node;

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

/* Runs argv with stdout and stderr to `out_path`; waits when `wait`. */
static pid_t spawn(char *const argv[], const char *out_path, bool wait)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd < 0)
            _exit(127);
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
        execv(argv[0], argv);
        _exit(127);
    }
    if (wait) {
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    return pid;
}

static void node_init(node *n)
{
    memset(n, 0, sizeof *n);
    const char *build = getenv("JT_BUILD");
    snprintf(n->bin, sizeof n->bin, "%s/bin/jt-node", build ? build : "build/test");
    assert_true(access(n->bin, X_OK) == 0);
    snprintf(n->dir, sizeof n->dir, "/tmp/jt-session-test-XXXXXX");
    assert_non_null(mkdtemp(n->dir));
    char data[160], out[192];
    snprintf(data, sizeof data, "%s/data", n->dir);
    snprintf(out, sizeof out, "%s/init.json", n->dir);
    char *argv[] = {n->bin, "init", "--data", data, "--json", NULL};
    spawn(argv, out, true);
    char *text = tu_read_file(out, NULL);
    assert_non_null(text);
    const char *k = strstr(text, "\"node_public_key_hex\":\"");
    assert_non_null(k);
    memcpy(n->key_hex, k + 23, 64);
    n->key_hex[64] = '\0';
    free(text);
}

/* Starts the node (ports 0 the first time, then the same ports) and waits
 * for its start line. */
static void node_start(node *n)
{
    char data[160], log[192], ws[32], jtp[32];
    snprintf(data, sizeof data, "%s/data", n->dir);
    snprintf(log, sizeof log, "%s/node.log", n->dir);
    snprintf(ws, sizeof ws, "127.0.0.1:%d", n->ws_port);
    snprintf(jtp, sizeof jtp, "127.0.0.1:%d", n->jtp_port);
    unlink(log);
    char *argv[] = {n->bin,  "run", "--data",     data, "--ws", ws,
                    "--jtp", jtp,   "--close-ms", "0",  NULL};
    n->pid = spawn(argv, log, false);
    int64_t end = ms_now() + 20000;
    for (;;) {
        char *text = tu_read_file(log, NULL);
        const char *line = text ? strstr(text, "event=start ") : NULL;
        if (line && strchr(line, '\n')) {
            const char *w = strstr(line, " ws=");
            const char *j = strstr(line, " jtp=");
            assert_non_null(w);
            assert_non_null(j);
            int wp = (int)strtol(strchr(w + 4, ':') + 1, NULL, 10);
            int jp = (int)strtol(strchr(j + 5, ':') + 1, NULL, 10);
            free(text);
            if (n->ws_port)
                assert_int_equal(wp, n->ws_port);
            if (n->jtp_port)
                assert_int_equal(jp, n->jtp_port);
            n->ws_port = wp;
            n->jtp_port = jp;
            return;
        }
        free(text);
        int st;
        if (waitpid(n->pid, &st, WNOHANG) == n->pid) {
            n->pid = 0;
            fail_msg("jt-node exited before it started (see %s)", log);
        }
        if (ms_now() > end)
            fail_msg("jt-node did not start within 20 s (see %s)", log);
        sleep_ms(20);
    }
}

static void node_signal(node *n, int sig)
{
    assert_true(n->pid > 0);
    kill(n->pid, sig);
}

static void node_kill(node *n)
{
    if (n->pid <= 0)
        return;
    kill(n->pid, SIGKILL);
    waitpid(n->pid, NULL, 0);
    n->pid = 0;
}

static void node_cleanup(node *n)
{
    node_kill(n);
    tu_rm_rf(n->dir);
}

static void ws_url(const node *n, char *out, size_t cap)
{
    snprintf(out, cap, "ws://127.0.0.1:%d", n->ws_port);
}

static void jtp_url(const node *n, char *out, size_t cap)
{
    snprintf(out, cap, "jtp://127.0.0.1:%d?key=%s", n->jtp_port, n->key_hex);
}

/* ------------------------------------------------------------ the loop */

static int other_protocol(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                          size_t len)
{
    return 0;
}

typedef struct loop {
    struct lws_context *ctx;
    struct lws_protocols protos[3];
    lws_sorted_usec_list_t tick;
} loop;

/* Keeps lws_service returning often, so the test can check its conditions. */
static void tick_cb(lws_sorted_usec_list_t *sul)
{
    loop *l = lws_container_of(sul, loop, tick);
    lws_sul_schedule(l->ctx, 0, &l->tick, tick_cb, 10 * LWS_US_PER_MS);
}

static void loop_init(loop *l, bool with_session_protocol)
{
    memset(l, 0, sizeof *l);
    l->protos[0].name = "test-other"; /* first: lws' default for unnamed bindings */
    l->protos[0].callback = other_protocol;
    if (with_session_protocol)
        l->protos[1] = *jt_session_lws_protocol();
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = l->protos;
    info.gid = -1;
    info.uid = -1;
    l->ctx = lws_create_context(&info);
    assert_non_null(l->ctx);
    lws_sul_schedule(l->ctx, 0, &l->tick, tick_cb, 10 * LWS_US_PER_MS);
}

static void loop_free(loop *l)
{
    lws_sul_cancel(&l->tick);
    lws_context_destroy(l->ctx);
}

/* Runs the loop until *flag is true (or for `ms` when flag is NULL). */
static bool run_until(loop *l, const bool *flag, int ms)
{
    int64_t end = ms_now() + ms;
    while ((!flag || !*flag) && ms_now() < end)
        lws_service(l->ctx, 0);
    return flag ? *flag : true;
}

static bool run_until_count(loop *l, const int *count, int want, int ms);

static void end_wait(loop *l, const int *count, int want, int ms)
{
    (void)run_until_count(l, count, want, ms);
}

static bool run_until_count(loop *l, const int *count, int want, int ms)
{
    int64_t end = ms_now() + ms;
    while (*count < want && ms_now() < end)
        lws_service(l->ctx, 0);
    return *count >= want;
}

/* ------------------------------------------------------------ recorders */

typedef struct reply {
    bool done;
    int calls;
    jt_err err;
    bool sent, unknown;
    char field[48];
    char msg[256];
    char *text;
} reply;

static void on_reply(void *ctx, const jt_session_reply *r)
{
    reply *p = ctx;
    p->calls++;
    p->done = true;
    p->err = r->err;
    p->sent = r->sent;
    p->unknown = jt_session_outcome_unknown(r);
    snprintf(p->field, sizeof p->field, "%s", r->ei->field);
    snprintf(p->msg, sizeof p->msg, "%s", r->ei->msg);
    free(p->text);
    p->text = r->text ? strdup(r->text) : NULL;
    /* What the header promises about the response. */
    if (r->err == JT_OK || r->err == JT_ERPC) {
        assert_non_null(r->text);
        assert_non_null(r->msg);
        assert_int_equal(strlen(r->text), r->len);
    } else {
        assert_null(r->text);
    }
}

static void reply_clear(reply *p)
{
    free(p->text);
    memset(p, 0, sizeof *p);
}

typedef struct pushes {
    int ledger_closed;
    int other;
    long last_index;
    jt_session *s;        /* set: the session's push serial is kept */
    uint64_t last_serial; /* during the last push */
} pushes;

static void on_push(void *ctx, const jt_json *msg, const char *text, size_t len)
{
    pushes *p = ctx;
    const char *type = jt_json_string(jt_json_get(msg, "type"));
    assert_non_null(type);
    assert_int_equal(strlen(text), len);
    if (p->s)
        p->last_serial = jt_session_push_serial(p->s);
    if (strcmp(type, "ledgerClosed") == 0) {
        p->ledger_closed++;
        uint64_t idx = 0;
        assert_true(jt_json_uint64(jt_json_get(msg, "ledger_index"), true, &idx));
        p->last_index = (long)idx;
    } else {
        p->other++;
    }
}

typedef struct states {
    int connecting, connected, disconnected, failed;
    jt_err last_err;
    char last_msg[256];
    int last_retry;
} states;

static void on_state(void *ctx, jt_session_state st, const jt_errinfo *why, int retry_ms)
{
    states *p = ctx;
    switch (st) {
    case JT_SESSION_CONNECTING: p->connecting++; break;
    case JT_SESSION_CONNECTED: p->connected++; break;
    case JT_SESSION_DISCONNECTED: p->disconnected++; break;
    case JT_SESSION_FAILED: p->failed++; break;
    }
    if (st == JT_SESSION_CONNECTING || st == JT_SESSION_CONNECTED) {
        assert_int_equal(why->code, JT_OK);
        assert_int_equal(retry_ms, 0);
    } else {
        assert_int_not_equal(why->code, JT_OK);
    }
    p->last_err = why->code;
    snprintf(p->last_msg, sizeof p->last_msg, "%s", why->msg);
    p->last_retry = retry_ms;
}

static jt_session *open_session(loop *l, const char *url, jt_session_options *o)
{
    jt_session *s = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_err e = jt_session_new(l->ctx, url, o, &s, &ei);
    if (e)
        fail_msg("jt_session_new(%s): %s", url, ei.msg);
    return s;
}

static void request(jt_session *s, const char *json, int timeout_ms, reply *r)
{
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_err e = jt_session_request(s, json, timeout_ms, on_reply, r, NULL, &ei);
    if (e)
        fail_msg("jt_session_request(%s): %s", json, ei.msg);
}

/* One request, run to its answer. */
static void call(loop *l, jt_session *s, const char *json, reply *r)
{
    reply_clear(r);
    request(s, json, 10000, r);
    assert_true(run_until(l, &r->done, 15000));
    assert_int_equal(r->calls, 1);
}

/* ------------------------------------------------------------ tests */

/* A ping carrying `pad` bytes of padding (the node ignores the member):
 * a request as large as asked. Freed by the caller. */
static char *padded_ping(size_t pad)
{
    static const char head[] = "{\"command\":\"ping\",\"pad\":\"";
    char *m = malloc(sizeof head - 1 + pad + 3);
    assert_non_null(m);
    memcpy(m, head, sizeof head - 1);
    memset(m + sizeof head - 1, 'x', pad);
    strcpy(m + sizeof head - 1 + pad, "\"}");
    return m;
}

static void check_calls(loop *l, jt_session *s)
{
    reply r = {0};
    call(l, s, "{\"command\":\"server_info\"}", &r);
    assert_int_equal(r.err, JT_OK);
    assert_true(r.sent);
    assert_false(r.unknown);
    assert_non_null(strstr(r.text, "\"result\""));

    /* A node-side refusal: JT_ERPC, known outcome. */
    call(l, s,
         "{\"command\":\"account_info\",\"account\":\"jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh\","
         "\"ledger_index\":\"validated\",\"id\":\"ignored\"}",
         &r);
    assert_int_equal(r.err, JT_OK);
    assert_non_null(strstr(r.text, "\"account_data\""));
    call(l, s, "{\"command\":\"no_such_command\"}", &r);
    assert_int_equal(r.err, JT_ERPC);
    assert_true(r.sent);
    assert_false(r.unknown);
    assert_string_equal(r.field, "unknownCmd");
    assert_non_null(strstr(r.msg, "unknownCmd"));

    /* Several in flight, answered by id. */
    reply many[8];
    memset(many, 0, sizeof many);
    for (int i = 0; i < 8; i++)
        request(s, i % 2 ? "{\"command\":\"ping\"}" : "{\"command\":\"server_info\"}", 10000,
                &many[i]);
    for (int i = 0; i < 8; i++) {
        assert_true(run_until(l, &many[i].done, 15000));
        assert_int_equal(many[i].err, JT_OK);
        assert_int_equal(many[i].calls, 1);
        if (i % 2 == 0)
            assert_non_null(strstr(many[i].text, "\"info\""));
        reply_clear(&many[i]);
    }

    /* A burst queued at once goes out together (several requests a turn
     * over WebSocket), large ones among them (more than the socket takes
     * in one write, so lws holds the rest of a frame and the session must
     * wait for it): every request answered once, by id. */
    enum { BURST = 300 };
    reply *burst = calloc(BURST, sizeof *burst);
    assert_non_null(burst);
    char *big = padded_ping(900 << 10);
    for (int i = 0; i < BURST; i++)
        request(s,
                i % 100 == 50 ? big
                : i % 2       ? "{\"command\":\"ping\"}"
                              : "{\"command\":\"server_info\"}",
                20000, &burst[i]);
    for (int i = 0; i < BURST; i++) {
        assert_true(run_until(l, &burst[i].done, 30000));
        assert_int_equal(burst[i].err, JT_OK);
        assert_int_equal(burst[i].calls, 1);
        if (i % 2 == 0 && i % 100 != 50)
            assert_non_null(strstr(burst[i].text, "\"info\""));
        reply_clear(&burst[i]);
    }
    free(big);
    free(burst);
    assert_int_equal(jt_session_pending(s), 0);

    /* Refused at once: the callback never runs. */
    jt_errinfo ei;
    assert_int_equal(jt_session_request(s, "{\"no\":\"command\"}", 0, on_reply, &r, NULL, &ei),
                     JT_EINVAL);
    assert_int_equal(jt_session_request(s, "[1]", 0, on_reply, &r, NULL, &ei), JT_EINVAL);
    assert_int_not_equal(jt_session_request(s, "{", 0, on_reply, &r, NULL, &ei), JT_OK);
    reply_clear(&r);
}

static void ws_requests(void **state)
{
    node n;
    node_init(&n);
    node_start(&n);
    loop l;
    loop_init(&l, true);
    states st = {0};
    jt_session_options o;
    jt_session_options_init(&o);
    o.on_state = on_state;
    o.state_ctx = &st;
    char url[128];
    ws_url(&n, url, sizeof url);
    jt_session *s = open_session(&l, url, &o);
    assert_string_equal(jt_session_transport(s), "ws");
    assert_string_equal(jt_session_url(s), url);
    /* Nothing happens before the loop runs. */
    assert_int_equal(st.connecting, 0);
    check_calls(&l, s);
    assert_int_equal(st.connecting, 1);
    assert_int_equal(st.connected, 1);
    assert_int_equal(st.disconnected, 0);
    assert_int_equal(jt_session_get_state(s), JT_SESSION_CONNECTED);
    assert_int_equal(jt_session_connection_count(s), 1);
    assert_int_equal(jt_session_pending(s), 0);

    /* A node that stops reading: the socket fills in the middle of a
     * writeable turn, libwebsockets keeps the rest of a frame, and the
     * session must wait for it to drain before the next frame (writing on
     * would read as a failed write and drop the connection). Once the node
     * reads again, every request is answered on the same connection. */
    enum { STALL = 40 };
    reply *stall = calloc(STALL, sizeof *stall);
    assert_non_null(stall);
    char *mid = padded_ping(200 << 10);
    node_signal(&n, SIGSTOP);
    for (int i = 0; i < STALL; i++)
        request(s, mid, 30000, &stall[i]);
    (void)run_until(&l, NULL, 1500);
    node_signal(&n, SIGCONT);
    for (int i = 0; i < STALL; i++) {
        assert_true(run_until(&l, &stall[i].done, 30000));
        assert_int_equal(stall[i].err, JT_OK);
        assert_int_equal(stall[i].calls, 1);
        reply_clear(&stall[i]);
    }
    free(mid);
    free(stall);
    assert_int_equal(st.disconnected, 0);
    assert_int_equal(jt_session_connection_count(s), 1);
    jt_session_free(s);
    loop_free(&l);
    node_cleanup(&n);
}

static void jtp_requests(void **state)
{
    node n;
    node_init(&n);
    node_start(&n);
    loop l;
    loop_init(&l, true);
    char url[256];
    jtp_url(&n, url, sizeof url);
    jt_jtp_identity *id = NULL;
    assert_int_equal(jt_jtp_identity_generate(&id), JT_OK);
    jt_session_options o;
    jt_session_options_init(&o);
    o.identity = id;
    jt_session *s = open_session(&l, url, &o);
    jt_jtp_identity_free(id); /* copied */
    assert_string_equal(jt_session_transport(s), "jtp");
    check_calls(&l, s);
    assert_int_equal(jt_session_connection_count(s), 1);

    /* The same node over WebSocket, on the same loop. */
    char wurl[128];
    ws_url(&n, wurl, sizeof wurl);
    jt_session *w = open_session(&l, wurl, NULL);
    check_calls(&l, w);
    jt_session_free(w);
    jt_session_free(s);
    loop_free(&l);
    node_cleanup(&n);
}

static void jtp_wrong_key(void **state)
{
    node n;
    node_init(&n);
    node_start(&n);
    loop l;
    loop_init(&l, true);
    uint8_t pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    char hex[JT_JTP_KEY_HEX_MAX], url[256];
    jt_jtp_key_to_hex(pk, hex);
    snprintf(url, sizeof url, "jtp://127.0.0.1:%d?key=%s", n.jtp_port, hex);
    states st = {0};
    jt_session_options o;
    jt_session_options_init(&o);
    o.on_state = on_state;
    o.state_ctx = &st;
    o.backoff_min_ms = 10;
    jt_session *s = open_session(&l, url, &o);
    reply r = {0};
    request(s, "{\"command\":\"server_info\"}", 10000, &r);
    assert_true(run_until(&l, &r.done, 10000));
    /* Never sent: known not done, and the handshake's own error. */
    assert_int_equal(r.err, JT_EJTP_AUTH);
    assert_false(r.sent);
    assert_false(r.unknown);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.last_err, JT_EJTP_AUTH);
    assert_int_equal(st.connected, 0);
    assert_int_equal(jt_session_get_state(s), JT_SESSION_FAILED);
    /* No more attempts, and new requests are refused. */
    run_until(&l, NULL, 300);
    assert_int_equal(st.connecting, 1);
    jt_errinfo ei;
    assert_int_equal(jt_session_request(s, "{\"command\":\"ping\"}", 0, on_reply, &r, NULL, &ei),
                     JT_EJTP_AUTH);
    jt_session_free(s);
    reply_clear(&r);
    loop_free(&l);
    node_cleanup(&n);
}

typedef struct self_unsub {
    jt_session *s;
    jt_session_sub *sub;
    int pushes;
} self_unsub;

static void unsub_in_push(void *ctx, const jt_json *msg, const char *text, size_t len)
{
    self_unsub *u = ctx;
    u->pushes++;
    assert_false(jt_session_unsubscribe(u->s, u->sub, NULL, NULL)); /* pj still wants it */
    u->sub = NULL;
}

static void subscriptions(void **state)
{
    node n;
    node_init(&n);
    node_start(&n);
    loop l;
    loop_init(&l, true);
    char wurl[128], jurl[256];
    ws_url(&n, wurl, sizeof wurl);
    jtp_url(&n, jurl, sizeof jurl);
    jt_session *w = open_session(&l, wurl, NULL);
    jt_session *j = open_session(&l, jurl, NULL);

    /* Subscribed before connecting: sent with the first connection. */
    pushes pw = {0}, pj = {0}, ptx = {0};
    reply dw = {0}, dj = {0};
    jt_session_sub *sw = NULL, *sj = NULL, *stx = NULL;
    jt_errinfo ei;
    assert_int_equal(jt_session_subscribe(w, "{\"streams\":[\"ledger\"]}", on_push, &pw, on_reply,
                                          &dw, &sw, &ei),
                     JT_OK);
    assert_int_equal(jt_session_subscribe(j, "{\"streams\":[\"ledger\"]}", on_push, &pj, on_reply,
                                          &dj, &sj, &ei),
                     JT_OK);
    /* A transactions subscription gets no ledgerClosed. */
    assert_int_equal(jt_session_subscribe(w, "{\"streams\":[\"transactions\"]}", on_push, &ptx,
                                          NULL, NULL, &stx, &ei),
                     JT_OK);
    assert_true(run_until(&l, &dw.done, 10000));
    assert_true(run_until(&l, &dj.done, 10000));
    assert_int_equal(dw.err, JT_OK);
    assert_int_equal(dj.err, JT_OK);
    assert_true(jt_session_sub_active(sw));

    reply r = {0};
    call(&l, w, "{\"command\":\"ledger_accept\"}", &r);
    assert_int_equal(r.err, JT_OK);
    assert_true(run_until_count(&l, &pw.ledger_closed, 1, 10000));
    assert_true(run_until_count(&l, &pj.ledger_closed, 1, 10000));
    assert_int_equal(pw.last_index, 2);
    assert_int_equal(pj.last_index, 2);
    assert_int_equal(ptx.ledger_closed, 0);

    /* Two subscriptions to one stream: each message once to each, under
     * one serial; the next message, the next serial. */
    pushes pw2 = {.s = w};
    pw.s = w;
    jt_session_sub *sw2 = NULL;
    reply dw2 = {0};
    assert_int_equal(jt_session_subscribe(w, "{\"streams\":[\"ledger\"]}", on_push, &pw2,
                                          on_reply, &dw2, &sw2, &ei),
                     JT_OK);
    assert_true(run_until(&l, &dw2.done, 10000));
    call(&l, w, "{\"command\":\"ledger_accept\"}", &r);
    assert_true(run_until_count(&l, &pw.ledger_closed, 2, 10000));
    assert_true(run_until_count(&l, &pw2.ledger_closed, 1, 10000));
    assert_true(pw.last_serial > 0);
    assert_int_equal(pw2.last_serial, pw.last_serial);
    uint64_t serial = pw.last_serial;
    call(&l, w, "{\"command\":\"ledger_accept\"}", &r);
    assert_true(run_until_count(&l, &pw.ledger_closed, 3, 10000));
    assert_true(run_until_count(&l, &pw2.ledger_closed, 2, 10000));
    assert_int_equal(pw.last_serial, serial + 1);
    assert_int_equal(pw2.last_serial, serial + 1);
    (void)jt_session_unsubscribe(w, sw2, NULL, NULL); /* sw still wants it: nothing sent */
    reply_clear(&dw2);
    pw.s = NULL;

    /* A refused subscription goes inactive. */
    reply bad = {0};
    jt_session_sub *sbad = NULL;
    assert_int_equal(jt_session_subscribe(w, "{\"streams\":[\"no_such_stream\"]}", on_push, &pw,
                                          on_reply, &bad, &sbad, &ei),
                     JT_OK);
    assert_true(run_until(&l, &bad.done, 10000));
    assert_int_equal(bad.err, JT_ERPC);
    assert_false(bad.unknown);
    assert_false(jt_session_sub_active(sbad));
    assert_false(jt_session_unsubscribe(w, sbad, NULL, NULL));

    /* A subscription that unsubscribes from its own push callback, beside
     * another that keeps receiving. */
    self_unsub su = {.s = j};
    assert_int_equal(jt_session_subscribe(j, "{\"streams\":[\"ledger\"]}", unsub_in_push, &su, NULL,
                                          NULL, &su.sub, &ei),
                     JT_OK);
    run_until(&l, NULL, 200);
    call(&l, w, "{\"command\":\"ledger_accept\"}", &r);
    assert_true(run_until_count(&l, &pj.ledger_closed, 4, 10000));
    assert_int_equal(su.pushes, 1);
    call(&l, w, "{\"command\":\"ledger_accept\"}", &r);
    assert_true(run_until_count(&l, &pj.ledger_closed, 5, 10000));
    run_until(&l, NULL, 100);
    assert_int_equal(su.pushes, 1);

    /* Unsubscribed: no more pushes. */
    reply ur = {0};
    assert_true(jt_session_unsubscribe(j, sj, on_reply, &ur));
    assert_true(run_until(&l, &ur.done, 10000));
    assert_int_equal(ur.err, JT_OK);
    reply_clear(&ur);
    call(&l, w, "{\"command\":\"ledger_accept\"}", &r);
    assert_true(run_until_count(&l, &pw.ledger_closed, 6, 10000));
    run_until(&l, NULL, 200);
    assert_int_equal(pj.ledger_closed, 5);
    assert_int_equal(pw.last_index, 7);
    assert_int_equal(pw.ledger_closed, 6);

    assert_true(jt_session_unsubscribe(w, sw, NULL, NULL));
    jt_session_free(w); /* stx still registered: freed with the session */
    jt_session_free(j);
    reply_clear(&r);
    reply_clear(&dw);
    reply_clear(&dj);
    reply_clear(&bad);
    loop_free(&l);
    node_cleanup(&n);
}

/* The node dies with requests in flight, then comes back on its ports. */
static void restart(void **state)
{
    node n;
    node_init(&n);
    node_start(&n);
    loop l;
    loop_init(&l, true);
    char wurl[128], jurl[256];
    ws_url(&n, wurl, sizeof wurl);
    jtp_url(&n, jurl, sizeof jurl);
    states sw = {0}, sj = {0};
    jt_session_options o;
    jt_session_options_init(&o);
    o.backoff_min_ms = 50;
    o.backoff_max_ms = 200;
    o.on_state = on_state;
    o.state_ctx = &sw;
    jt_session *w = open_session(&l, wurl, &o);
    o.state_ctx = &sj;
    jt_session *j = open_session(&l, jurl, &o);
    pushes pw = {0}, pj = {0};
    reply dw = {0}, dj = {0};
    jt_errinfo ei;
    assert_int_equal(jt_session_subscribe(w, "{\"streams\":[\"ledger\"]}", on_push, &pw, on_reply,
                                          &dw, NULL, &ei),
                     JT_OK);
    assert_int_equal(jt_session_subscribe(j, "{\"streams\":[\"ledger\"]}", on_push, &pj, on_reply,
                                          &dj, NULL, &ei),
                     JT_OK);
    assert_true(run_until(&l, &dw.done, 10000));
    assert_true(run_until(&l, &dj.done, 10000));
    assert_int_equal(dw.calls, 1);

    /* Requests written to a node that does not answer (stopped), then the
     * node is killed: outcome unknown, distinct from a refusal. */
    node_signal(&n, SIGSTOP);
    reply rw = {0}, rj = {0};
    request(w, "{\"command\":\"server_info\"}", 20000, &rw);
    request(j, "{\"command\":\"server_info\"}", 20000, &rj);
    run_until(&l, NULL, 300);
    assert_false(rw.done);
    assert_false(rj.done);
    node_kill(&n);
    assert_true(run_until(&l, &rw.done, 10000));
    assert_true(run_until(&l, &rj.done, 10000));
    assert_int_equal(rw.err, JT_ELOST);
    assert_int_equal(rj.err, JT_ELOST);
    assert_true(rw.sent && rw.unknown);
    assert_true(rj.sent && rj.unknown);
    assert_non_null(strstr(rw.msg, "may or may not"));
    assert_true(sw.disconnected >= 1);
    assert_true(sj.disconnected >= 1);
    assert_int_equal(sw.connected, 1);

    /* While it is down: attempts fail and are retried; a request waits. */
    run_until(&l, NULL, 500);
    assert_true(sw.connecting >= 3);
    assert_int_equal(sw.last_err, JT_ECONNECT);
    assert_true(sw.last_retry >= 1 && sw.last_retry <= 200);
    reply later = {0};
    request(w, "{\"command\":\"ping\"}", 20000, &later);

    /* Back on the same ports: reconnection, renewal, pushes again. */
    node_start(&n);
    assert_true(run_until(&l, &later.done, 15000));
    assert_int_equal(later.err, JT_OK);
    assert_true(run_until_count(&l, &dw.calls, 2, 10000));
    assert_true(run_until_count(&l, &dj.calls, 2, 10000));
    assert_int_equal(dw.err, JT_OK);
    assert_int_equal(dj.err, JT_OK);
    assert_int_equal(sw.connected, 2);
    assert_int_equal(sj.connected, 2);
    assert_int_equal(jt_session_connection_count(w), 2);
    assert_int_equal(jt_session_connection_count(j), 2);

    reply r = {0};
    call(&l, w, "{\"command\":\"ledger_accept\"}", &r);
    assert_int_equal(r.err, JT_OK);
    assert_true(run_until_count(&l, &pw.ledger_closed, 1, 10000));
    assert_true(run_until_count(&l, &pj.ledger_closed, 1, 10000));

    jt_session_free(w);
    jt_session_free(j);
    reply_clear(&r);
    reply_clear(&rw);
    reply_clear(&rj);
    reply_clear(&later);
    reply_clear(&dw);
    reply_clear(&dj);
    loop_free(&l);
    node_cleanup(&n);
}

/* jt_session_retry_now: a session sitting out a long backoff connects at
 * once when its owner says the node is back; a connected one is left alone. */
static void retry_now(void **state)
{
    (void)state;
    node n;
    node_init(&n);
    node_start(&n);
    loop l;
    loop_init(&l, true);
    char wurl[128];
    ws_url(&n, wurl, sizeof wurl);
    states sw = {0};
    jt_session_options o;
    jt_session_options_init(&o);
    o.backoff_min_ms = 30000;
    o.backoff_max_ms = 30000;
    o.backoff_jitter_pct = 0;
    o.on_state = on_state;
    o.state_ctx = &sw;
    jt_session *w = open_session(&l, wurl, &o);
    assert_true(run_until_count(&l, &sw.connected, 1, 10000));
    jt_session_retry_now(w); /* connected: nothing happens */
    jt_session_retry_now(NULL);
    run_until(&l, NULL, 200);
    assert_int_equal(sw.connected, 1);
    assert_int_equal(sw.disconnected, 0);

    node_kill(&n);
    assert_true(run_until_count(&l, &sw.disconnected, 1, 10000));
    assert_true(sw.last_retry >= 29000);
    node_start(&n);
    run_until(&l, NULL, 1000);
    assert_int_equal(sw.connected, 1); /* still waiting out the 30 s */
    jt_session_retry_now(w);
    assert_true(run_until_count(&l, &sw.connected, 2, 5000));
    reply r = {0};
    call(&l, w, "{\"command\":\"ping\"}", &r);
    assert_int_equal(r.err, JT_OK);

    jt_session_free(w);
    reply_clear(&r);
    loop_free(&l);
    node_cleanup(&n);
}

/* Once connected, a node that fails the pinned key's handshake is retried
 * (reported each time), not given up: the original comes back and is used. */
static void jtp_key_change_retried(void **state)
{
    node n, other;
    node_init(&n);
    node_init(&other);
    node_start(&n);
    loop l;
    loop_init(&l, true);
    char url[256];
    jtp_url(&n, url, sizeof url);
    states st = {0};
    jt_session_options o;
    jt_session_options_init(&o);
    o.backoff_min_ms = 20;
    o.backoff_max_ms = 100;
    o.on_state = on_state;
    o.state_ctx = &st;
    jt_session *s = open_session(&l, url, &o);
    reply r = {0};
    call(&l, s, "{\"command\":\"ping\"}", &r);
    assert_int_equal(r.err, JT_OK);
    node_kill(&n);

    /* Another node (another key) on the same port. */
    other.ws_port = n.ws_port;
    other.jtp_port = n.jtp_port;
    node_start(&other);
    int64_t end = ms_now() + 10000;
    while (st.last_err != JT_EJTP_AUTH && ms_now() < end)
        lws_service(l.ctx, 0);
    assert_int_equal(st.last_err, JT_EJTP_AUTH);
    assert_int_equal(st.failed, 0);
    assert_int_equal(jt_session_get_state(s), JT_SESSION_DISCONNECTED);
    assert_int_equal(st.connected, 1);
    node_kill(&other);

    node_start(&n);
    call(&l, s, "{\"command\":\"ping\"}", &r);
    assert_int_equal(r.err, JT_OK);
    assert_int_equal(st.connected, 2);
    jt_session_free(s);
    reply_clear(&r);
    loop_free(&l);
    node_cleanup(&other);
    node_cleanup(&n);
}

static void timeouts(void **state)
{
    node n;
    node_init(&n);
    node_start(&n);
    loop l;
    loop_init(&l, true);
    char url[128];
    ws_url(&n, url, sizeof url);
    jt_session *s = open_session(&l, url, NULL);
    reply r = {0};
    call(&l, s, "{\"command\":\"ping\"}", &r);
    assert_int_equal(r.err, JT_OK);

    /* Sent, no answer in time: timed out, outcome unknown. */
    node_signal(&n, SIGSTOP);
    reply_clear(&r);
    int64_t t0 = ms_now();
    request(s, "{\"command\":\"server_info\"}", 300, &r);
    assert_true(run_until(&l, &r.done, 5000));
    int64_t took = ms_now() - t0;
    assert_int_equal(r.err, JT_ETIMEDOUT);
    assert_true(r.sent && r.unknown);
    assert_true(took >= 280 && took < 2000);
    /* A node that accepts TCP but never answers the handshake: each
     * attempt ends at connect_timeout_ms. */
    char jurl[256];
    jtp_url(&n, jurl, sizeof jurl);
    const char *urls[] = {url, jurl};
    for (int i = 0; i < 2; i++) {
        states cs = {0};
        jt_session_options co;
        jt_session_options_init(&co);
        co.connect_timeout_ms = 300;
        co.backoff_min_ms = 5000;
        co.on_state = on_state;
        co.state_ctx = &cs;
        jt_session *c = open_session(&l, urls[i], &co);
        t0 = ms_now();
        end_wait(&l, &cs.disconnected, 1, 5000);
        took = ms_now() - t0;
        assert_int_equal(cs.disconnected, 1);
        assert_int_equal(cs.last_err, JT_ECONNECT);
        assert_non_null(strstr(cs.last_msg, "timed out"));
        assert_true(took >= 250 && took < 3000);
        jt_session_free(c);
    }
    node_signal(&n, SIGCONT);
    node_kill(&n);

    /* Nowhere to connect: the request times out unsent (known not done). */
    states st = {0};
    jt_session_options o;
    jt_session_options_init(&o);
    o.backoff_min_ms = 100;
    o.backoff_jitter_pct = 50;
    o.on_state = on_state;
    o.state_ctx = &st;
    jt_session *d = open_session(&l, url, &o);
    reply u = {0};
    request(d, "{\"command\":\"ping\"}", 300, &u);
    assert_true(run_until(&l, &u.done, 5000));
    assert_int_equal(u.err, JT_ETIMEDOUT);
    assert_false(u.sent);
    assert_false(u.unknown);
    assert_true(st.disconnected >= 1);
    assert_int_equal(st.connected, 0);
    /* The first delay is backoff_min_ms less up to half of it. */
    assert_true(st.disconnected >= 2 || (st.last_retry >= 50 && st.last_retry <= 100));

    jt_session_free(d);
    jt_session_free(s);
    reply_clear(&r);
    reply_clear(&u);
    loop_free(&l);
    node_cleanup(&n);
}

/* Freeing: pending requests are canceled; freeing from a callback is safe. */
typedef struct freer {
    jt_session *s;
    reply *others;
    int n;
} freer;

static void free_in_reply(void *ctx, const jt_session_reply *r)
{
    freer *f = ctx;
    assert_int_equal(r->err, JT_OK);
    jt_session_free(f->s);
    /* Everything else completed inside the free. */
    for (int i = 0; i < f->n; i++)
        assert_true(f->others[i].done);
    f->s = NULL;
}

static void free_in_push(void *ctx, const jt_json *msg, const char *text, size_t len)
{
    freer *f = ctx;
    if (f->s) {
        jt_session_free(f->s);
        f->s = NULL;
    }
}

static void freeing(void **state)
{
    node n;
    node_init(&n);
    node_start(&n);
    loop l;
    loop_init(&l, true);
    char url[128];
    ws_url(&n, url, sizeof url);

    /* Freed before it ever ran: the request is canceled, never sent. */
    jt_session *s = open_session(&l, url, NULL);
    reply r = {0};
    request(s, "{\"command\":\"ping\"}", 0, &r);
    jt_session_free(s);
    assert_true(r.done);
    assert_int_equal(r.err, JT_ECANCELED);
    assert_false(r.sent);
    reply_clear(&r);

    /* Freed from a reply callback with others in flight. */
    s = open_session(&l, url, NULL);
    reply others[3];
    memset(others, 0, sizeof others);
    freer f = {.s = s, .others = others, .n = 3};
    jt_errinfo ei;
    assert_int_equal(
        jt_session_request(s, "{\"command\":\"ping\"}", 0, free_in_reply, &f, NULL, &ei), JT_OK);
    node_signal(&n, SIGSTOP);
    for (int i = 0; i < 3; i++)
        request(s, "{\"command\":\"server_info\"}", 0, &others[i]);
    node_signal(&n, SIGCONT);
    int64_t end = ms_now() + 10000;
    while (f.s && ms_now() < end)
        lws_service(l.ctx, 0);
    assert_null(f.s);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(others[i].calls, 1);
        assert_true(others[i].err == JT_OK || others[i].err == JT_ECANCELED);
        reply_clear(&others[i]);
    }

    /* Freed from a push. */
    s = open_session(&l, url, NULL);
    freer fp = {.s = s};
    assert_int_equal(jt_session_subscribe(s, "{\"streams\":[\"ledger\"]}", free_in_push, &fp, NULL,
                                          NULL, NULL, &ei),
                     JT_OK);
    assert_int_equal(jt_session_subscribe(s, "{\"streams\":[\"ledger\"]}", free_in_push, &fp, NULL,
                                          NULL, NULL, &ei),
                     JT_OK);
    jt_session *w = open_session(&l, url, NULL);
    call(&l, w, "{\"command\":\"ping\"}", &r);
    run_until(&l, NULL, 200);
    call(&l, w, "{\"command\":\"ledger_accept\"}", &r);
    end = ms_now() + 10000;
    while (fp.s && ms_now() < end)
        lws_service(l.ctx, 0);
    assert_null(fp.s);
    run_until(&l, NULL, 100);
    jt_session_free(w);
    reply_clear(&r);
    loop_free(&l);
    node_cleanup(&n);
}

static void bad_setup(void **state)
{
    loop l;
    jt_session *s = NULL;
    jt_errinfo ei;
    /* A context without the session protocol. */
    loop_init(&l, false);
    assert_int_equal(jt_session_new(l.ctx, "ws://127.0.0.1:5020", NULL, &s, &ei), JT_EINVAL);
    assert_non_null(strstr(ei.msg, "jt_session_lws_protocol"));
    assert_null(s);
    loop_free(&l);

    loop_init(&l, true);
    assert_int_equal(jt_session_new(l.ctx, "http://127.0.0.1:5020", NULL, &s, &ei), JT_EURL);
    assert_int_equal(jt_session_new(l.ctx, "jtp://127.0.0.1:5030", NULL, &s, &ei), JT_EURL);
    assert_int_equal(jt_session_new(l.ctx, "jtp+plain://10.1.2.3:5030", NULL, &s, &ei), JT_EURL);
    assert_null(s);
    jt_session_free(NULL);
    loop_free(&l);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_setup),     cmocka_unit_test(ws_requests),
        cmocka_unit_test(jtp_requests),  cmocka_unit_test(jtp_wrong_key),
        cmocka_unit_test(subscriptions), cmocka_unit_test(restart),
        cmocka_unit_test(retry_now),     cmocka_unit_test(jtp_key_change_retried),
        cmocka_unit_test(timeouts),      cmocka_unit_test(freeing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
