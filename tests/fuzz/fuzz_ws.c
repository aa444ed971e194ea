/* fuzz_ws.c — the server core's WebSocket handshake and frame parser
 * (server/ws.c) on hostile bytes.
 *
 * The first input byte picks what the rest is fed to:
 *   even  the opening handshake     odd  the frame parser
 * The second byte sets the size of the chunks the bytes arrive in.
 * Properties: no crash, leak or overread; the handshake finds the same head
 * however much of the stream it is shown; the frame parser gives the same
 * messages, control frames and failure whether the stream arrives whole or
 * in chunks; a control payload never passes 125 bytes; a failure is
 * sticky, names its rule and closes with 1002 (1007 for a close reason
 * that is not UTF-8). */
#include <stdlib.h>
#include <string.h>

#include "ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct transcript {
    uint8_t *b;
    size_t n, cap;
} transcript;

static void put(transcript *t, const void *p, size_t n)
{
    if (t->n + n > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->n + n)
            cap *= 2;
        t->b = realloc(t->b, cap);
        if (!t->b)
            abort();
        t->cap = cap;
    }
    memcpy(t->b + t->n, p, n);
    t->n += n;
}

/* Feeds buf in chunks of `chunk` bytes (0: whole), writing what comes out
 * to t: data pieces as message text between 'D' and 'E' (however the
 * pieces fell), control frames and the failure with their payload. */
static void run_frames(const uint8_t *src, size_t len, size_t chunk, transcript *t)
{
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        abort();
    memcpy(buf, src, len);
    srv_ws_parser p;
    srv_ws_parser_init(&p);
    size_t at = 0;
    bool failed = false;
    while (at < len && !failed) {
        size_t end = chunk && len - at > chunk ? at + chunk : len;
        while (at < end) {
            srv_ws_event ev;
            size_t used = srv_ws_parse(&p, buf + at, end - at, &ev);
            if (used > end - at)
                abort();
            at += used;
            if (ev.kind == SRV_WS_DATA) {
                if (ev.len > used)
                    abort();
                if (ev.first)
                    put(t, ev.binary ? "B" : "D", 1);
                put(t, ev.data, ev.len);
                if (ev.final)
                    put(t, "E", 1);
            } else if (ev.kind == SRV_WS_PING || ev.kind == SRV_WS_PONG ||
                       ev.kind == SRV_WS_CLOSE) {
                if (ev.len > 125)
                    abort();
                uint8_t tag[3] = {(uint8_t)ev.kind, (uint8_t)(ev.code >> 8), (uint8_t)ev.code};
                put(t, tag, 3);
                put(t, ev.data, ev.len);
            } else if (ev.kind == SRV_WS_FAIL) {
                if (!ev.why || !ev.why[0] ||
                    (ev.code != SRV_WS_CLOSE_PROTOCOL && ev.code != SRV_WS_CLOSE_BAD_DATA))
                    abort();
                uint8_t tag[3] = {'F', (uint8_t)(ev.code >> 8), (uint8_t)ev.code};
                put(t, tag, 3);
                put(t, ev.why, strlen(ev.why));
                /* Sticky: asked again, the same failure and nothing used. */
                srv_ws_event again;
                if (srv_ws_parse(&p, buf + at, end - at, &again) != 0 ||
                    again.kind != SRV_WS_FAIL || again.code != ev.code)
                    abort();
                failed = true;
                break;
            } else if (used == 0) {
                break;
            }
        }
    }
    free(buf);
}

static void handshake(const uint8_t *data, size_t size, size_t chunk)
{
    /* A copy of exactly `size` bytes, so any overread is caught. */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        abort();
    memcpy(buf, data, size);
    srv_ws_handshake whole;
    size_t head = srv_ws_read_handshake(buf, size, &whole);
    if (head > size)
        abort();
    if (head) {
        if (whole.status != 101 && whole.status != 400 && whole.status != 426)
            abort();
        if (whole.status != 101 && (!whole.why || !whole.why[0]))
            abort();
        char answer[640];
        size_t alen = srv_ws_handshake_answer(&whole, answer, sizeof answer);
        if (alen == 0 || alen >= sizeof answer || memcmp(answer, "HTTP/1.1 ", 9) != 0)
            abort();
    }
    /* Shown a growing prefix, it finds the head at the same place. */
    if (chunk) {
        for (size_t n = 0; n <= size; n += chunk) {
            srv_ws_handshake hs;
            size_t h = srv_ws_read_handshake(buf, n, &hs);
            if (n < head ? h != 0 : h != head)
                abort();
            if (h && hs.status != whole.status)
                abort();
        }
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int mode = data[0] & 1;
    size_t chunk = data[1];
    data += 2;
    size -= 2;
    if (mode == 0) {
        handshake(data, size, chunk);
        return 0;
    }
    transcript a = {0}, b = {0};
    run_frames(data, size, 0, &a);
    run_frames(data, size, chunk ? chunk : 1, &b);
    if (a.n != b.n || (a.n && memcmp(a.b, b.b, a.n) != 0))
        abort();
    free(a.b);
    free(b.b);
    return 0;
}
