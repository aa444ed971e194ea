/* test_gw_client.c — the gateway client (jt/gateway.h) against a real
 * jt-gateway in front of a real jt-node ($JT_BUILD/bin, default build/test),
 * both started once on loopback with scratch data directories (the node
 * closing a ledger every 200 ms), and against a small fake HTTP server in
 * this process for what a real gateway never sends: malformed and oversized
 * bodies, envelopes with control characters, a connection dropped after the
 * request, no answer at all, something that is not HTTP.
 *
 * The cases run in order and share the processes: the node is killed and
 * started again on its ports (the gateway answers 503, then the payment
 * sent again with its client_id goes through), and the gateway is stopped
 * last (a transport error, not a gateway error). A second gateway with
 * `init --tls` checks HTTPS with a CA file and with a pinned certificate. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gateway_client.h"
#include "jt/jt.h"
#include "testutil.h"

#define GENESIS        "jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh"
#define GENESIS_SECRET "snoPBjXtMeMyMHUVTgbuqAfg1SUTb"
#define PASSPHRASE     "correct horse battery staple"

/* ------------------------------------------------------------ processes */

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

/* Runs argv with stdout to out_path and stderr to err_path (NULL: the same
 * file); waits (and wants exit 0) when `wait`. */
static pid_t spawn(char *const argv[], const char *out_path, const char *err_path, bool wait)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int efd = err_path ? open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0600) : fd;
        if (fd < 0 || efd < 0)
            _exit(127);
        dup2(fd, 1);
        dup2(efd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    if (wait) {
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            fail_msg("%s %s failed (see %s)", argv[0], argv[1], err_path ? err_path : out_path);
    }
    return pid;
}

static void stop_pid(pid_t *pid, int sig)
{
    if (*pid <= 0)
        return;
    kill(*pid, sig);
    waitpid(*pid, NULL, 0);
    *pid = 0;
}

/* Waits for `needle` in the file, then returns the text after it. */
static char *wait_line(const char *log, const char *needle, pid_t pid, const char *what)
{
    int64_t end = ms_now() + 30000;
    for (;;) {
        char *text = tu_read_file(log, NULL);
        const char *at = text ? strstr(text, needle) : NULL;
        if (at && strchr(at, '\n')) {
            char *rest = strdup(at + strlen(needle));
            free(text);
            return rest;
        }
        free(text);
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            fail_msg("%s exited before it started (see %s)", what, log);
        if (ms_now() > end)
            fail_msg("%s did not start within 30 s (see %s)", what, log);
        sleep_ms(20);
    }
}

static void bin_path(char *out, size_t cap, const char *name)
{
    const char *build = getenv("JT_BUILD");
    snprintf(out, cap, "%s/bin/%s", build ? build : "build/test", name);
    if (access(out, X_OK) != 0)
        fail_msg("%s is missing: build it first (make BUILD=build/test SAN=1 all)", out);
}

typedef struct node {
    char dir[160], bin[512];
    pid_t pid;
    int ws_port, jtp_port;
} node;

static void node_start(node *n)
{
    char data[200], log[200], ws[32], jtp[32];
    snprintf(data, sizeof data, "%s/data", n->dir);
    snprintf(log, sizeof log, "%s/node.log", n->dir);
    snprintf(ws, sizeof ws, "127.0.0.1:%d", n->ws_port);
    snprintf(jtp, sizeof jtp, "127.0.0.1:%d", n->jtp_port);
    unlink(log);
    char *argv[] = {n->bin,  "run", "--data",     data,  "--ws", ws,
                    "--jtp", jtp,   "--close-ms", "200", NULL};
    n->pid = spawn(argv, log, NULL, false);
    char *rest = wait_line(log, "event=start ", n->pid, "jt-node");
    const char *w = strstr(rest, " ws=");
    const char *j = strstr(rest, " jtp=");
    assert_non_null(w);
    assert_non_null(j);
    n->ws_port = (int)strtol(strchr(w + 4, ':') + 1, NULL, 10);
    n->jtp_port = (int)strtol(strchr(j + 5, ':') + 1, NULL, 10);
    free(rest);
}

typedef struct gateway {
    char dir[200], bin[512];
    pid_t pid;
    int port;
} gateway;

/* Replaces the line "key = ..." of the gateway's config (keys are unique
 * across its sections). */
static void conf_set(const gateway *gw, const char *key, const char *value)
{
    char path[256];
    snprintf(path, sizeof path, "%s/jt-gateway.conf", gw->dir);
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    size_t kl = strlen(key);
    bool done = false;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (!done && !strncmp(line, key, kl) && !strncmp(line + kl, " =", 2)) {
            fprintf(f, "%s = %s\n", key, value);
            done = true;
        } else {
            fprintf(f, "%.*s\n", (int)len, line);
        }
        line += len + (nl ? 1 : 0);
    }
    fclose(f);
    free(text);
    assert_true(done);
}

static void gw_init(gateway *gw, const char *parent, const char *name, const node *n, bool tls)
{
    memset(gw, 0, sizeof *gw);
    bin_path(gw->bin, sizeof gw->bin, "jt-gateway");
    snprintf(gw->dir, sizeof gw->dir, "%s/%s", parent, name);
    char url[64], out[256];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d", n->ws_port);
    snprintf(out, sizeof out, "%s/%s-init.log", parent, name);
    char *argv[] = {gw->bin, "init", "--data", gw->dir, "--node", url, tls ? "--tls" : NULL, NULL};
    spawn(argv, out, NULL, true);
    conf_set(gw, "address", "127.0.0.1:0");
    conf_set(gw, "kdf_cost", "min");
    /* The cases poll and run threads with one key: no 429 from its rate. */
    conf_set(gw, "key_rate", "100000");
    conf_set(gw, "key_burst", "100000");
}

/* `jt-gateway apikey create`: the key it prints, into out. */
static void gw_apikey(const gateway *gw, const char *scopes, char *out, size_t cap)
{
    char so[256], se[256];
    snprintf(so, sizeof so, "%s/apikey.out", gw->dir);
    snprintf(se, sizeof se, "%s/apikey.err", gw->dir);
    unlink(so);
    char *argv[] = {(char *)gw->bin, "apikey", "create", "--scopes",      (char *)scopes,
                    "--accounts",    "*",      "--data", (char *)gw->dir, NULL};
    spawn(argv, so, se, true);
    char *text = tu_read_file(so, NULL);
    assert_non_null(text);
    size_t n = strcspn(text, "\r\n");
    assert_true(n > 0 && n < cap);
    memcpy(out, text, n);
    out[n] = '\0';
    free(text);
}

static void gw_start(gateway *gw)
{
    char log[256], data[256];
    snprintf(log, sizeof log, "%s.log", gw->dir);
    snprintf(data, sizeof data, "%s", gw->dir);
    unlink(log);
    char *argv[] = {gw->bin, "run", "--data", data, NULL};
    gw->pid = spawn(argv, log, NULL, false);
    char *rest = wait_line(log, "event=start http=", gw->pid, "jt-gateway");
    const char *colon = strchr(rest, ' ');
    assert_non_null(colon);
    while (colon > rest && *colon != ':')
        colon--;
    gw->port = (int)strtol(colon + 1, NULL, 10);
    assert_true(gw->port > 0);
    free(rest);
}

/* ------------------------------------------------------------ shared state */

static struct {
    char dir[128];
    node n;
    gateway gw;
    char admin_key[160], read_key[160];
    char url[64];
    char dest[JT_ADDRESS_MAX], dest2[JT_ADDRESS_MAX], nobody[JT_ADDRESS_MAX];
    char pay_hash[65], pay_cid[129];
    uint32_t pay_seq;
    bool imported;
} W;

static void address_of(const char *passphrase, char *out)
{
    jt_seed seed;
    jt_keypair kp;
    jt_account_id id;
    jt_seed_from_passphrase(passphrase, JT_KEY_SECP256K1, &seed);
    assert_int_equal(jt_keypair_from_seed(&seed, &kp), JT_OK);
    assert_int_equal(jt_account_id_from_pubkey(kp.pub, sizeof kp.pub, &id), JT_OK);
    assert_int_equal(jt_address_encode(&id, out), JT_OK);
    jt_keypair_clear(&kp);
}

static jt_gw *client(const char *url, const char *key)
{
    jt_gw_options o;
    jt_gw_options_init(&o);
    o.api_key = key;
    jt_gw *g = NULL;
    jt_errinfo ei;
    jt_err e = jt_gw_new(url, &o, &g, &ei);
    if (e)
        fail_msg("jt_gw_new(%s): %s: %s", url, jt_errname(e), ei.msg);
    return g;
}

/* The outcome is `want` with ei->field `field` (NULL: not checked). */
#define expect_err(got, ei, want, fld) expect_err_at(got, &(ei), want, fld, __LINE__)
static void expect_err_at(jt_err got, const jt_errinfo *ei, jt_err want, const char *field,
                          int line)
{
    if (got != want)
        fail_msg("line %d: got %s (%s), want %s", line, jt_errname(got), ei->msg, jt_errname(want));
    if (got != JT_OK && ei->code != got)
        fail_msg("line %d: ei->code %s, returned %s", line, jt_errname(ei->code), jt_errname(got));
    if (field && strcmp(ei->field, field))
        fail_msg("line %d: field \"%s\", want \"%s\" (%s)", line, ei->field, field, ei->msg);
}

static int world_up(void **state)
{
    (void)state;
    setenv("JT_GATEWAY_PASSPHRASE", PASSPHRASE, 1);
    snprintf(W.dir, sizeof W.dir, "/tmp/jt-gw-client-test-XXXXXX");
    assert_non_null(mkdtemp(W.dir));
    node *n = &W.n;
    bin_path(n->bin, sizeof n->bin, "jt-node");
    snprintf(n->dir, sizeof n->dir, "%s/node", W.dir);
    mkdir(n->dir, 0700);
    char data[200], out[200];
    snprintf(data, sizeof data, "%s/data", n->dir);
    snprintf(out, sizeof out, "%s/init.log", n->dir);
    char *argv[] = {n->bin, "init", "--data", data, NULL};
    spawn(argv, out, NULL, true);
    node_start(n);
    gw_init(&W.gw, W.dir, "gw", n, false);
    gw_apikey(&W.gw, "admin", W.admin_key, sizeof W.admin_key);
    gw_apikey(&W.gw, "read", W.read_key, sizeof W.read_key);
    gw_start(&W.gw);
    snprintf(W.url, sizeof W.url, "http://127.0.0.1:%d", W.gw.port);
    address_of("gw-client dest", W.dest);
    address_of("gw-client dest2", W.dest2);
    address_of("gw-client nobody", W.nobody);
    return 0;
}

static int world_down(void **state)
{
    (void)state;
    stop_pid(&W.gw.pid, SIGKILL);
    stop_pid(&W.n.pid, SIGKILL);
    if (!getenv("JT_KEEP_TMP"))
        tu_rm_rf(W.dir);
    return 0;
}

/* ------------------------------------------------------------ the fake server */

typedef enum fk_mode {
    FK_CANNED, /* read a request, write `resp`, close */
    FK_CLOSE,  /* read a request, close without a word */
    FK_SILENT, /* read a request, never answer (until the client goes) */
    FK_RAW,    /* on the first bytes, whatever they are, write `resp` and close */
    FK_STREAM, /* a chunked 200 that never ends (until the client goes) */
} fk_mode;

typedef struct fake {
    int lfd, port;
    pthread_t th;
    pthread_mutex_t mu;
    fk_mode mode;
    char resp[4096];
    size_t resp_len;
    char last_req[8192];
    int accepts;
    bool stop;
} fake;

static fake F;

/* strstr, ignoring case. */
static const char *find_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n))
            return hay;
    return NULL;
}

static bool starts_with(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

static bool fk_stopping(void)
{
    pthread_mutex_lock(&F.mu);
    bool s = F.stop;
    pthread_mutex_unlock(&F.mu);
    return s;
}

/* Waits for input on fd; false when stopping. */
static bool fk_wait(int fd)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, 50);
        if (r > 0)
            return true;
        if (fk_stopping())
            return false;
    }
}

/* Reads one request (headers and a Content-Length body) into F.last_req. */
static bool fk_read_request(int fd)
{
    char buf[sizeof F.last_req];
    size_t n = 0, need = 0;
    char *end = NULL;
    for (;;) {
        if (!fk_wait(fd))
            return false;
        ssize_t r = recv(fd, buf + n, sizeof buf - 1 - n, 0);
        if (r <= 0)
            return false;
        n += (size_t)r;
        buf[n] = '\0';
        if (!end && (end = strstr(buf, "\r\n\r\n"))) {
            const char *cl = find_ci(buf, "\r\nContent-Length:");
            need = (size_t)(end + 4 - buf) + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
        }
        if ((end && n >= need) || n == sizeof buf - 1)
            break;
    }
    pthread_mutex_lock(&F.mu);
    memcpy(F.last_req, buf, n + 1);
    pthread_mutex_unlock(&F.mu);
    return true;
}

static void fk_send(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void fk_serve(int fd)
{
    pthread_mutex_lock(&F.mu);
    fk_mode mode = F.mode;
    char resp[sizeof F.resp];
    size_t rl = F.resp_len;
    memcpy(resp, F.resp, rl);
    pthread_mutex_unlock(&F.mu);
    if (mode == FK_RAW) {
        char b[512];
        if (fk_wait(fd) && recv(fd, b, sizeof b, 0) > 0)
            fk_send(fd, resp, rl);
        return;
    }
    if (!fk_read_request(fd))
        return;
    switch (mode) {
    case FK_CANNED: fk_send(fd, resp, rl); break;
    case FK_CLOSE: break;
    case FK_SILENT: {
        char b[256];
        while (fk_wait(fd) && recv(fd, b, sizeof b, 0) > 0)
            ;
        break;
    }
    case FK_STREAM: {
        static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n1\r\n[\r\n";
        fk_send(fd, head, sizeof head - 1);
        char chunk[4096 + 16];
        int hl = snprintf(chunk, sizeof chunk, "%x\r\n", 4096);
        memset(chunk + hl, '1', 4096);
        for (int i = 0; i < 4096; i += 2)
            chunk[hl + i + 1] = ',';
        memcpy(chunk + hl + 4096, "\r\n", 2);
        for (int i = 0; i < 16384 && !fk_stopping(); i++) { /* 64 MiB at most */
            ssize_t w = send(fd, chunk, (size_t)hl + 4096 + 2, MSG_NOSIGNAL);
            if (w <= 0)
                break;
        }
        break;
    }
    case FK_RAW: break;
    }
}

static void *fk_main(void *arg)
{
    (void)arg;
    while (fk_wait(F.lfd)) {
        int fd = accept(F.lfd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&F.mu);
        F.accepts++;
        pthread_mutex_unlock(&F.mu);
        fk_serve(fd);
        close(fd);
    }
    return NULL;
}

static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 8), 0);
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    *port = ntohs(a.sin_port);
    return fd;
}

static void fk_start(void)
{
    memset(&F, 0, sizeof F);
    pthread_mutex_init(&F.mu, NULL);
    F.lfd = listen_any(&F.port);
    assert_int_equal(pthread_create(&F.th, NULL, fk_main, NULL), 0);
}

static void fk_stop(void)
{
    pthread_mutex_lock(&F.mu);
    F.stop = true;
    pthread_mutex_unlock(&F.mu);
    pthread_join(F.th, NULL);
    close(F.lfd);
    pthread_mutex_destroy(&F.mu);
}

/* The next connections get `mode` and, for FK_CANNED / FK_RAW, this answer. */
static void fk_set(fk_mode mode, const char *resp)
{
    pthread_mutex_lock(&F.mu);
    F.mode = mode;
    F.resp_len = resp ? strlen(resp) : 0;
    assert_true(F.resp_len < sizeof F.resp);
    if (resp)
        memcpy(F.resp, resp, F.resp_len);
    pthread_mutex_unlock(&F.mu);
}

/* An HTTP answer with this status, content type and body (closing). */
static void fk_answer(int status, const char *ctype, const char *extra, const char *body)
{
    char r[4096];
    int n = snprintf(r, sizeof r,
                     "HTTP/1.1 %d X\r\nContent-Type: %s\r\n%sContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     status, ctype, extra ? extra : "", strlen(body), body);
    assert_true(n > 0 && (size_t)n < sizeof r);
    fk_set(FK_CANNED, r);
}

/* ------------------------------------------------------------ cases: no server */

static void new_refuses(void **state)
{
    (void)state;
    jt_gw *g = (jt_gw *)1;
    jt_errinfo ei;
    static const char *const bad_urls[] = {
        "ftp://127.0.0.1:5080",
        "127.0.0.1:5080",
        "http://",
        "http://127.0.0.1:5080/?q=1",
        "http://127.0.0.1:5080/#x",
        "http://user@127.0.0.1:5080",
        "http://a b/",
        "",
    };
    for (size_t i = 0; i < sizeof bad_urls / sizeof *bad_urls; i++) {
        jt_err e = jt_gw_new(bad_urls[i], NULL, &g, &ei);
        if (e != JT_EURL)
            fail_msg("\"%s\": %s (%s), want EURL", bad_urls[i], jt_errname(e), ei.msg);
        assert_null(g);
    }
    expect_err(jt_gw_new(NULL, NULL, &g, &ei), ei, JT_EINVAL, NULL);

    jt_gw_options o;
    jt_gw_options_init(&o);
    o.api_key = "jtk_has space";
    expect_err(jt_gw_new("http://127.0.0.1:5080", &o, &g, &ei), ei, JT_EINVAL, "api_key");
    o.api_key = "jtk_line\r\nX-Evil: 1";
    expect_err(jt_gw_new("http://127.0.0.1:5080", &o, &g, &ei), ei, JT_EINVAL, "api_key");
    o.api_key = NULL;
    o.ca_file = "/etc/hostname";
    expect_err(jt_gw_new("http://127.0.0.1:5080", &o, &g, &ei), ei, JT_EINVAL, NULL);
    assert_non_null(strstr(ei.msg, "not https://"));
    o.pinned_cert = "/etc/hostname";
    expect_err(jt_gw_new("https://127.0.0.1:5080", &o, &g, &ei), ei, JT_EINVAL, NULL);
    o.ca_file = NULL;
    expect_err(jt_gw_new("https://127.0.0.1:5080", &o, &g, &ei), ei, JT_EINVAL, NULL);
    assert_non_null(strstr(ei.msg, "not a PEM certificate"));
    o.pinned_cert = "/nonexistent/cert.pem";
    expect_err(jt_gw_new("https://127.0.0.1:5080", &o, &g, &ei), ei, JT_EIO, NULL);
    o.pinned_cert = NULL;
    o.ca_file = "/nonexistent/ca.pem";
    expect_err(jt_gw_new("https://127.0.0.1:5080", &o, &g, &ei), ei, JT_EIO, NULL);

    /* A trailing '/' is dropped; the handle connects nowhere yet. */
    g = client("http://127.0.0.1:1/prefix//", NULL);
    assert_string_equal(jt_gw_url(g), "http://127.0.0.1:1/prefix");
    assert_int_equal(jt_gw_connection_count(g), 0);
    jt_gw_reply r;
    expect_err(jt_gw_call(g, "get", "/v2/health", NULL, 0, &r, &ei), ei, JT_EINVAL, NULL);
    expect_err(jt_gw_call(g, "GET", "v2/health", NULL, 0, &r, &ei), ei, JT_EINVAL, NULL);
    expect_err(jt_gw_call(g, "GET", "/v2/a b", NULL, 0, &r, &ei), ei, JT_EINVAL, NULL);
    expect_err(jt_gw_call(g, "GET", "/v2/health", "{}", 0, &r, &ei), ei, JT_EINVAL, NULL);
    expect_err(jt_gw_call(g, "GET", "/v2/\r\nX: y", NULL, 0, &r, &ei), ei, JT_EINVAL, NULL);
    assert_int_equal(r.status, 0);
    assert_null(r.doc);
    jt_gw_payment p;
    jt_gw_payment_init(&p);
    jt_gw_tx_status st;
    expect_err(jt_gw_pay(g, &p, &st, &ei), ei, JT_EINVAL, NULL);
    assert_int_equal(strlen(st.client_id), 32); /* made before the check */
    char long_id[200];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    p.client_id = long_id;
    expect_err(jt_gw_pay(g, &p, &st, &ei), ei, JT_EINVAL, "client_id");
    jt_gw_history h;
    char huge[JT_GW_MARKER_MAX + 1];
    memset(huge, 'A', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    jt_gw_history_query q = {.marker = huge};
    expect_err(jt_gw_history_get(g, GENESIS, &q, &h, &ei), ei, JT_EINVAL, "marker");
    jt_gw_history_clear(&h);
    jt_gw_free(g);
    jt_gw_free(NULL);
    jt_gw_reply_clear(NULL);
    jt_gw_balances_clear(NULL);
    jt_gw_history_clear(NULL);
}

/* ------------------------------------------------------------ cases: the real gateway */

static void health(void **state)
{
    (void)state;
    jt_gw *g = client(W.url, NULL); /* health needs no key */
    jt_gw_health h;
    jt_errinfo ei;
    int64_t end = ms_now() + 30000;
    jt_err e;
    while ((e = jt_gw_health_get(g, &h, &ei)) == JT_OK && !h.ok && ms_now() < end)
        sleep_ms(100);
    expect_err(e, ei, JT_OK, NULL);
    assert_true(h.ok);
    assert_string_equal(h.status, "ok");
    assert_true(h.validated_ledger >= 2);
    assert_true(h.validated_age_s >= 0 && h.validated_age_s < 60);
    assert_true(h.node_state[0]);
    char want[64];
    snprintf(want, sizeof want, ":%d", W.n.ws_port);
    assert_non_null(strstr(h.node_url, want));
    assert_int_equal(h.node_error[0], '\0');
    /* Without a key, everything else is 401. */
    jt_gw_balances b;
    expect_err(jt_gw_balances_get(g, GENESIS, NULL, NULL, &b, &ei), ei, JT_EAUTH, "unauthorized");
    assert_int_equal(b.reply.status, 401);
    jt_gw_balances_clear(&b);
    jt_gw_free(g);
}

static void pay_swt(jt_gw_payment *p, const char *dest, const char *value)
{
    jt_gw_payment_init(p);
    p->source = GENESIS;
    p->destination = dest;
    p->amount = (jt_gw_amount){value, "SWT", NULL};
}

static void import_and_pay(void **state)
{
    (void)state;
    jt_gw *g = client(W.url, W.admin_key);
    jt_errinfo ei;
    jt_gw_reply r;
    jt_err e = jt_gw_call(g, "POST", "/v2/wallet/import",
                          "{\"secret\":\"" GENESIS_SECRET "\",\"label\":\"genesis\"}", 0, &r, &ei);
    expect_err(e, ei, JT_OK, NULL);
    assert_int_equal(r.status, 201);
    const jt_json *wallet = jt_json_get(jt_gw_reply_json(&r), "wallet");
    assert_string_equal(jt_json_string(jt_json_get(wallet, "address")), GENESIS);
    assert_null(strstr(r.body, GENESIS_SECRET));
    jt_gw_reply_clear(&r);
    W.imported = true;
    /* Again: the keystore has it (the envelope is still there to read). */
    e = jt_gw_call(g, "POST", "/v2/wallet/import", "{\"secret\":\"" GENESIS_SECRET "\"}", 0, &r,
                   &ei);
    expect_err(e, ei, JT_ECONFLICT, "EEXIST");
    assert_int_equal(r.status, 409);
    assert_non_null(strstr(ei.msg, "HTTP 409"));
    assert_false(jt_json_get(jt_gw_reply_json(&r), "success")->u.b);
    jt_gw_reply_clear(&r);

    /* A payment, waiting for validation, with a client_id made for it. */
    jt_gw_payment p;
    pay_swt(&p, W.dest, "100");
    p.wait_validated = true;
    static const jt_gw_memo memo = {"greeting", "text/plain", "hello from C"};
    p.memos = &memo;
    p.n_memos = 1;
    jt_gw_tx_status st;
    e = jt_gw_pay(g, &p, &st, &ei);
    expect_err(e, ei, JT_OK, NULL);
    assert_int_equal(st.state, JT_GW_TX_VALIDATED);
    assert_string_equal(st.status, "validated");
    assert_string_equal(st.result, "tesSUCCESS");
    assert_true(jt_gw_tx_succeeded(&st));
    assert_int_equal(strlen(st.client_id), 32);
    assert_int_equal(strlen(st.hash), 64);
    assert_true(st.sequence >= 1);
    assert_true(st.ledger_index >= 2);
    assert_true(st.last_ledger_sequence >= st.ledger_index);
    memcpy(W.pay_hash, st.hash, sizeof W.pay_hash);
    memcpy(W.pay_cid, st.client_id, sizeof W.pay_cid);
    W.pay_seq = st.sequence;

    /* The same client_id again (pointing into the status it fills): the
     * same transaction, not a second one. */
    p.client_id = st.client_id;
    e = jt_gw_pay(g, &p, &st, &ei);
    expect_err(e, ei, JT_OK, NULL);
    assert_string_equal(st.hash, W.pay_hash);
    assert_string_equal(st.client_id, W.pay_cid);
    assert_int_equal(st.state, JT_GW_TX_VALIDATED);
    assert_int_equal(st.sequence, W.pay_seq);

    /* The same client_id with another body. */
    p.amount.value = "101";
    p.client_id = W.pay_cid;
    e = jt_gw_pay(g, &p, &st, &ei);
    expect_err(e, ei, JT_ECONFLICT, "clientIdReused");
    assert_string_equal(st.client_id, W.pay_cid);
    assert_int_equal(st.state, JT_GW_TX_UNKNOWN);
    assert_non_null(strstr(ei.msg, W.pay_cid));
    jt_gw_free(g);
}

static void payment_status(void **state)
{
    (void)state;
    assert_true(W.pay_hash[0]);
    jt_gw *g = client(W.url, W.read_key);
    jt_errinfo ei;
    jt_gw_tx_status st;
    expect_err(jt_gw_payment_status(g, GENESIS, W.pay_hash, &st, &ei), ei, JT_OK, NULL);
    assert_string_equal(st.hash, W.pay_hash);
    assert_int_equal(st.state, JT_GW_TX_VALIDATED);
    assert_string_equal(st.result, "tesSUCCESS");
    assert_int_equal(st.sequence, W.pay_seq);
    assert_true(st.last_ledger_sequence > 0);
    assert_string_equal(st.client_id, ""); /* asked by hash; the node's record has none */
    /* By client_id, and by the destination's side too. */
    expect_err(jt_gw_payment_status(g, GENESIS, W.pay_cid, &st, &ei), ei, JT_OK, NULL);
    assert_string_equal(st.hash, W.pay_hash);
    assert_string_equal(st.client_id, W.pay_cid);
    char lower[65];
    for (int i = 0; i < 65; i++)
        lower[i] = (char)(W.pay_hash[i] >= 'A' && W.pay_hash[i] <= 'F' ? W.pay_hash[i] + 32
                                                                       : W.pay_hash[i]);
    expect_err(jt_gw_payment_status(g, W.dest, lower, &st, &ei), ei, JT_OK, NULL);
    assert_string_equal(st.hash, W.pay_hash);
    assert_string_equal(st.client_id, "");
    /* Unknown ids, and ids that need escaping in the path. */
    expect_err(jt_gw_payment_status(g, GENESIS, "no-such-payment", &st, &ei), ei, JT_ENOTFOUND,
               "txnNotFound");
    expect_err(jt_gw_payment_status(g, GENESIS, "a b?c&d=e#f%2F", &st, &ei), ei, JT_ENOTFOUND,
               "txnNotFound");
    expect_err(jt_gw_payment_status(g, W.nobody, W.pay_hash, &st, &ei), ei, JT_ENOTFOUND,
               "notFound");

    /* Without waiting: pending (or already validated), then validated. */
    jt_gw *ga = client(W.url, W.admin_key);
    jt_gw_payment p;
    pay_swt(&p, W.dest, "5");
    p.client_id = "status-no-wait";
    expect_err(jt_gw_pay(ga, &p, &st, &ei), ei, JT_OK, NULL);
    assert_true(st.state == JT_GW_TX_PENDING || st.state == JT_GW_TX_VALIDATED);
    assert_string_equal(st.client_id, "status-no-wait");
    char hash[65];
    memcpy(hash, st.hash, sizeof hash);
    int64_t end = ms_now() + 20000;
    jt_err e;
    while ((e = jt_gw_payment_status(g, GENESIS, "status-no-wait", &st, &ei)) == JT_OK &&
           st.state == JT_GW_TX_PENDING && ms_now() < end)
        sleep_ms(100);
    expect_err(e, ei, JT_OK, NULL);
    assert_int_equal(st.state, JT_GW_TX_VALIDATED);
    assert_string_equal(st.hash, hash);
    assert_true(jt_gw_tx_succeeded(&st));
    jt_gw_free(ga);
    jt_gw_free(g);
}

static double value_of(const jt_gw_balance *b)
{
    return strtod(b->amount.value, NULL);
}

static void balances(void **state)
{
    (void)state;
    jt_gw *g = client(W.url, W.read_key);
    jt_errinfo ei;
    jt_gw_balances b;
    expect_err(jt_gw_balances_get(g, W.dest, NULL, NULL, &b, &ei), ei, JT_OK, NULL);
    assert_int_equal(b.n, 1);
    assert_string_equal(b.items[0].amount.currency, "SWT");
    assert_string_equal(b.items[0].amount.issuer, "");
    assert_true(value_of(&b.items[0]) == 105.0); /* 100 and 5 from payment_status */
    assert_non_null(b.items[0].freezed);
    assert_true(strtod(b.items[0].freezed, NULL) == 10.0); /* the reserve */
    assert_int_equal(b.sequence, 1);
    assert_true(b.ledger_index >= 2);
    jt_gw_balances_clear(&b);
    assert_null(b.items);

    expect_err(jt_gw_balances_get(g, GENESIS, "SWT", NULL, &b, &ei), ei, JT_OK, NULL);
    assert_int_equal(b.n, 1);
    assert_true(value_of(&b.items[0]) > 500000000.0);
    assert_true(b.sequence > W.pay_seq);
    jt_gw_balances_clear(&b);
    expect_err(jt_gw_balances_get(g, GENESIS, "CNY", GENESIS, &b, &ei), ei, JT_OK, NULL);
    assert_int_equal(b.n, 0);
    jt_gw_balances_clear(&b);

    expect_err(jt_gw_balances_get(g, W.nobody, NULL, NULL, &b, &ei), ei, JT_ENOTFOUND,
               "actNotFound");
    assert_int_equal(b.reply.status, 404);
    jt_gw_balances_clear(&b);
    expect_err(jt_gw_balances_get(g, "jNotAnAddress", NULL, NULL, &b, &ei), ei, JT_EBADREQUEST,
               "badAddress");
    jt_gw_balances_clear(&b);
    /* An argument that could climb out of its path segment once the server
     * has decoded it never leaves. */
    static const char *const climbing[] = {"..", ".", "../../v2/wallets", "a\\b", ""};
    for (size_t i = 0; i < sizeof climbing / sizeof *climbing; i++) {
        expect_err(jt_gw_balances_get(g, climbing[i], NULL, NULL, &b, &ei), ei, JT_EINVAL, NULL);
        assert_int_equal(b.reply.status, 0);
        jt_gw_balances_clear(&b);
        jt_gw_tx_status st;
        expect_err(jt_gw_payment_status(g, GENESIS, climbing[i], &st, &ei), ei, JT_EINVAL, NULL);
    }
    jt_gw_free(g);
}

static bool has_hash(char hashes[][65], size_t n, const char *h)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(hashes[i], h))
            return true;
    return false;
}

static void history(void **state)
{
    (void)state;
    jt_gw *ga = client(W.url, W.admin_key);
    jt_gw *g = client(W.url, W.read_key);
    jt_errinfo ei;
    /* Five payments to dest2 (the first activates it), the last waited for. */
    char sent[5][65];
    for (int i = 0; i < 5; i++) {
        jt_gw_payment p;
        pay_swt(&p, W.dest2, i == 0 ? "50" : "1");
        p.wait_validated = i == 4;
        jt_gw_tx_status st;
        expect_err(jt_gw_pay(ga, &p, &st, &ei), ei, JT_OK, NULL);
        memcpy(sent[i], st.hash, 65);
    }
    for (int i = 0; i < 5; i++) {
        jt_gw_tx_status st;
        int64_t end = ms_now() + 20000;
        jt_err e;
        while ((e = jt_gw_payment_status(g, GENESIS, sent[i], &st, &ei)) == JT_OK &&
               st.state != JT_GW_TX_VALIDATED && ms_now() < end)
            sleep_ms(100);
        expect_err(e, ei, JT_OK, NULL);
        assert_true(jt_gw_tx_succeeded(&st));
    }

    /* dest2's history, two at a time, newest first, to the last page; each
     * page's marker read straight from the page before (freed after). */
    char seen[32][65];
    size_t nseen = 0, pages = 0;
    jt_gw_history pg[2], *cur = &pg[0], *next = &pg[1], *swap;
    jt_gw_history_query q = {.limit = 2};
    expect_err(jt_gw_history_get(g, W.dest2, &q, cur, &ei), ei, JT_OK, NULL);
    for (;;) {
        assert_true(cur->n <= 2);
        for (size_t i = 0; i < cur->n; i++) {
            const jt_gw_history_entry *it = &cur->items[i];
            assert_non_null(it->hash);
            assert_false(has_hash(seen, nseen, it->hash)); /* no entry twice */
            assert_true(nseen < 32);
            memcpy(seen[nseen++], it->hash, 65);
            assert_string_equal(it->type, "received");
            assert_string_equal(it->result, "tesSUCCESS");
            assert_string_equal(it->account, GENESIS);
            assert_string_equal(it->counterparty, GENESIS);
            assert_string_equal(it->amount.currency, "SWT");
            assert_true(it->ledger_index >= 2);
            assert_true(it->date > 0);
            assert_non_null(it->fee);
            assert_non_null(jt_json_get(it->entry, "meta"));
        }
        pages++;
        if (!cur->marker[0])
            break;
        q.marker = cur->marker;
        expect_err(jt_gw_history_get(g, W.dest2, &q, next, &ei), ei, JT_OK, NULL);
        jt_gw_history_clear(cur);
        swap = cur;
        cur = next;
        next = swap;
    }
    jt_gw_history_clear(cur);
    jt_gw_history h;
    assert_int_equal(nseen, 5);
    assert_true(pages >= 3);
    for (int i = 0; i < 5; i++)
        assert_true(has_hash(seen, nseen, sent[i]));

    /* Oldest first: dest2's first entry is the payment that activated it. */
    q = (jt_gw_history_query){.limit = 1, .forward = true};
    expect_err(jt_gw_history_get(g, W.dest2, &q, &h, &ei), ei, JT_OK, NULL);
    assert_int_equal(h.n, 1);
    assert_string_equal(h.items[0].hash, sent[0]);
    assert_true(strtod(h.items[0].amount.value, NULL) == 50.0);
    assert_true(h.marker[0]);
    jt_gw_history_clear(&h);

    /* The sender's side, payments only, with the defaults (20 a page). */
    q = (jt_gw_history_query){.payments_only = true};
    expect_err(jt_gw_history_get(g, GENESIS, &q, &h, &ei), ei, JT_OK, NULL);
    assert_true(h.n >= 7); /* 100 and 5 to dest, 50 and 4 × 1 to dest2 */
    assert_string_equal(h.items[0].type, "sent");
    bool recent = false; /* newest first (one ledger may hold several) */
    for (size_t i = 0; i < 5; i++)
        recent = recent || !strcmp(h.items[i].hash, sent[4]);
    assert_true(recent);
    jt_gw_history_clear(&h);
    expect_err(jt_gw_history_get(g, GENESIS, NULL, &h, &ei), ei, JT_OK, NULL);
    assert_true(h.n >= 7);
    jt_gw_history_clear(&h);

    /* A marker the gateway never gave. */
    q = (jt_gw_history_query){.marker = "zz"};
    expect_err(jt_gw_history_get(g, GENESIS, &q, &h, &ei), ei, JT_EBADREQUEST, "badRequest");
    assert_non_null(strstr(ei.msg, "marker"));
    jt_gw_history_clear(&h);
    q = (jt_gw_history_query){.limit = 999}; /* the gateway gives at most 200 */
    expect_err(jt_gw_history_get(g, GENESIS, &q, &h, &ei), ei, JT_OK, NULL);
    assert_true(h.n >= 7 && h.n <= 200);
    jt_gw_history_clear(&h);
    jt_gw_free(g);
    jt_gw_free(ga);
}

static void errors(void **state)
{
    (void)state;
    jt_errinfo ei;
    jt_gw_balances b;
    jt_gw_tx_status st;
    jt_gw_payment p;
    jt_gw_reply r;

    jt_gw *bad = client(W.url, "jtk_not_a_key");
    expect_err(jt_gw_balances_get(bad, GENESIS, NULL, NULL, &b, &ei), ei, JT_EAUTH, "unauthorized");
    assert_int_equal(b.reply.status, 401);
    assert_non_null(strstr(ei.msg, "HTTP 401 unauthorized"));
    jt_gw_balances_clear(&b);
    jt_gw_free(bad);

    jt_gw *ro = client(W.url, W.read_key);
    pay_swt(&p, W.dest, "1");
    expect_err(jt_gw_pay(ro, &p, &st, &ei), ei, JT_EFORBIDDEN, "forbidden");
    expect_err(jt_gw_call(ro, "POST", "/v2/wallet/new", NULL, 0, &r, &ei), ei, JT_EFORBIDDEN,
               "forbidden");
    jt_gw_reply_clear(&r);
    jt_gw_free(ro);

    jt_gw *g = client(W.url, W.admin_key);
    expect_err(jt_gw_call(g, "GET", "/v2/nothing/here", NULL, 0, &r, &ei), ei, JT_ENOTFOUND,
               "notFound");
    assert_int_equal(r.status, 404);
    jt_gw_reply_clear(&r);
    expect_err(jt_gw_call(g, "DELETE", "/v2/health", NULL, 0, &r, &ei), ei, JT_EBADREQUEST,
               "methodNotAllowed");
    assert_int_equal(r.status, 405);
    jt_gw_reply_clear(&r);
    expect_err(jt_gw_call(g, "POST", "/v2/wallet/import", "{not json", 0, &r, &ei), ei,
               JT_EBADREQUEST, "badJson");
    jt_gw_reply_clear(&r);
    /* The field at fault is in the message. */
    pay_swt(&p, W.dest, "0");
    expect_err(jt_gw_pay(g, &p, &st, &ei), ei, JT_EBADREQUEST, "badRequest");
    assert_non_null(strstr(ei.msg, "payment.amount.value"));
    pay_swt(&p, W.dest, "1");
    p.invoice_id = "not hex";
    expect_err(jt_gw_pay(g, &p, &st, &ei), ei, JT_EBADREQUEST, "badRequest");
    assert_non_null(strstr(ei.msg, "payment.invoice_id"));
    /* An account whose key the gateway does not hold. */
    pay_swt(&p, GENESIS, "1");
    p.source = W.dest;
    expect_err(jt_gw_pay(g, &p, &st, &ei), ei, JT_ENOTFOUND, "accountNotHeld");
    /* Sealed memos to an account without a MessageKey: nothing signed. */
    pay_swt(&p, W.dest, "1");
    static const jt_gw_memo m = {NULL, NULL, "secret note"};
    p.memos = &m;
    p.n_memos = 1;
    p.encrypt_memos = true;
    expect_err(jt_gw_pay(g, &p, &st, &ei), ei, JT_EREJECTED, "noMessageKey");
    assert_int_equal(st.hash[0], '\0');
    assert_int_equal(strlen(st.client_id), 32);
    /* tem: rejected by the node; the transaction's status comes with it. */
    pay_swt(&p, GENESIS, "1"); /* to itself */
    expect_err(jt_gw_pay(g, &p, &st, &ei), ei, JT_EREJECTED, NULL);
    assert_int_equal(strncmp(ei.field, "tem", 3), 0);
    assert_int_equal(st.state, JT_GW_TX_FAILED);
    assert_string_equal(st.result, ei.field);
    assert_int_equal(strlen(st.hash), 64);

    /* Routes that answer something else than the envelope. */
    expect_err(jt_gw_call(g, "GET", "/metrics", NULL, 0, &r, &ei), ei, JT_OK, NULL);
    assert_null(r.doc);
    assert_non_null(strstr(r.body, "jt_gateway_requests_total"));
    assert_int_equal(strlen(r.body), r.body_len);
    jt_gw_reply_clear(&r);
    expect_err(jt_gw_call(g, "GET", "/v2/openapi.json", NULL, 0, &r, &ei), ei, JT_OK, NULL);
    assert_non_null(jt_json_get(jt_json_get(jt_gw_reply_json(&r), "paths"), "/v2/health"));
    jt_gw_reply_clear(&r);
    jt_gw_reply_clear(&r); /* twice is fine */
    /* HEAD: a status, no body. */
    expect_err(jt_gw_call(g, "HEAD", "/v2/health", NULL, 0, &r, &ei), ei, JT_OK, NULL);
    assert_int_equal(r.status, 200);
    jt_gw_reply_clear(&r);
    /* No reply wanted. */
    expect_err(jt_gw_call(g, "GET", "/v2/wallets", NULL, 0, NULL, &ei), ei, JT_OK, NULL);
    jt_gw_free(g);
}

typedef struct worker {
    jt_gw *g;
    int ok;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 10; i++) {
        jt_gw_balances b;
        jt_errinfo ei;
        if (jt_gw_balances_get(w->g, GENESIS, NULL, NULL, &b, &ei) == JT_OK && b.n >= 1)
            w->ok++;
        jt_gw_balances_clear(&b);
    }
    return NULL;
}

static void keepalive_and_threads(void **state)
{
    (void)state;
    jt_gw *g = client(W.url, W.read_key);
    jt_errinfo ei;
    for (int i = 0; i < 20; i++) {
        jt_gw_health h;
        jt_gw_balances b;
        expect_err(jt_gw_health_get(g, &h, &ei), ei, JT_OK, NULL);
        expect_err(jt_gw_balances_get(g, GENESIS, NULL, NULL, &b, &ei), ei, JT_OK, NULL);
        jt_gw_balances_clear(&b);
    }
    assert_int_equal(jt_gw_connection_count(g), 1);
    /* Four threads on one handle at once. */
    worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){g, 0};
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].ok, 10);
    }
    assert_true(jt_gw_connection_count(g) >= 1 && jt_gw_connection_count(g) <= 5);
    jt_gw_free(g);
}

static void node_down(void **state)
{
    (void)state;
    jt_gw *g = client(W.url, W.admin_key);
    jt_errinfo ei;
    jt_gw_health h;
    stop_pid(&W.n.pid, SIGKILL);
    int64_t end = ms_now() + 20000;
    jt_err e;
    while ((e = jt_gw_health_get(g, &h, &ei)) == JT_OK && h.ok && ms_now() < end)
        sleep_ms(50);
    /* Degraded is an answer: the gateway is up, its node is not. */
    expect_err(e, ei, JT_OK, NULL);
    assert_false(h.ok);
    assert_string_equal(h.status, "degraded");
    jt_gw_reply r;
    expect_err(jt_gw_call(g, "GET", "/v2/health", NULL, 0, &r, &ei), ei, JT_EUNAVAILABLE, NULL);
    assert_int_equal(r.status, 503);
    jt_gw_reply_clear(&r);

    jt_gw_balances b;
    expect_err(jt_gw_balances_get(g, GENESIS, NULL, NULL, &b, &ei), ei, JT_EUNAVAILABLE,
               "nodeUnavailable");
    assert_int_equal(b.reply.status, 503);
    jt_gw_balances_clear(&b);
    jt_gw_payment p;
    pay_swt(&p, W.dest, "2");
    p.client_id = "sent-while-node-down";
    p.wait_validated = true;
    jt_gw_tx_status st;
    expect_err(jt_gw_pay(g, &p, &st, &ei), ei, JT_EUNAVAILABLE, "nodeUnavailable");
    assert_string_equal(st.client_id, "sent-while-node-down");

    /* The node back on its ports: the same request goes through, once. */
    node_start(&W.n);
    end = ms_now() + 30000;
    while ((e = jt_gw_health_get(g, &h, &ei)) == JT_OK && !h.ok && ms_now() < end)
        sleep_ms(100);
    assert_true(h.ok);
    p.client_id = st.client_id;
    expect_err(jt_gw_pay(g, &p, &st, &ei), ei, JT_OK, NULL);
    assert_true(jt_gw_tx_succeeded(&st));
    char hash[65];
    memcpy(hash, st.hash, sizeof hash);
    expect_err(jt_gw_pay(g, &p, &st, &ei), ei, JT_OK, NULL);
    assert_string_equal(st.hash, hash);
    jt_gw_free(g);
}

/* ------------------------------------------------------------ cases: HTTPS */

static void https(void **state)
{
    (void)state;
    gateway t, other;
    gw_init(&t, W.dir, "gw-tls", &W.n, true);
    gw_init(&other, W.dir, "gw-other", &W.n, true); /* only for its certificate */
    gw_start(&t);
    char cert[300], other_cert[300], url[64], url_name[64];
    snprintf(cert, sizeof cert, "%s/tls/cert.pem", t.dir);
    snprintf(other_cert, sizeof other_cert, "%s/tls/cert.pem", other.dir);
    snprintf(url, sizeof url, "https://127.0.0.1:%d", t.port);
    snprintf(url_name, sizeof url_name, "https://localhost:%d", t.port);
    jt_gw_options o;
    jt_errinfo ei;
    jt_gw_health h;
    jt_gw *g;

    /* The system's CAs do not know a self-signed certificate. */
    g = client(url, NULL);
    expect_err(jt_gw_health_get(g, &h, &ei), ei, JT_ETLS, NULL);
    assert_non_null(strstr(ei.msg, "nothing was sent"));
    jt_gw_free(g);
    /* Its certificate as the CA file, by address and by name. */
    const char *urls[2] = {url, url_name};
    for (int i = 0; i < 2; i++) {
        jt_gw_options_init(&o);
        o.ca_file = cert;
        assert_int_equal(jt_gw_new(urls[i], &o, &g, &ei), JT_OK);
        expect_err(jt_gw_health_get(g, &h, &ei), ei, JT_OK, NULL);
        assert_true(h.status[0]);
        jt_gw_free(g);
    }
    /* Another gateway's certificate, as the CA or as the pin. */
    jt_gw_options_init(&o);
    o.ca_file = other_cert;
    assert_int_equal(jt_gw_new(url, &o, &g, &ei), JT_OK);
    expect_err(jt_gw_health_get(g, &h, &ei), ei, JT_ETLS, NULL);
    jt_gw_free(g);
    jt_gw_options_init(&o);
    o.pinned_cert = other_cert;
    assert_int_equal(jt_gw_new(url, &o, &g, &ei), JT_OK);
    expect_err(jt_gw_health_get(g, &h, &ei), ei, JT_ETLS, NULL);
    jt_gw_free(g);
    /* Pinned: its own certificate. */
    jt_gw_options_init(&o);
    o.pinned_cert = cert;
    assert_int_equal(jt_gw_new(url, &o, &g, &ei), JT_OK);
    expect_err(jt_gw_health_get(g, &h, &ei), ei, JT_OK, NULL);
    jt_gw_free(g);
    /* Plain HTTP to the TLS listener: a transport failure, never an answer. */
    char plain[64];
    snprintf(plain, sizeof plain, "http://127.0.0.1:%d", t.port);
    g = client(plain, NULL);
    jt_err e = jt_gw_health_get(g, &h, &ei);
    assert_true(e == JT_ELOST || e == JT_EBADRESPONSE || e == JT_ECONNECT);
    jt_gw_free(g);

    /* On an address its certificate does not name: the CA file checks the
     * name and refuses; the pin identifies the gateway by its key. */
    stop_pid(&t.pid, SIGTERM);
    conf_set(&t, "address", "127.0.0.2:0");
    gw_start(&t);
    snprintf(url, sizeof url, "https://127.0.0.2:%d", t.port);
    jt_gw_options_init(&o);
    o.ca_file = cert;
    assert_int_equal(jt_gw_new(url, &o, &g, &ei), JT_OK);
    expect_err(jt_gw_health_get(g, &h, &ei), ei, JT_ETLS, NULL);
    jt_gw_free(g);
    jt_gw_options_init(&o);
    o.pinned_cert = cert;
    assert_int_equal(jt_gw_new(url, &o, &g, &ei), JT_OK);
    expect_err(jt_gw_health_get(g, &h, &ei), ei, JT_OK, NULL);
    jt_gw_free(g);
    stop_pid(&t.pid, SIGTERM);
}

/* ------------------------------------------------------------ cases: the fake server */

static jt_gw *fake_client(int max_body, int timeout_ms)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", F.port);
    jt_gw_options o;
    jt_gw_options_init(&o);
    o.api_key = "jtk_fake";
    o.max_body = (size_t)max_body;
    o.timeout_ms = timeout_ms;
    jt_gw *g = NULL;
    jt_errinfo ei;
    assert_int_equal(jt_gw_new(url, &o, &g, &ei), JT_OK);
    return g;
}

static bool clean_text(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static void fake_answers(void **state)
{
    (void)state;
    fk_start();
    jt_gw *g = fake_client(65536, 3000);
    jt_errinfo ei;
    jt_gw_reply r;
    jt_gw_balances b;
    jt_gw_tx_status st;
    jt_gw_health h;

    /* What the client sends: the key, the path escaped, a body with its
     * length and type, and no Expect. */
    fk_answer(200, "application/json", NULL,
              "{\"success\":true,\"status_code\":\"0\","
              "\"client_id\":\"c 1\",\"hash\":\""
              "ABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCD"
              "\",\"status\":\"validated\",\"result\":\"tesSUCCESS\","
              "\"sequence\":7,\"ledger_index\":9}");
    jt_gw_payment p;
    pay_swt(&p, "j/x?", "1.5");
    p.client_id = "c 1";
    p.has_destination_tag = true;
    p.destination_tag = 42;
    expect_err(jt_gw_pay(g, &p, &st, &ei), ei, JT_OK, NULL);
    assert_int_equal(st.sequence, 7);
    assert_int_equal(st.ledger_index, 9);
    assert_true(jt_gw_tx_succeeded(&st));
    pthread_mutex_lock(&F.mu);
    char req[sizeof F.last_req];
    memcpy(req, F.last_req, sizeof req);
    pthread_mutex_unlock(&F.mu);
    assert_true(starts_with(req, "POST /v2/accounts/" GENESIS "/payments HTTP/1.1\r\n"));
    assert_non_null(find_ci(req, "\r\nAuthorization: Bearer jtk_fake\r\n"));
    assert_non_null(find_ci(req, "\r\nContent-Type: application/json\r\n"));
    assert_null(find_ci(req, "\r\nExpect:"));
    assert_null(find_ci(req, "chunked"));
    const char *body = strstr(req, "\r\n\r\n") + 4;
    assert_string_equal(body, "{\"client_id\":\"c 1\",\"payment\":{\"destination\":\"j/x?\","
                              "\"amount\":{\"value\":\"1.5\",\"currency\":\"SWT\"},"
                              "\"destination_tag\":42}}");
    expect_err(jt_gw_payment_status(g, "j x", "a%b?c#.", &st, &ei), ei, JT_OK, NULL);
    pthread_mutex_lock(&F.mu);
    assert_true(
        starts_with(F.last_req, "GET /v2/accounts/j%20x/payments/a%25b%3Fc%23. HTTP/1.1\r\n"));
    pthread_mutex_unlock(&F.mu);
    assert_string_equal(st.client_id, "c 1");

    /* A 2xx whose body is not JSON; a JSON body the API does not define. */
    fk_answer(200, "application/json", NULL, "{\"success\":true,\"balances\":[1,");
    expect_err(jt_gw_call(g, "GET", "/v2/x", NULL, 0, &r, &ei), ei, JT_EBADRESPONSE, NULL);
    assert_int_equal(r.status, 200);
    assert_null(r.doc);
    assert_non_null(r.body);
    jt_gw_reply_clear(&r);
    fk_answer(200, "application/json", NULL, "{\"success\":true,\"balances\":\"many\"}");
    expect_err(jt_gw_balances_get(g, GENESIS, NULL, NULL, &b, &ei), ei, JT_EBADRESPONSE, NULL);
    jt_gw_balances_clear(&b);
    fk_answer(200, "application/json", NULL,
              "{\"success\":true,\"balances\":[{\"value\":\"1\",\"currency\":\"SWT\","
              "\"issuer\":\"\\u001b[31m\"}]}");
    expect_err(jt_gw_balances_get(g, GENESIS, NULL, NULL, &b, &ei), ei, JT_EBADRESPONSE, NULL);
    jt_gw_balances_clear(&b);
    fk_answer(200, "application/json", NULL,
              "{\"success\":true,\"hash\":\"XYZ\",\"status\":\"ok\"}");
    expect_err(jt_gw_payment_status(g, GENESIS, "x", &st, &ei), ei, JT_EBADRESPONSE, NULL);
    fk_answer(200, "application/json", NULL, "[]");
    expect_err(jt_gw_health_get(g, &h, &ei), ei, JT_EBADRESPONSE, NULL);
    fk_answer(200, "application/json", NULL,
              "{\"success\":true,\"transactions\":[],\"marker\":\""
              "012345678901234567890123456789012345678901234567890123456789012345678901234567890123"
              "4567890123456789"
              "012345678901234567890123456789012345678901234567890123456789012345678901234567890123"
              "4567890123456789"
              "012345678901234567890123456789012345678901234567890123456789012345678901234567890123"
              "4567890123456789"
              "012345678901234567890123456789012345678901234567890123456789012345678901234567890123"
              "4567890123456789"
              "012345678901234567890123456789012345678901234567890123456789012345678901234567890123"
              "4567890123456789"
              "0123456789012345678901234567890123456789\"}");
    jt_gw_history hist;
    expect_err(jt_gw_history_get(g, GENESIS, NULL, &hist, &ei), ei, JT_EBADRESPONSE, NULL);
    jt_gw_history_clear(&hist);

    /* Error envelopes: the token and message cleaned and cut to fit. */
    fk_answer(
        409, "application/json", NULL,
        "{\"success\":false,\"error\":\"clientId\\nReused\\u0007ThisTokenIsFarTooLongToFitInThe"
        "FieldOfAnErrinfo\",\"message\":\"line\\r\\nX-Evil: 1 \\u001b[2J done\"}");
    expect_err(jt_gw_call(g, "GET", "/v2/x", NULL, 0, &r, &ei), ei, JT_ECONFLICT, NULL);
    assert_true(clean_text(ei.field) && clean_text(ei.msg));
    assert_int_equal(strncmp(ei.field, "clientId?Reused?ThisToken", 25), 0);
    assert_int_equal(strlen(ei.field), sizeof ei.field - 1);
    assert_non_null(strstr(ei.msg, "line??X-Evil: 1 ?[2J done"));
    assert_non_null(r.doc); /* the caller may read it as it came */
    jt_gw_reply_clear(&r);
    fk_answer(429, "application/json", "Retry-After: 7\r\n",
              "{\"success\":false,\"error\":\"rateLimited\",\"message\":\"slow down\"}");
    expect_err(jt_gw_call(g, "GET", "/v2/x", NULL, 0, &r, &ei), ei, JT_ERATELIMIT, "rateLimited");
    assert_int_equal(r.retry_after_s, 7);
    jt_gw_reply_clear(&r);
    fk_answer(500, "application/json", NULL,
              "{\"success\":false,\"error\":\"outOfMemory\",\"message\":\"out of memory\"}");
    expect_err(jt_gw_call(g, "GET", "/v2/x", NULL, 0, &r, &ei), ei, JT_EGATEWAY, "outOfMemory");
    jt_gw_reply_clear(&r);
    fk_answer(502, "text/html", NULL, "<html><body>Bad Gateway</body></html>");
    expect_err(jt_gw_call(g, "GET", "/v2/x", NULL, 0, &r, &ei), ei, JT_EUNAVAILABLE, "");
    assert_null(r.doc);
    assert_non_null(strstr(r.body, "Bad Gateway"));
    jt_gw_reply_clear(&r);
    fk_answer(418, "application/json", NULL, "{\"success\":false}");
    expect_err(jt_gw_call(g, "GET", "/v2/x", NULL, 0, &r, &ei), ei, JT_EBADREQUEST, "");
    jt_gw_reply_clear(&r);
    fk_answer(200, "application/json", NULL,
              "{\"success\":false,\"error\":\"odd\",\"message\":\"m\"}");
    expect_err(jt_gw_call(g, "GET", "/v2/x", NULL, 0, &r, &ei), ei, JT_EGATEWAY, "odd");
    jt_gw_reply_clear(&r);
    /* A rejected payment: the transaction's status comes with the error. */
    fk_answer(422, "application/json", NULL,
              "{\"success\":false,\"status_code\":\"422\",\"error_type\":\"transaction\","
              "\"client_id\":\"c 1\",\"hash\":\"00000000000000000000000000000000000000000000000000"
              "0000000000000A\",\"status\":\"failed\",\"result\":\"temBAD_AMOUNT\",\"sequence\":3,"
              "\"error\":\"temBAD_AMOUNT\",\"message\":\"bad amount\"}");
    expect_err(jt_gw_pay(g, &p, &st, &ei), ei, JT_EREJECTED, "temBAD_AMOUNT");
    assert_int_equal(st.state, JT_GW_TX_FAILED);
    assert_int_equal(st.sequence, 3);
    assert_string_equal(st.result, "temBAD_AMOUNT");
    assert_false(jt_gw_tx_succeeded(&st));

    /* Too big: announced by its length, or streamed without one. */
    fk_set(FK_CANNED, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Content-Length: 100000000\r\nConnection: close\r\n\r\n{");
    expect_err(jt_gw_call(g, "GET", "/v2/x", NULL, 0, &r, &ei), ei, JT_ETOOBIG, NULL);
    assert_int_equal(r.status, 0);
    assert_null(r.body);
    fk_set(FK_STREAM, NULL);
    expect_err(jt_gw_call(g, "GET", "/v2/x", NULL, 0, &r, &ei), ei, JT_ETOOBIG, NULL);
    assert_null(r.body);

    /* Not HTTP; no answer and a dropped connection (outcome unknown). */
    fk_set(FK_CANNED, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
    expect_err(jt_gw_call(g, "GET", "/v2/x", NULL, 0, &r, &ei), ei, JT_EBADRESPONSE, NULL);
    fk_set(FK_CLOSE, NULL);
    expect_err(jt_gw_pay(g, &p, &st, &ei), ei, JT_ELOST, NULL);
    assert_string_equal(st.client_id, "c 1");
    assert_non_null(strstr(ei.msg, "outcome is unknown"));
    fk_set(FK_SILENT, NULL);
    int64_t t0 = ms_now();
    jt_gw *quick = fake_client(65536, 300);
    expect_err(jt_gw_call(quick, "GET", "/v2/x", NULL, 0, &r, &ei), ei, JT_ETIMEDOUT, NULL);
    assert_true(ms_now() - t0 < 3000);
    /* A call's own timeout beats the handle's. */
    t0 = ms_now();
    expect_err(jt_gw_call(g, "GET", "/v2/x", NULL, 200, &r, &ei), ei, JT_ETIMEDOUT, NULL);
    assert_true(ms_now() - t0 < 2500);
    jt_gw_free(quick);

    /* TLS to something that is not TLS: refused before anything is sent. */
    fk_set(FK_RAW, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    char url[64];
    snprintf(url, sizeof url, "https://127.0.0.1:%d", F.port);
    jt_gw *tls = client(url, "jtk_fake");
    expect_err(jt_gw_health_get(tls, &h, &ei), ei, JT_ETLS, NULL);
    jt_gw_free(tls);
    jt_gw_free(g);

    /* Nobody listening. */
    int port;
    int fd = listen_any(&port);
    close(fd);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    g = client(url, NULL);
    expect_err(jt_gw_health_get(g, &h, &ei), ei, JT_ECONNECT, NULL);
    assert_non_null(strstr(ei.msg, url));
    expect_err(jt_gw_pay(g, &p, &st, &ei), ei, JT_ECONNECT, NULL);
    jt_gw_free(g);
    fk_stop();
}

/* The reading of answers alone, on bodies a transfer would hand it. */
static void reply_finish(void **state)
{
    (void)state;
    static const struct {
        int status;
        const char *ctype, *body;
        jt_err want;
    } cases[] = {
        {200, "application/json", "{\"success\":true}", JT_OK},
        {200, "application/json; charset=utf-8", "{\"success\":true}", JT_OK},
        {200, "application/problem+json", "{}", JT_OK},
        {200, NULL, "{\"a\":1}", JT_OK},
        {200, "text/plain", "not json", JT_OK},
        {204, "application/json", NULL, JT_OK},
        {200, "application/json", "{\"a\":", JT_EBADRESPONSE},
        {200, "application/json",
         "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
         "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
         "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
         "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
         "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
         "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
         JT_EBADRESPONSE},
        {301, "text/html", "moved", JT_EGATEWAY},
        {400, NULL, NULL, JT_EBADREQUEST},
        {413, "application/json", "{\"error\":\"tooLarge\"}", JT_EBADREQUEST},
        {401, "application/json", "{\"error\":\"unauthorized\",\"message\":\"m\"}", JT_EAUTH},
        {403, "application/json", "{\"error\":\"forbidden\"}", JT_EFORBIDDEN},
        {404, "application/json", "{\"error\":7}", JT_ENOTFOUND},
        {409, "application/json", "{\"error\":\"clientIdReused\"}", JT_ECONFLICT},
        {422, "application/json", "{\"error\":\"tecX\"}", JT_EREJECTED},
        {429, "application/json", "{\"error\":\"slowDown\"}", JT_ERATELIMIT},
        {503, "application/json", "{\"success\":true,\"status\":\"degraded\"}", JT_EUNAVAILABLE},
        {504, "application/json", "{\"error\":\"nodeTimeout\"}", JT_EUNAVAILABLE},
        {599, "application/json", "{\"error\":\"x\"}", JT_EGATEWAY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        jt_gw_reply r = {.status = cases[i].status};
        if (cases[i].body) {
            r.body = strdup(cases[i].body);
            r.body_len = strlen(r.body);
        }
        jt_errinfo ei;
        jt_err e = jt__gw_reply_finish(&r, cases[i].ctype, 100, &ei);
        if (e != cases[i].want)
            fail_msg("case %zu: %s (%s), want %s", i, jt_errname(e), ei.msg,
                     jt_errname(cases[i].want));
        jt_gw_reply_clear(&r);
    }
    /* A field named apart from the message, once. */
    jt_gw_reply r = {.status = 400};
    r.body = strdup("{\"error\":\"badRequest\",\"field\":\"payment.amount\",\"message\":\"x\"}");
    r.body_len = strlen(r.body);
    jt_errinfo ei;
    expect_err(jt__gw_reply_finish(&r, NULL, 1000, &ei), ei, JT_EBADREQUEST, "badRequest");
    assert_string_equal(ei.msg, "gateway: HTTP 400 badRequest (payment.amount): x");
    jt_gw_reply_clear(&r);
    r = (jt_gw_reply){.status = 400};
    r.body =
        strdup("{\"error\":\"badRequest\",\"field\":\"limit\",\"message\":\"limit: 1 to 200\"}");
    r.body_len = strlen(r.body);
    expect_err(jt__gw_reply_finish(&r, NULL, 1000, &ei), ei, JT_EBADREQUEST, "badRequest");
    assert_string_equal(ei.msg, "gateway: HTTP 400 badRequest: limit: 1 to 200");
    jt_gw_reply_clear(&r);
    /* A message cut in the middle of a UTF-8 character keeps none of it. */
    char big[600];
    int n = snprintf(big, sizeof big, "{\"error\":\"e\",\"message\":\"");
    while (n < 520)
        n += snprintf(big + n, sizeof big - (size_t)n, "井");
    snprintf(big + n, sizeof big - (size_t)n, "\"}");
    r = (jt_gw_reply){.status = 500, .body = strdup(big), .body_len = strlen(big)};
    expect_err(jt__gw_reply_finish(&r, NULL, 1000, &ei), ei, JT_EGATEWAY, "e");
    size_t ml = strlen(ei.msg);
    assert_true(ml > 200);
    assert_true(((unsigned char)ei.msg[ml - 1] & 0xC0) == 0x80); /* ends on a whole character */
    assert_true(((unsigned char)ei.msg[ml - 3] & 0xE0) == 0xE0);
    jt_gw_reply_clear(&r);
}

static void gateway_down(void **state)
{
    (void)state;
    jt_gw *g = client(W.url, W.admin_key);
    jt_errinfo ei;
    jt_gw_health h;
    expect_err(jt_gw_health_get(g, &h, &ei), ei, JT_OK, NULL);
    assert_int_equal(jt_gw_connection_count(g), 1);
    stop_pid(&W.gw.pid, SIGTERM);
    /* The kept-alive connection is gone, and no new one is taken. */
    expect_err(jt_gw_health_get(g, &h, &ei), ei, JT_ECONNECT, NULL);
    jt_gw_balances b;
    expect_err(jt_gw_balances_get(g, GENESIS, NULL, NULL, &b, &ei), ei, JT_ECONNECT, NULL);
    assert_int_equal(b.reply.status, 0);
    jt_gw_balances_clear(&b);
    jt_gw_payment p;
    pay_swt(&p, W.dest, "1");
    jt_gw_tx_status st;
    expect_err(jt_gw_pay(g, &p, &st, &ei), ei, JT_ECONNECT, NULL);
    assert_int_equal(strlen(st.client_id), 32);
    jt_gw_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_refuses),
        cmocka_unit_test(reply_finish),
        cmocka_unit_test(health),
        cmocka_unit_test(import_and_pay),
        cmocka_unit_test(payment_status),
        cmocka_unit_test(balances),
        cmocka_unit_test(history),
        cmocka_unit_test(errors),
        cmocka_unit_test(keepalive_and_threads),
        cmocka_unit_test(node_down),
        cmocka_unit_test(https),
        cmocka_unit_test(fake_answers),
        cmocka_unit_test(gateway_down),
    };
    return cmocka_run_group_tests(tests, world_up, world_down);
}
