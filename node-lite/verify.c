/* verify.c — signature checks on worker threads (see verify.h). */
#define _GNU_SOURCE 1
#include "verify.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Workers run at a lower priority than the loop and the ledger writer:
 * checks are throughput work, while a loop or a write that waits for a core
 * delays every reply and every announced ledger. They are also SCHED_BATCH:
 * a worker woken for new jobs does not preempt the thread on its core, it
 * waits for the end of that thread's slice. On 2 cores, 4 busy threads
 * otherwise preempt each other thousands of times a second, each switch
 * leaving a cold cache behind (node payments/s over the verify ceiling:
 * 0.490 against 0.468, mean of four runs each; offers 0.289 against 0.266). */
#define WORKER_NICE 5

/* Parsed keys kept per worker: enough for the busiest accounts of a node. */
#define KEY_CACHE_ENTRIES 65536u
#define MAX_THREADS       16u

/* Finished checks are reported to the loop in batches: every REPORT_BATCH
 * results, and always when the queue has run dry, so the last result of a
 * burst is never left waiting. Each report wakes the loop thread, which then
 * preempts a worker; one wake-up per result cost the node a context switch
 * per payment on each side. 48 rather than 16: fewer wake-ups of the loop,
 * and the replies leave in larger bursts, which a pipelining client reads
 * with fewer system calls (payments/s over the verify ceiling 0.536 against
 * 0.509, mean of four alternating runs; the benchmark's own CPU 14 % of a
 * core against 17 %; crossing offers unchanged). A result waits for at most
 * 47 others, about a millisecond at full load, and never when the queue is
 * short. */
#define REPORT_BATCH 48u

/* Jobs a worker takes at once (fewer when the queue is short, so the other
 * workers get their share). Measured on a 2-core machine: a check costs
 * ~16 % more with 16 MB of other memory traffic between checks, ~6 % more
 * when 16 checks run back to back in between. */
#define TAKE_MAX 8u

struct jn_verifier {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    jn_vjob *head, *tail;
    unsigned queued; /* jobs in the queue; under mu */
    bool stopping;
    unsigned unreported; /* results since the last report; under mu */
    void (*done)(void *ctx);
    void *ctx;
    unsigned n_threads;
    pthread_t threads[MAX_THREADS];
};

static void *worker(void *arg)
{
    jn_verifier *v = arg;
    /* Linux: the thread's own policy and nice value, best effort (without
     * them the node only runs slower). */
    struct sched_param sp = {0};
    (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WORKER_NICE);
    (void)pthread_setname_np(pthread_self(), "jt-verify");
    jt_key_cache *cache = jt_key_cache_new(KEY_CACHE_ENTRIES); /* NULL: no caching */
    pthread_mutex_lock(&v->mu);
    for (;;) {
        while (!v->head && !v->stopping)
            pthread_cond_wait(&v->cv, &v->mu);
        if (v->stopping)
            break;
        /* Its share of the queue, at least one and at most TAKE_MAX. */
        unsigned take = (v->queued + v->n_threads - 1) / v->n_threads;
        if (take > TAKE_MAX)
            take = TAKE_MAX;
        jn_vjob *batch[TAKE_MAX];
        unsigned n = 0;
        while (n < take && v->head) {
            batch[n++] = v->head;
            v->head = v->head->wnext;
            v->queued--;
        }
        if (!v->head)
            v->tail = NULL;
        pthread_mutex_unlock(&v->mu);

        for (unsigned i = 0; i < n; i++) {
            jn_vjob *j = batch[i];
            jt_errinfo_clear(&j->ei);
            j->skip = j->prepare && !j->prepare(j);
        }
        for (unsigned i = 0; i < n; i++)
            if (!batch[i]->skip)
                batch[i]->err = jt_tx_verify_cached(batch[i]->tx, cache, &batch[i]->ei);
        for (unsigned i = 0; i < n; i++) {
            jn_vjob *j = batch[i];
            if (!j->skip && j->err == JT_OK && j->finish)
                j->finish(j);
            atomic_store(&j->done, true);
        }

        pthread_mutex_lock(&v->mu);
        v->unreported += n;
        if (v->unreported >= REPORT_BATCH || !v->head) {
            v->unreported = 0;
            pthread_mutex_unlock(&v->mu);
            v->done(v->ctx);
            pthread_mutex_lock(&v->mu);
        }
    }
    pthread_mutex_unlock(&v->mu);
    jt_key_cache_free(cache);
    return NULL;
}

jn_verifier *jn_verifier_new(unsigned threads, void (*done)(void *ctx), void *ctx)
{
    if (threads < 1 || threads > MAX_THREADS || !done)
        return NULL;
    jn_verifier *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    pthread_mutex_init(&v->mu, NULL);
    pthread_cond_init(&v->cv, NULL);
    v->done = done;
    v->ctx = ctx;
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&v->threads[i], NULL, worker, v)) {
            jn_verifier_free(v);
            return NULL;
        }
        v->n_threads++;
    }
    return v;
}

void jn_verifier_push(jn_verifier *v, jn_vjob *job)
{
    atomic_store(&job->done, false);
    job->wnext = NULL;
    pthread_mutex_lock(&v->mu);
    if (v->tail)
        v->tail->wnext = job;
    else
        v->head = job;
    v->tail = job;
    v->queued++;
    pthread_cond_signal(&v->cv);
    pthread_mutex_unlock(&v->mu);
}

void jn_verifier_free(jn_verifier *v)
{
    if (!v)
        return;
    pthread_mutex_lock(&v->mu);
    v->stopping = true;
    pthread_cond_broadcast(&v->cv);
    pthread_mutex_unlock(&v->mu);
    for (unsigned i = 0; i < v->n_threads; i++)
        pthread_join(v->threads[i], NULL);
    pthread_cond_destroy(&v->cv);
    pthread_mutex_destroy(&v->mu);
    free(v);
}
