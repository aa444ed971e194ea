/*
 * srv_ws.c — the server core's WebSocket connections (srv.h): RFC 6455
 * spoken on lws's raw-socket role for the "ws" listener (frames parsed by
 * ws.c), and the WebSocket side of an HTTP connection after an upgrade
 * (lws's own role), on the connections, budgets and loop of srv.c.
 */
#include "srv_int.h"

/* A binary frame where text was expected (PROTOCOL.md §6.1): no request id
 * to echo, so answered here, not by the dispatcher. */
static const char WS_TEXT_REQUIRED[] = "{\"type\":\"error\",\"error\":\"wsTextRequired\"}";

/* --------------------------------------------------------- WebSocket */

static void ws_too_large(srv_conn *c)
{
    char msg[160];
    int k = snprintf(msg, sizeof msg,
                     "{\"type\":\"error\",\"error\":\"frameTooLarge\",\"max_message\":%zu,"
                     "\"error_message\":\"Message larger than %zu bytes.\"}",
                     c->net->max_message, c->net->max_message);
    srv__conn_log("warn", "frame_too_large", c, "max_message=%zu", c->net->max_message);
    srv_conn_send(c, msg, (size_t)k);
    srv__conn_drain(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE);
}

/* A piece of a data message, first and/or last of it (binary: the
 * message is not text). */
static void ws_piece(srv_conn *c, const uint8_t *in, size_t len, bool first, bool final,
                     bool binary)
{
    srv_net *n = c->net;
    if (first) {
        c->rx_len = 0;
        c->rx_binary = binary;
    }
    if (c->rx_binary) {
        /* Swallow the rest of the message, answer once. */
        if (final)
            srv_conn_send(c, WS_TEXT_REQUIRED, sizeof WS_TEXT_REQUIRED - 1);
        return;
    }
    if (len > n->max_message - c->rx_len) {
        ws_too_large(c);
        return;
    }
    if (c->rx_len + len + 1 > c->rx_cap) {
        size_t ncap = c->rx_cap ? c->rx_cap : 4096;
        while (ncap < c->rx_len + len + 1)
            ncap *= 2;
        if (ncap > n->max_message + 1) /* never twice what a message may be */
            ncap = n->max_message + 1;
        if (!srv__rx_grow(c, ncap))
            return;
    }
    if (len)
        memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (!final)
        return;
    /* NUL-terminated so that handlers may use string parsers directly. */
    c->rx[c->rx_len] = '\0';
    size_t mlen = c->rx_len;
    c->rx_len = 0;
    srv__deliver(c, (const char *)c->rx, mlen);
    if (c->rx_cap > RX_KEEP_MAX && !c->gone) {
        free(c->rx);
        c->rx = NULL;
        c->rx_cap = 0;
        srv__in_account(c);
    }
}

/* A WebSocket upgraded on the HTTP listener: lws parsed the frame. */
void srv__ws_rx(srv_conn *c, struct lws *wsi, const uint8_t *in, size_t len)
{
    c->last_rx = srv_mono_seconds();
    if (c->killing || c->draining)
        return;
    bool first = lws_is_first_fragment(wsi) != 0;
    bool final = lws_is_final_fragment(wsi) != 0;
    /* A message must arrive whole within msg_deadline_s of its first
     * bytes: a client that starts messages and never finishes them would
     * otherwise hold their buffers for as long as it likes. */
    if (!final && !c->rx_deadline) {
        c->rx_deadline = true;
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, (int)c->net->msg_deadline_s);
    } else if (final && c->rx_deadline) {
        c->rx_deadline = false;
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    }
    ws_piece(c, in, len, first, final, first ? lws_frame_is_binary(wsi) != 0 : c->rx_binary);
}

/* --------------------------------------------- WebSocket on the raw role
 *
 * The "ws" listener's connections speak RFC 6455 through ws.c: lws only
 * reads and writes bytes. That is what lets the core refuse what lws's own
 * WebSocket role lets through (unmasked client frames, among others). */

/* Queues a control frame (or, before the handshake is done, raw bytes):
 * false when there is no room. */
static bool ctlq_add(srv_conn *c, int opcode, const void *p, size_t len, bool raw)
{
    uint8_t h[10];
    size_t hl = raw ? 0 : srv_ws_frame_header(h, opcode, true, len);
    if (c->ctlq_len + hl + len > sizeof c->ctlq)
        return false;
    memcpy(c->ctlq + c->ctlq_len, h, hl);
    if (len)
        memcpy(c->ctlq + c->ctlq_len + hl, p, len);
    c->ctlq_len += hl + len;
    if (c->wsi)
        lws_callback_on_writable(c->wsi);
    return true;
}

/* Starts or stops the message deadline as the parser stands. */
static void ws_deadline(srv_conn *c)
{
    if (c->killing || c->draining || c->gone || !c->wsi || c->deadline_held)
        return;
    bool busy = srv_ws_parser_busy(&c->wp);
    if (busy && !c->rx_deadline) {
        c->rx_deadline = true;
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, (int)c->net->msg_deadline_s);
    } else if (!busy && c->rx_deadline) {
        c->rx_deadline = false;
        lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
    }
}

/* Parses and acts on buf[0..len) until it is used up or the connection
 * may read no further (its turn is over, its output holds it back, it
 * closes). Returns the bytes used. */
static size_t ws_parse_some(srv_conn *c, uint8_t *buf, size_t len)
{
    size_t used = 0;
    c->in_parse = true;
    while (used < len && !c->paused && !c->yielded && !c->killing && !c->draining && !c->gone) {
        srv_ws_event ev;
        used += srv_ws_parse(&c->wp, buf + used, len - used, &ev);
        switch (ev.kind) {
        case SRV_WS_NONE:
        case SRV_WS_PONG: break;
        case SRV_WS_DATA: ws_piece(c, ev.data, ev.len, ev.first, ev.final, ev.binary); break;
        case SRV_WS_PING:
            /* A later ping replaces a pong not yet written. */
            memcpy(c->pong, ev.data, ev.len);
            c->pong_len = (uint8_t)ev.len;
            c->pong_owed = true;
            lws_callback_on_writable(c->wsi);
            break;
        case SRV_WS_CLOSE:
            /* Answered with the same code once what is queued is out. */
            srv__conn_drain(c, ev.code ? (enum lws_close_status)ev.code : LWS_CLOSE_STATUS_NORMAL);
            break;
        case SRV_WS_FAIL:
            srv__conn_log("warn", "ws_protocol_error", c, "close_code=%u reason=\"%s\"", ev.code,
                          ev.why);
            srv__conn_drain(c, (enum lws_close_status)ev.code);
            break;
        }
    }
    c->in_parse = false;
    return used;
}

/* What was parsed of the held bytes (used of them) is let go. */
static void ws_hold_used(srv_conn *c, size_t used)
{
    c->hold_off += used;
    if (c->hold_off >= c->hold_len) {
        c->hold_off = c->hold_len = 0;
        if (c->hold_cap > RX_KEEP_MAX) {
            free(c->hold);
            c->hold = NULL;
            c->hold_cap = 0;
            srv__in_account(c);
        }
    }
}

/* Keeps p[0..n) (from lws's read buffer, or the handshake's) behind what
 * is held already. */
static void ws_hold_add(srv_conn *c, const uint8_t *p, size_t n)
{
    if (!n || c->killing || c->gone)
        return;
    if (n > c->hold_cap - c->hold_len && c->hold_off) {
        /* Moved down only here, so each byte moves at most once. */
        memmove(c->hold, c->hold + c->hold_off, c->hold_len - c->hold_off);
        c->hold_len -= c->hold_off;
        c->hold_off = 0;
    }
    if (n > c->hold_cap - c->hold_len &&
        !srv__input_grow(c, &c->hold, &c->hold_cap, c->hold_len + n))
        return;
    memcpy(c->hold + c->hold_len, p, n);
    c->hold_len += n;
    srv__in_account(c);
}

/* Reading may go on: what was held back is parsed first. */
void srv__ws_resume(srv_conn *c)
{
    if (c->in_parse || !c->ws_open || !c->hold_len || c->gone || c->killing || c->draining)
        return;
    size_t used = ws_parse_some(c, c->hold + c->hold_off, c->hold_len - c->hold_off);
    if (c->gone || c->killing) {
        srv__drop_input(c);
        return;
    }
    ws_hold_used(c, c->draining ? c->hold_len : used);
    ws_deadline(c);
}

/* The opening handshake: the request head gathers in c->rx. */
static void ws_handshake(srv_conn *c, uint8_t *in, size_t len)
{
    size_t want = c->rx_len + len;
    size_t room = WS_MAX_HEAD > c->rx_len ? WS_MAX_HEAD - c->rx_len : 0;
    size_t take = len < room ? len : room;
    if (c->rx_len + take + 1 > c->rx_cap && !srv__rx_grow(c, WS_HEAD_BUF))
        return;
    memcpy(c->rx + c->rx_len, in, take);
    c->rx_len += take;
    /* Only the new bytes are searched for the head's end (a head sent a
     * byte at a time would otherwise be searched over and over); the head
     * is parsed once, when whole. */
    bool whole = false;
    for (size_t i = c->head_seen > 3 ? c->head_seen - 3 : 0; i + 4 <= c->rx_len && !whole; i++)
        whole = !memcmp(c->rx + i, "\r\n\r\n", 4);
    c->head_seen = c->rx_len;
    srv_ws_handshake hs;
    size_t head = whole ? srv_ws_read_handshake((const char *)c->rx, c->rx_len, &hs) : 0;
    if (!head) {
        if (want < WS_MAX_HEAD)
            return;
        hs.status = 400;
        hs.why = "request head too large";
    }
    char answer[WS_CTLQ];
    size_t alen = srv_ws_handshake_answer(&hs, answer, sizeof answer);
    (void)ctlq_add(c, 0, answer, alen, true);
    if (hs.status != 101) {
        srv__conn_log("info", "ws_refused", c, "status=%d reason=\"%s\"", hs.status, hs.why);
        c->rx_len = 0;
        srv__conn_drain(c, LWS_CLOSE_STATUS_NOSTATUS);
        return;
    }
    c->ws_open = true;
    lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
    /* Frames sent right behind the head. */
    size_t rest = c->rx_len - head;
    c->rx_len = 0;
    if (rest || take < len) {
        ws_hold_add(c, c->rx + head, rest);
        ws_hold_add(c, in + take, len - take); /* nothing when killed meanwhile */
        srv__ws_resume(c);
    }
}

static void wsr_rx(srv_conn *c, uint8_t *in, size_t len)
{
    c->last_rx = srv_mono_seconds();
    if (c->killing || c->draining)
        return;
    if (!c->ws_open) {
        ws_handshake(c, in, len);
        return;
    }
    if (c->hold_len) {
        ws_hold_add(c, in, len);
        srv__ws_resume(c);
        return;
    }
    size_t used = ws_parse_some(c, in, len);
    if (c->gone || c->killing) {
        srv__drop_input(c);
        return;
    }
    if (used < len && !c->draining)
        ws_hold_add(c, in + used, len - used);
    ws_deadline(c);
}

/* WRITEABLE for both kinds of WebSocket connection. */
int srv__ws_writeable(srv_conn *c, struct lws *wsi)
{
    uint8_t *p;
    size_t len;
    if (c->killing)
        return -1;
    if (c->own_ws && c->ctlq_len) {
        /* lws keeps what the kernel does not take. */
        if (lws_write(wsi, c->ctlq, c->ctlq_len, LWS_WRITE_RAW) < 0)
            return -1;
        c->ctlq_len = 0;
        if (c->out.head != c->out.tail || c->draining)
            lws_callback_on_writable(wsi);
        return 0;
    }
    if (c->own_ws && !c->ws_open)
        return c->draining ? -1 : 0; /* a refused handshake's answer is out */
    if (c->own_ws && c->pong_owed && !c->close_sent) {
        uint8_t f[2 + sizeof c->pong];
        size_t hl = srv_ws_frame_header(f, SRV_WS_OP_PONG, true, c->pong_len);
        memcpy(f + hl, c->pong, c->pong_len);
        c->pong_owed = false;
        if (lws_write(wsi, f, hl + c->pong_len, LWS_WRITE_RAW) < 0)
            return -1;
        if (c->out.head != c->out.tail || c->draining)
            lws_callback_on_writable(wsi);
        return 0;
    }
    if (srv__outq_front(&c->out, &p, &len)) {
        /* One lws_write per WRITEABLE: lws keeps any part the kernel did not
         * take and holds back the next WRITEABLE until it is out. A message
         * goes out in fragments of at most WS_FRAGMENT, so that what lws
         * keeps of a peer that does not read stays small (it is outside the
         * output budget); the headroom before each fragment is message
         * bytes already sent. */
        size_t off = c->frag_off, chunk = len - off < WS_FRAGMENT ? len - off : WS_FRAGMENT;
        bool last = off + chunk == len;
        if (c->own_ws) {
            uint8_t h[10];
            size_t hl =
                srv_ws_frame_header(h, off == 0 ? SRV_WS_OP_TEXT : SRV_WS_OP_CONT, last, chunk);
            memcpy(p + off - hl, h, hl);
            if (lws_write(wsi, p + off - hl, chunk + hl, LWS_WRITE_RAW) < 0)
                return -1;
        } else {
            int flags = lws_write_ws_flags(LWS_WRITE_TEXT, off == 0, last);
            if (lws_write(wsi, p + off, chunk, (enum lws_write_protocol)flags) < 0)
                return -1;
        }
        srv__out_done(c, chunk);
        if (last) {
            c->frag_off = 0;
            srv__outq_pop(&c->out, len);
        } else {
            c->frag_off = off + chunk;
        }
        srv__out_account(c);
        if (c->out.head != c->out.tail || c->draining || c->ctlq_len)
            lws_callback_on_writable(wsi);
        srv__pace(c);
        return 0;
    }
    if (c->draining) {
        if (!c->own_ws) {
            lws_close_reason(wsi, c->close_status, NULL, 0);
            return -1;
        }
        if (c->close_sent)
            return -1;
        uint8_t code[2] = {(uint8_t)((unsigned)c->close_status >> 8), (uint8_t)c->close_status};
        c->close_sent = true;
        if (!ctlq_add(c, SRV_WS_OP_CLOSE, code, sizeof code, false))
            return -1;
        return 0;
    }
    return 0;
}

int srv__ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len)
{
    if (!wsi)
        return 0;
    srv_net *n = lws_context_user(lws_get_context(wsi));
    srv_conn *c = lws_get_opaque_user_data(wsi);

    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: return srv__filter_accept(n, "ws", in);
    case LWS_CALLBACK_RAW_ADOPT:
        c = srv__conn_new(n, wsi, JN_WS);
        if (!c)
            return -1;
        c->own_ws = true;
        srv_ws_parser_init(&c->wp);
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK,
                        (int)(n->msg_deadline_s < WS_HANDSHAKE_TIMEOUT_S ? n->msg_deadline_s
                                                                         : WS_HANDSHAKE_TIMEOUT_S));
        return 0;
    case LWS_CALLBACK_RAW_RX:
        if (c)
            wsr_rx(c, in, len);
        return 0;
    case LWS_CALLBACK_RAW_WRITEABLE: return c ? srv__ws_writeable(c, wsi) : 0;
    case LWS_CALLBACK_RAW_CLOSE:
    case LWS_CALLBACK_WSI_DESTROY:
        if (c)
            srv__conn_gone(c);
        return 0;
    default: return 0;
    }
}
