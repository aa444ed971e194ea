/*
 * bench_node.c — jt-node under load: validated payments per second against
 * the machine's two-core signature-verification ceiling, measured in the
 * same run.
 *
 *   bench_node [--node PATH] [--accounts N] [--payments M] [--rounds R]
 *              [--conns C] [--window W] [--close-ms MS] [--track ledger|stream]
 *              [--verify-seconds S] [--keep] [--json] [--verbose]
 *
 * What it does:
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
 *     W submit requests outstanding; an account's payments always go over the
 *     same connection, in Sequence order. A separate connection follows the
 *     ledger stream and, for every closed ledger, fetches the IDs of its
 *     transactions: a payment is validated when its ID arrives. After each
 *     round (off the clock) each of its ledgers is fetched again in binary
 *     with metadata, and only tesSUCCESS payments are counted. With
 *     `--track stream` the transactions stream is followed instead (result
 *     and ID in one message, but much more work for the node).
 *
 * A round's rate counts tesSUCCESS payments in the ledgers closed while the
 * submitters were busy (steady state): (La, Lb], where La is the first
 * ledger holding the round's payments and Lb the last one closed before its
 * last submit, over the time between the two closes as the client saw them.
 * Latency is from writing a submit request to learning that the payment is
 * in a validated (closed) ledger.
 */
#define _XOPEN_SOURCE 700 /* nftw */
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
#define CTRL_ID     1000000000ull /* ids of control requests; below: payment index */
#define LEDGER_ID   2000000000ull /* hash-list fetches: LEDGER_ID + ledger index */
#define RESULT_ID   3000000000ull /* binary fetches (results): RESULT_ID + ledger index */
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

/* ---------------------------------------------------------------- payments */

enum { P_UNSENT, P_SENT, P_ACKED, P_REJECTED, P_VALIDATED };

typedef struct ptx {
    char *req; /* the submit request, id included */
    uint32_t req_len;
    uint32_t ledger;
    uint8_t id[32];
    uint8_t state;
    bool has_result;
    int16_t ter_sub, ter_val;
    double t_sub, t_ack, t_val;
} ptx;

typedef struct account {
    jt_keypair kp;
    jt_account_id id;
} account;

typedef struct sign_job {
    int thread, nthreads;
    const account *accts;
    size_t naccts;
    const account *genesis;
    uint32_t genesis_seq;
    ptx *fund, *pay;
    size_t npay;
    jt_err err;
} sign_job;

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

static jt_err sign_payment(ptx *p, uint64_t req_id, const account *from, uint32_t seq,
                           const jt_account_id *to, uint64_t drops)
{
    jt_obj *tx = jt_obj_new();
    if (!tx)
        return JT_ENOMEM;
    jt_amount amt, fee;
    char d[24], f[24];
    snprintf(d, sizeof d, "%" PRIu64, drops);
    snprintf(f, sizeof f, "%llu", FEE_DROPS);
    jt_err e = jt_amount_from_drops(&amt, d, 0, NULL);
    if (!e)
        e = jt_amount_from_drops(&fee, f, 0, NULL);
    jt_buf b;
    jt_buf_init(&b);
    if (e || (e = jt_obj_set_uint(tx, "TransactionType", JT_TX_PAYMENT)) ||
        (e = jt_obj_set_uint(tx, "Flags", 0)) || (e = jt_obj_set_uint(tx, "Sequence", seq)) ||
        (e = jt_obj_set_account(tx, "Account", &from->id)) ||
        (e = jt_obj_set_account(tx, "Destination", to)) ||
        (e = jt_obj_set_amount(tx, "Amount", &amt)) || (e = jt_obj_set_amount(tx, "Fee", &fee)) ||
        (e = jt_tx_sign(tx, &from->kp, NULL)) || (e = jt_obj_to_binary(tx, 0, &b)))
        goto out;
    jt_tx_blob_id(b.data, b.len, p->id);
    if (!(p->req = make_request(req_id, &b, &p->req_len)))
        e = JT_ENOMEM;
out:
    jt_buf_clear(&b);
    jt_obj_free(tx);
    return e;
}

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

static void *sign_thread(void *arg)
{
    sign_job *j = arg;
    /* Keys first: every thread needs only its own accounts' keys for the
     * payments it signs (payments are split by source account). */
    for (size_t a = (size_t)j->thread; a < j->naccts; a += (size_t)j->nthreads) {
        const account *acct = &j->accts[a];
        jt_err e = sign_payment(&j->fund[a], CTRL_ID - 1 - a, j->genesis,
                                j->genesis_seq + (uint32_t)a, &acct->id, FUND_DROPS);
        if (e) {
            j->err = e;
            return NULL;
        }
    }
    for (size_t k = 0; k < j->npay; k++) {
        size_t src = pay_source(k, j->naccts);
        if (src % (size_t)j->nthreads != (size_t)j->thread)
            continue;
        jt_err e = sign_payment(&j->pay[k], k, &j->accts[src], 1 + (uint32_t)(k / j->naccts),
                                &j->accts[pay_dest(k, j->naccts)].id, PAY_DROPS + k % 1000);
        if (e) {
            j->err = e;
            return NULL;
        }
    }
    return NULL;
}

typedef struct key_job {
    int thread, nthreads;
    account *accts;
    size_t n;
    jt_err err;
} key_job;

static void *key_thread(void *arg)
{
    key_job *j = arg;
    for (size_t a = (size_t)j->thread; a < j->n; a += (size_t)j->nthreads) {
        jt_seed seed;
        jt_err e = jt_seed_generate(JT_KEY_SECP256K1, &seed);
        if (!e)
            e = jt_keypair_from_seed(&seed, &j->accts[a].kp);
        if (!e)
            e = jt_account_id_from_pubkey(j->accts[a].kp.pub, 33, &j->accts[a].id);
        jt_seed_clear(&seed);
        if (e) {
            j->err = e;
            return NULL;
        }
    }
    return NULL;
}

/* ID -> payment index: open addressing over the first 8 bytes of the ID. */
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

/* ---------------------------------------------------------------- jtp connections */

typedef struct conn {
    int fd;
    jt_jtp *j;
    char name[16];
    /* load: payment indices in send order */
    uint32_t *order;
    size_t norder, next, inflight;
} conn;

typedef struct ledger_rec {
    uint32_t seq;
    uint32_t txn_count;
    double t_closed; /* ledgerClosed arrived */
    double t_known;  /* its transactions arrived (ledger reply, or last stream message) */
    uint32_t ours, tes;
    bool results; /* every payment's result is known */
} ledger_rec;

typedef struct bench {
    /* options */
    const char *node;
    size_t naccts, npay;
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
    /* connections: ctl + load */
    conn ctl;
    conn load[MAX_CONNS];
    /* payments */
    ptx *fund, *pay;
    ptx *cur; /* the set being submitted/tracked: fund or pay */
    size_t ncur;
    idmap map_fund, map_pay;
    const idmap *map;
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

/* A payment of the current set was found in validated ledger `seq`. */
static void mark_validated(bench *b, long k, uint32_t seq, double t)
{
    ptx *p = &b->cur[k];
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
    ptx *p = &b->cur[k];
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
    return b->map ? idmap_find(b->map, id) : -1;
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
    if (k >= CTRL_ID - 1 - b->naccts && k < CTRL_ID) /* a funding payment */
        k = CTRL_ID - 1 - k;
    else if (k >= b->npay)
        return false;
    static const char pre[] = ",\"result\":{\"engine_result\":\"";
    if (strncmp(end, pre, sizeof pre - 1))
        return false;
    const char *q;
    const jt_ter *ter = ter_at(end + sizeof pre - 1, &q);
    if (!ter)
        return false;
    if (k >= b->ncur)
        die("reply for payment %llu, which was not sent", k);
    ptx *p = &b->cur[k];
    if (p->t_ack > 0 || p->state == P_UNSENT)
        die("%s: a second reply for payment %llu, or one for a payment not sent", c->name, k);
    p->t_ack = t;
    p->ter_sub = (int16_t)ter->code;
    b->t_last_ack = t;
    c->inflight--;
    /* Claimed (tes, tec) payments will be in a ledger; others never. The
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

static void on_ledger_reply(bench *b, uint32_t seq, const jt_json *root, double t, bool binary)
{
    const jt_json *txs =
        jt_json_get(jt_json_get(jt_json_get(root, "result"), "ledger"), "transactions");
    if (!txs || txs->kind != JT_JSON_ARRAY) {
        const char *err = jt_json_string(jt_json_get(root, "error"));
        die("ledger %" PRIu32 ": reply without transactions (%s)", seq,
            err ? err : "no error given");
    }
    ledger_rec *l = ledger_get(b, seq);
    uint8_t *blob = binary ? malloc(JT_CODEC_MAX_BYTES) : NULL;
    if (binary && !blob)
        die("out of memory");
    for (size_t i = 0; i < txs->u.arr.n; i++) {
        const jt_json *e = txs->u.arr.items[i];
        uint8_t id[32];
        size_t n = 0;
        if (!binary) {
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
        const char *bh = jt_json_string(jt_json_get(e, "tx_blob"));
        const char *mh = jt_json_string(jt_json_get(e, "meta"));
        if (!bh || !mh || jt_hex_decode(bh, strlen(bh), blob, JT_CODEC_MAX_BYTES, &n) != JT_OK)
            die("ledger %" PRIu32 ": transaction %zu is not binary", seq, i);
        jt_tx_blob_id(blob, n, id);
        long k = find_tx(b, id);
        if (k < 0)
            continue;
        jt_obj *meta = NULL;
        uint64_t res = 0;
        if (jt_obj_from_hex(mh, strlen(mh), &meta, NULL) != JT_OK ||
            jt_obj_get_uint(meta, "TransactionResult", &res) != JT_OK)
            die("ledger %" PRIu32 ": unreadable metadata", seq);
        jt_obj_free(meta);
        if (b->cur[k].state != P_VALIDATED || b->cur[k].ledger != seq)
            die("ledger %" PRIu32 ": holds a payment its ID list did not show", seq);
        set_result(b, k, (int)res);
    }
    free(blob);
    if (binary)
        l->results = true;
}

static void dispatch(bench *b, conn *c, const char *msg, size_t len)
{
    double t = now();
    if (submit_reply_fast(b, c, msg, len, t))
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

/* Sends payments on `c` until its window is full. */
static void conn_top_up(bench *b, conn *c)
{
    if (jt_jtp_get_state(c->j) != JT_JTP_OPEN)
        return;
    bool any = false;
    while (c->inflight < b->window && c->next < c->norder) {
        ptx *p = &b->cur[c->order[c->next]];
        jt_errinfo ei;
        if (jt_jtp_send(c->j, p->req, p->req_len, &ei) != JT_OK)
            die("%s: jtp send: %s", c->name, ei.msg);
        double t = now();
        p->t_sub = t;
        p->state = P_SENT;
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

/* One round of I/O on every connection; waits at most timeout_ms. */
static void pump(bench *b, int timeout_ms)
{
    struct pollfd pf[MAX_CONNS + 1];
    conn *cs[MAX_CONNS + 1];
    int n = 0;
    cs[n++] = &b->ctl;
    for (int i = 0; i < b->nconns; i++)
        if (b->load[i].j)
            cs[n++] = &b->load[i];
    for (int i = 0; i < n; i++) {
        if (cs[i] != &b->ctl)
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

/* Submits payments v[lo..hi) (the connections' send orders are set) and
 * waits until every accepted one is validated. */
static void run_set(bench *b, ptx *v, size_t nv, size_t lo, size_t hi, const idmap *map,
                    bool accept, double timeout)
{
    size_t n = hi - lo;
    b->cur = v;
    b->ncur = nv;
    b->map = map;
    b->acked = b->rejected = b->validated = b->val_tes = b->sent = 0;
    b->nsub_codes = 0;
    double t0 = now(), last_progress = t0;
    size_t last_done = 0;
    bool accepted = false;
    while (b->acked + b->rejected < n || b->validated < b->acked) {
        pump(b, 20);
        size_t done = b->acked + b->rejected + b->validated;
        double t = now();
        if (done != last_done) {
            last_done = done;
            last_progress = t;
        }
        if (accept && !accepted && b->acked + b->rejected == n) {
            /* Everything is in the open ledger: close it now. */
            jt_json_doc_free(ctrl_call(b, 30, "\"command\":\"ledger_accept\""));
            accepted = true;
        }
        if (t - last_progress > timeout) {
            print_log_tail();
            die("no progress for %.0f s: %zu of %zu payments sent, %zu accepted, %zu rejected, "
                "%zu validated",
                timeout, b->sent, n, b->acked, b->rejected, b->validated);
        }
        node_check_alive();
    }
    b->map = NULL;
}

/* After a round, off the clock: the result of every payment it validated,
 * from each ledger's transactions in binary with metadata. */
static void fetch_results(bench *b, ptx *v, size_t nv, const idmap *map, size_t nled0)
{
    b->cur = v;
    b->ncur = nv;
    b->map = map;
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
    b->map = NULL;
}

/* Builds each load connection's send order for payments [lo, hi): the
 * payments of the accounts it owns (account % nconns), in index order, hence
 * in Sequence order. */
static void assign(bench *b, size_t lo, size_t hi)
{
    for (int c = 0; c < b->nconns; c++) {
        free(b->load[c].order);
        b->load[c].order = xcalloc(hi - lo, sizeof(uint32_t));
        b->load[c].norder = b->load[c].next = b->load[c].inflight = 0;
    }
    for (size_t k = lo; k < hi; k++) {
        conn *c = &b->load[pay_source(k, b->naccts) % (size_t)b->nconns];
        c->order[c->norder++] = (uint32_t)k;
    }
}

/* What one round of load gave. */
typedef struct round_res {
    size_t lo, hi;
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
} round_res;

/* Figures of payments [lo, hi) and of the ledgers recorded from index nled0
 * on (sequence first_seq and later). Latencies are appended to lat/ack. */
static void round_figures(bench *b, round_res *r, size_t nled0, uint32_t first_seq, double *lat,
                          size_t *nlat, double *ack, size_t *nack)
{
    size_t n0 = *nlat;
    for (size_t k = r->lo; k < r->hi; k++) {
        const ptx *p = &b->pay[k];
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
     * the first ledger holding this round's payments, Lb the last one
     * closed before the round's last submit; rate = tesSUCCESS payments in
     * (La, Lb] / (t(Lb) - t(La)). */
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
    r->steady_tes = r->steady_ledgers = 0;
    if (la && lb) {
        for (size_t i = nled0; i < b->nledgers; i++) {
            const ledger_rec *l = &b->ledgers[i];
            if (l->seq > la->seq && l->seq <= lb->seq) {
                r->steady_tes += l->tes;
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
}

/* One line per ledger of a round (--verbose). */
static void print_ledgers(const bench *b, size_t nled0, uint32_t first_seq, double t0)
{
    printf("    ledger  closed(s)  gap(ms)  txns  ours   tes  known(ms after close)\n");
    double prev = 0;
    for (size_t i = nled0; i < b->nledgers; i++) {
        const ledger_rec *l = &b->ledgers[i];
        if (l->seq < first_seq || l->t_closed == 0)
            continue;
        printf("    %6" PRIu32 " %10.3f %8.0f %5" PRIu32 " %5" PRIu32 " %5" PRIu32 " %8.0f\n",
               l->seq, l->t_closed - t0, prev > 0 ? (l->t_closed - prev) * 1e3 : 0, l->txn_count,
               l->ours, l->tes, l->t_known > 0 ? (l->t_known - l->t_closed) * 1e3 : 0);
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

/* ---------------------------------------------------------------- main */

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_node [--node PATH] [--accounts N] [--payments M] [--conns C]\n"
            "                  [--window W] [--close-ms MS] [--track ledger|stream]\n"
            "                  [--rounds R] [--verify-seconds S] [--keep] [--json] [--verbose]\n");
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
        else if (!strcmp(a, "--accounts"))
            b->naccts = opt_num(v, 2, 1000000);
        else if (!strcmp(a, "--payments"))
            b->npay = opt_num(v, 1, 900000000);
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

    /* ---- keys and pre-signed payments (two threads) ---- */
    double t0 = now();
    account genesis;
    check(jt_keypair_from_secret(GENESIS_SECRET, &genesis.kp, NULL), "genesis key");
    check(jt_account_id_from_pubkey(genesis.kp.pub, 33, &genesis.id), "genesis account");
    account *accts = xcalloc(b->naccts, sizeof *accts);
    b->fund = xcalloc(b->naccts, sizeof *b->fund);
    b->pay = xcalloc(b->npay, sizeof *b->pay);
    {
        key_job kj[2];
        pthread_t th[2];
        for (int i = 0; i < 2; i++) {
            kj[i] = (key_job){.thread = i, .nthreads = 2, .accts = accts, .n = b->naccts};
            if (pthread_create(&th[i], NULL, key_thread, &kj[i]))
                die("pthread_create failed");
        }
        for (int i = 0; i < 2; i++) {
            pthread_join(th[i], NULL);
            check(kj[i].err, "generating account keys");
        }
    }
    double t_keys = now() - t0;
    {
        sign_job sj[2];
        pthread_t th[2];
        for (int i = 0; i < 2; i++) {
            sj[i] = (sign_job){.thread = i,
                               .nthreads = 2,
                               .accts = accts,
                               .naccts = b->naccts,
                               .genesis = &genesis,
                               .genesis_seq = (uint32_t)gseq,
                               .fund = b->fund,
                               .pay = b->pay,
                               .npay = b->npay};
            if (pthread_create(&th[i], NULL, sign_thread, &sj[i]))
                die("pthread_create failed");
        }
        for (int i = 0; i < 2; i++) {
            pthread_join(th[i], NULL);
            check(sj[i].err, "signing payments");
        }
    }
    double t_sign = now() - t0 - t_keys;
    for (size_t a = 0; a < b->naccts; a++)
        jt_keypair_clear(&accts[a].kp);
    jt_keypair_clear(&genesis.kp);
    free(accts);
    idmap_init(&b->map_fund, b->fund, b->naccts);
    idmap_init(&b->map_pay, b->pay, b->npay);
    if (!b->json)
        printf("bench_node: %s, %zu accounts, %zu pre-signed secp256k1 payments, %d jtp "
               "connections x window %zu, close every %u ms, tracking by %s\n",
               b->node, b->naccts, b->npay, b->nconns, b->window, b->close_ms,
               b->stream ? "the transactions stream" : "ledger replies");

    /* ---- funding (not measured) ---- */
    double t1 = now();
    {
        /* All from the genesis account, so in Sequence order on one
         * connection. */
        int saved = b->nconns;
        b->nconns = 1;
        free(b->load[0].order);
        b->load[0].order = xcalloc(b->naccts, sizeof(uint32_t));
        for (size_t a = 0; a < b->naccts; a++)
            b->load[0].order[a] = (uint32_t)a;
        b->load[0].norder = b->naccts;
        b->load[0].next = b->load[0].inflight = 0;
        size_t nled0 = b->nledgers;
        run_set(b, b->fund, b->naccts, 0, b->naccts, &b->map_fund, true, 60);
        fetch_results(b, b->fund, b->naccts, &b->map_fund, nled0);
        b->nconns = saved;
        if (b->rejected || b->val_tes != b->naccts)
            die("funding: %zu of %zu payments rejected, %zu validated with tesSUCCESS", b->rejected,
                b->naccts, b->val_tes);
    }
    double t_fund = now() - t1;
    if (!b->json)
        printf("set-up (not measured): keys %.1f s, signing %.1f s on 2 threads, funding %zu "
               "accounts %.1f s\n",
               t_keys, t_sign, b->naccts, t_fund);

    /* ---- rounds: verify slice, load, verify slice, load, ... verify slice ---- */
    vset *vs = make_vsets();
    double ceil1 = verify_ceiling(vs, 1, 0.5);
    double vslice = b->verify_secs / 2;
    double ceil_prev = verify_ceiling(vs, 2, vslice);
    /* Rounds split the payments at multiples of the account count, so every
     * account sends in every round and its Sequence simply continues. */
    size_t per_acct = b->npay / b->naccts;
    int rounds = b->rounds;
    if ((size_t)rounds > per_acct)
        rounds = per_acct ? (int)per_acct : 1;
    round_res rr[MAX_ROUNDS];
    memset(rr, 0, sizeof rr);
    double *lat = xcalloc(b->npay, sizeof *lat), *ack = xcalloc(b->npay, sizeof *ack);
    size_t nlat = 0, nack = 0;
    long rss0, hwm0, anon0, file0;
    long long disk0, disk0_size, wbytes0 = -1;
    double cpu_node_all = 0, cpu_self_all = 0, load_secs_all = 0;
    size_t validated_all = 0, tes_all = 0, rejected_all = 0;
    for (int r = 0; r < rounds; r++) {
        round_res *R = &rr[r];
        R->lo = per_acct ? (size_t)r * (per_acct / (size_t)rounds) * b->naccts : 0;
        R->hi =
            r + 1 == rounds ? b->npay : (size_t)(r + 1) * (per_acct / (size_t)rounds) * b->naccts;
        /* Take in what arrived while the baseline ran (closes of empty
         * ledgers), so that this round's ledgers are told apart by sequence. */
        for (int i = 0; i < 5; i++)
            pump(b, 20);
        if (r == 0) {
            wbytes0 = node_write_bytes();
            disk_usage(ledger_dir, &disk0, &disk0_size);
            node_memory(&rss0, &hwm0, &anon0, &file0);
        }
        size_t nled0 = b->nledgers;
        uint32_t first_seq = b->last_closed + 1;
        assign(b, R->lo, R->hi);
        double cn0 = node_cpu(), cs0 = self_cpu(), t0r = now();
        run_set(b, b->pay, b->npay, R->lo, R->hi, &b->map_pay, false, 30);
        R->secs = now() - t0r;
        R->node_cpu = node_cpu() - cn0;
        R->self_cpu = self_cpu() - cs0;
        fetch_results(b, b->pay, b->npay, &b->map_pay, nled0);
        round_figures(b, R, nled0, first_seq, lat, &nlat, ack, &nack);
        double ceil_next = verify_ceiling(vs, 2, vslice);
        R->ceiling = (ceil_prev + ceil_next) / 2;
        R->ratio = R->ceiling > 0 ? R->rate / R->ceiling : 0;
        ceil_prev = ceil_next;
        cpu_node_all += R->node_cpu;
        cpu_self_all += R->self_cpu;
        load_secs_all += R->secs;
        validated_all += R->validated;
        tes_all += R->tes;
        rejected_all += R->rejected;
        if (!b->json) {
            char g1[32], g2[32];
            long m[4];
            node_memory(&m[0], &m[1], &m[2], &m[3]);
            printf("round %d: %zu payments in %.1f s: %s validated/s (%s), verify ceiling %s/s, "
                   "ratio %.3f, p99 %.0f ms, node RSS %.0f MB\n",
                   r + 1, R->hi - R->lo, R->secs, grouped(R->rate, g1, sizeof g1),
                   R->steady ? "steady state" : "whole round", grouped(R->ceiling, g2, sizeof g2),
                   R->ratio, R->p99, (double)m[0] / 1024);
            if (R->rejected) {
                printf("  rejected at submit:");
                for (int i = 0; i < b->nsub_codes; i++)
                    printf(" %s %d", ter_name(b->sub_codes[i]), b->sub_results[i]);
                printf("\n");
            }
            if (b->verbose)
                print_ledgers(b, nled0, first_seq, t0r);
        }
    }
    long rss, hwm, anon, file;
    node_memory(&rss, &hwm, &anon, &file);
    long long disk1, disk1_size, wbytes1 = node_write_bytes();
    disk_usage(ledger_dir, &disk1, &disk1_size);
    free(vs);

    /* ---- figures: medians of the rounds, latencies pooled ---- */
    double v_rate[MAX_ROUNDS], v_ceil[MAX_ROUNDS], v_ratio[MAX_ROUNDS], v_sub[MAX_ROUNDS];
    double ratio_min = rr[0].ratio, ratio_max = rr[0].ratio;
    bool all_steady = true;
    for (int r = 0; r < rounds; r++) {
        v_rate[r] = rr[r].rate;
        v_ceil[r] = rr[r].ceiling;
        v_ratio[r] = rr[r].ratio;
        v_sub[r] = rr[r].submit_rate;
        if (rr[r].ratio < ratio_min)
            ratio_min = rr[r].ratio;
        if (rr[r].ratio > ratio_max)
            ratio_max = rr[r].ratio;
        all_steady = all_steady && rr[r].steady;
    }
    double rate = median(v_rate, rounds), ceiling = median(v_ceil, rounds);
    double ratio = median(v_ratio, rounds), submit_rate = median(v_sub, rounds);
    qsort(lat, nlat, sizeof *lat, cmp_double);
    qsort(ack, nack, sizeof *ack, cmp_double);
    double p50 = pct(lat, nlat, 50), p99 = pct(lat, nlat, 99), pmax = nlat ? lat[nlat - 1] : 0;
    double a50 = pct(ack, nack, 50), a99 = pct(ack, nack, 99);
    double p99_iv = p99 / (double)b->close_ms;
    double disk_per_tx = validated_all ? (double)(disk1 - disk0) / (double)validated_all : 0;
    double disk_size_per_tx =
        validated_all ? (double)(disk1_size - disk0_size) / (double)validated_all : 0;
    double written_per_tx = validated_all && wbytes0 >= 0 && wbytes1 >= 0
                                ? (double)(wbytes1 - wbytes0) / (double)validated_all
                                : -1;
    double node_us = validated_all ? cpu_node_all / (double)validated_all * 1e6 : 0;
    bool pass_ratio = ratio >= 0.5, pass_lat = p99_iv <= 2;

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
               b->naccts, b->npay, rounds, b->nconns, b->window, b->close_ms,
               b->stream ? "stream" : "ledger", rate, all_steady ? "true" : "false", submit_rate,
               ceiling, ceil1, ratio, ratio_min, ratio_max, p50, p99, pmax, p99_iv, a50, a99,
               validated_all, tes_all, rejected_all, rss, anon, file, hwm, rss0, disk_per_tx,
               disk_size_per_tx, written_per_tx, node_us, cpu_node_all / load_secs_all,
               cpu_self_all / load_secs_all);
    } else {
        char g1[32], g2[32];
        printf("\nbaseline: secp256k1_ecdsa_verify on pre-made signatures, between the rounds\n");
        printf("  %-46s %12s /s\n", "two threads (ceiling, median of rounds)",
               grouped(ceiling, g1, sizeof g1));
        printf("  %-46s %12s /s\n", "one thread (information)", grouped(ceil1, g1, sizeof g1));
        printf("\nload: %zu payments in %d rounds, %.1f s of load\n", b->npay, rounds,
               load_secs_all);
        printf("  %-46s %12s /s (%s)\n", "validated payments (tes), median of rounds",
               grouped(rate, g1, sizeof g1),
               all_steady ? "steady state: ledgers closed while submitting"
                          : "some rounds too short for a steady window: raise --payments");
        printf("  %-46s %12s /s\n", "submit replies, median of rounds",
               grouped(submit_rate, g1, sizeof g1));
        printf("  %-46s %zu of %zu (tesSUCCESS %zu); rejected at submit %zu\n", "validated",
               validated_all, b->npay, tes_all, rejected_all);
        if (b->other_ledger_txs)
            printf("  %-46s %zu (not sent by this run)\n", "other transactions in the ledgers",
                   b->other_ledger_txs);
        printf("  %-46s %9.0f ms p50, %.0f ms p99, %.0f ms max\n", "submit -> validated", p50, p99,
               pmax);
        printf("  %-46s %12.2f p50, %.2f p99\n", "  in close intervals", p50 / b->close_ms, p99_iv);
        printf("  %-46s %9.1f ms p50, %.1f ms p99\n", "submit -> reply", a50, a99);
        printf("  %-46s %9.1f MB (anonymous %.1f, LMDB map %.1f; %.1f MB before the load)\n",
               "node resident memory", (double)rss / 1024, (double)anon / 1024, (double)file / 1024,
               (double)rss0 / 1024);
        printf("  %-46s %9.0f bytes/tx allocated (%.0f apparent)\n", "node disk growth",
               disk_per_tx, disk_size_per_tx);
        if (written_per_tx >= 0)
            printf("  %-46s %9.0f bytes/tx (write_bytes of /proc/PID/io)\n",
                   "node writes to storage", written_per_tx);
        printf("  %-46s %9.1f %% of a core, %.1f us per payment; bench process %.1f %%\n",
               "node CPU during the load", 100 * cpu_node_all / load_secs_all, node_us,
               100 * cpu_self_all / load_secs_all);
        printf("\n  %-46s %12.3f (rounds %.3f..%.3f; target >= 0.5)  %s\n",
               "ratio validated/s / verify ceiling", ratio, ratio_min, ratio_max,
               pass_ratio ? "PASS" : "BELOW");
        printf("  %-46s %12.2f (target <= 2)  %s\n", "p99 latency in close intervals", p99_iv,
               pass_lat ? "PASS" : "BELOW");
        printf("\nSUMMARY node: %s validated payments/s, two-core verify ceiling %s/s, ratio %.3f "
               "(target >= 0.5)  %s\n",
               grouped(rate, g1, sizeof g1), grouped(ceiling, g2, sizeof g2), ratio,
               pass_ratio ? "PASS" : "BELOW");
        printf("SUMMARY node: p99 submit->validated %.0f ms = %.2f close intervals (target <= 2)  "
               "%s; node RSS %.0f MB; %.0f bytes on disk per tx\n",
               p99, p99_iv, pass_lat ? "PASS" : "BELOW", (double)rss / 1024, disk_per_tx);
    }

    free(lat);
    free(ack);
    conn_close(&b->ctl);
    for (int i = 0; i < b->nconns; i++) {
        conn_close(&b->load[i]);
        free(b->load[i].order);
    }
    for (size_t k = 0; k < b->npay; k++)
        free(b->pay[k].req);
    for (size_t a = 0; a < b->naccts; a++)
        free(b->fund[a].req);
    free(b->pay);
    free(b->fund);
    free(b->map_fund.slot);
    free(b->map_pay.slot);
    free(b->ledgers);
    free(b->rbuf);
    jt_jtp_identity_free(b->me);
    return 0;
}
