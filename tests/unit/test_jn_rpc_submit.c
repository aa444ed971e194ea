/* The node's loop works in slices. Here the "loop" is the test: the
 * callbacks the node posts to it are kept and run one by one, so the test
 * sees what each turn of the loop does.
 *
 * The submit queue (node-lite/rpc_submit.c) with verify workers: submits
 * are checked on the workers and finished back on the loop in arrival
 * order, a slice at a time. 200 pipelined payments (and an account_info
 * after them), checked before the loop runs: no turn finishes more than one
 * slice, a turn that reaches it asks for another, and every reply comes out,
 * in order, with every payment applied.
 *
 * A closed ledger's announcement (node-lite/rpc_stream.c): 150 payments in
 * one ledger reach an account subscriber a slice per turn, in order; the
 * next close first sends what is left of the ledger before, so no
 * transaction of a ledger comes after the next ledger's ledgerClosed; and
 * ledger_accept answers only after its ledger's last message.
 *
 * With a timer (jn_rpc_set_after), the slices are spread: each next slice
 * waits PUB_GAP_MAX_US, less when a quarter of the close interval would not
 * hold them all. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jt/jt.h>

#include "closer.h"
#include "ledger.h"
#include "rpc.h"

#define PAYMENTS  200
#define SLICE     64 /* DRAIN_SLICE in rpc_submit.c */
#define ANNOUNCED 150
#define PUB_SLICE 64 /* PUB_SLICE in rpc_stream.c */
#define MSGS_MAX  512

static const char *GENESIS = "jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh";
static const char *GENESIS_SECRET = "snoPBjXtMeMyMHUVTgbuqAfg1SUTb";

/* Callbacks posted to the "loop", run by the test. */
typedef struct post {
    void (*cb)(void *ctx);
    void *ctx;
} post;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static post g_posts[1024];
static int g_nposts;

static int post_cb(void *pctx, void (*cb)(void *ctx), void *ctx)
{
    (void)pctx;
    pthread_mutex_lock(&g_mu);
    int rc = g_nposts < 1024 ? 0 : -1;
    if (!rc)
        g_posts[g_nposts++] = (post){cb, ctx};
    pthread_mutex_unlock(&g_mu);
    return rc;
}

/* Runs the callbacks posted so far (not those they post); how many. */
static int run_posts(void)
{
    pthread_mutex_lock(&g_mu);
    int n = g_nposts;
    post now[1024];
    memcpy(now, g_posts, (size_t)n * sizeof *now);
    g_nposts = 0;
    pthread_mutex_unlock(&g_mu);
    for (int i = 0; i < n; i++)
        now[i].cb(now[i].ctx);
    return n;
}

/* Replies, in the order they were sent. */
static uint64_t g_ids[MSGS_MAX];
static char g_results[MSGS_MAX][32];
static uint32_t g_seq_seen;
static int g_nreplies;

/* Pushed messages, in order: 'L' a ledgerClosed (its ledger in g_push_seq),
 * 'T' a validated transaction (its ledger and its Sequence). */
static char g_push_kind[MSGS_MAX];
static uint32_t g_push_ledger[MSGS_MAX], g_push_seq[MSGS_MAX];
static int g_npush;

static void on_push(const char *msg, size_t len)
{
    jt_json_doc *doc = NULL;
    jt_errinfo ei;
    assert_int_equal(jt_json_parse(msg, len, NULL, &doc, &ei), JT_OK);
    const jt_json *root = jt_json_root(doc);
    const char *type = jt_json_string(jt_json_get(root, "type"));
    assert_non_null(type);
    assert_true(g_npush < MSGS_MAX);
    uint64_t li = 0, seq = 0;
    assert_true(jt_json_uint64(jt_json_get(root, "ledger_index"), false, &li));
    if (!strcmp(type, "ledgerClosed")) {
        g_push_kind[g_npush] = 'L';
    } else {
        assert_string_equal(type, "transaction");
        assert_true(
            jt_json_uint64(jt_json_get(jt_json_get(root, "transaction"), "Sequence"), false, &seq));
        g_push_kind[g_npush] = 'T';
    }
    g_push_ledger[g_npush] = (uint32_t)li;
    g_push_seq[g_npush] = (uint32_t)seq;
    g_npush++;
    jt_json_doc_free(doc);
}

/* The admin connection's replies: how many messages had been pushed by
 * the time of its last reply. */
static int g_npush_at_admin_reply = -1;

static void on_admin_reply(void *ctx, const char *msg, size_t len, bool push)
{
    (void)ctx;
    (void)msg;
    (void)len;
    if (!push)
        g_npush_at_admin_reply = g_npush;
}

static void on_reply(void *ctx, const char *msg, size_t len, bool push)
{
    (void)ctx;
    if (push) {
        on_push(msg, len);
        return;
    }
    jt_json_doc *doc = NULL;
    jt_errinfo ei;
    assert_int_equal(jt_json_parse(msg, len, NULL, &doc, &ei), JT_OK);
    const jt_json *root = jt_json_root(doc);
    uint64_t id = 0;
    assert_true(jt_json_uint64(jt_json_get(root, "id"), false, &id));
    assert_true(g_nreplies < MSGS_MAX);
    g_ids[g_nreplies] = id;
    const jt_json *res = jt_json_get(root, "result");
    const char *er = jt_json_string(jt_json_get(res, "engine_result"));
    snprintf(g_results[g_nreplies], sizeof g_results[0], "%s", er ? er : "-");
    uint64_t seq = 0;
    if (jt_json_uint64(jt_json_get(jt_json_get(res, "account_data"), "Sequence"), false, &seq))
        g_seq_seen = (uint32_t)seq;
    g_nreplies++;
    jt_json_doc_free(doc);
}

/* A destination: any account (created by the first payment to it). */
static void dest_address(uint8_t fill, char out[JT_ADDRESS_MAX])
{
    jt_account_id id;
    memset(id.bytes, fill, sizeof id.bytes);
    assert_int_equal(jt_address_encode(&id, out), JT_OK);
}

/* Signs payment number `seq` from genesis and submits it as request `id`. */
static void submit_payment(jn_rpc *rpc, jn_client *c, const jt_keypair *kp, const char *dest,
                           int seq, int id)
{
    jt_errinfo ei;
    char json[400];
    int jl = snprintf(json, sizeof json,
                      "{\"TransactionType\":\"Payment\",\"Flags\":0,\"Sequence\":%d,"
                      "\"Account\":\"%s\",\"Destination\":\"%s\",\"Amount\":\"%d\","
                      "\"Fee\":\"10000\"}",
                      seq, GENESIS, dest, 30000000 + seq);
    jt_obj *tx = NULL;
    assert_int_equal(jt_obj_from_json(json, (size_t)jl, &tx, &ei), JT_OK);
    assert_int_equal(jt_tx_sign(tx, kp, &ei), JT_OK);
    jt_buf blob;
    jt_buf_init(&blob);
    assert_int_equal(jt_obj_to_binary(tx, 0, &blob), JT_OK);
    char *hex = malloc(2 * blob.len + 1);
    assert_non_null(hex);
    assert_int_equal(jt_hex_encode(blob.data, blob.len, hex, 2 * blob.len + 1), JT_OK);
    size_t cap = 2 * blob.len + 128;
    char *req = malloc(cap);
    assert_non_null(req);
    int n = snprintf(req, cap, "{\"id\":%d,\"command\":\"submit\",\"tx_blob\":\"%s\"}", id, hex);
    jn_rpc_request(rpc, c, req, (size_t)n, false);
    free(req);
    free(hex);
    jt_buf_clear(&blob);
    jt_obj_free(tx);
}

/* A genesis ledger in a scratch directory, its closer, and the node's RPC
 * layer with two verify workers posting to the test's "loop". */
typedef struct fx {
    char dir[64];
    jn_store *st;
    jn_ledger *L;
    jn_closer *closer;
    jn_rpc *rpc;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/jt-test-rpc-submit-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char err[256];
    jn_params p;
    jn_params_init(&p);
    jt_account_id genesis;
    jt_errinfo ei;
    assert_int_equal(jn_store_open(f->dir, 1u << 30, &f->st, err, sizeof err), 0);
    assert_int_equal(jt_address_decode(GENESIS, &genesis, &ei), JT_OK);
    assert_int_equal(jn_ledger_genesis(f->st, &p, &genesis, 600000000, err, sizeof err), 0);
    assert_int_equal(jn_ledger_load(f->st, &p, &f->L, err, sizeof err), 0);
    f->closer = jn_closer_new(f->L, NULL, NULL);
    assert_non_null(f->closer);
    jn_rpc_config cfg = {.hostid = "test", .version = "test", .closer = f->closer};
    f->rpc = jn_rpc_new(f->L, &cfg);
    assert_non_null(f->rpc);
    assert_int_equal(jn_rpc_start_verifiers(f->rpc, 2, post_cb, NULL), 0);
    g_nreplies = 0;
    g_npush = 0;
    g_nposts = 0; /* a failed test's leftovers */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    jn_rpc_free(f->rpc);
    jn_closer_free(f->closer);
    jn_ledger_free(f->L);
    jn_store_close(f->st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Runs the loop's posted callbacks until n replies have come (the verify
 * workers post as they finish: waits between turns with nothing to run). */
static void wait_replies(int n)
{
    for (int turns = 0; g_nreplies < n; turns++) {
        if (run_posts() == 0)
            usleep(1000);
        assert_true(turns < 100000);
    }
}

static void test_slices_in_order(void **state)
{
    fx *f = *state;
    jn_rpc *rpc = f->rpc;
    jt_errinfo ei;
    jn_client *c = jn_rpc_client_new(rpc, on_reply, NULL, false, NULL);
    assert_non_null(c);

    char DEST[JT_ADDRESS_MAX];
    dest_address(0x11, DEST);
    jt_keypair kp;
    assert_int_equal(jt_keypair_from_secret(GENESIS_SECRET, &kp, &ei), JT_OK);
    for (int i = 0; i < PAYMENTS; i++)
        submit_payment(rpc, c, &kp, DEST, i + 1, i + 1);
    char info[160];
    int n = snprintf(info, sizeof info,
                     "{\"id\":%d,\"command\":\"account_info\",\"account\":\"%s\","
                     "\"ledger_index\":\"current\"}",
                     PAYMENTS + 1, GENESIS);
    jn_rpc_request(rpc, c, info, (size_t)n, false);
    jt_keypair_clear(&kp);
    assert_int_equal(g_nreplies, 0); /* nothing is finished off the loop */

    /* Give the workers time to check all 200 (a few milliseconds; a
     * second here): then more than a slice is ready at the first turn. */
    usleep(1000000);

    /* Turn by turn: at most one slice each, and another turn asked for
     * while any ready request is left. When a slow machine has not checked
     * them all by the first turn, the workers' later reports post turns
     * too; either way no turn finishes more than a slice. */
    int turns = 0, full = 0, before = 0;
    while (run_posts() > 0) {
        turns++;
        int now = g_nreplies - before;
        assert_true(now <= SLICE);
        full += now == SLICE;
        before = g_nreplies;
        assert_true(turns < 1000);
    }
    assert_true(full >= 1); /* the slice was reached, and the rest came in later turns */
    assert_true(turns >= (PAYMENTS + 1 + SLICE - 1) / SLICE);
    assert_int_equal(g_nreplies, PAYMENTS + 1);
    for (int i = 0; i < PAYMENTS; i++) {
        assert_int_equal(g_ids[i], (uint64_t)i + 1);
        assert_string_equal(g_results[i], "tesSUCCESS");
    }
    assert_int_equal(g_ids[PAYMENTS], PAYMENTS + 1);
    /* account_info, answered last, sees every payment applied. */
    assert_int_equal(g_seq_seen, PAYMENTS + 1);

    jn_rpc_client_free(rpc, c);
}

static void test_announce_in_slices(void **state)
{
    fx *f = *state;
    jn_rpc *rpc = f->rpc;
    jn_ledger *L = f->L;
    jn_closer *closer = f->closer;
    char err[256];
    jt_errinfo ei;
    jn_client *c = jn_rpc_client_new(rpc, on_reply, NULL, false, NULL);
    assert_non_null(c);
    char sub[200];
    int n = snprintf(sub, sizeof sub,
                     "{\"id\":1,\"command\":\"subscribe\",\"streams\":[\"ledger\"],"
                     "\"accounts\":[\"%s\"]}",
                     GENESIS);
    jn_rpc_request(rpc, c, sub, (size_t)n, false);
    while (run_posts() > 0)
        ;
    assert_int_equal(g_nreplies, 1);
    int first_push = g_npush; /* a subscribe may push nothing; counted from here */

    char DEST[JT_ADDRESS_MAX];
    dest_address(0x22, DEST);
    jt_keypair kp;
    assert_int_equal(jt_keypair_from_secret(GENESIS_SECRET, &kp, &ei), JT_OK);
    for (int i = 0; i < ANNOUNCED; i++)
        submit_payment(rpc, c, &kp, DEST, i + 1, i + 2);
    jt_keypair_clear(&kp);
    wait_replies(ANNOUNCED + 1);
    for (int i = 1; i <= ANNOUNCED; i++)
        assert_string_equal(g_results[i], "tesSUCCESS");
    assert_int_equal(g_npush, first_push);
    uint32_t closed = jn_ledger_last(L)->seq + 1;

    /* The close announces the ledger and the first slice of it. */
    assert_int_equal(jn_closer_close(closer, true, err, sizeof err), 0);
    assert_int_equal(jn_ledger_last(L)->seq, closed);
    int at = first_push;
    assert_int_equal(g_npush - at, 1 + PUB_SLICE);
    assert_int_equal(g_push_kind[at], 'L');
    assert_int_equal(g_push_ledger[at], closed);
    /* One more slice per turn. */
    assert_int_equal(run_posts(), 1);
    assert_int_equal(g_npush - at, 1 + 2 * PUB_SLICE);
    /* The next close comes before the rest is announced: the rest goes
     * first, then the next ledger's ledgerClosed. */
    assert_int_equal(jn_closer_close(closer, true, err, sizeof err), 0);
    assert_int_equal(g_npush - at, 1 + ANNOUNCED + 1);
    while (run_posts() > 0)
        ;
    assert_int_equal(g_npush - at, 1 + ANNOUNCED + 1);
    for (int i = 0; i < ANNOUNCED; i++) {
        assert_int_equal(g_push_kind[at + 1 + i], 'T');
        assert_int_equal(g_push_ledger[at + 1 + i], closed);
        assert_int_equal(g_push_seq[at + 1 + i], (uint32_t)i + 1);
    }
    assert_int_equal(g_push_kind[at + 1 + ANNOUNCED], 'L');
    assert_int_equal(g_push_ledger[at + 1 + ANNOUNCED], closed + 1);

    /* ledger_accept: more than a slice in the ledger, all of it pushed
     * before the reply. */
    assert_int_equal(jt_keypair_from_secret(GENESIS_SECRET, &kp, &ei), JT_OK);
    int more = PUB_SLICE * 3 / 2, before = g_nreplies;
    for (int i = 0; i < more; i++)
        submit_payment(rpc, c, &kp, DEST, ANNOUNCED + 1 + i, 1000 + i);
    jt_keypair_clear(&kp);
    wait_replies(before + more);
    jn_client *admin = jn_rpc_client_new(rpc, on_admin_reply, NULL, true, NULL);
    assert_non_null(admin);
    at = g_npush;
    const char *accept = "{\"id\":7,\"command\":\"ledger_accept\"}";
    jn_rpc_request(rpc, admin, accept, strlen(accept), false);
    assert_int_equal(g_npush - at, 1 + more);
    assert_int_equal(g_npush_at_admin_reply, g_npush);
    assert_int_equal(g_push_seq[g_npush - 1], (uint32_t)(ANNOUNCED + more));
    while (run_posts() > 0)
        ;
    assert_int_equal(g_npush - at, 1 + more);
    jn_rpc_client_free(rpc, admin);

    jn_rpc_client_free(rpc, c);
}

/* The waits asked of the timer; the callbacks go to the posts. */
static unsigned g_after_us[64];
static int g_nafter;

static int after_cb(void *actx, unsigned us, void (*cb)(void *ctx), void *ctx)
{
    (void)actx;
    assert_true(g_nafter < 64);
    g_after_us[g_nafter++] = us;
    return post_cb(NULL, cb, ctx);
}

/* Closes a ledger of n payments with the rpc's close interval close_ms;
 * checks that they are all announced in order, a slice per turn, each
 * next slice after a wait of `gap` microseconds. */
static void announce_spread(fx *f, jn_client *c, unsigned close_ms, int n, unsigned gap,
                            uint32_t *next_seq)
{
    char err[256];
    jt_errinfo ei;
    char DEST[JT_ADDRESS_MAX];
    dest_address(0x44, DEST);
    jt_keypair kp;
    assert_int_equal(jt_keypair_from_secret(GENESIS_SECRET, &kp, &ei), JT_OK);
    int before = g_nreplies;
    for (int i = 0; i < n; i++)
        submit_payment(f->rpc, c, &kp, DEST, *next_seq + (uint32_t)i, 5000 + i);
    jt_keypair_clear(&kp);
    wait_replies(before + n);
    while (run_posts() > 0) /* the submit queue's last turns */
        ;
    jn_rpc_set_after(f->rpc, after_cb, NULL, close_ms);
    g_nafter = 0;
    int at = g_npush;
    assert_int_equal(jn_closer_close(f->closer, true, err, sizeof err), 0);
    int slices = (n + PUB_SLICE - 1) / PUB_SLICE;
    assert_int_equal(g_npush - at, 1 + PUB_SLICE);
    for (int k = 1; k < slices; k++) {
        assert_int_equal(g_nafter, k);
        assert_int_equal(g_after_us[k - 1], gap);
        assert_int_equal(run_posts(), 1);
        int want = (k + 1) * PUB_SLICE < n ? (k + 1) * PUB_SLICE : n;
        assert_int_equal(g_npush - at, 1 + want);
    }
    assert_int_equal(run_posts(), 0);
    assert_int_equal(g_nafter, slices - 1);
    for (int i = 0; i < n; i++) {
        assert_int_equal(g_push_kind[at + 1 + i], 'T');
        assert_int_equal(g_push_seq[at + 1 + i], *next_seq + (uint32_t)i);
    }
    *next_seq += (uint32_t)n;
}

static void test_announce_spread(void **state)
{
    fx *f = *state;
    jn_client *c = jn_rpc_client_new(f->rpc, on_reply, NULL, false, NULL);
    assert_non_null(c);
    const char *sub = "{\"id\":1,\"command\":\"subscribe\",\"streams\":[\"ledger\",\"transactions\"]}";
    jn_rpc_request(f->rpc, c, sub, strlen(sub), false);
    while (run_posts() > 0)
        ;
    assert_int_equal(g_nreplies, 1);
    uint32_t seq = 1;
    /* Three slices in a 1 s interval: 2 ms apart (the most). */
    announce_spread(f, c, 1000, ANNOUNCED, 2000, &seq);
    /* Five slices in a 2 ms interval: the four waits share 500 us. */
    announce_spread(f, c, 2, 4 * PUB_SLICE + 1, 125, &seq);
    /* One slice: no wait at all. */
    announce_spread(f, c, 1000, PUB_SLICE, 0, &seq);
    jn_rpc_client_free(f->rpc, c);
}

static int g_idle_calls, g_close_calls;

static void on_idle(void *ctx, bool idle)
{
    (void)ctx;
    g_idle_calls += idle;
    g_close_calls++;
}

/* The idle hook: told of every close, and that the node is idle once
 * after `after` empty ledgers in a row, not again until a ledger with
 * transactions has closed. */
static void test_idle_after_empty_closes(void **state)
{
    fx *f = *state;
    char err[256];
    jt_errinfo ei;
    g_idle_calls = g_close_calls = 0;
    jn_closer_set_idle(f->closer, 3, on_idle, NULL);
    for (int i = 0; i < 2; i++)
        assert_int_equal(jn_closer_close(f->closer, true, err, sizeof err), 0);
    assert_int_equal(g_idle_calls, 0);
    assert_int_equal(jn_closer_close(f->closer, true, err, sizeof err), 0);
    assert_int_equal(g_idle_calls, 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(jn_closer_close(f->closer, true, err, sizeof err), 0);
    assert_int_equal(g_idle_calls, 1);

    /* A ledger with a payment, then two empty ones: not idle yet. */
    jn_client *c = jn_rpc_client_new(f->rpc, on_reply, NULL, false, NULL);
    assert_non_null(c);
    char DEST[JT_ADDRESS_MAX];
    dest_address(0x33, DEST);
    jt_keypair kp;
    assert_int_equal(jt_keypair_from_secret(GENESIS_SECRET, &kp, &ei), JT_OK);
    submit_payment(f->rpc, c, &kp, DEST, 1, 1);
    jt_keypair_clear(&kp);
    wait_replies(1);
    assert_string_equal(g_results[0], "tesSUCCESS");
    assert_int_equal(jn_closer_close(f->closer, true, err, sizeof err), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(jn_closer_close(f->closer, true, err, sizeof err), 0);
    assert_int_equal(g_idle_calls, 1);
    assert_int_equal(jn_closer_close(f->closer, true, err, sizeof err), 0);
    assert_int_equal(g_idle_calls, 2);
    assert_int_equal(g_close_calls, 2 + 1 + 4 + 1 + 2 + 1); /* told of every close */
    jn_rpc_client_free(f->rpc, c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_slices_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_announce_in_slices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_announce_spread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_after_empty_closes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
