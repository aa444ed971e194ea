#include "common.h"
#include "../threads.h"

/* ---------------------------------------------------------------- helpers */

double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_node: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        die("out of memory (%zu x %zu bytes)", n, size);
    return p;
}

void check(jt_err e, const char *what)
{
    if (e)
        die("%s: %s", what, jt_strerror(e));
}

int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double median(const double *v, int n)
{
    double s[64];
    if (n <= 0 || n > 64)
        return 0;
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Nearest-rank percentile of a sorted array. */
double pct(const double *sorted, size_t n, double p)
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
const char *grouped(double v, char *buf, size_t cap)
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

pid_t g_node_pid = -1;
char g_dir[4096]; /* parent temp dir: data/, node.log, bench.conf */
bool g_keep;

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

void cleanup(void)
{
    stop_node();
    if (g_dir[0] && !g_keep)
        nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    else if (g_dir[0])
        fprintf(stderr, "bench_node: kept %s\n", g_dir);
    g_dir[0] = 0;
}

void on_signal(int sig)
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

void print_log_tail(void)
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

void node_check_alive(void)
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
void node_check_gone(void)
{
    for (int i = 0; i < 25; i++) {
        node_check_alive();
        usleep(20000);
    }
}

/* Runs `jt-node init --data DIR --json` and returns the node key (hex). */
void node_init(const char *node, const char *data, char key_hex[65])
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
int node_start(const char *node, const char *data, const char *conf, unsigned close_ms)
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
void node_memory(long *rss_kb, long *hwm_kb, long *anon_kb, long *file_kb)
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
double node_cpu(void)
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

static int node_thread_class(bool main, const char *name)
{
    return main                        ? THR_LOOP
           : !strcmp(name, "jt-verify") ? THR_VERIFY
           : !strcmp(name, "jt-writer") ? THR_WRITER
                                        : THR_OTHER;
}

void node_thread_cpu(double out[NODE_THR])
{
    for (int i = 0; i < NODE_THR; i++)
        out[i] = 0;
    bench_threads_cpu(g_node_pid, node_thread_class, out);
}

void print_thread_split(const load_res *L, double n, const char *per)
{
    if (n <= 0)
        return;
    /* A thread's ticks are counted per thread, so the split is coarser
     * than the total: a hundredth of a second per thread and round. */
    printf("  %-46s loop %.1f us, verify workers %.1f us, writer %.1f us%s per %s\n",
           "node CPU by thread", L->cpu_thr[THR_LOOP] / n * 1e6, L->cpu_thr[THR_VERIFY] / n * 1e6,
           L->cpu_thr[THR_WRITER] / n * 1e6,
           L->cpu_thr[THR_OTHER] > 0 ? " (and other threads)" : "", per);
}

/* Bytes the node caused to be written to storage (/proc/PID/io). */
long long node_write_bytes(void)
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

double self_cpu(void)
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

void disk_usage(const char *dir, long long *alloc, long long *size)
{
    g_du_alloc = g_du_size = 0;
    nftw(dir, du_entry, 16, FTW_PHYS);
    *alloc = g_du_alloc;
    *size = g_du_size;
}
