/*
 * ws.h — RFC 6455 for the server core's WebSocket listener, free of I/O:
 * the opening handshake (a request head in, the answer out) and a
 * streaming frame parser that checks every rule a server must enforce,
 * the masking of client frames among them (§5.1). srv.c does the reading
 * and writing on libwebsockets' raw-socket role.
 *
 * What is checked, and the close code a failure carries:
 *   a frame without the mask bit                       1002
 *   reserved bits set (no extension is ever agreed)    1002
 *   an opcode RFC 6455 does not define                 1002
 *   a control frame fragmented or over 125 bytes       1002
 *   a 64-bit length with its top bit set               1002
 *   a continuation with no message under way, or a
 *   new data frame inside a fragmented message         1002
 *   a close frame of 1 byte, or with a code that may
 *   not be sent (RFC 6455 §7.4)                        1002
 *   a close frame whose reason is not UTF-8            1007
 * Message text is not checked for UTF-8 here: a request is JSON, and the
 * JSON parser refuses bad UTF-8 with an error reply of its own.
 */
#ifndef JT_SRV_WS_H
#define JT_SRV_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ handshake */

typedef struct srv_ws_handshake {
    /* 101 when the upgrade goes ahead; otherwise the status to answer
     * (400, 426) before closing. */
    int status;
    const char *why;   /* when refused: what was wrong, for the log and the answer */
    char accept[32];   /* Sec-WebSocket-Accept, NUL-terminated, when 101 */
} srv_ws_handshake;

/* Looks for a whole request head (request line and headers, through the
 * empty line) at the start of buf[0..len). Returns 0 while it is not all
 * there, else its length in bytes with *hs filled in. Bytes after it are
 * the client's first frames. */
size_t srv_ws_read_handshake(const char *buf, size_t len, srv_ws_handshake *hs);

/* The answer to a head srv_ws_read_handshake took, into out (at least 256
 * bytes); its length. */
size_t srv_ws_handshake_answer(const srv_ws_handshake *hs, char *out, size_t cap);

/* ---------------------------------------------------------------- frames */

enum {
    SRV_WS_OP_CONT = 0,
    SRV_WS_OP_TEXT = 1,
    SRV_WS_OP_BINARY = 2,
    SRV_WS_OP_CLOSE = 8,
    SRV_WS_OP_PING = 9,
    SRV_WS_OP_PONG = 10,
};

/* Close codes this core sends. */
enum {
    SRV_WS_CLOSE_NORMAL = 1000,
    SRV_WS_CLOSE_PROTOCOL = 1002,
    SRV_WS_CLOSE_BAD_DATA = 1007,
    SRV_WS_CLOSE_POLICY = 1008,
    SRV_WS_CLOSE_TOO_BIG = 1009,
};

typedef struct srv_ws_parser {
    uint8_t hdr[14];
    uint8_t hlen;      /* header bytes held */
    uint8_t need;      /* the header's whole length once its second byte is in; else 2 */
    bool in_frame;     /* header done, payload under way */
    uint8_t opcode;
    bool fin;
    uint64_t left;     /* payload bytes of this frame still to come */
    uint8_t mask[4];
    uint8_t midx;      /* payload bytes of this frame so far, mod 4 */
    bool in_message;   /* a fragmented data message is under way */
    bool msg_binary;
    bool msg_started;  /* some of the current message was handed out */
    bool failed;       /* sticky: a rule was broken */
    uint16_t fail_code;
    const char *fail_why;
    uint8_t ctl[125];  /* a control frame's payload, gathered */
    uint8_t ctl_len;
} srv_ws_parser;

typedef enum srv_ws_kind {
    SRV_WS_NONE,  /* everything given was consumed; no event */
    SRV_WS_DATA,  /* a piece of a data message (data, len; first, final, binary) */
    SRV_WS_PING,  /* data, len: the payload to send back in a pong */
    SRV_WS_PONG,
    SRV_WS_CLOSE, /* the peer closes; code (0: none given) */
    SRV_WS_FAIL,  /* a rule was broken: close with code; why says which */
} srv_ws_kind;

typedef struct srv_ws_event {
    srv_ws_kind kind;
    const uint8_t *data;
    size_t len;
    bool first, final, binary;
    uint16_t code;
    const char *why;
} srv_ws_event;

void srv_ws_parser_init(srv_ws_parser *p);

/* Consumes bytes from in[0..len), unmasking payload in place, up to and
 * including one event, which it describes in *ev (the data pointers point
 * into `in` or into the parser, valid until the next call). Returns the
 * bytes consumed; call again with the rest. Once SRV_WS_FAIL is returned
 * every later call returns it again, consuming nothing. */
size_t srv_ws_parse(srv_ws_parser *p, uint8_t *in, size_t len, srv_ws_event *ev);

/* True while a frame or a fragmented message is under way (the message
 * deadline runs). */
bool srv_ws_parser_busy(const srv_ws_parser *p);

/* The header of a server frame (unmasked) of `len` payload bytes; its
 * length (2, 4 or 10). */
size_t srv_ws_frame_header(uint8_t out[10], int opcode, bool fin, uint64_t len);

#endif
