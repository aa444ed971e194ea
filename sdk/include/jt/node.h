/*
 * jt/node.h — libjt's client for a Jingtum node's JSON API: jt-node, or
 * skywelld/jingtumd over WebSocket (PROTOCOL.md §6).
 *
 * One handle is one logical connection, named by a URL:
 *
 *     ws://HOST:PORT[/PATH]          WebSocket, one JSON object per text frame
 *     wss://HOST:PORT[/PATH]         the same over TLS (the system's CAs, or ca_file)
 *     jtp://HOST:PORT?key=<node key> jtp, encrypted, the node's key pinned (docs/jtp.md)
 *     jtp+plain://HOST:PORT          jtp without encryption; loopback addresses only
 *
 * Requests are JSON objects with a "command" (and no "id": the handle assigns
 * numeric ids and matches the responses, which may come in any order).
 * Pushed messages (ledgerClosed, transaction, serverStatus, ...) go to the
 * callbacks of subscriptions.
 *
 * Connection loss: calls already sent fail at once with JT_ECLOSED (the node
 * may or may not have acted on them: a "submit" must be checked, not
 * blindly repeated). The handle reconnects by itself, waiting 100 ms, then
 * doubling up to 5 s between attempts, and repeats every subscription once
 * connected. Calls made while it is disconnected wait for the connection
 * until their own timeout. A refusal that retrying cannot fix (the node
 * refuses our jtp key, or refuses plaintext) fails the handle for good.
 *
 * Threading: each handle owns one service thread, which does all its I/O
 * and runs every callback (async results, subscriptions, state changes).
 * All functions may be called from any thread, concurrently, except
 * jt_node_free (no other call on the handle may run or start during it).
 * Blocking functions (jt_node_call, jt_node_subscribe, jt_node_unsubscribe)
 * must not be called from a callback: they fail there with JT_ESTATE; use
 * jt_node_call_async instead. Callbacks should return quickly: while one
 * runs, the handle does no I/O.
 *
 * libwebsockets: each handle has its own libwebsockets context, run by its
 * service thread, carrying one jt_session (<jt/session.h>, which does the
 * protocol work; a program with its own libwebsockets loop uses sessions
 * directly instead). The first handle lowers libwebsockets' process-wide
 * log level to errors and warnings (its notices are noise on a program's
 * stderr); a program that wants them calls lws_set_log_level() afterwards.
 * Reconnection follows the session's rules, without jitter: a failed jtp
 * handshake is final before the first connection (jt_node_connect returns
 * it) and retried after one.
 */
#ifndef JT_NODE_H
#define JT_NODE_H

#include "jt/common.h"
#include "jt/error.h"
#include "jt/json.h"
#include "jt/jtp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jt_node jt_node;
typedef struct jt_node_sub jt_node_sub;

/* A connection state change, on the service thread: `connected` true once
 * (re)connected (subscriptions are being renewed), false when the
 * connection is lost or an attempt fails (`why` says what happened). */
typedef void (*jt_node_state_cb)(void *ctx, bool connected, const jt_errinfo *why);

typedef struct jt_node_options {
    int connect_timeout_ms; /* one attempt, TCP + TLS/handshake; default 5000 */
    int backoff_initial_ms; /* default 100 */
    int backoff_max_ms;     /* default 5000 */
    size_t max_message;     /* largest message either way; default 1 MiB */
    size_t max_pending;     /* calls waiting or in flight; default 4096 */
    /* jtp: the client identity the node sees. NULL: a fresh random key for
     * this handle. Copied; the caller keeps ownership. */
    const jt_jtp_identity *identity;
    /* wss: a PEM bundle of CAs to trust instead of the system's (only
     * those). Hostnames are always checked. */
    const char *ca_file;
    jt_node_state_cb on_state; /* optional */
    void *state_ctx;
} jt_node_options;

/* Fills `o` with the defaults. */
JT_API void jt_node_options_init(jt_node_options *o);

/* Connects to `url` and returns once connected (for jtp, once the handshake
 * has authenticated the node), or fails after connect_timeout_ms. `opt` may
 * be NULL for the defaults.
 * Errors: JT_EURL (bad or unsupported URL; jtp URL without a key;
 * jtp+plain to a non-loopback host), JT_EKEY, JT_ECONNECT (refused,
 * unreachable, name not found, TLS failure, timed out — the message names
 * the address and the reason), JT_EJTP_AUTH (the node is not the pinned one,
 * or refused the handshake), other JT_EJTP_* codes, JT_ENOMEM. On success the
 * caller owns *out and releases it with jt_node_free(). */
JT_API jt_err jt_node_connect(const char *url, const jt_node_options *opt, jt_node **out,
                              jt_errinfo *ei) JT_MUST_CHECK;

/* Closes the connection, stops the service thread and frees the handle.
 * Calls still pending complete with JT_ECANCELED: async callbacks run
 * here, on the calling thread, before it returns. Subscriptions are freed.
 * NULL is fine. Must not be called from a callback of this handle. */
JT_API void jt_node_free(jt_node *n);

/* Sends one request and waits for its response, at most timeout_ms (≤ 0:
 * 30 s). `request_json` is a JSON object with "command"; an "id" in it is
 * replaced by the handle's own.
 * On JT_OK (status "success") and on JT_ERPC (status "error": ei->field is
 * the error token such as "actNotFound", ei->msg has it and the
 * error_message), *response_json is the whole response object as the node
 * sent it, NUL-terminated; the caller frees it with jt_free(). On other
 * errors it is NULL.
 * Errors: JT_EJSON/JT_EINVAL (request not a JSON object, or no "command"),
 * JT_ETOOBIG (request over max_message, or max_pending reached), JT_ECLOSED
 * (the connection was lost after the request was sent), JT_ETIMEDOUT, JT_ERPC,
 * JT_ESTATE (called from a callback), the handle's permanent failure
 * (e.g. JT_EJTP_AUTH, JT_EJTP_PLAINTEXT), JT_ENOMEM. Thread-safe. */
JT_API jt_err jt_node_call(jt_node *n, const char *request_json, int timeout_ms,
                           char **response_json, jt_errinfo *ei) JT_MUST_CHECK;

/* The result of an async call, on the service thread (or in jt_node_free,
 * with JT_ECANCELED). `response_json`/`len` as for jt_node_call (NULL/0 on
 * errors other than JT_ERPC); valid only during the callback. */
typedef void (*jt_node_result_cb)(void *ctx, jt_err err, const char *response_json, size_t len,
                                  const jt_errinfo *ei);

/* Queues a request and returns at once. On JT_OK, `cb` runs exactly once
 * later; on an error it never runs. Errors: as jt_node_call's immediate
 * ones (JT_EJSON, JT_EINVAL, JT_ETOOBIG, the permanent failure, JT_ENOMEM).
 * Thread-safe; may be called from callbacks. */
JT_API jt_err jt_node_call_async(jt_node *n, const char *request_json, int timeout_ms,
                                 jt_node_result_cb cb, void *ctx, jt_errinfo *ei) JT_MUST_CHECK;

/* A pushed message, on the service thread. `msg` is the parsed object and
 * `text`/`len` the JSON as received; both valid only during the callback. */
typedef void (*jt_node_push_cb)(void *ctx, const jt_json *msg, const char *text, size_t len);

/* Subscribes: sends {"command":"subscribe", ...params_json} (params such as
 * {"streams":["ledger","transactions"]} or {"accounts":["j..."]}) and waits
 * for the node's answer, at most timeout_ms (≤ 0: 30 s). From then on `cb`
 * receives each pushed message of a type the subscription asked for:
 * "ledger" → ledgerClosed, "server" → serverStatus, "transactions",
 * "transactions_proposed", "accounts", "accounts_proposed", "books" →
 * transaction, "validations" → validationReceived, "peer_status" →
 * peerStatusChange; a type none of these name goes to every subscription.
 * Overlapping subscriptions each get the (single) message. After a
 * reconnection the subscribe request is sent again before any other.
 * *sub (optional) is a handle for jt_node_unsubscribe, owned by `n`.
 * Errors: as jt_node_call (JT_ERPC when the node refuses, e.g.
 * malformedStream); on error nothing stays registered. Thread-safe; not
 * from callbacks. */
JT_API jt_err jt_node_subscribe(jt_node *n, const char *params_json, int timeout_ms,
                                jt_node_push_cb cb, void *ctx, jt_node_sub **sub,
                                jt_errinfo *ei) JT_MUST_CHECK;

/* Sends the matching unsubscribe, waits for it (timeout_ms as above) and
 * forgets the subscription: its callback is not running and will not run
 * once this returns, whatever the node answered (its answer is the return
 * value: JT_OK, JT_ERPC, JT_ECLOSED, ...). `sub` is freed. Thread-safe; not
 * from callbacks. */
JT_API jt_err jt_node_unsubscribe(jt_node *n, jt_node_sub *sub, int timeout_ms, jt_errinfo *ei);

/* true while a connection is up (jtp: handshake done). Thread-safe. */
JT_API bool jt_node_is_connected(jt_node *n);

/* The number of connections made so far (1 after jt_node_connect; each
 * successful reconnection adds one). Thread-safe. */
JT_API unsigned jt_node_connection_count(jt_node *n);

/* "ws", "wss", "jtp" or "jtp+plain". Static storage. */
JT_API const char *jt_node_transport(const jt_node *n);

#ifdef __cplusplus
}
#endif
#endif
