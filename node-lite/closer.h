/*
 * closer.h — the close lifecycle of jt-node's ledgers, in one place: the
 * interval timer's decision, starting a close, finishing it once the writer
 * reports it durable, announcing it, ledger_accept's wait, and shutdown's.
 *
 * A close runs in two steps (jn_ledger_close_begin and _finish, ledger.h):
 * the loop freezes the open ledger and goes on serving the next one while
 * the writer thread applies and commits the closed one; the closer finishes
 * it on the loop when the writer reports the write done, and only then
 * announces it. One ledger is written at a time: a timer tick that comes
 * while the previous ledger is still being written is remembered and acted
 * on as soon as that ledger is durable (the loop never waits for the
 * writer on a tick).
 *
 * Everything runs on the loop thread, except the writer's report, which
 * only posts to the loop.
 */
#ifndef JN_CLOSER_H
#define JN_CLOSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

typedef struct jn_closer jn_closer;

/* Called on the loop for each ledger that has just become durable, with its
 * transactions (owned by the ledger, valid until the next close begins). */
typedef void (*jn_closer_announce_fn)(void *ctx, const jn_txlist *closed);

/* A closer for L (which it does not own). `fatal(ctx, err)` (may be NULL)
 * is told when a close fails (started by the timer or ledger_accept, or
 * finished from the writer's report): nothing of that ledger was announced
 * and the node must stop. NULL when out of memory. */
jn_closer *jn_closer_new(jn_ledger *L, void (*fatal)(void *ctx, const char *err), void *fatal_ctx);
/* Frees k (accepts NULL). Call jn_closer_stop first when the writer was
 * started. */
void jn_closer_free(jn_closer *k);

/* Who announces durable ledgers (the dispatcher's streams); NULL: nobody. */
void jn_closer_set_announce(jn_closer *k, jn_closer_announce_fn fn, void *ctx);

/* `fn(ctx, idle)` is called after every close: with `idle` true when that
 * close was the `after`-th empty ledger in a row, which happens again only
 * after a ledger with transactions (jt-node gives its allocator's free
 * memory back to the system then, and checks whether too much of it has
 * piled up after every close: server/srv_alloc.h). */
void jn_closer_set_idle(jn_closer *k, unsigned after, void (*fn)(void *ctx, bool idle), void *ctx);

/* Starts L's writer thread: from now on closed ledgers are written there.
 * `post(pctx, cb, ctx)` must run cb(ctx) on the loop thread soon; it is
 * called from the writer. Without a writer, closes are written inline.
 * -1 when the thread cannot be started. */
int jn_closer_start_writer(jn_closer *k, int (*post)(void *pctx, void (*cb)(void *ctx), void *ctx),
                           void *post_ctx);

/* The interval timer (a callback for srv_net_set_timer, ctx: the closer):
 * closes the open ledger now, or as soon as the ledger being written is
 * durable. Failures go to `fatal`. */
void jn_closer_tick(void *k);

/* Closes the open ledger now (ledger_accept). A ledger still being written
 * is finished and announced first. The new ledger is announced once
 * durable: before returning when `wait` (or when there is no writer), else
 * when the writer reports it. -1 when a ledger could not be made durable
 * (err says why; `fatal` was told too): the node must stop. */
int jn_closer_close(jn_closer *k, bool wait, char *err, size_t errcap);

/* At shutdown, after the loop stopped: lets a write in progress complete,
 * stops the writer thread, and finishes and announces that ledger. -1 as
 * above. */
int jn_closer_stop(jn_closer *k, char *err, size_t errcap);

/* The current time as a ledger time (seconds since 2000-01-01). */
uint32_t jn_now(void);

#endif
