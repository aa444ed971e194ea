/*
 * verify.h — signature checks off the loop thread.
 *
 * A verification costs about as much as everything else the node does for a
 * payment, so the node runs it on worker threads. The loop thread hands a
 * job (a decoded transaction it will not touch meanwhile) to jn_verifier_push;
 * a worker runs jt_tx_verify_cached with its own cache of parsed public
 * keys, stores the result and marks the job done. A worker takes several
 * queued jobs at once and checks their signatures back to back, with each
 * job's `prepare` before and `finish` after: the curve's precomputed tables
 * (about 1 MB) then stay in cache from one check to the next, where work in
 * between (the loop's, the ledger writer's) would evict them. It calls the `done`
 * callback (on the worker thread; it must only wake the loop) after a batch
 * of results and whenever the queue runs dry, so every finished job is
 * reported, though not one by one. The loop then reads
 * the result; the ordering of results is the caller's business.
 */
#ifndef JN_VERIFY_H
#define JN_VERIFY_H

#include <stdatomic.h>
#include <stdbool.h>

#include <jt/jt.h>

typedef struct jn_vjob {
    struct jn_vjob *wnext; /* the workers' queue */
    /* On a worker, before the check (may be NULL): makes `tx` ready, or
     * returns false when there is nothing to check (its error stored by it). */
    bool (*prepare)(struct jn_vjob *job);
    /* On a worker, after a good check (may be NULL). */
    void (*finish)(struct jn_vjob *job);
    const jt_obj *tx;      /* read by one worker; untouched by the pusher until done */
    jt_err err;            /* JT_OK or why the signature fails */
    jt_errinfo ei;
    bool skip;             /* the worker's: prepare found nothing to check */
    atomic_bool done;
} jn_vjob;

typedef struct jn_verifier jn_verifier;

/* Starts `threads` workers (1..16). `done(ctx)` is called by a worker after
 * a batch of finished jobs and whenever the queue runs dry. NULL on failure (out of memory, no thread). */
jn_verifier *jn_verifier_new(unsigned threads, void (*done)(void *ctx), void *ctx);

/* Queues a job; its `done` flag is cleared here. */
void jn_verifier_push(jn_verifier *v, jn_vjob *job);

/* Stops the workers and waits for them; jobs still queued are left undone. */
void jn_verifier_free(jn_verifier *v); /* accepts NULL */

#endif
