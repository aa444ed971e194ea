/*
 * jt/session.h — a node connection that runs on the caller's libwebsockets
 * event loop: no thread and no libwebsockets context of its own.
 *
 * The threaded client (<jt/node.h>) gives each handle a service thread; a
 * daemon with its own event loop (jt-gateway) instead attaches sessions to
 * that loop. One loop can carry any number of sessions beside the
 * program's own protocols (an HTTP server, say).
 *
 * URLs are those of <jt/node.h>: ws://, wss://, jtp://HOST:PORT?key=<node
 * key> (the node's key pinned), jtp+plain:// (loopback only).
 *
 * Attaching, in the program that owns the loop:
 *
 *     struct lws_protocols protos[3] = {
 *         { "http", my_http_cb, ... },       // the program's own
 *     };
 *     protos[1] = *jt_session_lws_protocol(); // protos[2] stays zero: the end
 *     info.protocols = protos;                // and, for wss, the TLS options
 *     ctx = lws_create_context(&info);
 *     jt_session_new(ctx, NULL, "jtp://127.0.0.1:5030?key=n...", &opt, &s, &ei);
 *     ... lws_service(ctx, 0) as usual ...
 *     jt_session_free(s);                     // before lws_context_destroy
 *
 * The session's connections are client connections bound to the protocol
 * named JT_SESSION_LWS_PROTOCOL_NAME on a vhost of the context (the default
 * vhost unless the options name another); WebSocket connections use lws'
 * ws client, jtp connections lws' raw client (LWS_ROLE_RAW) with the jtp
 * state machine of <jt/jtp.h>. Timers (request timeouts, connect timeout,
 * reconnection backoff) are lws_sul timers on the same context.
 *
 * Threading: none. Every function must be called on the thread that runs
 * the context's event loop (or before the loop runs), and every callback
 * runs on that thread, from within lws_service(). No callback ever runs
 * inside the function that caused it (jt_session_request returns before its
 * callback can run), except in jt_session_free (see there). Callbacks may
 * call any function of this header, jt_session_free included.
 *
 * Requests: a JSON object with "command". The session assigns the "id",
 * matches the response and calls back exactly once:
 *
 *     err           meaning                                   outcome
 *     JT_OK         status "success": the response            known
 *     JT_ERPC       status "error": the node refused it       known: not done
 *                   (ei->field = error token, e.g. actNotFound)
 *     JT_ELOST      the connection broke after the request    UNKNOWN
 *                   was sent (written to the connection)
 *     JT_ETIMEDOUT  no response in time                       unknown if sent,
 *                                                             not done if not
 *     JT_EJTP_AUTH, the node refused this client for good      unknown if sent
 *     JT_EJTP_PLAINTEXT, (below)                              (it should not act on
 *     JT_EURL                                                 it), not done if not
 *     JT_ECANCELED  jt_session_free                           unknown if sent,
 *                                                             not done if not
 *
 * jt_session_reply's `sent` says whether the request left this process.
 * jt_session_outcome_unknown() sums the table up: a gateway reports a
 * submission as failed only when it is false. A "submit" whose outcome is
 * unknown must be looked up (tx), not reported as failed nor blindly sent
 * again.
 *
 * Requests made while disconnected wait in the session, and are sent once a
 * connection is up, until their timeout. Responses may come in any order.
 *
 * Connection loss: every request already sent fails with JT_ELOST at once;
 * the state callback reports JT_SESSION_DISCONNECTED with the reason; the
 * session reconnects after a delay that starts at backoff_min_ms and
 * doubles up to backoff_max_ms (reset by a successful connection), each
 * delay shortened by a random part of up to backoff_jitter_pct percent so
 * that many clients do not reconnect in step. Once connected again it sends
 * every subscription's subscribe request before any other request.
 *
 * Permanent failure: when the node refuses us in a way retrying cannot fix,
 * the session enters JT_SESSION_FAILED: no reconnection, every waiting
 * request fails with that error, and new requests are refused with it. That
 * is: the node sends "forbidden" (our jtp key is not allowed) or
 * "plaintextRefused"; a jtp+plain URL reaches a non-loopback address
 * (JT_EURL); or the jtp handshake fails authentication (JT_EJTP_AUTH: the
 * node does not hold the pinned key, or refuses ours) before any connection
 * of this session succeeded. After one has, a failed handshake is retried
 * like any failed attempt (reported with JT_EJTP_AUTH each time): the text
 * of a handshake refusal is not authenticated, and one injected frame must
 * not stop the session for good. Free a failed session and make a new one
 * once the configuration is fixed.
 *
 * wss: the TLS settings are the vhost's. Create the context with
 * LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT, and set client_ssl_ca_filepath (with
 * LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS to trust only that bundle) on the
 * vhost the sessions use (jt_session_options.vhost) when the system's CAs
 * are not the ones. Host names are checked.
 *
 * Name resolution (ws: libwebsockets' client; jtp: getaddrinfo) runs on the
 * loop thread and blocks it while it lasts, unless libwebsockets was built
 * with its asynchronous resolver (ws only). Use addresses, or names that
 * resolve locally, on a loop that must never stall.
 */
#ifndef JT_SESSION_H
#define JT_SESSION_H

#include "jt/common.h"
#include "jt/error.h"
#include "jt/json.h"
#include "jt/jtp.h"

#ifdef __cplusplus
extern "C" {
#endif

struct lws_context;
struct lws_vhost;
struct lws_protocols;

typedef struct jt_session jt_session;
typedef struct jt_session_sub jt_session_sub;

/* The name of the libwebsockets protocol the sessions bind their
 * connections to. */
#define JT_SESSION_LWS_PROTOCOL_NAME "jt-session"

/* The protocol entry to put in the context's (or vhost's) protocol list.
 * Static storage; copy the struct into the list. Its callback ignores
 * connections it does not know (those of a session already freed) and
 * libwebsockets' calls that concern no connection of a session. */
JT_API const struct lws_protocols *jt_session_lws_protocol(void);

typedef enum jt_session_state {
    JT_SESSION_CONNECTING = 0, /* an attempt is under way (TCP, TLS, WebSocket or jtp handshake) */
    JT_SESSION_CONNECTED = 1,  /* requests flow; subscriptions are being renewed */
    JT_SESSION_DISCONNECTED = 2, /* lost or failed attempt; a new one is scheduled */
    JT_SESSION_FAILED = 3,       /* refused for good; no more attempts */
} jt_session_state;

/* A state change. `why` is JT_OK for CONNECTING and CONNECTED; for
 * DISCONNECTED and FAILED it says what happened (JT_ECONNECT: an attempt
 * failed, the message names the address and the reason; JT_ECLOSED: an open
 * connection ended; JT_EJTP_* codes; ...). `retry_ms` is the delay before
 * the next attempt (DISCONNECTED), else 0. `why` is valid only during the
 * call. */
typedef void (*jt_session_state_cb)(void *ctx, jt_session_state state, const jt_errinfo *why,
                                    int retry_ms);

typedef struct jt_session_options {
    int connect_timeout_ms; /* one attempt, TCP + TLS + handshake; default 5000 */
    int request_timeout_ms; /* requests given timeout_ms <= 0; default 30000 */
    int backoff_min_ms;     /* first reconnection delay; default 100 */
    int backoff_max_ms;     /* largest delay; default 5000 */
    int backoff_jitter_pct; /* 0..100: each delay is cut by a random 0..pct %; default 20 */
    size_t max_message;     /* largest message either way; default 1 MiB */
    size_t max_pending;     /* requests waiting or in flight; default 4096 */
    /* jtp: the client identity the node sees. NULL: a fresh random key per
     * session. Copied; the caller keeps ownership. */
    const jt_jtp_identity *identity;
    /* The vhost whose client TLS settings (CA bundle, ...) wss connections
     * use and whose protocol list holds the session protocol. NULL: the
     * context's vhost named "default" (the one lws_create_context makes,
     * unless its info.vhost_name names it otherwise). */
    struct lws_vhost *vhost;
    jt_session_state_cb on_state; /* optional */
    void *state_ctx;
} jt_session_options;

/* Fills `o` with the defaults. */
JT_API void jt_session_options_init(jt_session_options *o);

/* Creates a session on `ctx` and schedules its first connection attempt
 * (it starts when the loop runs; no callback runs in here). `opt` may be
 * NULL for the defaults.
 * Errors: JT_EURL (bad or unsupported URL, jtp without a key, jtp+plain to a
 * host that is not loopback), JT_EKEY, JT_EINVAL (NULL argument, or the
 * vhost has no JT_SESSION_LWS_PROTOCOL_NAME protocol: add
 * jt_session_lws_protocol() to its list), JT_ECRYPTO, JT_ENOMEM. On success
 * the caller owns *out and frees it with jt_session_free(), before the
 * context is destroyed. */
JT_API jt_err jt_session_new(struct lws_context *ctx, const char *url,
                             const jt_session_options *opt, jt_session **out,
                             jt_errinfo *ei) JT_MUST_CHECK;

/* Closes the connection (asynchronously, on the loop), cancels the timers
 * and frees the session. Requests still waiting complete here with
 * JT_ECANCELED (their callbacks run before this returns, or — when called
 * from one of this session's callbacks — once that callback returns);
 * subscriptions are freed and their callbacks do not run again; the state
 * callback does not run. NULL is fine. */
JT_API void jt_session_free(jt_session *s);

/* What a request came to. `text`/`len` and `msg` are the response as the
 * node sent it and parsed, for JT_OK and JT_ERPC (NULL/0 otherwise); all of
 * it is valid only during the callback. */
typedef struct jt_session_reply {
    jt_err err;       /* see the table at the top */
    uint64_t id;      /* the id the session gave the request */
    bool sent;        /* the request was written to a connection */
    const char *text; /* NUL-terminated */
    size_t len;
    const jt_json *msg;
    const jt_errinfo *ei; /* err, with a message naming the node and the cause */
} jt_session_reply;

typedef void (*jt_session_reply_cb)(void *ctx, const jt_session_reply *r);

/* Whether the node may or may not have carried the request out: it was sent
 * and no response says what became of it. */
static inline bool jt_session_outcome_unknown(const jt_session_reply *r)
{
    return r->sent && r->err != JT_OK && r->err != JT_ERPC;
}

/* Queues a request (JSON object text with "command"; an "id" in it is
 * replaced) and returns. `cb` (required) runs exactly once, later, on the
 * loop; timeout_ms <= 0 takes request_timeout_ms. *id_out (optional) gets
 * the request's id.
 * Errors (cb then never runs): JT_EINVAL (NULL, not an object, no
 * "command" string), JT_EJSON, JT_ETOOBIG (over max_message, or
 * max_pending requests waiting), the session's permanent failure
 * (JT_EJTP_AUTH, ...), JT_ECANCELED (the session is being freed),
 * JT_ENOMEM. */
JT_API jt_err jt_session_request(jt_session *s, const char *request_json, int timeout_ms,
                                 jt_session_reply_cb cb, void *ctx, uint64_t *id_out,
                                 jt_errinfo *ei) JT_MUST_CHECK;

/* A pushed message (ledgerClosed, transaction, ...): `msg` parsed, `text`/
 * `len` as received; valid only during the callback. */
typedef void (*jt_session_push_cb)(void *ctx, const jt_json *msg, const char *text, size_t len);

/* Registers a subscription: {"command":"subscribe", ...params_json}, with
 * params such as {"streams":["ledger"]} or {"accounts":["j..."]}. Its
 * subscribe request goes out now when connected, and again first thing on
 * every later connection. `push` receives each pushed message of a type the
 * parameters ask for: "ledger" → ledgerClosed, "server" → serverStatus,
 * "transactions", "transactions_proposed", "accounts", "accounts_proposed",
 * "books" → transaction, "validations" → validationReceived, "peer_status" →
 * peerStatusChange; a type none of these name goes to every subscription;
 * overlapping subscriptions each get the message. `done` (optional) runs
 * for the outcome of each subscribe request this subscription sends (the
 * first and every renewal), as a request's callback. When the node refuses
 * one (JT_ERPC, e.g. malformedStream) the subscription goes inactive: no
 * pushes, no renewals (jt_session_sub_active() is false); unsubscribe it.
 * *out is the subscription, owned by the session until
 * jt_session_unsubscribe or jt_session_free.
 * Errors: JT_EINVAL, JT_EJSON, JT_ETOOBIG, the permanent failure,
 * JT_ECANCELED, JT_ENOMEM; nothing is registered then. */
JT_API jt_err jt_session_subscribe(jt_session *s, const char *params_json, jt_session_push_cb push,
                                   void *push_ctx, jt_session_reply_cb done, void *done_ctx,
                                   jt_session_sub **out, jt_errinfo *ei) JT_MUST_CHECK;

/* Forgets the subscription: neither of its callbacks runs again (not even
 * for a subscribe request in flight), and `sub` is freed. When connected,
 * the matching unsubscribe request is sent — naming only what no other
 * subscription of this session still asks for (the node keeps one set of
 * streams, accounts and books per connection): true, and `done` (optional)
 * runs once later with its outcome, as a request's callback. false when
 * nothing was sent (`done` never runs): not connected (a new connection
 * would not have it), the node had refused the subscription, other
 * subscriptions still want all it named, or the request could not be queued
 * (max_pending or out of memory: the node keeps pushing those messages,
 * which no callback of it receives). NULL `s` or `sub`: false. May be called
 * from the subscription's own callbacks. */
JT_API bool jt_session_unsubscribe(jt_session *s, jt_session_sub *sub, jt_session_reply_cb done,
                                   void *ctx);

/* The number of the pushed message being handed out (1 for the session's
 * first): during push callbacks, the same for every subscription given
 * that message, and one more for the next message. A caller whose
 * subscriptions overlap (one per account, say) acts on each message once
 * by remembering the last number it saw. 0 for NULL. */
JT_API uint64_t jt_session_push_serial(const jt_session *s);

/* false once the node refused the subscription's subscribe request. */
JT_API bool jt_session_sub_active(const jt_session_sub *sub);

JT_API jt_session_state jt_session_get_state(const jt_session *s);
/* While the session waits to reconnect, connect now and start the backoff
 * again from backoff_min_ms; otherwise nothing. For an owner that knows the
 * node is back (another session to it just connected). NULL: nothing. */
JT_API void jt_session_retry_now(jt_session *s);
/* Connections made so far (each successful (re)connection adds one). */
JT_API unsigned jt_session_connection_count(const jt_session *s);
/* Requests waiting or in flight (renewals and unsubscribes included). */
JT_API size_t jt_session_pending(const jt_session *s);
/* "ws", "wss", "jtp" or "jtp+plain". Static storage. */
JT_API const char *jt_session_transport(const jt_session *s);
/* The URL as given. Valid as long as the session. */
JT_API const char *jt_session_url(const jt_session *s);

#ifdef __cplusplus
}
#endif
#endif
