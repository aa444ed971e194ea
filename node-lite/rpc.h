/*
 * rpc.h — jt-node's command dispatcher: one table of commands shared by the
 * WebSocket and jtp transports (PROTOCOL.md §6), subscriptions and the
 * pushed stream messages.
 *
 * A jn_client is one connected peer as the dispatcher sees it: how to send
 * to it, whether it is admin, and what it subscribed to. The network layer
 * creates one per connection; the fuzz target creates its own.
 * Everything runs on the loop thread.
 */
#ifndef JN_RPC_H
#define JN_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

typedef struct jn_rpc jn_rpc;
typedef struct jn_client jn_client;

typedef void (*jn_send_fn)(void *sctx, const char *msg, size_t len);

typedef struct jn_rpc_config {
    uint8_t node_pk[32];  /* ed25519: reported as pubkey_node (ED‖pk, n… form) */
    const char *hostid;   /* "jt-node" */
    const char *version;  /* build_version */
} jn_rpc_config;

jn_rpc *jn_rpc_new(jn_ledger *L, const jn_rpc_config *cfg);
void jn_rpc_free(jn_rpc *r);

/* A peer; `send` delivers one message to it. */
jn_client *jn_rpc_client_new(jn_rpc *r, jn_send_fn send, void *sctx, bool admin, bool loopback);
void jn_rpc_client_free(jn_rpc *r, jn_client *c); /* accepts NULL */

/* Handles one request text from c; replies through c's send. */
void jn_rpc_request(jn_rpc *r, jn_client *c, const char *msg, size_t len, bool over_rate);

/* Closes the open ledger and publishes it (timer and ledger_accept). -1
 * when the ledger could not be made durable: the node must stop. */
int jn_rpc_close_ledger(jn_rpc *r, char *err, size_t errcap);

/* The current time as a ledger time (seconds since 2000-01-01). */
uint32_t jn_now(void);

#endif
