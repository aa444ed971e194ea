/*
 * bench_node.c — jt-node under load, against the machine's two-core
 * signature-verification ceiling measured in the same run.
 *
 *   bench_node [--mode payments|offers] [--node PATH] [--conns C] [--window W]
 *              [--close-ms MS] [--rounds R] [--verify-seconds S] [--keep]
 *              [--json] [--verbose]
 *     payments: [--accounts N] [--payments M] [--track ledger|stream]
 *     offers:   [--makers N] [--takers N] [--depth N] [--offers M]
 *               [--round-seconds S] [--book-clients C] [--book-window W]
 *               [--book-seconds S]
 *
 * Payments mode (the default): validated payments per second.
 *
 *  1. Creates a data directory, runs `jt-node init` and starts `jt-node run`
 *     on kernel-chosen loopback ports with a configuration of its own (its
 *     client key listed as admin_key; room for large replies and queues).
 *  2. Generates N secp256k1 accounts and signs, on two threads, N funding
 *     payments from the genesis account and M payments among the accounts
 *     (each account's Sequence increasing, Fee 10 drops). Funds the accounts
 *     (ledger_accept) and waits until every funding payment is validated
 *     with tesSUCCESS. None of this is measured.
 *  3. R rounds, each M/R payments (split at multiples of N, so every account
 *     pays in every round and its Sequence simply continues), alternating
 *     with the baseline: secp256k1_ecdsa_verify on two threads over
 *     pre-made signatures (V L V L ... V). A round's ceiling is the mean of
 *     the slices on either side of it; its ratio is its validated rate over
 *     that ceiling; the reported ratio is the median of the rounds' ratios,
 *     so load from elsewhere on a shared machine hits both sides alike.
 *  4. Load: C encrypted jtp connections (node key pinned), each keeping up to
 *     W submit requests outstanding; an account's transactions always go
 *     over the same connection, in Sequence order. A separate connection
 *     follows the ledger stream and, for every closed ledger, fetches the IDs
 *     of its transactions: a transaction is validated when its ID arrives.
 *     After each round (off the clock) each of its ledgers is fetched again
 *     in binary with metadata, and only tesSUCCESS transactions are counted.
 *     With `--track stream` the transactions stream is followed instead
 *     (result and ID in one message, but much more work for the node).
 *
 * Offers mode: OfferCreates that cross 1-3 offers of a book `depth` offers
 * deep, per second, against the same ceiling; and book_offers on that book.
 * The node, the connections, the rounds and the tracking are the same. The
 * set-up (not measured) funds an issuer of CNY, M makers and T takers, opens
 * the makers' and takers' CNY trust lines, issues CNY to the makers and
 * places the book; the load is pre-signed takers' OfferCreates (each buying
 * CNY with SWT, sized to take from 1-3 offers) with the makers' refills that
 * keep the book's depth, sent in rounds of a fixed time (see offers_run and
 * the comment above OFFER_CNY_UNITS). The rate counts the takers that took
 * from the book, read from every taker's metadata; a run whose takers did
 * not take from the book, or were not filled, or whose CNY balances do not
 * show the fills, FAILs (exit status 3). book_offers (limit 20) is measured
 * from concurrent jtp clients on the book as placed and again after the
 * load: replies per second and the latency of each request.
 *
 * A round's rate counts tesSUCCESS transactions (offers mode: crossing
 * takers) in the ledgers closed while the submitters were busy (steady
 * state): (La, Lb], where La is the first ledger holding the round's
 * transactions and Lb the last one closed before its last submit, over the
 * time between the two closes as the client saw them. Latency is from
 * writing a submit request to learning that the transaction is in a
 * validated (closed) ledger.
 */
#define _GNU_SOURCE /* nftw, memmem */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <secp256k1.h>
#include <sodium.h>

#include "jt/jt.h"
#include "jt/jtp.h"

#define GENESIS_SECRET  "snoPBjXtMeMyMHUVTgbuqAfg1SUTb"
#define GENESIS_ADDRESS "jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh"

#define FUND_DROPS  1000000000ull /* 1 000 SWT per account: far above the reserve */
#define PAY_DROPS   1000ull
#define FEE_DROPS   10ull
#define MAX_CONNS   16
#define MAX_MSG     ((size_t)128 << 20) /* ledger replies with every transaction */
#define READ_CHUNK  ((size_t)256 << 10)
#define CTRL_ID     1000000000ull /* ids of control requests; below: index in the set submitted */
#define LEDGER_ID   2000000000ull /* hash-list fetches: LEDGER_ID + ledger index */
#define RESULT_ID   3000000000ull /* binary fetches (results): RESULT_ID + ledger index */
#define BOOK_ID     4000000000ull /* book_offers requests: BOOK_ID + request number */
#define TXR_ID      5000000000ull /* one transaction's result (tx, binary): TXR_ID + its index */
#define MAX_LEDGERS 100000
#define MAX_ROUNDS  16

/* ---------------------------------------------------------------- helpers */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void cleanup(void);

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_node: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        die("out of memory (%zu x %zu bytes)", n, size);
    return p;
}

static void check(jt_err e, const char *what)
{
    if (e)
        die("%s: %s", what, jt_strerror(e));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double s[64];
    if (n <= 0 || n > 64)
        return 0;
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Nearest-rank percentile of a sorted array. */
static double pct(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return sorted[k - 1];
}

/* "12 345 678" */
static const char *grouped(double v, char *buf, size_t cap)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", v < 0 ? -v : v);
    size_t n = strlen(digits), o = 0;
    if (v < 0 && o + 1 < cap)
        buf[o++] = '-';
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ' ';
        buf[o++] = digits[i];
    }
    buf[o] = 0;
    return buf;
}

/* ---------------------------------------------------------------- the node process */

static pid_t g_node_pid = -1;
static char g_dir[4096]; /* parent temp dir: data/, node.log, bench.conf */
static bool g_keep;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    (void)remove(path); /* best effort: a leftover file is not worth failing for */
    return 0;
}

static void stop_node(void)
{
    if (g_node_pid <= 0)
        return;
    kill(g_node_pid, SIGTERM);
    for (int i = 0; i < 100; i++) { /* up to 5 s for a clean stop */
        if (waitpid(g_node_pid, NULL, WNOHANG) == g_node_pid) {
            g_node_pid = -1;
            return;
        }
        usleep(50000);
    }
    kill(g_node_pid, SIGKILL);
    waitpid(g_node_pid, NULL, 0);
    g_node_pid = -1;
}

static void cleanup(void)
{
    stop_node();
    if (g_dir[0] && !g_keep)
        nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    else if (g_dir[0])
        fprintf(stderr, "bench_node: kept %s\n", g_dir);
    g_dir[0] = 0;
}

static void on_signal(int sig)
{
    /* Not async-signal-safe, but the process is going away and leaving a
     * node and its data behind would be worse. */
    if (g_node_pid > 0) {
        kill(g_node_pid, SIGKILL);
        waitpid(g_node_pid, NULL, 0);
        g_node_pid = -1;
    }
    cleanup();
    _exit(128 + sig);
}

static void print_log_tail(void)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/node.log", g_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    static char lines[20][512];
    int n = 0;
    while (fgets(lines[n % 20], sizeof lines[0], f))
        n++;
    fclose(f);
    fprintf(stderr, "bench_node: last lines of %s:\n", path);
    for (int i = n > 20 ? n - 20 : 0; i < n; i++)
        fprintf(stderr, "  %s", lines[i % 20]);
}

static void node_check_alive(void)
{
    int st;
    if (g_node_pid > 0 && waitpid(g_node_pid, &st, WNOHANG) == g_node_pid) {
        g_node_pid = -1;
        print_log_tail();
        if (WIFSIGNALED(st))
            die("jt-node died with signal %d", WTERMSIG(st));
        die("jt-node exited with status %d", WEXITSTATUS(st));
    }
}

/* A connection broke: if that is because the node is gone, say so (it may
 * take a moment to become a zombie). */
static void node_check_gone(void)
{
    for (int i = 0; i < 25; i++) {
        node_check_alive();
        usleep(20000);
    }
}

/* Runs `jt-node init --data DIR --json` and returns the node key (hex). */
static void node_init(const char *node, const char *data, char key_hex[65])
{
    int pfd[2];
    if (pipe(pfd))
        die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        execl(node, node, "init", "--data", data, "--json", (char *)NULL);
        fprintf(stderr, "bench_node: exec %s: %s\n", node, strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    char out[4096];
    size_t n = 0;
    ssize_t r;
    while (n + 1 < sizeof out && (r = read(pfd[0], out + n, sizeof out - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = 0;
    close(pfd[0]);
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("`%s init --data %s` failed", node, data);
    jt_json_doc *doc = NULL;
    if (jt_json_parse(out, n, NULL, &doc, NULL) != JT_OK)
        die("jt-node init printed no JSON: %s", out);
    const char *k = jt_json_string(jt_json_get(jt_json_root(doc), "node_public_key_hex"));
    if (!k || strlen(k) != 64)
        die("jt-node init: no node_public_key_hex in %s", out);
    memcpy(key_hex, k, 65);
    jt_json_doc_free(doc);
}

/* Starts `jt-node run` with stderr going to DIR/node.log and returns the
 * jtp port from its start line. */
static int node_start(const char *node, const char *data, const char *conf, unsigned close_ms)
{
    char logpath[4200], ms[16];
    snprintf(logpath, sizeof logpath, "%s/node.log", g_dir);
    snprintf(ms, sizeof ms, "%u", close_ms);
    int lfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (lfd < 0)
        die("%s: %s", logpath, strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the benchmark */
        dup2(lfd, 2);
        int nfd = open("/dev/null", O_RDWR);
        if (nfd >= 0)
            dup2(nfd, 1);
        execl(node, node, "run", "--data", data, "--config", conf, "--ws", "127.0.0.1:0", "--jtp",
              "127.0.0.1:0", "--close-ms", ms, (char *)NULL);
        fprintf(stderr, "bench_node: exec %s: %s\n", node, strerror(errno));
        _exit(127);
    }
    close(lfd);
    g_node_pid = pid;
    double t0 = now();
    while (now() - t0 < 15) {
        node_check_alive();
        FILE *f = fopen(logpath, "r");
        char line[1024];
        while (f && fgets(line, sizeof line, f)) {
            const char *s = strstr(line, "jt-node event=start");
            const char *j = s ? strstr(s, " jtp=") : NULL;
            if (!j)
                continue;
            const char *end = strchr(j + 1, ' ');
            const char *colon = NULL;
            for (const char *p = j; p < (end ? end : j + strlen(j)); p++)
                if (*p == ':')
                    colon = p;
            long port = colon ? strtol(colon + 1, NULL, 10) : 0;
            fclose(f);
            if (port <= 0 || port > 65535)
                die("cannot read the jtp port from: %s", line);
            return (int)port;
        }
        if (f)
            fclose(f);
        usleep(20000);
    }
    print_log_tail();
    die("jt-node did not report its start within 15 s");
}

/* VmRSS, VmHWM, RssAnon and RssFile in kB (-1 if unknown). */
static void node_memory(long *rss_kb, long *hwm_kb, long *anon_kb, long *file_kb)
{
    char path[64], line[256];
    *rss_kb = *hwm_kb = *anon_kb = *file_kb = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)g_node_pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6))
            *rss_kb = strtol(line + 6, NULL, 10);
        else if (!strncmp(line, "VmHWM:", 6))
            *hwm_kb = strtol(line + 6, NULL, 10);
        else if (!strncmp(line, "RssAnon:", 8))
            *anon_kb = strtol(line + 8, NULL, 10);
        else if (!strncmp(line, "RssFile:", 8))
            *file_kb = strtol(line + 8, NULL, 10);
    }
    fclose(f);
}

/* The node's CPU time (user + system), seconds. */
static double node_cpu(void)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)g_node_pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p)
        return 0;
    unsigned long ut = 0, stime = 0;
    /* After ")": state(3) ... utime is field 14, stime 15. */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stime) != 2)
        return 0;
    return (double)(ut + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* Bytes the node caused to be written to storage (/proc/PID/io). */
static long long node_write_bytes(void)
{
    char path[64], line[128];
    snprintf(path, sizeof path, "/proc/%d/io", (int)g_node_pid);
    FILE *f = fopen(path, "r");
    long long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "write_bytes:", 12))
            v = strtoll(line + 12, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* Allocated and apparent bytes of the files under `dir`. */
static long long g_du_alloc, g_du_size;
static int du_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (flag == FTW_F) {
        g_du_alloc += (long long)sb->st_blocks * 512;
        g_du_size += (long long)sb->st_size;
    }
    return 0;
}

static void disk_usage(const char *dir, long long *alloc, long long *size)
{
    g_du_alloc = g_du_size = 0;
    nftw(dir, du_entry, 16, FTW_PHYS);
    *alloc = g_du_alloc;
    *size = g_du_size;
}

/* ---------------------------------------------------------------- transactions */

enum { P_UNSENT, P_SENT, P_ACKED, P_REJECTED, P_VALIDATED };

/* What a transaction is for (offers mode reads the metadata of the last
 * two; everything else only needs its result). */
enum { K_OTHER, K_TAKER, K_MAKER };

typedef struct ptx {
    char *req; /* the submit request, id included */
    uint32_t req_len;
    uint32_t ledger;
    uint32_t src; /* the sending account: its transactions share a connection */
    uint8_t id[32];
    uint8_t state;
    bool has_result;
    int16_t ter_sub, ter_val;
    uint8_t kind;    /* K_* */
    uint8_t round;   /* the round of load that sent it (1, 2, ...) */
    uint8_t crossed; /* offers: other accounts' offers it took from (metadata) */
    uint8_t taken;   /* ... of which it took in full (deleted) */
    bool placed;     /* offers: its own offer was placed in the book */
    double t_sub, t_ack, t_val;
} ptx;

/* ID -> index in a set: open addressing over the first 8 bytes of the ID. */
typedef struct idmap {
    uint32_t *slot; /* index + 1; 0 = empty */
    size_t mask;
    const ptx *v;
} idmap;

static uint64_t id_hash(const uint8_t id[32])
{
    uint64_t h;
    memcpy(&h, id, 8);
    return h;
}

static void idmap_init(idmap *m, const ptx *v, size_t n)
{
    size_t cap = 1024;
    while (cap < n * 2)
        cap <<= 1;
    m->slot = xcalloc(cap, sizeof *m->slot);
    m->mask = cap - 1;
    m->v = v;
    for (size_t i = 0; i < n; i++) {
        size_t s = (size_t)id_hash(v[i].id) & m->mask;
        while (m->slot[s])
            s = (s + 1) & m->mask;
        m->slot[s] = (uint32_t)i + 1;
    }
}

static long idmap_find(const idmap *m, const uint8_t id[32])
{
    size_t s = (size_t)id_hash(id) & m->mask;
    while (m->slot[s]) {
        uint32_t i = m->slot[s] - 1;
        if (!memcmp(m->v[i].id, id, 32))
            return (long)i;
        s = (s + 1) & m->mask;
    }
    return -1;
}

/* A set of pre-signed transactions submitted together; request ids are
 * indices into the set. */
typedef struct ptx_set {
    ptx *v;
    size_t n;
    idmap map; /* ID -> index, once signed (set_signed) */
} ptx_set;

static void set_alloc(ptx_set *s, size_t n)
{
    memset(s, 0, sizeof *s);
    s->v = xcalloc(n, sizeof *s->v);
    s->n = n;
}

static void set_signed(ptx_set *s)
{
    idmap_init(&s->map, s->v, s->n);
}

static void set_free(ptx_set *s)
{
    for (size_t k = 0; k < s->n; k++)
        free(s->v[k].req);
    free(s->v);
    free(s->map.slot);
    memset(s, 0, sizeof *s);
}

typedef struct account {
    jt_keypair kp;
    jt_account_id id;
} account;

static char *make_request(uint64_t id, const jt_buf *blob, uint32_t *len)
{
    size_t cap = blob->len * 2 + 96;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    int n = snprintf(s, cap, "{\"id\":%" PRIu64 ",\"command\":\"submit\",\"tx_blob\":\"", id);
    if (jt_hex_encode(blob->data, blob->len, s + n, cap - (size_t)n) != JT_OK) {
        free(s);
        return NULL;
    }
    n += (int)(blob->len * 2);
    n += snprintf(s + n, cap - (size_t)n, "\"}");
    *len = (uint32_t)n;
    return s;
}

static jt_err drops(jt_amount *a, uint64_t v)
{
    char d[24];
    snprintf(d, sizeof d, "%" PRIu64, v);
    return jt_amount_from_drops(a, d, 0, NULL);
}

/* A new transaction with the fields every one has (Fee 10 drops); NULL
 * out of memory or on a bad field. */
static jt_obj *tx_begin(unsigned type, uint32_t flags, const account *from, uint32_t seq)
{
    jt_obj *tx = jt_obj_new();
    jt_amount fee;
    if (!tx || drops(&fee, FEE_DROPS) || jt_obj_set_uint(tx, "TransactionType", type) ||
        jt_obj_set_uint(tx, "Flags", flags) || jt_obj_set_uint(tx, "Sequence", seq) ||
        jt_obj_set_account(tx, "Account", &from->id) || jt_obj_set_amount(tx, "Fee", &fee)) {
        jt_obj_free(tx);
        return NULL;
    }
    return tx;
}

/* Signs `tx` (freed here) as `from`, with libjt, into p's submit request.
 * `e` is the error of filling in its own fields, if any. */
static jt_err tx_finish(ptx *p, uint64_t req_id, jt_obj *tx, const account *from, jt_err e)
{
    jt_buf b;
    jt_buf_init(&b);
    if (!tx)
        e = JT_ENOMEM;
    if (!e && !(e = jt_tx_sign(tx, &from->kp, NULL)) && !(e = jt_obj_to_binary(tx, 0, &b))) {
        jt_tx_blob_id(b.data, b.len, p->id);
        if (!(p->req = make_request(req_id, &b, &p->req_len)))
            e = JT_ENOMEM;
    }
    jt_buf_clear(&b);
    jt_obj_free(tx);
    return e;
}

static jt_err sign_payment(ptx *p, uint64_t req_id, const account *from, uint32_t seq,
                           const jt_account_id *to, const jt_amount *amt)
{
    jt_obj *tx = tx_begin(JT_TX_PAYMENT, 0, from, seq);
    jt_err e = tx ? jt_obj_set_account(tx, "Destination", to) : JT_OK;
    if (!e && tx)
        e = jt_obj_set_amount(tx, "Amount", amt);
    return tx_finish(p, req_id, tx, from, e);
}

static jt_err sign_swt_payment(ptx *p, uint64_t req_id, const account *from, uint32_t seq,
                               const jt_account_id *to, uint64_t amount)
{
    jt_amount amt;
    jt_err e = drops(&amt, amount);
    return e ? e : sign_payment(p, req_id, from, seq, to, &amt);
}

/* Runs fn(ctx, k) for k in [0, n) on two threads (k even on one, odd on
 * the other); dies naming `what` on the first error. */
typedef jt_err (*job_fn)(void *ctx, size_t k);
typedef struct par_job {
    job_fn fn;
    void *ctx;
    size_t n, first;
    jt_err err;
} par_job;

static void *par_thread(void *arg)
{
    par_job *j = arg;
    for (size_t k = j->first; k < j->n && !j->err; k += 2)
        j->err = j->fn(j->ctx, k);
    return NULL;
}

static void parallel(size_t n, job_fn fn, void *ctx, const char *what)
{
    par_job jobs[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        jobs[i] = (par_job){.fn = fn, .ctx = ctx, .n = n, .first = (size_t)i};
        if (pthread_create(&th[i], NULL, par_thread, &jobs[i]))
            die("pthread_create failed");
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        check(jobs[i].err, what);
    }
}

/* New secp256k1 accounts, keys generated on two threads. */
static jt_err make_key(void *ctx, size_t a)
{
    account *acct = &((account *)ctx)[a];
    jt_seed seed;
    jt_err e = jt_seed_generate(JT_KEY_SECP256K1, &seed);
    if (!e)
        e = jt_keypair_from_seed(&seed, &acct->kp);
    if (!e)
        e = jt_account_id_from_pubkey(acct->kp.pub, 33, &acct->id);
    jt_seed_clear(&seed);
    return e;
}

static account *make_accounts(size_t n)
{
    account *v = xcalloc(n, sizeof *v);
    parallel(n, make_key, v, "generating account keys");
    return v;
}

static void free_accounts(account *v, size_t n)
{
    for (size_t a = 0; a < n; a++)
        jt_keypair_clear(&v[a].kp);
    free(v);
}

/* Funding payments: genesis (Sequence gseq on) -> accts[k], amount drops
 * each, into v[k]. */
typedef struct fund_job {
    const account *genesis, *accts;
    uint32_t gseq;
    uint64_t amount;
    ptx *v;
} fund_job;

static jt_err sign_fund(void *ctx, size_t k)
{
    const fund_job *j = ctx;
    j->v[k].src = 0; /* every one from the genesis account: one connection, in Sequence order */
    return sign_swt_payment(&j->v[k], k, j->genesis, j->gseq + (uint32_t)k, &j->accts[k].id,
                            j->amount);
}

/* ---------------------------------------------------------------- jtp connections */

typedef struct conn {
    int fd;
    jt_jtp *j;
    char name[16];
    /* load: transaction indices in send order */
    uint32_t *order;
    size_t norder, next, inflight;
} conn;

typedef struct ledger_rec {
    uint32_t seq;
    uint32_t txn_count;
    double t_closed; /* ledgerClosed arrived */
    double t_known;  /* its transactions arrived (ledger reply, or last stream message) */
    uint32_t ours, tes;
    uint32_t cross; /* offers mode: tesSUCCESS takers that took from the book */
    bool results;   /* every transaction's result is known */
    bool by_tx;     /* too big for one reply: results fetched one transaction at a time */
} ledger_rec;

enum { MODE_PAYMENTS, MODE_OFFERS };

/* book_offers clients: what they saw. */
typedef struct book_run {
    double *lat; /* request -> reply, ms, of the replies counted */
    size_t nlat, cap;
    double *t_send; /* by request number */
    size_t tcap;
    size_t sent, replies, bad, expect;
    double t_start, t_end; /* replies in [t_start, t_end] count; latency: requests sent in it */
    bool sending;
    char first_bad[240];
} book_run;

typedef struct bench {
    /* options */
    int mode;
    const char *node;
    size_t naccts, npay;                     /* payments mode */
    size_t nmakers, ntakers, depth, noffers; /* offers mode */
    int book_clients;
    size_t book_window;
    double book_secs;
    int nconns;
    size_t window;
    unsigned close_ms;
    bool stream;
    double verify_secs;
    int rounds;
    bool json, verbose;
    /* node */
    uint8_t node_pk[32];
    int port;
    jt_jtp_identity *me;
    /* connections: ctl + load (+ book_offers clients) */
    conn ctl;
    conn load[MAX_CONNS];
    conn book[MAX_CONNS];
    int nbook;
    /* transactions */
    ptx_set fund, txs; /* funding, and the load */
    ptx_set *cur;      /* the set being submitted/tracked; NULL between sets */
    bool offer_meta;   /* read the metadata of takers and makers */
    long book_depth;   /* offers mode: offers in the book, from the metadata */
    double round_secs; /* offers mode: each round submits for this long */
    double deadline;   /* no submits from then on (0: none) */
    int round_no;      /* the round being sent (marks each transaction) */
    bool submitting;   /* inside run_set: the load connections may send */
    size_t acked, rejected, validated, val_tes, other_ledger_txs;
    size_t sent;
    double t_first_sub, t_last_sub, t_last_ack, t_last_val;
    int sub_results[8]; /* counts of the first few distinct non-tes results */
    int sub_codes[8];
    int nsub_codes;
    /* ledgers */
    ledger_rec *ledgers;
    size_t nledgers;
    uint32_t last_closed;
    /* results fetched one transaction at a time (ledgers too big for one reply) */
    uint32_t *txr_queue;
    size_t txr_n, txr_next, txr_inflight, txr_cap;
    /* book_offers */
    book_run br;
    char book_req[256]; /* the request after its id */
    /* synchronous control call */
    uint64_t ctrl_next;
    uint64_t ctrl_wait;
    jt_json_doc *ctrl_reply;
    char *rbuf;
} bench;

static void conn_flush(conn *c)
{
    const uint8_t *p;
    size_t n;
    jt_jtp_pending_output(c->j, &p, &n);
    while (n) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR)
                continue;
            node_check_gone();
            die("%s: send: %s", c->name, strerror(errno));
        }
        jt_jtp_consume_output(c->j, (size_t)w);
        jt_jtp_pending_output(c->j, &p, &n);
    }
}

static bool conn_has_output(const conn *c)
{
    const uint8_t *p;
    size_t n;
    jt_jtp_pending_output(c->j, &p, &n);
    return n > 0;
}

static void conn_open(bench *b, conn *c, const char *name, bool admin)
{
    snprintf(c->name, sizeof c->name, "%s", name);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        die("socket: %s", strerror(errno));
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)b->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa))
        die("%s: connect 127.0.0.1:%d: %s", name, b->port, strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    jt_jtp_limits lim;
    jt_jtp_limits_init(&lim);
    lim.max_message = MAX_MSG;
    lim.max_queued = MAX_MSG + 1;
    lim.max_output = (size_t)256 << 20; /* a full window of submits always fits */
    jt_errinfo ei;
    const uint8_t *pk = admin ? jt_jtp_identity_public(b->me) : NULL;
    const uint8_t *sk = admin ? jt_jtp_identity_secret(b->me) : NULL;
    if (jt_jtp_new_client(b->node_pk, pk, sk, &lim, &c->j, &ei) != JT_OK)
        die("%s: jtp client: %s", name, ei.msg);
    conn_flush(c);
}

static void conn_close(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    jt_jtp_free(c->j);
    c->j = NULL;
}

/* ---- message handling ---- */

static void note_result(bench *b, int ter)
{
    for (int i = 0; i < b->nsub_codes; i++)
        if (b->sub_codes[i] == ter) {
            b->sub_results[i]++;
            return;
        }
    if (b->nsub_codes < 8) {
        b->sub_codes[b->nsub_codes] = ter;
        b->sub_results[b->nsub_codes++] = 1;
    }
}

static const char *ter_name(int ter)
{
    const jt_ter *t = jt_ter_by_code(ter);
    return t ? t->token : "?";
}

static ledger_rec *ledger_get(bench *b, uint32_t seq)
{
    for (size_t i = b->nledgers; i-- > 0;)
        if (b->ledgers[i].seq == seq)
            return &b->ledgers[i];
    if (b->nledgers >= MAX_LEDGERS)
        die("more than %d ledgers", MAX_LEDGERS);
    ledger_rec *l = &b->ledgers[b->nledgers++];
    memset(l, 0, sizeof *l);
    l->seq = seq;
    return l;
}

/* A transaction of the current set was found in validated ledger `seq`. */
static void mark_validated(bench *b, long k, uint32_t seq, double t)
{
    ptx *p = &b->cur->v[k];
    if (p->state == P_VALIDATED)
        return;
    p->state = P_VALIDATED;
    p->t_val = t;
    p->ledger = seq;
    b->validated++;
    b->t_last_val = t;
    ledger_rec *l = ledger_get(b, seq);
    l->ours++;
    if (t > l->t_known)
        l->t_known = t;
}

/* Its final result, from the ledger's metadata. */
static void set_result(bench *b, long k, int ter)
{
    ptx *p = &b->cur->v[k];
    if (p->has_result)
        return;
    p->has_result = true;
    p->ter_val = (int16_t)ter;
    if (ter == 0) {
        b->val_tes++;
        ledger_get(b, p->ledger)->tes++;
    }
}

static long find_tx(bench *b, const uint8_t id[32])
{
    return b->cur ? idmap_find(&b->cur->map, id) : -1;
}

/* The result token starting at `tok` (up to the next '"', which *end
 * gets), or NULL. */
static const jt_ter *ter_at(const char *tok, const char **end)
{
    const char *q = strchr(tok, '"');
    *end = q;
    if (!q || q - tok > 40)
        return NULL;
    char name[48];
    memcpy(name, tok, (size_t)(q - tok));
    name[q - tok] = 0;
    return jt_ter_by_token(name);
}

/* {"id":K,"result":{"engine_result":"tesSUCCESS",...}: the fast path for
 * the bulk of the traffic; anything else goes through the JSON parser. */
static bool submit_reply_fast(bench *b, conn *c, const char *msg, size_t len, double t)
{
    if (len < 40 || strncmp(msg, "{\"id\":", 6))
        return false;
    char *end;
    unsigned long long k = strtoull(msg + 6, &end, 10);
    if (k >= CTRL_ID)
        return false;
    static const char pre[] = ",\"result\":{\"engine_result\":\"";
    if (strncmp(end, pre, sizeof pre - 1))
        return false;
    const char *q;
    const jt_ter *ter = ter_at(end + sizeof pre - 1, &q);
    if (!ter)
        return false;
    if (!b->cur || k >= b->cur->n)
        die("reply for transaction %llu, which was not sent", k);
    ptx *p = &b->cur->v[k];
    if (p->t_ack > 0 || p->state == P_UNSENT)
        die("%s: a second reply for transaction %llu, or one for a transaction not sent", c->name,
            k);
    p->t_ack = t;
    p->ter_sub = (int16_t)ter->code;
    b->t_last_ack = t;
    c->inflight--;
    /* Claimed (tes, tec) transactions will be in a ledger; others never. The
     * stream (another connection) may have shown it validated already. */
    if (ter->code == 0 || (ter->code >= 100 && ter->code < 256)) {
        if (p->state == P_SENT)
            p->state = P_ACKED;
        b->acked++;
    } else {
        p->state = P_REJECTED;
        b->rejected++;
    }
    if (ter->code != 0)
        note_result(b, ter->code);
    return true;
}

/* A "transaction" stream message (validated). */
static bool stream_tx_fast(bench *b, const char *msg, double t)
{
    static const char pre[] = "{\"engine_result\":\"";
    if (strncmp(msg, pre, sizeof pre - 1))
        return false;
    const char *q;
    const jt_ter *ter = ter_at(msg + sizeof pre - 1, &q);
    if (!ter)
        return false;
    const char *li = strstr(q, "\"ledger_index\":");
    const char *tr = strstr(q, "\"transaction\":{");
    const char *h = tr ? strstr(tr, "\"hash\":\"") : NULL;
    if (!li || !h || !strstr(q, "\"validated\":true"))
        return false;
    uint32_t seq = (uint32_t)strtoul(li + 15, NULL, 10);
    uint8_t id[32];
    size_t n = 0;
    if (jt_hex_decode(h + 8, 64, id, sizeof id, &n) != JT_OK || n != 32)
        return false;
    long k = find_tx(b, id);
    if (k >= 0) {
        mark_validated(b, k, seq, t);
        set_result(b, k, ter->code);
        ledger_get(b, seq)->results = true;
    } else {
        b->other_ledger_txs++;
    }
    return true;
}

/* Asks for ledger `seq`'s transactions: their IDs only (what the load
 * tracks: small replies, so the node spends little on them), or in binary
 * with metadata (for the results, fetched after a round). */
static void request_ledger(bench *b, uint32_t seq, bool binary)
{
    char req[200];
    int n = snprintf(req, sizeof req,
                     "{\"id\":%" PRIu64 ",\"command\":\"ledger\",\"ledger_index\":%" PRIu32
                     ",\"transactions\":true%s}",
                     (uint64_t)((binary ? RESULT_ID : LEDGER_ID) + seq), seq,
                     binary ? ",\"expand\":true,\"binary\":true" : "");
    jt_errinfo ei;
    if (jt_jtp_send(b->ctl.j, req, (size_t)n, &ei) != JT_OK)
        die("ctl: sending a ledger request: %s", ei.msg);
    conn_flush(&b->ctl);
}

static void on_ledger_closed(bench *b, const jt_json *root, double t)
{
    uint64_t seq = 0, cnt = 0;
    if (!jt_json_uint64(jt_json_get(root, "ledger_index"), true, &seq) ||
        !jt_json_uint64(jt_json_get(root, "txn_count"), true, &cnt))
        die("ledgerClosed without ledger_index or txn_count");
    ledger_rec *l = ledger_get(b, (uint32_t)seq);
    l->t_closed = t;
    l->txn_count = (uint32_t)cnt;
    if (seq > b->last_closed)
        b->last_closed = (uint32_t)seq;
    if (cnt == 0)
        l->results = true;
    else if (!b->stream)
        request_ledger(b, (uint32_t)seq, false);
}

/* What an OfferCreate did to the books, from its metadata: offers of
 * other accounts it took from (ModifiedNode: in part, DeletedNode: in full)
 * and whether its own offer was placed (CreatedNode). */
static void offer_meta(ptx *p, const jt_obj *meta)
{
    static const jt_field *f_nodes, *f_type, *f_created, *f_deleted;
    if (!f_nodes) {
        f_nodes = jt_field_by_name("AffectedNodes");
        f_type = jt_field_by_name("LedgerEntryType");
        f_created = jt_field_by_name("CreatedNode");
        f_deleted = jt_field_by_name("DeletedNode");
    }
    unsigned crossed = 0, taken = 0;
    bool placed = false;
    size_t n = jt_obj_array_len(meta, f_nodes->name);
    for (size_t i = 0; i < n; i++) {
        const jt_field *wrap = NULL;
        const jt_obj *node = jt_obj_array_at(meta, f_nodes->name, i, &wrap);
        uint64_t type = 0;
        if (!node || jt_obj_get_uint_f(node, f_type, &type) != JT_OK || type != 0x6F /* Offer */)
            continue;
        if (wrap == f_created) {
            placed = true;
        } else {
            crossed++;
            taken += wrap == f_deleted;
        }
    }
    p->crossed = (uint8_t)(crossed > 255 ? 255 : crossed);
    p->taken = (uint8_t)(taken > 255 ? 255 : taken);
    p->placed = placed;
}

/* One transaction's result, from its blob and metadata in hex: `seq` is
 * the ledger that holds it, `what` names the reply for errors. Returns
 * false when the transaction is not one of the set being tracked. */
static bool take_result(bench *b, uint32_t seq, const char *bh, const char *mh, uint8_t *blob,
                        const char *what)
{
    uint8_t id[32];
    size_t n = 0;
    if (!bh || !mh || jt_hex_decode(bh, strlen(bh), blob, JT_CODEC_MAX_BYTES, &n) != JT_OK)
        die("ledger %" PRIu32 ": %s is not binary", seq, what);
    jt_tx_blob_id(blob, n, id);
    long k = find_tx(b, id);
    if (k < 0)
        return false;
    jt_obj *meta = NULL;
    uint64_t res = 0;
    if (jt_obj_from_hex(mh, strlen(mh), &meta, NULL) != JT_OK ||
        jt_obj_get_uint(meta, "TransactionResult", &res) != JT_OK)
        die("ledger %" PRIu32 ": unreadable metadata in %s", seq, what);
    ptx *p = &b->cur->v[k];
    if (p->state != P_VALIDATED || p->ledger != seq)
        die("ledger %" PRIu32 ": holds a transaction its ID list did not show", seq);
    set_result(b, k, (int)res);
    if (b->offer_meta && p->kind != K_OTHER) {
        offer_meta(p, meta);
        if (p->kind == K_TAKER && res == 0 && p->crossed)
            ledger_get(b, seq)->cross++;
    }
    jt_obj_free(meta);
    return true;
}

/* A ledger whose transactions with metadata do not fit in one reply (the
 * node answers an error): its results are asked for one transaction at a
 * time (`tx`, binary), those of the set being tracked that it holds. */
static void results_by_tx(bench *b, ledger_rec *l)
{
    l->by_tx = true;
    for (size_t k = 0; k < b->cur->n; k++) {
        const ptx *p = &b->cur->v[k];
        if (p->state != P_VALIDATED || p->ledger != l->seq)
            continue;
        if (b->txr_n == b->txr_cap) {
            b->txr_cap = b->txr_cap ? b->txr_cap * 2 : 65536;
            b->txr_queue = realloc(b->txr_queue, b->txr_cap * sizeof *b->txr_queue);
            if (!b->txr_queue)
                die("out of memory");
        }
        b->txr_queue[b->txr_n++] = (uint32_t)k;
    }
}

/* Keeps up to 256 of the queued `tx` requests outstanding on ctl. */
static void txr_send(bench *b)
{
    while (b->txr_inflight < 256 && b->txr_next < b->txr_n) {
        uint32_t k = b->txr_queue[b->txr_next++];
        char req[200], hex[65];
        jt_hex_encode(b->cur->v[k].id, 32, hex, sizeof hex);
        int n = snprintf(req, sizeof req,
                         "{\"id\":%" PRIu64 ",\"command\":\"tx\",\"transaction\":\"%s\",\"binary\":true}",
                         (uint64_t)(TXR_ID + k), hex);
        jt_errinfo ei;
        if (jt_jtp_send(b->ctl.j, req, (size_t)n, &ei) != JT_OK)
            die("ctl: sending a tx request: %s", ei.msg);
        b->txr_inflight++;
    }
    conn_flush(&b->ctl);
}

static void on_tx_reply(bench *b, uint64_t k, const jt_json *root)
{
    const jt_json *r = jt_json_get(root, "result");
    uint64_t seq = 0;
    if (k >= b->cur->n || !b->txr_inflight)
        die("ctl: a tx reply for a request not sent");
    b->txr_inflight--;
    if (!jt_json_uint64(jt_json_get(r, "ledger_index"), true, &seq)) {
        const char *err = jt_json_string(jt_json_get(root, "error"));
        die("tx %" PRIu64 ": reply without a ledger (%s)", k, err ? err : "no error given");
    }
    uint8_t *blob = malloc(JT_CODEC_MAX_BYTES);
    if (!blob)
        die("out of memory");
    if (!take_result(b, (uint32_t)seq, jt_json_string(jt_json_get(r, "tx")),
                     jt_json_string(jt_json_get(r, "meta")), blob, "a tx reply"))
        die("tx %" PRIu64 ": not a transaction of the benchmark", k);
    free(blob);
    /* A ledger fetched this way is done when none of its requests is left. */
    if (b->txr_inflight == 0 && b->txr_next == b->txr_n) {
        for (size_t i = 0; i < b->nledgers; i++)
            if (b->ledgers[i].by_tx && !b->ledgers[i].results)
                b->ledgers[i].results = true;
        b->txr_n = b->txr_next = 0;
    } else {
        txr_send(b);
    }
}

static void on_ledger_reply(bench *b, uint32_t seq, const jt_json *root, double t, bool binary)
{
    const jt_json *txs =
        jt_json_get(jt_json_get(jt_json_get(root, "result"), "ledger"), "transactions");
    if (!txs || txs->kind != JT_JSON_ARRAY) {
        const char *err = jt_json_string(jt_json_get(root, "error"));
        if (binary && b->cur) {
            ledger_rec *l = ledger_get(b, seq);
            results_by_tx(b, l);
            if (b->txr_next == b->txr_n && !b->txr_inflight)
                l->results = true; /* none of ours in it */
            else
                txr_send(b);
            return;
        }
        die("ledger %" PRIu32 ": reply without transactions (%s)", seq,
            err ? err : "no error given");
    }
    uint8_t *blob = binary ? malloc(JT_CODEC_MAX_BYTES) : NULL;
    if (binary && !blob)
        die("out of memory");
    for (size_t i = 0; i < txs->u.arr.n; i++) {
        const jt_json *e = txs->u.arr.items[i];
        if (!binary) {
            uint8_t id[32];
            size_t n = 0;
            const char *h = jt_json_string(e);
            if (!h || jt_hex_decode(h, strlen(h), id, sizeof id, &n) != JT_OK || n != 32)
                die("ledger %" PRIu32 ": transaction %zu is not a hash", seq, i);
            long k = find_tx(b, id);
            if (k >= 0)
                mark_validated(b, k, seq, t);
            else
                b->other_ledger_txs++;
            continue;
        }
        (void)take_result(b, seq, jt_json_string(jt_json_get(e, "tx_blob")),
                          jt_json_string(jt_json_get(e, "meta")), blob, "a transaction");
    }
    free(blob);
    if (binary)
        ledger_get(b, seq)->results = true;
}

/* A book_offers reply: {"id":K,"result":{...,"offers":[...]},"status":"success",...}.
 * Checked by counting its offers, without parsing it (a parse would cost
 * the benchmark more than the node spends on the request). */
static bool book_reply_fast(bench *b, conn *c, const char *msg, size_t len, double t)
{
    static const char ok_end[] = ",\"status\":\"success\",\"type\":\"response\"}";
    static const char offer[] = "\"LedgerEntryType\":\"Offer\"";
    if (len < 40 || strncmp(msg, "{\"id\":", 6))
        return false;
    unsigned long long id = strtoull(msg + 6, NULL, 10);
    if (id < BOOK_ID || id >= TXR_ID)
        return false;
    book_run *r = &b->br;
    size_t n = (size_t)(id - BOOK_ID);
    if (n >= r->sent || !c->inflight)
        die("%s: a book_offers reply for a request not sent", c->name);
    c->inflight--;
    size_t offers = 0;
    const char *p = msg, *end = msg + len;
    while ((p = memmem(p, (size_t)(end - p), offer, sizeof offer - 1))) {
        offers++;
        p += sizeof offer - 1;
    }
    bool ok = len > sizeof ok_end &&
              !memcmp(end - (sizeof ok_end - 1), ok_end, sizeof ok_end - 1) &&
              memmem(msg, len, "\"offers\":[", 10) && offers == r->expect;
    if (!ok) {
        if (!r->bad++)
            snprintf(r->first_bad, sizeof r->first_bad, "%zu offers in: %.200s", offers, msg);
        return true;
    }
    if (t < r->t_start || t > r->t_end)
        return true;
    r->replies++;
    if (r->t_send[n] >= r->t_start) {
        if (r->nlat == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 65536;
            r->lat = realloc(r->lat, r->cap * sizeof *r->lat);
            if (!r->lat)
                die("out of memory");
        }
        r->lat[r->nlat++] = (t - r->t_send[n]) * 1e3;
    }
    return true;
}

static void dispatch(bench *b, conn *c, const char *msg, size_t len)
{
    double t = now();
    if (submit_reply_fast(b, c, msg, len, t) || book_reply_fast(b, c, msg, len, t))
        return;
    if (b->stream && stream_tx_fast(b, msg, t))
        return;
    jt_json_limits lim = {.max_bytes = MAX_MSG, .max_depth = 32, .max_items = 50000000};
    jt_json_doc *doc = NULL;
    jt_errinfo ei;
    if (jt_json_parse(msg, len, &lim, &doc, &ei) != JT_OK)
        die("%s: unparsable message from the node: %s", c->name, ei.msg);
    const jt_json *root = jt_json_root(doc);
    const char *type = jt_json_string(jt_json_get(root, "type"));
    uint64_t id = 0;
    bool has_id = jt_json_uint64(jt_json_get(root, "id"), false, &id);
    if (type && !strcmp(type, "ledgerClosed")) {
        on_ledger_closed(b, root, t);
    } else if (has_id && id >= TXR_ID) {
        on_tx_reply(b, id - TXR_ID, root);
    } else if (has_id && id >= BOOK_ID) {
        die("%s: book_offers failed: %.300s", c->name, msg);
    } else if (has_id && id >= RESULT_ID) {
        on_ledger_reply(b, (uint32_t)(id - RESULT_ID), root, t, true);
    } else if (has_id && id >= LEDGER_ID) {
        on_ledger_reply(b, (uint32_t)(id - LEDGER_ID), root, t, false);
    } else if (has_id && id >= CTRL_ID && id == b->ctrl_wait) {
        b->ctrl_reply = doc;
        return;
    } else if (has_id && id < CTRL_ID) {
        /* A submit that failed as a request (not an engine result). */
        const char *err = jt_json_string(jt_json_get(root, "error"));
        const char *em = jt_json_string(jt_json_get(root, "error_message"));
        die("%s: submit %" PRIu64 " failed: %s%s%s", c->name, id, err ? err : "?", em ? ": " : "",
            em ? em : "");
    } else if (type && !strcmp(type, "error")) {
        die("%s: the node sent an error: %.300s", c->name, msg);
    }
    /* Anything else (a stream message we do not follow) is ignored. */
    jt_json_doc_free(doc);
}

static void conn_read(bench *b, conn *c)
{
    for (int rounds = 0; rounds < 8; rounds++) {
        ssize_t r = recv(c->fd, b->rbuf, READ_CHUNK, 0);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR)
                continue;
            node_check_gone();
            die("%s: recv: %s", c->name, strerror(errno));
        }
        if (r == 0) {
            node_check_gone();
            die("%s: the node closed the connection", c->name);
        }
        jt_errinfo ei;
        if (jt_jtp_feed(c->j, (const uint8_t *)b->rbuf, (size_t)r, &ei) != JT_OK)
            die("%s: jtp: %s", c->name, ei.msg);
        const char *msg;
        size_t len;
        while (jt_jtp_next_message(c->j, &msg, &len))
            dispatch(b, c, msg, len);
        conn_flush(c); /* handshake replies */
        if ((size_t)r < READ_CHUNK)
            return;
    }
}

/* Sends transactions on `c` until its window is full. */
static void conn_top_up(bench *b, conn *c)
{
    if (jt_jtp_get_state(c->j) != JT_JTP_OPEN || !b->submitting)
        return;
    bool any = false;
    while (c->inflight < b->window && c->next < c->norder) {
        if (b->deadline > 0 && now() >= b->deadline)
            break;
        ptx *p = &b->cur->v[c->order[c->next]];
        jt_errinfo ei;
        if (jt_jtp_send(c->j, p->req, p->req_len, &ei) != JT_OK)
            die("%s: jtp send: %s", c->name, ei.msg);
        double t = now();
        p->t_sub = t;
        p->state = P_SENT;
        p->round = (uint8_t)b->round_no;
        if (!b->sent++)
            b->t_first_sub = t;
        b->t_last_sub = t;
        c->next++;
        c->inflight++;
        any = true;
    }
    if (any)
        conn_flush(c);
}

/* Sends book_offers requests on `c` until its window is full. */
static void book_top_up(bench *b, conn *c)
{
    book_run *r = &b->br;
    if (jt_jtp_get_state(c->j) != JT_JTP_OPEN || !r->sending)
        return;
    bool any = false;
    while (c->inflight < b->book_window) {
        if (r->sent == r->tcap) {
            r->tcap = r->tcap ? r->tcap * 2 : 65536;
            r->t_send = realloc(r->t_send, r->tcap * sizeof *r->t_send);
            if (!r->t_send)
                die("out of memory");
        }
        char req[400];
        int n = snprintf(req, sizeof req, "{\"id\":%llu,%s}", BOOK_ID + (unsigned long long)r->sent,
                         b->book_req);
        jt_errinfo ei;
        if (jt_jtp_send(c->j, req, (size_t)n, &ei) != JT_OK)
            die("%s: jtp send: %s", c->name, ei.msg);
        r->t_send[r->sent++] = now();
        c->inflight++;
        any = true;
    }
    if (any)
        conn_flush(c);
}

/* One round of I/O on every connection; waits at most timeout_ms. */
static void pump(bench *b, int timeout_ms)
{
    struct pollfd pf[2 * MAX_CONNS + 1];
    conn *cs[2 * MAX_CONNS + 1];
    int n = 0;
    cs[n++] = &b->ctl;
    for (int i = 0; i < b->nconns; i++)
        if (b->load[i].j)
            cs[n++] = &b->load[i];
    for (int i = 0; i < b->nbook; i++)
        if (b->book[i].j)
            cs[n++] = &b->book[i];
    for (int i = 0; i < n; i++) {
        if (cs[i] >= b->book && cs[i] < b->book + MAX_CONNS)
            book_top_up(b, cs[i]);
        else if (cs[i] != &b->ctl)
            conn_top_up(b, cs[i]);
        pf[i].fd = cs[i]->fd;
        pf[i].events = (short)(POLLIN | (conn_has_output(cs[i]) ? POLLOUT : 0));
        pf[i].revents = 0;
    }
    int r = poll(pf, (nfds_t)n, timeout_ms);
    if (r < 0 && errno != EINTR)
        die("poll: %s", strerror(errno));
    for (int i = 0; r > 0 && i < n; i++) {
        if (pf[i].revents & POLLOUT)
            conn_flush(cs[i]);
        if (pf[i].revents & (POLLIN | POLLERR | POLLHUP))
            conn_read(b, cs[i]);
    }
}

static void wait_open(bench *b, conn *c)
{
    double t0 = now();
    while (jt_jtp_get_state(c->j) != JT_JTP_OPEN) {
        if (jt_jtp_get_state(c->j) == JT_JTP_FAILED)
            die("%s: jtp handshake failed: %s", c->name, jt_jtp_error(c->j)->msg);
        if (now() - t0 > 10)
            die("%s: no jtp session after 10 s", c->name);
        node_check_alive();
        pump(b, 50);
    }
}

/* Sends a control request on the ctl connection and waits for its reply.
 * `fmt` is the request without the id: it is inserted first. */
static jt_json_doc *ctrl_call(bench *b, double timeout, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static jt_json_doc *ctrl_call(bench *b, double timeout, const char *fmt, ...)
{
    char req[1024];
    uint64_t id = CTRL_ID + b->ctrl_next++;
    int n = snprintf(req, sizeof req, "{\"id\":%" PRIu64 ",", id);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(req + n, sizeof req - (size_t)n, fmt, ap);
    va_end(ap);
    n += snprintf(req + n, sizeof req - (size_t)n, "}");
    jt_errinfo ei;
    if (jt_jtp_send(b->ctl.j, req, (size_t)n, &ei) != JT_OK)
        die("ctl: send: %s", ei.msg);
    conn_flush(&b->ctl);
    b->ctrl_wait = id;
    b->ctrl_reply = NULL;
    double t0 = now();
    while (!b->ctrl_reply) {
        if (now() - t0 > timeout)
            die("no reply within %.0f s to %s", timeout, req);
        node_check_alive();
        pump(b, 50);
    }
    b->ctrl_wait = 0;
    const jt_json *root = jt_json_root(b->ctrl_reply);
    const char *status = jt_json_string(jt_json_get(root, "status"));
    if (!status || strcmp(status, "success")) {
        const char *err = jt_json_string(jt_json_get(root, "error"));
        die("%s failed: %s", req, err ? err : "no status");
    }
    return b->ctrl_reply;
}

/* ---------------------------------------------------------------- phases */

/* Have the load connections sent all they were given? */
static bool load_exhausted(const bench *b)
{
    for (int i = 0; i < b->nconns; i++)
        if (b->load[i].next < b->load[i].norder)
            return false;
    return true;
}

/* ... or is it past the deadline? */
static bool sending_done(const bench *b)
{
    return (b->deadline > 0 && now() >= b->deadline) || load_exhausted(b);
}

/* Submits the transactions of s in the connections' send orders (until
 * b->deadline, if set) and waits until every accepted one is validated.
 * With `accept`, closes the ledger as soon as all are in the open ledger. */
static void run_set(bench *b, ptx_set *s, bool accept, double timeout)
{
    b->cur = s;
    b->submitting = true;
    b->acked = b->rejected = b->validated = b->val_tes = b->sent = 0;
    b->nsub_codes = 0;
    double t0 = now(), last_progress = t0;
    size_t last_done = 0;
    bool accepted = false;
    for (;;) {
        bool all_sent = sending_done(b);
        if (all_sent && b->acked + b->rejected == b->sent && b->validated >= b->acked)
            break;
        pump(b, 20);
        size_t done = b->acked + b->rejected + b->validated;
        double t = now();
        if (done != last_done) {
            last_done = done;
            last_progress = t;
        }
        if (accept && !accepted && all_sent && b->acked + b->rejected == b->sent) {
            /* Everything is in the open ledger: close it now. */
            jt_json_doc_free(ctrl_call(b, 30, "\"command\":\"ledger_accept\""));
            accepted = true;
        }
        if (t - last_progress > timeout) {
            print_log_tail();
            die("no progress for %.0f s: %zu transactions sent, %zu accepted, %zu rejected, %zu "
                "validated",
                timeout, b->sent, b->acked, b->rejected, b->validated);
        }
        node_check_alive();
    }
    b->submitting = false;
    b->cur = NULL;
}

/* After a round, off the clock: the result of every transaction it
 * validated, from each ledger's transactions in binary with metadata. */
static void fetch_results(bench *b, ptx_set *s, size_t nled0)
{
    b->cur = s;
    size_t want = 0;
    for (size_t i = nled0; i < b->nledgers; i++)
        if (!b->ledgers[i].results && b->ledgers[i].ours > 0) {
            request_ledger(b, b->ledgers[i].seq, true);
            want++;
        }
    double t0 = now();
    while (want) {
        want = 0;
        for (size_t i = nled0; i < b->nledgers; i++)
            if (!b->ledgers[i].results && b->ledgers[i].ours > 0)
                want++;
        if (!want)
            break;
        if (now() - t0 > 120)
            die("%zu ledger replies with results missing after 120 s", want);
        node_check_alive();
        pump(b, 20);
    }
    b->cur = NULL;
}

/* Builds each load connection's send order for s[lo, hi): the transactions
 * of the accounts it owns (src % nconns), in index order, hence in each
 * account's Sequence order. */
static void assign(bench *b, const ptx_set *s, size_t lo, size_t hi)
{
    for (int c = 0; c < b->nconns; c++) {
        free(b->load[c].order);
        b->load[c].order = xcalloc(hi - lo, sizeof(uint32_t));
        b->load[c].norder = b->load[c].next = b->load[c].inflight = 0;
    }
    for (size_t k = lo; k < hi; k++) {
        conn *c = &b->load[s->v[k].src % (size_t)b->nconns];
        c->order[c->norder++] = (uint32_t)k;
    }
}

/* Set-up transactions per ledger at most: a ledger's results are fetched
 * in one reply, which must stay well under a reply's cap (64 MiB of hex
 * blobs and metadata; an offer placed in a deep book writes ~5 KB). */
#define SETUP_CHUNK 2000

/* Set-up, not measured: submits the set in chunks, each closed in a ledger
 * of its own, and stops the benchmark unless every transaction is
 * validated with tesSUCCESS. */
static void submit_set(bench *b, ptx_set *s, const char *what)
{
    size_t rejected = 0, tes = 0;
    for (size_t lo = 0; lo < s->n; lo += SETUP_CHUNK) {
        size_t hi = s->n - lo > SETUP_CHUNK ? lo + SETUP_CHUNK : s->n;
        assign(b, s, lo, hi);
        size_t nled0 = b->nledgers;
        run_set(b, s, true, 60);
        fetch_results(b, s, nled0);
        rejected += b->rejected;
        tes += b->val_tes;
    }
    b->rejected = rejected;
    b->val_tes = tes;
    if (b->rejected || b->val_tes != s->n) {
        int code = 0;
        size_t bad = 0;
        for (size_t k = 0; k < s->n; k++) {
            const ptx *p = &s->v[k];
            int ter = p->has_result ? p->ter_val : p->ter_sub;
            if (ter && !bad++)
                code = ter;
        }
        die("%s: %zu of %zu rejected at submit, %zu validated with tesSUCCESS (first other "
            "result: %s, %zu such)",
            what, b->rejected, s->n, b->val_tes, ter_name(code), bad);
    }
}

/* Offers mode: what the takers and makers of some transactions did,
 * from their metadata. */
typedef struct offer_tally {
    size_t takers, takers_tes, crossed, filled; /* crossed: took from >= 1 offer */
    size_t hist[5];                             /* takers by offers taken from: 0, 1, 2, 3, more */
    size_t makers, makers_tes, makers_placed;
    size_t taken;  /* offers the takers took in full (deleted from the book) */
    size_t rested; /* takers whose own offer was placed (not filled) */
} offer_tally;

/* ... of s[lo, hi) that were sent, in round `round` only unless it is 0. */
static void tally_offers(const ptx_set *s, size_t lo, size_t hi, int round, offer_tally *t)
{
    for (size_t k = lo; k < hi; k++) {
        const ptx *p = &s->v[k];
        if (p->state == P_UNSENT || (round && p->round != round))
            continue;
        bool tes = p->has_result && p->ter_val == 0;
        if (p->kind == K_MAKER) {
            t->makers++;
            t->makers_tes += tes;
            t->makers_placed += tes && p->placed;
        } else if (p->kind == K_TAKER) {
            t->takers++;
            if (!tes)
                continue;
            t->takers_tes++;
            t->hist[p->crossed > 4 ? 4 : p->crossed]++;
            t->crossed += p->crossed > 0;
            t->filled += p->crossed > 0 && !p->placed;
            t->rested += p->placed;
            t->taken += p->taken;
        }
    }
}

/* What one round of load gave. */
typedef struct round_res {
    int no;         /* 1, 2, ... */
    size_t lo, hi;  /* the load's transactions it may have sent */
    size_t n;       /* ... and those it sent */
    bool cut_short; /* with a deadline: the load ran out before it */
    double secs;
    double rate; /* headline: steady state, or whole round if too short */
    bool steady;
    double steady_secs;
    size_t steady_tes, steady_ledgers;
    uint32_t la, lb;     /* steady window: ledgers (la, lb] */
    double overall_rate; /* first submit to last validation */
    double submit_rate;
    size_t validated, tes, rejected;
    double p50, p99; /* submit -> validated, ms */
    double ceiling, ratio;
    double node_cpu, self_cpu;
    size_t max_in_ledger;
    /* offers mode */
    offer_tally ot;
    size_t steady_cross;
    double cross_rate, cross_ratio; /* takers that took from the book, per second */
    long depth;                     /* the book's depth after the round */
} round_res;

/* Figures of the round's transactions and of the ledgers recorded from
 * index nled0 on (sequence first_seq and later). Latencies are appended to
 * lat/ack. */
static void round_figures(bench *b, round_res *r, size_t nled0, uint32_t first_seq, double *lat,
                          size_t *nlat, double *ack, size_t *nack)
{
    size_t n0 = *nlat;
    for (size_t k = r->lo; k < r->hi; k++) {
        const ptx *p = &b->txs.v[k];
        if (p->round != r->no)
            continue;
        if (p->state == P_VALIDATED)
            lat[(*nlat)++] = (p->t_val - p->t_sub) * 1e3;
        if (p->t_ack > 0)
            ack[(*nack)++] = (p->t_ack - p->t_sub) * 1e3;
    }
    /* Per-round percentiles on a sorted copy; the pooled arrays stay whole. */
    size_t nr = *nlat - n0;
    double *tmp = xcalloc(nr, sizeof *tmp);
    memcpy(tmp, lat + n0, nr * sizeof *tmp);
    qsort(tmp, nr, sizeof *tmp, cmp_double);
    r->p50 = pct(tmp, nr, 50);
    r->p99 = pct(tmp, nr, 99);
    free(tmp);

    /* Steady state: ledgers closed while the submitters were busy. La is
     * the first ledger holding this round's transactions, Lb the last one
     * closed before the round's last submit; rate = tesSUCCESS transactions
     * in (La, Lb] / (t(Lb) - t(La)). */
    const ledger_rec *la = NULL, *lb = NULL;
    r->max_in_ledger = 0;
    for (size_t i = nled0; i < b->nledgers; i++) {
        const ledger_rec *l = &b->ledgers[i];
        if (l->seq < first_seq || l->t_closed == 0)
            continue;
        if (l->ours > r->max_in_ledger)
            r->max_in_ledger = l->ours;
        if (!la && l->ours > 0)
            la = l;
        if (la && l->seq > la->seq && l->t_closed <= b->t_last_sub)
            lb = l;
    }
    r->steady_tes = r->steady_ledgers = r->steady_cross = 0;
    if (la && lb) {
        for (size_t i = nled0; i < b->nledgers; i++) {
            const ledger_rec *l = &b->ledgers[i];
            if (l->seq > la->seq && l->seq <= lb->seq) {
                r->steady_tes += l->tes;
                r->steady_cross += l->cross;
                r->steady_ledgers++;
            }
        }
        r->steady_secs = lb->t_closed - la->t_closed;
        r->la = la->seq;
        r->lb = lb->seq;
    }
    r->validated = b->validated;
    r->tes = b->val_tes;
    r->rejected = b->rejected;
    double osecs = b->t_last_val - b->t_first_sub;
    r->overall_rate = osecs > 0 ? (double)b->val_tes / osecs : 0;
    r->submit_rate = b->t_last_ack > b->t_first_sub
                         ? (double)(b->acked + b->rejected) / (b->t_last_ack - b->t_first_sub)
                         : 0;
    r->steady = r->steady_ledgers >= 2 && r->steady_secs > 0;
    r->rate = r->steady ? (double)r->steady_tes / r->steady_secs : r->overall_rate;
    if (b->offer_meta) {
        memset(&r->ot, 0, sizeof r->ot);
        tally_offers(&b->txs, r->lo, r->hi, r->no, &r->ot);
        b->book_depth += (long)r->ot.makers_placed - (long)r->ot.taken;
        r->depth = b->book_depth;
        r->cross_rate = r->steady   ? (double)r->steady_cross / r->steady_secs
                        : osecs > 0 ? (double)r->ot.crossed / osecs
                                    : 0;
    }
}

/* One line per ledger of a round (--verbose). */
static void print_ledgers(const bench *b, size_t nled0, uint32_t first_seq, double t0)
{
    printf("    ledger  closed(s)  gap(ms)  txns  ours   tes%s  known(ms after close)\n",
           b->offer_meta ? " cross" : "");
    double prev = 0;
    for (size_t i = nled0; i < b->nledgers; i++) {
        const ledger_rec *l = &b->ledgers[i];
        if (l->seq < first_seq || l->t_closed == 0)
            continue;
        printf("    %6" PRIu32 " %10.3f %8.0f %5" PRIu32 " %5" PRIu32 " %5" PRIu32, l->seq,
               l->t_closed - t0, prev > 0 ? (l->t_closed - prev) * 1e3 : 0, l->txn_count, l->ours,
               l->tes);
        if (b->offer_meta)
            printf(" %5" PRIu32, l->cross);
        printf(" %8.0f\n", l->t_known > 0 ? (l->t_known - l->t_closed) * 1e3 : 0);
        prev = l->t_closed;
    }
}

/* ---- the verification ceiling ---- */

#define VSETS 256

typedef struct vset {
    secp256k1_pubkey pk;
    secp256k1_ecdsa_signature sig;
    uint8_t msg[32];
} vset;

typedef struct vjob {
    const vset *sets;
    uint64_t start; /* threads start at different sets */
    atomic_int *stop;
    uint64_t count;
    int bad;
} vjob;

static void *verify_thread(void *arg)
{
    vjob *j = arg;
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (!ctx) {
        j->bad = 1;
        return NULL;
    }
    uint64_t n = 0;
    while (!atomic_load_explicit(j->stop, memory_order_relaxed)) {
        for (int i = 0; i < 16; i++) {
            const vset *s = &j->sets[(j->start + n + (uint64_t)i) % VSETS];
            if (secp256k1_ecdsa_verify(ctx, &s->sig, s->msg, &s->pk) != 1)
                j->bad = 1;
        }
        n += 16;
    }
    j->count = n;
    secp256k1_context_destroy(ctx);
    return NULL;
}

static vset *make_vsets(void)
{
    vset *v = xcalloc(VSETS, sizeof *v);
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    for (int i = 0; i < VSETS; i++) {
        uint8_t sk[32];
        do
            randombytes_buf(sk, sizeof sk);
        while (!secp256k1_ec_seckey_verify(ctx, sk));
        randombytes_buf(v[i].msg, 32);
        if (!secp256k1_ec_pubkey_create(ctx, &v[i].pk, sk) ||
            !secp256k1_ecdsa_sign(ctx, &v[i].sig, v[i].msg, sk, NULL, NULL))
            die("secp256k1 set-up failed");
        sodium_memzero(sk, sizeof sk);
    }
    secp256k1_context_destroy(ctx);
    return v;
}

/* secp256k1_ecdsa_verify on `threads` threads for `secs`: verifications/s. */
static double verify_ceiling(const vset *sets, int threads, double secs)
{
    atomic_int stop = 0;
    pthread_t th[4];
    vjob jobs[4];
    double t0 = now();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (vjob){.sets = sets, .start = (uint64_t)i * 37, .stop = &stop};
        if (pthread_create(&th[i], NULL, verify_thread, &jobs[i]))
            die("pthread_create failed");
    }
    struct timespec ts = {.tv_sec = (time_t)secs,
                          .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&stop, 1);
    uint64_t total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        if (jobs[i].bad)
            die("a pre-made signature did not verify");
        total += jobs[i].count;
    }
    return (double)total / (now() - t0);
}

/* ---------------------------------------------------------------- rounds */

/* The load, round by round, and what it gave. */
typedef struct load_res {
    round_res rr[MAX_ROUNDS];
    int rounds;
    double *lat, *ack; /* submit -> validated, submit -> reply (ms), pooled */
    size_t nlat, nack;
    double cpu_node, cpu_self, secs;
    size_t validated, tes, rejected;
    long rss0, hwm0, anon0, file0; /* before the load */
    long long disk0, disk0_size, wbytes0;
    double ceil1; /* one verify thread (information) */
    /* medians of the rounds */
    double rate, ceiling, ratio, ratio_min, ratio_max, submit_rate;
    double cross_rate, cross_ratio, cross_ratio_min, cross_ratio_max;
    bool all_steady;
} load_res;

static void print_round(const bench *b, int r, const round_res *R)
{
    char g1[32], g2[32], g3[32];
    long m[4];
    node_memory(&m[0], &m[1], &m[2], &m[3]);
    if (b->mode == MODE_OFFERS)
        printf("round %d: %zu OfferCreates (%zu takers) in %.1f s: %s crossing takers/s, %s "
               "OfferCreates/s (%s), verify ceiling %s/s, ratio %.3f (all OfferCreates "
               "%.3f), p99 %.0f ms, book %ld deep\n",
               r + 1, R->n, R->ot.takers, R->secs, grouped(R->cross_rate, g1, sizeof g1),
               grouped(R->rate, g2, sizeof g2), R->steady ? "steady state" : "whole round",
               grouped(R->ceiling, g3, sizeof g3), R->cross_ratio, R->ratio, R->p99, R->depth);
    else
        printf("round %d: %zu payments in %.1f s: %s validated/s (%s), verify ceiling %s/s, "
               "ratio %.3f, p99 %.0f ms, node RSS %.0f MB\n",
               r + 1, R->n, R->secs, grouped(R->rate, g1, sizeof g1),
               R->steady ? "steady state" : "whole round", grouped(R->ceiling, g2, sizeof g2),
               R->ratio, R->p99, (double)m[0] / 1024);
    if (R->cut_short)
        printf("  the load ran out before the round's %.0f s: raise --offers\n", b->round_secs);
    if (R->rejected) {
        printf("  rejected at submit:");
        for (int i = 0; i < b->nsub_codes; i++)
            printf(" %s %d", ter_name(b->sub_codes[i]), b->sub_results[i]);
        printf("\n");
    }
}

/* Rounds of the load b->txs, alternating with the baseline: verify slice,
 * load, verify slice, load, ... verify slice. A round's ceiling is the mean
 * of the slices on either side of it. Round r sends [bounds[r],
 * bounds[r+1]); or, with b->round_secs, whatever the connections send in
 * that time, each going on from where it stopped (bounds unused; fewer
 * rounds if the load runs out). */
static void run_rounds(bench *b, load_res *L, const size_t *bounds, int rounds,
                       const char *ledger_dir)
{
    bool timed = b->round_secs > 0;
    if (timed)
        assign(b, &b->txs, 0, b->txs.n);
    vset *vs = make_vsets();
    L->ceil1 = verify_ceiling(vs, 1, 0.5);
    double vslice = b->verify_secs / 2;
    double ceil_prev = verify_ceiling(vs, 2, vslice);
    L->lat = xcalloc(b->txs.n, sizeof *L->lat);
    L->ack = xcalloc(b->txs.n, sizeof *L->ack);
    L->wbytes0 = -1;
    for (int r = 0; r < rounds; r++) {
        round_res *R = &L->rr[r];
        R->no = r + 1;
        R->lo = timed ? 0 : bounds[r];
        R->hi = timed ? b->txs.n : bounds[r + 1];
        if (timed && r > 0 && sending_done(b)) {
            rounds = r; /* the load ran out */
            break;
        }
        /* Take in what arrived while the baseline ran (closes of empty
         * ledgers), so that this round's ledgers are told apart by sequence. */
        for (int i = 0; i < 5; i++)
            pump(b, 20);
        if (r == 0) {
            L->wbytes0 = node_write_bytes();
            disk_usage(ledger_dir, &L->disk0, &L->disk0_size);
            node_memory(&L->rss0, &L->hwm0, &L->anon0, &L->file0);
        }
        size_t nled0 = b->nledgers;
        uint32_t first_seq = b->last_closed + 1;
        if (!timed)
            assign(b, &b->txs, R->lo, R->hi);
        b->round_no = R->no;
        double cn0 = node_cpu(), cs0 = self_cpu(), t0r = now();
        b->deadline = timed ? t0r + b->round_secs : 0;
        run_set(b, &b->txs, false, 30);
        R->cut_short = timed && load_exhausted(b);
        b->deadline = 0;
        R->n = b->sent;
        R->secs = now() - t0r;
        R->node_cpu = node_cpu() - cn0;
        R->self_cpu = self_cpu() - cs0;
        fetch_results(b, &b->txs, nled0);
        round_figures(b, R, nled0, first_seq, L->lat, &L->nlat, L->ack, &L->nack);
        double ceil_next = verify_ceiling(vs, 2, vslice);
        R->ceiling = (ceil_prev + ceil_next) / 2;
        R->ratio = R->ceiling > 0 ? R->rate / R->ceiling : 0;
        R->cross_ratio = R->ceiling > 0 ? R->cross_rate / R->ceiling : 0;
        ceil_prev = ceil_next;
        L->cpu_node += R->node_cpu;
        L->cpu_self += R->self_cpu;
        L->secs += R->secs;
        L->validated += R->validated;
        L->tes += R->tes;
        L->rejected += R->rejected;
        if (!b->json) {
            print_round(b, r, R);
            if (b->verbose)
                print_ledgers(b, nled0, first_seq, t0r);
        }
    }
    free(vs);
    L->rounds = rounds;

    double v_rate[MAX_ROUNDS], v_ceil[MAX_ROUNDS], v_ratio[MAX_ROUNDS], v_sub[MAX_ROUNDS];
    double v_cross[MAX_ROUNDS], v_cross_ratio[MAX_ROUNDS];
    L->ratio_min = L->ratio_max = L->rr[0].ratio;
    L->cross_ratio_min = L->cross_ratio_max = L->rr[0].cross_ratio;
    L->all_steady = true;
    for (int r = 0; r < rounds; r++) {
        const round_res *R = &L->rr[r];
        v_rate[r] = R->rate;
        v_ceil[r] = R->ceiling;
        v_ratio[r] = R->ratio;
        v_sub[r] = R->submit_rate;
        v_cross[r] = R->cross_rate;
        v_cross_ratio[r] = R->cross_ratio;
        if (R->ratio < L->ratio_min)
            L->ratio_min = R->ratio;
        if (R->ratio > L->ratio_max)
            L->ratio_max = R->ratio;
        if (R->cross_ratio < L->cross_ratio_min)
            L->cross_ratio_min = R->cross_ratio;
        if (R->cross_ratio > L->cross_ratio_max)
            L->cross_ratio_max = R->cross_ratio;
        L->all_steady = L->all_steady && R->steady;
    }
    L->rate = median(v_rate, rounds);
    L->ceiling = median(v_ceil, rounds);
    L->ratio = median(v_ratio, rounds);
    L->submit_rate = median(v_sub, rounds);
    L->cross_rate = median(v_cross, rounds);
    L->cross_ratio = median(v_cross_ratio, rounds);
    qsort(L->lat, L->nlat, sizeof *L->lat, cmp_double);
    qsort(L->ack, L->nack, sizeof *L->ack, cmp_double);
}

static void free_load(load_res *L)
{
    free(L->lat);
    free(L->ack);
}

/* ---------------------------------------------------------------- payments mode */

/* Payment k: from account k % N with Sequence 1 + k / N, to another
 * account picked by a fixed scramble. */
static size_t pay_source(size_t k, size_t n)
{
    return k % n;
}

static size_t pay_dest(size_t k, size_t n)
{
    size_t src = k % n, round = k / n;
    return (src + 1 + (round * 7919 + src * 31) % (n - 1)) % n;
}

typedef struct pay_job {
    const account *accts;
    size_t n;
    ptx *v;
} pay_job;

static jt_err sign_pay(void *ctx, size_t k)
{
    const pay_job *j = ctx;
    size_t src = pay_source(k, j->n);
    j->v[k].src = (uint32_t)src;
    return sign_swt_payment(&j->v[k], k, &j->accts[src], 1 + (uint32_t)(k / j->n),
                            &j->accts[pay_dest(k, j->n)].id, PAY_DROPS + k % 1000);
}

/* Keys, N funding payments and M payments among the accounts, signed on
 * two threads; then the funding. None of it is measured. */
static void payments_setup(bench *b, const account *genesis, uint32_t gseq)
{
    double t0 = now();
    account *accts = make_accounts(b->naccts);
    double t_keys = now() - t0;
    set_alloc(&b->fund, b->naccts);
    set_alloc(&b->txs, b->npay);
    fund_job fj = {
        .genesis = genesis, .accts = accts, .gseq = gseq, .amount = FUND_DROPS, .v = b->fund.v};
    parallel(b->naccts, sign_fund, &fj, "signing funding payments");
    pay_job pj = {.accts = accts, .n = b->naccts, .v = b->txs.v};
    parallel(b->npay, sign_pay, &pj, "signing payments");
    double t_sign = now() - t0 - t_keys;
    free_accounts(accts, b->naccts);
    set_signed(&b->fund);
    set_signed(&b->txs);
    if (!b->json)
        printf("bench_node: %s, %zu accounts, %zu pre-signed secp256k1 payments, %d jtp "
               "connections x window %zu, close every %u ms, tracking by %s\n",
               b->node, b->naccts, b->npay, b->nconns, b->window, b->close_ms,
               b->stream ? "the transactions stream" : "ledger replies");
    double t1 = now();
    submit_set(b, &b->fund, "funding");
    if (!b->json)
        printf("set-up (not measured): keys %.1f s, signing %.1f s on 2 threads, funding %zu "
               "accounts %.1f s\n",
               t_keys, t_sign, b->naccts, now() - t1);
}

static int payments_report(bench *b, load_res *L, const char *ledger_dir)
{
    long rss, hwm, anon, file;
    node_memory(&rss, &hwm, &anon, &file);
    long long disk1, disk1_size, wbytes1 = node_write_bytes();
    disk_usage(ledger_dir, &disk1, &disk1_size);
    double p50 = pct(L->lat, L->nlat, 50), p99 = pct(L->lat, L->nlat, 99);
    double pmax = L->nlat ? L->lat[L->nlat - 1] : 0;
    double a50 = pct(L->ack, L->nack, 50), a99 = pct(L->ack, L->nack, 99);
    double p99_iv = p99 / (double)b->close_ms;
    double nval = (double)L->validated;
    double disk_per_tx = L->validated ? (double)(disk1 - L->disk0) / nval : 0;
    double disk_size_per_tx = L->validated ? (double)(disk1_size - L->disk0_size) / nval : 0;
    double written_per_tx = L->validated && L->wbytes0 >= 0 && wbytes1 >= 0
                                ? (double)(wbytes1 - L->wbytes0) / nval
                                : -1;
    double node_us = L->validated ? L->cpu_node / nval * 1e6 : 0;
    bool pass_ratio = L->ratio >= 0.5, pass_lat = p99_iv <= 2;

    if (b->json) {
        printf("{\"bench\": \"bench_node\", \"accounts\": %zu, \"payments\": %zu, "
               "\"rounds\": %d, \"conns\": %d, \"window\": %zu, \"close_ms\": %u, "
               "\"track\": \"%s\",\n"
               "  \"validated_tes_per_s\": %.1f, \"steady\": %s, \"submit_replies_per_s\": "
               "%.1f, \"verify_ceiling_per_s\": %.1f, \"verify_1thread_per_s\": %.1f,\n"
               "  \"ratio\": %.4f, \"ratio_min\": %.4f, \"ratio_max\": %.4f,\n"
               "  \"latency_ms\": {\"p50\": %.1f, \"p99\": %.1f, \"max\": %.1f}, "
               "\"p99_close_intervals\": %.3f, \"reply_ms\": {\"p50\": %.1f, \"p99\": %.1f},\n"
               "  \"validated\": %zu, \"validated_tes\": %zu, \"rejected\": %zu,\n"
               "  \"rss_kb\": %ld, \"rss_anon_kb\": %ld, \"rss_file_kb\": %ld, \"hwm_kb\": %ld, "
               "\"rss_before_kb\": %ld,\n"
               "  \"disk_bytes_per_tx\": %.1f, \"disk_apparent_bytes_per_tx\": %.1f, "
               "\"written_bytes_per_tx\": %.1f, "
               "\"node_cpu_us_per_tx\": %.1f, \"node_cpu_share\": %.3f, \"bench_cpu_share\": "
               "%.3f}\n",
               b->naccts, b->npay, L->rounds, b->nconns, b->window, b->close_ms,
               b->stream ? "stream" : "ledger", L->rate, L->all_steady ? "true" : "false",
               L->submit_rate, L->ceiling, L->ceil1, L->ratio, L->ratio_min, L->ratio_max, p50, p99,
               pmax, p99_iv, a50, a99, L->validated, L->tes, L->rejected, rss, anon, file, hwm,
               L->rss0, disk_per_tx, disk_size_per_tx, written_per_tx, node_us,
               L->cpu_node / L->secs, L->cpu_self / L->secs);
        return 0;
    }
    char g1[32], g2[32];
    printf("\nbaseline: secp256k1_ecdsa_verify on pre-made signatures, between the rounds\n");
    printf("  %-46s %12s /s\n", "two threads (ceiling, median of rounds)",
           grouped(L->ceiling, g1, sizeof g1));
    printf("  %-46s %12s /s\n", "one thread (information)", grouped(L->ceil1, g1, sizeof g1));
    printf("\nload: %zu payments in %d rounds, %.1f s of load\n", b->npay, L->rounds, L->secs);
    printf("  %-46s %12s /s (%s)\n", "validated payments (tes), median of rounds",
           grouped(L->rate, g1, sizeof g1),
           L->all_steady ? "steady state: ledgers closed while submitting"
                         : "some rounds too short for a steady window: raise --payments");
    printf("  %-46s %12s /s\n", "submit replies, median of rounds",
           grouped(L->submit_rate, g1, sizeof g1));
    printf("  %-46s %zu of %zu (tesSUCCESS %zu); rejected at submit %zu\n", "validated",
           L->validated, b->npay, L->tes, L->rejected);
    if (b->other_ledger_txs)
        printf("  %-46s %zu (not sent by this run)\n", "other transactions in the ledgers",
               b->other_ledger_txs);
    printf("  %-46s %9.0f ms p50, %.0f ms p99, %.0f ms max\n", "submit -> validated", p50, p99,
           pmax);
    printf("  %-46s %12.2f p50, %.2f p99\n", "  in close intervals", p50 / b->close_ms, p99_iv);
    printf("  %-46s %9.1f ms p50, %.1f ms p99\n", "submit -> reply", a50, a99);
    printf("  %-46s %9.1f MB (anonymous %.1f, LMDB map %.1f; %.1f MB before the load)\n",
           "node resident memory", (double)rss / 1024, (double)anon / 1024, (double)file / 1024,
           (double)L->rss0 / 1024);
    printf("  %-46s %9.0f bytes/tx allocated (%.0f apparent)\n", "node disk growth", disk_per_tx,
           disk_size_per_tx);
    if (written_per_tx >= 0)
        printf("  %-46s %9.0f bytes/tx (write_bytes of /proc/PID/io)\n", "node writes to storage",
               written_per_tx);
    printf("  %-46s %9.1f %% of a core, %.1f us per payment; bench process %.1f %%\n",
           "node CPU during the load", 100 * L->cpu_node / L->secs, node_us,
           100 * L->cpu_self / L->secs);
    printf("\n  %-46s %12.3f (rounds %.3f..%.3f; target >= 0.5)  %s\n",
           "ratio validated/s / verify ceiling", L->ratio, L->ratio_min, L->ratio_max,
           pass_ratio ? "PASS" : "BELOW");
    printf("  %-46s %12.2f (target <= 2)  %s\n", "p99 latency in close intervals", p99_iv,
           pass_lat ? "PASS" : "BELOW");
    printf("\nSUMMARY node: %s validated payments/s, two-core verify ceiling %s/s, ratio %.3f "
           "(target >= 0.5)  %s\n",
           grouped(L->rate, g1, sizeof g1), grouped(L->ceiling, g2, sizeof g2), L->ratio,
           pass_ratio ? "PASS" : "BELOW");
    printf("SUMMARY node: p99 submit->validated %.0f ms = %.2f close intervals (target <= 2)  "
           "%s; node RSS %.0f MB; %.0f bytes on disk per tx\n",
           p99, p99_iv, pass_lat ? "PASS" : "BELOW", (double)rss / 1024, disk_per_tx);
    return 0;
}

/* ---------------------------------------------------------------- book_offers clients */

typedef struct book_res {
    double secs, rate, p50, p99, pmax;
    size_t replies, bad;
    double node_cpu_share, self_cpu_share;
} book_res;

/* book_offers (limit b->br.expect) of the CNY/SWT book for `secs` seconds,
 * from b->book_clients connections, each keeping b->book_window requests
 * outstanding. Rate: replies received in the window; latency: request ->
 * reply of the requests sent in it. */
static void book_bench(bench *b, double secs, book_res *out)
{
    if (!b->nbook) {
        for (int i = 0; i < b->book_clients; i++) {
            char name[16];
            snprintf(name, sizeof name, "book%d", i);
            conn_open(b, &b->book[i], name, false);
            b->nbook = i + 1;
        }
        for (int i = 0; i < b->nbook; i++)
            wait_open(b, &b->book[i]);
    }
    book_run *r = &b->br;
    r->nlat = r->replies = r->bad = r->sent = 0;
    r->first_bad[0] = 0;
    r->t_start = now() + 0.3; /* a short warm-up, not counted */
    r->t_end = r->t_start + secs;
    r->sending = true;
    while (now() < r->t_start)
        pump(b, 5);
    double cn0 = node_cpu(), cs0 = self_cpu();
    while (now() < r->t_end) {
        pump(b, 5);
        node_check_alive();
    }
    double cn = node_cpu() - cn0, cs = self_cpu() - cs0;
    r->sending = false;
    double t0 = now();
    for (;;) {
        size_t inflight = 0;
        for (int i = 0; i < b->nbook; i++)
            inflight += b->book[i].inflight;
        if (!inflight)
            break;
        if (now() - t0 > 30)
            die("%zu book_offers requests unanswered after 30 s", inflight);
        pump(b, 20);
    }
    qsort(r->lat, r->nlat, sizeof *r->lat, cmp_double);
    memset(out, 0, sizeof *out);
    out->secs = secs;
    out->replies = r->replies;
    out->bad = r->bad;
    out->rate = (double)r->replies / secs;
    out->p50 = pct(r->lat, r->nlat, 50);
    out->p99 = pct(r->lat, r->nlat, 99);
    out->pmax = r->nlat ? r->lat[r->nlat - 1] : 0;
    out->node_cpu_share = cn / secs;
    out->self_cpu_share = cs / secs;
    if (r->bad)
        die("%zu of %zu book_offers replies were not %zu offers (first: %s)", r->bad,
            r->replies + r->bad, r->expect, r->first_bad);
}

/* ---------------------------------------------------------------- offers mode */

/*
 * Accounts: 0 the issuer of CNY, 1..M makers, M+1..M+T takers.
 *
 * The book (taker_gets CNY, taker_pays SWT): makers sell 1 CNY per offer,
 * at level L for 1 000 000 + 100 * L drops. The initial book holds `depth`
 * offers, OFFERS_PER_LEVEL per level (levels 0 .. depth/10 - 1: 1.0000 to
 * 1.0999 SWT per CNY for 10 000 offers), each level from different makers.
 *
 * Takers buy CNY with SWT at a limit of 10 SWT per CNY, above every level,
 * so each fills in full from the best offers. One taker in ten buys 1.05 to
 * 1.95 CNY, the others 0.05 to 0.35 CNY (1 CNY in 3.3 on average).
 *
 * Makers replace what the takers buy: after each taker, one new 1-CNY offer
 * for every CNY bought so far, on the next level behind the book (ten to a
 * level, as the book was built). Refills always sort behind every offer in
 * the book, so whatever order the node applies takers and refills in, the
 * takers eat the book from the front and at most one offer is ever partly
 * taken: a taker takes from the rest of that one and then whole offers, at
 * most 3 in all (it buys under 2 CNY) and at least 1. The book stays about
 * `depth` deep; its best price rises by 100 drops per 10 offers taken
 * (0.6 SWT per CNY after 60 000), far below the takers' limit. Amounts are
 * multiples of 0.01 CNY and prices multiples of 100 drops per CNY, so every
 * fill is exact in both currencies.
 */
#define OFFER_CNY_UNITS  100u     /* a maker offer: 1 CNY, in units of 0.01 CNY */
#define LEVEL0_DROPS     1000000u /* price of level 0, drops per CNY */
#define LEVEL_STEP       100u     /* drops per CNY between levels */
#define OFFERS_PER_LEVEL 10u
#define TAKER_LIMIT      10000000u /* a taker pays at most 10 SWT per CNY */
#define MAKER_CNY        "10000"   /* issued to each maker */
#define LINE_LIMIT       "1000000"

enum { S_TRUST, S_ISSUE, S_MAKER, S_TAKER };

/* One transaction to sign: type, sending account, Sequence, and a type's
 * parameter (S_ISSUE: the maker's account; S_MAKER: price level; S_TAKER:
 * units of 0.01 CNY to buy). */
typedef struct ospec {
    uint8_t type;
    uint32_t src, seq, param;
} ospec;

typedef struct offer_job {
    const account *accts;
    const char *issuer; /* address */
    const ospec *spec;
    ptx *v;
} offer_job;

/* What taker t buys, in units of 0.01 CNY: a fixed scramble of t, so that
 * the large ones do not all fall on one account or one connection. */
static unsigned taker_units(size_t t)
{
    uint32_t h = (uint32_t)t * 2654435761u;
    h ^= h >> 15;
    if ((h >> 8) % 10 == 0)
        return 105 + (h >> 20) % 91; /* 1.05 .. 1.95 CNY */
    return 5 + (h >> 20) % 31;       /* 0.05 .. 0.35 CNY */
}

static jt_err cny(jt_amount *a, const char *issuer, unsigned units)
{
    char v[32];
    snprintf(v, sizeof v, "%u.%02u", units / 100, units % 100);
    return jt_amount_issued(a, v, "CNY", issuer, 0, NULL);
}

static jt_err sign_offers_tx(void *ctx, size_t k)
{
    const offer_job *j = ctx;
    const ospec *s = &j->spec[k];
    ptx *p = &j->v[k];
    const account *from = &j->accts[s->src];
    p->src = s->src;
    jt_amount a1, a2;
    jt_err e;
    jt_obj *tx;
    switch (s->type) {
    case S_TRUST:
        e = jt_amount_issued(&a1, LINE_LIMIT, "CNY", j->issuer, 0, NULL);
        if (e)
            return e;
        tx = tx_begin(JT_TX_TRUST_SET, 0, from, s->seq);
        return tx_finish(p, k, tx, from, tx ? jt_obj_set_amount(tx, "LimitAmount", &a1) : JT_OK);
    case S_ISSUE:
        e = jt_amount_issued(&a1, MAKER_CNY, "CNY", j->issuer, 0, NULL);
        return e ? e : sign_payment(p, k, from, s->seq, &j->accts[s->param].id, &a1);
    case S_MAKER: /* sells 1 CNY for the level's price */
        p->kind = K_MAKER;
        if ((e = drops(&a1, LEVEL0_DROPS + (uint64_t)LEVEL_STEP * s->param)) ||
            (e = cny(&a2, j->issuer, OFFER_CNY_UNITS)))
            return e;
        break;
    default: /* S_TAKER: buys param/100 CNY, paying at most TAKER_LIMIT per CNY */
        p->kind = K_TAKER;
        if ((e = cny(&a1, j->issuer, s->param)) ||
            (e = drops(&a2, (uint64_t)s->param * (TAKER_LIMIT / 100))))
            return e;
        break;
    }
    tx = tx_begin(JT_TX_OFFER_CREATE, 0, from, s->seq);
    e = tx ? jt_obj_set_amount(tx, "TakerPays", &a1) : JT_OK;
    if (!e && tx)
        e = jt_obj_set_amount(tx, "TakerGets", &a2);
    return tx_finish(p, k, tx, from, e);
}

static void sign_offers_set(ptx_set *set, const ospec *spec, size_t n, const account *accts,
                            const char *issuer, const char *what)
{
    set_alloc(set, n);
    offer_job j = {.accts = accts, .issuer = issuer, .spec = spec, .v = set->v};
    parallel(n, sign_offers_tx, &j, what);
    set_signed(set);
}

/* The first offer of the book as book_offers shows it: its quality (SWT
 * drops per CNY); dies unless the reply holds `limit` CNY-selling offers. */
static double book_top(bench *b, unsigned limit)
{
    jt_json_doc *d = ctrl_call(b, 30, "%s", b->book_req);
    const jt_json *offers = jt_json_get(jt_json_get(jt_json_root(d), "result"), "offers");
    if (!offers || offers->kind != JT_JSON_ARRAY || offers->u.arr.n != limit)
        die("book_offers: expected %u offers, got %zu", limit,
            offers && offers->kind == JT_JSON_ARRAY ? offers->u.arr.n : 0);
    const jt_json *tg = jt_json_get(offers->u.arr.items[0], "TakerGets");
    const char *cur = jt_json_string(jt_json_get(tg, "currency"));
    const char *q = jt_json_string(jt_json_get(offers->u.arr.items[0], "quality"));
    if (!cur || strcmp(cur, "CNY") || !q)
        die("book_offers: the first offer does not sell CNY");
    double quality = strtod(q, NULL);
    jt_json_doc_free(d);
    return quality;
}

/* Sum of the takers' CNY balances (account_lines), in CNY. */
static double takers_cny(bench *b, const account *accts, size_t first, size_t n)
{
    double sum = 0;
    for (size_t a = first; a < first + n; a++) {
        char addr[JT_ADDRESS_MAX];
        check(jt_address_encode(&accts[a].id, addr), "address");
        jt_json_doc *d = ctrl_call(b, 30, "\"command\":\"account_lines\",\"account\":\"%s\"", addr);
        const jt_json *lines = jt_json_get(jt_json_get(jt_json_root(d), "result"), "lines");
        for (size_t i = 0; lines && lines->kind == JT_JSON_ARRAY && i < lines->u.arr.n; i++) {
            const jt_json *l = lines->u.arr.items[i];
            const char *cur = jt_json_string(jt_json_get(l, "currency"));
            const char *bal = jt_json_string(jt_json_get(l, "balance"));
            if (cur && bal && !strcmp(cur, "CNY"))
                sum += strtod(bal, NULL);
        }
        jt_json_doc_free(d);
    }
    return sum;
}

/* Offers mode: set-up, the load in rounds, book_offers, and the report.
 * Returns the exit status (3: the offers did not cross or fill). */
static int offers_run(bench *b, const account *genesis, uint32_t gseq, const char *ledger_dir)
{
    size_t nm = b->nmakers, nt = b->ntakers, na = 1 + nm + nt;
    double t0 = now();
    account *accts = make_accounts(na);
    char issuer[JT_ADDRESS_MAX];
    check(jt_address_encode(&accts[0].id, issuer), "issuer address");
    snprintf(b->book_req, sizeof b->book_req,
             "\"command\":\"book_offers\",\"taker_gets\":{\"currency\":\"CNY\",\"issuer\":\"%s\"},"
             "\"taker_pays\":{\"currency\":\"SWT\",\"issuer\":\"\"},\"limit\":20",
             issuer);
    b->br.expect = 20;
    uint32_t *seq = xcalloc(na, sizeof *seq);
    for (size_t a = 0; a < na; a++)
        seq[a] = 1; /* a new account's first Sequence */

    /* Set-up transactions: trust lines (makers and takers), CNY for the
     * makers, the book. */
    size_t ntrust = nm + nt, nbook = b->depth;
    ospec *st = xcalloc(ntrust, sizeof *st), *si = xcalloc(nm, sizeof *si);
    ospec *sb = xcalloc(nbook, sizeof *sb), *sl = xcalloc(b->noffers, sizeof *sl);
    for (size_t a = 1; a < na; a++)
        st[a - 1] = (ospec){S_TRUST, (uint32_t)a, seq[a]++, 0};
    for (size_t m = 0; m < nm; m++)
        si[m] = (ospec){S_ISSUE, 0, seq[0]++, (uint32_t)(1 + m)};
    for (size_t j = 0; j < nbook; j++) {
        uint32_t m = (uint32_t)(1 + j % nm);
        sb[j] = (ospec){S_MAKER, m, seq[m]++, (uint32_t)(j / OFFERS_PER_LEVEL)};
    }
    /* The load: takers, each followed by the makers' offers that replace
     * what the takers have bought so far. Connection c (accounts a with
     * a % nconns == c) carries its takers' refills, made by its own makers,
     * so the book keeps its depth however far apart the connections are
     * when a round ends. */
    size_t k = 0, t = 0, made = 0, ntakers = 0;
    size_t nc = (size_t)b->nconns, made_c[MAX_CONNS] = {0};
    uint64_t bought_c[MAX_CONNS] = {0};
    if (nm < nc)
        die("--makers must be at least --conns (%zu)", nc);
    while (k < b->noffers) {
        uint32_t a = (uint32_t)(1 + nm + t % nt);
        unsigned u = taker_units(t++);
        size_t c = a % nc;
        sl[k++] = (ospec){S_TAKER, a, seq[a]++, u};
        ntakers++;
        bought_c[c] += u;
        while (bought_c[c] >= (uint64_t)OFFER_CNY_UNITS * (made_c[c] + 1) && k < b->noffers) {
            /* The makers of connection c: first, first + nc, ... <= nm. */
            size_t first = c ? c : nc, count = (nm - first) / nc + 1;
            uint32_t m = (uint32_t)(first + nc * (made_c[c]++ % count));
            sl[k++] =
                (ospec){S_MAKER, m, seq[m]++, (uint32_t)((nbook + made++) / OFFERS_PER_LEVEL)};
        }
    }
    double t_keys = now() - t0;
    set_alloc(&b->fund, na);
    fund_job fj = {
        .genesis = genesis, .accts = accts, .gseq = gseq, .amount = FUND_DROPS, .v = b->fund.v};
    parallel(na, sign_fund, &fj, "signing funding payments");
    set_signed(&b->fund);
    ptx_set trust, issue, book;
    sign_offers_set(&trust, st, ntrust, accts, issuer, "signing TrustSets");
    sign_offers_set(&issue, si, nm, accts, issuer, "signing CNY payments");
    sign_offers_set(&book, sb, nbook, accts, issuer, "signing the book's offers");
    sign_offers_set(&b->txs, sl, b->noffers, accts, issuer, "signing the load's offers");
    double t_sign = now() - t0 - t_keys;
    int rounds = b->rounds;
    if ((size_t)rounds > b->noffers)
        rounds = (int)b->noffers;
    free(st);
    free(si);
    free(sb);
    free(seq);
    if (!b->json)
        printf("bench_node --mode offers: %s, issuer of CNY, %zu makers, %zu takers; a book %zu "
               "offers deep; %zu pre-signed OfferCreates (%zu takers, %zu makers' refills) for "
               "%d rounds of %.0f s, %d jtp connections x window %zu, close every %u ms\n",
               b->node, nm, nt, nbook, b->noffers, ntakers, b->noffers - ntakers, rounds,
               b->round_secs, b->nconns, b->window, b->close_ms);

    /* ---- set-up (not measured) ---- */
    double t1 = now();
    submit_set(b, &b->fund, "funding");
    submit_set(b, &trust, "trust lines");
    submit_set(b, &issue, "issuing CNY to the makers");
    b->offer_meta = true;
    submit_set(b, &book, "placing the book");
    offer_tally bt = {0};
    tally_offers(&book, 0, nbook, 0, &bt);
    if (bt.makers_placed != nbook)
        die("placing the book: %zu of %zu offers placed", bt.makers_placed, nbook);
    b->book_depth = (long)nbook;
    set_free(&trust);
    set_free(&issue);
    set_free(&book);
    double top0 = book_top(b, b->br.expect);
    if (top0 != LEVEL0_DROPS)
        die("book_offers: the best offer is at %.0f drops/CNY, not %u", top0, LEVEL0_DROPS);
    if (!b->json)
        printf("set-up (not measured): keys and plan %.1f s, signing %.1f s on 2 threads, "
               "funding, trust lines, CNY and the book %.1f s; best offer %.0f drops/CNY\n",
               t_keys, t_sign, now() - t1, top0);

    /* ---- book_offers on the book as placed ---- */
    book_res br0;
    book_bench(b, b->book_secs, &br0);
    if (!b->json) {
        char g1[32];
        printf("book_offers (limit %zu) on the %zu-deep book, %d clients x %zu outstanding: %s/s, "
               "p50 %.2f ms, p99 %.2f ms; node CPU %.0f %% of a core\n",
               b->br.expect, nbook, b->nbook, b->book_window, grouped(br0.rate, g1, sizeof g1),
               br0.p50, br0.p99, 100 * br0.node_cpu_share);
    }

    /* ---- the load ---- */
    size_t bounds[MAX_ROUNDS + 1];
    for (int r = 0; r <= rounds; r++)
        bounds[r] = b->noffers * (size_t)r / (size_t)rounds;
    load_res L;
    memset(&L, 0, sizeof L);
    run_rounds(b, &L, bounds, rounds, ledger_dir);

    /* ---- off the clock: did the takers fill, and do the balances show it? ---- */
    offer_tally ot = {0};
    tally_offers(&b->txs, 0, b->txs.n, 0, &ot);
    uint64_t filled_units = 0;
    for (size_t i = 0; i < b->txs.n; i++) {
        const ptx *p = &b->txs.v[i];
        if (p->kind == K_TAKER && p->has_result && !p->ter_val && p->crossed && !p->placed)
            filled_units += sl[i].param;
    }
    double held = takers_cny(b, accts, 1 + nm, nt), bought = (double)filled_units / 100;
    double diff = held - bought;
    /* Exact when every taker filled; a taker left resting in the book may
     * be filled later by a maker's offer, so then only "at least". */
    bool balances_ok = ot.rested ? diff > -0.005 : diff > -0.005 && diff < 0.005;
    bool did_cross = ot.takers && ot.crossed * 100 >= ot.takers * 99;
    bool filled_ok = ot.filled * 100 >= ot.crossed * 99;
    bool pass_ratio = L.cross_ratio >= 0.35;
    double top1 = book_top(b, b->br.expect);
    book_res br1;
    book_bench(b, b->book_secs, &br1);

    long rss, hwm, anon, file;
    node_memory(&rss, &hwm, &anon, &file);
    double p50 = pct(L.lat, L.nlat, 50), p99 = pct(L.lat, L.nlat, 99);
    double a50 = pct(L.ack, L.nack, 50), a99 = pct(L.ack, L.nack, 99);
    double node_us = L.validated ? L.cpu_node / (double)L.validated * 1e6 : 0;
    char verdict[160];
    if (!did_cross)
        snprintf(verdict, sizeof verdict,
                 "FAIL (did not cross: %zu of %zu takers took from the book)", ot.crossed,
                 ot.takers);
    else if (!filled_ok)
        snprintf(verdict, sizeof verdict, "FAIL (not filled: %zu of %zu crossing takers rested)",
                 ot.crossed - ot.filled, ot.crossed);
    else if (!balances_ok)
        snprintf(verdict, sizeof verdict,
                 "FAIL (takers hold %.2f CNY, the fills in the metadata say %.2f)", held, bought);
    else
        snprintf(verdict, sizeof verdict, "%s", pass_ratio ? "PASS" : "BELOW");
    bool fail = !did_cross || !filled_ok || !balances_ok;
    double tt = ot.takers_tes ? (double)ot.takers_tes : 1;

    if (b->json) {
        printf(
            "{\"bench\": \"bench_node\", \"mode\": \"offers\", \"makers\": %zu, \"takers\": %zu, "
            "\"depth\": %zu, \"offers\": %zu, \"rounds\": %d, \"conns\": %d, \"window\": %zu,\n"
            "  \"crossing_takers_per_s\": %.1f, \"offer_creates_per_s\": %.1f, \"steady\": %s, "
            "\"verify_ceiling_per_s\": %.1f, \"verify_1thread_per_s\": %.1f,\n"
            "  \"ratio\": %.4f, \"ratio_min\": %.4f, \"ratio_max\": %.4f, \"ratio_all\": %.4f,\n"
            "  \"takers_submitted\": %zu, \"takers_tes\": %zu, \"takers_crossed\": %zu, "
            "\"takers_filled\": %zu, \"took_from\": [%zu, %zu, %zu, %zu, %zu], "
            "\"offers_taken\": %zu, \"maker_offers_placed\": %zu, \"book_depth_end\": %ld,\n"
            "  \"takers_cny_held\": %.2f, \"takers_cny_bought\": %.2f, \"verdict\": \"%s\",\n"
            "  \"latency_ms\": {\"p50\": %.1f, \"p99\": %.1f}, \"reply_ms\": {\"p50\": %.1f, "
            "\"p99\": %.1f}, \"node_cpu_us_per_tx\": %.1f, \"rss_kb\": %ld,\n"
            "  \"book_offers\": {\"limit\": %zu, \"clients\": %d, \"window\": %zu, "
            "\"per_s\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"after_load_per_s\": %.1f, "
            "\"after_load_p99_ms\": %.3f}}\n",
            nm, nt, nbook, b->noffers, L.rounds, b->nconns, b->window, L.cross_rate, L.rate,
            L.all_steady ? "true" : "false", L.ceiling, L.ceil1, L.cross_ratio, L.cross_ratio_min,
            L.cross_ratio_max, L.ratio, ot.takers, ot.takers_tes, ot.crossed, ot.filled, ot.hist[0],
            ot.hist[1], ot.hist[2], ot.hist[3], ot.hist[4], ot.taken, ot.makers_placed,
            b->book_depth, held, bought, verdict, p50, p99, a50, a99, node_us, rss, b->br.expect,
            b->nbook, b->book_window, br0.rate, br0.p50, br0.p99, br1.rate, br1.p99);
    } else {
        char g1[32], g2[32], g3[32];
        printf("\nbaseline: secp256k1_ecdsa_verify on pre-made signatures, between the rounds\n");
        printf("  %-46s %12s /s\n", "two threads (ceiling, median of rounds)",
               grouped(L.ceiling, g1, sizeof g1));
        printf("  %-46s %12s /s\n", "one thread (information)", grouped(L.ceil1, g1, sizeof g1));
        printf(
            "\nload: %zu OfferCreates sent (%zu takers, %zu makers' refills) in %d rounds, %.1f s "
            "of load\n",
            ot.takers + ot.makers, ot.takers, ot.makers, L.rounds, L.secs);
        printf("  %-46s %12s /s (%s)\n", "crossing takers (took from the book), median",
               grouped(L.cross_rate, g1, sizeof g1),
               L.all_steady ? "steady state: ledgers closed while submitting"
                            : "some rounds too short for a steady window: raise --offers");
        printf("  %-46s %12s /s\n", "all OfferCreates (tesSUCCESS), median of rounds",
               grouped(L.rate, g1, sizeof g1));
        printf("  %-46s %12s /s\n", "submit replies, median of rounds",
               grouped(L.submit_rate, g1, sizeof g1));
        printf("  %-46s %zu of %zu sent (tesSUCCESS %zu); rejected at submit %zu\n", "validated",
               L.validated, ot.takers + ot.makers, L.tes, L.rejected);
        printf("  %-46s %zu tesSUCCESS of %zu; took from 0 offers %.1f %%, 1: %.1f %%, 2: %.1f "
               "%%, 3: %.1f %%, more: %.1f %%\n",
               "takers", ot.takers_tes, ot.takers, 100 * (double)ot.hist[0] / tt,
               100 * (double)ot.hist[1] / tt, 100 * (double)ot.hist[2] / tt,
               100 * (double)ot.hist[3] / tt, 100 * (double)ot.hist[4] / tt);
        printf("  %-46s %zu filled in full, %zu left resting in the book\n", "", ot.filled,
               ot.rested);
        printf("  %-46s %zu taken in full, %zu placed by makers; now %ld deep (from %zu)\n",
               "offers in the book", ot.taken, ot.makers_placed, b->book_depth, nbook);
        printf("  %-46s %.0f drops/CNY before the load, %.0f after\n", "best offer", top0, top1);
        printf("  %-46s %.2f CNY held (account_lines), %.2f CNY bought by the filled takers "
               "(metadata)  %s\n",
               "takers' balances", held, bought, balances_ok ? "agree" : "DISAGREE");
        printf("  %-46s %9.0f ms p50, %.0f ms p99\n", "submit -> validated", p50, p99);
        printf("  %-46s %9.1f ms p50, %.1f ms p99\n", "submit -> reply", a50, a99);
        printf("  %-46s %9.1f %% of a core, %.1f us per OfferCreate; bench process %.1f %%; "
               "node RSS %.0f MB\n",
               "node CPU during the load", 100 * L.cpu_node / L.secs, node_us,
               100 * L.cpu_self / L.secs, (double)rss / 1024);
        printf("\nbook_offers (limit %zu), %d clients x %zu outstanding, %.0f s each\n",
               b->br.expect, b->nbook, b->book_window, b->book_secs);
        printf("  %-46s %12s /s, p50 %.2f ms, p99 %.2f ms, max %.2f ms; node CPU %.0f %%, "
               "bench %.0f %%\n",
               "on the book as placed", grouped(br0.rate, g1, sizeof g1), br0.p50, br0.p99,
               br0.pmax, 100 * br0.node_cpu_share, 100 * br0.self_cpu_share);
        printf("  %-46s %12s /s, p50 %.2f ms, p99 %.2f ms, max %.2f ms; node CPU %.0f %%, "
               "bench %.0f %%\n",
               "after the load", grouped(br1.rate, g1, sizeof g1), br1.p50, br1.p99, br1.pmax,
               100 * br1.node_cpu_share, 100 * br1.self_cpu_share);
        printf("\n  %-46s %12.3f (rounds %.3f..%.3f; target >= 0.35)  %s\n",
               "ratio crossing takers/s / verify ceiling", L.cross_ratio, L.cross_ratio_min,
               L.cross_ratio_max, verdict);
        printf("  %-46s %12.3f (rounds %.3f..%.3f; information)\n",
               "ratio all OfferCreates/s / verify ceiling", L.ratio, L.ratio_min, L.ratio_max);
        printf("\nSUMMARY offers: %s OfferCreates/s crossing 1-3 offers of a %zu-deep book, "
               "two-core verify ceiling %s/s, ratio %.3f (target >= 0.35)  %s\n",
               grouped(L.cross_rate, g1, sizeof g1), nbook, grouped(L.ceiling, g2, sizeof g2),
               L.cross_ratio, verdict);
        printf("SUMMARY offers: all OfferCreates (takers and the makers' refills) %s/s, ratio "
               "%.3f; takers took from 1/2/3 offers: %.0f/%.0f/%.0f %%; p99 submit->validated "
               "%.0f ms\n",
               grouped(L.rate, g3, sizeof g3), L.ratio, 100 * (double)ot.hist[1] / tt,
               100 * (double)ot.hist[2] / tt, 100 * (double)ot.hist[3] / tt, p99);
        printf("SUMMARY book_offers (limit %zu, %zu-deep book, %d clients x %zu): %s/s, p50 %.2f "
               "ms, p99 %.2f ms (after the load: %s/s, p99 %.2f ms)\n",
               b->br.expect, nbook, b->nbook, b->book_window, grouped(br0.rate, g1, sizeof g1),
               br0.p50, br0.p99, grouped(br1.rate, g2, sizeof g2), br1.p99);
    }
    free(sl);
    free_accounts(accts, na);
    free_load(&L);
    return fail ? 3 : 0;
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_node [--mode payments|offers] [--node PATH] [--conns C] [--window W]\n"
            "                  [--close-ms MS] [--rounds R] [--verify-seconds S] [--keep]\n"
            "                  [--json] [--verbose]\n"
            "  payments: [--accounts N] [--payments M] [--track ledger|stream]\n"
            "  offers:   [--makers N] [--takers N] [--depth N] [--offers M] [--round-seconds S]\n"
            "            [--book-clients C] [--book-window W] [--book-seconds S]\n");
    exit(2);
}

static unsigned long opt_num(const char *s, unsigned long lo, unsigned long hi)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || s[0] == '-' || v < lo || v > hi)
        usage();
    return v;
}

int main(int argc, char **argv)
{
    static bench B;
    bench *b = &B;
    b->node = "build/bin/jt-node";
    b->naccts = 10000;
    b->npay = 600000;
    b->nmakers = 1000;
    b->ntakers = 4000;
    b->depth = 10000;
    b->noffers = 240000;
    b->book_clients = 4;
    b->book_window = 4;
    b->book_secs = 3;
    b->round_secs = 8;
    b->nconns = 2;
    b->window = 256;
    b->close_ms = 1000;
    b->verify_secs = 2;
    b->rounds = 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--keep")) {
            g_keep = true;
            continue;
        }
        if (!strcmp(a, "--json")) {
            b->json = true;
            continue;
        }
        if (!strcmp(a, "--verbose")) {
            b->verbose = true;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "--node"))
            b->node = v;
        else if (!strcmp(a, "--mode") && (!strcmp(v, "payments") || !strcmp(v, "offers")))
            b->mode = !strcmp(v, "offers") ? MODE_OFFERS : MODE_PAYMENTS;
        else if (!strcmp(a, "--accounts"))
            b->naccts = opt_num(v, 2, 1000000);
        else if (!strcmp(a, "--payments"))
            b->npay = opt_num(v, 1, 900000000);
        else if (!strcmp(a, "--makers"))
            b->nmakers = opt_num(v, 1, 100000);
        else if (!strcmp(a, "--takers"))
            b->ntakers = opt_num(v, 1, 1000000);
        else if (!strcmp(a, "--depth"))
            b->depth = opt_num(v, 20, 1000000);
        else if (!strcmp(a, "--offers"))
            b->noffers = opt_num(v, 1, 100000000);
        else if (!strcmp(a, "--book-clients"))
            b->book_clients = (int)opt_num(v, 1, MAX_CONNS);
        else if (!strcmp(a, "--book-window"))
            b->book_window = opt_num(v, 1, 1000);
        else if (!strcmp(a, "--book-seconds"))
            b->book_secs = (double)opt_num(v, 1, 600);
        else if (!strcmp(a, "--round-seconds"))
            b->round_secs = (double)opt_num(v, 2, 600);
        else if (!strcmp(a, "--conns"))
            b->nconns = (int)opt_num(v, 1, MAX_CONNS);
        else if (!strcmp(a, "--window"))
            b->window = opt_num(v, 1, 20000);
        else if (!strcmp(a, "--close-ms"))
            b->close_ms = (unsigned)opt_num(v, 100, 60000);
        else if (!strcmp(a, "--rounds"))
            b->rounds = (int)opt_num(v, 1, MAX_ROUNDS);
        else if (!strcmp(a, "--verify-seconds"))
            b->verify_secs = (double)opt_num(v, 1, 60);
        else if (!strcmp(a, "--track") && (!strcmp(v, "ledger") || !strcmp(v, "stream")))
            b->stream = !strcmp(v, "stream");
        else
            usage();
    }
    /* Offers mode reads every taker's metadata from the ledgers. Payments
     * mode splits its rounds by count. */
    if (b->mode == MODE_OFFERS && b->stream)
        usage();
    if (b->mode == MODE_PAYMENTS)
        b->round_secs = 0;
    if (sodium_init() < 0)
        die("sodium_init failed");
    if (access(b->node, X_OK))
        die("%s: %s (build it with make, or pass --node)", b->node, strerror(errno));
    setvbuf(stdout, NULL, _IOLBF, 0);
    atexit(cleanup);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    b->rbuf = xcalloc(1, READ_CHUNK);
    b->ledgers = xcalloc(MAX_LEDGERS, sizeof *b->ledgers);
    b->ctl.fd = -1;

    /* ---- the node ---- */
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/jt-bench-node.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir)) {
        g_dir[0] = 0;
        die("mkdtemp: %s", strerror(errno));
    }
    char data[4200], conf[4200], ledger_dir[4300];
    snprintf(data, sizeof data, "%s/data", g_dir);
    snprintf(conf, sizeof conf, "%s/bench.conf", g_dir);
    snprintf(ledger_dir, sizeof ledger_dir, "%s/ledger", data);
    char key_hex[65];
    node_init(b->node, data, key_hex);
    jt_errinfo ei;
    if (jt_jtp_key_parse(key_hex, b->node_pk, &ei) != JT_OK)
        die("node key %s: %s", key_hex, ei.msg);
    check(jt_jtp_identity_generate(&b->me), "client identity");
    char me_hex[JT_JTP_KEY_HEX_MAX];
    jt_jtp_key_to_hex(jt_jtp_identity_public(b->me), me_hex);
    FILE *cf = fopen(conf, "w");
    if (!cf)
        die("%s: %s", conf, strerror(errno));
    /* Large messages and output queues: a ledger reply carries every
     * transaction of a ledger, and the transactions stream can queue that
     * much at once. The admin key lets the control connection close ledgers. */
    fprintf(cf,
            "[jtp]\nadmin_key = %s\n[ledger]\nclose_ms = %u\n"
            "[limits]\nmax_message = %zu\nmax_outbuf = %zu\n",
            me_hex, b->close_ms, MAX_MSG, (size_t)1 << 30);
    if (fclose(cf))
        die("%s: %s", conf, strerror(errno));
    b->port = node_start(b->node, data, conf, b->close_ms);
    if (b->verbose)
        printf("jt-node pid %d, data %s, jtp port %d\n", (int)g_node_pid, data, b->port);

    conn_open(b, &b->ctl, "ctl", true);
    wait_open(b, &b->ctl);
    for (int i = 0; i < b->nconns; i++) {
        char name[16];
        snprintf(name, sizeof name, "load%d", i);
        conn_open(b, &b->load[i], name, false);
    }
    for (int i = 0; i < b->nconns; i++)
        wait_open(b, &b->load[i]);
    jt_json_doc_free(ctrl_call(b, 30, "\"command\":\"subscribe\",\"streams\":[%s]",
                               b->stream ? "\"ledger\",\"transactions\"" : "\"ledger\""));
    jt_json_doc *d =
        ctrl_call(b, 30, "\"command\":\"account_info\",\"account\":\"" GENESIS_ADDRESS "\"");
    uint64_t gseq = 0;
    if (!jt_json_uint64(
            jt_json_get(jt_json_get(jt_json_get(jt_json_root(d), "result"), "account_data"),
                        "Sequence"),
            true, &gseq))
        die("account_info of the genesis account has no Sequence");
    jt_json_doc_free(d);
    account genesis;
    check(jt_keypair_from_secret(GENESIS_SECRET, &genesis.kp, NULL), "genesis key");
    check(jt_account_id_from_pubkey(genesis.kp.pub, 33, &genesis.id), "genesis account");

    int status;
    if (b->mode == MODE_OFFERS) {
        status = offers_run(b, &genesis, (uint32_t)gseq, ledger_dir);
    } else {
        payments_setup(b, &genesis, (uint32_t)gseq);
        /* Rounds split the payments at multiples of the account count, so
         * every account sends in every round and its Sequence simply
         * continues. */
        size_t per_acct = b->npay / b->naccts;
        int rounds = b->rounds;
        if ((size_t)rounds > per_acct)
            rounds = per_acct ? (int)per_acct : 1;
        size_t bounds[MAX_ROUNDS + 1];
        for (int r = 0; r < rounds; r++)
            bounds[r] = per_acct ? (size_t)r * (per_acct / (size_t)rounds) * b->naccts : 0;
        bounds[rounds] = b->npay;
        load_res L;
        memset(&L, 0, sizeof L);
        run_rounds(b, &L, bounds, rounds, ledger_dir);
        status = payments_report(b, &L, ledger_dir);
        free_load(&L);
    }
    jt_keypair_clear(&genesis.kp);

    conn_close(&b->ctl);
    for (int i = 0; i < b->nconns; i++) {
        conn_close(&b->load[i]);
        free(b->load[i].order);
    }
    for (int i = 0; i < b->nbook; i++)
        conn_close(&b->book[i]);
    set_free(&b->txs);
    set_free(&b->fund);
    free(b->br.lat);
    free(b->br.t_send);
    free(b->ledgers);
    free(b->rbuf);
    jt_jtp_identity_free(b->me);
    return status;
}
