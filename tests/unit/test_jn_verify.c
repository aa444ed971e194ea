/* Signature checks on worker threads (node-lite/verify.c): every job pushed
 * is done once, with the right verdict; `prepare` runs before the check and
 * can skip it, `finish` runs only after a good one; the `done` callback
 * covers every job, whether jobs come one at a time or in a flood that the
 * workers take several at once. */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jt/jt.h>

#include "verify.h"

#define JOBS 300

typedef enum { GOOD, TAMPERED, SKIPPED } kind;

typedef struct tjob {
    jn_vjob vj;
    kind kind;
    jt_obj *tx;
    atomic_int prepared, finished;
} tjob;

static atomic_int g_reports;
/* The most jobs seen done by one report: the last report must see them all,
 * or a result would wait for a report that never comes. */
static atomic_int g_seen_done;
static tjob *g_jobs;
static int g_njobs;

static void on_done(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&g_reports, 1);
    int done = 0;
    for (int i = 0; g_jobs && i < g_njobs; i++)
        done += atomic_load(&g_jobs[i].vj.done);
    int seen = atomic_load(&g_seen_done);
    while (done > seen && !atomic_compare_exchange_weak(&g_seen_done, &seen, done))
        ;
}

static bool t_prepare(jn_vjob *j)
{
    tjob *t = (tjob *)j;
    atomic_fetch_add(&t->prepared, 1);
    if (t->kind == SKIPPED)
        return false;
    j->tx = t->tx;
    return true;
}

static void t_finish(jn_vjob *j)
{
    atomic_fetch_add(&((tjob *)j)->finished, 1);
}

/* A payment signed with `kp`; its Amount is changed after signing when
 * `tamper`, so the signature no longer matches. */
static jt_obj *payment(const jt_keypair *kp, uint32_t seq, bool tamper)
{
    jt_account_id dest, src;
    memset(&dest, 0x42, sizeof dest);
    assert_int_equal(jt_account_id_from_pubkey(kp->pub, sizeof kp->pub, &src), JT_OK);
    jt_obj *tx = jt_obj_new();
    assert_non_null(tx);
    jt_amount amt = {.native = true, .mantissa = 1000000};
    jt_amount fee = {.native = true, .mantissa = 10000};
    assert_int_equal(jt_obj_set_uint(tx, "TransactionType", 0), JT_OK);
    assert_int_equal(jt_obj_set_uint(tx, "Flags", 0), JT_OK);
    assert_int_equal(jt_obj_set_uint(tx, "Sequence", seq), JT_OK);
    assert_int_equal(jt_obj_set_account(tx, "Account", &src), JT_OK);
    assert_int_equal(jt_obj_set_account(tx, "Destination", &dest), JT_OK);
    assert_int_equal(jt_obj_set_amount(tx, "Amount", &amt), JT_OK);
    assert_int_equal(jt_obj_set_amount(tx, "Fee", &fee), JT_OK);
    assert_int_equal(jt_tx_sign(tx, kp, NULL), JT_OK);
    if (tamper) {
        amt.mantissa++;
        assert_int_equal(jt_obj_set_amount(tx, "Amount", &amt), JT_OK);
    }
    return tx;
}

static bool all_done(tjob *jobs, int n)
{
    for (int i = 0; i < n; i++)
        if (!atomic_load(&jobs[i].vj.done))
            return false;
    return true;
}

static void run(unsigned threads, bool flood)
{
    jt_keypair kp;
    assert_int_equal(jt_keypair_from_secret("snoPBjXtMeMyMHUVTgbuqAfg1SUTb", &kp, NULL), JT_OK);
    tjob *jobs = calloc(JOBS, sizeof *jobs);
    assert_non_null(jobs);
    for (int i = 0; i < JOBS; i++) {
        jobs[i].kind = i % 7 == 3 ? TAMPERED : i % 11 == 5 ? SKIPPED : GOOD;
        jobs[i].tx = payment(&kp, (uint32_t)i + 1, jobs[i].kind == TAMPERED);
        jobs[i].vj.prepare = t_prepare;
        jobs[i].vj.finish = t_finish;
    }
    atomic_store(&g_reports, 0);
    atomic_store(&g_seen_done, 0);
    g_jobs = jobs;
    g_njobs = JOBS;
    jn_verifier *v = jn_verifier_new(threads, on_done, NULL);
    assert_non_null(v);
    for (int i = 0; i < JOBS; i++) {
        jn_verifier_push(v, &jobs[i].vj);
        if (!flood && i % 10 == 0)
            usleep(2000); /* a trickle: the queue runs dry in between */
    }
    for (int w = 0; w < 2000 && !all_done(jobs, JOBS); w++)
        usleep(5000);
    assert_true(all_done(jobs, JOBS));
    /* The last report follows the last job's done flag: let it land. */
    for (int w = 0; w < 400 && atomic_load(&g_seen_done) < JOBS; w++)
        usleep(5000);
    int reports = atomic_load(&g_reports);
    jn_verifier_free(v);
    g_jobs = NULL;
    assert_int_equal(atomic_load(&g_seen_done), JOBS);
    for (int i = 0; i < JOBS; i++) {
        tjob *t = &jobs[i];
        assert_int_equal(atomic_load(&t->prepared), 1);
        if (t->kind == GOOD) {
            assert_int_equal(t->vj.err, JT_OK);
            assert_int_equal(atomic_load(&t->finished), 1);
        } else {
            assert_int_equal(atomic_load(&t->finished), 0);
            if (t->kind == TAMPERED)
                assert_int_not_equal(t->vj.err, JT_OK);
        }
        jt_obj_free(t->tx);
    }
    /* Reported in batches, but reported: at least once, at most once a job. */
    assert_true(reports >= 1 && reports <= JOBS);
    free(jobs);
    jt_keypair_clear(&kp);
}

static void test_flood_two_threads(void **state)
{
    (void)state;
    run(2, true);
}

static void test_trickle_two_threads(void **state)
{
    (void)state;
    run(2, false);
}

static void test_flood_one_thread(void **state)
{
    (void)state;
    run(1, true);
}

/* A job without prepare and finish checks `tx` as it was pushed. */
static void test_plain_job(void **state)
{
    (void)state;
    jt_keypair kp;
    assert_int_equal(jt_keypair_from_secret("snoPBjXtMeMyMHUVTgbuqAfg1SUTb", &kp, NULL), JT_OK);
    jn_vjob good = {0}, bad = {0};
    good.tx = payment(&kp, 1, false);
    bad.tx = payment(&kp, 2, true);
    jn_verifier *v = jn_verifier_new(2, on_done, NULL);
    assert_non_null(v);
    jn_verifier_push(v, &good);
    jn_verifier_push(v, &bad);
    for (int w = 0; w < 2000 && !(atomic_load(&good.done) && atomic_load(&bad.done)); w++)
        usleep(1000);
    jn_verifier_free(v);
    assert_true(atomic_load(&good.done) && atomic_load(&bad.done));
    assert_int_equal(good.err, JT_OK);
    assert_int_not_equal(bad.err, JT_OK);
    jt_obj_free((jt_obj *)good.tx);
    jt_obj_free((jt_obj *)bad.tx);
    jt_keypair_clear(&kp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flood_two_threads),
        cmocka_unit_test(test_trickle_two_threads),
        cmocka_unit_test(test_flood_one_thread),
        cmocka_unit_test(test_plain_job),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
