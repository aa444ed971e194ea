/*
 * test_gw_core.c — jt-gateway's store (group commit), API keys, audit log
 * and config, on real LMDB files and real files in a scratch directory.
 */
#define _GNU_SOURCE /* memmem */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "apikey.h"
#include "audit.h"
#include "config.h"
#include "gateway.h"
#include "store.h"
#include "testutil.h"
#include "txrec.h"

typedef struct fx {
    char dir[256];
    gw_store *s;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/jt-gw-test-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char err[512];
    if (gw_store_open(f->dir, 0, &f->s, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    gw_store_close(f->s);
    tu_rm_rf(f->dir);
    free(f);
    return 0;
}

/* ------------------------------------------------------------- store */

static void store_commit_get_scan(void **state)
{
    fx *f = *state;
    char err[512];
    gw_batch *b = gw_batch_new();
    assert_int_equal(gw_batch_put(b, GW_META, "b", 1, "2", 1), 0);
    assert_int_equal(gw_batch_put(b, GW_META, "a", 1, "1", 1), 0);
    assert_int_equal(gw_batch_put(b, GW_RECORDS, "a", 1, "other table", 11), 0);
    assert_int_equal(gw_store_commit(f->s, b, err, sizeof err), 0);
    jt_buf v;
    jt_buf_init(&v);
    assert_int_equal(gw_store_get(f->s, GW_META, "a", 1, &v, err, sizeof err), 1);
    assert_int_equal(v.len, 1);
    assert_memory_equal(v.data, "1", 1);
    v.len = 0;
    assert_int_equal(gw_store_get(f->s, GW_META, "c", 1, &v, err, sizeof err), 0);
    b = gw_batch_new();
    assert_int_equal(gw_batch_del(b, GW_META, "a", 1), 0);
    assert_int_equal(gw_batch_del(b, GW_META, "zz", 2), 0); /* absent: not an error */
    assert_int_equal(gw_store_commit(f->s, b, err, sizeof err), 0);
    assert_int_equal(gw_store_get(f->s, GW_META, "a", 1, &v, err, sizeof err), 0);
    assert_int_equal(gw_store_get(f->s, GW_RECORDS, "a", 1, &v, err, sizeof err), 1);
    jt_buf_clear(&v);
}

typedef struct async_ctx {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, failed;
    int order[64];
} async_ctx;

typedef struct one {
    async_ctx *ac;
    int i;
} one;

static void async_done(void *ctx, int rc, const char *err)
{
    one *o = ctx;
    pthread_mutex_lock(&o->ac->mu);
    o->ac->order[o->ac->done++] = o->i;
    if (rc)
        o->ac->failed++;
    pthread_cond_signal(&o->ac->cv);
    pthread_mutex_unlock(&o->ac->mu);
}

/* Many batches queued at once: all durable, callbacks in submission order,
 * and every value readable afterwards. */
static void store_group_commit(void **state)
{
    fx *f = *state;
    async_ctx ac = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    one ones[64];
    for (int i = 0; i < 64; i++) {
        ones[i] = (one){&ac, i};
        gw_batch *b = gw_batch_new();
        char k[16];
        int n = snprintf(k, sizeof k, "k%02d", i);
        assert_int_equal(gw_batch_put(b, GW_ACCOUNTS, k, (size_t)n, &i, sizeof i), 0);
        gw_store_commit_async(f->s, b, async_done, &ones[i]);
    }
    pthread_mutex_lock(&ac.mu);
    while (ac.done < 64)
        pthread_cond_wait(&ac.cv, &ac.mu);
    pthread_mutex_unlock(&ac.mu);
    assert_int_equal(ac.failed, 0);
    for (int i = 0; i < 64; i++)
        assert_int_equal(ac.order[i], i);
    char err[512];
    jt_buf v;
    jt_buf_init(&v);
    assert_int_equal(gw_store_get(f->s, GW_ACCOUNTS, "k63", 3, &v, err, sizeof err), 1);
    int got;
    memcpy(&got, v.data, sizeof got);
    assert_int_equal(got, 63);
    jt_buf_clear(&v);
}

/* The first lane (gw_store_commit_first): a batch a client waits on goes
 * ahead of the ordinary batches queued before it, an ordinary commit takes
 * at most GW_STORE_CHAIN_OPS operations, and the ordinary batches are not
 * starved while the first lane is never empty. The writer is held inside
 * the first batch's callback while the rest is queued, so the order is
 * deterministic: F1 (queued behind 1 200 ordinary batches) comes right
 * after the held batch, with the first 512 ordinary ones in its commit;
 * F2, queued from the callback of the first ordinary batch (that commit
 * already taken), leads the next commit, and each first-lane callback
 * queues the next (F3 ... F20), so the lane stays busy: the ordinary
 * batches still go out, 512 with each commit. */
#define LANE_N    1200
#define LANE_LAST 20

typedef struct lane {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool entered, released;
    int order[LANE_N + LANE_LAST + 8];
    int n, failed;
    gw_store *s;
} lane;

typedef struct lane_one {
    lane *l;
    int id; /* 0 the held batch, 1..LANE_N ordinary, -1 F1, -2 F2 */
} lane_one;

static lane_one g_fs[LANE_LAST + 1];

static gw_batch *lane_batch(int id)
{
    gw_batch *b = gw_batch_new();
    char k[16];
    int n = snprintf(k, sizeof k, "lane%d", id);
    assert_int_equal(gw_batch_put(b, GW_ACCOUNTS, k, (size_t)n, &id, sizeof id), 0);
    return b;
}

static void lane_done(void *ctx, int rc, const char *err)
{
    lane_one *o = ctx;
    lane *l = o->l;
    pthread_mutex_lock(&l->mu);
    l->order[l->n++] = o->id;
    if (rc)
        l->failed++;
    if (o->id == 0) {
        l->entered = true;
        pthread_cond_broadcast(&l->cv);
        while (!l->released)
            pthread_cond_wait(&l->cv, &l->mu);
    }
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    /* The next first-lane batch: F2 from the first ordinary callback, then
     * each from the one before it. */
    int next = o->id == 1 ? 2 : o->id <= -2 && -o->id < LANE_LAST ? -o->id + 1 : 0;
    if (next) {
        g_fs[next] = (lane_one){l, -next};
        gw_store_commit_first(l->s, lane_batch(-next), lane_done, &g_fs[next]);
    }
}

static void store_first_lane(void **state)
{
    fx *f = *state;
    static lane l;
    static lane_one ones[LANE_N + 1], f1;
    memset(&l, 0, sizeof l);
    pthread_mutex_init(&l.mu, NULL);
    pthread_cond_init(&l.cv, NULL);
    l.s = f->s;
    ones[0] = (lane_one){&l, 0};
    gw_store_commit_async(f->s, lane_batch(0), lane_done, &ones[0]);
    pthread_mutex_lock(&l.mu);
    while (!l.entered)
        pthread_cond_wait(&l.cv, &l.mu);
    pthread_mutex_unlock(&l.mu);
    for (int i = 1; i <= LANE_N; i++) {
        ones[i] = (lane_one){&l, i};
        gw_store_commit_async(f->s, lane_batch(i), lane_done, &ones[i]);
    }
    f1 = (lane_one){&l, -1};
    gw_store_commit_first(f->s, lane_batch(-1), lane_done, &f1);
    pthread_mutex_lock(&l.mu);
    l.released = true;
    pthread_cond_broadcast(&l.cv);
    while (l.n < LANE_N + 1 + LANE_LAST)
        pthread_cond_wait(&l.cv, &l.mu);
    pthread_mutex_unlock(&l.mu);
    assert_int_equal(l.failed, 0);
    int k = 0;
    assert_int_equal(l.order[k++], 0);
    assert_int_equal(l.order[k++], -1);
    for (int i = 1; i <= GW_STORE_CHAIN_OPS; i++)
        assert_int_equal(l.order[k++], i);
    assert_int_equal(l.order[k++], -2);
    for (int i = GW_STORE_CHAIN_OPS + 1; i <= 2 * GW_STORE_CHAIN_OPS; i++)
        assert_int_equal(l.order[k++], i);
    assert_int_equal(l.order[k++], -3);
    for (int i = 2 * GW_STORE_CHAIN_OPS + 1; i <= LANE_N; i++)
        assert_int_equal(l.order[k++], i);
    for (int i = 4; i <= LANE_LAST; i++)
        assert_int_equal(l.order[k++], -i);
    /* Everything is there. */
    char err[512];
    jt_buf v;
    jt_buf_init(&v);
    assert_int_equal(gw_store_get(f->s, GW_ACCOUNTS, "lane-2", 6, &v, err, sizeof err), 1);
    v.len = 0;
    assert_int_equal(gw_store_get(f->s, GW_ACCOUNTS, "lane1200", 8, &v, err, sizeof err), 1);
    jt_buf_clear(&v);
    pthread_mutex_destroy(&l.mu);
    pthread_cond_destroy(&l.cv);
}

/* A store whose map is full says so, and a failed batch applies nothing. */
static void store_full_says_so(void **state)
{
    fx *f = *state;
    char dir[300], err[512];
    snprintf(dir, sizeof dir, "%s/small", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    gw_store *s;
    assert_int_equal(gw_store_open(dir, 1 << 20, &s, err, sizeof err), 0);
    static char big[200000];
    int rc = 0;
    for (int i = 0; i < 20 && !rc; i++) {
        gw_batch *b = gw_batch_new();
        char k[16];
        int n = snprintf(k, sizeof k, "big%d", i);
        assert_int_equal(gw_batch_put(b, GW_RECORDS, k, (size_t)n, big, sizeof big), 0);
        rc = gw_store_commit(s, b, err, sizeof err);
    }
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "store full"));
    gw_store_close(s);
}

/* ------------------------------------------------------------- API keys */

static void apikey_create_check_revoke(void **state)
{
    fx *f = *state;
    char err[512], text[GW_APIKEY_TEXT_MAX];
    gw_apikey k, got;
    assert_int_equal(gw_apikey_create(f->s, GW_SCOPE_READ | GW_SCOPE_SIGN,
                                      "jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh", "ops", text, &k, err,
                                      sizeof err),
                     0);
    assert_int_equal(strlen(text), 4 + 16 + 1 + 64);
    assert_int_equal(gw_apikey_check(f->s, text, strlen(text), &got, err, sizeof err), 1);
    assert_string_equal(got.id, k.id);
    assert_int_equal(got.scopes, GW_SCOPE_READ | GW_SCOPE_SIGN);
    assert_true(gw_apikey_allows_account(&got, "jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh"));
    assert_false(gw_apikey_allows_account(&got, "jGXjV57AKG7dpEv8T6x5H6nmPvNK5tZj72"));
    gw_apikey_clear(&got);

    /* The store holds the hash, never the secret. */
    jt_buf v;
    jt_buf_init(&v);
    assert_int_equal(gw_store_get(f->s, GW_APIKEYS, k.id, 16, &v, err, sizeof err), 1);
    assert_int_equal(jt_buf_append(&v, "", 1), JT_OK);
    assert_null(strstr((const char *)v.data, text + 21));
    jt_buf_clear(&v);

    /* One wrong digit, a wrong id, upper case, truncation: refused alike. */
    char bad[GW_APIKEY_TEXT_MAX];
    memcpy(bad, text, sizeof bad);
    bad[40] = bad[40] == '0' ? '1' : '0';
    assert_int_equal(gw_apikey_check(f->s, bad, strlen(bad), &got, err, sizeof err), 0);
    memcpy(bad, text, sizeof bad);
    bad[6] = bad[6] == '0' ? '1' : '0';
    assert_int_equal(gw_apikey_check(f->s, bad, strlen(bad), &got, err, sizeof err), 0);
    assert_int_equal(gw_apikey_check(f->s, text, strlen(text) - 1, &got, err, sizeof err), 0);
    assert_int_equal(gw_apikey_check(f->s, "", 0, &got, err, sizeof err), 0);

    assert_int_equal(gw_apikey_revoke(f->s, k.id, err, sizeof err), 0);
    assert_int_equal(gw_apikey_check(f->s, text, strlen(text), &got, err, sizeof err), 0);
    assert_int_equal(gw_apikey_revoke(f->s, "0000000000000000", err, sizeof err), 1);
    gw_apikey_clear(&k);
}

static void apikey_scopes_and_accounts(void **state)
{
    fx *f = *state;
    char err[512], text[GW_APIKEY_TEXT_MAX];
    unsigned mask;
    assert_int_equal(gw_apikey_parse_scopes("read, admin", &mask, err, sizeof err), 0);
    assert_int_equal(mask, GW_SCOPE_READ | GW_SCOPE_ADMIN);
    assert_int_equal(gw_apikey_parse_scopes("read,root", &mask, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"root\""));
    assert_int_equal(gw_apikey_parse_scopes("", &mask, err, sizeof err), -1);
    gw_apikey k;
    assert_int_equal(
        gw_apikey_create(f->s, GW_SCOPE_SIGN, "jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTx", NULL, text, &k,
                         err, sizeof err),
        -1);
    assert_non_null(strstr(err, "not an account address"));
    assert_int_equal(gw_apikey_create(f->s, GW_SCOPE_SIGN, "*", NULL, text, &k, err, sizeof err), 0);
    assert_true(gw_apikey_allows_account(&k, "jGXjV57AKG7dpEv8T6x5H6nmPvNK5tZj72"));
    gw_apikey_clear(&k);
    assert_int_equal(gw_apikey_create(f->s, GW_SCOPE_READ, NULL, NULL, text, &k, err, sizeof err), 0);
    assert_false(gw_apikey_allows_account(&k, "jGXjV57AKG7dpEv8T6x5H6nmPvNK5tZj72"));
    gw_apikey_clear(&k);
}

/* ------------------------------------------------------------- audit */

static void audit_path(const fx *f, char *out, size_t cap)
{
    snprintf(out, cap, "%s/audit.log", f->dir);
}

static void append_n(gw_audit *a, int n)
{
    char err[512];
    for (int i = 0; i < n; i++) {
        char hash[65];
        snprintf(hash, sizeof hash, "%064d", i);
        gw_audit_entry e = {"0123456789abcdef", "jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh", "02AB",
                            "Payment", hash, i % 2 ? "cid" : NULL};
        assert_int_equal(gw_audit_append(a, &e, 1, err, sizeof err), 0);
    }
}

static void rewrite_lines(const char *path, int drop, int edit)
{
    size_t len;
    char *text = tu_read_file(path, &len);
    FILE *out = fopen(path, "w");
    int line = 1;
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        size_t n = (size_t)(nl - p) + 1;
        if (line == edit) {
            char *at = strstr(p, "Payment");
            assert_true(at && at < nl);
            memcpy(at, "PaymenT", 7);
        }
        if (line != drop)
            fwrite(p, 1, n, out);
        p += n;
        line++;
    }
    fclose(out);
    free(text);
}

static void audit_chain(void **state)
{
    fx *f = *state;
    char err[512], report[512], path[300];
    audit_path(f, path, sizeof path);
    gw_audit *a;
    assert_int_equal(gw_audit_open(f->dir, &a, err, sizeof err), 0);
    append_n(a, 5);
    uint64_t n;
    uint8_t tail[32];
    gw_audit_tail(a, &n, tail);
    assert_int_equal(n, 5);
    gw_audit_close(a);
    /* Reopened, it continues the chain. */
    assert_int_equal(gw_audit_open(f->dir, &a, err, sizeof err), 0);
    append_n(a, 2);
    gw_audit_tail(a, &n, tail);
    assert_int_equal(n, 7);
    gw_audit_close(a);
    assert_int_equal(gw_audit_verify(path, 7, tail, report, sizeof report), 0);
    assert_non_null(strstr(report, "7 records"));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* An edited line. */
    size_t len;
    char *orig = tu_read_file(path, &len);
    rewrite_lines(path, 0, 3);
    assert_int_equal(gw_audit_verify(path, 7, tail, report, sizeof report), 1);
    assert_non_null(strstr(report, "line 3 was edited"));
    /* A removed line in the middle. */
    FILE *w = fopen(path, "w");
    fwrite(orig, 1, len, w);
    fclose(w);
    rewrite_lines(path, 4, 0);
    assert_int_equal(gw_audit_verify(path, 7, tail, report, sizeof report), 1);
    assert_non_null(strstr(report, "line 4"));
    /* The last lines removed: only the recorded tail can tell. */
    w = fopen(path, "w");
    fwrite(orig, 1, len, w);
    fclose(w);
    rewrite_lines(path, 7, 0);
    assert_int_equal(gw_audit_verify(path, 0, NULL, report, sizeof report), 0);
    assert_int_equal(gw_audit_verify(path, 7, tail, report, sizeof report), 1);
    assert_non_null(strstr(report, "records 7-7 were removed"));
    /* A partial last line (a crash during a write): verify says so; opening
     * cuts it off (it was never synced, so its transaction never left) and
     * the chain goes on from the last whole line. */
    w = fopen(path, "w");
    fwrite(orig, 1, len - 10, w);
    fclose(w);
    assert_int_equal(gw_audit_verify(path, 0, NULL, report, sizeof report), 1);
    assert_non_null(strstr(report, "cut short"));
    assert_int_equal(gw_audit_open(f->dir, &a, err, sizeof err), 0);
    gw_audit_tail(a, &n, tail);
    assert_int_equal(n, 6);
    append_n(a, 1);
    gw_audit_tail(a, &n, tail);
    assert_int_equal(n, 7);
    gw_audit_close(a);
    assert_int_equal(gw_audit_verify(path, 7, tail, report, sizeof report), 0);
    free(orig);
}

static void audit_tail_record(void **state)
{
    fx *f = *state;
    char err[512];
    uint64_t n = 99;
    uint8_t h[32], want[32];
    assert_int_equal(gw_tail_load(f->s, &n, h, err, sizeof err), 0);
    assert_int_equal(n, 0);
    randombytes_buf(want, sizeof want);
    gw_batch *b = gw_batch_new();
    assert_int_equal(gw_tail_put(b, 42, want), 0);
    assert_int_equal(gw_store_commit(f->s, b, err, sizeof err), 0);
    assert_int_equal(gw_tail_load(f->s, &n, h, err, sizeof err), 0);
    assert_int_equal(n, 42);
    assert_memory_equal(h, want, 32);
}

/* ------------------------------------------------------------- config */

static void write_file(const char *path, const char *text)
{
    FILE *w = fopen(path, "w");
    fputs(text, w);
    fclose(w);
}

static void config_defaults_and_errors(void **state)
{
    fx *f = *state;
    char path[300], err[640];
    snprintf(path, sizeof path, "%s/g.conf", f->dir);
    char *text = gw_config_default_text("jtp://abc@127.0.0.1:5030", NULL, NULL);
    write_file(path, text);
    free(text);
    gw_config c, d;
    gw_config_init(&c);
    gw_config_init(&d);
    assert_int_equal(gw_config_load(&c, path, err, sizeof err), 0);
    assert_int_equal(c.n_nodes, 1);
    assert_string_equal(c.nodes[0], "jtp://abc@127.0.0.1:5030");
    assert_string_equal(c.http_addr, d.http_addr);
    assert_int_equal(c.key_rate, d.key_rate);
    assert_int_equal(c.map_size, d.map_size);

    write_file(path, "[node]\nurl = ws://a:1 ws://b:2\n[keystore]\npassphrase = hunter2\n");
    gw_config_init(&c);
    assert_int_equal(gw_config_load(&c, path, err, sizeof err), -1);
    assert_non_null(strstr(err, ":4: a passphrase is never read from the config"));
    assert_null(strstr(err, "hunter2"));

    write_file(path, "[node]\nurl = ws://a:1, ws://b:2\n[limits]\nkey_rate = -5\n");
    gw_config_init(&c);
    assert_int_equal(gw_config_load(&c, path, err, sizeof err), -1);
    assert_non_null(strstr(err, ":4: [limits] key_rate = \"-5\" is not valid"));

    write_file(path, "[node]\nurl = ws://a:1, ws://b:2\n[http]\nspeed = 3\n");
    gw_config_init(&c);
    assert_int_equal(gw_config_load(&c, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown setting [http] speed"));

    write_file(path, "[node]\nurl = ws://a:1, ws://b:2\n");
    gw_config_init(&c);
    assert_int_equal(gw_config_load(&c, path, err, sizeof err), 0);
    assert_int_equal(c.n_nodes, 2);
    assert_string_equal(c.nodes[1], "ws://b:2");

    write_file(path, "[http]\naddress = 127.0.0.1:1\n");
    gw_config_init(&c);
    assert_int_equal(gw_config_load(&c, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "[node] url is missing"));
}

/* ------------------------------------------------------------- txrec */

#define ACCT "jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh"

static void rec_hash(int i, uint8_t h[32])
{
    crypto_generichash(h, 32, (const uint8_t *)&i, sizeof i, NULL, 0);
}

static size_t rec_cid(int i, char *k, size_t cap)
{
    int n = snprintf(k, cap, "%s%cpay-%d", ACCT, 0, i);
    return (size_t)n;
}

static void rec_json(int i, const char *status, jt_buf *out)
{
    uint8_t h[32];
    char hex[65];
    rec_hash(i, h);
    jt_hex_encode(h, 32, hex, sizeof hex);
    out->len = 0;
    char text[400];
    int n = snprintf(text, sizeof text,
                     "{\"hash\":\"%s\",\"account\":\"%s\",\"client_id\":\"pay-%d\",\"status\":\"%s\"}",
                     hex, ACCT, i, status);
    assert_int_equal(jt_buf_append(out, text, (size_t)n), JT_OK);
}

/* Records 1..n written as the persister and the loop do: committed, then
 * noted. Returns the numbers given (no[i] for record i). */
static void rec_write(fx *f, gw_txrec *r, int from, int to, uint64_t *no)
{
    char err[512];
    jt_buf rec;
    jt_buf_init(&rec);
    for (int i = from; i <= to; i++) {
        gw_batch *b = gw_batch_new();
        no[i] = gw_txrec_number(r);
        rec_json(i, "pending", &rec);
        char blob[16];
        int bl = snprintf(blob, sizeof blob, "12%08X", (unsigned)i);
        assert_int_equal(gw_txrec_put_new(b, no[i], rec.data, rec.len, blob, (size_t)bl), 0);
        assert_int_equal(gw_store_commit(f->s, b, err, sizeof err), 0);
        uint8_t h[32];
        char k[128];
        rec_hash(i, h);
        assert_int_equal(gw_txrec_note(r, no[i], h, k, rec_cid(i, k, sizeof k)), 0);
    }
    jt_buf_clear(&rec);
}

static void rec_wait_written(gw_txrec *r, uint64_t writes)
{
    gw_txrec_stats st;
    for (int n = 0; n < 2000; n++) {
        gw_txrec_tick(r);
        gw_txrec_get_stats(r, &st);
        if (st.writes >= writes && !st.writing)
            return;
        usleep(2000);
    }
    fail_msg("index writes: %" PRIu64 " of %" PRIu64, st.writes, writes);
}

static void rec_check_found(gw_txrec *r, int from, int to, const uint64_t *no)
{
    char err[512];
    for (int i = from; i <= to; i++) {
        uint8_t h[32];
        char k[128];
        rec_hash(i, h);
        uint64_t got = 0;
        assert_int_equal(gw_txrec_by_hash(r, h, &got, err, sizeof err), 1);
        assert_true(got == no[i]);
        got = 0;
        assert_int_equal(gw_txrec_by_cid(r, k, rec_cid(i, k, sizeof k), &got, err, sizeof err), 1);
        assert_true(got == no[i]);
    }
}

/* Counts pending records (ctx: int[2]), and in [1] those that came with
 * their signed transaction, which must be the one rec_write gave them
 * (records converted from the first layout hold theirs themselves). */
static bool count_pending(void *ctx, uint64_t no, const void *rec, size_t n, const void *blob,
                          size_t bl)
{
    int *count = ctx;
    (void)no;
    assert_non_null(memmem(rec, n, "\"pending\"", 9));
    if (bl) {
        const char *cid = memmem(rec, n, "\"pay-", 5);
        assert_non_null(cid);
        char want[16];
        int wl = snprintf(want, sizeof want, "12%08X", (unsigned)atoi(cid + 5));
        assert_int_equal(bl, (size_t)wl);
        assert_memory_equal(blob, want, bl);
        count[1]++;
    }
    count[0]++;
    return true;
}

/* Records numbered in order; their keys found from memory while the tail
 * gathers, from the frozen batch while it is written and from the store
 * after; index_upto follows; final records leave the pending list. */
static void txrec_tail_and_batches(void **state)
{
    fx *f = *state;
    char err[512];
    gw_txrec *r;
    assert_int_equal(gw_txrec_open(f->s, 100, &r, err, sizeof err), 0);
    static uint64_t no[400];
    rec_write(f, r, 1, 99, no);
    gw_txrec_stats st;
    gw_txrec_get_stats(r, &st);
    assert_true(st.upto == 0 && st.tail == 99 && !st.writing);
    for (int i = 1; i <= 99; i++)
        assert_true(no[i] == (uint64_t)i);
    rec_check_found(r, 1, 99, no);
    rec_write(f, r, 100, 350, no); /* three batches of 100 start on the way */
    rec_check_found(r, 1, 350, no);
    rec_wait_written(r, 3);
    gw_txrec_get_stats(r, &st);
    assert_true(st.upto == 300 && st.tail == 50);
    rec_check_found(r, 1, 350, no);
    /* In the store itself: the keys up to index_upto, none after. */
    jt_buf v;
    jt_buf_init(&v);
    for (int i = 1; i <= 350; i++) {
        uint8_t h[32];
        rec_hash(i, h);
        v.len = 0;
        assert_int_equal(gw_store_get(f->s, GW_BY_HASH, h, 32, &v, err, sizeof err), i <= 300);
        char k[128];
        v.len = 0;
        assert_int_equal(gw_store_get(f->s, GW_BY_CID, k, rec_cid(i, k, sizeof k), &v, err,
                                      sizeof err),
                         i <= 300);
    }
    v.len = 0;
    assert_int_equal(gw_store_get(f->s, GW_META, "index_upto", 10, &v, err, sizeof err), 1);
    assert_int_equal(v.len, 3);
    assert_memory_equal(v.data, "300", 3);
    jt_buf_clear(&v);
    uint8_t h[32];
    rec_hash(9999, h);
    uint64_t got;
    assert_int_equal(gw_txrec_by_hash(r, h, &got, err, sizeof err), 0);
    assert_int_equal(gw_txrec_by_cid(r, ACCT "\0pay-9999", sizeof ACCT + 8, &got, err, sizeof err),
                     0);
    /* Finals: off the pending list, and the record rewritten. */
    jt_buf rec;
    jt_buf_init(&rec);
    gw_batch *b = gw_batch_new();
    for (int i = 1; i <= 340; i++) {
        rec_json(i, "validated", &rec);
        assert_int_equal(gw_txrec_put_final(b, no[i], rec.data, rec.len), 0);
    }
    assert_int_equal(gw_store_commit(f->s, b, err, sizeof err), 0);
    int pending[2] = {0, 0};
    assert_int_equal(gw_txrec_each_pending(r, count_pending, pending, err, sizeof err), 0);
    assert_int_equal(pending[0], 10);
    assert_int_equal(pending[1], 10);
    rec.len = 0;
    assert_int_equal(gw_txrec_get(r, no[5], &rec, err, sizeof err), 1);
    assert_non_null(memmem(rec.data, rec.len, "\"validated\"", 11));
    jt_buf_clear(&rec);
    gw_txrec_stop(r);
    gw_txrec_free(r);
}

/* Stopped with an index write under way (or just ended) and records in the
 * tail: at the next open everything is found again, numbering goes on, and
 * a write that did not finish is done again from the records. */
static void txrec_reopen_reads_tail_back(void **state)
{
    fx *f = *state;
    char err[512];
    gw_txrec *r;
    static uint64_t no[400];
    assert_int_equal(gw_txrec_open(f->s, 100, &r, err, sizeof err), 0);
    rec_write(f, r, 1, 150, no);
    rec_wait_written(r, 1);
    /* The second write starts at record 200, and we stop: its first slice
     * is queued, the second only if the first committed before the stop. */
    rec_write(f, r, 151, 250, no);
    gw_txrec_stop(r);
    gw_store_close(f->s); /* the slices queued finish; none is queued after */
    gw_txrec_free(r);
    assert_int_equal(gw_store_open(f->dir, 0, &f->s, err, sizeof err), 0);
    assert_int_equal(gw_txrec_open(f->s, 100, &r, err, sizeof err), 0);
    gw_txrec_stats st;
    gw_txrec_get_stats(r, &st);
    assert_true((st.upto == 100 && st.tail == 150) || (st.upto == 200 && st.tail == 50));
    rec_check_found(r, 1, 250, no);
    rec_write(f, r, 251, 350, no);
    assert_true(no[251] == 251 && no[350] == 350);
    rec_wait_written(r, 1);
    gw_txrec_get_stats(r, &st);
    assert_true(st.upto >= 251 && st.upto + st.tail == 350);
    rec_check_found(r, 1, 350, no);
    gw_txrec_stop(r);
    gw_txrec_free(r);
}

/* A store of the first layout (txs by hash, cids) is converted at open:
 * every record found by hash and by client id, the pending ones listed,
 * the old tables emptied, and new numbers follow. */
static void txrec_converts_first_layout(void **state)
{
    fx *f = *state;
    char err[512];
    jt_buf rec;
    jt_buf_init(&rec);
    gw_batch *b = gw_batch_new();
    for (int i = 1; i <= 3000; i++) {
        uint8_t h[32], cv[64] = {0};
        rec_hash(i, h);
        rec_json(i, i % 3 ? "validated" : "pending", &rec);
        assert_int_equal(gw_batch_put(b, GW_V1_TXS, h, 32, rec.data, rec.len), 0);
        char k[128];
        memcpy(cv, h, 32);
        assert_int_equal(gw_batch_put(b, GW_V1_CIDS, k, rec_cid(i, k, sizeof k), cv, 64), 0);
    }
    assert_int_equal(gw_store_commit(f->s, b, err, sizeof err), 0);
    gw_txrec *r;
    assert_int_equal(gw_txrec_open(f->s, 0, &r, err, sizeof err), 0);
    gw_txrec_stats st;
    gw_txrec_get_stats(r, &st);
    assert_true(st.migrated == 3000 && st.upto == 3000 && st.tail == 0);
    static uint64_t no[3100];
    for (int i = 1; i <= 3000; i++) {
        uint8_t h[32];
        rec_hash(i, h);
        assert_int_equal(gw_txrec_by_hash(r, h, &no[i], err, sizeof err), 1);
        rec.len = 0;
        assert_int_equal(gw_txrec_get(r, no[i], &rec, err, sizeof err), 1);
        char want[32];
        int n = snprintf(want, sizeof want, "\"pay-%d\"", i);
        assert_non_null(memmem(rec.data, rec.len, want, (size_t)n));
    }
    rec_check_found(r, 1, 3000, no);
    int pending[2] = {0, 0};
    assert_int_equal(gw_txrec_each_pending(r, count_pending, pending, err, sizeof err), 0);
    assert_int_equal(pending[0], 1000);
    assert_int_equal(pending[1], 0);
    jt_buf k;
    jt_buf_init(&k);
    assert_int_equal(gw_store_last(f->s, GW_V1_TXS, &k, err, sizeof err), 0);
    assert_int_equal(gw_store_last(f->s, GW_V1_CIDS, &k, err, sizeof err), 0);
    jt_buf_clear(&k);
    assert_true(gw_txrec_number(r) == 3001);
    gw_txrec_stop(r);
    gw_txrec_free(r);
    jt_buf_clear(&rec);
}

static bool count_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)k;
    (void)kl;
    (void)v;
    (void)vl;
    (*(int *)ctx)++;
    return true;
}

/* First-layout records met beside records of this layout still in the tail
 * (not yet indexed): converted, and index_upto left where it was, so the
 * tail is read back too and every record is found; a first-layout record
 * that cannot be read is kept, without keys. */
static void txrec_converts_beside_a_tail(void **state)
{
    fx *f = *state;
    char err[512];
    gw_txrec *r;
    static uint64_t no[1100];
    assert_int_equal(gw_txrec_open(f->s, 100, &r, err, sizeof err), 0);
    rec_write(f, r, 1, 50, no);
    gw_txrec_stop(r);
    gw_txrec_free(r);
    jt_buf rec;
    jt_buf_init(&rec);
    gw_batch *b = gw_batch_new();
    for (int i = 1001; i <= 1020; i++) {
        uint8_t h[32];
        rec_hash(i, h);
        rec_json(i, "validated", &rec);
        assert_int_equal(gw_batch_put(b, GW_V1_TXS, h, 32, rec.data, rec.len), 0);
    }
    uint8_t junk_key[32] = {0xff};
    assert_int_equal(gw_batch_put(b, GW_V1_TXS, junk_key, 32, "not a record", 12), 0);
    assert_int_equal(gw_store_commit(f->s, b, err, sizeof err), 0);
    jt_buf_clear(&rec);
    assert_int_equal(gw_txrec_open(f->s, 100, &r, err, sizeof err), 0);
    gw_txrec_stats st;
    gw_txrec_get_stats(r, &st);
    assert_true(st.migrated == 21 && st.upto == 0 && st.tail == 70);
    rec_check_found(r, 1, 50, no);
    for (int i = 1001; i <= 1020; i++) {
        uint8_t h[32];
        rec_hash(i, h);
        assert_int_equal(gw_txrec_by_hash(r, h, &no[i], err, sizeof err), 1);
        assert_true(no[i] > 50);
    }
    rec_check_found(r, 1001, 1020, no);
    int n = 0;
    assert_int_equal(gw_store_scan(f->s, GW_RECORDS, NULL, 0, count_one, &n, err, sizeof err), 0);
    assert_int_equal(n, 71);
    gw_txrec_stop(r);
    gw_txrec_free(r);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(store_commit_get_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(store_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(store_first_lane, setup, teardown),
        cmocka_unit_test_setup_teardown(store_full_says_so, setup, teardown),
        cmocka_unit_test_setup_teardown(apikey_create_check_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(apikey_scopes_and_accounts, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_tail_record, setup, teardown),
        cmocka_unit_test_setup_teardown(config_defaults_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(txrec_tail_and_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(txrec_reopen_reads_tail_back, setup, teardown),
        cmocka_unit_test_setup_teardown(txrec_converts_first_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(txrec_converts_beside_a_tail, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
