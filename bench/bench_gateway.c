/*
 * bench_gateway.c — jt-gateway under load, each figure against a baseline
 * measured in the same run.
 *
 *   bench_gateway [--bin DIR] [--seconds S] [--rounds R] [--conns C]
 *                 [--pay-conns C] [--accounts N] [--close-ms MS]
 *                 [--link jtp|ws] [--pace N] [--keep]
 *
 * Starts a jt-node (closing a ledger every --close-ms) and a jt-gateway from
 * DIR (build/bin) in a temporary directory, on loopback ports of its own.
 * The gateway reaches the node as docs/gateway.md deploys it: over jtp with
 * the node's key pinned (--link ws: over the node's WebSocket instead).
 *
 *  a. Balance reads: GET /v2/accounts/{a}/balances through the gateway from
 *     C keep-alive connections, each with one request outstanding, against
 *     nginx (one worker, like the gateway's one event loop) answering a
 *     constant JSON body of the same size from the same client; R rounds
 *     alternating N G N G ..., the ratio is the median of the rounds'
 *     ratios (each round against the mean of the nginx slices beside it).
 *     Without nginx (scripts/install-deps.sh --bench installs nginx-light)
 *     the baseline is this program's own constant-answer epoll server, and
 *     the summary says so. Target >= 0.5.
 *  b. Signed payments, end to end: POST /v2/accounts/{a}/payments (the
 *     gateway signs) from N funded accounts over C connections as fast as
 *     they are answered; the rate is the payments validated (the gateway's
 *     own status, read back by client_id) over the time from the first
 *     request to the last validation, over rounds of --payments N (40 000:
 *     about five seconds, so that the close and validation of the last
 *     ledger, a fixed 0.1-0.3 s after the last answer, is a few per cent of
 *     a round, where with 8 000 it was 10-20 % of it). Against the two-core ceiling of
 *     libsecp256k1 sign + verify (a payment costs one of each: the gateway
 *     signs, the node verifies) on two threads, measured between rounds.
 *     Target >= 0.25. Each rate round is followed by the same load paced at
 *     80 % of that round's rate for 2 x --seconds (so a paced round runs on
 *     the machine as fast as the round just measured, not as it was
 *     minutes earlier): the HTTP answer's latency (from the request's
 *     scheduled time, so a stall counts), p50/p99 of each round; the figure
 *     is the median round's p99, target < 50 ms. --pace N runs that load at
 *     N payments/s instead (information: to compare two builds at one
 *     rate).
 *  c. The gateway's RSS: at rest (after set-up), the peak during each load,
 *     and at rest after it.
 *
 * Prints a table, then SUMMARY lines (bench/run.sh collects them). Exit 1
 * when something failed to run; the targets are reported, not enforced.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sys/resource.h>

#include <secp256k1.h>
#include <sodium.h>

#include "threads.h"

#define PASSPHRASE     "bench passphrase, not a secret"
#define GENESIS        "jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh"
#define GENESIS_SECRET "snoPBjXtMeMyMHUVTgbuqAfg1SUTb"
#define MAX_CONNS      1024
#define INBUF          65536

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_gateway: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, cmp_dbl);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ------------------------------------------------------------ processes */

static char g_tmp[256];
static pid_t g_node, g_gw, g_nginx;
static bool g_keep;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    remove(path);
    return 0;
}

static void cleanup(void)
{
    pid_t ps[] = {g_gw, g_node, g_nginx};
    for (size_t i = 0; i < 3; i++)
        if (ps[i] > 0) {
            kill(ps[i], SIGTERM);
            waitpid(ps[i], NULL, 0);
        }
    g_gw = g_node = g_nginx = 0;
    if (g_tmp[0] && !g_keep) {
        nftw(g_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    } else if (g_tmp[0]) {
        fprintf(stderr, "bench_gateway: kept %s\n", g_tmp);
    }
}

static void on_signal(int sig)
{
    (void)sig;
    exit(1); /* atexit runs cleanup */
}

/* Runs argv with stderr (and stdout, unless out) to logpath; waits when
 * wait_it. out: stdout captured (cap bytes). */
static pid_t spawn(char *const argv[], const char *logpath, bool wait_it, char *out, size_t cap)
{
    int pfd[2] = {-1, -1};
    if (out && pipe(pfd))
        die("pipe: %s", strerror(errno));
    pid_t p = fork();
    if (p < 0)
        die("fork: %s", strerror(errno));
    if (p == 0) {
        int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 2);
            if (!out)
                dup2(fd, 1);
        }
        if (out) {
            dup2(pfd[1], 1);
            close(pfd[0]);
        }
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        setenv("JT_GATEWAY_PASSPHRASE", PASSPHRASE, 1);
        execv(argv[0], argv);
        _exit(127);
    }
    if (out) {
        close(pfd[1]);
        size_t n = 0;
        ssize_t r;
        while (n + 1 < cap && (r = read(pfd[0], out + n, cap - 1 - n)) > 0)
            n += (size_t)r;
        out[n] = 0;
        close(pfd[0]);
    }
    if (wait_it) {
        int st;
        waitpid(p, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            die("%s failed (see %s)", argv[0], logpath);
        return 0;
    }
    return p;
}

/* Waits until `needle` appears in the file. */
static void wait_log(const char *path, const char *needle, double timeout_s, pid_t p)
{
    double end = now_s() + timeout_s;
    static char buf[1 << 20];
    while (now_s() < end) {
        FILE *f = fopen(path, "r");
        if (f) {
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            buf[n] = 0;
            fclose(f);
            if (strstr(buf, needle))
                return;
        }
        if (p > 0 && waitpid(p, NULL, WNOHANG) == p)
            die("a process exited early (see %s)", path);
        usleep(20000);
    }
    die("timed out waiting for \"%s\" in %s", needle, path);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
        getsockname(fd, (struct sockaddr *)&a, &l))
        die("free port: %s", strerror(errno));
    close(fd);
    return ntohs(a.sin_port);
}

static double rss_kind_mb(pid_t p, const char *kind);
static double rss_mb(pid_t p)
{
    return rss_kind_mb(p, "VmRSS:");
}

/* One line of /proc/PID/status in MB ("VmRSS:", "RssFile:", ...). */
static double rss_kind_mb(pid_t p, const char *kind)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)p);
    FILE *f = fopen(path, "r");
    double v = 0;
    if (!f)
        return 0;
    size_t kl = strlen(kind);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, kind, kl))
            v = strtod(line + kl, NULL) / 1024.0;
    fclose(f);
    return v;
}

/* ------------------------------------------------------------ HTTP client */

typedef struct hconn {
    int fd;
    char *out;
    size_t outlen, outoff;
    char in[INBUF];
    size_t inlen;
    bool busy;
    double t0; /* when the request was due */
    void *tag;
} hconn;

/* The load: next() fills a request (0: none now); done() takes an answer. */
typedef struct load {
    size_t (*next)(struct load *l, hconn *c, char *buf, size_t cap, double now);
    void (*done)(struct load *l, hconn *c, int status, const char *body, size_t len, double lat);
    bool (*finished)(struct load *l, double now);
    void *ctx;
    /* results */
    uint64_t answers, errors;
    double *lat;
    size_t nlat, caplat;
    pid_t watch; /* RSS sampled here */
    double rss_peak;
} load;

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) && errno != EINPROGRESS)
        die("connect %d: %s", port, strerror(errno));
    return fd;
}

/* A whole answer in c->in: its length (headers + body), else 0. */
static size_t http_parse(hconn *c, int *status, const char **body, size_t *blen)
{
    c->in[c->inlen < INBUF ? c->inlen : INBUF - 1] = 0;
    char *end = strstr(c->in, "\r\n\r\n");
    if (!end)
        return 0;
    size_t hl = (size_t)(end - c->in) + 4;
    *status = (int)strtol(c->in + 9, NULL, 10); /* "HTTP/1.1 200" */
    size_t cl = 0;
    for (char *p = c->in; p < end; p++) {
        if ((*p == '\n') && !strncasecmp(p + 1, "content-length:", 15)) {
            cl = strtoul(p + 16, NULL, 10);
            break;
        }
    }
    if (c->inlen < hl + cl)
        return 0;
    *body = c->in + hl;
    *blen = cl;
    return hl + cl;
}

static void lat_add(load *l, double v)
{
    if (l->nlat == l->caplat) {
        l->caplat = l->caplat ? l->caplat * 2 : 4096;
        l->lat = realloc(l->lat, l->caplat * sizeof *l->lat);
        if (!l->lat)
            die("out of memory");
    }
    l->lat[l->nlat++] = v;
}

/* Runs the load over nconns connections to port until finished(). */
static void run_load(load *l, int port, int nconns)
{
    int ep = epoll_create1(0);
    hconn *cs = calloc((size_t)nconns, sizeof *cs);
    static char req[8192];
    if (!cs || ep < 0)
        die("out of memory");
    for (int i = 0; i < nconns; i++) {
        cs[i].fd = connect_to(port);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                 .data.ptr = &cs[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    }
    struct epoll_event evs[256];
    double last_rss = 0;
    while (!l->finished(l, now_s())) {
        double now = now_s();
        for (int i = 0; i < nconns; i++) {
            hconn *c = &cs[i];
            if (c->busy)
                continue;
            size_t n = l->next(l, c, req, sizeof req, now);
            if (!n)
                break;
            c->out = req;
            c->outlen = n;
            c->outoff = 0;
            c->busy = true;
            c->inlen = 0;
            ssize_t w = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);
            if (w > 0)
                c->outoff = (size_t)w;
            if (c->outoff < c->outlen) {
                /* Rare (the socket buffer is full): keep a copy. */
                char *copy = malloc(c->outlen);
                if (!copy)
                    die("out of memory");
                memcpy(copy, req, c->outlen);
                c->out = copy;
            } else {
                c->out = NULL;
            }
        }
        int n = epoll_wait(ep, evs, 256, 1);
        now = now_s();
        for (int k = 0; k < n; k++) {
            hconn *c = evs[k].data.ptr;
            if ((evs[k].events & EPOLLOUT) && c->out && c->outoff < c->outlen) {
                ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
                if (w > 0)
                    c->outoff += (size_t)w;
                if (c->outoff == c->outlen) {
                    free(c->out);
                    c->out = NULL;
                }
            }
            /* Edge-triggered: read until the socket is drained. A read
             * shorter than the room drained it (data or a close arriving
             * later makes a new edge), unless the peer's close is already
             * flagged: then read on to the end. */
            bool closing = evs[k].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR);
            if (!closing && !(evs[k].events & EPOLLIN))
                continue; /* writable only: nothing to read */
            for (;;) {
                size_t room = INBUF - 1 - c->inlen;
                ssize_t r = recv(c->fd, c->in + c->inlen, room, 0);
                if (r > 0) {
                    c->inlen += (size_t)r;
                    int st;
                    const char *body;
                    size_t blen;
                    size_t used = http_parse(c, &st, &body, &blen);
                    if (used && c->busy) {
                        c->busy = false;
                        l->answers++;
                        lat_add(l, now - c->t0);
                        l->done(l, c, st, body, blen, now - c->t0);
                        memmove(c->in, c->in + used, c->inlen - used);
                        c->inlen -= used;
                    }
                    if ((size_t)r < room && !closing)
                        break;
                    continue;
                }
                if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                    /* Closed: reconnect, the request in flight is an error. */
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    close(c->fd);
                    if (c->busy)
                        l->errors++;
                    free(c->out);
                    c->out = NULL;
                    c->busy = false;
                    c->inlen = 0;
                    c->fd = connect_to(port);
                    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                             .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
                }
                break;
            }
        }
        if (l->watch && now - last_rss > 0.1) {
            double r = rss_mb(l->watch);
            if (r > l->rss_peak)
                l->rss_peak = r;
            last_rss = now;
        }
    }
    for (int i = 0; i < nconns; i++) {
        close(cs[i].fd);
        free(cs[i].out);
    }
    free(cs);
    close(ep);
}

/* One request on a fresh connection, blocking (set-up). */
static int http_once(int port, const char *method, const char *path, const char *key,
                     const char *body, char *out, size_t cap)
{
    char req[8192];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s%s"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, key ? "Authorization: Bearer " : "", key ? key : "",
                     key ? "\r\n" : "", body ? strlen(body) : 0, body ? body : "");
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) || write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    ssize_t r;
    while (got + 1 < cap && (r = read(fd, out + got, cap - 1 - got)) > 0)
        got += (size_t)r;
    out[got] = 0;
    close(fd);
    return got > 12 ? (int)strtol(out + 9, NULL, 10) : -1;
}

static const char *json_str(const char *text, const char *name, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", name);
    const char *p = strstr(text, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    size_t n = 0;
    while (p[n] && p[n] != '"' && n + 1 < cap)
        n++;
    memcpy(out, p, n);
    out[n] = 0;
    return out;
}

/* ------------------------------------------------------------ the baseline server */

/* Without nginx: a constant answer from an epoll loop on one thread. */
typedef struct const_srv {
    int lfd, port;
    const char *answer;
    size_t alen;
    volatile bool stop;
} const_srv;

static void *const_srv_main(void *arg)
{
    const_srv *s = arg;
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = s->lfd};
    epoll_ctl(ep, EPOLL_CTL_ADD, s->lfd, &ev);
    struct epoll_event evs[256];
    char buf[8192];
    while (!s->stop) {
        int n = epoll_wait(ep, evs, 256, 50);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == s->lfd) {
                int c;
                while ((c = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    struct epoll_event e2 = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &e2);
                }
                continue;
            }
            ssize_t r = recv(fd, buf, sizeof buf, 0);
            if (r <= 0) {
                close(fd);
                continue;
            }
            /* One answer per request (each ends with a blank line). */
            for (ssize_t k = 3; k < r; k++)
                if (buf[k] == '\n' && buf[k - 1] == '\r' && buf[k - 2] == '\n')
                    if (send(fd, s->answer, s->alen, MSG_NOSIGNAL) < 0)
                        break;
        }
    }
    close(ep);
    return NULL;
}

/* ------------------------------------------------------------ the ceiling */

typedef struct ceil_arg {
    double seconds;
    uint64_t count;
} ceil_arg;

static void *ceil_main(void *arg)
{
    ceil_arg *a = arg;
    secp256k1_context *ctx =
        secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
    unsigned char sk[32], msg[32];
    randombytes_buf(sk, sizeof sk);
    randombytes_buf(msg, sizeof msg);
    secp256k1_pubkey pk;
    if (!secp256k1_ec_pubkey_create(ctx, &pk, sk))
        die("secp256k1 key");
    double end = now_s() + a->seconds;
    uint64_t n = 0;
    while (now_s() < end) {
        for (int i = 0; i < 16; i++) {
            secp256k1_ecdsa_signature sig;
            msg[0]++;
            if (!secp256k1_ecdsa_sign(ctx, &sig, msg, sk, NULL, NULL) ||
                !secp256k1_ecdsa_verify(ctx, &sig, msg, &pk))
                die("secp256k1 sign/verify");
            n++;
        }
    }
    a->count = n;
    secp256k1_context_destroy(ctx);
    return NULL;
}

/* sign+verify pairs per second on two threads. */
static double ceiling(double seconds)
{
    pthread_t t[2];
    ceil_arg a[2] = {{seconds, 0}, {seconds, 0}};
    double t0 = now_s();
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, ceil_main, &a[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    return (double)(a[0].count + a[1].count) / (now_s() - t0);
}

/* ------------------------------------------------------------ loads */

typedef struct reads_ctx {
    const char *path, *key;
    double end;
} reads_ctx;

static size_t reads_next(load *l, hconn *c, char *buf, size_t cap, double now)
{
    reads_ctx *r = l->ctx;
    if (now >= r->end)
        return 0;
    c->t0 = now;
    int n = snprintf(buf, cap, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s\r\n", r->path,
                     r->key ? "Authorization: Bearer " : "", r->key ? r->key : "",
                     r->key ? "\r\n" : "");
    return (size_t)n;
}

static void reads_done(load *l, hconn *c, int status, const char *body, size_t len, double lat)
{
    if (status != 200)
        l->errors++;
}

static bool reads_finished(load *l, double now)
{
    reads_ctx *r = l->ctx;
    return now >= r->end; /* answers still in flight are not counted */
}

/* Reads per second for `seconds` over nconns connections. */
static double read_rate(int port, const char *path, const char *key, int nconns, double seconds,
                        pid_t watch, double *peak, uint64_t *errors)
{
    reads_ctx r = {path, key, now_s() + seconds};
    load l = {.next = reads_next,
              .done = reads_done,
              .finished = reads_finished,
              .ctx = &r,
              .watch = watch};
    double t0 = now_s();
    run_load(&l, port, nconns);
    double dt = now_s() - t0;
    if (peak && l.rss_peak > *peak)
        *peak = l.rss_peak;
    if (errors)
        *errors += l.errors;
    free(l.lat);
    return (double)(l.answers - l.errors) / (dt > seconds ? seconds : dt);
}

typedef struct pay_ctx {
    char (*accounts)[40];
    size_t naccounts;
    const char *key;
    uint64_t next_n, limit; /* requests to send */
    double rate;            /* 0: as fast as answered */
    double start;
    uint64_t sent, ok, refused;
    unsigned run;
} pay_ctx;

static size_t pay_next(load *l, hconn *c, char *buf, size_t cap, double now)
{
    pay_ctx *p = l->ctx;
    if (p->sent >= p->limit)
        return 0;
    double due = now;
    if (p->rate > 0) {
        due = p->start + (double)p->sent / p->rate;
        if (due > now)
            return 0;
    }
    c->t0 = due;
    uint64_t n = p->sent++;
    char body[512];
    int bl = snprintf(body, sizeof body,
                      "{\"client_id\":\"b%u-%llu\",\"payment\":{\"destination\":\"%s\","
                      "\"amount\":{\"value\":\"0.000001\",\"currency\":\"SWT\"}}}",
                      p->run, (unsigned long long)n, GENESIS);
    const char *from = p->accounts[n % p->naccounts];
    return (size_t)snprintf(buf, cap,
                            "POST /v2/accounts/%s/payments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                            "Content-Length: %d\r\n\r\n%s",
                            from, p->key, bl, body);
}

static void pay_done(load *l, hconn *c, int status, const char *body, size_t len, double lat)
{
    pay_ctx *p = l->ctx;
    if (status == 200 || status == 202)
        p->ok++;
    else {
        p->refused++;
        if (p->refused <= 3)
            fprintf(stderr, "bench_gateway: payment answered %d: %.*s\n", status,
                    (int)(len > 300 ? 300 : len), body);
    }
}

static bool pay_finished(load *l, double now)
{
    pay_ctx *p = l->ctx;
    return p->sent >= p->limit && l->answers + l->errors >= p->limit;
}

/* Waits (up to 60 s) for the gateway's pending count to reach zero. */
static long drain_pending(int port);

/* One paced round: `rate` payments/s for `seconds` x 2. Prints it; returns
 * its p99 in ms. */
static double paced_round(int round, int port, const char *key, char (*accts)[40], size_t na,
                          unsigned run, double rate, bool pace_given, double seconds, int conns,
                          double *rss_peak)
{
    uint64_t n = (uint64_t)(rate * seconds * 2);
    if (n < 200)
        n = 200;
    pay_ctx p = {accts, na, key, 0, n, rate, 0, 0, 0, 0, run};
    load l = {
        .next = pay_next, .done = pay_done, .finished = pay_finished, .ctx = &p, .watch = g_gw};
    p.start = now_s();
    run_load(&l, port, conns);
    if (l.rss_peak > *rss_peak)
        *rss_peak = l.rss_peak;
    qsort(l.lat, l.nlat, sizeof *l.lat, cmp_dbl);
    double p50 = l.nlat ? l.lat[l.nlat / 2] * 1000 : 0,
           p99 = l.nlat ? l.lat[(size_t)((double)l.nlat * 0.99)] * 1000 : 0,
           pmax = l.nlat ? l.lat[l.nlat - 1] * 1000 : 0;
    printf("  paced round %d at %.0f/s (%s): %llu payments, HTTP answer latency p50 %.1f ms "
           "p99 %.1f ms max %.1f ms (%llu refused)\n",
           round, rate, pace_given ? "--pace" : "80 % of the round before", (unsigned long long)n,
           p50, p99, pmax, (unsigned long long)p.refused);
    free(l.lat);
    drain_pending(port);
    return p99;
}

/* The gateway's count of transactions not yet final (/v2/health). */
static long pending_now(int port)
{
    char out[4096];
    if (http_once(port, "GET", "/v2/health", NULL, NULL, out, sizeof out) < 0)
        return -1;
    const char *p = strstr(out, "\"pending\":");
    return p ? strtol(p + 10, NULL, 10) : -1;
}

static long drain_pending(int port)
{
    double end = now_s() + 60;
    long pend;
    while ((pend = pending_now(port)) != 0 && now_s() < end)
        usleep(20000);
    return pend;
}

/* Validated count among a run's payments: from /metrics would need admin;
 * instead the client ids of the run are looked up (a sample when many). */
static uint64_t count_validated(int port, const char *key, char (*accounts)[40], size_t na,
                                unsigned run, uint64_t n, uint64_t *failed)
{
    uint64_t v = 0, step = n > 400 ? n / 400 : 1, looked = 0;
    for (uint64_t i = 0; i < n; i += step) {
        char path[256], out[8192];
        snprintf(path, sizeof path, "/v2/accounts/%s/payments/b%u-%llu", accounts[i % na], run,
                 (unsigned long long)i);
        looked++;
        if (http_once(port, "GET", path, key, NULL, out, sizeof out) == 200 &&
            strstr(out, "\"status\":\"validated\"") && strstr(out, "tesSUCCESS"))
            v++;
        else if (failed)
            (*failed)++;
    }
    return (uint64_t)((double)v * (double)n / (double)looked + 0.5);
}

/* ------------------------------------------------------------ CPU by thread */

enum {
    GT_LOOP,
    GT_SIGN,
    GT_AUDIT,
    GT_STORE,
    GT_OTHER,
    NT_LOOP,
    NT_VERIFY,
    NT_WRITER,
    NT_OTHER,
    T_SELF,
    T_N
};

static int gw_thread_class(bool main, const char *name)
{
    return main                           ? GT_LOOP
           : !strcmp(name, "jt-gw-sign")  ? GT_SIGN
           : !strcmp(name, "jt-gw-audit") ? GT_AUDIT
           : !strcmp(name, "jt-gw-store") ? GT_STORE
                                          : GT_OTHER;
}

static int node_thread_class(bool main, const char *name)
{
    return main                         ? NT_LOOP
           : !strcmp(name, "jt-verify") ? NT_VERIFY
           : !strcmp(name, "jt-writer") ? NT_WRITER
                                        : NT_OTHER;
}

/* CPU seconds so far: the gateway's and the node's threads, and this
 * program's own. */
static void cpu_snapshot(double out[T_N])
{
    for (int i = 0; i < T_N; i++)
        out[i] = 0;
    bench_threads_cpu(g_gw, gw_thread_class, out);
    bench_threads_cpu(g_node, node_thread_class, out);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    out[T_SELF] = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                  (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ------------------------------------------------------------ main */

typedef struct opts {
    const char *bin;
    double seconds;
    int rounds, conns, pay_conns, accounts, close_ms;
    unsigned payments;
    bool ws_link; /* the gateway reaches the node over WebSocket, not jtp */
    double pace;  /* the latency load's rate; 0: 80 % of the measured rate */
} opts;

static void usage(void)
{
    fprintf(stderr, "usage: bench_gateway [--bin DIR] [--seconds S] [--rounds R] [--conns C]\n"
                    "                     [--pay-conns C] [--payments N] [--accounts N]\n"
                    "                     [--close-ms MS] [--link jtp|ws] [--pace N] [--keep]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    opts o = {"build/bin", 3, 3, 32, 128, 8, 250, 40000, false, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--keep")) {
            g_keep = true;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "--bin"))
            o.bin = v;
        else if (!strcmp(a, "--seconds"))
            o.seconds = strtod(v, NULL);
        else if (!strcmp(a, "--rounds"))
            o.rounds = (int)strtol(v, NULL, 10);
        else if (!strcmp(a, "--conns"))
            o.conns = (int)strtol(v, NULL, 10);
        else if (!strcmp(a, "--pay-conns"))
            o.pay_conns = (int)strtol(v, NULL, 10);
        else if (!strcmp(a, "--payments"))
            o.payments = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--accounts"))
            o.accounts = (int)strtol(v, NULL, 10);
        else if (!strcmp(a, "--close-ms"))
            o.close_ms = (int)strtol(v, NULL, 10);
        else if (!strcmp(a, "--pace"))
            o.pace = strtod(v, NULL);
        else if (!strcmp(a, "--link") && (!strcmp(v, "jtp") || !strcmp(v, "ws")))
            o.ws_link = !strcmp(v, "ws");
        else
            usage();
    }
    if (o.rounds < 1 || o.conns < 1 || o.conns > MAX_CONNS || o.pay_conns < 1 ||
        o.pay_conns > MAX_CONNS || o.accounts < 1 || o.accounts > 64 || o.seconds <= 0)
        usage();
    if (sodium_init() < 0)
        die("sodium_init");
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows through tee */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    snprintf(g_tmp, sizeof g_tmp, "/tmp/jt-bench-gw-XXXXXX");
    if (!mkdtemp(g_tmp))
        die("mkdtemp: %s", strerror(errno));
    atexit(cleanup);

    char nodebin[512], gwbin[512], ndir[300], gdir[300], nlog[320], glog[320], tmp[600];
    snprintf(nodebin, sizeof nodebin, "%s/jt-node", o.bin);
    snprintf(gwbin, sizeof gwbin, "%s/jt-gateway", o.bin);
    snprintf(ndir, sizeof ndir, "%s/node", g_tmp);
    snprintf(gdir, sizeof gdir, "%s/gw", g_tmp);
    snprintf(nlog, sizeof nlog, "%s/node.log", g_tmp);
    snprintf(glog, sizeof glog, "%s/gw.log", g_tmp);

    /* ---- jt-node */
    int nport = free_port(), jport = free_port(), gport = free_port();
    char nws[64], njtp[64], ncl[32], nurl[200], init_out[2048];
    snprintf(nws, sizeof nws, "127.0.0.1:%d", nport);
    snprintf(njtp, sizeof njtp, "127.0.0.1:%d", jport);
    snprintf(ncl, sizeof ncl, "%d", o.close_ms);
    spawn((char *[]){nodebin, "init", "--data", ndir, NULL}, nlog, true, init_out, sizeof init_out);
    /* The gateway reaches its node as docs/gateway.md sets it up: jtp, the
     * node's key pinned (--link ws: over WebSocket instead). */
    if (o.ws_link) {
        snprintf(nurl, sizeof nurl, "ws://127.0.0.1:%d", nport);
    } else {
        static const char tag[] = "node public key: ";
        const char *k = strstr(init_out, tag);
        if (!k)
            die("jt-node init did not print its public key");
        k += sizeof tag - 1;
        snprintf(nurl, sizeof nurl, "jtp://127.0.0.1:%d?key=%.*s", jport, (int)strcspn(k, " \r\n"),
                 k);
    }
    /* The gateway is this node's one client: its request budget (a guard
     * against public clients sharing the node's loop) is lifted, as an
     * operator does for a gateway in front of its own node. */
    snprintf(tmp, sizeof tmp, "%s/jt-node.conf", ndir);
    FILE *ncf = fopen(tmp, "a");
    if (!ncf)
        die("%s: %s", tmp, strerror(errno));
    fprintf(ncf, "\n[limits]\nrequest_budget = 100000000\naddress_budget = 100000000\n");
    fclose(ncf);
    g_node = spawn((char *[]){nodebin, "run", "--data", ndir, "--ws", nws, "--jtp",
                              o.ws_link ? "" : njtp, "--close-ms", ncl, NULL},
                   nlog, false, NULL, 0);
    wait_log(nlog, "event=start", 30, g_node);

    /* ---- jt-gateway */
    spawn((char *[]){gwbin, "init", "--data", gdir, "--node", nurl, NULL}, glog, true, NULL, 0);
    snprintf(tmp, sizeof tmp, "%s/jt-gateway.conf", gdir);
    FILE *cf = fopen(tmp, "a");
    if (!cf)
        die("%s: %s", tmp, strerror(errno));
    fprintf(cf,
            "\n[http]\naddress = 127.0.0.1:%d\nmax_conns_per_addr = 2048\nmax_conns = 4096\n"
            "[keystore]\nkdf_cost = min\n[limits]\nkey_rate = 1000000\nkey_burst = 1000000\n"
            "max_pending = 100000\n[submit]\nledger_window = 20\n",
            gport);
    fclose(cf);
    char admin[256], reader[256], signer[256];
    spawn((char *[]){gwbin, "apikey", "create", "--scopes", "admin", "--accounts", "*", "--data",
                     gdir, NULL},
          glog, true, admin, sizeof admin);
    spawn((char *[]){gwbin, "apikey", "create", "--scopes", "read", "--data", gdir, NULL}, glog,
          true, reader, sizeof reader);
    admin[strcspn(admin, "\r\n")] = 0;
    reader[strcspn(reader, "\r\n")] = 0;
    g_gw = spawn((char *[]){gwbin, "run", "--data", gdir, NULL}, glog, false, NULL, 0);
    wait_log(glog, "event=start", 30, g_gw);
    char out[16384], body[1024], path[256];
    double t_end = now_s() + 30;
    while (http_once(gport, "GET", "/v2/health", NULL, NULL, out, sizeof out) != 200) {
        if (now_s() > t_end)
            die("the gateway is not healthy: %s", out);
        usleep(100000);
    }
    snprintf(body, sizeof body, "{\"secret\":\"%s\"}", GENESIS_SECRET);
    if (http_once(gport, "POST", "/v2/wallet/import", admin, body, out, sizeof out) != 201)
        die("wallet/import: %s", out);
    char(*accts)[40] = calloc((size_t)o.accounts, sizeof *accts);
    char acctlist[64 * 41] = "";
    for (int i = 0; i < o.accounts; i++) {
        if (http_once(gport, "POST", "/v2/wallet/new", admin, "{}", out, sizeof out) != 201 ||
            !json_str(out, "address", accts[i], sizeof accts[i]))
            die("wallet/new: %s", out);
        snprintf(body, sizeof body,
                 "{\"client_id\":\"fund-%d\",\"payment\":{\"destination\":\"%s\","
                 "\"amount\":{\"value\":\"100000\",\"currency\":\"SWT\"}}}",
                 i, accts[i]);
        snprintf(path, sizeof path, "/v2/accounts/%s/payments?wait=validated", GENESIS);
        if (http_once(gport, "POST", path, admin, body, out, sizeof out) != 200 ||
            !strstr(out, "\"validated\""))
            die("funding: %s", out);
        size_t al = strlen(acctlist);
        snprintf(acctlist + al, sizeof acctlist - al, "%s%s", i ? "," : "", accts[i]);
    }
    spawn((char *[]){gwbin, "apikey", "create", "--scopes", "read,sign", "--accounts", acctlist,
                     "--data", gdir, NULL},
          glog, true, signer, sizeof signer);
    signer[strcspn(signer, "\r\n")] = 0;
    /* The gateway follows the accounts it holds from its start. */
    kill(g_gw, SIGTERM);
    waitpid(g_gw, NULL, 0);
    g_gw = spawn((char *[]){gwbin, "run", "--data", gdir, NULL}, glog, false, NULL, 0);
    t_end = now_s() + 30;
    while (http_once(gport, "GET", "/v2/health", NULL, NULL, out, sizeof out) != 200) {
        if (now_s() > t_end)
            die("the gateway is not healthy after its restart: %s", out);
        usleep(100000);
    }
    sleep(1);

    /* ---- a. balance reads vs nginx */
    char rpath[128];
    snprintf(rpath, sizeof rpath, "/v2/accounts/%s/balances", accts[0]);
    if (http_once(gport, "GET", rpath, reader, NULL, out, sizeof out) != 200)
        die("balances: %s", out);
    char *gbody = strstr(out, "\r\n\r\n");
    size_t gblen = gbody ? strlen(gbody + 4) : 0;
    double rss_rest = rss_mb(g_gw), rss_peak_reads = rss_rest, rss_peak_pay = 0;

    /* The same body from nginx (one worker, no log), or from our own server. */
    static char constbody[8192];
    snprintf(constbody, sizeof constbody, "%s", gbody ? gbody + 4 : "{}");
    int bport = free_port();
    bool have_nginx = access("/usr/sbin/nginx", X_OK) == 0;
    const_srv cs = {0};
    pthread_t cst;
    const char *baseline_name = "nginx (1 worker)";
    if (have_nginx) {
        char conf[600], bodyfile[600];
        /* nginx's worker may run as another user: let it read. */
        chmod(g_tmp, 0755);
        snprintf(bodyfile, sizeof bodyfile, "%s/balances.json", g_tmp);
        FILE *bf = fopen(bodyfile, "w");
        if (!bf)
            die("%s", bodyfile);
        fputs(constbody, bf);
        fclose(bf);
        snprintf(conf, sizeof conf, "%s/nginx.conf", g_tmp);
        FILE *nf = fopen(conf, "w");
        if (!nf)
            die("%s", conf);
        fprintf(nf,
                "worker_processes 1;\ndaemon off;\npid %s/nginx.pid;\nerror_log %s/nginx.err;\n"
                "events { worker_connections 4096; }\n"
                "http { access_log off; keepalive_requests 1000000; keepalive_timeout 60;\n"
                "  client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s;\n"
                "  uwsgi_temp_path %s; scgi_temp_path %s;\n"
                "  server { listen 127.0.0.1:%d; default_type application/json;\n"
                "    location / { root %s; try_files /balances.json =404; } } }\n",
                g_tmp, g_tmp, g_tmp, g_tmp, g_tmp, g_tmp, g_tmp, bport, g_tmp);
        fclose(nf);
        char nglog[600];
        snprintf(nglog, sizeof nglog, "%s/nginx.log", g_tmp);
        g_nginx = spawn((char *[]){"/usr/sbin/nginx", "-c", conf, "-p", g_tmp, NULL}, nglog, false,
                        NULL, 0);
        t_end = now_s() + 10;
        while (http_once(bport, "GET", "/", NULL, NULL, out, sizeof out) != 200) {
            if (now_s() > t_end || waitpid(g_nginx, NULL, WNOHANG) == g_nginx) {
                fprintf(
                    stderr,
                    "bench_gateway: nginx did not start (see %s); using the built-in baseline\n",
                    nglog);
                g_nginx = 0;
                have_nginx = false;
                break;
            }
            usleep(50000);
        }
    }
    if (!have_nginx) {
        baseline_name = "built-in constant server (nginx not installed)";
        static char answer[9000];
        int al = snprintf(answer, sizeof answer,
                          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\n\r\n%s",
                          strlen(constbody), constbody);
        cs.answer = answer;
        cs.alen = (size_t)al;
        cs.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)bport),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int one = 1;
        setsockopt(cs.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(cs.lfd, (struct sockaddr *)&a, sizeof a) || listen(cs.lfd, 1024))
            die("baseline server: %s", strerror(errno));
        pthread_create(&cst, NULL, const_srv_main, &cs);
    }

    printf("bench_gateway: jt-gateway and jt-node from %s, ledger every %d ms, the gateway's node "
           "link over %s; %d read connections, %d payment connections, %d accounts\n",
           o.bin, o.close_ms, o.ws_link ? "WebSocket" : "jtp", o.conns, o.pay_conns, o.accounts);
    printf("\n== a. balance reads (GET /v2/accounts/{a}/balances, %zu-byte body, keep-alive)\n",
           gblen);
    double *rr = calloc((size_t)o.rounds, sizeof *rr), *gr = calloc((size_t)o.rounds, sizeof *gr),
           *br = calloc((size_t)o.rounds + 1, sizeof *br),
           *rat = calloc((size_t)o.rounds, sizeof *rat);
    uint64_t gerr = 0, berr = 0;
    br[0] = read_rate(bport, "/", NULL, o.conns, o.seconds, 0, NULL, &berr);
    for (int r = 0; r < o.rounds; r++) {
        gr[r] = read_rate(gport, rpath, reader, o.conns, o.seconds, g_gw, &rss_peak_reads, &gerr);
        br[r + 1] = read_rate(bport, "/", NULL, o.conns, o.seconds, 0, NULL, &berr);
        double base = (br[r] + br[r + 1]) / 2;
        rat[r] = gr[r] / base;
        printf("  round %d: gateway %.0f/s, %s %.0f/s (mean of the slices beside it), ratio %.3f\n",
               r + 1, gr[r], have_nginx ? "nginx" : "baseline", base, rat[r]);
    }
    double read_ratio = median(rat, (size_t)o.rounds);
    double gmed = median(gr, (size_t)o.rounds), bmed = median(br, (size_t)o.rounds + 1);
    double rss_after_reads = rss_mb(g_gw);
    if (gerr || berr)
        printf("  errors: gateway %llu, baseline %llu\n", (unsigned long long)gerr,
               (unsigned long long)berr);

    /* ---- b. payments */
    printf("\n== b. signed payments, HTTP in -> validated (%d connections, %d accounts)\n",
           o.pay_conns, o.accounts);
    double ceil0 = ceiling(2.0);
    double *prs = calloc((size_t)o.rounds, sizeof *prs),
           *prat = calloc((size_t)o.rounds, sizeof *prat),
           *pceil = calloc((size_t)o.rounds, sizeof *pceil),
           *prate = calloc((size_t)o.rounds, sizeof *prate),
           *p99s = calloc((size_t)o.rounds, sizeof *p99s);
    if (!prs || !prat || !pceil || !prate || !p99s)
        die("out of memory");
    unsigned run = 0;
    uint64_t not_valid = 0;
    double ceil_prev = ceil0;
    double cpu[T_N] = {0}, cpu0[T_N], cpu1[T_N];
    uint64_t validated_all = 0;
    for (int r = 0; r < o.rounds; r++) {
        pay_ctx p = {accts, (size_t)o.accounts, signer, 0, o.payments, 0, 0, 0, 0, 0, ++run};
        cpu_snapshot(cpu0);
        load l = {
            .next = pay_next, .done = pay_done, .finished = pay_finished, .ctx = &p, .watch = g_gw};
        double t0 = now_s();
        p.start = t0;
        run_load(&l, gport, o.pay_conns);
        double t_http = now_s() - t0;
        /* Validated: the gateway's pending count back to zero. */
        long pend = drain_pending(gport);
        double dt = now_s() - t0;
        cpu_snapshot(cpu1);
        for (int i = 0; i < T_N; i++)
            cpu[i] += cpu1[i] - cpu0[i];
        if (l.rss_peak > rss_peak_pay)
            rss_peak_pay = l.rss_peak;
        uint64_t v =
            count_validated(gport, reader, accts, (size_t)o.accounts, run, o.payments, &not_valid);
        validated_all += v;
        double ceil1 = ceiling(2.0);
        double c = (ceil_prev + ceil1) / 2;
        ceil_prev = ceil1;
        pceil[r] = c;
        prs[r] = (double)v / dt;
        prat[r] = prs[r] / c;
        printf(
            "  round %d: %u payments answered in %.2f s (%llu refused), validated %llu in %.2f s: "
            "%.0f/s; sign+verify ceiling %.0f/s, ratio %.3f\n",
            r + 1, o.payments, t_http, (unsigned long long)p.refused, (unsigned long long)v, dt,
            prs[r], c, prat[r]);
        free(l.lat);
        if (pend != 0)
            printf("  (still pending after 60 s: %ld)\n", pend);
        prate[r] = o.pace > 0 ? o.pace : prs[r] * 0.8;
        p99s[r] = paced_round(r + 1, gport, signer, accts, (size_t)o.accounts, ++run, prate[r],
                              o.pace > 0, o.seconds, o.pay_conns, &rss_peak_pay);
    }
    if (validated_all) {
        /* Ticks are counted per thread: a hundredth of a second each. */
        double k = 1e6 / (double)validated_all;
        printf("  CPU per validated payment: gateway %.0f us (loop %.0f, signing %.0f, audit %.0f, "
               "store %.0f, other %.0f), node %.0f us (loop %.0f, verify %.0f, writer %.0f, other "
               "%.0f), this client %.0f us\n",
               (cpu[GT_LOOP] + cpu[GT_SIGN] + cpu[GT_AUDIT] + cpu[GT_STORE] + cpu[GT_OTHER]) * k,
               cpu[GT_LOOP] * k, cpu[GT_SIGN] * k, cpu[GT_AUDIT] * k, cpu[GT_STORE] * k,
               cpu[GT_OTHER] * k,
               (cpu[NT_LOOP] + cpu[NT_VERIFY] + cpu[NT_WRITER] + cpu[NT_OTHER]) * k,
               cpu[NT_LOOP] * k, cpu[NT_VERIFY] * k, cpu[NT_WRITER] * k, cpu[NT_OTHER] * k,
               cpu[T_SELF] * k);
    }
    double pay_ratio = median(prat, (size_t)o.rounds), pay_rate = median(prs, (size_t)o.rounds);
    double ceil_med = median(pceil, (size_t)o.rounds);

    /* The latency figure: the median paced round's p99, as the median
     * round's ratio is the rate's. */
    double p99 = median(p99s, (size_t)o.rounds), target = median(prate, (size_t)o.rounds);
    free(p99s);
    free(prate);
    drain_pending(gport);
    sleep(1);
    double rss_end = rss_mb(g_gw), rss_end_file = rss_kind_mb(g_gw, "RssFile:");

    printf("\n== c. gateway RSS\n");
    printf("  at rest after set-up %.1f MB; peak under reads %.1f MB (%.1f MB after); peak under "
           "payments %.1f MB; at rest at the end %.1f MB (%.1f MB of it file pages: the store's "
           "map)\n",
           rss_rest, rss_peak_reads, rss_after_reads, rss_peak_pay, rss_end, rss_end_file);

    printf("\nSUMMARY gateway reads: %.0f balance reads/s, %s %.0f/s, ratio %.3f (target >= 0.5)  "
           "%s\n",
           gmed, baseline_name, bmed, read_ratio, read_ratio >= 0.5 ? "PASS" : "BELOW");
    printf("SUMMARY gateway payments: %.0f validated payments/s (HTTP in -> validated), two-core "
           "sign+verify ceiling %.0f/s, ratio %.3f (target >= 0.25)  %s\n",
           pay_rate, ceil_med, pay_ratio, pay_ratio >= 0.25 ? "PASS" : "BELOW");
    if (o.pace > 0)
        printf("SUMMARY gateway latency: p99 %.1f ms (median round) at %.0f payments/s (--pace: "
               "information)\n",
               p99, target);
    else
        printf("SUMMARY gateway latency: p99 %.1f ms (median round) at %.0f payments/s (median "
               "round; each at 80 %% of the rate round before it) (target < 50 ms)  "
               "%s\n",
               p99, target, p99 < 50 ? "PASS" : "BELOW");
    printf("SUMMARY gateway RSS: %.1f MB at rest, %.1f MB peak under reads, %.1f MB peak under "
           "payments, %.1f MB at rest after\n",
           rss_rest, rss_peak_reads, rss_peak_pay, rss_end);
    if (not_valid)
        printf("  note: %llu sampled payments were not validated with tesSUCCESS\n",
               (unsigned long long)not_valid);
    if (!have_nginx) {
        cs.stop = true;
        pthread_join(cst, NULL);
        close(cs.lfd);
    }
    free(rr);
    free(gr);
    free(br);
    free(rat);
    free(prs);
    free(prat);
    free(pceil);
    free(accts);
    return 0;
}
