/* test_jn_store.c — jt-node's LMDB store on real files in a temporary directory. */
#include <dirent.h>
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "datadir.h"
#include "store.h"
#include "testutil.h"

/* ---------------------------------------------------------------- fixture */

typedef struct fix {
    char tmp[64];   /* the mkdtemp directory, removed at the end */
    char dir[128];  /* the store, two levels below, so open must create parents */
    jn_store *s;
} fix;


static void reopen(fix *f, size_t map_size)
{
    jn_store_close(f->s);
    f->s = NULL;
    char err[256];
    int rc = jn_store_open(f->dir, map_size, &f->s, err, sizeof err);
    if (rc != 0)
        print_error("open: %s\n", err);
    assert_int_equal(rc, 0);
    assert_non_null(f->s);
    /* The ID index written at every commit, as the tests below poke it;
     * txid_in_batches tests the batching. */
    jn_store_set_txid_batch(f->s, 1);
}

static int setup(void **state)
{
    fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->tmp, sizeof f->tmp, "/tmp/jn_store_XXXXXX");
    assert_non_null(mkdtemp(f->tmp));
    snprintf(f->dir, sizeof f->dir, "%s/node/db", f->tmp);
    reopen(f, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fix *f = *state;
    jn_store_close(f->s);
    tu_rm_rf(f->tmp);
    free(f);
    return 0;
}

/* ---------------------------------------------------------------- helpers */

/* Deterministic 32-byte IDs; `tag` keeps kinds of ID apart. */
static void mkid(uint8_t id[32], uint32_t tag, uint32_t n)
{
    uint32_t x = tag * 2654435761u ^ n * 40503u ^ 0x9E3779B9u;
    for (int i = 0; i < 32; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        id[i] = (uint8_t)(x >> 8);
    }
    id[0] = (uint8_t)tag; /* never equal across tags */
    id[1] = (uint8_t)(n >> 8);
    id[2] = (uint8_t)n;
}

static void mkheader(jn_header *h, uint32_t seq, uint8_t variant)
{
    memset(h, 0, sizeof *h);
    h->seq = seq;
    h->total_coins = 600000000000000000ull - seq;
    mkid(h->parent_hash, 1, seq - 1);
    mkid(h->tx_hash, 2, seq);
    mkid(h->account_hash, 3, seq);
    h->parent_close_time = 700000000u + seq * 10 - 10;
    h->close_time = 700000000u + seq * 10;
    h->close_resolution = 10;
    h->close_flags = (uint8_t)(seq & 1);
    mkid(h->hash, 1, seq);
    h->hash[31] ^= variant; /* a different hash for the same ledger */
    h->txn_count = seq * 3;
}

static void assert_header_equal(const jn_header *a, const jn_header *b)
{
    assert_int_equal(a->seq, b->seq);
    assert_true(a->total_coins == b->total_coins);
    assert_memory_equal(a->parent_hash, b->parent_hash, 32);
    assert_memory_equal(a->tx_hash, b->tx_hash, 32);
    assert_memory_equal(a->account_hash, b->account_hash, 32);
    assert_int_equal(a->parent_close_time, b->parent_close_time);
    assert_int_equal(a->close_time, b->close_time);
    assert_int_equal(a->close_resolution, b->close_resolution);
    assert_int_equal(a->close_flags, b->close_flags);
    assert_memory_equal(a->hash, b->hash, 32);
    assert_int_equal(a->txn_count, b->txn_count);
}

/* The blob and metadata of a test transaction are derived from its place. */
static size_t tx_blob(uint8_t *out, uint32_t seq, uint32_t index)
{
    size_t n = 20 + (seq * 7 + index) % 90;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(seq + index * 3 + i);
    return n;
}

static size_t tx_meta(uint8_t *out, uint32_t seq, uint32_t index)
{
    size_t n = (seq + index) % 5 == 0 ? 0 : 10 + (seq + index * 11) % 70;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(0xA0 ^ (seq * 5 + index + i));
    return n;
}

static void put_tx(jn_batch *b, uint32_t seq, uint32_t index)
{
    uint8_t blob[128], meta[128];
    jn_txrec t;
    mkid(t.id, 9, seq * 1000 + index);
    t.seq = seq;
    t.index = index;
    t.blob = blob;
    t.blob_len = tx_blob(blob, seq, index);
    t.meta = meta;
    t.meta_len = tx_meta(meta, seq, index);
    assert_int_equal(jn_batch_put_tx(b, &t), 0);
}

/* Checks a delivered transaction against what put_tx stored. */
static void check_tx(const jn_txrec *t)
{
    uint8_t id[32], blob[128], meta[128];
    mkid(id, 9, t->seq * 1000 + t->index);
    assert_memory_equal(t->id, id, 32);
    size_t bl = tx_blob(blob, t->seq, t->index), ml = tx_meta(meta, t->seq, t->index);
    assert_int_equal(t->blob_len, bl);
    assert_memory_equal(t->blob, blob, bl);
    assert_int_equal(t->meta_len, ml);
    if (ml)
        assert_memory_equal(t->meta, meta, ml);
}

/* Collects (seq, index) pairs of delivered transactions. */
typedef struct seen {
    uint32_t seq[4096], index[4096];
    size_t n;
    size_t stop_after; /* return 5 after this many, when non-zero */
} seen;

static int collect(void *ctx, const jn_txrec *t)
{
    seen *c = ctx;
    check_tx(t);
    assert_true(c->n < 4096);
    c->seq[c->n] = t->seq;
    c->index[c->n] = t->index;
    c->n++;
    return c->stop_after && c->n == c->stop_after ? 5 : 0;
}

/* ------------------------------------------------------------------ tests */

static void open_close_reopen(void **state)
{
    fix *f = *state;
    struct stat st;
    assert_int_equal(stat(f->dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char path[256];
    snprintf(path, sizeof path, "%s/data.mdb", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    jn_header h;
    uint32_t seq = 99;
    assert_int_equal(jn_store_last_header(f->s, &h), 1);
    assert_int_equal(jn_store_first_seq(f->s, &seq), 1);
    assert_int_equal(seq, 99);
    char buf[16];
    size_t len = 0;
    assert_int_equal(jn_store_get_meta(f->s, "config", buf, sizeof buf, &len), 1);

    jn_batch *b;
    assert_int_equal(jn_store_begin(f->s, &b), 0);
    assert_int_equal(jn_batch_put_meta(b, "config", "abc", 3), 0);
    jn_header h1;
    mkheader(&h1, 1, 0);
    assert_int_equal(jn_batch_put_header(b, &h1), 0);
    assert_int_equal(jn_store_commit(b), 0);

    reopen(f, 0);
    assert_int_equal(jn_store_get_meta(f->s, "config", buf, sizeof buf, &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "abc", 3);
    assert_int_equal(jn_store_last_header(f->s, &h), 0);
    assert_header_equal(&h, &h1);

    /* A smaller map than the data already uses is widened, not refused. */
    reopen(f, 1 << 16);
    assert_int_equal(jn_store_header_by_seq(f->s, 1, &h), 0);

    /* A path that is a file cannot hold a store. */
    char err[256];
    jn_store *bad = (jn_store *)1;
    assert_int_equal(jn_store_open(path, 0, &bad, err, sizeof err), -1);
    assert_null(bad);
    assert_non_null(strstr(err, "not a directory"));
    jn_store_close(NULL);
}

static void batch_round_trip(void **state)
{
    fix *f = *state;
    for (uint32_t seq = 1; seq <= 3; seq++) {
        jn_batch *b;
        assert_int_equal(jn_store_begin(f->s, &b), 0);
        for (uint32_t i = 0; i < 10; i++) {
            uint8_t id[32], blob[40];
            mkid(id, 4, seq * 100 + i);
            memset(blob, (int)(seq * 16 + i), sizeof blob);
            assert_int_equal(jn_batch_put_state(b, id, blob, 10 + i), 0);
        }
        for (uint32_t i = 0; i < 4; i++) {
            put_tx(b, seq, i);
            uint8_t acct[20], id[32];
            memset(acct, 0x11, sizeof acct);
            mkid(id, 9, seq * 1000 + i);
            assert_int_equal(jn_batch_put_account_tx(b, acct, seq, i, id), 0);
        }
        jn_header h;
        mkheader(&h, seq, 0);
        assert_int_equal(jn_batch_put_header(b, &h), 0);
        assert_int_equal(jn_store_commit(b), 0);
    }
    reopen(f, 0);

    for (uint32_t seq = 1; seq <= 3; seq++) {
        for (uint32_t i = 0; i < 10; i++) {
            uint8_t id[32], blob[40], want[40];
            size_t len = 0;
            mkid(id, 4, seq * 100 + i);
            memset(want, (int)(seq * 16 + i), sizeof want);
            assert_int_equal(jn_store_get_state(f->s, id, blob, sizeof blob, &len), 0);
            assert_int_equal(len, 10 + i);
            assert_memory_equal(blob, want, len);
        }
        for (uint32_t i = 0; i < 4; i++) {
            uint8_t id[32];
            mkid(id, 9, seq * 1000 + i);
            seen c = {0};
            assert_int_equal(jn_store_get_tx(f->s, id, collect, &c), 0);
            assert_int_equal(c.n, 1);
            assert_int_equal(c.seq[0], seq);
            assert_int_equal(c.index[0], i);
        }
        jn_header h, want;
        mkheader(&want, seq, 0);
        assert_int_equal(jn_store_header_by_seq(f->s, seq, &h), 0);
        assert_header_equal(&h, &want);
    }
    uint8_t acct[20];
    memset(acct, 0x11, sizeof acct);
    seen c = {0};
    bool more = true;
    uint32_t ns = 1, ni = 1;
    assert_int_equal(jn_store_account_tx(f->s, acct, 0, UINT32_MAX, false, false, 0, 0, 0,
                                         collect, &c, &more, &ns, &ni),
                     0);
    assert_int_equal(c.n, 12);
    assert_false(more);
    assert_int_equal(ns, 0);
    assert_int_equal(ni, 0);
    assert_int_equal(c.seq[0], 3);
    assert_int_equal(c.index[0], 3);
    assert_int_equal(c.seq[11], 1);
    assert_int_equal(c.index[11], 0);

    uint64_t bytes = 0;
    assert_int_equal(jn_store_disk_bytes(f->s, &bytes), 0);
    assert_true(bytes >= 4096 * 4);
}

/* Everything a batch can write, keyed by `n`, for the abort checks. */
static void put_everything(jn_batch *b, uint32_t n)
{
    uint8_t id[32], acct[20];
    mkid(id, 4, n);
    assert_int_equal(jn_batch_put_state(b, id, (const uint8_t *)"x", 1), 0);
    jn_header h;
    mkheader(&h, n, 0);
    assert_int_equal(jn_batch_put_header(b, &h), 0);
    put_tx(b, n, 0);
    memset(acct, 0x22, sizeof acct);
    mkid(id, 9, n * 1000);
    assert_int_equal(jn_batch_put_account_tx(b, acct, n, 0, id), 0);
    char key[16];
    snprintf(key, sizeof key, "k%u", n);
    assert_int_equal(jn_batch_put_meta(b, key, "v", 1), 0);
}

static void assert_nothing_of(fix *f, uint32_t n)
{
    uint8_t id[32], buf[8], acct[20];
    size_t len;
    jn_header h;
    mkid(id, 4, n);
    assert_int_equal(jn_store_get_state(f->s, id, buf, sizeof buf, &len), 1);
    assert_int_equal(jn_store_header_by_seq(f->s, n, &h), 1);
    mkheader(&h, n, 0);
    assert_int_equal(jn_store_header_by_hash(f->s, h.hash, &h), 1);
    mkid(id, 9, n * 1000);
    seen c = {0};
    assert_int_equal(jn_store_get_tx(f->s, id, collect, &c), 1);
    assert_int_equal(jn_store_ledger_txs(f->s, n, collect, &c), 0);
    memset(acct, 0x22, sizeof acct);
    assert_int_equal(jn_store_account_tx(f->s, acct, n, n, true, false, 0, 0, 0, collect, &c,
                                         NULL, NULL, NULL),
                     0);
    assert_int_equal(c.n, 0);
    char key[16];
    snprintf(key, sizeof key, "k%u", n);
    assert_int_equal(jn_store_get_meta(f->s, key, buf, sizeof buf, &len), 1);
}

static void abort_leaves_nothing(void **state)
{
    fix *f = *state;
    jn_batch *b, *b2;
    assert_int_equal(jn_store_begin(f->s, &b), 0);
    put_everything(b, 7);
    /* One batch at a time: a second is refused, not deadlocked. */
    assert_int_equal(jn_store_begin(f->s, &b2), -1);
    assert_non_null(strstr(jn_store_errmsg(f->s), "already open"));
    jn_store_abort(b);
    jn_store_abort(NULL);
    assert_nothing_of(f, 7);
    reopen(f, 0);
    assert_nothing_of(f, 7);

    /* A batch with one failed put writes none of its other puts. */
    assert_int_equal(jn_store_begin(f->s, &b), 0);
    put_everything(b, 8);
    char longkey[80];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    assert_int_equal(jn_batch_put_meta(b, longkey, "v", 1), -1);
    assert_non_null(strstr(jn_store_errmsg(f->s), "put meta: key is 79 bytes"));
    uint8_t id[32];
    mkid(id, 4, 1);
    assert_int_equal(jn_batch_put_state(b, id, (const uint8_t *)"y", 1), -1);
    assert_non_null(strstr(jn_store_errmsg(f->s), "already failed"));
    assert_int_equal(jn_store_commit(b), -1);
    assert_non_null(strstr(jn_store_errmsg(f->s), "commit"));
    assert_non_null(strstr(jn_store_errmsg(f->s), "key is 79 bytes"));
    assert_nothing_of(f, 8);

    /* The failed batch was released: the next one works. */
    assert_int_equal(jn_store_begin(f->s, &b), 0);
    put_everything(b, 9);
    assert_int_equal(jn_store_commit(b), 0);
    jn_header h;
    assert_int_equal(jn_store_header_by_seq(f->s, 9, &h), 0);
    assert_nothing_of(f, 8);
}

static void map_full_fails_cleanly(void **state)
{
    fix *f = *state;
    /* A fresh store with a 1 MiB map, far too small for 4 MiB of state. */
    jn_store_close(f->s);
    f->s = NULL;
    tu_rm_rf(f->dir);
    reopen(f, 1 << 20);

    jn_batch *b;
    assert_int_equal(jn_store_begin(f->s, &b), 0);
    assert_int_equal(jn_batch_put_meta(b, "small", "1", 1), 0);
    assert_int_equal(jn_store_commit(b), 0);

    static uint8_t blob[16384];
    memset(blob, 0x5A, sizeof blob);
    assert_int_equal(jn_store_begin(f->s, &b), 0);
    int rc = 0;
    uint32_t i;
    for (i = 0; i < 256 && rc == 0; i++) {
        uint8_t id[32];
        mkid(id, 4, i);
        rc = jn_batch_put_state(b, id, blob, sizeof blob);
    }
    assert_int_equal(rc, -1);
    assert_non_null(strstr(jn_store_errmsg(f->s), "put state "));
    assert_non_null(strstr(jn_store_errmsg(f->s), "MDB_MAP_FULL"));
    assert_int_equal(jn_store_commit(b), -1);
    /* The operator reads what happened, where, and which setting to raise. */
    const char *msg = jn_store_errmsg(f->s);
    assert_non_null(strstr(msg, "MDB_MAP_FULL"));
    assert_non_null(strstr(msg, "store full"));
    assert_non_null(strstr(msg, f->dir));
    assert_non_null(strstr(msg, "map size of 1048576 bytes"));
    assert_non_null(strstr(msg, JN_STORE_MAP_SIZE_SETTING));

    /* Nothing of the failed batch, the earlier commit intact, store usable. */
    uint8_t id[32], buf[4];
    size_t len;
    mkid(id, 4, 0);
    assert_int_equal(jn_store_get_state(f->s, id, buf, sizeof buf, &len), 1);
    assert_int_equal(jn_store_get_meta(f->s, "small", buf, sizeof buf, &len), 0);
    assert_int_equal(jn_store_begin(f->s, &b), 0);
    assert_int_equal(jn_batch_put_meta(b, "after", "2", 1), 0);
    assert_int_equal(jn_store_commit(b), 0);
    assert_int_equal(jn_store_get_meta(f->s, "after", buf, sizeof buf, &len), 0);
}

/* The text of a failed write: a full disk says so with the space left and
 * the directory; an EIO with room to spare says the disk is not full. */
static void write_error_text(void **state)
{
    fix *f = *state;
    char out[1024];
    assert_true(srv_datadir_write_error(f->dir, ENOSPC, out, sizeof out));
    assert_non_null(strstr(out, "disk full ("));
    assert_non_null(strstr(out, " bytes free on "));
    assert_non_null(strstr(out, f->dir));
    assert_non_null(strstr(out, strerror(ENOSPC)));
    assert_true(srv_datadir_write_error(f->dir, EDQUOT, out, sizeof out));
    assert_non_null(strstr(out, "disk full ("));
    /* The test directory's disk has more than 8 MiB free (or the test says
     * nothing about EIO). */
    struct statvfs fs;
    if (statvfs(f->dir, &fs) == 0 && (uint64_t)fs.f_bavail * fs.f_frsize > ((uint64_t)64 << 20)) {
        assert_false(srv_datadir_write_error(f->dir, EIO, out, sizeof out));
        assert_non_null(strstr(out, "so the disk is not full"));
        assert_null(strstr(out, "disk full"));
    }
    assert_false(srv_datadir_write_error(f->dir, EACCES, out, sizeof out));
    assert_string_equal(out, strerror(EACCES));
    /* A directory that is gone still gets "disk full" for ENOSPC. */
    assert_true(srv_datadir_write_error("/nonexistent/jt-node", ENOSPC, out, sizeof out));
    assert_non_null(strstr(out, "disk full (on /nonexistent/jt-node: "));
}

static void headers(void **state)
{
    fix *f = *state;
    jn_batch *b;
    jn_header h, want;
    uint32_t seq;
    /* Ledgers 5..9, then 12, 10, 11 in one batch (out of order). */
    assert_int_equal(jn_store_begin(f->s, &b), 0);
    for (uint32_t s = 5; s <= 9; s++) {
        mkheader(&h, s, 0);
        assert_int_equal(jn_batch_put_header(b, &h), 0);
    }
    assert_int_equal(jn_store_commit(b), 0);
    assert_int_equal(jn_store_begin(f->s, &b), 0);
    uint32_t order[] = {12, 10, 11};
    for (size_t i = 0; i < 3; i++) {
        mkheader(&h, order[i], 0);
        assert_int_equal(jn_batch_put_header(b, &h), 0);
    }
    assert_int_equal(jn_store_commit(b), 0);

    for (uint32_t s = 5; s <= 12; s++) {
        mkheader(&want, s, 0);
        assert_int_equal(jn_store_header_by_seq(f->s, s, &h), 0);
        assert_header_equal(&h, &want);
        memset(&h, 0, sizeof h);
        assert_int_equal(jn_store_header_by_hash(f->s, want.hash, &h), 0);
        assert_header_equal(&h, &want);
    }
    assert_int_equal(jn_store_header_by_seq(f->s, 4, &h), 1);
    assert_int_equal(jn_store_header_by_seq(f->s, 13, &h), 1);
    mkheader(&want, 13, 0);
    assert_int_equal(jn_store_header_by_hash(f->s, want.hash, &h), 1);
    assert_int_equal(jn_store_last_header(f->s, &h), 0);
    assert_int_equal(h.seq, 12);
    assert_int_equal(jn_store_first_seq(f->s, &seq), 0);
    assert_int_equal(seq, 5);

    /* Replacing ledger 7 with a different hash retires the old hash. */
    jn_header old;
    mkheader(&old, 7, 0);
    mkheader(&want, 7, 0x40);
    assert_int_equal(jn_store_begin(f->s, &b), 0);
    assert_int_equal(jn_batch_put_header(b, &want), 0);
    assert_int_equal(jn_store_commit(b), 0);
    assert_int_equal(jn_store_header_by_hash(f->s, old.hash, &h), 1);
    assert_int_equal(jn_store_header_by_hash(f->s, want.hash, &h), 0);
    assert_header_equal(&h, &want);
    assert_int_equal(jn_store_header_by_seq(f->s, 7, &h), 0);
    assert_header_equal(&h, &want);
}

typedef struct walk {
    uint8_t last[32];
    size_t n;
    size_t stop_at;
} walk;

static int state_cb(void *ctx, const uint8_t id[32], const uint8_t *blob, size_t len)
{
    walk *w = ctx;
    if (w->n > 0)
        assert_true(memcmp(w->last, id, 32) < 0);
    memcpy(w->last, id, 32);
    assert_int_equal(len, (size_t)(id[5] % 50));
    for (size_t i = 0; i < len; i++)
        assert_int_equal(blob[i], id[6]);
    w->n++;
    return w->stop_at && w->n == w->stop_at ? 7 : 0;
}

static void state_entries(void **state)
{
    fix *f = *state;
    jn_batch *b;
    assert_int_equal(jn_store_begin(f->s, &b), 0);
    for (uint32_t i = 0; i < 300; i++) {
        uint8_t id[32], blob[64];
        mkid(id, 4, i);
        memset(blob, id[6], sizeof blob);
        assert_int_equal(jn_batch_put_state(b, id, blob, id[5] % 50), 0);
    }
    assert_int_equal(jn_store_commit(b), 0);

    walk w = {.n = 0};
    assert_int_equal(jn_store_state_foreach(f->s, state_cb, &w), 0);
    assert_int_equal(w.n, 300);
    walk w2 = {.stop_at = 3};
    assert_int_equal(jn_store_state_foreach(f->s, state_cb, &w2), 7);
    assert_int_equal(w2.n, 3);

    /* Delete half, replace one, delete something never stored. */
    assert_int_equal(jn_store_begin(f->s, &b), 0);
    for (uint32_t i = 0; i < 300; i += 2) {
        uint8_t id[32];
        mkid(id, 4, i);
        assert_int_equal(jn_batch_del_state(b, id), 0);
    }
    uint8_t id[32], ghost[32], blob[64];
    mkid(ghost, 5, 1);
    assert_int_equal(jn_batch_del_state(b, ghost), 0);
    mkid(id, 4, 1);
    memset(blob, id[6], sizeof blob);
    size_t want = id[5] % 50; /* keeps state_cb's rule */
    assert_int_equal(jn_batch_put_state(b, id, blob, want), 0);
    assert_int_equal(jn_store_commit(b), 0);
    walk w3 = {.n = 0};
    assert_int_equal(jn_store_state_foreach(f->s, state_cb, &w3), 0);
    assert_int_equal(w3.n, 150);

    uint8_t out[64];
    size_t len = 0;
    mkid(id, 4, 0);
    assert_int_equal(jn_store_get_state(f->s, id, out, sizeof out, &len), 1);
    /* Find an odd entry with a non-empty blob and read it with a small cap. */
    uint32_t i = 1;
    for (;; i += 2) {
        mkid(id, 4, i);
        if (id[5] % 50 >= 2)
            break;
    }
    want = id[5] % 50;
    len = 0;
    assert_int_equal(jn_store_get_state(f->s, id, out, want - 1, &len), -1);
    assert_int_equal(len, want);
    assert_non_null(strstr(jn_store_errmsg(f->s), "get state"));
    assert_non_null(strstr(jn_store_errmsg(f->s), "buffer"));
    len = 0;
    assert_int_equal(jn_store_get_state(f->s, id, out, want, &len), 0);
    assert_int_equal(len, want);
    assert_int_equal(out[0], id[6]);
}

static void transactions(void **state)
{
    fix *f = *state;
    uint8_t id[32];
    seen c = {0};
    mkid(id, 9, 1);
    assert_int_equal(jn_store_get_tx(f->s, id, collect, &c), 1);

    /* Ledger 4 gets 50 transactions written in a scrambled order; ledgers
     * 3 and 5 surround it. */
    jn_batch *b;
    assert_int_equal(jn_store_begin(f->s, &b), 0);
    for (uint32_t i = 0; i < 6; i++)
        put_tx(b, 3, i);
    for (uint32_t k = 0; k < 50; k++)
        put_tx(b, 4, (k * 17) % 50);
    for (uint32_t i = 0; i < 4; i++)
        put_tx(b, 5, i);
    assert_int_equal(jn_store_commit(b), 0);

    assert_int_equal(jn_store_ledger_txs(f->s, 4, collect, &c), 0);
    assert_int_equal(c.n, 50);
    for (uint32_t i = 0; i < 50; i++) {
        assert_int_equal(c.seq[i], 4);
        assert_int_equal(c.index[i], i);
    }
    c.n = 0;
    assert_int_equal(jn_store_ledger_txs(f->s, 6, collect, &c), 0);
    assert_int_equal(jn_store_ledger_txs(f->s, 2, collect, &c), 0);
    assert_int_equal(c.n, 0);
    assert_int_equal(jn_store_ledger_txs(f->s, 5, collect, &c), 0);
    assert_int_equal(c.n, 4);
    c.n = 0;
    c.stop_after = 2;
    assert_int_equal(jn_store_ledger_txs(f->s, 3, collect, &c), 5);
    assert_int_equal(c.n, 2);

    c.n = 0;
    c.stop_after = 0;
    mkid(id, 9, 4 * 1000 + 33);
    assert_int_equal(jn_store_get_tx(f->s, id, collect, &c), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.seq[0], 4);
    assert_int_equal(c.index[0], 33);
}

static uint32_t txid_upto(fix *f)
{
    uint8_t b[4];
    size_t len = 0;
    assert_int_equal(jn_store_get_meta(f->s, "txid_upto", b, sizeof b, &len), 0);
    assert_int_equal(len, 4);
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void assert_txs_found(fix *f, uint32_t last_seq)
{
    for (uint32_t seq = 1; seq <= last_seq; seq++)
        for (uint32_t i = 0; i < 3; i++) {
            uint8_t id[32];
            seen c = {0};
            mkid(id, 9, seq * 1000 + i);
            assert_int_equal(jn_store_get_tx(f->s, id, collect, &c), 0);
            assert_int_equal(c.n, 1);
            assert_int_equal(c.seq[0], seq);
            assert_int_equal(c.index[0], i);
        }
    uint8_t id[32];
    seen c = {0};
    mkid(id, 9, (last_seq + 1) * 1000);
    assert_int_equal(jn_store_get_tx(f->s, id, collect, &c), 1);
}

/* The ID index is written in batches: IDs not yet in it are found all the
 * same, and survive a restart (read back from the transactions). */
static void txid_in_batches(void **state)
{
    fix *f = *state;
    assert_int_equal(txid_upto(f), 0); /* a new store: nothing indexed yet */
    jn_store_set_txid_batch(f->s, 7);
    for (uint32_t seq = 1; seq <= 5; seq++) {
        jn_batch *b;
        assert_int_equal(jn_store_begin(f->s, &b), 0);
        for (uint32_t i = 0; i < 3; i++)
            put_tx(b, seq, i);
        assert_int_equal(jn_store_commit(b), 0);
        assert_txs_found(f, seq);
    }
    /* 9 IDs at ledger 3 reached the batch: ledgers 1..3 are in `txid`,
     * 4 and 5 only in memory. */
    assert_int_equal(txid_upto(f), 3);

    /* A batch that fails leaves the memory as it was. */
    jn_batch *b;
    assert_int_equal(jn_store_begin(f->s, &b), 0);
    put_tx(b, 6, 0);
    jn_store_abort(b);
    assert_txs_found(f, 5);

    /* A restart (or a crash) loses only memory: ledgers 4 and 5 are read
     * back from the transactions. */
    reopen(f, 0);
    assert_int_equal(txid_upto(f), 3);
    assert_txs_found(f, 5);

    /* The next commit (batch 1 now) writes them all. */
    assert_int_equal(jn_store_begin(f->s, &b), 0);
    for (uint32_t i = 0; i < 3; i++)
        put_tx(b, 6, i);
    assert_int_equal(jn_store_commit(b), 0);
    assert_int_equal(txid_upto(f), 6);
    assert_txs_found(f, 6);
    reopen(f, 0);
    assert_txs_found(f, 6);
}

/* ------------------------------------------------------------ account_tx */

#define NACCT 4
#define FIRST_LEDGER 2
#define LAST_LEDGER 13

/* Accounts 00..01, 00..02, 00..03 (no history) and FF..FF: the empty one
 * sits between two neighbours so a walk that leaks past an account's own
 * entries would be seen. */
static void account(uint8_t a[20], int which)
{
    static const uint8_t last[NACCT] = {1, 2, 3, 0xFF};
    memset(a, which == 3 ? 0xFF : 0, 20);
    a[19] = last[which];
}

typedef struct history {
    uint32_t seq[NACCT][1024], index[NACCT][1024];
    size_t n[NACCT];
} history;

/* Ledgers FIRST..LAST with 0..7 transactions each touching a pseudo-random
 * set of accounts 0, 1, 3. Expected histories are recorded oldest first. */
static void build_history(fix *f, history *hist)
{
    memset(hist, 0, sizeof *hist);
    uint32_t x = 12345;
    for (uint32_t seq = FIRST_LEDGER; seq <= LAST_LEDGER; seq++) {
        jn_batch *b;
        assert_int_equal(jn_store_begin(f->s, &b), 0);
        uint32_t ntx = seq == 6 ? 0 : (seq * 5) % 8;
        for (uint32_t i = 0; i < ntx; i++) {
            put_tx(b, seq, i);
            uint8_t id[32];
            mkid(id, 9, seq * 1000 + i);
            x = x * 1103515245u + 12345u;
            unsigned mask = (x >> 16) % 7 + 1; /* at least one account */
            for (int a = 0; a < NACCT; a++) {
                int bit = a == 3 ? 2 : a;
                if (a == 2 || !(mask & (1u << bit)))
                    continue;
                uint8_t acct[20];
                account(acct, a);
                assert_int_equal(jn_batch_put_account_tx(b, acct, seq, i, id), 0);
                hist->seq[a][hist->n[a]] = seq;
                hist->index[a][hist->n[a]] = i;
                hist->n[a]++;
            }
        }
        jn_header h;
        mkheader(&h, seq, 0);
        assert_int_equal(jn_batch_put_header(b, &h), 0);
        assert_int_equal(jn_store_commit(b), 0);
    }
    assert_true(hist->n[0] > 10 && hist->n[1] > 10 && hist->n[3] > 10);
    assert_int_equal(hist->n[2], 0);
}

/* The expected walk: entries of `a` within [lo, hi] in walk order. */
static size_t expect(const history *hist, int a, uint32_t lo, uint32_t hi, bool forward,
                     uint32_t *seq, uint32_t *index)
{
    size_t n = 0, total = hist->n[a];
    for (size_t k = 0; k < total; k++) {
        size_t j = forward ? k : total - 1 - k;
        if (hist->seq[a][j] < lo || hist->seq[a][j] > hi)
            continue;
        seq[n] = hist->seq[a][j];
        index[n] = hist->index[a][j];
        n++;
    }
    return n;
}

static void assert_walk(const seen *c, const uint32_t *seq, const uint32_t *index, size_t n)
{
    assert_int_equal(c->n, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(c->seq[i], seq[i]);
        assert_int_equal(c->index[i], index[i]);
    }
}

static void account_tx_ranges(void **state)
{
    fix *f = *state;
    static history hist;
    build_history(f, &hist);
    static uint32_t es[1024], ei[1024];
    static seen c;

    const uint32_t bounds[][2] = {
        {0, UINT32_MAX}, {FIRST_LEDGER, LAST_LEDGER}, {4, 9},  {6, 6}, {7, 7},
        {0, 3},          {12, UINT32_MAX},            {9, 4},  {20, 30}, {0, 1},
    };
    for (int a = 0; a < NACCT; a++) {
        uint8_t acct[20];
        account(acct, a);
        for (size_t bi = 0; bi < sizeof bounds / sizeof bounds[0]; bi++) {
            for (int fw = 0; fw < 2; fw++) {
                uint32_t lo = bounds[bi][0], hi = bounds[bi][1];
                size_t n = expect(&hist, a, lo, hi, fw, es, ei);
                memset(&c, 0, sizeof c);
                bool more = true;
                uint32_t ns = 9, ni = 9;
                /* limit 0: everything at once */
                assert_int_equal(jn_store_account_tx(f->s, acct, lo, hi, fw, false, 0, 0, 0,
                                                     collect, &c, &more, &ns, &ni),
                                 0);
                assert_walk(&c, es, ei, n);
                assert_false(more);

                /* A limit that is exactly the number of entries: no more. */
                if (n > 0) {
                    memset(&c, 0, sizeof c);
                    assert_int_equal(jn_store_account_tx(f->s, acct, lo, hi, fw, false, 0, 0,
                                                         (unsigned)n, collect, &c, &more, &ns,
                                                         &ni),
                                     0);
                    assert_walk(&c, es, ei, n);
                    assert_false(more);
                }
            }
        }
    }

    /* Markers outside the range. */
    uint8_t acct[20];
    account(acct, 0);
    size_t n = expect(&hist, 0, 4, 9, false, es, ei);
    memset(&c, 0, sizeof c);
    assert_int_equal(jn_store_account_tx(f->s, acct, 4, 9, false, true, 50, 0, 0, collect, &c,
                                         NULL, NULL, NULL),
                     0);
    assert_walk(&c, es, ei, n); /* marker above the range: from the top */
    memset(&c, 0, sizeof c);
    assert_int_equal(jn_store_account_tx(f->s, acct, 4, 9, false, true, 3, UINT32_MAX, 0,
                                         collect, &c, NULL, NULL, NULL),
                     0);
    assert_int_equal(c.n, 0); /* marker below the range walking down: nothing */
    n = expect(&hist, 0, 4, 9, true, es, ei);
    memset(&c, 0, sizeof c);
    assert_int_equal(jn_store_account_tx(f->s, acct, 4, 9, true, true, 1, 5, 0, collect, &c,
                                         NULL, NULL, NULL),
                     0);
    assert_walk(&c, es, ei, n); /* marker below the range walking up: from the bottom */
    memset(&c, 0, sizeof c);
    assert_int_equal(jn_store_account_tx(f->s, acct, 4, 9, true, true, 10, 0, 0, collect, &c,
                                         NULL, NULL, NULL),
                     0);
    assert_int_equal(c.n, 0);

    /* A marker that names no entry starts at the next entry in walk order:
     * for every neighbouring pair prev < cur, walking up from just after
     * prev finds cur, and walking down from just before cur finds prev. */
    n = expect(&hist, 0, 0, UINT32_MAX, true, es, ei);
    size_t gaps = 0;
    for (size_t k = 1; k < n; k++) {
        uint32_t ps = es[k - 1], pi = ei[k - 1], cs = es[k], ci = ei[k];
        memset(&c, 0, sizeof c);
        assert_int_equal(jn_store_account_tx(f->s, acct, 0, UINT32_MAX, true, true, ps, pi + 1,
                                             1, collect, &c, NULL, NULL, NULL),
                         0);
        assert_int_equal(c.n, 1);
        assert_int_equal(c.seq[0], cs);
        assert_int_equal(c.index[0], ci);
        if (ci == 0)
            continue;
        memset(&c, 0, sizeof c);
        assert_int_equal(jn_store_account_tx(f->s, acct, 0, UINT32_MAX, false, true, cs, ci - 1,
                                             1, collect, &c, NULL, NULL, NULL),
                         0);
        assert_int_equal(c.n, 1);
        assert_int_equal(c.seq[0], ps);
        assert_int_equal(c.index[0], pi);
        gaps += ps != cs || pi != ci - 1;
    }
    assert_true(gaps > 0); /* some markers really fell between entries */

    /* A non-zero callback result stops the walk and is returned. */
    memset(&c, 0, sizeof c);
    c.stop_after = 3;
    bool more = true;
    assert_int_equal(jn_store_account_tx(f->s, acct, 0, UINT32_MAX, false, false, 0, 0, 0,
                                         collect, &c, &more, NULL, NULL),
                     5);
    assert_int_equal(c.n, 3);
    assert_false(more);
}

static void account_tx_pages(void **state)
{
    fix *f = *state;
    static history hist;
    build_history(f, &hist);
    static uint32_t es[1024], ei[1024];
    static seen page, all;

    const uint32_t bounds[][2] = {{0, UINT32_MAX}, {3, 11}, {6, 8}};
    const unsigned limits[] = {1, 2, 3, 5, 7, 1000};
    for (int a = 0; a < NACCT; a++) {
        uint8_t acct[20];
        account(acct, a);
        for (size_t bi = 0; bi < 3; bi++) {
            for (size_t li = 0; li < sizeof limits / sizeof limits[0]; li++) {
                for (int fw = 0; fw < 2; fw++) {
                    uint32_t lo = bounds[bi][0], hi = bounds[bi][1];
                    unsigned limit = limits[li];
                    size_t n = expect(&hist, a, lo, hi, fw, es, ei);
                    memset(&all, 0, sizeof all);
                    bool has = false, more;
                    uint32_t ms = 0, mi = 0;
                    size_t pages = 0;
                    do {
                        memset(&page, 0, sizeof page);
                        assert_int_equal(jn_store_account_tx(f->s, acct, lo, hi, fw, has, ms, mi,
                                                             limit, collect, &page, &more, &ms,
                                                             &mi),
                                         0);
                        assert_true(page.n <= limit);
                        if (more) {
                            assert_int_equal(page.n, limit);
                            has = true;
                        }
                        for (size_t i = 0; i < page.n; i++) {
                            all.seq[all.n] = page.seq[i];
                            all.index[all.n] = page.index[i];
                            all.n++;
                        }
                        pages++;
                        assert_true(pages <= n + 1);
                    } while (more);
                    /* Every entry exactly once, in order, in ceil(n/limit)
                     * pages (one empty page when there is nothing). */
                    assert_walk(&all, es, ei, n);
                    size_t want_pages = n == 0 ? 1 : (n + limit - 1) / limit;
                    assert_int_equal(pages, want_pages);
                }
            }
        }
    }
}

static void meta_values(void **state)
{
    fix *f = *state;
    jn_batch *b;
    uint64_t burned = 123456789;
    assert_int_equal(jn_store_begin(f->s, &b), 0);
    assert_int_equal(jn_batch_put_meta(b, "burned", &burned, sizeof burned), 0);
    assert_int_equal(jn_batch_put_meta(b, "config", "{\"fee\":10}", 10), 0);
    assert_int_equal(jn_batch_put_meta(b, "empty", "", 0), 0);
    assert_int_equal(jn_store_commit(b), 0);

    uint64_t got = 0;
    size_t len = 0;
    assert_int_equal(jn_store_get_meta(f->s, "burned", &got, sizeof got, &len), 0);
    assert_int_equal(len, 8);
    assert_true(got == burned);
    char buf[32];
    assert_int_equal(jn_store_get_meta(f->s, "config", buf, 4, &len), -1);
    assert_int_equal(len, 10);
    assert_int_equal(jn_store_get_meta(f->s, "config", buf, sizeof buf, &len), 0);
    assert_memory_equal(buf, "{\"fee\":10}", 10);
    assert_int_equal(jn_store_get_meta(f->s, "empty", buf, sizeof buf, &len), 0);
    assert_int_equal(len, 0);
    assert_int_equal(jn_store_get_meta(f->s, "absent", buf, sizeof buf, &len), 1);
    assert_int_equal(jn_store_get_meta(f->s, "", buf, sizeof buf, &len), -1);

    burned = 1;
    assert_int_equal(jn_store_begin(f->s, &b), 0);
    assert_int_equal(jn_batch_put_meta(b, "burned", &burned, sizeof burned), 0);
    assert_int_equal(jn_store_commit(b), 0);
    assert_int_equal(jn_store_get_meta(f->s, "burned", &got, sizeof got, &len), 0);
    assert_true(got == 1);
}

/* Writes raw bytes into one table behind the store's back. */
static void poke(fix *f, const char *table, const void *key, size_t klen, const void *val,
                 size_t vlen)
{
    jn_store_close(f->s);
    f->s = NULL;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
    assert_int_equal(mdb_env_open(env, f->dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, table, 0, &dbi), 0);
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    reopen(f, 0);
}

static void corrupt_records(void **state)
{
    fix *f = *state;
    jn_batch *b;
    jn_header h1, h2, h;
    mkheader(&h1, 1, 0);
    mkheader(&h2, 2, 0);
    assert_int_equal(jn_store_begin(f->s, &b), 0);
    assert_int_equal(jn_batch_put_header(b, &h1), 0);
    assert_int_equal(jn_batch_put_header(b, &h2), 0);
    put_tx(b, 2, 0);
    assert_int_equal(jn_store_commit(b), 0);

    uint8_t key[4] = {0, 0, 0, 2}, rec[200];
    memset(rec, 0, sizeof rec);
    rec[0] = 2; /* a version this build does not know */
    poke(f, "headers", key, 4, rec, 155);
    assert_int_equal(jn_store_header_by_seq(f->s, 2, &h), -1);
    assert_non_null(strstr(jn_store_errmsg(f->s), "header 2"));
    assert_non_null(strstr(jn_store_errmsg(f->s), "version 2"));
    assert_int_equal(jn_store_last_header(f->s, &h), -1);
    assert_int_equal(jn_store_header_by_hash(f->s, h2.hash, &h), -1);
    assert_int_equal(jn_store_header_by_seq(f->s, 1, &h), 0);
    assert_header_equal(&h, &h1);

    rec[0] = 1; /* right version, wrong size */
    poke(f, "headers", key, 4, rec, 154);
    assert_int_equal(jn_store_header_by_seq(f->s, 2, &h), -1);
    assert_non_null(strstr(jn_store_errmsg(f->s), "154 bytes"));
    poke(f, "headers", key, 4, rec, 0);
    assert_int_equal(jn_store_header_by_seq(f->s, 2, &h), -1);
    assert_non_null(strstr(jn_store_errmsg(f->s), "empty"));

    /* Well-formed, but filed under the wrong ledger. */
    rec[4] = 3;
    poke(f, "headers", key, 4, rec, 155);
    assert_int_equal(jn_store_header_by_seq(f->s, 2, &h), -1);
    assert_non_null(strstr(jn_store_errmsg(f->s), "holds ledger 3"));

    /* A transaction record whose blob length overruns it. */
    uint8_t id[32], bad[40] = {0}, txkey[8] = {0, 0, 0, 2, 0, 0, 0, 0};
    mkid(id, 9, 2 * 1000);
    memcpy(bad, id, 32);
    bad[35] = 9;
    poke(f, "tx", txkey, 8, bad, sizeof bad);
    seen c = {0};
    assert_int_equal(jn_store_get_tx(f->s, id, collect, &c), -1);
    assert_non_null(strstr(jn_store_errmsg(f->s), "overruns"));
    assert_int_equal(jn_store_ledger_txs(f->s, 2, collect, &c), -1);
    assert_int_equal(c.n, 0);
}

/* A store in another table layout is refused at open, naming both formats,
 * and left as it was. */
static void other_format_refused(void **state)
{
    fix *f = *state;
    jn_store_close(f->s);
    f->s = NULL;
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s/old", f->tmp);
    assert_int_equal(mkdir(tmp, 0700), 0);

    /* Format 1: transactions keyed by ID in "txs", no "format" value. */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
    assert_int_equal(mdb_env_open(env, tmp, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "txs", MDB_CREATE, &dbi), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", MDB_CREATE, &dbi), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    jn_store *s = NULL;
    char err[512];
    assert_int_equal(jn_store_open(tmp, 0, &s, err, sizeof err), -1);
    assert_null(s);
    assert_non_null(strstr(err, "store format 1"));
    assert_non_null(strstr(err, "reads format 2"));

    /* A later format, by its "format" value. */
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
    assert_int_equal(mdb_env_open(env, tmp, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    uint8_t three[4] = {0, 0, 0, 3};
    MDB_val k = {6, (void *)"format"}, v = {4, three};
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    assert_int_equal(jn_store_open(tmp, 0, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "store format 3"));

    /* The store of this fixture, new in this format, still opens. */
    reopen(f, 0);
    size_t len = 0;
    uint8_t got[4];
    assert_int_equal(jn_store_get_meta(f->s, "format", got, sizeof got, &len), 0);
    assert_int_equal(len, 4);
    assert_int_equal(got[3], 2);
}

/* A store has one user at a time: a second open of the same directory,
 * from another handle, is refused until the first is closed (the lock that
 * keeps a second jt-node from writing headers the first one wrote). */
static void second_open_refused(void **state)
{
    fix *f = *state;
    jn_store *other = NULL;
    char err[512] = "";
    assert_int_equal(jn_store_open(f->dir, 0, &other, err, sizeof err), -1);
    assert_null(other);
    assert_non_null(strstr(err, "it is open in another process"));
    assert_non_null(strstr(err, f->dir));
    jn_store_close(f->s);
    f->s = NULL;
    assert_int_equal(jn_store_open(f->dir, 0, &other, err, sizeof err), 0);
    f->s = other;
}

/* Readers on several threads while ledgers are committed. */
typedef struct reader {
    fix *f;
    pthread_barrier_t *failed, *asked; /* orders the failures across threads */
    int failures;
    char err[128];
} reader;

static int count_cb(void *ctx, const jn_txrec *t)
{
    (void)t;
    (*(size_t *)ctx)++;
    return 0;
}

static void *reader_main(void *arg)
{
    reader *r = arg;
    jn_store *s = r->f->s;
    uint8_t acct[20];
    memset(acct, 0x33, sizeof acct);
    for (int i = 0; i < 400; i++) {
        jn_header h;
        size_t n = 0;
        int rc = jn_store_last_header(s, &h);
        if (rc < 0)
            r->failures++;
        if (rc == 0 && jn_store_ledger_txs(s, h.seq, count_cb, &n) != 0)
            r->failures++;
        if (jn_store_account_tx(s, acct, 0, UINT32_MAX, false, false, 0, 0, 5, count_cb, &n,
                                NULL, NULL, NULL) != 0)
            r->failures++;
    }
    /* This thread's failure stays its own message even after another
     * thread has failed later. */
    char buf[4];
    size_t len;
    if (jn_store_get_meta(s, "", buf, sizeof buf, &len) != -1)
        r->failures++;
    pthread_barrier_wait(r->failed);
    pthread_barrier_wait(r->asked);
    snprintf(r->err, sizeof r->err, "%s", jn_store_errmsg(s));
    return NULL;
}

static void *errmsg_main(void *arg)
{
    reader *r = arg;
    snprintf(r->err, sizeof r->err, "%s", jn_store_errmsg(r->f->s));
    return NULL;
}

static void concurrent_readers(void **state)
{
    fix *f = *state;
    reader rs[3];
    pthread_t th[3];
    pthread_barrier_t failed, asked;
    assert_int_equal(pthread_barrier_init(&failed, NULL, 4), 0);
    assert_int_equal(pthread_barrier_init(&asked, NULL, 4), 0);
    for (int i = 0; i < 3; i++) {
        rs[i] = (reader){.f = f, .failed = &failed, .asked = &asked};
        assert_int_equal(pthread_create(&th[i], NULL, reader_main, &rs[i]), 0);
    }
    uint8_t acct[20];
    memset(acct, 0x33, sizeof acct);
    for (uint32_t seq = 1; seq <= 20; seq++) {
        jn_batch *b;
        assert_int_equal(jn_store_begin(f->s, &b), 0);
        for (uint32_t i = 0; i < 20; i++) {
            put_tx(b, seq, i);
            uint8_t id[32];
            mkid(id, 9, seq * 1000 + i);
            assert_int_equal(jn_batch_put_account_tx(b, acct, seq, i, id), 0);
        }
        jn_header h;
        mkheader(&h, seq, 0);
        assert_int_equal(jn_batch_put_header(b, &h), 0);
        assert_int_equal(jn_store_commit(b), 0);
    }
    char buf[4];
    size_t len;
    assert_int_equal(jn_store_get_meta(f->s, "absent-here", buf, sizeof buf, &len), 1);
    pthread_barrier_wait(&failed); /* every reader has failed */
    jn_batch *b;
    assert_int_equal(jn_store_begin(f->s, &b), 0);
    assert_int_equal(jn_batch_put_meta(b, "", "x", 1), -1);
    jn_store_abort(b);
    pthread_barrier_wait(&asked);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(rs[i].failures, 0);
        assert_non_null(strstr(rs[i].err, "get meta: key is 0 bytes"));
    }
    assert_non_null(strstr(jn_store_errmsg(f->s), "put meta: key is 0 bytes"));
    pthread_barrier_destroy(&failed);
    pthread_barrier_destroy(&asked);

    /* A thread with no failure of its own sees the store's latest. */
    reader q = {.f = f};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, errmsg_main, &q), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_non_null(strstr(q.err, "put meta: key is 0 bytes"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(open_close_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(batch_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(abort_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(map_full_fails_cleanly, setup, teardown),
        cmocka_unit_test_setup_teardown(write_error_text, setup, teardown),
        cmocka_unit_test_setup_teardown(headers, setup, teardown),
        cmocka_unit_test_setup_teardown(state_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(txid_in_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(account_tx_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(account_tx_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(meta_values, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_records, setup, teardown),
        cmocka_unit_test_setup_teardown(other_format_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(second_open_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_readers, setup, teardown),
    };
    return cmocka_run_group_tests_name("jn_store", tests, NULL, NULL);
}
