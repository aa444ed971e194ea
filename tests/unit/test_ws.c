/* test_ws.c — the server core's RFC 6455 handshake and frame parser
 * (server/ws.c), without sockets: what the "ws" listener accepts and
 * refuses, byte for byte. test_srv runs the same rules over real
 * connections. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws.h"

/* ------------------------------------------------------------ handshake */

static const char GOOD[] = "GET /chat?x=1 HTTP/1.1\r\n"
                           "Host: server.example.com\r\n"
                           "Upgrade: websocket\r\n"
                           "Connection: Upgrade\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           "Sec-WebSocket-Version: 13\r\n"
                           "\r\n";

static void handshake_rfc_example(void **state)
{
    (void)state;
    srv_ws_handshake hs;
    size_t n = strlen(GOOD);
    /* Bytes behind the head (a first frame) are not part of it. */
    char buf[512];
    memcpy(buf, GOOD, n);
    memcpy(buf + n, "\x81\x80", 2);
    assert_int_equal(srv_ws_read_handshake(buf, n + 2, &hs), n);
    assert_int_equal(hs.status, 101);
    /* RFC 6455 §1.3's own example. */
    assert_string_equal(hs.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    char answer[640];
    size_t alen = srv_ws_handshake_answer(&hs, answer, sizeof answer);
    assert_int_equal(alen, strlen(answer));
    assert_string_equal(answer, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                "Connection: Upgrade\r\n"
                                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
    /* Every shorter prefix: not yet. */
    for (size_t k = 0; k < n; k++)
        assert_int_equal(srv_ws_read_handshake(GOOD, k, &hs), 0);
}

static void handshake_lists_and_case(void **state)
{
    (void)state;
    const char req[] = "GET / HTTP/1.1\r\n"
                       "host: x\r\n"
                       "UPGRADE: WebSocket\r\n"
                       "connection: keep-alive,  Upgrade\r\n"
                       "sec-websocket-key:   dGhlIHNhbXBsZSBub25jZQ==  \r\n"
                       "Sec-WebSocket-Version: 13\r\n"
                       "Sec-WebSocket-Protocol: chat\r\n"
                       "\r\n";
    srv_ws_handshake hs;
    assert_int_equal(srv_ws_read_handshake(req, strlen(req), &hs), strlen(req));
    assert_int_equal(hs.status, 101);
    assert_string_equal(hs.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

/* Replaces the first `from` in GOOD with `to`. */
static char *good_with(const char *from, const char *to)
{
    static char out[1024];
    const char *at = strstr(GOOD, from);
    assert_non_null(at);
    size_t pre = (size_t)(at - GOOD);
    snprintf(out, sizeof out, "%.*s%s%s", (int)pre, GOOD, to, at + strlen(from));
    return out;
}

static void expect_refused(const char *req, int status, const char *why)
{
    srv_ws_handshake hs;
    size_t n = strlen(req);
    assert_int_equal(srv_ws_read_handshake(req, n, &hs), n);
    if (hs.status != status || strcmp(hs.why, why) != 0)
        fail_msg("%s: got %d \"%s\", want %d \"%s\"", req, hs.status, hs.why, status, why);
    char answer[640];
    size_t alen = srv_ws_handshake_answer(&hs, answer, sizeof answer);
    char line[64];
    snprintf(line, sizeof line, "HTTP/1.1 %d ", status);
    assert_true(alen > strlen(line));
    assert_memory_equal(answer, line, strlen(line));
    assert_non_null(strstr(answer, "Connection: close\r\n"));
    assert_non_null(strstr(answer, why));
    if (status == 426)
        assert_non_null(strstr(answer, "\r\nSec-WebSocket-Version: 13\r\n"));
}

static void handshake_refusals(void **state)
{
    (void)state;
    expect_refused("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "WebSocket only");
    expect_refused(good_with("GET", "POST"), 400, "a WebSocket upgrade is a GET");
    expect_refused(good_with("HTTP/1.1", "HTTP/1.0"), 400, "HTTP/1.1 only");
    expect_refused(good_with("GET /chat?x=1 ", "GET  "), 400, "malformed request line");
    expect_refused(good_with("Connection: Upgrade", "Connection: keep-alive"), 400,
                   "Connection: Upgrade missing");
    expect_refused(good_with("Version: 13", "Version: 8"), 426, "Sec-WebSocket-Version 13 only");
    expect_refused(good_with("Sec-WebSocket-Version: 13\r\n", ""), 426,
                   "Sec-WebSocket-Version 13 only");
    /* The key: 16 bytes in base64, once. */
    expect_refused(good_with("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ"), 400,
                   "bad Sec-WebSocket-Key");
    expect_refused(good_with("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25j*Q=="), 400,
                   "bad Sec-WebSocket-Key");
    expect_refused(good_with("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZXh4eA=="), 400,
                   "bad Sec-WebSocket-Key");
    expect_refused(good_with("Sec-WebSocket-Version",
                             "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version"),
                   400, "bad Sec-WebSocket-Key");
    expect_refused(good_with("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""), 400,
                   "bad Sec-WebSocket-Key");
    expect_refused(good_with("Host: server.example.com\r\n", ""), 400, "Host missing");
    /* Header syntax. */
    expect_refused(good_with("Host: server", "Host : server"), 400, "malformed header");
    expect_refused(good_with("Host: server.example.com\r\n", "Host: a\r\n folded\r\n"), 400,
                   "malformed header");
    expect_refused(good_with("Host: server.example.com\r\n", "Host: a\r\nNoColon\r\n"), 400,
                   "malformed header");
    expect_refused(good_with("server.example", "server\x01"), 400, "malformed header");
    expect_refused(good_with("\r\nHost", "\nHost"), 400, "malformed request line");
}

/* ---------------------------------------------------------------- frames */

static size_t masked(uint8_t *out, int opcode, bool fin, const void *payload, size_t n)
{
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    size_t h = 0;
    out[h++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    if (n < 126) {
        out[h++] = (uint8_t)(0x80 | n);
    } else if (n < 65536) {
        out[h++] = 0x80 | 126;
        out[h++] = (uint8_t)(n >> 8);
        out[h++] = (uint8_t)n;
    } else {
        out[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    memcpy(out + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < n; i++)
        out[h + i] = ((const uint8_t *)payload)[i] ^ mask[i & 3];
    return h + n;
}

/* What a stream gives, fed `chunk` bytes at a time: messages as "T:text;"
 * or "B:;", control frames as "PING:..;", "PONG:..;", "CLOSE:code:..;",
 * a failure as "FAIL:code:why". */
static char *events(const uint8_t *src, size_t len, size_t chunk)
{
    static char out[1 << 18];
    size_t o = 0;
    uint8_t *buf = malloc(len + 1);
    memcpy(buf, src, len);
    srv_ws_parser p;
    srv_ws_parser_init(&p);
    size_t at = 0;
    out[0] = '\0';
    while (at < len) {
        size_t end = len - at > chunk ? at + chunk : len;
        while (at < end) {
            srv_ws_event ev;
            at += srv_ws_parse(&p, buf + at, end - at, &ev);
            switch (ev.kind) {
            case SRV_WS_NONE: break;
            case SRV_WS_DATA:
                if (ev.first)
                    o += (size_t)snprintf(out + o, sizeof out - o, "%s:", ev.binary ? "B" : "T");
                o += (size_t)snprintf(out + o, sizeof out - o, "%.*s", (int)ev.len,
                                      (const char *)ev.data);
                if (ev.final)
                    o += (size_t)snprintf(out + o, sizeof out - o, ";");
                break;
            case SRV_WS_PING:
            case SRV_WS_PONG:
                o += (size_t)snprintf(out + o, sizeof out - o, "%s:%.*s;",
                                      ev.kind == SRV_WS_PING ? "PING" : "PONG", (int)ev.len,
                                      (const char *)ev.data);
                break;
            case SRV_WS_CLOSE:
                o += (size_t)snprintf(out + o, sizeof out - o, "CLOSE:%u:%.*s;", ev.code,
                                      ev.len > 2 ? (int)ev.len - 2 : 0,
                                      (const char *)ev.data + (ev.len > 2 ? 2 : 0));
                break;
            case SRV_WS_FAIL:
                o += (size_t)snprintf(out + o, sizeof out - o, "FAIL:%u:%s", ev.code, ev.why);
                free(buf);
                return out;
            }
        }
    }
    assert_false(srv_ws_parser_busy(&p));
    free(buf);
    return out;
}

static void expect_events(const uint8_t *s, size_t n, const char *want)
{
    size_t chunks[] = {1, 2, 3, 7, 64, n ? n : 1};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        const char *got = events(s, n, chunks[i]);
        if (strcmp(got, want) != 0)
            fail_msg("chunk %zu: got \"%s\", want \"%s\"", chunks[i], got, want);
    }
}

static void frames_messages(void **state)
{
    (void)state;
    uint8_t s[4096];
    size_t n = 0;
    n += masked(s + n, SRV_WS_OP_TEXT, true, "hello", 5);
    n += masked(s + n, SRV_WS_OP_TEXT, true, "", 0);
    /* Fragmented, with a ping and a pong between the fragments. */
    n += masked(s + n, SRV_WS_OP_TEXT, false, "ab", 2);
    n += masked(s + n, SRV_WS_OP_PING, true, "p1", 2);
    n += masked(s + n, SRV_WS_OP_CONT, false, "", 0);
    n += masked(s + n, SRV_WS_OP_PONG, true, "", 0);
    n += masked(s + n, SRV_WS_OP_CONT, true, "cdefghijk", 9);
    n += masked(s + n, SRV_WS_OP_BINARY, true, "\x01\x02", 2);
    n += masked(s + n, SRV_WS_OP_CLOSE, true, "\x03\xe9gone", 6);
    n += masked(s + n, SRV_WS_OP_CLOSE, true, "", 0);
    expect_events(s, n, "T:hello;T:;T:abPING:p1;PONG:;cdefghijk;B:\x01\x02;CLOSE:1001:gone;"
                        "CLOSE:0:;");
}

static void frames_lengths(void **state)
{
    (void)state;
    size_t sizes[] = {125, 126, 65535, 65536, 70001};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t len = sizes[i];
        char *text = malloc(len + 1);
        for (size_t k = 0; k < len; k++)
            text[k] = (char)('a' + k % 23);
        text[len] = '\0';
        uint8_t *s = malloc(len + 14);
        size_t n = masked(s, SRV_WS_OP_TEXT, true, text, len);
        char *want = malloc(len + 4);
        snprintf(want, len + 4, "T:%s;", text);
        assert_string_equal(events(s, n, 1000), want);
        assert_string_equal(events(s, n, 13), want);
        free(text);
        free(s);
        free(want);
    }
}

static void expect_fail(const uint8_t *s, size_t n, const char *why)
{
    char want[128];
    snprintf(want, sizeof want, "FAIL:1002:%s", why);
    expect_events(s, n, want);
}

static void frames_refused(void **state)
{
    (void)state;
    uint8_t s[512];
    size_t n;
    /* RFC 6455 §5.1: a client frame without the mask bit. Nothing of it
     * is handed out, the frames before it are. */
    n = masked(s, SRV_WS_OP_TEXT, true, "ok", 2);
    memcpy(s + n, "\x81\x05hello", 7);
    expect_events(s, n + 7, "T:ok;FAIL:1002:unmasked frame");
    n = masked(s, SRV_WS_OP_TEXT, true, "x", 1);
    s[0] |= 0x40;
    expect_fail(s, n, "reserved bits set");
    n = masked(s, 3, true, "x", 1);
    expect_fail(s, n, "unknown opcode");
    n = masked(s, 0xB, true, "x", 1);
    expect_fail(s, n, "unknown opcode");
    n = masked(s, SRV_WS_OP_PING, false, "x", 1);
    expect_fail(s, n, "fragmented control frame");
    char big[126];
    memset(big, 'z', sizeof big);
    n = masked(s, SRV_WS_OP_PING, true, big, sizeof big);
    expect_fail(s, n, "control frame over 125 bytes");
    n = masked(s, SRV_WS_OP_CONT, true, "x", 1);
    expect_fail(s, n, "continuation frame with no message under way");
    n = masked(s, SRV_WS_OP_TEXT, false, "a", 1);
    n += masked(s + n, SRV_WS_OP_TEXT, true, "b", 1);
    expect_events(s, n, "T:aFAIL:1002:new message inside a fragmented one");
    n = masked(s, SRV_WS_OP_CLOSE, true, "\x03", 1);
    expect_fail(s, n, "close frame of one byte");
    n = masked(s, SRV_WS_OP_CLOSE, true, "\x03\xed", 2); /* 1005: never on the wire */
    expect_fail(s, n, "close code that may not be sent");
    n = masked(s, SRV_WS_OP_CLOSE, true, "\x03\xe7", 2); /* 999 */
    expect_fail(s, n, "close code that may not be sent");
    /* A close reason must be UTF-8 (1007), and may be. */
    n = masked(s, SRV_WS_OP_CLOSE, true, "\x03\xe8ok\xc0\xaf", 6); /* an overlong '/' */
    expect_events(s, n, "FAIL:1007:close reason not UTF-8");
    n = masked(s, SRV_WS_OP_CLOSE, true, "\x03\xe8\xed\xa0\x80", 5); /* a surrogate */
    expect_events(s, n, "FAIL:1007:close reason not UTF-8");
    n = masked(s, SRV_WS_OP_CLOSE, true, "\x03\xe8\xe4\xba\x95\xe9\x80\x9a", 8); /* 井通 */
    expect_events(s, n, "CLOSE:1000:\xe4\xba\x95\xe9\x80\x9a;");
    /* Close codes at the edges of what a peer may send. */
    const struct {
        uint16_t code;
        bool ok;
    } codes[] = {{999, false},  {1000, true},  {1003, true},  {1004, false}, {1005, false},
                 {1006, false}, {1007, true},  {1014, true},  {1015, false}, {2999, false},
                 {3000, true},  {4999, true},  {5000, false}};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        uint8_t cb[2] = {(uint8_t)(codes[i].code >> 8), (uint8_t)codes[i].code};
        n = masked(s, SRV_WS_OP_CLOSE, true, cb, 2);
        char want[64];
        if (codes[i].ok)
            snprintf(want, sizeof want, "CLOSE:%u:;", codes[i].code);
        else
            snprintf(want, sizeof want, "FAIL:1002:close code that may not be sent");
        expect_events(s, n, want);
    }
    /* A ping of exactly 125 bytes is fine. */
    char p125[125];
    memset(p125, 'q', sizeof p125);
    n = masked(s, SRV_WS_OP_PING, true, p125, sizeof p125);
    char want125[140];
    snprintf(want125, sizeof want125, "PING:%.125s;", p125);
    expect_events(s, n, want125);
    /* A length past 2^32 is read whole (and waits for its bytes). */
    const uint8_t big5g[] = {0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4, 'x'};
    srv_ws_parser bp;
    srv_ws_parser_init(&bp);
    uint8_t bb[sizeof big5g];
    memcpy(bb, big5g, sizeof bb);
    srv_ws_event bev;
    size_t bu = srv_ws_parse(&bp, bb, sizeof bb, &bev);
    assert_int_equal(bu, sizeof bb);
    assert_int_equal(bev.kind, SRV_WS_DATA);
    assert_int_equal(bev.len, 1);
    assert_true(bev.first && !bev.final && bev.binary);
    assert_true(bp.left == ((uint64_t)1 << 32) - 1);

    const uint8_t huge[] = {0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4};
    expect_fail(huge, sizeof huge, "frame length over 2^63");

    /* A failure sticks. */
    srv_ws_parser p;
    srv_ws_parser_init(&p);
    uint8_t un[] = {0x81, 0x01, 'a'};
    srv_ws_event ev;
    srv_ws_parse(&p, un, sizeof un, &ev);
    assert_int_equal(ev.kind, SRV_WS_FAIL);
    n = masked(s, SRV_WS_OP_TEXT, true, "ok", 2);
    assert_int_equal(srv_ws_parse(&p, s, n, &ev), 0);
    assert_int_equal(ev.kind, SRV_WS_FAIL);
    assert_int_equal(ev.code, SRV_WS_CLOSE_PROTOCOL);
}

static void frames_busy(void **state)
{
    (void)state;
    uint8_t s[64];
    size_t n = masked(s, SRV_WS_OP_TEXT, false, "ab", 2);
    srv_ws_parser p;
    srv_ws_parser_init(&p);
    srv_ws_event ev;
    assert_false(srv_ws_parser_busy(&p));
    srv_ws_parse(&p, s, 1, &ev); /* half a header */
    assert_true(srv_ws_parser_busy(&p));
    size_t at = 1;
    while (at < n)
        at += srv_ws_parse(&p, s + at, n - at, &ev);
    assert_true(srv_ws_parser_busy(&p)); /* a message under way */
    n = masked(s, SRV_WS_OP_CONT, true, "c", 1);
    at = 0;
    while (at < n)
        at += srv_ws_parse(&p, s + at, n - at, &ev);
    assert_false(srv_ws_parser_busy(&p));
}

static void frame_headers(void **state)
{
    (void)state;
    uint8_t h[10];
    assert_int_equal(srv_ws_frame_header(h, SRV_WS_OP_TEXT, true, 5), 2);
    assert_memory_equal(h, "\x81\x05", 2);
    assert_int_equal(srv_ws_frame_header(h, SRV_WS_OP_CONT, false, 126), 4);
    assert_memory_equal(h, "\x00\x7e\x00\x7e", 4);
    assert_int_equal(srv_ws_frame_header(h, SRV_WS_OP_CLOSE, true, 65536), 10);
    assert_memory_equal(h, "\x88\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake_rfc_example), cmocka_unit_test(handshake_lists_and_case),
        cmocka_unit_test(handshake_refusals),    cmocka_unit_test(frames_messages),
        cmocka_unit_test(frames_lengths),        cmocka_unit_test(frames_refused),
        cmocka_unit_test(frames_busy),           cmocka_unit_test(frame_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
