/*
 * srv.h — the server core the daemons share (jt-node now, jt-gateway next):
 * a private static library (libjtsrv.a), never installed. Listeners for
 * WebSocket (jt-node's default 127.0.0.1:5020), jtp (length-prefixed
 * frames in a libsodium session, 127.0.0.1:5030) and, when asked for,
 * HTTP/1.1 or HTTPS (jt-gateway's REST API, with WebSocket upgrades at
 * chosen paths; see "HTTP" below) on one libwebsockets event loop;
 * admission by address and by key; connection, input and output
 * budgets per connection, per address and in total; message deadlines and
 * idle timeouts; one connection's turn per round of the loop; work posted
 * from other threads; timers; key=value logs (mod=net).
 *
 * The core knows nothing of commands: it hands every complete text
 * message (one JSON request) to on_request and sends what the dispatcher
 * gives back. It enforces the transport limits: maximum frame/message size,
 * maximum connections, per-connection request rate (it flags, the
 * dispatcher answers `slowDown`), and output caps: a connection whose
 * queue passes half of max_outbuf is no longer read until it has read
 * (srv_conn_reply), its stream messages alone may not pass max_outbuf
 * (srv_conn_send), and one whose output has not moved for slow_reader_s is
 * disconnected as a slow consumer.
 *
 * Transport errors it answers itself, keeping the connection open:
 *   WebSocket binary frame   -> {"type":"error","error":"wsTextRequired"}
 *   message over the cap     -> {"type":"error","error":"frameTooLarge",...}
 *                               and the connection is closed
 *
 * HTTP connections count against the same max_conns, max_conns_per_addr,
 * max_in_total (request bodies), max_out_total and max_outbuf (answers),
 * rate_per_sec (on_http's over_rate) and slow_reader_s as the others; the
 * HTTP limits of their own are in srv_net_config (http_*).
 *
 * Threading: every callback runs on the loop thread (the thread in
 * srv_net_run). srv_net_post and srv_net_stop may be called from any thread;
 * nothing else may.
 */
#ifndef JT_SRV_H
#define JT_SRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct srv_net srv_net;
struct lws_context;
struct lws_vhost;
struct lws_protocols;
typedef struct srv_conn srv_conn;
typedef struct srv_http_req srv_http_req;

/* An address prefix, in the 16-byte form peers are compared in (IPv4 as
 * ::ffff:a.b.c.d, so 127.0.0.0/8 is ::ffff:127.0.0.0/104). */
typedef struct srv_net_prefix {
    uint8_t addr[16];
    unsigned bits;
} srv_net_prefix;

/* Parses "ADDR" or "ADDR/BITS" (IPv4 or IPv6); 0, or -1 when malformed. */
int srv_net_prefix_parse(const char *s, srv_net_prefix *out);

typedef struct srv_net_config {
    const char *ws_addr;   /* "HOST:PORT"; NULL or "" disables the listener */
    const char *jtp_addr;  /* "HOST:PORT"; NULL or "" disables the listener */
    /* The node's ed25519 identity (libsodium layout: sk is 64 bytes). */
    uint8_t node_pk[32];
    uint8_t node_sk[64];
    /* Plaintext jtp (no handshake): accepted only from loopback peers and
     * only when true. */
    bool jtp_plaintext;
    /* When n_allowed > 0, only jtp clients whose ed25519 key is listed may
     * complete the handshake; others get `forbidden` and are closed. */
    const uint8_t (*allowed_keys)[32];
    size_t n_allowed;
    /* jtp client keys that may run admin commands (ledger_accept, ...). */
    const uint8_t (*admin_keys)[32];
    size_t n_admin;
    /* Peers whose address is in one of these are admin over WebSocket and
     * plaintext jtp. Unless admin_nets_set: loopback (127.0.0.0/8, ::1). */
    const srv_net_prefix *admin_nets;
    size_t n_admin_nets;
    bool admin_nets_set;
    size_t max_message;      /* bytes; default 1 MiB */
    unsigned max_conns;      /* default 1024 */
    unsigned max_conns_per_addr; /* from one peer address; default 64 */
    unsigned rate_per_sec;   /* requests per connection per second; 0 = unlimited */
    unsigned rate_burst;     /* bucket size; default 2 * rate_per_sec */
    size_t max_outbuf;       /* queued output per connection; default 16 MiB (see above) */
    size_t max_out_total;    /* queued output of all connections; default 512 MiB */
    size_t max_in_total;     /* input buffered by all connections; default 256 MiB */
    unsigned msg_deadline_s; /* seconds to finish a message (jtp: a frame) once begun; default 30 */
    /* A connection from which nothing has arrived for this many seconds is
     * closed, unless the handlers' `keep` says it holds something (a
     * subscription); before its first request too. Default 300. */
    unsigned idle_s;
    unsigned slow_reader_s;  /* seconds output may wait without the peer reading any; default 10 */

    /* The HTTP/1.1 listener (see "HTTP" below). Off unless http_addr is set;
     * its connections count against max_conns, max_conns_per_addr,
     * max_in_total and max_out_total like the others'. */
    const char *http_addr; /* "HOST:PORT"; NULL or "" (the default) disables it */
    /* Both set: the listener speaks HTTPS only (PEM files, read at
     * srv_net_new; the key file should be readable by the daemon alone). */
    const char *http_tls_cert;
    const char *http_tls_key;
    /* Paths (exact, e.g. "/v2/events", no query) where a WebSocket upgrade
     * is accepted; the connection then is transport "ws" like those of the
     * "ws" listener (on_request, srv_conn_send, srv_conn_close, idle_s,
     * max_message). The client names no subprotocol (or "http"). An
     * upgrade elsewhere is answered 404 and closed. */
    const char *const *http_ws_paths;
    size_t n_http_ws_paths;
    size_t http_max_body;     /* bytes; default 1 MiB (413 past it) */
    unsigned http_max_header; /* bytes of request line and headers; default 8192 */
    /* Seconds for a request's headers to arrive (from the connection's
     * start, or from the first byte of a later request), and again for its
     * body once the headers are in; default 10. */
    unsigned http_deadline_s;
    unsigned http_idle_s; /* keep-alive: seconds between requests; default 30 */
    /* Requests handed out and not yet answered, in total; default 1024
     * (503 past it). One connection has at most one. */
    unsigned http_max_inflight;

    /* Client connections the daemon makes from this loop (jt-gateway's
     * jt_session to its node): these libwebsockets protocols go on a vhost
     * of their own that listens nowhere (srv_net_client_vhost), with client
     * TLS set up for wss. The array is copied. */
    const struct lws_protocols *client_protocols;
    size_t n_client_protocols;
} srv_net_config;

typedef struct srv_net_handlers {
    /* One complete text message. `over_rate` is true when the connection
     * exceeded its request rate; the handler should answer `slowDown`. */
    void (*on_request)(void *ctx, srv_conn *c, const char *msg, size_t len, bool over_rate);
    /* The connection is gone; `c` is valid until this returns. */
    void (*on_close)(void *ctx, srv_conn *c);
    /* Optional: does c hold something (subscriptions, a request under way)
     * that keeps it open however long it stays silent? */
    bool (*keep)(void *ctx, srv_conn *c);
    /* One complete HTTP request (see "HTTP" below); `over_rate` as for
     * on_request (the handler should answer 429 with Retry-After). */
    void (*on_http)(void *ctx, srv_http_req *r, bool over_rate);
    /* Optional: the client of an unanswered request went away. r stays
     * valid; srv_http_respond must still be called (and drops the answer). */
    void (*on_http_abort)(void *ctx, srv_http_req *r);
} srv_net_handlers;

/* Fills defaults (both addresses at their pinned defaults, limits as above,
 * no keys). */
void srv_net_config_init(srv_net_config *cfg);

/* Creates the listeners (binding now, so a busy port fails here with a
 * message in err). */
int srv_net_new(const srv_net_config *cfg, const srv_net_handlers *h, void *ctx, srv_net **out,
               char *err, size_t errcap);
/* The libwebsockets context and the client vhost (NULL when no
 * client_protocols were given), for clients that run on this loop. */
struct lws_context *srv_net_lws_context(srv_net *n);
struct lws_vhost *srv_net_client_vhost(srv_net *n);

/* Runs the loop until srv_net_stop. While it runs, stderr (the key=value
 * log, from any thread) is fully buffered and flushed at the end of every
 * turn of the loop, so a busy daemon writes its log lines in one write(2)
 * per turn instead of one per line; the loop turns at least once a second,
 * so no line waits longer. On return stderr is flushed and unbuffered
 * again. */
int srv_net_run(srv_net *n);
/* Thread-safe; makes srv_net_run return soon. */
void srv_net_stop(srv_net *n);
/* Loop thread: makes srv_net_run return once every queued reply has been
 * written (or after max_ms), so an answer sent just before is not lost. */
void srv_net_stop_flushed(srv_net *n, unsigned max_ms);
void srv_net_free(srv_net *n); /* accepts NULL */

/* A repeating timer on the loop thread, every `ms` milliseconds (0 stops). */
void srv_net_set_timer(srv_net *n, unsigned ms, void (*cb)(void *ctx), void *ctx);
/* Loop thread: runs cb(ctx) once, on the loop thread, `us` microseconds
 * from now. A callback still waiting when the net is freed runs then, as
 * posted ones do (and may not schedule another). -1 on ENOMEM or once the
 * net is being freed (nothing scheduled). */
int srv_net_after(srv_net *n, unsigned us, void (*cb)(void *ctx), void *ctx);
/* Any thread: CLOCK_MONOTONIC in seconds. */
double srv_mono_seconds(void);
/* Thread-safe: runs cb(ctx) on the loop thread soon. */
int srv_net_post(srv_net *n, void (*cb)(void *ctx), void *ctx);

/* Queues one stream message (a JSON text the peer did not just ask for;
 * replies go through srv_conn_reply). Returns -1 (and schedules
 * the connection's close) when the stream messages in its queue would
 * exceed max_outbuf. */
int srv_conn_send(srv_conn *c, const char *msg, size_t len);
/* The peer's address in 16 bytes (IPv4 as ::ffff:a.b.c.d). */
const uint8_t *srv_conn_addr(const srv_conn *c);
/* What the per-address limits count an address under: an IPv4 address
 * itself, an IPv6 address's /64 (one host is commonly given a whole /64,
 * so counting single IPv6 addresses would let it multiply its share). */
void srv_addr_key(const uint8_t addr[16], uint8_t key[16]);
/* c's address key (srv_addr_key of its address). */
const uint8_t *srv_conn_addr_key(const srv_conn *c);
/* The peer is 127.0.0.0/8 or ::1. */
bool srv_conn_is_loopback(const srv_conn *c);
/* Admin: a WebSocket, HTTP or plaintext jtp peer whose address is in
 * admin_nets, or a jtp session whose client key is in admin_keys. */
bool srv_conn_is_admin(const srv_conn *c);
/* "ws", "jtp" or "http" (a WebSocket upgraded on the HTTP listener is
 * "ws" from its upgrade on). */
const char *srv_conn_transport(const srv_conn *c);
/* A number unique for the process lifetime. */
uint64_t srv_conn_id(const srv_conn *c);
/* The peer address as text ("127.0.0.1:53422"). */
const char *srv_conn_peer(const srv_conn *c);
/* One pointer of the dispatcher's own state per connection. */
void srv_conn_set_user(srv_conn *c, void *user);
void *srv_conn_user(const srv_conn *c);
/* Number of open connections. */
unsigned srv_net_conn_count(const srv_net *n);

/* The port a listener is bound to: "ws", "jtp" or "http". Useful when the
 * configured address asks for port 0 (the kernel picks a free one), which is
 * how tests and scripts avoid port clashes. Returns -1 when that listener is
 * disabled or `transport` is neither name. Any thread, once srv_net_new has
 * returned. */
int srv_net_listen_port(const srv_net *n, const char *transport);

/* Closes the connection once what is already queued has been written (for
 * a WebSocket, with a normal close frame); later srv_conn_send calls fail.
 * A peer that does not read is cut off after a few seconds. on_close follows
 * as for any close. Loop thread only. */
void srv_conn_close(srv_conn *c);

/* Queues a reply to one of c's requests. Unlike srv_conn_send (for stream
 * messages, which the peer did not just ask for), a reply is never refused
 * because of what c has queued: once c's queue passes half of max_outbuf
 * the node stops reading c's requests until c has read enough, so replies
 * cannot pile up without c asking for more. A single reply larger than
 * max_outbuf (jtp: max_message), or one that max_out_total has no room for
 * after closing slower readers, still closes the connection. Returns -1
 * when the message was not queued. Loop thread only. */
int srv_conn_reply(srv_conn *c, const char *msg, size_t len);

/* ------------------------------------------------------------------ HTTP
 *
 * The HTTP/1.1 listener hands each complete request (headers, and the whole
 * body when there is one) to on_http as a srv_http_req. The handler answers
 * it with srv_http_respond, at once or later from the loop thread (after a
 * posted job, a timer): a request is "in flight" until answered, and while
 * it is its connection reads nothing more, so the requests of one
 * connection (pipelined ones too) are handled one at a time, in order.
 * Every request handed out must be answered exactly once, even after
 * on_http_abort; r is freed by that call (at the next safe point).
 *
 * The core answers these itself (JSON bodies in the gateway's error
 * envelope, with an "error" token), never calling on_http:
 *   Transfer-Encoding (chunked bodies)   -> 411 lengthRequired, closed
 *   POST/PUT/PATCH without Content-Length -> 411 lengthRequired, closed
 *   a malformed Content-Length           -> 400 badContentLength, closed
 *   Content-Length over http_max_body    -> 413 bodyTooLarge, closed
 *   http_max_inflight requests in flight -> 503 busy, Retry-After: 1
 *   a body request pipelined behind another -> 400 pipelinedBody, closed
 *     (libwebsockets 4.1 would hand it the wrong bytes as its body; so is
 *     a body that begins with its own method and a space, or is a prefix
 *     of that, e.g. exactly "PO")
 *   a WebSocket upgrade on another path, h2c -> 404 (lws's page), closed
 * ("closed": after the answer the core shuts its side and drops what the
 * client still sends for up to 2 s, so that no reset overtakes the answer)
 * and closes without an answer: headers over http_max_header or not in
 * within http_deadline_s (libwebsockets' parser and timers), a body not in
 * within http_deadline_s of its headers (event=http_deadline), a
 * connection silent for http_idle_s between requests, a client that
 * closes (or shuts its sending side) while its request is in flight
 * (on_http_abort within about half a second). Requests without a body
 * may be pipelined. Connection: close (and HTTP/1.0 without keep-alive)
 * is honoured after the answer, which then says "Connection: close".
 * "Expect: 100-continue" is answered before the body is read. */

/* Loop thread, until r is answered. */
const char *srv_http_method(const srv_http_req *r); /* "GET", "POST", ... */
/* The path, %-decoded and normalised by libwebsockets ("/a/../b" is "/b"). */
const char *srv_http_path(const srv_http_req *r);
/* The query: its arguments as "name=value" joined by '&', each one
 * %-decoded (and '+' as space) by libwebsockets; "" when there is none.
 * A value holding an encoded '&' makes this string ambiguous: read such
 * arguments with srv_http_query_arg. */
const char *srv_http_query(const srv_http_req *r);
/* The value of the first argument `name`, or NULL. */
const char *srv_http_query_arg(const srv_http_req *r, const char *name);
/* The body (NUL-terminated, `*len` bytes; "" and 0 when none). Stays valid
 * until srv_http_respond, even after on_http_abort. */
const char *srv_http_body(const srv_http_req *r, size_t *len);
/* A request header by name, case-insensitive (Authorization, Content-Type,
 * Origin, Idempotency-Key, ...), copied NUL-terminated into buf. Returns its
 * length, or -1 when absent or longer than cap - 1. Only inside on_http:
 * the headers are libwebsockets' and do not outlive the call. */
int srv_http_header(const srv_http_req *r, const char *name, char *buf, size_t cap);
/* The connection the request came on (for srv_conn_peer, _is_admin,
 * _is_loopback, _addr_key, _id); NULL once it is gone. Its transport is
 * "http". */
srv_conn *srv_http_conn(const srv_http_req *r);
/* The client went away before the answer (see on_http_abort). */
bool srv_http_aborted(const srv_http_req *r);
void srv_http_set_user(srv_http_req *r, void *user);
void *srv_http_user(const srv_http_req *r);

typedef struct srv_http_field {
    const char *name, *value;
} srv_http_field;

/* Answers r: status (100..599), Content-Type (NULL: none), `nhdrs` more
 * headers (Retry-After, CORS, ...; names must be tokens and values free of
 * CR, LF and NUL, or the answer becomes a 500), and the body (not sent for
 * HEAD, 204 or 304; Content-Length is added). The core copies what it
 * needs. r is consumed whatever happens: the answer is dropped when the
 * client is gone or the output budgets have no room (then the connection
 * is closed). Returns 0 when queued, -1 when dropped. Loop thread only. */
int srv_http_respond(srv_http_req *r, int status, const char *content_type,
                     const srv_http_field *hdrs, size_t nhdrs, const void *body, size_t len);

/* Requests in flight (handed out, not yet answered) across connections. */
unsigned srv_net_http_inflight(const srv_net *n);

#endif
