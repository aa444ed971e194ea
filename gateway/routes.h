/*
 * routes.h — the handlers of the route table (http.c). Each takes a call
 * whose authentication, scope, account allow list and JSON body the
 * dispatcher has checked, and answers it with gw_reply or gw_fail.
 */
#ifndef GW_ROUTES_H
#define GW_ROUTES_H

#include <jt/amount.h>

#include "http.h"

/* reads.c: what the node knows. */
void gw_get_info(gw_call *c);
void gw_get_balances(gw_call *c);
void gw_get_orders(gw_call *c);
void gw_get_order_book(gw_call *c);
void gw_get_relations(gw_call *c);
void gw_get_transactions(gw_call *c);
void gw_get_payments(gw_call *c);
void gw_get_payment(gw_call *c);
void gw_get_transaction(gw_call *c);
void gw_get_ledger(gw_call *c);

/* reads.c: the old API's kind of a transaction seen from `account` (sent,
 * received, offernew, trusting, ...), and a node amount (drops text or
 * {value,currency,issuer}) parsed. */
const char *gw_tx_kind(const jt_json *tx, const char *account);
bool gw_node_amount(const jt_json *v, jt_amount *a);

/* webhooks.c: /v2/webhooks (admin). */
void gw_post_webhook(gw_call *c);
void gw_get_webhooks(gw_call *c);
void gw_delete_webhook(gw_call *c);
void gw_get_webhook_dead(gw_call *c);
void gw_post_webhook_retry(gw_call *c);

/* events.c: GET /v2/events reached without a WebSocket upgrade. */
void gw_get_events(gw_call *c);

/* A validated ledger was announced: the read cache (answers about the
 * previous one) is emptied. gw_reads_free releases it at exit. */
void gw_reads_on_ledger(uint32_t index);
void gw_reads_free(void);

/* Sends `request` (JSON) to the node; `done` gets the call and the reply's
 * "result" (NULL on any failure, which this answers itself: 404 for the
 * node's not-found tokens, 400 for malformed parameters, 502/503/504 for
 * the link). */
void gw_node_call(gw_call *c, const char *request, void (*done)(gw_call *c, const jt_json *result));

#endif
