/*
 * audit.c — the hash-chained audit log (audit.h).
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jt/hash.h>
#include <jt/json.h>
#include <jt/util.h>

#include "datadir.h"
#include "srv.h"

/* A line is a few hundred bytes; anything longer is not ours. */
#define LINE_MAX_BYTES 4096

struct gw_audit {
    char dir[4096];
    char path[4200];
    int fd;
    pthread_mutex_t mu;
    uint64_t n;
    uint8_t last[32];
};

/* Parses one line: its n and prev. */
static int line_fields(const char *line, size_t len, uint64_t *n, uint8_t prev[32])
{
    jt_json_doc *doc;
    jt_errinfo ei;
    if (jt_json_parse(line, len, NULL, &doc, &ei) != JT_OK)
        return -1;
    const jt_json *r = jt_json_root(doc);
    const char *p = jt_json_string(jt_json_get(r, "prev"));
    size_t pl = 0;
    int rc = -1;
    if (r->kind == JT_JSON_OBJECT && jt_json_uint64(jt_json_get(r, "n"), false, n) && p &&
        strlen(p) == 64 && jt_hex_decode(p, 64, prev, 32, &pl) == JT_OK && pl == 32)
        rc = 0;
    jt_json_doc_free(doc);
    return rc;
}

/* Reads the tail (count, last hash) from the file's last line. */
static int read_tail(gw_audit *a, char *err, size_t errcap)
{
    struct stat st;
    if (fstat(a->fd, &st) != 0) {
        snprintf(err, errcap, "%s: %s", a->path, strerror(errno));
        return -1;
    }
    a->n = 0;
    memset(a->last, 0, 32);
    if (st.st_size == 0)
        return 0;
    size_t want = st.st_size < LINE_MAX_BYTES + 1 ? (size_t)st.st_size : LINE_MAX_BYTES + 1;
    char *buf = malloc(want + 1);
    if (!buf) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    ssize_t got = pread(a->fd, buf, want, st.st_size - (off_t)want);
    if (got != (ssize_t)want) {
        snprintf(err, errcap, "cannot read %s: %s", a->path, got < 0 ? strerror(errno) : "short read");
        free(buf);
        return -1;
    }
    if (buf[want - 1] != '\n') {
        /* A write cut short by a crash: that line was never synced, so its
         * transaction never left (it is sent only after the sync). The
         * partial line is cut off and said so. */
        char *nl = NULL;
        for (size_t i = want; i > 0 && !nl; i--)
            if (buf[i - 1] == '\n')
                nl = &buf[i - 1];
        if (!nl && (size_t)st.st_size > want) {
            snprintf(err, errcap, "%s: its last line is longer than %d bytes", a->path,
                     LINE_MAX_BYTES);
            free(buf);
            return -1;
        }
        off_t keep = nl ? st.st_size - (off_t)want + (off_t)(nl - buf) + 1 : 0;
        if (ftruncate(a->fd, keep) != 0 || fdatasync(a->fd) != 0) {
            snprintf(err, errcap, "%s ends in a partial line that cannot be cut off: %s", a->path,
                     strerror(errno));
            free(buf);
            return -1;
        }
        fprintf(stderr,
                "level=warn mod=audit event=partial_line_removed path=%s bytes=%lld (a write cut "
                "short by a crash; its transaction was never sent)\n",
                a->path, (long long)(st.st_size - keep));
        free(buf);
        return read_tail(a, err, errcap);
    }
    buf[want - 1] = 0;
    char *start = strrchr(buf, '\n');
    start = start ? start + 1 : buf;
    if (start == buf && (size_t)st.st_size > want) {
        snprintf(err, errcap, "%s: its last line is longer than %d bytes", a->path, LINE_MAX_BYTES);
        free(buf);
        return -1;
    }
    uint8_t prev[32];
    if (line_fields(start, strlen(start), &a->n, prev)) {
        snprintf(err, errcap, "%s: its last line is not an audit record", a->path);
        free(buf);
        return -1;
    }
    jt_sha256(start, strlen(start), a->last);
    free(buf);
    return 0;
}

int gw_audit_open(const char *dir, gw_audit **out, char *err, size_t errcap)
{
    *out = NULL;
    gw_audit *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    snprintf(a->dir, sizeof a->dir, "%s", dir);
    snprintf(a->path, sizeof a->path, "%s/audit.log", dir);
    a->fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (a->fd < 0) {
        char why[320];
        srv_datadir_write_error(dir, errno, why, sizeof why);
        snprintf(err, errcap, "cannot open %s: %s", a->path, why);
        free(a);
        return -1;
    }
    if (read_tail(a, err, errcap)) {
        close(a->fd);
        free(a);
        return -1;
    }
    pthread_mutex_init(&a->mu, NULL);
    *out = a;
    return 0;
}

void gw_audit_close(gw_audit *a)
{
    if (!a)
        return;
    close(a->fd);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

void gw_audit_tail(gw_audit *a, uint64_t *n, uint8_t hash[32])
{
    pthread_mutex_lock(&a->mu);
    *n = a->n;
    memcpy(hash, a->last, 32);
    pthread_mutex_unlock(&a->mu);
}

static void utc_now(char out[32])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void opt_string(jt_jw *w, const char *key, const char *v)
{
    jt_jw_key(w, key);
    if (v)
        jt_jw_string(w, v);
    else
        jt_jw_null(w);
}

int gw_audit_append(gw_audit *a, const gw_audit_entry *e, size_t n, char *err, size_t errcap)
{
    char now[32];
    utc_now(now);
    jt_buf out;
    jt_buf_init(&out);
    pthread_mutex_lock(&a->mu);
    uint64_t count = a->n;
    uint8_t last[32];
    memcpy(last, a->last, 32);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        size_t start = out.len;
        jt_jw w;
        jt_jw_init(&w, &out);
        jt_jw_object_begin(&w);
        jt_jw_key(&w, "n");
        jt_jw_uint(&w, count + 1);
        opt_string(&w, "time", now);
        opt_string(&w, "api_key", e[i].api_key);
        opt_string(&w, "account", e[i].account);
        opt_string(&w, "signing_key", e[i].signing_key);
        opt_string(&w, "type", e[i].type);
        opt_string(&w, "hash", e[i].hash);
        opt_string(&w, "client_id", e[i].client_id);
        jt_jw_key(&w, "prev");
        jt_jw_hex(&w, last, 32);
        jt_jw_object_end(&w);
        if (jt_jw_finish(&w) != JT_OK || out.len - start > LINE_MAX_BYTES) {
            snprintf(err, errcap, "audit line too long or out of memory");
            rc = -1;
            break;
        }
        jt_sha256(out.data + start, out.len - start, last);
        if (jt_buf_append(&out, "\n", 1) != JT_OK) {
            snprintf(err, errcap, "out of memory");
            rc = -1;
        }
        count++;
    }
    size_t off = 0;
    while (!rc && off < out.len) {
        ssize_t w = write(a->fd, out.data + off, out.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            char why[320];
            srv_datadir_write_error(a->dir, w < 0 ? errno : ENOSPC, why, sizeof why);
            snprintf(err, errcap, "cannot write %s: %s", a->path, why);
            rc = -1;
            break;
        }
        off += (size_t)w;
    }
    double t0 = srv_mono_seconds();
    int synced = rc ? 0 : fdatasync(a->fd);
    double ms = (srv_mono_seconds() - t0) * 1000;
    if (!rc && ms >= GW_AUDIT_SLOW_MS)
        fprintf(stderr, "level=warn mod=audit event=slow_sync ms=%.0f lines=%zu\n", ms, n);
    if (!rc && synced != 0) {
        char why[320];
        srv_datadir_write_error(a->dir, errno, why, sizeof why);
        snprintf(err, errcap, "cannot sync %s: %s", a->path, why);
        rc = -1;
    }
    if (!rc) {
        a->n = count;
        memcpy(a->last, last, 32);
    } else if (off > 0) {
        /* A part reached the file: cut it off so the next line chains onto a
         * whole one. */
        struct stat st;
        if (fstat(a->fd, &st) == 0 && ftruncate(a->fd, st.st_size - (off_t)off) != 0)
            fprintf(stderr, "level=error mod=audit event=truncate_failed path=%s\n", a->path);
    }
    pthread_mutex_unlock(&a->mu);
    jt_buf_clear(&out);
    return rc;
}

int gw_audit_verify(const char *path, uint64_t expect_n, const uint8_t expect_hash[32],
                    char *report, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(report, cap, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    uint64_t count = 0;
    uint8_t last[32] = {0}, at_expect[32] = {0};
    int rc = 0;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        count++;
        if (len == 0 || line[len - 1] != '\n') {
            snprintf(report, cap, "line %" PRIu64 " is cut short (no newline)", count);
            rc = 1;
            break;
        }
        line[--len] = 0;
        uint64_t n;
        uint8_t prev[32];
        if (line_fields(line, (size_t)len, &n, prev)) {
            snprintf(report, cap, "line %" PRIu64 " is not an audit record", count);
            rc = 1;
            break;
        }
        if (n != count) {
            snprintf(report, cap,
                     "line %" PRIu64 " says it is record %" PRIu64
                     ": records were removed or inserted before it",
                     count, n);
            rc = 1;
            break;
        }
        if (memcmp(prev, last, 32) != 0) {
            snprintf(report, cap,
                     "line %" PRIu64 " does not chain onto line %" PRIu64
                     ": line %" PRIu64 " was edited, or a line was removed or inserted",
                     count, count - 1, count - 1);
            rc = 1;
            break;
        }
        jt_sha256(line, (size_t)len, last);
        if (count == expect_n)
            memcpy(at_expect, last, 32);
    }
    free(line);
    if (ferror(f) && !rc) {
        snprintf(report, cap, "cannot read %s", path);
        rc = -1;
    }
    fclose(f);
    if (!rc && expect_n > 0) {
        if (count < expect_n) {
            snprintf(report, cap,
                     "the log ends at record %" PRIu64 " but the gateway recorded %" PRIu64
                     ": records %" PRIu64 "-%" PRIu64 " were removed",
                     count, expect_n, count + 1, expect_n);
            rc = 1;
        } else if (memcmp(at_expect, expect_hash, 32) != 0) {
            snprintf(report, cap,
                     "record %" PRIu64 " is not the one the gateway recorded: the log was rewritten",
                     expect_n);
            rc = 1;
        }
    }
    if (!rc)
        snprintf(report, cap, "%" PRIu64 " records, chain intact", count);
    return rc;
}
