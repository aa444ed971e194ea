/*
 * http.h — jt-gateway's REST API (GATEWAY-API.md): one table of routes,
 * authentication and scopes, per-key rate limits, the error envelope,
 * CORS, and the OpenAPI document made from the same table.
 *
 * Every request is a gw_call, answered exactly once with gw_reply (or
 * gw_fail), at once or later from the loop thread when the node or the
 * submission code answers.
 */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <jt/json.h>
#include <jt/util.h>

#include "apikey.h"
#include "gateway.h"
#include "srv.h"

#define GW_MAX_PARAMS 3

typedef struct gw_route gw_route;

typedef struct gw_call {
    gw *g;
    srv_http_req *r;
    const gw_route *route;
    char params[GW_MAX_PARAMS][160];
    gw_apikey key;
    bool authed;
    bool quiet; /* no log line (refused for the connection's rate) */
    jt_json_doc *body;
    double started;
    char cors_origin[256]; /* "" when no CORS header is due */
    uint32_t state_ledger; /* the validated ledger a read is about (reads.c) */
    /* a handler's own state across node calls */
    void *state;
    void (*free_state)(void *state);
} gw_call;

/* The srv_net handlers' HTTP entry points. */
void gw_http_on_request(void *ctx, srv_http_req *r, bool over_rate);
void gw_http_on_abort(void *ctx, srv_http_req *r);

/* Answers with {"success":true,"status_code":"0", MEMBERS} where members is
 * JSON object members text (no braces; may be empty). Frees c. */
void gw_reply(gw_call *c, int status, const char *members, size_t len);
/* Answers with the error envelope; field may be NULL. Frees c. */
void gw_fail(gw_call *c, int status, const char *token, const char *field, const char *msg);

/* The OpenAPI 3 document of the routes served (GET /v2/openapi.json). */
int gw_openapi(jt_buf *out);

#endif
