/*
 * srv.c — the server core (see srv.h): WebSocket, jtp and HTTP listeners
 * on one libwebsockets loop. WebSocket connections (RFC 6455 on the raw
 * role, and the WebSocket side of an HTTP upgrade) are in srv_ws.c, the
 * HTTP listener's requests and answers in srv_http.c; what the files share
 * is in srv_int.h.
 *
 * Shape of the thing:
 *
 *  - One lws context with up to three explicit vhosts: "ws" (raw TCP
 *    with RFC 6455 spoken in srv_ws.c, through ws.c: lws's own WebSocket role
 *    would take unmasked client frames), "jtp" (raw TCP: every accepted
 *    socket is bound to the raw-skt role and our "jtp" protocol) and
 *    "http" (HTTP/1.1, optionally TLS, with WebSocket upgrades at chosen
 *    paths; see srv_http.c). Each accepted connection gets a
 *    srv_conn, found from its wsi through lws's opaque user pointer.
 *  - A srv_conn outlives its wsi: when lws reports the close we call on_close,
 *    unhook it from the wsi and put it on a dead list that srv_net_run frees
 *    between two lws_service() calls — never inside a callback of its own,
 *    so a dispatcher that still holds the pointer during on_close (or in the
 *    same service round) does not touch freed memory.
 *  - Output is queued per connection and written from the WRITEABLE
 *    callback. WebSocket messages sit in one reusable buffer with LWS_PRE
 *    headroom in front of each (the frame header is written there, by us
 *    or by lws), so a reply costs a memcpy, not a malloc. jtp output lives in the jt_jtp
 *    handle, which frames and encrypts on send; a WRITEABLE writes all of it
 *    (up to JTP_WRITE_CHUNK) in one go, which is what makes pipelined
 *    requests cheap.
 *  - Closing from outside a connection's own callback (slow consumer, or a
 *    send from another connection's handler or a timer) goes through
 *    lws_set_timeout(LWS_TO_KILL_ASYNC): lws then closes it on its next
 *    service round. A close that must first flush a last message
 *    (frameTooLarge, forbidden) sets `draining`, and the WRITEABLE that finds
 *    the queue empty returns -1.
 *  - srv_net_post and srv_net_stop are the only cross-thread entry points: a
 *    mutex-protected list and an atomic flag, each followed by
 *    lws_cancel_service() to wake poll(). The posted callbacks run from
 *    srv_net_run between service rounds, outside any connection callback.
 */
#ifdef __linux__
#define _GNU_SOURCE /* sync_file_range */
#include <fcntl.h>
#endif
#include "srv_int.h"

#ifdef __linux__
#include <sys/timerfd.h>
#endif

static void tfd_open(srv_net *n);

#include <sys/stat.h>

static const char *const TRANSPORT_NAME[] = {[JN_WS] = "ws", [JN_JTP] = "jtp", [JN_HTTP] = "http"};

static atomic_uint_fast64_t next_conn_id;

/* ------------------------------------------------------------------ log */

/* One line per event, key=value, to stderr. Peers are addresses, never key
 * material. */
void srv__conn_log(const char *level, const char *event, const srv_conn *c, const char *fmt, ...)
{
    char extra[256] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(extra, sizeof extra, fmt, ap);
        va_end(ap);
    }
    if (c)
        fprintf(stderr, "level=%s mod=net event=%s conn=%llu transport=%s peer=%s%s%s\n", level,
                event, (unsigned long long)c->id, TRANSPORT_NAME[c->transport], c->peer,
                extra[0] ? " " : "", extra);
    else
        fprintf(stderr, "level=%s mod=net event=%s%s%s\n", level, event, extra[0] ? " " : "",
                extra);
}

static void lws_log_emit(int level, const char *line)
{
    /* lws lines end with '\n' already. */
    fprintf(stderr, "level=%s mod=lws msg=%s", level == LLL_ERR ? "error" : "warn", line);
}

/* ------------------------------------------------------------ helpers */

double srv_mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool key_listed(const uint8_t (*list)[32], size_t n, const uint8_t *pk)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(list[i], pk, 32) == 0)
            return true;
    return false;
}

int srv_net_prefix_parse(const char *s, srv_net_prefix *out)
{
    char host[INET6_ADDRSTRLEN + 8];
    const char *slash = strchr(s, '/');
    size_t hl = slash ? (size_t)(slash - s) : strlen(s);
    if (hl == 0 || hl >= sizeof host)
        return -1;
    memcpy(host, s, hl);
    host[hl] = 0;
    memset(out, 0, sizeof *out);
    unsigned max;
    struct in_addr v4;
    if (inet_pton(AF_INET, host, &v4) == 1) {
        out->addr[10] = out->addr[11] = 0xff;
        memcpy(out->addr + 12, &v4, 4);
        max = 32;
    } else if (inet_pton(AF_INET6, host, out->addr) == 1) {
        max = 128;
    } else {
        return -1;
    }
    unsigned bits = max;
    if (slash) {
        char *end;
        errno = 0;
        unsigned long b = strtoul(slash + 1, &end, 10);
        if (errno || end == slash + 1 || *end || b > max)
            return -1;
        bits = (unsigned)b;
    }
    out->bits = bits + (128 - max);
    return 0;
}

static bool in_prefix(const uint8_t addr[16], const srv_net_prefix *p)
{
    unsigned full = p->bits / 8, rest = p->bits % 8;
    if (memcmp(addr, p->addr, full))
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (addr[full] & mask) == (p->addr[full] & mask);
}

/* Is a peer at addr (16-byte form) admin by address? */
static bool admin_addr(const srv_net *n, const uint8_t addr[16])
{
    for (size_t i = 0; i < n->n_admin_nets; i++)
        if (in_prefix(addr, &n->admin_nets[i]))
            return true;
    return false;
}

/* The peer as "a.b.c.d:port" or "[v6]:port", and whether it is loopback.
 * IPv4-mapped IPv6 peers (from a dual-stack listener) count as IPv4. */
static void describe_peer(int fd, char *out, size_t cap, bool *loopback)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    bool v6 = false;

    *loopback = false;
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) != 0) {
        snprintf(out, cap, "?");
        return;
    }
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
        *loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
        port = ntohs(a->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
            struct in_addr v4;
            memcpy(&v4, &a->sin6_addr.s6_addr[12], 4);
            inet_ntop(AF_INET, &v4, host, sizeof host);
            *loopback = a->sin6_addr.s6_addr[12] == 127;
        } else {
            inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
            *loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
            v6 = true;
        }
    }
    snprintf(out, cap, v6 ? "[%s]:%u" : "%s:%u", host, port);
}

/* The peer's address in 16 bytes (IPv4, and IPv4-mapped IPv6, as
 * ::ffff:a.b.c.d), all zero when unknown. */
static void peer_addr(int fd, uint8_t out[16])
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    memset(out, 0, 16);
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        out[10] = out[11] = 0xFF;
        memcpy(out + 12, &((const struct sockaddr_in *)&ss)->sin_addr, 4);
    } else if (ss.ss_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)&ss)->sin6_addr, 16);
    }
}

/* "HOST:PORT" with HOST a numeric IPv4 address, a bracketed IPv6 address,
 * "localhost", or "*" / empty for every interface. Names other than
 * localhost are refused: a listener must not depend on DNS. */
typedef struct jn_addr {
    char iface[INET6_ADDRSTRLEN]; /* "" = every interface */
    int port;
    bool ipv4_only;
} jn_addr;

static int parse_addr(const char *what, const char *s, jn_addr *a, char *err, size_t errcap)
{
    const char *host = s, *colon;
    size_t hlen;

    memset(a, 0, sizeof *a);
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            goto bad;
        host = s + 1;
        hlen = (size_t)(rb - host);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            goto bad;
        hlen = (size_t)(colon - s);
        if (memchr(s, ':', hlen)) /* an IPv6 address needs brackets */
            goto bad;
    }
    if (hlen >= sizeof a->iface)
        goto bad;

    const char *p = colon + 1;
    if (*p < '0' || *p > '9')
        goto bad;
    char *end;
    errno = 0;
    unsigned long port = strtoul(p, &end, 10);
    if (errno || *end || port > 65535)
        goto bad;
    a->port = (int)port;

    char h[INET6_ADDRSTRLEN];
    memcpy(h, host, hlen);
    h[hlen] = '\0';
    unsigned char tmp[sizeof(struct in6_addr)];
    if (hlen == 0 || strcmp(h, "*") == 0) {
        /* dual-stack wildcard */
    } else if (strcmp(h, "localhost") == 0) {
        snprintf(a->iface, sizeof a->iface, "127.0.0.1");
        a->ipv4_only = true;
    } else if (strcmp(h, "0.0.0.0") == 0) {
        a->ipv4_only = true;
    } else if (inet_pton(AF_INET, h, tmp) == 1) {
        memcpy(a->iface, h, hlen + 1);
        a->ipv4_only = true;
    } else if (inet_pton(AF_INET6, h, tmp) == 1) {
        if (strcmp(h, "::") != 0)
            memcpy(a->iface, h, hlen + 1);
    } else {
        goto bad;
    }
    return 0;

bad:
    snprintf(err, errcap, "%s address \"%s\": expected HOST:PORT with a numeric host", what, s);
    return -1;
}

/* -------------------------------------------------------- output queue */

static size_t outq_rec_size(size_t len)
{
    return (OUTQ_HDR + LWS_PRE + len + 7) & ~(size_t)7;
}

bool srv__outq_push(jn_outq *q, const char *msg, size_t len)
{
    size_t need = outq_rec_size(len);
    if (q->cap - q->tail < need) {
        size_t live = q->tail - q->head;
        /* Compact in place only while the queue is at most half full, so
         * that a queue near its capacity grows instead of being moved on
         * every push. */
        if (q->head && live <= q->cap / 2 && q->cap - live >= need) {
            memmove(q->buf, q->buf + q->head, live);
        } else {
            size_t ncap = q->cap ? q->cap * 2 : 4096;
            while (ncap < live + need)
                ncap *= 2;
            uint8_t *nb = malloc(ncap);
            if (!nb)
                return false;
            if (live)
                memcpy(nb, q->buf + q->head, live);
            free(q->buf);
            q->buf = nb;
            q->cap = ncap;
        }
        q->head = 0;
        q->tail = live;
    }
    uint8_t *r = q->buf + q->tail;
    memcpy(r, &len, sizeof len);
    memcpy(r + OUTQ_HDR + LWS_PRE, msg, len);
    q->tail += need;
    q->bytes += len;
    return true;
}

/* The oldest message; its LWS_PRE bytes of headroom are writable. */
bool srv__outq_front(const jn_outq *q, uint8_t **p, size_t *len)
{
    if (q->head == q->tail)
        return false;
    memcpy(len, q->buf + q->head, sizeof *len);
    *p = q->buf + q->head + OUTQ_HDR + LWS_PRE;
    return true;
}

static void outq_clear(jn_outq *q)
{
    free(q->buf);
    memset(q, 0, sizeof *q);
}

void srv__outq_pop(jn_outq *q, size_t len)
{
    q->head += outq_rec_size(len);
    q->bytes -= len;
    if (q->head == q->tail) {
        q->head = q->tail = 0;
        if (q->cap > OUT_KEEP_MAX)
            outq_clear(q);
    }
}

/* -------------------------------------------------------- connections */

void srv_addr_key(const uint8_t addr[16], uint8_t key[16])
{
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memcpy(key, addr, 16);
    if (memcmp(addr, v4mapped, 12) != 0)
        memset(key + 8, 0, 8); /* IPv6: the /64 */
}

/* The open connections under one address key (a scan: at most max_conns). */
static unsigned conns_from(const srv_net *n, const uint8_t key[16])
{
    unsigned k = 0;
    for (const srv_conn *c = n->conns; c; c = c->next)
        if (!c->gone && memcmp(c->akey, key, 16) == 0)
            k++;
    return k;
}

/* NULL when a new connection from addr may be admitted, else why not:
 * the node's limit, or the limit for one address (so that one client
 * cannot take every connection the node has). */
static const char *admit(srv_net *n, const uint8_t key[16])
{
    if (atomic_load(&n->nconns) >= n->max_conns || n->freeing)
        return "max_conns";
    if (conns_from(n, key) >= n->max_per_addr)
        return "max_per_addr";
    return NULL;
}

/* A connection flood must not become a log flood: one line a second at
 * most, with the number refused since the last one. */
static void log_refused(srv_net *n, const char *why, const char *transport, const char *peer)
{
    n->refused++;
    double now = srv_mono_seconds();
    if (now - n->refused_logged < 1.0)
        return;
    srv__conn_log("warn", "conn_refused", NULL,
                  "reason=%s max_conns=%u max_per_addr=%u transport=%s peer=%s refused=%u", why,
                  n->max_conns, n->max_per_addr, transport, peer, n->refused);
    n->refused = 0;
    n->refused_logged = now;
}

/* LWS_CALLBACK_FILTER_NETWORK_CONNECTION: refuse at accept() when full,
 * before any handshake work. */
int srv__filter_accept(srv_net *n, const char *transport, void *in)
{
    int fd = (int)(lws_intptr_t)in;
    uint8_t addr[16], key[16];
    peer_addr(fd, addr);
    srv_addr_key(addr, key);
    const char *why = admit(n, key);
    if (!why)
        return 0;
    char peer[INET6_ADDRSTRLEN + 10];
    bool lo;
    describe_peer(fd, peer, sizeof peer, &lo);
    log_refused(n, why, transport, peer);
    return 1;
}

srv_conn *srv__conn_new(srv_net *n, struct lws *wsi, enum jn_transport t)
{
    srv_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->net = n;
    c->wsi = wsi;
    c->transport = t;
    c->id = atomic_fetch_add(&next_conn_id, 1) + 1;
    describe_peer(lws_get_socket_fd(wsi), c->peer, sizeof c->peer, &c->loopback);
    peer_addr(lws_get_socket_fd(wsi), c->addr);
    srv_addr_key(c->addr, c->akey);
    const char *why = admit(n, c->akey);
    if (why) {
        log_refused(n, why, TRANSPORT_NAME[t], c->peer);
        free(c);
        return NULL;
    }
    c->tokens = n->burst;
    c->last_refill = srv_mono_seconds();
    c->last_rx = c->last_refill;
    c->progress_at = c->last_refill;
    if (t == JN_WS || t == JN_HTTP) {
        c->admin = admin_addr(n, c->addr);
    } else {
        jt_jtp_limits lim;
        jt_jtp_limits_init(&lim);
        lim.max_message = n->max_message;
        /* Replies may take the queue past max_outbuf (reading stops at half
         * of it); conn_queue caps the pushes in it, and srv__out_room the
         * total. */
        lim.max_output = n->max_out_total;
        jt_errinfo ei;
        jt_err e = jt_jtp_new_server(n->node_pk, n->node_sk, &lim, n->jtp_plaintext && c->loopback,
                                     &c->jtp, &ei);
        if (e != JT_OK) {
            srv__conn_log("error", "jtp_setup_failed", c, "error=%s", jt_errname(e));
            free(c);
            return NULL;
        }
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, JTP_HANDSHAKE_TIMEOUT_S);
    }
    c->next = n->conns;
    if (n->conns)
        n->conns->prev = c;
    n->conns = c;
    atomic_fetch_add(&n->nconns, 1);
    lws_set_opaque_user_data(wsi, c);
    return c;
}

/* -------------------------------------------------------- the output budget */

static size_t out_queued(const srv_conn *c)
{
    if (c->transport != JN_JTP)
        return c->out.bytes;
    const uint8_t *p;
    size_t np = 0;
    if (c->jtp)
        jt_jtp_pending_output(c->jtp, &p, &np);
    return np;
}

/* The memory c's output holds, as the budget counts it: for WebSocket the
 * queue's whole buffer, not only the bytes in it (the allocator hands out
 * pages it has used before, so a buffer is resident whether or not every
 * byte of it was written). */
static size_t out_memory(const srv_conn *c)
{
    return c->transport != JN_JTP ? c->out.cap : jt_jtp_output_buffered(c->jtp);
}

/* Brings the net's total up to date with c's queue. */
void srv__out_account(srv_conn *c)
{
    srv_net *n = c->net;
    size_t q = c->gone ? 0 : out_memory(c);
    n->out_total = n->out_total - c->out_counted + q;
    c->out_counted = q;
}

/* ------------------------------------------------ reading, and its pause
 *
 * A client's requests make replies; a client that asks faster than it
 * reads would make its queue grow without end, so above `threshold` the
 * connection's reading stops (the kernel's buffers, then TCP, hold its
 * requests back) until what is queued falls to it again. Stream messages
 * cannot be held back that way: those alone are capped by max_outbuf.
 * What no pause fixes is a peer that reads nothing at all: the watchdog
 * closes a connection whose output has not moved for slow_reader_s. */

static size_t threshold(const srv_net *n)
{
    return n->max_outbuf / 2;
}

static bool push_mark_add(srv_conn *c, size_t size)
{
    if (c->m_tail == c->m_cap) {
        /* Moved down only when half is free, so each mark moves O(1) times. */
        if (c->m_cap && c->m_head >= c->m_cap / 2) {
            memmove(c->marks, c->marks + c->m_head, (c->m_tail - c->m_head) * sizeof *c->marks);
            c->m_tail -= c->m_head;
            c->m_head = 0;
        } else {
            size_t ncap = c->m_cap ? 2 * c->m_cap : 16;
            struct push_mark *nm = realloc(c->marks, ncap * sizeof *nm);
            if (!nm)
                return false;
            c->marks = nm;
            c->m_cap = ncap;
        }
    }
    c->marks[c->m_tail].end = c->out_in;
    c->marks[c->m_tail].size = size;
    c->m_tail++;
    c->push_bytes += size;
    return true;
}

/* `len` more bytes of c's output were written. */
void srv__out_done(srv_conn *c, size_t len)
{
    c->out_done += len;
    while (c->m_head < c->m_tail && c->marks[c->m_head].end <= c->out_done)
        c->push_bytes -= c->marks[c->m_head++].size;
    if (c->m_head == c->m_tail)
        c->m_head = c->m_tail = 0;
}

static void jtp_deliver(srv_conn *c);

/* Stops or resumes reading as c's queue stands against the threshold. */
void srv__pace(srv_conn *c)
{
    if (c->gone || c->killing || !c->wsi)
        return;
    bool over = out_queued(c) > threshold(c->net);
    if (over == c->paused)
        return;
    c->paused = over;
    lws_rx_flow_control(c->wsi, over || c->yielded ? 0 : 1);
    /* A message under way cannot be finished while nothing is read: its
     * deadline stops, and starts afresh on resuming. */
    if (over && c->rx_deadline) {
        c->rx_deadline = false;
        c->deadline_held = true;
        lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
    } else if (!over && c->deadline_held) {
        c->deadline_held = false;
        c->rx_deadline = true;
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, (int)c->net->msg_deadline_s);
    }
    /* jtp frames that arrived with the last read wait in the handle. */
    if (!over && c->transport == JN_JTP)
        jtp_deliver(c);
    else if (!over && c->own_ws)
        srv__ws_resume(c);
}

/* The bytes the peer's TCP has acknowledged (0 where unknown): they move
 * while the peer reads, even when lws holds a part of a large message. */
static uint64_t tcp_acked(const srv_conn *c)
{
#ifdef __linux__
    struct tcp_info ti;
    socklen_t sl = sizeof ti;
    memset(&ti, 0, sizeof ti);
    int fd = c->wsi ? lws_get_socket_fd(c->wsi) : -1;
    if (fd >= 0 && getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &sl) == 0 &&
        sl >= offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof ti.tcpi_bytes_acked)
        return ti.tcpi_bytes_acked;
#endif
    return 0;
}

/* Every WATCHDOG_MS: a connection with output waiting that has not moved
 * for slow_reader_s is not reading, paused or not, and is closed. */
static void give_back_memory(srv_net *n);

/* Has the peer of c closed its side (or reset)? Reading is held while a
 * request is in flight, so lws would not see it go. */
static bool peer_left(const srv_conn *c)
{
#if defined(__linux__) && !defined(POLLRDHUP)
#define POLLRDHUP 0x2000 /* the kernel's; glibc names it only under _GNU_SOURCE */
#elif !defined(POLLRDHUP)
#define POLLRDHUP 0 /* elsewhere only resets are seen */
#endif
    int fd = c->wsi ? lws_get_socket_fd(c->wsi) : -1;
    if (fd < 0)
        return false;
    struct pollfd p = {fd, POLLRDHUP, 0};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void watchdog(lws_sorted_usec_list_t *sul)
{
    srv_net *n = lws_container_of(sul, srv_net, watchdog);
    double now = srv_mono_seconds();
    /* While output runs high, the buffers its queues grew out of go back
     * to the system each second, not when the allocator gets round to it. */
    if (n->out_total > n->max_out_total / 4)
        give_back_memory(n);
    for (srv_conn *c = n->conns; c; c = c->next) {
        if (c->gone || c->killing || !c->wsi)
            continue;
        if (c->transport == JN_HTTP && c->rx_held &&
            (c->hstate == H_INFLIGHT || c->hstate == H_WRITING) && peer_left(c)) {
            /* Its request is aborted (on_http_abort) when lws reports the
             * close. A client that only shut its sending side is taken as
             * gone too. */
            srv__conn_kill(c);
            continue;
        }
        bool waiting = out_queued(c) > 0 || lws_partial_buffered(c->wsi);
        uint64_t acked = waiting ? tcp_acked(c) : 0;
        if (!waiting || c->out_done != c->progress_done || acked != c->progress_acked) {
            c->progress_at = now;
            c->progress_done = c->out_done;
            c->progress_acked = acked;
            continue;
        }
        if (now - c->progress_at < (double)n->slow_reader_s)
            continue;
        srv__conn_log("warn", "slow_consumer", c, "reason=not_reading queued=%zu slow_reader_s=%u",
                      out_queued(c), n->slow_reader_s);
        srv__conn_kill(c);
    }
    lws_sul_schedule(n->ctx, 0, &n->watchdog, watchdog, (lws_usec_t)WATCHDOG_MS * 1000);
}

/* -------------------------------------------------------- the input budget */

static size_t in_buffered(const srv_conn *c)
{
    return c->transport != JN_JTP ? c->rx_cap + c->hold_cap : jt_jtp_input_buffered(c->jtp);
}

/* What the allocator really gave for a request of `asked` bytes: the
 * input budget counts that (its size classes round a 520 KB request up
 * to 640 KB), not what was asked. */
static size_t alloc_size(void *p, size_t asked)
{
#ifdef __GLIBC__
    size_t real = malloc_usable_size(p);
    return real > asked ? real : asked;
#else
    (void)p;
    return asked;
#endif
}

static bool in_room(srv_net *n, srv_conn *c, size_t more);

/* Grows one of c's input buffers (*buf, *cap: c->rx or c->hold) to `ncap`
 * bytes within the input budget; false when it could not (c may then be
 * closing). */
bool srv__input_grow(srv_conn *c, uint8_t **buf, size_t *cap, size_t ncap)
{
    if (!in_room(c->net, c, ncap > *cap ? ncap - *cap : 0))
        return false;
    uint8_t *nb = realloc(*buf, ncap);
    if (!nb) {
        srv__conn_log("error", "oom", c, "need=%zu", ncap);
        srv__conn_kill(c);
        return false;
    }
    *buf = nb;
    *cap = alloc_size(nb, ncap);
    srv__in_account(c);
    return true;
}

bool srv__rx_grow(srv_conn *c, size_t ncap)
{
    return srv__input_grow(c, &c->rx, &c->rx_cap, ncap);
}

/* Brings the net's input total up to date with c's buffers. */
void srv__in_account(srv_conn *c)
{
    srv_net *n = c->net;
    size_t q = c->gone || c->killing ? 0 : in_buffered(c);
    n->in_total = n->in_total - c->in_counted + q;
    c->in_counted = q;
}

/* After a budget cut a connection's buffers: the memory goes back to the
 * system now rather than when the allocator would return it by itself, so
 * that the node's memory, not only its count, stays under the budgets. At
 * most four times a second. jemalloc's purge when the node is linked with it,
 * else the C library's trim. */
extern int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
    __attribute__((weak));

static void give_back_memory(srv_net *n)
{
    double now = srv_mono_seconds();
    if (now - n->gave_back < 0.25)
        return;
    n->gave_back = now;
    if (mallctl)
        (void)mallctl("arena.4096.purge", NULL, NULL, NULL, 0); /* every arena */
#ifdef __GLIBC__
    else
        (void)malloc_trim(0);
#endif
}

/* Keeps the input buffered across every connection within max_in_total
 * with `more` bytes added for c: while over, the connection holding the
 * most input is closed. False when that is c itself. */
static bool in_room(srv_net *n, srv_conn *c, size_t more)
{
    while (n->in_total + more > n->max_in_total) {
        srv_conn *worst = NULL;
        for (srv_conn *x = n->conns; x; x = x->next)
            if (!x->gone && !x->killing &&
                (!worst || x->in_counted + (x == c ? more : 0) >
                               worst->in_counted + (worst == c ? more : 0)))
                worst = x;
        size_t held = worst ? worst->in_counted + (worst == c ? more : 0) : 0;
        if (!held)
            return true; /* nothing to free */
        srv__conn_log("warn", "input_budget", worst, "buffered=%zu in_total=%zu max_in_total=%zu",
                      held, n->in_total, n->max_in_total);
        srv__conn_kill(worst);
        give_back_memory(n);
        if (worst == c)
            return false;
    }
    return true;
}

/* Room for `len` more bytes of output across every connection: while the
 * total would pass max_out_total, the connection with the most output
 * queued (the slowest reader) is closed and its output dropped. False when
 * that is `c` itself, which then must not send. */
bool srv__out_room(srv_net *n, srv_conn *c, size_t len)
{
    while (n->out_total + len > n->max_out_total) {
        srv_conn *worst = NULL;
        for (srv_conn *x = n->conns; x; x = x->next)
            if (!x->gone && !x->killing && (!worst || x->out_counted > worst->out_counted))
                worst = x;
        if (!worst || worst->out_counted == 0)
            return true; /* nothing queued to drop: one reply larger than the rest */
        srv__conn_log("warn", "slow_consumer", worst, "queued=%zu out_total=%zu max_out_total=%zu",
                      worst->out_counted, n->out_total, n->max_out_total);
        srv__conn_kill(worst);
        give_back_memory(n);
        if (worst == c)
            return false;
    }
    return true;
}

/* lws is done with the socket: tell the dispatcher, then park the struct
 * until the next safe point. Idempotent (CLOSED and WSI_DESTROY both land
 * here). */
void srv__conn_gone(srv_conn *c)
{
    srv_net *n = c->net;
    if (c->gone)
        return;
    c->gone = true;
    /* Gone with a message still under way and not by our own doing: its
     * deadline (msg_deadline_s) passed, or the peer left mid-message. */
    if (c->rx_deadline && !c->killing && !c->draining && !n->freeing)
        srv__conn_log("warn", "message_unfinished", c, "msg_deadline_s=%u", n->msg_deadline_s);
    if (c->req)
        srv__http_conn_gone(c);
    srv__out_account(c); /* its output and input no longer count */
    srv__in_account(c);
    if (c->wsi)
        lws_set_opaque_user_data(c->wsi, NULL);
    c->wsi = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else
        n->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    atomic_fetch_sub(&n->nconns, 1);
    /* A WebSocket that never finished its handshake was never handed to
     * the dispatcher. */
    if (n->h.on_close && !(c->own_ws && !c->ws_open))
        n->h.on_close(n->hctx, c);
    c->prev = NULL;
    c->next = n->dead;
    n->dead = c;
}

static void reap(srv_net *n)
{
    while (n->dead_reqs) {
        srv_http_req *r = n->dead_reqs;
        n->dead_reqs = r->next;
        srv__req_free(r);
    }
    while (n->dead) {
        srv_conn *c = n->dead;
        n->dead = c->next;
        free(c->rx);
        free(c->hold);
        free(c->marks);
        outq_clear(&c->out);
        jt_jtp_free(c->jtp);
        free(c);
    }
}

/* A WebSocket connection being closed will hand out nothing more: its
 * input buffers go now, not when lws has closed the socket (the input
 * budget stopped counting them at srv__conn_kill), unless a message in them is
 * in a handler's hands or being parsed (then when that returns). HTTP
 * keeps its body: a request in flight still reads it. */
void srv__drop_input(srv_conn *c)
{
    if (c->transport != JN_WS || c->delivering || c->in_parse)
        return;
    free(c->rx);
    c->rx = NULL;
    c->rx_cap = c->rx_len = 0;
    free(c->hold);
    c->hold = NULL;
    c->hold_cap = c->hold_len = c->hold_off = 0;
}

/* Close soon, from anywhere on the loop thread, dropping queued output so
 * the memory is back at once. */
void srv__conn_kill(srv_conn *c)
{
    if (c->gone || c->killing)
        return;
    c->killing = true;
    outq_clear(&c->out);
    c->frag_off = 0;
    if (c->jtp)
        jt_jtp_consume_output(c->jtp, SIZE_MAX);
    free(c->marks);
    c->marks = NULL;
    c->m_head = c->m_tail = c->m_cap = 0;
    c->push_bytes = 0;
    srv__out_account(c);
    srv__in_account(c);
    srv__drop_input(c);
    if (c->wsi && !c->net->freeing)
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* Close once what is queued (a last error message) has been written. */
void srv__conn_drain(srv_conn *c, enum lws_close_status status)
{
    if (c->gone || c->killing || c->draining)
        return;
    if (c->transport == JN_HTTP && c->hstate != H_WRITING) {
        /* No answer under way to finish first (a request in flight is
         * aborted: on_http_abort). */
        srv__conn_kill(c);
        return;
    }
    c->draining = true;
    c->close_status = status;
    if (c->wsi && !c->net->freeing) {
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, DRAIN_TIMEOUT_S);
        lws_callback_on_writable(c->wsi);
    }
}

/* One token per request; refilled continuously at `rate` up to `burst`. */
bool srv__over_rate(srv_conn *c)
{
    srv_net *n = c->net;
    if (n->rate <= 0)
        return false;
    double now = srv_mono_seconds();
    c->tokens += (now - c->last_refill) * n->rate;
    if (c->tokens > n->burst)
        c->tokens = n->burst;
    c->last_refill = now;
    if (c->tokens >= 1.0) {
        c->tokens -= 1.0;
        return false;
    }
    return true;
}

void srv__deliver(srv_conn *c, const char *msg, size_t len)
{
    srv_net *n = c->net;
    bool over = srv__over_rate(c);
    if (n->h.on_request) {
        c->delivering = true;
        n->h.on_request(n->hctx, c, msg, len, over);
        c->delivering = false;
    }
    if (c->killing)
        srv__drop_input(c); /* msg was in it */
    if (++c->turn >= TURN_REQUESTS && !c->yielded && !c->gone && c->wsi) {
        /* Its turn is over: the rest of what it sent waits for the next
         * round (lws keeps what it read; jtp frames wait in the handle). */
        c->yielded = true;
        c->next_yielded = n->yielded;
        n->yielded = c;
        lws_rx_flow_control(c->wsi, 0);
    }
}

/* A new round: every connection whose turn ended may read again (unless
 * its output holds it back), and jtp frames already read are handed out. */
static void new_round(srv_net *n)
{
    srv_conn *c = n->yielded;
    n->yielded = NULL;
    while (c) {
        srv_conn *next = c->next_yielded;
        c->next_yielded = NULL;
        c->yielded = false;
        c->turn = 0;
        if (!c->gone && !c->killing && c->wsi) {
            if (!c->paused)
                lws_rx_flow_control(c->wsi, 1);
            if (c->transport == JN_JTP)
                jtp_deliver(c);
            else if (c->own_ws)
                srv__ws_resume(c);
        }
        c = next;
    }
    /* A jtp connection that used its turn again here still has frames in
     * its handle, which no socket event will announce: go round at once. */
    if (n->yielded)
        lws_cancel_service(n->ctx);
}

/* Transport errors answered here, not by the dispatcher (PROTOCOL.md §6.1,
 * §6.3): they have no request id to echo (wsTextRequired: srv_ws.c). */
static const char FORBIDDEN[] = "{\"type\":\"error\",\"error\":\"forbidden\",\"error_code\":3,"
                                "\"error_message\":\"Bad credentials.\"}";

/* --------------------------------------------------------------- jtp */

/* The session just opened: apply the allow list and work out admin. */
static bool jtp_authorize(srv_conn *c)
{
    srv_net *n = c->net;
    if (jt_jtp_is_plaintext(c->jtp)) {
        /* jt_jtp_new_server refused plaintext unless loopback+configured. */
        c->admin = admin_addr(n, c->addr);
        return c->loopback;
    }
    const uint8_t *pk = jt_jtp_peer_key(c->jtp);
    if (!pk)
        return false;
    if (n->n_allowed > 0 && !key_listed((const uint8_t(*)[32])n->allowed, n->n_allowed, pk))
        return false;
    c->admin = key_listed((const uint8_t(*)[32])n->admin, n->n_admin, pk);
    return true;
}

/* Hands out the requests waiting in the handle, until reading pauses. */
static void jtp_deliver(srv_conn *c)
{
    const char *msg;
    size_t mlen;
    while (c->authed && !c->paused && !c->yielded && !c->killing && !c->draining && !c->gone &&
           jt_jtp_get_state(c->jtp) == JT_JTP_OPEN && jt_jtp_next_message(c->jtp, &msg, &mlen))
        srv__deliver(c, msg, mlen);
    srv__in_account(c);
}

static void jtp_rx(srv_conn *c, const uint8_t *in, size_t len)
{
    c->last_rx = srv_mono_seconds();
    if (c->killing || c->draining)
        return;
    jt_errinfo ei;
    jt_err e = jt_jtp_feed(c->jtp, in, len, &ei);
    srv__in_account(c);
    if (!in_room(c->net, c, 0))
        return;

    if (!c->authed && jt_jtp_get_state(c->jtp) == JT_JTP_OPEN) {
        if (!jtp_authorize(c)) {
            char hex[JT_JTP_KEY_HEX_MAX] = "none";
            if (jt_jtp_peer_key(c->jtp))
                jt_jtp_key_to_hex(jt_jtp_peer_key(c->jtp), hex);
            srv__conn_log("warn", "jtp_forbidden", c, "client_key=%s", hex);
            /* Requests that came with the handshake are dropped unread. */
            if (jt_jtp_send(c->jtp, FORBIDDEN, sizeof FORBIDDEN - 1, NULL) != JT_OK)
                srv__conn_kill(c);
            srv__conn_drain(c, LWS_CLOSE_STATUS_POLICY_VIOLATION);
            return;
        }
        c->authed = true;
        lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
    }

    /* After a failure no reply could be sent, so requests that arrived
     * before the bad frame are not handed out either. */
    if (e == JT_OK)
        jtp_deliver(c);

    /* As for WebSocket messages: a frame begun must arrive whole within
     * msg_deadline_s (before the session is open, the handshake's own
     * timeout applies). */
    if (e == JT_OK && c->authed && !c->killing && !c->draining && !c->gone && c->wsi) {
        bool partial = jt_jtp_partial_input(c->jtp);
        if (partial && !c->rx_deadline) {
            c->rx_deadline = true;
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, (int)c->net->msg_deadline_s);
        } else if (!partial && c->rx_deadline) {
            c->rx_deadline = false;
            lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
        }
    }

    if (e != JT_OK && !c->killing) {
        const jt_errinfo *je = jt_jtp_error(c->jtp);
        srv__conn_log("warn", "jtp_failed", c, "error=%s", jt_errname(je->code ? je->code : e));
        /* The handle may have queued an error frame for the peer. */
        srv__conn_drain(c, LWS_CLOSE_STATUS_PROTOCOL_ERR);
        return;
    }
    const uint8_t *p;
    size_t np;
    jt_jtp_pending_output(c->jtp, &p, &np);
    if (np && c->wsi)
        lws_callback_on_writable(c->wsi);
}

static int jtp_writeable(srv_conn *c, struct lws *wsi)
{
    const uint8_t *p;
    size_t np;
    if (c->killing)
        return -1;
    jt_jtp_pending_output(c->jtp, &p, &np);
    if (np) {
        size_t w = np > JTP_WRITE_CHUNK ? JTP_WRITE_CHUNK : np;
        /* lws does not modify raw output; the cast only meets its
         * prototype. */
        if (lws_write(wsi, (unsigned char *)(uintptr_t)p, w, LWS_WRITE_RAW) < 0)
            return -1;
        jt_jtp_consume_output(c->jtp, w);
        srv__out_done(c, w);
        srv__out_account(c);
        if (np > w || c->draining)
            lws_callback_on_writable(wsi);
        srv__pace(c);
        return 0;
    }
    return c->draining ? -1 : 0;
}

static int jtp_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
    if (!wsi)
        return 0;
    srv_net *n = lws_context_user(lws_get_context(wsi));
    srv_conn *c = lws_get_opaque_user_data(wsi);

    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: return srv__filter_accept(n, "jtp", in);
    case LWS_CALLBACK_RAW_ADOPT: return srv__conn_new(n, wsi, JN_JTP) ? 0 : -1;
    case LWS_CALLBACK_RAW_RX:
        if (c)
            jtp_rx(c, in, len);
        return 0;
    case LWS_CALLBACK_RAW_WRITEABLE: return c ? jtp_writeable(c, wsi) : 0;
    case LWS_CALLBACK_RAW_CLOSE:
    case LWS_CALLBACK_WSI_DESTROY:
        if (c)
            srv__conn_gone(c);
        return 0;
    default: return 0;
    }
}

/* tx_packet_size: lets one send() carry a whole message or jtp chunk; lws
 * copies only what the kernel refuses. */
static const struct lws_protocols ws_protocols[] = {
    {"jt-node", srv__ws_callback, 0, 65536, 0, NULL, (size_t)1 << 20},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static const struct lws_protocols jtp_protocols[] = {
    {"jtp", jtp_callback, 0, 65536, 0, NULL, JTP_WRITE_CHUNK},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* -------------------------------------------------------------- API */

void srv_net_config_init(srv_net_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->ws_addr = DEFAULT_WS_ADDR;
    cfg->jtp_addr = DEFAULT_JTP_ADDR;
    cfg->max_message = DEFAULT_MAX_MESSAGE;
    cfg->max_conns = DEFAULT_MAX_CONNS;
    cfg->max_conns_per_addr = DEFAULT_MAX_CONNS_PER_ADDR;
    cfg->max_out_total = DEFAULT_MAX_OUT_TOTAL;
    cfg->msg_deadline_s = DEFAULT_MSG_DEADLINE_S;
    cfg->idle_s = DEFAULT_IDLE_S;
    cfg->max_in_total = DEFAULT_MAX_IN_TOTAL;
    cfg->max_outbuf = DEFAULT_MAX_OUTBUF;
    cfg->slow_reader_s = DEFAULT_SLOW_READER_S;
    cfg->http_max_body = DEFAULT_HTTP_MAX_BODY;
    cfg->http_max_header = DEFAULT_HTTP_MAX_HEADER;
    cfg->http_deadline_s = DEFAULT_HTTP_DEADLINE_S;
    cfg->http_idle_s = DEFAULT_HTTP_IDLE_S;
    cfg->http_max_inflight = DEFAULT_HTTP_MAX_INFLIGHT;
}

/* Why a bind failed, for the error message: lws only logs it. Probing with
 * our own socket gives the errno (EADDRINUSE, EADDRNOTAVAIL, EACCES). */
static const char *bind_failure(const jn_addr *a)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    if (a->ipv4_only || a->iface[0] == '\0') {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)a->port);
        if (a->iface[0] && inet_pton(AF_INET, a->iface, &s4->sin_addr) != 1)
            return "bad address";
        sl = sizeof *s4;
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)a->port);
        if (inet_pton(AF_INET6, a->iface, &s6->sin6_addr) != 1)
            return "bad address";
        sl = sizeof *s6;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        return strerror(errno);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const char *why = "listener setup failed";
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0)
        why = strerror(errno);
    close(fd);
    return why;
}

static int add_vhost(srv_net *n, const char *what, const char *addr, const srv_net_config *cfg,
                     struct lws_vhost **out, char *err, size_t errcap)
{
    jn_addr a;
    if (parse_addr(what, addr, &a, err, errcap))
        return -1;
    bool raw = strcmp(what, "jtp") == 0, http = strcmp(what, "http") == 0;
    bool tls = http && cfg->http_tls_cert && cfg->http_tls_cert[0];
    struct lws_context_creation_info vi;
    memset(&vi, 0, sizeof vi);
    vi.vhost_name = what;
    vi.port = a.port;
    vi.iface = a.iface[0] ? a.iface : NULL;
    if (a.ipv4_only)
        vi.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    if (raw) {
        vi.protocols = jtp_protocols;
        vi.options |= LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG;
        vi.listen_accept_role = "raw-skt";
        vi.listen_accept_protocol = "jtp";
    } else if (http) {
        vi.protocols = srv__http_protocols;
        /* Headers must be in this long after the connection starts, or
         * after the first byte of a later request; between requests the
         * keep-alive timeout holds. Both close without an answer. */
        vi.timeout_secs_ah_idle = (int)n->http_deadline_s;
        vi.keepalive_timeout = (int)n->http_idle_s;
        if (tls) {
            vi.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
            vi.ssl_cert_filepath = cfg->http_tls_cert;
            vi.ssl_private_key_filepath = cfg->http_tls_key;
            /* HTTP/1.1 only: this core handles one request at a time per
             * connection, which HTTP/2's streams would not respect. */
            vi.alpn = "http/1.1";
        }
    } else {
        /* WebSocket on the raw role: the handshake and frames are ws.c's. */
        vi.protocols = ws_protocols;
        vi.options |= LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG;
        vi.listen_accept_role = "raw-skt";
        vi.listen_accept_protocol = "jt-node";
    }
    if (tls) {
        /* lws would only log why; say which file is the trouble. */
        const char *files[2] = {cfg->http_tls_cert, cfg->http_tls_key};
        for (int i = 0; i < 2; i++) {
            FILE *f = files[i] && files[i][0] ? fopen(files[i], "r") : NULL;
            if (!f) {
                snprintf(err, errcap, "http: TLS %s \"%s\": %s", i ? "key" : "certificate",
                         files[i] ? files[i] : "",
                         files[i] && files[i][0] ? strerror(errno) : "not set");
                return -1;
            }
            fclose(f);
        }
    }
    *out = lws_create_vhost(n->ctx, &vi);
    if (!*out || lws_get_vhost_listen_port(*out) <= 0) {
        const char *why = bind_failure(&a);
        if (tls && strcmp(why, "listener setup failed") == 0)
            why = "TLS set-up failed (certificate or key unusable?)";
        snprintf(err, errcap, "cannot listen on %s (%s): %s", addr, what, why);
        return -1;
    }
    srv__conn_log("info", "listen", NULL, "transport=%s addr=%s port=%d%s", what, addr,
                  lws_get_vhost_listen_port(*out), tls ? " tls=1" : "");
    return 0;
}

static uint8_t (*copy_keys(const uint8_t (*keys)[32], size_t n))[32]
{
    if (!n || !keys)
        return NULL;
    uint8_t(*k)[32] = malloc(n * sizeof *k);
    if (k)
        memcpy(k, keys, n * sizeof *k);
    return k;
}

static void idle_sweep(lws_sorted_usec_list_t *sul);

int srv_net_new(const srv_net_config *cfg, const srv_net_handlers *h, void *ctx, srv_net **out,
               char *err, size_t errcap)
{
    srv_net *n = NULL;
    *out = NULL;
    if (!cfg || !h) {
        snprintf(err, errcap, "missing configuration or handlers");
        return -1;
    }
    if (sodium_init() < 0) {
        snprintf(err, errcap, "libsodium failed to initialise");
        return -1;
    }
    n = calloc(1, sizeof *n);
    if (!n)
        goto oom;
    n->tfd = -1;
    pthread_mutex_init(&n->post_mu, NULL);
    atomic_init(&n->stop, false);
    atomic_init(&n->nconns, 0);
    n->h = *h;
    n->hctx = ctx;
    n->jtp_plaintext = cfg->jtp_plaintext;
    memcpy(n->node_pk, cfg->node_pk, 32);
    n->node_sk = sodium_malloc(64);
    if (!n->node_sk)
        goto oom;
    memcpy(n->node_sk, cfg->node_sk, 64);
    n->n_allowed = cfg->allowed_keys ? cfg->n_allowed : 0;
    n->n_admin = cfg->admin_keys ? cfg->n_admin : 0;
    n->allowed = copy_keys(cfg->allowed_keys, n->n_allowed);
    n->admin = copy_keys(cfg->admin_keys, n->n_admin);
    if ((n->n_allowed && !n->allowed) || (n->n_admin && !n->admin))
        goto oom;
    static const srv_net_prefix loopback[2] = {
        {.addr = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127}, .bits = 104},
        {.addr = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, .bits = 128}};
    const srv_net_prefix *nets = cfg->admin_nets_set ? cfg->admin_nets : loopback;
    n->n_admin_nets = cfg->admin_nets_set ? cfg->n_admin_nets : 2;
    if (n->n_admin_nets) {
        if (!(n->admin_nets = malloc(n->n_admin_nets * sizeof *n->admin_nets)))
            goto oom;
        memcpy(n->admin_nets, nets, n->n_admin_nets * sizeof *n->admin_nets);
    }
    n->max_message = cfg->max_message ? cfg->max_message : DEFAULT_MAX_MESSAGE;
    if (n->max_message > JT_JTP_MAX_MESSAGE_CEILING)
        n->max_message = JT_JTP_MAX_MESSAGE_CEILING;
    n->max_outbuf = cfg->max_outbuf ? cfg->max_outbuf : DEFAULT_MAX_OUTBUF;
    n->max_out_total = cfg->max_out_total ? cfg->max_out_total : DEFAULT_MAX_OUT_TOTAL;
    n->msg_deadline_s = cfg->msg_deadline_s ? cfg->msg_deadline_s : DEFAULT_MSG_DEADLINE_S;
    n->idle_s = cfg->idle_s ? cfg->idle_s : DEFAULT_IDLE_S;
    n->max_in_total = cfg->max_in_total ? cfg->max_in_total : DEFAULT_MAX_IN_TOTAL;
    n->slow_reader_s = cfg->slow_reader_s ? cfg->slow_reader_s : DEFAULT_SLOW_READER_S;
    n->max_conns = cfg->max_conns ? cfg->max_conns : DEFAULT_MAX_CONNS;
    n->max_per_addr = cfg->max_conns_per_addr ? cfg->max_conns_per_addr : DEFAULT_MAX_CONNS_PER_ADDR;
    n->rate = cfg->rate_per_sec;
    n->burst = cfg->rate_burst ? cfg->rate_burst : 2.0 * cfg->rate_per_sec;
    if (n->rate > 0 && n->burst < 1)
        n->burst = 1;

    n->http_max_body = cfg->http_max_body ? cfg->http_max_body : DEFAULT_HTTP_MAX_BODY;
    n->http_max_header = cfg->http_max_header ? cfg->http_max_header : DEFAULT_HTTP_MAX_HEADER;
    if (n->http_max_header > HTTP_MAX_HEADER_CEILING)
        n->http_max_header = HTTP_MAX_HEADER_CEILING;
    n->http_deadline_s = cfg->http_deadline_s ? cfg->http_deadline_s : DEFAULT_HTTP_DEADLINE_S;
    n->http_idle_s = cfg->http_idle_s ? cfg->http_idle_s : DEFAULT_HTTP_IDLE_S;
    n->http_max_inflight =
        cfg->http_max_inflight ? cfg->http_max_inflight : DEFAULT_HTTP_MAX_INFLIGHT;

    bool want_ws = cfg->ws_addr && cfg->ws_addr[0];
    bool want_jtp = cfg->jtp_addr && cfg->jtp_addr[0];
    bool want_http = cfg->http_addr && cfg->http_addr[0];
    bool want_tls = want_http && ((cfg->http_tls_cert && cfg->http_tls_cert[0]) ||
                                  (cfg->http_tls_key && cfg->http_tls_key[0]));
    if (want_tls && !(cfg->http_tls_cert && cfg->http_tls_cert[0] && cfg->http_tls_key &&
                      cfg->http_tls_key[0])) {
        snprintf(err, errcap, "http: TLS needs both a certificate and a key");
        goto fail;
    }
    if (want_http) {
        if (!(n->scratch = malloc(n->http_max_header + 1)))
            goto oom;
        if (cfg->http_ws_paths && cfg->n_http_ws_paths) {
            if (!(n->ws_paths = calloc(cfg->n_http_ws_paths, sizeof *n->ws_paths)))
                goto oom;
            n->n_ws_paths = cfg->n_http_ws_paths;
            for (size_t i = 0; i < n->n_ws_paths; i++)
                if (!(n->ws_paths[i] = strdup(cfg->http_ws_paths[i] ? cfg->http_ws_paths[i] : "")))
                    goto oom;
        }
    }
    if (want_jtp) {
        /* Catch a bad key pair now rather than at the first connection. */
        jt_jtp *probe = NULL;
        jt_errinfo ei;
        if (jt_jtp_new_server(n->node_pk, n->node_sk, NULL, false, &probe, &ei) != JT_OK) {
            snprintf(err, errcap, "jtp: node key pair unusable: %s", ei.msg);
            goto fail;
        }
        jt_jtp_free(probe);
    }

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
    struct lws_context_creation_info ci;
    memset(&ci, 0, sizeof ci);
    ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    ci.port = CONTEXT_PORT_NO_LISTEN;
    ci.gid = -1;
    ci.uid = -1;
    ci.user = n;
    /* The shared per-thread read buffer: raw reads take up to this much per
     * syscall, which matters for pipelined jtp traffic. */
    ci.pt_serv_buf_size = 65536;
    ci.count_threads = 1;
    if (want_http) {
        /* The header buffer is the context's (the WebSocket listener's
         * upgrades share it), so jt-node, without HTTP, keeps lws's. */
        ci.max_http_header_data = (unsigned short)n->http_max_header;
    }
    if (want_tls)
        ci.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    n->ctx = lws_create_context(&ci);
    if (!n->ctx) {
        snprintf(err, errcap, "libwebsockets: cannot create context");
        goto fail;
    }
    if (want_ws && add_vhost(n, "ws", cfg->ws_addr, cfg, &n->vh_ws, err, errcap))
        goto fail;
    if (want_jtp && add_vhost(n, "jtp", cfg->jtp_addr, cfg, &n->vh_jtp, err, errcap))
        goto fail;
    if (want_http && add_vhost(n, "http", cfg->http_addr, cfg, &n->vh_http, err, errcap))
        goto fail;
    if (cfg->n_client_protocols) {
        n->client_protocols = calloc(cfg->n_client_protocols + 1, sizeof *n->client_protocols);
        if (!n->client_protocols)
            goto oom;
        memcpy(n->client_protocols, cfg->client_protocols,
               cfg->n_client_protocols * sizeof *n->client_protocols);
        struct lws_context_creation_info vi;
        memset(&vi, 0, sizeof vi);
        vi.vhost_name = "clients";
        vi.port = CONTEXT_PORT_NO_LISTEN;
        vi.protocols = n->client_protocols;
        vi.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        n->vh_client = lws_create_vhost(n->ctx, &vi);
        if (!n->vh_client) {
            snprintf(err, errcap, "libwebsockets: cannot create the client vhost");
            goto fail;
        }
    }
    tfd_open(n);
    lws_sul_schedule(n->ctx, 0, &n->idle_sweep, idle_sweep, LWS_US_PER_SEC);
    lws_sul_schedule(n->ctx, 0, &n->watchdog, watchdog, (lws_usec_t)WATCHDOG_MS * 1000);
    *out = n;
    return 0;

oom:
    snprintf(err, errcap, "out of memory");
fail:
    srv_net_free(n);
    return -1;
}

static void run_laters(srv_net *n);

static void run_posts(srv_net *n)
{
    pthread_mutex_lock(&n->post_mu);
    jn_post *p = n->post_head;
    n->post_head = n->post_tail = NULL;
    pthread_mutex_unlock(&n->post_mu);
    while (p) {
        jn_post *next = p->next;
        p->cb(p->ctx);
        free(p);
        p = next;
    }
}

/* Every second: closes the connections nothing has arrived from for idle_s
 * that hold nothing (the handlers' keep), so silent clients cannot hold
 * connections (and the addresses' shares of them) for ever. One that is
 * sending a message is the message deadline's. */
static void idle_sweep(lws_sorted_usec_list_t *sul)
{
    srv_net *n = lws_container_of(sul, srv_net, idle_sweep);
    double now = srv_mono_seconds();
    for (srv_conn *c = n->conns, *next; c; c = next) {
        next = c->next;
        if (c->transport == JN_HTTP && !c->gone && !c->killing) {
            /* A body must be in within http_deadline_s of its headers
             * (lws's own timer restarts with every piece of it). */
            if (c->hstate == H_BODY && now - c->req_at >= n->http_deadline_s) {
                srv__conn_log("warn", "http_deadline", c,
                              "phase=body received=%zu want=%zu deadline_s=%u", c->rx_len,
                              c->body_want, n->http_deadline_s);
                srv__conn_kill(c);
                continue;
            }
            if (c->linger_at > 0 && now - c->linger_at >= HTTP_LINGER_S) {
                srv__conn_kill(c);
                continue;
            }
            if (c->hstate != H_IDLE) /* a request in flight or being answered */
                continue;
        }
        if (c->gone || c->killing || c->draining || c->rx_deadline || now - c->last_rx < n->idle_s)
            continue;
        if (n->h.keep && n->h.keep(n->hctx, c)) {
            c->last_rx = now; /* looked at again after another idle_s */
            continue;
        }
        srv__conn_log("info", "idle_close", c, "idle_s=%u", n->idle_s);
        srv__conn_drain(c, LWS_CLOSE_STATUS_GOINGAWAY);
    }
    lws_sul_schedule(n->ctx, 0, &n->idle_sweep, idle_sweep, LWS_US_PER_SEC);
}

/* While a flushed stop is pending: stops once nothing is queued for any
 * peer, or at the deadline; else looks again shortly. */
static void stop_check(lws_sorted_usec_list_t *sul)
{
    srv_net *n = lws_container_of(sul, srv_net, stop_check);
    if (n->out_total == 0 || srv_mono_seconds() >= n->stop_by)
        srv_net_stop(n);
    else
        lws_sul_schedule(n->ctx, 0, &n->stop_check, stop_check, 20 * LWS_US_PER_MS);
}

void srv_net_stop_flushed(srv_net *n, unsigned max_ms)
{
    n->stop_by = srv_mono_seconds() + max_ms / 1000.0;
    lws_sul_schedule(n->ctx, 0, &n->stop_check, stop_check, 1);
}

struct lws_context *srv_net_lws_context(srv_net *n)
{
    return n->ctx;
}

struct lws_vhost *srv_net_client_vhost(srv_net *n)
{
    return n->vh_client;
}

/* The log's buffer while a loop runs (see srv_net_run); shared by the
 * loops of one process, the first to start sets it up and the last to end
 * puts stderr back as it was. */
static char log_buf[64 << 10];
static unsigned log_users;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static bool log_buffer_on(void)
{
    pthread_mutex_lock(&log_mu);
    bool on = true;
    if (log_users == 0) {
        fflush(stderr);
        on = setvbuf(stderr, log_buf, _IOFBF, sizeof log_buf) == 0;
    }
    if (on)
        log_users++;
    pthread_mutex_unlock(&log_mu);
    return on;
}

static void log_buffer_off(void)
{
    pthread_mutex_lock(&log_mu);
    fflush(stderr);
    if (--log_users == 0)
        (void)setvbuf(stderr, NULL, _IONBF, 0);
    pthread_mutex_unlock(&log_mu);
}

/* When the log is a file on disk, its pages are handed to the kernel's
 * writeback every LOG_KICK_BYTES instead of piling up until the periodic
 * flush: with ext4's ordered data mode, the journal commit that any fsync
 * of the daemon's data (the store, the audit log) waits for must first
 * write the log's newly allocated pages, and tens of megabytes of them (a
 * busy gateway logs 2-4 MB/s) made those fsyncs take 80-120 ms every few
 * seconds. Started early, each piece is small and already on its way. */
#define LOG_KICK_BYTES ((off_t)1 << 20)

typedef struct log_kicker {
    off_t kicked; /* written back up to here; -1: the log is not a regular file */
    double checked;
} log_kicker;

static void log_kick_start(log_kicker *k)
{
    k->kicked = -1;
    k->checked = 0;
#ifdef __linux__
    struct stat st;
    int fd = fileno(stderr);
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        off_t at = lseek(fd, 0, SEEK_CUR);
        k->kicked = at > 0 ? at : 0;
    }
#endif
}

/* After the turn's flush; looks at the log's size at most every 20 ms. */
static void log_kick(log_kicker *k)
{
#ifdef __linux__
    if (k->kicked < 0)
        return; /* a pipe, a terminal, journald: not ours to write back */
    double now = srv_mono_seconds();
    if (now - k->checked < 0.020)
        return;
    k->checked = now;
    int fd = fileno(stderr);
    off_t end = fd >= 0 ? lseek(fd, 0, SEEK_CUR) : -1;
    if (end < 0)
        return;
    if (end < k->kicked) /* truncated under us (logrotate's copytruncate): from here */
        k->kicked = end;
    if (end - k->kicked < LOG_KICK_BYTES)
        return;
    (void)sync_file_range(fd, k->kicked, end - k->kicked, SYNC_FILE_RANGE_WRITE);
    k->kicked = end;
#else
    (void)k;
#endif
}

int srv_net_run(srv_net *n)
{
    int rc = 0;
    bool buffered = log_buffer_on();
    log_kicker kick;
    log_kick_start(&kick);
    while (!atomic_load(&n->stop)) {
        if (lws_service(n->ctx, 0) < 0) {
            rc = -1;
            break;
        }
        /* A safe point: no connection callback is on the stack. */
        run_posts(n);
        new_round(n);
        reap(n);
        if (buffered) {
            fflush(stderr);
            log_kick(&kick);
        }
    }
    if (buffered)
        log_buffer_off();
    atomic_store(&n->stop, false);
    if (n->stop_by > 0) {
        lws_sul_cancel(&n->stop_check);
        n->stop_by = 0;
    }
    return rc;
}

void srv_net_stop(srv_net *n)
{
    /* Only an atomic store and lws_cancel_service (a write to lws's wake
     * pipe), so a signal handler may call it too. */
    atomic_store(&n->stop, true);
    if (n->ctx)
        lws_cancel_service(n->ctx);
}

void srv_net_free(srv_net *n)
{
    if (!n)
        return;
    /* Posted callbacks own their contexts; run them rather than leak. */
    run_posts(n);
    run_laters(n);
    lws_sul_cancel(&n->timer);
    lws_sul_cancel(&n->stop_check);
    lws_sul_cancel(&n->idle_sweep);
    lws_sul_cancel(&n->watchdog);
    n->timer_ms = 0;
    n->freeing = true;
    if (n->ctx)
        lws_context_destroy(n->ctx); /* closes every connection: on_close for each */
    n->ctx = NULL;
    n->tfd = -1; /* lws closed it with its connection */
    while (n->conns) /* not expected: lws reports every close */
        srv__conn_gone(n->conns);
    /* Requests the handler never answered: nothing may answer them now. */
    while (n->reqs) {
        srv_http_req *r = n->reqs;
        srv__req_retire(r);
    }
    reap(n);
    run_posts(n);
    for (size_t i = 0; i < n->n_ws_paths; i++)
        free(n->ws_paths[i]);
    free(n->ws_paths);
    free(n->scratch);
    pthread_mutex_destroy(&n->post_mu);
    free(n->allowed);
    free(n->admin);
    free(n->admin_nets);
    free(n->client_protocols);
    if (n->node_sk)
        sodium_free(n->node_sk);
    sodium_memzero(n, sizeof *n);
    free(n);
}

static void timer_fire(lws_sorted_usec_list_t *sul)
{
    srv_net *n = lws_container_of(sul, srv_net, timer);
    if (!n->timer_ms)
        return;
    /* Rearm first so the callback may stop or change the timer. */
    lws_sul_schedule(n->ctx, 0, &n->timer, timer_fire, (lws_usec_t)n->timer_ms * 1000);
    n->timer_cb(n->timer_ctx);
}

void srv_net_set_timer(srv_net *n, unsigned ms, void (*cb)(void *ctx), void *ctx)
{
    n->timer_ms = cb && n->ctx ? ms : 0;
    n->timer_cb = cb;
    n->timer_ctx = ctx;
    if (!n->timer_ms)
        lws_sul_cancel(&n->timer);
    else
        lws_sul_schedule(n->ctx, 0, &n->timer, timer_fire, (lws_usec_t)ms * 1000);
}

static void later_unlink(jn_later *l)
{
    if (l->prev)
        l->prev->next = l->next;
    else
        l->net->laters = l->next;
    if (l->next)
        l->next->prev = l->prev;
}

static void later_run(jn_later *l)
{
    later_unlink(l);
    void (*cb)(void *ctx) = l->cb;
    void *ctx = l->ctx;
    free(l);
    cb(ctx);
}

static void later_fire(lws_sorted_usec_list_t *sul)
{
    later_run(lws_container_of(sul, jn_later, sul));
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* libwebsockets waits in poll() for whole milliseconds, rounded down: in
 * the last millisecond before one of its timers is due it polls without
 * waiting, again and again. jt-node spreads a busy ledger's announcement
 * with gaps of up to 2 ms, so its loop spun for a good part of each
 * announcement (17 000 empty polls a second under bench_gateway's load).
 * Laters are therefore kept on a timerfd, which poll() waits on to the
 * microsecond; lws timers remain only where none can be had. */
#ifdef __linux__
static void tfd_arm(srv_net *n)
{
    uint64_t due = 0;
    for (jn_later *l = n->laters; l; l = l->next)
        if (!due || l->due < due)
            due = l->due;
    if (due == n->tfd_due)
        return;
    struct itimerspec it;
    memset(&it, 0, sizeof it);
    it.it_value.tv_sec = (time_t)(due / 1000000u);
    it.it_value.tv_nsec = (long)(due % 1000000u) * 1000;
    /* 0 disarms; a due time already past fires at once. */
    if (timerfd_settime(n->tfd, TFD_TIMER_ABSTIME, &it, NULL) == 0)
        n->tfd_due = due;
}

static void tfd_fired(srv_net *n)
{
    uint64_t ticks;
    (void)!read(n->tfd, &ticks, sizeof ticks);
    n->tfd_due = 0;
    uint64_t now = mono_us();
    for (;;) {
        /* A callback may add or cancel laters: look again each time. */
        jn_later *due = NULL;
        for (jn_later *l = n->laters; l; l = l->next)
            if (l->due <= now && (!due || l->due < due->due))
                due = l;
        if (!due)
            break;
        later_run(due);
    }
    tfd_arm(n);
}

static int timer_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                          size_t len)
{
    srv_net *n = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
        if (n && wsi == n->tfd_wsi)
            tfd_fired(n);
        return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        /* lws closes the descriptor; what waits on it moves to lws timers. */
        if (n && wsi == n->tfd_wsi) {
            n->tfd_wsi = NULL;
            n->tfd = -1;
            n->tfd_due = 0;
            uint64_t now = mono_us();
            for (jn_later *l = n->laters; l; l = l->next)
                lws_sul_schedule(n->ctx, 0, &l->sul, later_fire,
                                 (lws_usec_t)(l->due > now ? l->due - now : 0));
        }
        return 0;
    default: return 0;
    }
}

static const struct lws_protocols timer_protocols[] = {
    {"srv-timer", timer_callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* The laters' timerfd in the loop's poll set; without it (an error), the
 * laters fall back to lws timers. */
static void tfd_open(srv_net *n)
{
    n->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (n->tfd < 0)
        return;
    struct lws_context_creation_info vi;
    memset(&vi, 0, sizeof vi);
    vi.vhost_name = "timers";
    vi.port = CONTEXT_PORT_NO_LISTEN;
    vi.protocols = timer_protocols;
    n->vh_timer = lws_create_vhost(n->ctx, &vi);
    lws_sock_file_fd_type fd;
    fd.filefd = n->tfd;
    if (n->vh_timer)
        n->tfd_wsi = lws_adopt_descriptor_vhost(n->vh_timer, LWS_ADOPT_RAW_FILE_DESC, fd,
                                                "srv-timer", NULL);
    if (!n->tfd_wsi) {
        close(n->tfd);
        n->tfd = -1;
    }
}
#else
static void tfd_arm(srv_net *n)
{
    (void)n;
}

static void tfd_open(srv_net *n)
{
    n->tfd = -1;
}
#endif

int srv_net_after(srv_net *n, unsigned us, void (*cb)(void *ctx), void *ctx)
{
    if (!n || !cb || !n->ctx || n->laters_closed)
        return -1;
    jn_later *l = calloc(1, sizeof *l);
    if (!l)
        return -1;
    l->net = n;
    l->cb = cb;
    l->ctx = ctx;
    l->next = n->laters;
    if (l->next)
        l->next->prev = l;
    n->laters = l;
    if (n->tfd_wsi) {
        l->due = mono_us() + us;
        if (!n->tfd_due || l->due < n->tfd_due)
            tfd_arm(n);
    } else {
        lws_sul_schedule(n->ctx, 0, &l->sul, later_fire, (lws_usec_t)us);
    }
    return 0;
}

/* At the net's end: what waits runs now (its context is the caller's to
 * release, as for posts). */
static void run_laters(srv_net *n)
{
    /* A callback that schedules itself again would otherwise keep this
     * loop going: it is told no (and may post instead). */
    n->laters_closed = true;
    while (n->laters) {
        jn_later *l = n->laters;
        lws_sul_cancel(&l->sul);
        later_unlink(l);
        void (*cb)(void *ctx) = l->cb;
        void *ctx = l->ctx;
        free(l);
        cb(ctx);
    }
}

int srv_net_post(srv_net *n, void (*cb)(void *ctx), void *ctx)
{
    if (!n || !cb)
        return -1;
    jn_post *p = malloc(sizeof *p);
    if (!p)
        return -1;
    p->next = NULL;
    p->cb = cb;
    p->ctx = ctx;
    pthread_mutex_lock(&n->post_mu);
    /* A list that was not empty has a wake-up on its way already, and
     * run_posts takes the whole list: one wake-up (a write to the loop's
     * pipe) per burst of posts, not one each. */
    bool wake = !n->post_tail;
    if (n->post_tail)
        n->post_tail->next = p;
    else
        n->post_head = p;
    n->post_tail = p;
    pthread_mutex_unlock(&n->post_mu);
    if (wake && n->ctx)
        lws_cancel_service(n->ctx);
    return 0;
}

/* Queues one message; push: a stream message (see srv__pace). */
static int conn_queue(srv_conn *c, const char *msg, size_t len, bool push)
{
    srv_net *n = c->net;
    if (c->gone || c->killing || c->draining || n->freeing || !c->wsi || c->transport == JN_HTTP)
        return -1;
    if (c->transport == JN_JTP &&
        (!c->authed || len == 0 || jt_jtp_get_state(c->jtp) != JT_JTP_OPEN))
        return -1;
    if (!srv__out_room(n, c, len))
        return -1;
    size_t cap = c->transport == JN_WS ? n->max_outbuf : n->max_message;
    if (len > cap) {
        srv__conn_log("warn", "reply_too_large", c, "len=%zu %s=%zu", len,
                      c->transport == JN_WS ? "max_outbuf" : "max_message", cap);
        /* The peer would wait forever for this reply; better to close. */
        srv__conn_kill(c);
        return -1;
    }
    if (push && len > n->max_outbuf - c->push_bytes) {
        srv__conn_log("warn", "slow_consumer", c,
                      "reason=stream queued=%zu pushed=%zu max_outbuf=%zu", out_queued(c),
                      c->push_bytes, n->max_outbuf);
        srv__conn_kill(c);
        return -1;
    }
    size_t before = out_queued(c);
    if (c->transport == JN_WS) {
        if (!srv__outq_push(&c->out, msg, len)) {
            srv__conn_log("error", "oom", c, "queued=%zu", c->out.bytes);
            srv__conn_kill(c);
            return -1;
        }
    } else {
        jt_errinfo ei;
        jt_err e = jt_jtp_send(c->jtp, msg, len, &ei);
        if (e != JT_OK) {
            srv__conn_log("error", "jtp_send_failed", c, "error=%s queued=%zu", jt_errname(e),
                          before);
            srv__conn_kill(c);
            return -1;
        }
    }
    size_t added = out_queued(c) - before;
    c->out_in += added;
    if (push && !push_mark_add(c, added)) {
        srv__conn_log("error", "oom", c, "queued=%zu", out_queued(c));
        srv__conn_kill(c);
        return -1;
    }
    if (!before) /* the stall clock starts when output appears */
        c->progress_at = srv_mono_seconds();
    srv__out_account(c);
    lws_callback_on_writable(c->wsi);
    srv__pace(c);
    return 0;
}

int srv_conn_send(srv_conn *c, const char *msg, size_t len)
{
    return conn_queue(c, msg, len, true);
}

int srv_conn_reply(srv_conn *c, const char *msg, size_t len)
{
    return conn_queue(c, msg, len, false);
}

void srv_conn_close(srv_conn *c)
{
    srv__conn_drain(c, LWS_CLOSE_STATUS_NORMAL);
}

const uint8_t *srv_conn_addr(const srv_conn *c)
{
    return c->addr;
}

const uint8_t *srv_conn_addr_key(const srv_conn *c)
{
    return c->akey;
}

bool srv_conn_is_loopback(const srv_conn *c)
{
    return c->loopback;
}

bool srv_conn_is_admin(const srv_conn *c)
{
    return c->admin;
}

const char *srv_conn_transport(const srv_conn *c)
{
    return TRANSPORT_NAME[c->transport];
}

uint64_t srv_conn_id(const srv_conn *c)
{
    return c->id;
}

const char *srv_conn_peer(const srv_conn *c)
{
    return c->peer;
}

void srv_conn_set_user(srv_conn *c, void *user)
{
    c->user = user;
}

void *srv_conn_user(const srv_conn *c)
{
    return c->user;
}

unsigned srv_net_conn_count(const srv_net *n)
{
    return atomic_load(&n->nconns);
}

int srv_net_listen_port(const srv_net *n, const char *transport)
{
    struct lws_vhost *vh = NULL;
    if (transport && strcmp(transport, "ws") == 0)
        vh = n->vh_ws;
    else if (transport && strcmp(transport, "jtp") == 0)
        vh = n->vh_jtp;
    else if (transport && strcmp(transport, "http") == 0)
        vh = n->vh_http;
    return vh ? lws_get_vhost_listen_port(vh) : -1;
}
