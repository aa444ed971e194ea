/*
 * rpc.h — jt-node's command dispatcher: one table of commands shared by the
 * WebSocket and jtp transports (PROTOCOL.md §6), subscriptions and the
 * pushed stream messages.
 *
 * A jn_client is one connected peer as the dispatcher sees it: how to send
 * to it, whether it is admin, and what it subscribed to. The network layer
 * creates one per connection; the fuzz target creates its own.
 * Everything runs on the loop thread, except signature checks when
 * jn_rpc_start_verifiers gave them worker threads: then a submit is decoded
 * on the loop, checked on a worker, and applied back on the loop, in the
 * order the requests arrived (a client's later requests wait for its
 * earlier submits).
 */
#ifndef JN_RPC_H
#define JN_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "closer.h"
#include "ledger.h"

typedef struct jn_rpc jn_rpc;
typedef struct jn_client jn_client;

/* push: a stream message or an update the client did not just ask for,
 * rather than a reply to one of its requests (the transport may slow a
 * client's requests down, never its streams). */
typedef void (*jn_send_fn)(void *sctx, const char *msg, size_t len, bool push);

typedef struct jn_rpc_config {
    uint8_t node_pk[32];  /* ed25519: reported as pubkey_node (ED‖pk, n… form) */
    const char *hostid;   /* "jt-node" */
    const char *version;  /* build_version */
    /* The close lifecycle (required): ledger_accept closes through it, and
     * the dispatcher becomes its announcer (ledgerClosed and the
     * transaction streams) until jn_rpc_free. */
    jn_closer *closer;
    /* Order books subscribed to (subscribe's books; each direction counts
     * one), per connection and across all connections; 0: the defaults,
     * JN_RPC_MAX_BOOKS_PER_CONN and JN_RPC_MAX_BOOKS. */
    unsigned max_books_per_conn, max_books;
    /* Accounts subscribed to (subscribe's accounts and accounts_proposed
     * together; an account in both counts two), per connection and across
     * all connections; 0: JN_RPC_MAX_ACCOUNTS_PER_CONN and
     * JN_RPC_MAX_ACCOUNTS. */
    unsigned max_accounts_per_conn, max_accounts;
    /* path_find requests open across all connections (one per connection,
     * as skywelld); the path finder's bounds per request (pathfind.h); the
     * time all updates may take after one close. 0: the defaults. */
    unsigned max_paths;
    unsigned path_max_nodes, path_max_calcs, path_max_ms;
    unsigned path_close_ms;
    /* Request budgets (units of about 10 µs of the loop; see rpc_budget.c):
     * per connection and per peer address, a rate per second and a burst.
     * 0: the defaults below (bursts: twice the rate). */
    unsigned budget_per_sec, budget_burst;
    unsigned addr_budget_per_sec, addr_budget_burst;
    /* `stop` (admin): asks the node to shut down, once the reply is out;
     * NULL: `stop` is refused. */
    void (*stop)(void *ctx);
    void *stop_ctx;
} jn_rpc_config;

#define JN_RPC_BUDGET      20000 /* a fifth of the loop per connection (bursts of twice that) */
#define JN_RPC_ADDR_BUDGET 50000 /* half of it per address */
#define JN_RPC_MAX_BOOKS_PER_CONN 20
#define JN_RPC_MAX_BOOKS          5000
#define JN_RPC_MAX_ACCOUNTS_PER_CONN 1000
#define JN_RPC_MAX_ACCOUNTS       100000
#define JN_RPC_MAX_PATHS          200
#define JN_RPC_PATH_CLOSE_MS      1000

/* NULL when out of memory or cfg->closer is NULL. */
jn_rpc *jn_rpc_new(jn_ledger *L, const jn_rpc_config *cfg);
void jn_rpc_free(jn_rpc *r);

/* A peer; `send` delivers one message to it. */
/* addr: the peer's address in 16 bytes (IPv4 as ::ffff:a.b.c.d), whose
 * connections share a request budget; NULL: none. */
jn_client *jn_rpc_client_new(jn_rpc *r, jn_send_fn send, void *sctx, bool admin,
                             const uint8_t addr[16]);
void jn_rpc_client_free(jn_rpc *r, jn_client *c); /* accepts NULL */
/* Does c hold something a silent connection is kept open for: streams,
 * accounts or books subscribed, a path_find request, requests queued? */
bool jn_rpc_client_holds(const jn_rpc *r, const jn_client *c);

/* Handles one request text from c; replies through c's send. */
void jn_rpc_request(jn_rpc *r, jn_client *c, const char *msg, size_t len, bool over_rate);

/* Moves signature checks to `threads` worker threads (0: keep them inline).
 * `post(pctx, cb, ctx)` must run cb(ctx) on the loop thread soon; it is
 * called from the workers. -1 when the threads cannot be started. */
int jn_rpc_start_verifiers(jn_rpc *r, unsigned threads,
                           int (*post)(void *pctx, void (*cb)(void *ctx), void *ctx), void *post_ctx);
/* A one-shot timer on the loop (`after(actx, us, cb, ctx)` runs cb(ctx)
 * on the loop thread `us` microseconds later; 0 or -1), with which a busy
 * ledger's announcement is spread over part of the close interval
 * (close_ms; 0 when closes are only asked for). Without it the slices follow
 * each other at once. */
void jn_rpc_set_after(jn_rpc *r, int (*after)(void *actx, unsigned us, void (*cb)(void *ctx), void *ctx),
                      void *after_ctx, unsigned close_ms);
/* Stops the workers (before the loop's post goes away): finished checks are
 * applied, the rest dropped. jn_rpc_free does it too. */
void jn_rpc_stop_verifiers(jn_rpc *r);

#endif
