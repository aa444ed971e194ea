/*
 * jt/gateway.h — libjt's client for jt-gateway's REST API (docs/gateway.md,
 * docs/gateway-client.md), over libcurl.
 *
 * One handle is one gateway, named by its base URL:
 *
 *     http://HOST:PORT[/PREFIX]      the gateway's default (127.0.0.1:5080)
 *     https://HOST:PORT[/PREFIX]     TLS: the system's CAs, a CA file, or a
 *                                    pinned certificate (jt-gateway init --tls)
 *
 * and calls are blocking HTTP/1.1 requests with the handle's API key
 * (`Authorization: Bearer`). The connection is kept alive between calls and
 * opened again by itself when the gateway closed it. Redirects are not
 * followed; only http and https are spoken.
 *
 * Threading: all functions may be called from any thread, concurrently, on
 * one handle, except jt_gw_free (no other call on the handle may run or start
 * during it). A call takes an idle connection of the handle, or opens one
 * when all are busy (a payment waiting for validation does not hold up a
 * balance read on another thread); up to four idle connections are kept.
 *
 * Every call returns one of three kinds of outcome:
 *
 *   JT_OK          the gateway answered 2xx with its success envelope.
 *
 *   the gateway's error envelope ({"success":false, "error", "error_type",
 *   "message", "field"?}), by HTTP status:
 *     JT_EBADREQUEST 400, 405, 413 and any 4xx not named below: the request
 *                    is wrong
 *     JT_EAUTH       401: no API key, or not a valid one
 *     JT_EFORBIDDEN  403: the key lacks the scope or the account
 *     JT_ENOTFOUND   404: no such account, transaction, ledger or route
 *     JT_ECONFLICT   409: client_id reused with another body (clientIdReused),
 *                    or a key already in the keystore
 *     JT_EREJECTED   422: the node rejected the transaction; it will never apply
 *     JT_ERATELIMIT  429: wait retry_after_s and send again
 *     JT_EUNAVAILABLE 502/503/504: the node is unreachable, unsynced or slow,
 *                    or the gateway's store is full or failing; a write was
 *                    not signed, or its status is unknown and said so: send it
 *                    again with the same client_id
 *     JT_EGATEWAY    any other status (500, ...)
 *   ei->field is the gateway's stable `error` token ("clientIdReused",
 *   "actNotFound", "nodeUnavailable", ...; "" when the body carried none, as
 *   a proxy's error page) and ei->msg reads "gateway: HTTP 409
 *   clientIdReused: <the gateway's message>". Control characters in what the
 *   gateway sent are replaced by '?' before they reach ei.
 *
 *   a transport failure — no answer from the gateway:
 *     JT_EURL        a malformed or unsupported base URL
 *     JT_ECONNECT    refused, unreachable, name not found, or no connection
 *                    within connect_timeout_ms: the request was NOT sent
 *     JT_ETLS        TLS handshake, certificate or pin check failed: NOT sent
 *     JT_ETIMEDOUT   sent, but no whole answer within the call's timeout:
 *                    outcome UNKNOWN
 *     JT_ELOST       the connection broke after the request was sent:
 *                    outcome UNKNOWN
 *     JT_ETOOBIG     the answer is larger than max_body (nothing of it is kept)
 *     JT_EBADRESPONSE the answer is not HTTP, or a 2xx whose body is not
 *                    the JSON the API defines
 *   ei->msg names the URL and the cause (libcurl's words).
 *
 * A write whose outcome is unknown is sent again with the same client_id: the
 * gateway answers a repeat with the first request's transaction, so it cannot
 * apply twice. (libcurl itself sends a request again when a kept-alive
 * connection turns out to have been closed before any answer; the same
 * client_id makes that harmless too.)
 *
 * Caps: an answer's body is at most max_body bytes (JT_ETOOBIG beyond), its
 * JSON is parsed with that size cap, and every string the typed helpers
 * copy into fixed arrays is checked against the array (JT_EBADRESPONSE when
 * longer than the API allows). Strings the typed helpers hand out hold no
 * control characters (JT_EBADRESPONSE otherwise), so they are safe to print;
 * raw JSON (a reply's doc and body, a history entry's `entry`) is as the
 * gateway sent it.
 */
#ifndef JT_GATEWAY_H
#define JT_GATEWAY_H

#include "jt/common.h"
#include "jt/error.h"
#include "jt/json.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jt_gw jt_gw;

typedef struct jt_gw_options {
    /* Bearer API key (`jt-gateway apikey create` prints one); NULL: none (only
     * /v2/health and /v2/openapi.json answer without). Copied; the copy is
     * wiped when the handle is freed. */
    const char *api_key;
    /* https: a PEM bundle of CAs to trust instead of the system's (only
     * those). Host names are checked. */
    const char *ca_file;
    /* https: a PEM certificate the gateway must present — the one `jt-gateway
     * init --tls` writes to DIR/tls/cert.pem. It is the only trust anchor and
     * the gateway's key must be its key (libcurl's public key pin); the host
     * name is not checked, since the key is what identifies the gateway (so
     * an address the certificate does not name works). Read once, in
     * jt_gw_new. Exclusive with ca_file. */
    const char *pinned_cert;
    int connect_timeout_ms; /* TCP + TLS; default 5000 */
    int timeout_ms;         /* a whole call, when the call gives <= 0; default 30000 */
    int wait_timeout_ms;    /* a payment with wait_validated; default 60000 */
    size_t max_body;        /* largest answer body; default 8 MiB */
    const char *user_agent; /* default "libjt/<version>"; copied */
    /* A proxy URL (copied), or NULL for none: proxies named by the
     * environment (http_proxy, https_proxy, ...) are never used, so the API
     * key goes only where the base URL says. */
    const char *proxy;
} jt_gw_options;

/* Fills `o` with the defaults. */
JT_API void jt_gw_options_init(jt_gw_options *o);

/* Checks the URL and the options and makes a handle. No connection is made
 * here: the first call connects. `opt` may be NULL for the defaults.
 * Errors: JT_EURL (not http:// or https://, no host, a query, fragment or
 * user name in it), JT_EINVAL (NULL argument; an API key with characters
 * that cannot go in a header; ca_file or pinned_cert with an http:// URL,
 * or both given; pinned_cert not a PEM certificate), JT_EIO (ca_file or
 * pinned_cert cannot be read), JT_ENOMEM. On success the caller owns *out
 * and releases it with jt_gw_free(). */
JT_API jt_err jt_gw_new(const char *base_url, const jt_gw_options *opt, jt_gw **out,
                        jt_errinfo *ei) JT_MUST_CHECK;

/* Closes the connections and frees the handle (the API key wiped). NULL is
 * fine. Not concurrently with another call on the handle. */
JT_API void jt_gw_free(jt_gw *g);

/* The base URL as given, without trailing '/'. Valid as long as the handle. */
JT_API const char *jt_gw_url(const jt_gw *g);

/* Connections opened so far (keep-alive: one for many sequential calls;
 * more when calls run concurrently or the gateway closed one). Thread-safe. */
JT_API unsigned jt_gw_connection_count(jt_gw *g);

/* ---------------------------------------------------------------- generic */

/* What a call got back. Owned by the caller; release with
 * jt_gw_reply_clear(). Calls overwrite a reply without releasing it, so an
 * uninitialized one is fine and a used one is cleared before reuse. */
typedef struct jt_gw_reply {
    int status; /* HTTP status; 0 when no answer came (transport failure) */
    char *body; /* the body as received, NUL-terminated; NULL when none */
    size_t body_len;
    jt_json_doc *doc;       /* the body parsed, when it is JSON; else NULL */
    unsigned retry_after_s; /* Retry-After (429, 503), in seconds; 0 when absent */
} jt_gw_reply;

/* Frees what `r` holds and empties it (clearing twice is fine). NULL is fine. */
JT_API void jt_gw_reply_clear(jt_gw_reply *r);

/* The root of a reply's JSON, or NULL. */
static inline const jt_json *jt_gw_reply_json(const jt_gw_reply *r)
{
    return r && r->doc ? jt_json_root(r->doc) : NULL;
}

/* One request to any route: `method` ("GET", "POST", "DELETE", ...), `path`
 * from the base URL on, with its query ("/v2/accounts/j.../payments?limit=5";
 * the caller escapes what needs it), `body_json` sent as is with
 * Content-Type: application/json (NULL: no body; a POST then sends an empty
 * one). timeout_ms <= 0 takes the handle's timeout_ms.
 * *reply (optional) is overwritten (not released) and holds the status and
 * body of any answer, error answers included (so the envelope of a 409 or
 * 422 can be read); after a transport failure it is empty. A body is parsed
 * when its Content-Type is JSON (or it has none); anything else (the
 * Prometheus text of /metrics) is left unparsed.
 * Errors: as the table at the top; also JT_EINVAL (NULL handle, method or
 * path; a method that is not an upper-case word; a body with GET or HEAD; a
 * path that does not start with '/' or holds a space or control character),
 * JT_ENOMEM. Thread-safe. */
JT_API jt_err jt_gw_call(jt_gw *g, const char *method, const char *path, const char *body_json,
                         int timeout_ms, jt_gw_reply *reply, jt_errinfo *ei) JT_MUST_CHECK;

/* ---------------------------------------------------------------- typed helpers
 * Each is one call of jt_gw_call with its errors, plus JT_EBADRESPONSE when
 * a 2xx body lacks what the API promises. Address and id arguments are
 * escaped into the path by the helper; one that is empty, "." or "..", or
 * holds '/' or '\\' is refused (JT_EINVAL): it could lead to another route. */

/* An amount as the REST API writes it. SWT: currency "SWT", issuer "" (or
 * NULL when sending), value in SWT with up to 6 decimals. */
typedef struct jt_gw_amount {
    const char *value;
    const char *currency;
    const char *issuer;
} jt_gw_amount;

/* GET /v2/health. The strings are cut to fit. */
typedef struct jt_gw_health {
    bool ok;         /* status "ok": node linked, validated ledger under a minute old */
    char status[16]; /* "ok" or "degraded" */
    char node_url[256];
    char node_state[32];       /* the gateway's link state, e.g. "ready" */
    char node_error[256];      /* the link's last error when it is down; "" else */
    uint32_t validated_ledger; /* 0: none yet */
    double validated_age_s;    /* < 0: unknown */
    uint64_t pending;          /* transactions not final yet */
    uint64_t uptime_s;
    unsigned reconnects;
} jt_gw_health;

/* The gateway's health. JT_OK whenever the gateway answered with its health
 * document: 200, and also 503 when degraded (out->ok false, node_error says
 * why) — a degraded gateway is an answer, not a failure. Thread-safe. */
JT_API jt_err jt_gw_health_get(jt_gw *g, jt_gw_health *out, jt_errinfo *ei) JT_MUST_CHECK;

/* GET /v2/accounts/{address}/balances. Strings point into `reply`. */
typedef struct jt_gw_balance {
    jt_gw_amount amount; /* SWT first, then one per trust line */
    const char *freezed; /* frozen: the reserve (SWT) and what offers sell */
} jt_gw_balance;

typedef struct jt_gw_balances {
    jt_gw_balance *items; /* n entries; owned */
    size_t n;
    uint32_t sequence;     /* the account's next sequence */
    uint32_t ledger_index; /* the validated ledger read; 0 when not given */
    jt_gw_reply reply;     /* holds the memory the strings point into */
} jt_gw_balances;

/* The account's balances in the last validated ledger; `currency` and
 * `issuer` (each optional, NULL: all) filter them. *out is overwritten, not
 * released: release it with jt_gw_balances_clear() (also after an error).
 * Errors: as jt_gw_call (JT_ENOTFOUND, field "actNotFound": no such account
 * in the validated ledger; JT_EBADREQUEST, "badAddress"). Thread-safe. */
JT_API jt_err jt_gw_balances_get(jt_gw *g, const char *address, const char *currency,
                                 const char *issuer, jt_gw_balances *out,
                                 jt_errinfo *ei) JT_MUST_CHECK;
JT_API void jt_gw_balances_clear(jt_gw_balances *b);

/* Where a transaction the gateway signed or tracks stands. */
typedef enum jt_gw_tx_state {
    JT_GW_TX_UNKNOWN = 0, /* no answer said (a transport failure) */
    JT_GW_TX_PENDING,     /* recorded and sent; not in a validated ledger yet */
    JT_GW_TX_VALIDATED,   /* in a validated ledger: `result` is final */
    JT_GW_TX_FAILED,      /* the node rejected it outright: it will never apply */
    JT_GW_TX_EXPIRED,     /* past its LastLedgerSequence and not in: it will never apply */
} jt_gw_tx_state;

typedef struct jt_gw_tx_status {
    char client_id[129]; /* the client_id used (generated or given), or "" */
    char hash[65];       /* upper-case hex */
    jt_gw_tx_state state;
    char status[16]; /* the gateway's word for `state` */
    char result[48]; /* engine result (tesSUCCESS, tecUNFUNDED_PAYMENT, ...); "" if none yet */
    uint32_t sequence;
    uint32_t ledger_index;         /* the ledger holding it; 0 when none */
    uint32_t last_ledger_sequence; /* 0 when not given */
} jt_gw_tx_status;

/* true when `st` says the transaction is in a validated ledger with
 * tesSUCCESS (a validated tec… took the fee but did nothing else). */
JT_API bool jt_gw_tx_succeeded(const jt_gw_tx_status *st);

typedef struct jt_gw_memo {
    const char *type; /* each optional (NULL: absent), up to 1024 bytes */
    const char *format;
    const char *data;
} jt_gw_memo;

/* A payment; fill with jt_gw_payment_init() first. Strings are the caller's
 * and only read during the call. */
typedef struct jt_gw_payment {
    const char *source; /* the paying account; the gateway holds its key */
    const char *destination;
    jt_gw_amount amount;
    const jt_gw_amount *send_max; /* optional */
    const jt_gw_memo *memos;      /* optional, n_memos of them (at most 8) */
    size_t n_memos;
    bool encrypt_memos; /* sealed to the destination's MessageKey (docs/memos.md) */
    bool has_destination_tag;
    uint32_t destination_tag;
    const char *invoice_id; /* optional, 64 hex digits */
    /* The idempotency key, 1 to 128 characters. NULL or "": a random one (32
     * hex digits) is made and written to the status's client_id before the
     * request leaves, so a retry after an unknown outcome passes it back in. */
    const char *client_id;
    bool wait_validated; /* ?wait=validated: answer once final (or pending after
                            the gateway's wait_max_s) */
    int timeout_ms;      /* <= 0: the handle's timeout_ms, or wait_timeout_ms when
                            waiting */
} jt_gw_payment;

/* Zeroes `p` (no memos, no tag, no wait, client_id generated). */
JT_API void jt_gw_payment_init(jt_gw_payment *p);

/* POST /v2/accounts/{source}/payments. *out is overwritten; its client_id
 * is set before the request is sent, and whatever the gateway answered about
 * the transaction fills the rest:
 *   JT_OK          pending (202), validated or expired (200): see out->state
 *                  (jt_gw_tx_succeeded() for a completed payment);
 *   JT_EREJECTED   failed (422): out has the hash and status "failed", and
 *                  ei->field the node's result (temBAD_AMOUNT, tefPAST_SEQ...);
 *                  "noMessageKey" when memos cannot be sealed (nothing signed);
 *   JT_ECONFLICT   out->client_id was used for a different request;
 *   JT_ELOST, JT_ETIMEDOUT, JT_EUNAVAILABLE, JT_ERATELIMIT: call again with
 *                  p->client_id = out->client_id (after retry_after_s for 429);
 *   others         as jt_gw_call (JT_EBADREQUEST names the field at fault;
 *                  JT_ENOTFOUND "accountNotHeld": the gateway holds no key
 *                  for source; JT_EINVAL: NULL source, destination or amount
 *                  part, a client_id over 128 characters or more than 8 memos).
 * p->client_id may point at out->client_id. Thread-safe. */
JT_API jt_err jt_gw_pay(jt_gw *g, const jt_gw_payment *p, jt_gw_tx_status *out,
                        jt_errinfo *ei) JT_MUST_CHECK;

/* GET /v2/accounts/{account}/payments/{id}: a payment by its hash or the
 * client_id it was sent with, as the gateway sees it now (pending ones from
 * its records, validated ones from the node). *out is overwritten; when the
 * answer gives no client_id and `id` is not the hash, out->client_id is `id`.
 * Errors: as jt_gw_call (JT_ENOTFOUND: no such payment of this account).
 * Thread-safe. */
JT_API jt_err jt_gw_payment_status(jt_gw *g, const char *account, const char *id,
                                   jt_gw_tx_status *out, jt_errinfo *ei) JT_MUST_CHECK;

/* ---------------------------------------------------------------- history */

typedef struct jt_gw_history_query {
    unsigned limit;     /* entries per page; 0: the gateway's 20; at most 200 */
    const char *marker; /* NULL or "": the first page; else a page's marker */
    bool forward;       /* oldest first */
    bool payments_only; /* /payments instead of /transactions */
} jt_gw_history_query;

/* One entry. Strings point into the page's reply; those the gateway left
 * out are NULL. */
typedef struct jt_gw_history_entry {
    const char *type; /* sent, received, offernew, trusting, ... (seen from the account) */
    const char *hash;
    const char *result;       /* tesSUCCESS, tec... */
    const char *account;      /* the sender */
    const char *counterparty; /* payments: the other side */
    jt_gw_amount amount;      /* payments: what was delivered; all NULL otherwise */
    const char *fee;          /* in SWT */
    uint32_t ledger_index;
    uint32_t date;        /* seconds since 2000-01-01 UTC (JT_EPOCH_OFFSET) */
    const jt_json *entry; /* the whole entry: memos, tx, meta */
} jt_gw_history_entry;

/* Markers are opaque: the gateway's are a few dozen hex digits. */
#define JT_GW_MARKER_MAX 520

typedef struct jt_gw_history {
    jt_gw_history_entry *items; /* n entries; owned */
    size_t n;
    char marker[JT_GW_MARKER_MAX]; /* the next page's marker; "" on the last page */
    jt_gw_reply reply;             /* holds the memory the strings point into */
} jt_gw_history;

/* One page of GET /v2/accounts/{address}/transactions (or /payments),
 * newest first unless q->forward. `q` may be NULL for the first page with
 * the defaults. Pass out->marker back as q->marker until it is "": it may
 * point into the page before (the call copies it first; release that page
 * after the call). *out is overwritten, not released: release each page
 * with jt_gw_history_clear() (also after an error).
 * Errors: as jt_gw_call (JT_EBADREQUEST "badRequest": a marker the gateway
 * did not give; JT_EBADREQUEST "badAddress"); JT_EINVAL: a marker of
 * JT_GW_MARKER_MAX characters or more. Thread-safe. */
JT_API jt_err jt_gw_history_get(jt_gw *g, const char *address, const jt_gw_history_query *q,
                                jt_gw_history *out, jt_errinfo *ei) JT_MUST_CHECK;
JT_API void jt_gw_history_clear(jt_gw_history *h);

#ifdef __cplusplus
}
#endif
#endif
