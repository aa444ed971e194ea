/*
 * gateway_client.h — the part of the gateway client (jt/gateway.h) that reads
 * what a gateway sent, apart from the transfer: the envelope mapped to an
 * outcome, and the typed helpers' answers read into their structs. Private
 * to libjt; the fuzz target and the unit test call it directly.
 */
#ifndef JT_GATEWAY_CLIENT_H
#define JT_GATEWAY_CLIENT_H

#include "jt/gateway.h"

/* Finishes a reply whose `status`, `body` and `body_len` are set (body
 * NUL-terminated, or NULL when empty): parses the body when `content_type`
 * is JSON or absent (at most max_body bytes; the rest of the limits follow
 * from it), and maps the status and envelope to the outcome of jt_gw_call
 * (jt/gateway.h, the table at the top). r->doc is set whenever the body
 * parsed, whatever the outcome. */
jt_err jt__gw_reply_finish(jt_gw_reply *r, const char *content_type, size_t max_body,
                           jt_errinfo *ei);

/* The typed answers. Each returns JT_EBADRESPONSE (ei naming the member)
 * when `root` lacks what the API promises, and reads nothing past it. */
jt_err jt__gw_health_from(const jt_json *root, jt_gw_health *out, jt_errinfo *ei);
jt_err jt__gw_tx_status_from(const jt_json *root, jt_gw_tx_status *out, jt_errinfo *ei);
/* From b->reply / h->reply (already finished); fill the rest of *b / *h. */
jt_err jt__gw_balances_from(jt_gw_balances *b, jt_errinfo *ei);
jt_err jt__gw_history_from(jt_gw_history *h, jt_errinfo *ei);

#endif
