/*
 * events.h — validated-ledger events: the hub that reads every validated
 * ledger from the node in order, the durable cursor, GET /v2/events
 * (WebSocket push with replay), and the hand-over of account events to
 * the webhooks (webhooks.h).
 *
 * The hub asks the node for ledger `cursor + 1` (transactions expanded)
 * whenever the node has validated past the cursor, builds the ledger's
 * events, and commits in one store batch the webhook deliveries they make
 * and the new cursor (meta "events_cursor"). Only once that batch is
 * durable are the events pushed to WebSocket subscribers and the cursor
 * moved, so after a crash, a restart or a node reconnection the hub
 * starts again from the first ledger not fully queued: every validated
 * transaction makes its deliveries exactly once, and each event keeps its
 * id (see "Event ids").
 *
 * Event ids (stable across restarts and between push, replay and
 * webhooks):
 *   ledger        "<ledger_index>"
 *   transaction   "<ledger_index>:<transaction index>"
 *   account       "<ledger_index>:<transaction index>:<account>"
 *
 * Loop thread only, but for the pure builders at the end (any thread).
 */
#ifndef GW_EVENTS_H
#define GW_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jt/json.h>
#include <jt/util.h>

#include "gateway.h"
#include "memo.h"
#include "srv.h"

typedef struct gw_events gw_events;

int gw_events_new(gw *g, gw_events **out, char *err, size_t errcap);
/* The link's news: a validated ledger index, a (re)connection. */
void gw_events_on_ledger(gw_events *e, uint32_t validated);
void gw_events_on_connected(gw_events *e);
/* Retries what failed (the node busy or away); from the daemon's timer. */
void gw_events_tick(gw_events *e);
/* Nothing more is started; answers still to come are dropped. Before the
 * store closes. */
void gw_events_stop(gw_events *e);
/* After the server core is freed (its connections closed); NULL is fine. */
void gw_events_free(gw_events *e);

/* The srv_net handlers of /v2/events connections (ctx is the gw). */
void gw_events_on_request(void *ctx, srv_conn *c, const char *msg, size_t len, bool over_rate);
void gw_events_on_close(void *ctx, srv_conn *c);
bool gw_events_keep(void *ctx, srv_conn *c);

typedef struct gw_events_stats {
    uint32_t cursor;        /* last ledger whose events are all queued */
    unsigned conns, subs;   /* /v2/events connections (authenticated), subscriptions */
    uint64_t ledgers;       /* ledgers processed */
    uint64_t pushed;        /* event messages sent to WebSocket clients */
    uint64_t replayed;      /* of which from replay */
    uint64_t slow_closed;   /* connections closed because they did not read */
    uint64_t skipped;       /* ledgers the node did not have (events lost) */
} gw_events_stats;

void gw_events_get_stats(const gw_events *e, gw_events_stats *st);

/* ------------------------------------------------------------ builders */

/* The accounts a transaction touches, as the node's account_tx and
 * accounts streams have it: its Account, then every address in the
 * fields of the entries its metadata lists, and the issuers of LowLimit,
 * HighLimit, TakerPays and TakerGets. Returns how many were written
 * (at most cap, without repeats). */
size_t gw_tx_accounts(const jt_json *tx, const jt_json *meta, char (*out)[40], size_t cap);

/* The event of a transaction in ledger `ledger_index` (closed at `date`,
 * seconds since 2000), appended to out as one JSON object:
 * {"event":"transaction"|"account","id",...,"hash","type","tx_type",
 *  "result","ledger_index","tx_index","date","account"?,"counterparty"?,
 *  "amount"?,"delivered_amount"?,"fee","memos"?,"tx","meta"}. `account`
 * NULL makes a "transaction" event (its type seen from the sender).
 * "memos" is written as history writes it (memo.h), sealed ones opened
 * for reader r; r NULL opens none (and any thread may call). -1 when the
 * transaction has no TransactionIndex or out of memory. */
int gw_event_tx(jt_buf *out, const char *account, const jt_json *tx, const jt_json *meta,
                uint32_t ledger_index, uint64_t date, const gw_memo_reader *r);
/* A transaction event as gw_event_tx wrote it (`text`, len bytes), written
 * again into out for reader r: the same bytes but for its "memos", opened
 * as r may. Webhook deliveries are stored sealed (r NULL) and opened this
 * way at each attempt. 1 when the event holds no sealed memo (out
 * untouched: the text stands as it is), 0 when written, -1 when it is not
 * such an event or out of memory. Threads as gw_event_tx. */
int gw_event_reopen(jt_buf *out, const char *text, size_t len, const gw_memo_reader *r);
/* {"event":"ledger","id","ledger_index","ledger_hash","ledger_time","txn_count"}. */
int gw_event_ledger(jt_buf *out, uint32_t index, const char *hash, uint64_t close_time,
                    size_t txn_count);
/* The event id of a transaction event ("L:I" or "L:I:ACCOUNT"). */
int gw_event_id(char *out, size_t cap, uint32_t ledger_index, uint32_t tx_index,
                const char *account);

#endif
