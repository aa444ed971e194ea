/*
 * ws.c — RFC 6455's opening handshake and frame parser (see ws.h).
 */
#include "ws.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <sodium.h>

/* ------------------------------------------------------------ handshake */

static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static bool is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Does the comma-separated list v[0..n) hold `token` (case-insensitive)? */
static bool list_has(const char *v, size_t n, const char *token)
{
    size_t tl = strlen(token), i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - s == tl && strncasecmp(v + s, token, tl) == 0)
            return true;
    }
    return false;
}

static bool name_is(const char *name, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

static size_t refuse(srv_ws_handshake *hs, int status, const char *why, size_t head)
{
    hs->status = status;
    hs->why = why;
    hs->accept[0] = '\0';
    return head;
}

size_t srv_ws_read_handshake(const char *buf, size_t len, srv_ws_handshake *hs)
{
    size_t head = 0;
    for (size_t i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
            head = i + 1;
            break;
        }
    if (!head)
        return 0;

    /* The request line: METHOD SP TARGET SP HTTP/1.1 */
    const char *p = buf, *eol = memchr(p, '\r', head);
    if (eol[1] != '\n')
        return refuse(hs, 400, "malformed request line", head);
    for (const char *q = p; q < eol; q++)
        if ((unsigned char)*q < ' ' || *q == 0x7f)
            return refuse(hs, 400, "malformed request line", head);
    const char *sp1 = memchr(p, ' ', (size_t)(eol - p));
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp2 == sp1 + 1 || sp1 == p)
        return refuse(hs, 400, "malformed request line", head);
    if ((size_t)(eol - sp2 - 1) != 8 || memcmp(sp2 + 1, "HTTP/1.1", 8) != 0)
        return refuse(hs, 400, "HTTP/1.1 only", head);
    bool get = sp1 - p == 3 && memcmp(p, "GET", 3) == 0;

    bool host = false, upgrade = false, connection = false;
    int keys = 0;
    const char *key = NULL, *version = NULL;
    size_t key_len = 0, version_len = 0;
    p = eol + 2;
    while (p < buf + head - 2) {
        eol = memchr(p, '\r', (size_t)(buf + head - p));
        if (!eol || eol[1] != '\n')
            return refuse(hs, 400, "malformed header", head);
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon || colon == p)
            return refuse(hs, 400, "malformed header", head);
        for (const char *q = p; q < colon; q++)
            if (!is_tchar((unsigned char)*q))
                return refuse(hs, 400, "malformed header", head);
        const char *v = colon + 1, *ve = eol;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        for (const char *q = v; q < ve; q++)
            if (((unsigned char)*q < ' ' && *q != '\t') || *q == 0x7f)
                return refuse(hs, 400, "malformed header", head);
        size_t nl = (size_t)(colon - p), vl = (size_t)(ve - v);
        if (name_is(p, nl, "Host"))
            host = true;
        else if (name_is(p, nl, "Upgrade"))
            upgrade = upgrade || list_has(v, vl, "websocket");
        else if (name_is(p, nl, "Connection"))
            connection = connection || list_has(v, vl, "upgrade");
        else if (name_is(p, nl, "Sec-WebSocket-Key")) {
            keys++;
            key = v;
            key_len = vl;
        } else if (name_is(p, nl, "Sec-WebSocket-Version")) {
            version = v;
            version_len = vl;
        }
        p = eol + 2;
    }

    if (!upgrade)
        return refuse(hs, 400, "WebSocket only", head);
    if (!get)
        return refuse(hs, 400, "a WebSocket upgrade is a GET", head);
    if (!connection)
        return refuse(hs, 400, "Connection: Upgrade missing", head);
    if (!version || version_len != 2 || memcmp(version, "13", 2) != 0)
        return refuse(hs, 426, "Sec-WebSocket-Version 13 only", head);
    uint8_t nonce[16];
    size_t nonce_len = 0;
    char k64[25];
    if (keys != 1 || key_len != 24)
        return refuse(hs, 400, "bad Sec-WebSocket-Key", head);
    memcpy(k64, key, 24);
    k64[24] = '\0';
    if (sodium_base642bin(nonce, sizeof nonce, k64, 24, NULL, &nonce_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        nonce_len != sizeof nonce)
        return refuse(hs, 400, "bad Sec-WebSocket-Key", head);
    if (!host)
        return refuse(hs, 400, "Host missing", head);

    char cat[24 + sizeof WS_GUID];
    memcpy(cat, k64, 24);
    memcpy(cat + 24, WS_GUID, sizeof WS_GUID - 1);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (!EVP_Digest(cat, 24 + sizeof WS_GUID - 1, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
        return refuse(hs, 500, "SHA-1 unavailable", head);
    sodium_bin2base64(hs->accept, sizeof hs->accept, md, 20, sodium_base64_VARIANT_ORIGINAL);
    hs->status = 101;
    hs->why = NULL;
    return head;
}

size_t srv_ws_handshake_answer(const srv_ws_handshake *hs, char *out, size_t cap)
{
    int k;
    if (hs->status == 101) {
        k = snprintf(out, cap,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                     hs->accept);
    } else {
        const char *reason = hs->status == 426   ? "Upgrade Required"
                             : hs->status == 500 ? "Internal Server Error"
                                                 : "Bad Request";
        k = snprintf(out, cap,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n%s\r\n%s\n",
                     hs->status, reason, strlen(hs->why) + 1,
                     hs->status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "", hs->why);
    }
    if (k < 0)
        return 0;
    return (size_t)k < cap ? (size_t)k : cap - 1;
}

/* ---------------------------------------------------------------- frames */

void srv_ws_parser_init(srv_ws_parser *p)
{
    memset(p, 0, sizeof *p);
    p->need = 2;
}

bool srv_ws_parser_busy(const srv_ws_parser *p)
{
    return p->hlen > 0 || p->in_frame || p->in_message;
}

static size_t fail(srv_ws_parser *p, srv_ws_event *ev, uint16_t code, const char *why, size_t used)
{
    p->failed = true;
    p->fail_code = code;
    p->fail_why = why;
    ev->kind = SRV_WS_FAIL;
    ev->code = code;
    ev->why = why;
    return used;
}

/* Is s[0..n) UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * past U+10FFFF)? */
static bool utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0)
            k = 1, cp = c & 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0)
            k = 2, cp = c & 0x0f, min = 0x800;
        else if ((c & 0xf8) == 0xf0)
            k = 3, cp = c & 0x07, min = 0x10000;
        else
            return false;
        if (n - i <= k)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

/* May a peer send this close code (RFC 6455 §7.4)? */
static bool close_code_ok(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

static void unmask(srv_ws_parser *p, uint8_t *b, size_t n)
{
    size_t i = 0;
    /* Eight bytes at a time once aligned on the mask's period. */
    while (i < n && p->midx) {
        b[i++] ^= p->mask[p->midx];
        p->midx = (uint8_t)((p->midx + 1) & 3);
    }
    if (n - i >= 8) {
        uint8_t m8[8];
        for (int j = 0; j < 8; j++)
            m8[j] = p->mask[j & 3];
        uint64_t m;
        memcpy(&m, m8, 8);
        for (; n - i >= 8; i += 8) {
            uint64_t w;
            memcpy(&w, b + i, 8);
            w ^= m;
            memcpy(b + i, &w, 8);
        }
    }
    for (; i < n; i++) {
        b[i] ^= p->mask[p->midx];
        p->midx = (uint8_t)((p->midx + 1) & 3);
    }
}

/* A frame's payload is all in: back to reading a header. */
static void frame_done(srv_ws_parser *p)
{
    p->in_frame = false;
    p->hlen = 0;
    p->need = 2;
    p->ctl_len = 0;
}

/* The control frame just completed. */
static void control_event(srv_ws_parser *p, srv_ws_event *ev)
{
    ev->data = p->ctl;
    ev->len = p->ctl_len;
    if (p->opcode == SRV_WS_OP_PING)
        ev->kind = SRV_WS_PING;
    else if (p->opcode == SRV_WS_OP_PONG)
        ev->kind = SRV_WS_PONG;
    else {
        ev->kind = SRV_WS_CLOSE;
        if (p->ctl_len >= 2)
            ev->code = (uint16_t)(p->ctl[0] << 8 | p->ctl[1]);
    }
}

/* The header is whole: check it and set up for the payload. */
static bool header_done(srv_ws_parser *p, srv_ws_event *ev)
{
    uint64_t n = p->hdr[1] & 0x7f;
    if (n == 126) {
        n = (uint64_t)p->hdr[2] << 8 | p->hdr[3];
    } else if (n == 127) {
        n = 0;
        for (int i = 2; i < 10; i++)
            n = n << 8 | p->hdr[i];
        if (n >> 63) {
            fail(p, ev, SRV_WS_CLOSE_PROTOCOL, "frame length over 2^63", 0);
            return false;
        }
    }
    memcpy(p->mask, p->hdr + p->need - 4, 4);
    p->midx = 0;
    p->left = n;
    p->in_frame = true;
    p->ctl_len = 0;
    if (!(p->opcode & 8)) {
        if (p->opcode == SRV_WS_OP_CONT) {
            if (!p->in_message) {
                fail(p, ev, SRV_WS_CLOSE_PROTOCOL, "continuation frame with no message under way",
                     0);
                return false;
            }
        } else {
            if (p->in_message) {
                fail(p, ev, SRV_WS_CLOSE_PROTOCOL, "new message inside a fragmented one", 0);
                return false;
            }
            p->msg_binary = p->opcode == SRV_WS_OP_BINARY;
            p->msg_started = false;
        }
        p->in_message = !p->fin;
    }
    return true;
}

size_t srv_ws_parse(srv_ws_parser *p, uint8_t *in, size_t len, srv_ws_event *ev)
{
    memset(ev, 0, sizeof *ev);
    if (p->failed) {
        ev->kind = SRV_WS_FAIL;
        ev->code = p->fail_code;
        ev->why = p->fail_why;
        return 0;
    }
    size_t used = 0;
    while (used < len) {
        if (!p->in_frame) {
            p->hdr[p->hlen++] = in[used++];
            if (p->hlen == 2) {
                uint8_t b0 = p->hdr[0], b1 = p->hdr[1];
                p->opcode = b0 & 0x0f;
                p->fin = (b0 & 0x80) != 0;
                if (b0 & 0x70)
                    return fail(p, ev, SRV_WS_CLOSE_PROTOCOL, "reserved bits set", used);
                if ((p->opcode > 2 && p->opcode < 8) || p->opcode > 10)
                    return fail(p, ev, SRV_WS_CLOSE_PROTOCOL, "unknown opcode", used);
                if (!(b1 & 0x80))
                    return fail(p, ev, SRV_WS_CLOSE_PROTOCOL, "unmasked frame", used);
                unsigned n7 = b1 & 0x7f;
                if (p->opcode & 8) {
                    if (!p->fin)
                        return fail(p, ev, SRV_WS_CLOSE_PROTOCOL, "fragmented control frame",
                                    used);
                    if (n7 > 125)
                        return fail(p, ev, SRV_WS_CLOSE_PROTOCOL,
                                    "control frame over 125 bytes", used);
                }
                p->need = (uint8_t)(2 + (n7 == 126 ? 2 : n7 == 127 ? 8 : 0) + 4);
            }
            if (p->hlen < p->need)
                continue;
            if (!header_done(p, ev))
                return used;
            if (p->left)
                continue;
            /* An empty frame: its event now. */
        } else {
            size_t take = len - used < p->left ? len - used : (size_t)p->left;
            uint8_t *chunk = in + used;
            unmask(p, chunk, take);
            used += take;
            p->left -= take;
            if (p->opcode & 8) {
                memcpy(p->ctl + p->ctl_len, chunk, take);
                p->ctl_len = (uint8_t)(p->ctl_len + take);
                if (p->left)
                    continue;
            } else {
                ev->kind = SRV_WS_DATA;
                ev->data = chunk;
                ev->len = take;
                ev->binary = p->msg_binary;
                ev->first = !p->msg_started;
                ev->final = p->fin && p->left == 0;
                p->msg_started = !ev->final;
                if (p->left == 0)
                    frame_done(p);
                return used;
            }
        }
        /* A frame complete with nothing left to hand out piecewise: an
         * empty data frame, or a control frame. */
        if (p->opcode & 8) {
            control_event(p, ev);
            if (ev->kind == SRV_WS_CLOSE) {
                if (p->ctl_len == 1)
                    return fail(p, ev, SRV_WS_CLOSE_PROTOCOL, "close frame of one byte", used);
                if (p->ctl_len >= 2 && !close_code_ok(ev->code))
                    return fail(p, ev, SRV_WS_CLOSE_PROTOCOL, "close code that may not be sent",
                                used);
                if (p->ctl_len > 2 && !utf8_ok(p->ctl + 2, p->ctl_len - 2u))
                    return fail(p, ev, SRV_WS_CLOSE_BAD_DATA, "close reason not UTF-8", used);
            }
            /* The payload stays in p->ctl until the next call. */
            p->in_frame = false;
            p->hlen = 0;
            p->need = 2;
            return used;
        }
        ev->kind = SRV_WS_DATA;
        ev->data = in + used;
        ev->len = 0;
        ev->binary = p->msg_binary;
        ev->first = !p->msg_started;
        ev->final = p->fin;
        p->msg_started = !ev->final;
        frame_done(p);
        return used;
    }
    return used;
}

size_t srv_ws_frame_header(uint8_t out[10], int opcode, bool fin, uint64_t len)
{
    out[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
    if (len < 126) {
        out[1] = (uint8_t)len;
        return 2;
    }
    if (len < 65536) {
        out[1] = 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    return 10;
}
