/*
 * srv_int.h — what the parts of the server core share (srv.c: connections,
 * budgets, the WebSocket and jtp listeners, the loop; srv_http.c: the HTTP
 * listener). Not installed, not for the daemons: they use srv.h.
 */
#ifndef JT_SRV_INT_H
#define JT_SRV_INT_H

#include "srv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <sodium.h>
#ifdef __linux__
#include <linux/sockios.h> /* SIOCOUTQ */
#include <linux/tcp.h>     /* struct tcp_info with tcpi_bytes_acked */
#endif

#include "jt/jtp.h"
#include "ws.h"

#define DEFAULT_WS_ADDR            "127.0.0.1:5020"
#define DEFAULT_JTP_ADDR           "127.0.0.1:5030"
#define DEFAULT_MAX_MESSAGE        ((size_t)1 << 20)
#define DEFAULT_MAX_CONNS          1024u
#define DEFAULT_MAX_CONNS_PER_ADDR 64u
#define DEFAULT_MAX_OUT_TOTAL      ((size_t)512 << 20)
#define DEFAULT_MSG_DEADLINE_S     30u
#define DEFAULT_MAX_IN_TOTAL       ((size_t)256 << 20)
#define DEFAULT_MAX_OUTBUF         ((size_t)16 << 20)
#define DEFAULT_SLOW_READER_S      10u

/* Bytes handed to one lws_write of a jtp connection. Large enough to carry
 * hundreds of pipelined replies per syscall, small enough that what the
 * kernel does not take (lws copies that remainder) stays cheap. */
#define JTP_WRITE_CHUNK ((size_t)256 << 10)
/* Buffers above these sizes are released once empty, so that one large
 * message does not pin memory for the rest of a connection's life. */
#define RX_KEEP_MAX  ((size_t)64 << 10)
#define OUT_KEEP_MAX ((size_t)256 << 10)
/* How long a connection that is being closed after a last message may take
 * to read it. */
#define DRAIN_TIMEOUT_S 5
/* How long a jtp client may take from connect to an open session; a peer
 * that connects and stays silent would otherwise hold a slot for ever. */
#define JTP_HANDSHAKE_TIMEOUT_S 10
/* The same for a WebSocket client's opening handshake (or msg_deadline_s
 * when that is shorter), and the most its request head may take. */
#define WS_HANDSHAKE_TIMEOUT_S 10
#define WS_HEAD_BUF            8192u /* a size class of its own: the message buffer grows from it */
#define WS_MAX_HEAD            (WS_HEAD_BUF - 1)
/* The handshake's answer or the close frame, waiting to be written. */
#define WS_CTLQ 640
_Static_assert(LWS_PRE >= 10, "a server frame header fits in the headroom");
#define DEFAULT_IDLE_S 300
/* The largest WebSocket frame written: longer messages go in fragments. */
#define WS_FRAGMENT 65536
/* Requests one connection may hand out per round of the loop. */
#define TURN_REQUESTS 32
/* How often connections with output queued are checked for progress. */
#define WATCHDOG_MS 500

enum jn_transport { JN_WS, JN_JTP, JN_HTTP };

/* Where an HTTP connection is in its current request. */
enum http_state {
    H_IDLE,     /* between requests (lws is reading headers) */
    H_BODY,     /* headers in, body arriving */
    H_INFLIGHT, /* handed to on_http, not yet answered */
    H_WRITING,  /* the answer is queued or being written */
};

#define DEFAULT_HTTP_MAX_BODY     ((size_t)1 << 20)
#define DEFAULT_HTTP_MAX_HEADER   8192u
#define DEFAULT_HTTP_DEADLINE_S   10u
#define DEFAULT_HTTP_IDLE_S       30u
#define DEFAULT_HTTP_MAX_INFLIGHT 1024u
/* Writing an answer to a full socket: look again this often, write once
 * at least this much fits, and leave this much for TLS records' overhead. */
#define HTTP_RETRY_US     2000
#define HTTP_RETRY_MAX_US 200000
#define HTTP_MIN_WRITE    ((size_t)4096)
#define HTTP_TLS_MARGIN   1024
/* After a refusal that closes: how long the rest of the request is read
 * and dropped. */
#define HTTP_LINGER_S 2
/* What lws's header buffer may be set to (its field is 16 bits). */
#define HTTP_MAX_HEADER_CEILING 65535u

/* WebSocket output: records of [length][LWS_PRE headroom][payload], each
 * 8-byte aligned, in one buffer that is reused once drained. */
typedef struct jn_outq {
    uint8_t *buf;
    size_t cap, head, tail;
    size_t bytes; /* payload bytes queued: what max_outbuf limits */
} jn_outq;

#define OUTQ_HDR ((sizeof(size_t) + 7) & ~(size_t)7)

struct srv_conn {
    srv_net *net;
    struct lws *wsi; /* NULL once lws has closed the socket */
    srv_conn *prev, *next;
    uint64_t id;
    enum jn_transport transport;
    bool loopback, admin;
    bool gone;     /* lws closed it and on_close has run */
    bool killing;  /* close asked for: output dropped, lws closes soon */
    bool draining; /* write what is queued, then close */
    bool authed;   /* jtp: session open and client key accepted */
    bool rx_binary;
    enum lws_close_status close_status;
    /* The "ws" listener's connections: RFC 6455 here (ws.c) on lws's raw
     * role. Those upgraded on the HTTP listener are lws's WebSocket role. */
    bool own_ws;
    bool ws_open;    /* the handshake was answered 101 */
    bool close_sent; /* our close frame is queued or written */
    bool in_parse;   /* ws_parse_some is on the stack */
    bool delivering; /* on_request has one of its messages (in rx) */
    srv_ws_parser wp;
    /* Bytes read but not yet parsed (hold[hold_off..hold_len)): reading
     * paused or the turn ended part-way through a read. */
    uint8_t *hold;
    size_t hold_off, hold_len, hold_cap;
    uint8_t ctlq[WS_CTLQ];
    size_t ctlq_len;
    /* The pong owed for the latest ping (RFC 6455 §5.5.3: an endpoint
     * may answer only the latest when several are waiting). */
    uint8_t pong[125];
    uint8_t pong_len;
    bool pong_owed;
    size_t head_seen; /* handshake: bytes of rx already searched for the head's end */
    void *user;
    /* token bucket */
    double tokens;
    double last_refill; /* seconds, monotonic */
    /* WebSocket message reassembly */
    uint8_t *rx;
    size_t rx_len, rx_cap;
    jn_outq out;
    jt_jtp *jtp;
    char peer[INET6_ADDRSTRLEN + 10];
    uint8_t addr[16];   /* the peer's address (IPv4 as ::ffff:a.b.c.d) */
    uint8_t akey[16];   /* what the per-address limits count it under (srv_addr_key) */
    size_t out_counted; /* its queued output as counted in the net's out_total */
    size_t in_counted;  /* its input buffers as counted in the net's in_total */
    bool rx_deadline;   /* a message (jtp: a frame) is under way, with msg_deadline_s to finish */
    double last_rx;     /* when bytes last arrived (or it opened), for idle_s */
    /* Reading held back: its output passed the threshold (max_outbuf / 2)
     * and its further requests wait until it has read some. */
    bool paused;
    bool deadline_held; /* rx_deadline, stopped while paused */
    /* Its turn: requests handed out since the loop last went round; at
     * TURN_REQUESTS it yields (reading stops until the next round), so one
     * client's pipelined burst cannot hold the loop from the others. */
    unsigned turn;
    bool yielded;
    size_t frag_off; /* bytes of the oldest queued WebSocket message already sent */
    srv_conn *next_yielded;
    /* Output in and out, as running totals (WebSocket: payload bytes; jtp:
     * framed bytes), and the stream messages (pushes) among what is
     * queued: a mark per push at the total where it ends. */
    uint64_t out_in, out_done;
    size_t push_bytes;
    struct push_mark {
        uint64_t end;
        size_t size;
    } * marks;
    size_t m_head, m_tail, m_cap;
    /* The last time its output was seen to move (or to be empty), and what
     * was seen then: out_done and the bytes the peer's TCP acknowledged. */
    double progress_at;
    uint64_t progress_done, progress_acked;
    /* HTTP: the request being received or in flight, and its state. The
     * body arrives in rx (rx_len of body_want bytes). */
    enum http_state hstate;
    srv_http_req *req;
    size_t body_want;
    double req_at;       /* when its headers were in: the body's deadline runs from here */
    bool http_close;     /* close once the answer is written */
    bool http_refused;   /* the answer is the core's refusal, closing: linger */
    double linger_at;    /* when our side was shut after a refusal (0: not) */
    bool rx_held;        /* reading stopped while a request is in flight */
    unsigned retry_us;   /* http_flush's wait for a full socket, doubling while it stays full */
    size_t retry_queued; /* the socket's queue at the last look */
    int sndbuf;          /* SO_SNDBUF as first read (it only grows); 0: not yet */
    bool tx_unsure;      /* the socket's queue may not be empty: ask before writing */
};

struct srv_http_req {
    srv_net *net;
    srv_conn *c;               /* NULL once the connection is gone */
    srv_http_req *prev, *next; /* on net->reqs until answered, then net->dead_reqs */
    const char *method;
    char *path;
    char *query; /* the arguments joined by '&' */
    char *args;  /* the same, each NUL-terminated, n_args of them */
    size_t n_args;
    const char *body;
    size_t body_len;
    char *body_own; /* the body, once taken from a connection that went away */
    size_t body_own_cap;
    bool head;     /* HEAD: the answer has no body */
    bool inflight; /* counted in net->http_inflight */
    bool answered, aborted, in_handler;
    void *user;
};

typedef struct jn_post {
    struct jn_post *next;
    void (*cb)(void *ctx);
    void *ctx;
} jn_post;

/* srv_net_after's callbacks waiting for their time. */
typedef struct jn_later {
    lws_sorted_usec_list_t sul; /* without the timer descriptor */
    uint64_t due;               /* monotonic microseconds (with it) */
    struct srv_net *net;
    struct jn_later *prev, *next;
    void (*cb)(void *ctx);
    void *ctx;
} jn_later;

struct srv_net {
    struct lws_context *ctx;
    struct lws_vhost *vh_ws, *vh_jtp, *vh_http, *vh_client;
    struct lws_protocols *client_protocols; /* copied, with the terminating entry */
    srv_net_handlers h;
    void *hctx;

    /* configuration, with defaults applied and key lists copied */
    bool jtp_plaintext;
    uint8_t node_pk[32];
    uint8_t *node_sk; /* 64 bytes of sodium_malloc memory */
    uint8_t (*allowed)[32];
    size_t n_allowed;
    uint8_t (*admin)[32];
    size_t n_admin;
    srv_net_prefix *admin_nets;
    size_t n_admin_nets;
    size_t max_message, max_outbuf, max_out_total;
    size_t out_total; /* output queued on every connection (WebSocket queues, jtp buffers) */
    size_t max_in_total, in_total; /* input buffered on every connection, and its cap */
    unsigned max_conns, max_per_addr, msg_deadline_s, idle_s, slow_reader_s;
    lws_sorted_usec_list_t idle_sweep;
    double rate, burst;

    srv_conn *conns;   /* open connections */
    srv_conn *dead;    /* closed, to be freed at the next safe point */
    srv_conn *yielded; /* connections whose turn ended this round */
    atomic_uint nconns;
    bool freeing;
    /* refusals at max_conns or max_per_addr, logged at most once a second */
    unsigned refused;
    double refused_logged;

    atomic_bool stop;
    double stop_by;   /* srv_net_stop_flushed: the latest stop; 0: none asked */
    double gave_back; /* give_back_memory: when it last ran */
    lws_sorted_usec_list_t stop_check;
    pthread_mutex_t post_mu;
    jn_post *post_head, *post_tail;

    /* HTTP */
    size_t http_max_body;
    unsigned http_max_header, http_deadline_s, http_idle_s, http_max_inflight;
    char **ws_paths;
    size_t n_ws_paths;
    unsigned http_inflight;
    srv_http_req *reqs;      /* handed out or being received, not yet answered */
    srv_http_req *dead_reqs; /* answered, to be freed at the next safe point */
    char *scratch;           /* http_max_header + 1 bytes, for copying headers */
    unsigned http_refused;   /* refusals since the last logged one */
    double http_refused_logged;

    lws_sorted_usec_list_t watchdog;
    lws_sorted_usec_list_t timer;
    jn_later *laters;
    bool laters_closed; /* srv_net_free is running them: no new ones */
    /* srv_net_after's timer descriptor (Linux), in the loop's poll set;
     * tfd_due: what it is armed for (0: disarmed). Without it (-1), the
     * laters are lws timers, which spin in the last millisecond. */
    int tfd;
    struct lws *tfd_wsi;
    struct lws_vhost *vh_timer;
    uint64_t tfd_due;
    unsigned timer_ms;
    void (*timer_cb)(void *ctx);
    void *timer_ctx;
};

/* srv.c: connections, their queues and budgets, reading and its pause,
 * handing requests out. */
__attribute__((format(printf, 4, 5))) void srv__conn_log(const char *level, const char *event,
                                                         const srv_conn *c, const char *fmt, ...);
void srv__conn_kill(srv_conn *c);
bool srv__out_room(srv_net *n, srv_conn *c, size_t len);
bool srv__outq_push(jn_outq *q, const char *msg, size_t len);
void srv__out_account(srv_conn *c);
void srv__in_account(srv_conn *c);
bool srv__over_rate(srv_conn *c);
bool srv__rx_grow(srv_conn *c, size_t ncap);
bool srv__outq_front(const jn_outq *q, uint8_t **p, size_t *len);
void srv__out_done(srv_conn *c, size_t len);
void srv__outq_pop(jn_outq *q, size_t len);
int srv__filter_accept(srv_net *n, const char *transport, void *in);
srv_conn *srv__conn_new(srv_net *n, struct lws *wsi, enum jn_transport t);
void srv__conn_gone(srv_conn *c);

void srv__conn_drain(srv_conn *c, enum lws_close_status status);
void srv__deliver(srv_conn *c, const char *msg, size_t len);
bool srv__input_grow(srv_conn *c, uint8_t **buf, size_t *cap, size_t ncap);
void srv__drop_input(srv_conn *c);
void srv__pace(srv_conn *c);

/* srv_ws.c: WebSocket connections. */
int srv__ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len);
void srv__ws_resume(srv_conn *c);
void srv__ws_rx(srv_conn *c, struct lws *wsi, const uint8_t *in, size_t len);
int srv__ws_writeable(srv_conn *c, struct lws *wsi);

/* srv_http.c: the HTTP listener. */
extern const struct lws_protocols srv__http_protocols[];
void srv__http_conn_gone(srv_conn *c);
void srv__req_retire(srv_http_req *r);
void srv__req_free(srv_http_req *r);

#endif
