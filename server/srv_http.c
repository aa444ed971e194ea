/*
 * srv_http.c — the server core's HTTP listener (srv.h): requests parsed by
 * libwebsockets, bodies gathered and answers written here, on the
 * connections, budgets and loop of srv.c.
 */
#include "srv_int.h"

/* -------------------------------------------------------------- HTTP
 *
 * libwebsockets parses each request (into a header buffer of
 * http_max_header bytes; its timers hold the header deadline and the
 * keep-alive), and we check the body's framing, gather the body, hand the
 * request out and write the answer from the connection's own queue. One
 * request at a time per connection: while one is in flight the connection
 * is not read (lws keeps what was pipelined behind it), and
 * lws_http_transaction_completed after the answer starts the next. */

static const char *const METHOD_NAME[] = {
    [LWSHUMETH_GET] = "GET",         [LWSHUMETH_POST] = "POST",   [LWSHUMETH_OPTIONS] = "OPTIONS",
    [LWSHUMETH_PUT] = "PUT",         [LWSHUMETH_PATCH] = "PATCH", [LWSHUMETH_DELETE] = "DELETE",
    [LWSHUMETH_CONNECT] = "CONNECT", [LWSHUMETH_HEAD] = "HEAD",
};

static const char *http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default:
        return status < 300   ? "OK"
               : status < 400 ? "Redirect"
               : status < 500 ? "Client Error"
                              : "Server Error";
    }
}

/* RFC 9110 token characters (header names). */
static bool is_tchar(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static bool valid_name(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s))
            return false;
    return true;
}

/* A header value may not end the line early (no CR, LF; NUL ends it). */
static bool valid_value(const char *s)
{
    if (!s)
        return false;
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            return false;
    return true;
}

/* Refusals answered by the core, and answers it drops, must not become a
 * log flood: one line a second at most, with the count since the last. */
static void http_log_refused(srv_conn *c, int status, const char *why)
{
    srv_net *n = c->net;
    n->http_refused++;
    double now = srv_mono_seconds();
    if (now - n->http_refused_logged < 1.0)
        return;
    srv__conn_log("warn", "http_refused", c, "status=%d reason=%s refused=%u", status, why,
                  n->http_refused);
    n->http_refused = 0;
    n->http_refused_logged = now;
}

/* r leaves the requests in flight: its slot is free, and it is freed at
 * the next safe point. */
void srv__req_retire(srv_http_req *r)
{
    srv_net *n = r->net;
    if (r->answered)
        return;
    r->answered = true;
    if (r->inflight) {
        r->inflight = false;
        n->http_inflight--;
    }
    if (r->prev)
        r->prev->next = r->next;
    else
        n->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = NULL;
    r->next = n->dead_reqs;
    n->dead_reqs = r;
}

void srv__req_free(srv_http_req *r)
{
    if (r->body_own) {
        r->net->in_total -= r->body_own_cap;
        free(r->body_own);
    }
    free(r->path);
    free(r->query);
    free(r->args);
    free(r);
}

/* A new request from what lws parsed: method, path and query are copied
 * (the header buffer is lws's and goes with the transaction). */
static srv_http_req *req_new(srv_conn *c, struct lws *wsi, int method, const char *uri, int ulen)
{
    srv_net *n = c->net;
    srv_http_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->net = n;
    r->c = c;
    r->method = method >= 0 && (size_t)method < sizeof METHOD_NAME / sizeof *METHOD_NAME &&
                        METHOD_NAME[method]
                    ? METHOD_NAME[method]
                    : "?";
    r->head = method == LWSHUMETH_HEAD;
    r->body = "";
    r->path = strndup(uri ? uri : "", uri && ulen > 0 ? (size_t)ulen : 0);
    /* The query arguments, one lws fragment each; empty ones skipped. */
    size_t total = 0;
    int cap = (int)n->http_max_header + 1, k;
    for (int i = 0;
         (k = lws_hdr_copy_fragment(wsi, n->scratch, cap, WSI_TOKEN_HTTP_URI_ARGS, i)) >= 0; i++)
        if (k > 0)
            total += (size_t)k + 1;
    r->query = malloc(total + 1);
    r->args = malloc(total + 1);
    if (!r->path || !r->query || !r->args) {
        free(r->path);
        free(r->query);
        free(r->args);
        free(r);
        return NULL;
    }
    size_t at = 0;
    for (int i = 0; at < total && (k = lws_hdr_copy_fragment(wsi, n->scratch, cap,
                                                             WSI_TOKEN_HTTP_URI_ARGS, i)) >= 0;
         i++) {
        if (k == 0 || at + (size_t)k + 1 > total)
            continue;
        memcpy(r->args + at, n->scratch, (size_t)k + 1);
        memcpy(r->query + at, n->scratch, (size_t)k);
        r->query[at + (size_t)k] = '&';
        at += (size_t)k + 1;
        r->n_args++;
    }
    r->query[at ? at - 1 : 0] = '\0';
    r->args[at] = '\0';
    r->next = n->reqs;
    if (n->reqs)
        n->reqs->prev = r;
    n->reqs = r;
    return r;
}

/* Does the request ask for the connection to close after the answer? The
 * same rule as lws's (HTTP/1.1 keeps it, 1.0 does not, a Connection header
 * of exactly "close" or "keep-alive" says otherwise), so that the answer
 * says what lws will do. */
static bool http_wants_close(struct lws *wsi)
{
    char v[16], conn[32];
    int k = lws_hdr_copy(wsi, v, sizeof v, WSI_TOKEN_HTTP);
    bool close = !(k > 7 && v[5] == '1' && v[7] == '1');
    if (lws_hdr_total_length(wsi, WSI_TOKEN_CONNECTION) > 0 &&
        lws_hdr_copy(wsi, conn, sizeof conn, WSI_TOKEN_CONNECTION) > 0) {
        if (strcasecmp(conn, "keep-alive") == 0)
            close = false;
        else if (strcasecmp(conn, "close") == 0)
            close = true;
    }
    return close;
}

static void http_flush(srv_conn *c);

/* Appends to buf (cap bytes) at *at; false, and nothing appended, when it
 * would not fit. */
__attribute__((format(printf, 4, 5))) static bool put(char *buf, size_t cap, size_t *at,
                                                      const char *fmt, ...)
{
    if (*at >= cap)
        return false;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *at, cap - *at, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= cap - *at)
        return false;
    *at += (size_t)k;
    return true;
}

/* Stops or resumes reading c. */
static void http_hold_rx(srv_conn *c, bool hold)
{
    if (c->rx_held == hold || !c->wsi)
        return;
    c->rx_held = hold;
    lws_rx_flow_control(c->wsi, hold ? 0 : 1);
}

/* Queues one whole answer (status line, headers, body) on c and starts
 * writing it; the body c received is released. -1 when it was not queued
 * (the connection is then closed). */
static int http_answer(srv_conn *c, int status, const char *ctype, const srv_http_field *h,
                       size_t nh, const void *body, size_t len, bool head)
{
    srv_net *n = c->net;
    if (c->gone || c->killing || !c->wsi)
        return -1;
    bool no_body = status < 200 || status == 204 || status == 304;
    size_t blen = head || no_body ? 0 : len;
    /* The status line, Content-Length and Connection take under 128. */
    size_t hl = 160 + (ctype ? strlen(ctype) + 20 : 0);
    for (size_t i = 0; i < nh; i++)
        hl += strlen(h[i].name) + strlen(h[i].value) + 4;
    size_t total = hl + blen;
    if (total > n->max_outbuf) {
        srv__conn_log("warn", "reply_too_large", c, "len=%zu max_outbuf=%zu", total, n->max_outbuf);
        srv__conn_kill(c);
        return -1;
    }
    if (!srv__out_room(n, c, total))
        return -1;
    char *buf = malloc(total);
    if (!buf) {
        srv__conn_log("error", "oom", c, "need=%zu", total);
        srv__conn_kill(c);
        return -1;
    }
    size_t at = 0;
    bool fits = put(buf, hl, &at, "HTTP/1.1 %d %s\r\n", status, http_reason(status));
    if (ctype && *ctype)
        fits = fits && put(buf, hl, &at, "Content-Type: %s\r\n", ctype);
    if (!no_body)
        fits = fits && put(buf, hl, &at, "Content-Length: %zu\r\n", len);
    for (size_t i = 0; i < nh; i++)
        fits = fits && put(buf, hl, &at, "%s: %s\r\n", h[i].name, h[i].value);
    if (c->http_close)
        fits = fits && put(buf, hl, &at, "Connection: close\r\n");
    fits = fits && put(buf, hl, &at, "\r\n");
    if (!fits) { /* not expected: hl counts every line */
        free(buf);
        srv__conn_log("error", "http_answer_overflow", c, "status=%d", status);
        srv__conn_kill(c);
        return -1;
    }
    if (blen)
        memcpy(buf + at, body, blen);
    at += blen;
    bool ok = srv__outq_push(&c->out, buf, at);
    free(buf);
    if (!ok) {
        srv__conn_log("error", "oom", c, "need=%zu", at);
        srv__conn_kill(c);
        return -1;
    }
    c->out_in += at;
    if (!c->out.bytes || c->out.bytes == at)
        c->progress_at = srv_mono_seconds();
    srv__out_account(c);
    c->hstate = H_WRITING;
    /* The body is answered: its buffer goes (or is kept, when small). */
    c->rx_len = 0;
    if (c->rx_cap > RX_KEEP_MAX) {
        free(c->rx);
        c->rx = NULL;
        c->rx_cap = 0;
    }
    srv__in_account(c);
    http_flush(c);
    return c->killing ? -1 : 0;
}

/* An answer of the core's own, in the gateway's error envelope. */
static void http_refuse(srv_conn *c, int status, const char *token, const char *message, bool close,
                        const char *retry_after)
{
    char body[320];
    int k =
        snprintf(body, sizeof body,
                 "{\"success\":false,\"status_code\":\"%d\",\"error_type\":\"%s\",\"error\":\"%s\","
                 "\"message\":\"%s\"}",
                 status, status >= 500 ? "server" : "client", token, message);
    http_log_refused(c, status, token);
    if (c->req) {
        c->req->c = NULL;
        srv__req_retire(c->req);
        c->req = NULL;
    }
    if (close) {
        c->http_close = true; /* what lws reads of a refused body meanwhile is dropped */
        c->http_refused = true;
    }
    srv_http_field ra = {"Retry-After", retry_after};
    http_answer(c, status, "application/json", &ra, retry_after ? 1 : 0, body, (size_t)k, false);
}

/* The request is whole: hand it out, unless too many are in flight. */
static int http_dispatch(srv_conn *c)
{
    srv_net *n = c->net;
    srv_http_req *r = c->req;
    /* Nothing more is read from c until it is answered: lws would take
     * bytes pipelined behind a body for more body, and bytes behind a
     * request without one, which it does not read during the transaction,
     * would wake the loop again and again. A peer that leaves meanwhile is
     * noticed by the watchdog (peer_left). */
    http_hold_rx(c, true);
    if (n->http_inflight >= n->http_max_inflight) {
        http_refuse(c, 503, "busy", "Too many requests in flight; try again shortly.", false, "1");
        return 0;
    }
    c->hstate = H_INFLIGHT;
    r->inflight = true;
    n->http_inflight++;
    bool over = srv__over_rate(c);
    r->in_handler = true;
    if (n->h.on_http)
        n->h.on_http(n->hctx, r, over);
    else
        srv_http_respond(r, 404, NULL, NULL, 0, NULL, 0);
    r->in_handler = false; /* r is freed at the next safe point at the earliest */
    return c->killing ? -1 : 0;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* LWS_CALLBACK_HTTP: the headers are in. */
static int http_begin(srv_conn *c, struct lws *wsi)
{
    srv_net *n = c->net;
    double now = srv_mono_seconds();
    c->last_rx = now;
    if (c->killing || c->draining || c->hstate != H_IDLE)
        return -1;
    char *uri = NULL;
    int ulen = 0;
    int m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
    c->http_close = http_wants_close(wsi);
    c->req_at = now;
    c->rx_len = 0;
    c->body_want = 0;
    c->req = req_new(c, wsi, m, uri, ulen);
    if (!c->req) {
        srv__conn_log("error", "oom", c, "what=request");
        srv__conn_kill(c);
        return -1;
    }
    if (m < 0 || m == LWSHUMETH_CONNECT || m == LWSHUMETH_COLON_PATH) {
        http_refuse(c, 400, "badRequest", "Unsupported request.", true, NULL);
        return 0;
    }
    /* Request bodies come with a Content-Length only: chunked ones (which
     * lws 4.1 does not decode) and any other Transfer-Encoding are refused
     * before a byte of them is read. */
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
        http_refuse(c, 411, "lengthRequired",
                    "Transfer-Encoding is not accepted; send the body with a Content-Length.", true,
                    NULL);
        return 0;
    }
    bool has_cl = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0;
    unsigned long long cl = 0;
    if (has_cl) {
        char v[32];
        /* Several Content-Length headers arrive joined by ',' and fail
         * here, as a malformed one does. */
        if (lws_hdr_copy(wsi, v, sizeof v, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 || !all_digits(v) ||
            strlen(v) > 18) {
            http_refuse(c, 400, "badContentLength", "Malformed Content-Length.", true, NULL);
            return 0;
        }
        cl = strtoull(v, NULL, 10);
    } else if (m == LWSHUMETH_POST || m == LWSHUMETH_PUT || m == LWSHUMETH_PATCH) {
        /* lws would read such a body until the connection ends. */
        http_refuse(c, 411, "lengthRequired", "A request body needs a Content-Length.", true, NULL);
        return 0;
    }
    if (cl > n->http_max_body) {
        char msg[96];
        snprintf(msg, sizeof msg, "Request body larger than %zu bytes.", n->http_max_body);
        http_refuse(c, 413, "bodyTooLarge", msg, true, NULL);
        return 0;
    }
    if (cl == 0 && !(has_cl && m == LWSHUMETH_POST))
        return http_dispatch(c);
    /* A body follows (for a POST with Content-Length: 0 lws reports an
     * empty one at once). Its deadline runs from now: see idle_sweep. */
    c->hstate = H_BODY;
    c->body_want = (size_t)cl;
    if (cl > 0 && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_EXPECT) > 0) {
        /* "Expect: 100-continue": the client waits for a go-ahead (lws
         * sends none) before the body. */
        char e[32];
        if (lws_hdr_copy(wsi, e, sizeof e, WSI_TOKEN_HTTP_EXPECT) > 0 &&
            strcasecmp(e, "100-continue") == 0) {
            static const char CONTINUE[] = "HTTP/1.1 100 Continue\r\n\r\n";
            if (srv__out_room(n, c, sizeof CONTINUE) &&
                srv__outq_push(&c->out, CONTINUE, sizeof CONTINUE - 1)) {
                c->out_in += sizeof CONTINUE - 1;
                srv__out_account(c);
                http_flush(c);
            }
        }
    }
    return 0;
}

/* Does a body begin as its own request's request line does ("POST ")?
 * See http_body. lws gives a body no more bytes than its Content-Length,
 * so a short one is compared as far as it goes: a body that is exactly
 * "PO" is refused too, a price a JSON API does not pay. */
static bool is_own_request_line(const srv_conn *c, const void *in, size_t len)
{
    char start[16];
    int k = snprintf(start, sizeof start, "%s ", c->req ? c->req->method : "?");
    size_t n = len < (size_t)k ? len : (size_t)k;
    return memcmp(in, start, n) == 0;
}

/* LWS_CALLBACK_HTTP_BODY: a piece of the body (never past Content-Length:
 * lws counts it). */
static int http_body(srv_conn *c, const void *in, size_t len)
{
    if (c->killing)
        return -1;
    c->last_rx = srv_mono_seconds();
    if (c->hstate != H_BODY || !len)
        return 0; /* a refused request's rest, while its answer goes out */
    if (c->rx_len == 0 && is_own_request_line(c, in, len)) {
        /* lws 4.1 hands a request that was pipelined behind another (read
         * with it, so parsed from lws's buffer) the buffer from its own
         * request line on as its body. Such a body cannot be trusted: the
         * client is told and the connection closed. */
        http_refuse(c, 400, "pipelinedBody",
                    "A request with a body must wait for the previous answer.", true, NULL);
        return 0;
    }
    if (len > c->body_want - c->rx_len) {
        srv__conn_log("warn", "http_body_overrun", c, "want=%zu", c->body_want);
        srv__conn_kill(c);
        return -1;
    }
    if (c->rx_len + len + 1 > c->rx_cap) {
        /* Grown as it arrives, not at once to what was announced: a client
         * that announces a large body and sends little holds little. */
        size_t ncap = c->rx_cap ? c->rx_cap : 4096;
        while (ncap < c->rx_len + len + 1)
            ncap *= 2;
        if (ncap > c->body_want + 1)
            ncap = c->body_want + 1;
        if (!srv__rx_grow(c, ncap))
            return -1;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    return 0;
}

/* LWS_CALLBACK_HTTP_BODY_COMPLETION */
static int http_body_done(srv_conn *c)
{
    if (c->killing)
        return -1;
    /* Also called again for bytes pipelined behind a body (lws takes them
     * for an empty body); while an answer is written they wait, unread, for
     * lws_http_transaction_completed. After a refusal the request's body is
     * all in (or lws lost its place in the stream): time to close. */
    if (c->hstate != H_BODY)
        return c->http_refused ? -1 : 0;
    if (c->rx_len < c->body_want) /* not expected: lws counts the body */
        return -1;
    if (c->rx) {
        c->rx[c->rx_len] = '\0';
        c->req->body = (const char *)c->rx;
        c->req->body_len = c->rx_len;
    }
    return http_dispatch(c);
}

/* The answer is out: the next request may come (or the connection
 * closes). -1 when c is to close. */
static int http_done(srv_conn *c)
{
    struct lws *wsi = c->wsi;
    if (c->linger_at > 0)
        return 0; /* lingering already */
    if (c->http_refused && !c->draining) {
        /* A refusal may leave a body on its way: closing now, with it
         * unread, would reset the connection and could take the answer
         * with it. So our side is shut, and what still comes is read and
         * dropped until the client closes or HTTP_LINGER_S pass. */
        int fd = lws_get_socket_fd(wsi);
        if (fd >= 0 && shutdown(fd, SHUT_WR) == 0) {
            c->linger_at = srv_mono_seconds();
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, HTTP_LINGER_S);
            return 0;
        }
    }
    if (c->http_close || c->draining)
        return -1;
    c->hstate = H_IDLE;
    c->last_rx = srv_mono_seconds();
    c->body_want = 0;
    http_hold_rx(c, false);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Writes the oldest queued output once (at most WS_FRAGMENT, as for
 * WebSocket messages, so what lws keeps of a peer that does not read stays
 * small; the headroom lws_write may use is bytes of it already sent).
 * -1 when the write failed. */
static int http_write_some(srv_conn *c, size_t room)
{
    uint8_t *p;
    size_t len;
    if (!srv__outq_front(&c->out, &p, &len))
        return 0;
    size_t off = c->frag_off, chunk = len - off < WS_FRAGMENT ? len - off : WS_FRAGMENT;
    if (chunk > room)
        chunk = room;
    if (lws_write(c->wsi, p + off, chunk, LWS_WRITE_HTTP) < 0)
        return -1;
    srv__out_done(c, chunk);
    if (off + chunk == len) {
        c->frag_off = 0;
        srv__outq_pop(&c->out, len);
    } else {
        c->frag_off = off + chunk;
    }
    srv__out_account(c);
    return 0;
}

/* What the socket's send buffer takes now, so that lws keeps none of a
 * write: half of SO_SNDBUF (the kernel counts its own overhead in it) less
 * what is queued, less room for TLS records' overhead. SIZE_MAX when
 * unknown (lws then keeps what the kernel refuses). */
static size_t sock_room(srv_conn *c, size_t *queued_out)
{
    *queued_out = 0;
#if defined(__linux__) && defined(SIOCOUTQ)
    int fd = c->wsi ? lws_get_socket_fd(c->wsi) : -1, queued = 0;
    socklen_t sl = sizeof c->sndbuf;
    if (fd < 0 || (!c->sndbuf && getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &c->sndbuf, &sl) != 0) ||
        ioctl(fd, SIOCOUTQ, &queued) != 0)
        return SIZE_MAX;
    *queued_out = (size_t)queued;
    long room = (long)c->sndbuf / 2 - queued - HTTP_TLS_MARGIN;
    return room > 0 ? (size_t)room : 0;
#else
    (void)c;
    return SIZE_MAX;
#endif
}

/* Writes what c has queued as far as the socket takes it, with reading
 * still held, then ends the transaction. When the socket is full it looks
 * again after HTTP_RETRY_US (LWS_CALLBACK_TIMER) rather than asking for
 * POLLOUT: lws h1 handles POLLOUT only while reading is on, and with
 * reading on, bytes the client sends meanwhile would wake the loop without
 * end (lws does not read them during a transaction). Only when lws kept a
 * part of a write after all does it fall back to that. */
static void http_flush(srv_conn *c)
{
    struct lws *wsi = c->wsi;
    if (c->gone || c->killing || !wsi)
        return;
    uint8_t *p;
    size_t len;
    while (!lws_partial_buffered(wsi) && srv__outq_front(&c->out, &p, &len)) {
        size_t left = len - c->frag_off, need = left < HTTP_MIN_WRITE ? left : HTTP_MIN_WRITE;
        /* A small answer on a connection whose socket queue was last seen
         * empty goes out without asking (two system calls an answer);
         * once lws has had to keep a part, the queue is asked about again
         * until it is seen empty. */
        size_t queued = 0, room = SIZE_MAX;
        if (c->tx_unsure || left > HTTP_MIN_WRITE) {
            room = sock_room(c, &queued);
            c->tx_unsure = queued > 0;
        }
        if (room < need) {
            /* Soon again while the client reads (the socket's queue went
             * down since the last look), less and less often while it does
             * not (the watchdog cuts it after slow_reader_s). */
            if (!c->retry_us || queued < c->retry_queued)
                c->retry_us = HTTP_RETRY_US;
            else if ((c->retry_us *= 2) > HTTP_RETRY_MAX_US)
                c->retry_us = HTTP_RETRY_MAX_US;
            c->retry_queued = queued;
            lws_set_timer_usecs(wsi, (lws_usec_t)c->retry_us);
            return;
        }
        c->retry_us = 0;
        if (http_write_some(c, room)) {
            srv__conn_kill(c);
            return;
        }
        if (lws_partial_buffered(wsi))
            c->tx_unsure = true;
    }
    if (c->out.head != c->out.tail || lws_partial_buffered(wsi)) {
        http_hold_rx(c, false);
        lws_callback_on_writable(wsi);
        return;
    }
    if (c->hstate == H_WRITING && http_done(c))
        srv__conn_kill(c);
}

/* LWS_CALLBACK_HTTP_WRITEABLE: lws has written all it kept of the last
 * write. */
static int http_writeable(srv_conn *c, struct lws *wsi)
{
    if (c->killing)
        return -1;
    if (c->out.head != c->out.tail) {
        if (http_write_some(c, SIZE_MAX))
            return -1;
        lws_callback_on_writable(wsi); /* again, to end the transaction once all is out */
        return 0;
    }
    if (c->hstate != H_WRITING)
        return 0;
    return http_done(c);
}

/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: a WebSocket upgrade at one of the
 * configured paths goes ahead; anything else (another path, h2c) is
 * answered 404, and the connection carries on with HTTP/1.1. */
static int http_upgrade(srv_conn *c, struct lws *wsi, const char *up)
{
    srv_net *n = c->net;
    c->last_rx = srv_mono_seconds();
    if (c->killing || c->draining)
        return -1;
    int k = lws_hdr_copy(wsi, n->scratch, (int)n->http_max_header + 1, WSI_TOKEN_GET_URI);
    if (up && strcasecmp(up, "websocket") == 0 && k > 0)
        for (size_t i = 0; i < n->n_ws_paths; i++)
            if (strcmp(n->scratch, n->ws_paths[i]) == 0)
                return 0;
    http_log_refused(c, 404, "upgrade");
    if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL))
        return -1;
    return 1;
}

/* The connection went with a request on it: one in flight is aborted
 * (the handler still answers it, and the answer is dropped), keeping its
 * body; one being received is dropped. */
void srv__http_conn_gone(srv_conn *c)
{
    srv_net *n = c->net;
    srv_http_req *r = c->req;
    c->req = NULL;
    r->c = NULL;
    if (!r->inflight || r->answered) {
        srv__req_retire(r);
        return;
    }
    if (r->body_len && c->rx) {
        r->body_own = (char *)c->rx;
        r->body_own_cap = c->rx_cap;
        r->body = r->body_own;
        n->in_total += r->body_own_cap; /* c's share goes in srv__conn_gone's srv__in_account */
        c->rx = NULL;
        c->rx_cap = 0;
        c->rx_len = 0;
    }
    r->aborted = true;
    if (!n->freeing)
        srv__conn_log("info", "http_abort", c, "method=%s", r->method);
    if (n->h.on_http_abort)
        n->h.on_http_abort(n->hctx, r);
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    if (!wsi)
        return 0;
    srv_net *n = lws_context_user(lws_get_context(wsi));
    srv_conn *c = lws_get_opaque_user_data(wsi);

    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: return srv__filter_accept(n, "http", in);
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        /* Counted from accept, so that connections still sending their
         * first headers count against the limits too. */
        return srv__conn_new(n, wsi, JN_HTTP) ? 0 : -1;
    case LWS_CALLBACK_HTTP: return c ? http_begin(c, wsi) : -1;
    case LWS_CALLBACK_HTTP_BODY: return c ? http_body(c, in, len) : -1;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: return c ? http_body_done(c) : -1;
    case LWS_CALLBACK_HTTP_WRITEABLE: return c ? http_writeable(c, wsi) : -1;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: return c ? http_upgrade(c, wsi, in) : -1;
    case LWS_CALLBACK_TIMER: /* http_flush's next look at a full socket */
        if (c && c->transport == JN_HTTP)
            http_flush(c);
        return c && c->killing ? -1 : 0;
    case LWS_CALLBACK_ESTABLISHED:
        /* A WebSocket upgrade went through: from now on c is a WebSocket
         * connection like those of the "ws" listener. */
        if (!c || c->killing)
            return -1;
        c->transport = JN_WS;
        c->hstate = H_IDLE;
        c->rx_len = 0;
        c->last_rx = srv_mono_seconds();
        return 0;
    case LWS_CALLBACK_RECEIVE:
        if (c && c->transport == JN_WS)
            srv__ws_rx(c, wsi, in, len);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c && c->transport == JN_WS ? srv__ws_writeable(c, wsi) : 0;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_RAW_CLOSE:
    case LWS_CALLBACK_WSI_DESTROY:
        if (c)
            srv__conn_gone(c);
        return 0;
    case LWS_CALLBACK_RAW_ADOPT:
    case LWS_CALLBACK_RAW_RX:
        /* A CONNECT request: lws would make the socket raw. */
        return -1;
    default: return 0;
    }
}

const struct lws_protocols srv__http_protocols[] = {
    {"http", http_callback, 0, 16384, 0, NULL, (size_t)1 << 20},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ------------------------------------------------------ HTTP requests */

const char *srv_http_method(const srv_http_req *r)
{
    return r->method;
}

const char *srv_http_path(const srv_http_req *r)
{
    return r->path;
}

const char *srv_http_query(const srv_http_req *r)
{
    return r->query;
}

const char *srv_http_query_arg(const srv_http_req *r, const char *name)
{
    size_t nl = strlen(name);
    const char *a = r->args;
    for (size_t i = 0; i < r->n_args; i++, a += strlen(a) + 1) {
        if (strncmp(a, name, nl) != 0)
            continue;
        if (a[nl] == '=')
            return a + nl + 1;
        if (a[nl] == '\0')
            return a + nl;
    }
    return NULL;
}

const char *srv_http_body(const srv_http_req *r, size_t *len)
{
    if (len)
        *len = r->body_len;
    return r->body;
}

int srv_http_header(const srv_http_req *r, const char *name, char *buf, size_t cap)
{
    srv_conn *c = r->c;
    if (!r->in_handler || !c || !c->wsi || !valid_name(name) || !buf || cap == 0)
        return -1;
    size_t nl = strlen(name);
    char lname[72];
    if (nl + 2 > sizeof lname)
        return -1;
    for (size_t i = 0; i < nl; i++)
        lname[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] - 'A' + 'a' : name[i]);
    lname[nl] = ':';
    lname[nl + 1] = '\0';
    int icap = cap > (size_t)INT32_MAX ? INT32_MAX : (int)cap;
    /* lws files the headers it knows under a token (its names are lower
     * case, with the colon), the rest by name, lower-cased as they came. */
    for (int t = 0; t < (int)WSI_TOKEN_COUNT; t++) {
        const unsigned char *ts = lws_token_to_string((enum lws_token_indexes)t);
        if (ts && strcmp((const char *)ts, lname) == 0) {
            if (lws_hdr_total_length(c->wsi, (enum lws_token_indexes)t) <= 0)
                return -1;
            return lws_hdr_copy(c->wsi, buf, icap, (enum lws_token_indexes)t);
        }
    }
    if (lws_hdr_custom_length(c->wsi, lname, (int)nl + 1) < 0)
        return -1;
    return lws_hdr_custom_copy(c->wsi, buf, icap, lname, (int)nl + 1);
}

srv_conn *srv_http_conn(const srv_http_req *r)
{
    return r->c;
}

bool srv_http_aborted(const srv_http_req *r)
{
    return r->aborted;
}

void srv_http_set_user(srv_http_req *r, void *user)
{
    r->user = user;
}

void *srv_http_user(const srv_http_req *r)
{
    return r->user;
}

unsigned srv_net_http_inflight(const srv_net *n)
{
    return n->http_inflight;
}

static const char INTERNAL_ERROR[] =
    "{\"success\":false,\"status_code\":\"500\",\"error_type\":"
    "\"server\",\"error\":\"internal\",\"message\":\"Internal error.\"}";

int srv_http_respond(srv_http_req *r, int status, const char *content_type,
                     const srv_http_field *hdrs, size_t nhdrs, const void *body, size_t len)
{
    if (!r || r->answered)
        return -1;
    srv_conn *c = r->c;
    bool head = r->head;
    if (c && c->req == r)
        c->req = NULL;
    srv__req_retire(r);
    if (!c || c->gone || c->killing || c->hstate != H_INFLIGHT)
        return -1;
    bool ok = status >= 100 && status <= 599 && (!content_type || valid_value(content_type)) &&
              (!nhdrs || hdrs) && (len == 0 || body);
    for (size_t i = 0; ok && i < nhdrs; i++)
        ok = valid_name(hdrs[i].name) && valid_value(hdrs[i].value);
    if (!ok) {
        srv__conn_log("error", "http_bad_answer", c, "status=%d", status);
        return http_answer(c, 500, "application/json", NULL, 0, INTERNAL_ERROR,
                           sizeof INTERNAL_ERROR - 1, head);
    }
    return http_answer(c, status, content_type, hdrs, nhdrs, body, len, head);
}
