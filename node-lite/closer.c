/*
 * closer.c — the close lifecycle (see closer.h).
 */
#include "closer.h"

#include <stdlib.h>
#include <time.h>

struct jn_closer {
    jn_ledger *L;
    jn_closer_announce_fn announce;
    void *announce_ctx;
    void (*fatal)(void *ctx, const char *err);
    void *fatal_ctx;
    int (*post)(void *pctx, void (*cb)(void *ctx), void *ctx);
    void *post_ctx;
    bool due; /* the timer fired while the previous ledger was still being written */
    bool failed; /* `fatal` was told: it is told once */
    void (*idle)(void *ctx, bool idle);
    void *idle_ctx;
    unsigned idle_after, empty; /* empty: empty ledgers closed in a row */
};

uint32_t jn_now(void)
{
    time_t t = time(NULL);
    return t > JT_EPOCH_OFFSET ? (uint32_t)(t - JT_EPOCH_OFFSET) : 0;
}

jn_closer *jn_closer_new(jn_ledger *L, void (*fatal)(void *ctx, const char *err), void *fatal_ctx)
{
    jn_closer *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->L = L;
    k->fatal = fatal;
    k->fatal_ctx = fatal_ctx;
    return k;
}

void jn_closer_free(jn_closer *k)
{
    free(k);
}

void jn_closer_set_announce(jn_closer *k, jn_closer_announce_fn fn, void *ctx)
{
    k->announce = fn;
    k->announce_ctx = ctx;
}

void jn_closer_set_idle(jn_closer *k, unsigned after, void (*fn)(void *ctx, bool idle), void *ctx)
{
    k->idle = fn;
    k->idle_ctx = ctx;
    k->idle_after = after;
}

static void fatal(jn_closer *k, const char *err)
{
    if (k->failed)
        return;
    k->failed = true;
    if (k->fatal)
        k->fatal(k->fatal_ctx, err);
}

/* Finishes the ledger being written, if its write is done (or, with
 * `wait`, once it is), and announces it. */
static int finish(jn_closer *k, bool wait, char *err, size_t errcap)
{
    if (wait)
        jn_ledger_close_wait(k->L);
    const jn_txlist *closed;
    int rc = jn_ledger_close_finish(k->L, &closed, err, errcap);
    if (rc < 0)
        return -1;
    if (rc != 0)
        return 0;
    if (k->announce)
        k->announce(k->announce_ctx, closed);
    k->empty = closed->n ? 0 : k->empty + 1;
    if (k->idle)
        k->idle(k->idle_ctx, k->empty == k->idle_after);
    return 0;
}

int jn_closer_close(jn_closer *k, bool wait, char *err, size_t errcap)
{
    /* One ledger is written at a time: the previous one first. */
    if (finish(k, true, err, errcap) || jn_ledger_close_begin(k->L, jn_now(), err, errcap) ||
        finish(k, wait, err, errcap)) {
        /* Whoever asked (the timer, ledger_accept), the node stops: a
         * ledger that could not be written is never retried. */
        fatal(k, err);
        return -1;
    }
    return 0;
}

void jn_closer_tick(void *ctx)
{
    jn_closer *k = ctx;
    char err[1024];
    /* The loop does not wait for the writer: the close follows as soon as
     * the previous ledger is durable (on_durable). */
    if (jn_ledger_busy(k->L)) {
        k->due = true;
        return;
    }
    (void)jn_closer_close(k, false, err, sizeof err); /* a failure went to `fatal` */
}

/* On the loop: a ledger write finished. */
static void on_durable(void *ctx)
{
    jn_closer *k = ctx;
    char err[1024];
    if (finish(k, false, err, sizeof err)) {
        fatal(k, err);
        return;
    }
    if (k->due && !jn_ledger_busy(k->L)) {
        k->due = false;
        jn_closer_tick(k);
    }
}

/* On the writer thread, after each write. */
static void on_written(void *ctx)
{
    jn_closer *k = ctx;
    (void)k->post(k->post_ctx, on_durable, k);
}

int jn_closer_start_writer(jn_closer *k, int (*post)(void *pctx, void (*cb)(void *ctx), void *ctx),
                           void *post_ctx)
{
    k->post = post;
    k->post_ctx = post_ctx;
    return jn_ledger_start_writer(k->L, on_written, k);
}

int jn_closer_stop(jn_closer *k, char *err, size_t errcap)
{
    /* The ledger being written, if any, becomes durable before we exit. */
    jn_ledger_stop_writer(k->L);
    return finish(k, false, err, errcap);
}
