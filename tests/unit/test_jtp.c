/* test_jtp.c — the jtp state machines talking to each other in memory. */
#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jt/jt.h"
#include "testutil.h"

typedef struct keys {
    uint8_t node_pk[32], node_sk[64];
    uint8_t cli_pk[32], cli_sk[64];
} keys;

static void make_keys(keys *k)
{
    assert_int_equal(sodium_init() >= 0, 1);
    crypto_sign_keypair(k->node_pk, k->node_sk);
    crypto_sign_keypair(k->cli_pk, k->cli_sk);
}

/* Moves up to `chunk` bytes (0 = all) of a's output into b. Returns the
 * number of bytes moved; the feed result goes to *err. */
static size_t move(jt_jtp *from, jt_jtp *to, size_t chunk, jt_err *err)
{
    const uint8_t *p;
    size_t n;
    jt_jtp_pending_output(from, &p, &n);
    if (n == 0)
        return 0;
    if (chunk && n > chunk)
        n = chunk;
    /* Copy first: feeding may not alias the sender's buffer in real life. */
    uint8_t *copy = malloc(n);
    assert_non_null(copy);
    memcpy(copy, p, n);
    jt_jtp_consume_output(from, n);
    *err = jt_jtp_feed(to, copy, n, NULL);
    free(copy);
    return n;
}

/* Pumps both ways until nothing moves or a side fails. */
static void pump(jt_jtp *c, jt_jtp *s, size_t chunk)
{
    for (int round = 0; round < 100000; round++) {
        jt_err e1 = JT_OK, e2 = JT_OK;
        size_t m = move(c, s, chunk, &e1) + move(s, c, chunk, &e2);
        if (m == 0)
            return;
        if (jt_jtp_get_state(c) == JT_JTP_FAILED && jt_jtp_get_state(s) == JT_JTP_FAILED)
            return;
    }
    fail_msg("pump did not settle");
}

static void open_pair(keys *k, const jt_jtp_limits *lim, jt_jtp **c, jt_jtp **s)
{
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_jtp_new_client(k->node_pk, k->cli_pk, k->cli_sk, lim, c, &ei), JT_OK);
    assert_int_equal(jt_jtp_new_server(k->node_pk, k->node_sk, lim, false, s, &ei), JT_OK);
    assert_int_equal(jt_jtp_get_state(*c), JT_JTP_HANDSHAKE);
    assert_int_equal(jt_jtp_get_state(*s), JT_JTP_HANDSHAKE);
    pump(*c, *s, 0);
    assert_int_equal(jt_jtp_get_state(*c), JT_JTP_OPEN);
    assert_int_equal(jt_jtp_get_state(*s), JT_JTP_OPEN);
}

static void expect_msg(jt_jtp *j, const char *want)
{
    const char *m = NULL;
    size_t n = 0;
    assert_true(jt_jtp_next_message(j, &m, &n));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(m, want, n);
    assert_int_equal(m[n], '\0');
}

static void send_ok(jt_jtp *j, const char *msg)
{
    assert_int_equal(jt_jtp_send(j, msg, strlen(msg), NULL), JT_OK);
}

static bool contains(const uint8_t *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, s, k) == 0)
            return true;
    return false;
}

static void handshake_and_messages(void **state)
{
    (void)state;
    keys k;
    make_keys(&k);
    jt_jtp *c, *s;
    open_pair(&k, NULL, &c, &s);
    /* Each side authenticated the other's exact ed25519 key. */
    assert_non_null(jt_jtp_peer_key(s));
    assert_memory_equal(jt_jtp_peer_key(s), k.cli_pk, 32);
    assert_memory_equal(jt_jtp_peer_key(c), k.node_pk, 32);
    assert_false(jt_jtp_is_plaintext(c));
    assert_true(jt_jtp_is_server(s));
    assert_false(jt_jtp_is_server(c));

    send_ok(c, "{\"id\":1,\"command\":\"server_info\"}");
    send_ok(c, "{\"id\":2,\"command\":\"ping\"}");
    /* The ciphertext on the wire must not contain the plaintext. */
    const uint8_t *p;
    size_t n;
    jt_jtp_pending_output(c, &p, &n);
    assert_true(n > 0);
    assert_false(contains(p, n, "server_info"));
    pump(c, s, 0);
    expect_msg(s, "{\"id\":1,\"command\":\"server_info\"}");
    expect_msg(s, "{\"id\":2,\"command\":\"ping\"}");
    const char *m;
    assert_false(jt_jtp_next_message(s, &m, &n));

    send_ok(s, "{\"id\":1,\"status\":\"success\",\"type\":\"response\",\"result\":{}}");
    send_ok(s, "{\"type\":\"ledgerClosed\",\"ledger_index\":5}");
    pump(c, s, 0);
    expect_msg(c, "{\"id\":1,\"status\":\"success\",\"type\":\"response\",\"result\":{}}");
    expect_msg(c, "{\"type\":\"ledgerClosed\",\"ledger_index\":5}");
    assert_false(jt_jtp_next_message(c, &m, &n));

    /* Many messages keep flowing (the stream state advances correctly). */
    char buf[64];
    for (int i = 0; i < 200; i++) {
        snprintf(buf, sizeof buf, "{\"id\":%d}", i);
        send_ok(c, buf);
    }
    pump(c, s, 0);
    for (int i = 0; i < 200; i++) {
        snprintf(buf, sizeof buf, "{\"id\":%d}", i);
        expect_msg(s, buf);
    }
    jt_jtp_free(c);
    jt_jtp_free(s);
}

static void anonymous_client(void **state)
{
    (void)state;
    keys k;
    make_keys(&k);
    jt_jtp *c, *s;
    assert_int_equal(jt_jtp_new_client(k.node_pk, NULL, NULL, NULL, &c, NULL), JT_OK);
    assert_int_equal(jt_jtp_new_server(k.node_pk, k.node_sk, NULL, false, &s, NULL), JT_OK);
    pump(c, s, 0);
    assert_int_equal(jt_jtp_get_state(s), JT_JTP_OPEN);
    /* A fresh key, not the one we would have passed. */
    assert_non_null(jt_jtp_peer_key(s));
    assert_memory_not_equal(jt_jtp_peer_key(s), k.cli_pk, 32);
    jt_jtp_free(c);
    jt_jtp_free(s);
}

static void split_feeds_byte_by_byte(void **state)
{
    (void)state;
    keys k;
    make_keys(&k);
    jt_jtp *c, *s;
    assert_int_equal(jt_jtp_new_client(k.node_pk, k.cli_pk, k.cli_sk, NULL, &c, NULL), JT_OK);
    assert_int_equal(jt_jtp_new_server(k.node_pk, k.node_sk, NULL, false, &s, NULL), JT_OK);
    pump(c, s, 1);
    assert_int_equal(jt_jtp_get_state(c), JT_JTP_OPEN);
    assert_int_equal(jt_jtp_get_state(s), JT_JTP_OPEN);
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[0] = '"';
    big[sizeof big - 2] = '"';
    big[sizeof big - 1] = '\0';
    send_ok(c, "{\"a\":1}");
    send_ok(c, big);
    send_ok(s, "{\"b\":2}");
    pump(c, s, 1);
    expect_msg(s, "{\"a\":1}");
    expect_msg(s, big);
    expect_msg(c, "{\"b\":2}");
    /* Odd chunk sizes that straddle headers and payloads. */
    for (int i = 0; i < 20; i++)
        send_ok(c, big);
    pump(c, s, 7);
    for (int i = 0; i < 20; i++)
        expect_msg(s, big);
    jt_jtp_free(c);
    jt_jtp_free(s);
}

static void wrong_pinned_key(void **state)
{
    (void)state;
    keys k, other;
    make_keys(&k);
    make_keys(&other);
    jt_jtp *c, *s;
    /* The client pins `other`'s node key but talks to k's node. */
    assert_int_equal(jt_jtp_new_client(other.node_pk, k.cli_pk, k.cli_sk, NULL, &c, NULL), JT_OK);
    assert_int_equal(jt_jtp_new_server(k.node_pk, k.node_sk, NULL, false, &s, NULL), JT_OK);
    pump(c, s, 0);
    assert_int_equal(jt_jtp_get_state(s), JT_JTP_FAILED);
    assert_int_equal(jt_jtp_error(s)->code, JT_EJTP_AUTH);
    assert_non_null(strstr(jt_jtp_error(s)->msg, "pinned a different node key"));
    assert_null(jt_jtp_peer_key(s));
    /* The node's refusal reaches the client as an explanation. */
    assert_int_equal(jt_jtp_get_state(c), JT_JTP_FAILED);
    assert_int_equal(jt_jtp_error(c)->code, JT_EJTP_AUTH);
    assert_non_null(strstr(jt_jtp_error(c)->msg, "refused the handshake"));
    assert_null(jt_jtp_peer_key(c));
    /* Failed handles refuse to send and keep their error. */
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_jtp_send(c, "{}", 2, &ei), JT_ESTATE);
    uint8_t junk[4] = {0};
    assert_int_equal(jt_jtp_feed(c, junk, 4, &ei), JT_EJTP_AUTH);
    jt_jtp_free(c);
    jt_jtp_free(s);
}

/* A man in the middle that holds its own node key cannot pass for the
 * pinned node: it decrypts nothing and the client rejects its reply. */
static void impostor_node(void **state)
{
    (void)state;
    keys k, mitm;
    make_keys(&k);
    make_keys(&mitm);
    jt_jtp *c, *s;
    assert_int_equal(jt_jtp_new_client(k.node_pk, k.cli_pk, k.cli_sk, NULL, &c, NULL), JT_OK);
    /* The impostor claims k's public key but only has its own secret. */
    assert_int_equal(jt_jtp_new_server(k.node_pk, mitm.node_sk, NULL, false, &s, NULL), JT_EKEY);
    assert_int_equal(jt_jtp_new_server(mitm.node_pk, mitm.node_sk, NULL, false, &s, NULL), JT_OK);
    pump(c, s, 0);
    assert_int_equal(jt_jtp_get_state(c), JT_JTP_FAILED);
    assert_int_equal(jt_jtp_get_state(s), JT_JTP_FAILED);
    jt_jtp_free(c);
    jt_jtp_free(s);
}

/* Flips one bit of the next pending output of `from` at offset `at`. */
static void flip(jt_jtp *from, size_t at)
{
    const uint8_t *p;
    size_t n;
    jt_jtp_pending_output(from, &p, &n);
    assert_true(at < n);
    ((uint8_t *)p)[at] ^= 0x01;
}

static void tampered_ciphertext(void **state)
{
    (void)state;
    keys k;
    make_keys(&k);
    jt_jtp *c, *s;
    open_pair(&k, NULL, &c, &s);
    send_ok(c, "{\"id\":1}");
    send_ok(c, "{\"id\":2}");
    flip(c, (4 + 8 + 17) + 4 + 3); /* inside the second frame's ciphertext */
    pump(c, s, 0);
    expect_msg(s, "{\"id\":1}"); /* the good frame before it still arrives */
    const char *m;
    size_t n;
    assert_false(jt_jtp_next_message(s, &m, &n));
    assert_int_equal(jt_jtp_get_state(s), JT_JTP_FAILED);
    assert_int_equal(jt_jtp_error(s)->code, JT_EJTP_DECRYPT);
    assert_non_null(strstr(jt_jtp_error(s)->msg, "frame"));
    jt_jtp_free(c);
    jt_jtp_free(s);
}

static void reordered_frames_fail(void **state)
{
    (void)state;
    keys k;
    make_keys(&k);
    jt_jtp *c, *s;
    open_pair(&k, NULL, &c, &s);
    send_ok(s, "{\"n\":1}");
    const uint8_t *p;
    size_t n1, n;
    jt_jtp_pending_output(s, &p, &n1);
    uint8_t first[64];
    assert_true(n1 <= sizeof first);
    memcpy(first, p, n1);
    jt_jtp_consume_output(s, n1);
    send_ok(s, "{\"n\":2}");
    jt_jtp_pending_output(s, &p, &n);
    /* Deliver the second frame first: the stream must notice. */
    assert_int_equal(jt_jtp_feed(c, p, n, NULL), JT_EJTP_DECRYPT);
    jt_jtp_free(c);
    jt_jtp_free(s);
}

static void tampered_handshake(void **state)
{
    (void)state;
    keys k;
    make_keys(&k);
    jt_err e = JT_OK;
    /* A bit flipped in the hello: the node cannot decrypt it. */
    jt_jtp *c, *s;
    assert_int_equal(jt_jtp_new_client(k.node_pk, k.cli_pk, k.cli_sk, NULL, &c, NULL), JT_OK);
    assert_int_equal(jt_jtp_new_server(k.node_pk, k.node_sk, NULL, false, &s, NULL), JT_OK);
    flip(c, 4 + 4 + 1 + 5); /* in E */
    move(c, s, 0, &e);
    assert_int_equal(e, JT_EJTP_AUTH);
    jt_jtp_free(c);
    jt_jtp_free(s);

    /* A bit flipped in the reply: the client rejects the node. */
    assert_int_equal(jt_jtp_new_client(k.node_pk, k.cli_pk, k.cli_sk, NULL, &c, NULL), JT_OK);
    assert_int_equal(jt_jtp_new_server(k.node_pk, k.node_sk, NULL, false, &s, NULL), JT_OK);
    move(c, s, 0, &e);
    assert_int_equal(e, JT_OK);
    flip(s, 4 + 1 + 40);
    move(s, c, 0, &e);
    assert_int_equal(e, JT_EJTP_AUTH);
    assert_non_null(strstr(jt_jtp_error(c)->msg, "failed to prove"));
    jt_jtp_free(c);
    jt_jtp_free(s);

    /* A bit flipped in the finish: the node rejects the client. */
    assert_int_equal(jt_jtp_new_client(k.node_pk, k.cli_pk, k.cli_sk, NULL, &c, NULL), JT_OK);
    assert_int_equal(jt_jtp_new_server(k.node_pk, k.node_sk, NULL, false, &s, NULL), JT_OK);
    move(c, s, 0, &e);
    move(s, c, 0, &e);
    assert_int_equal(jt_jtp_get_state(c), JT_JTP_OPEN);
    flip(c, 4 + 1 + 60);
    move(c, s, 0, &e);
    assert_int_equal(e, JT_EJTP_AUTH);
    assert_null(jt_jtp_peer_key(s));
    jt_jtp_free(c);
    jt_jtp_free(s);
}

static void oversize_frame_rejected_early(void **state)
{
    (void)state;
    keys k;
    make_keys(&k);
    jt_jtp_limits lim;
    jt_jtp_limits_init(&lim);
    lim.max_message = 1000;
    jt_jtp *c, *s;
    open_pair(&k, &lim, &c, &s);
    /* Only the 4 length bytes: the node must refuse before the payload,
     * hence before allocating room for it. */
    uint8_t hdr[4] = {0x7F, 0xFF, 0xFF, 0xFF};
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_jtp_feed(s, hdr, 4, &ei), JT_EJTP_FRAME_SIZE);
    assert_non_null(strstr(ei.msg, "2147483647"));
    assert_non_null(strstr(ei.msg, "1017")); /* the frame limit: 1000 + 17 */
    assert_int_equal(jt_jtp_get_state(s), JT_JTP_FAILED);

    /* Sending above the limit fails without breaking the session. */
    char *big = malloc(1001);
    memset(big, 'a', 1001);
    assert_int_equal(jt_jtp_send(c, big, 1001, &ei), JT_ETOOBIG);
    assert_int_equal(jt_jtp_send(c, big, 1000, &ei), JT_OK);
    free(big);
    jt_jtp_free(c);
    jt_jtp_free(s);

    /* During the handshake the cap is tiny, whatever the message limit. */
    assert_int_equal(jt_jtp_new_server(k.node_pk, k.node_sk, NULL, false, &s, NULL), JT_OK);
    uint8_t hello[8] = {'J', 'T', 'P', '1', 0x00, 0x00, 0x10, 0x00};
    assert_int_equal(jt_jtp_feed(s, hello, sizeof hello, &ei), JT_EJTP_FRAME_SIZE);
    assert_non_null(strstr(ei.msg, "4096"));
    jt_jtp_free(s);
}

static void message_exactly_at_limit(void **state)
{
    (void)state;
    keys k;
    make_keys(&k);
    jt_jtp_limits lim;
    jt_jtp_limits_init(&lim);
    lim.max_message = 4096;
    jt_jtp *c, *s;
    open_pair(&k, &lim, &c, &s);
    char *m = malloc(4097);
    memset(m, 'q', 4096);
    m[4096] = '\0';
    send_ok(s, m);
    pump(c, s, 0);
    expect_msg(c, m);
    free(m);
    jt_jtp_free(c);
    jt_jtp_free(s);
}

/* One large message does not pin its memory: the output buffer and the
 * receiver's message queue are let go once they empty (past 1 MiB and
 * 256 KiB), small ones are kept for reuse; what they hold is reported. */
static void large_buffers_let_go(void **state)
{
    (void)state;
    keys k;
    make_keys(&k);
    jt_jtp_limits lim;
    jt_jtp_limits_init(&lim);
    lim.max_message = 4 << 20;
    lim.max_output = 16 << 20;
    lim.max_queued = 16 << 20;
    jt_jtp *c, *s;
    open_pair(&k, &lim, &c, &s);
    size_t big = (size_t)3 << 20;
    char *m = malloc(big + 1);
    memset(m, 'w', big);
    m[big] = '\0';
    send_ok(s, m);
    assert_true(jt_jtp_output_buffered(s) >= big);
    pump(c, s, 0); /* moves it all: the sender's buffer empties */
    assert_int_equal(jt_jtp_output_buffered(s), 0);
    assert_true(jt_jtp_input_buffered(c) >= big);
    expect_msg(c, m);
    const char *x;
    size_t xn;
    assert_false(jt_jtp_next_message(c, &x, &xn)); /* the queue found empty */
    assert_true(jt_jtp_input_buffered(c) < ((size_t)256 << 10));
    /* Small traffic keeps its (small) buffers. */
    send_ok(s, "{\"small\":1}");
    size_t held = jt_jtp_output_buffered(s);
    assert_true(held > 0 && held <= ((size_t)1 << 20));
    pump(c, s, 0);
    assert_int_equal(jt_jtp_output_buffered(s), held);
    expect_msg(c, "{\"small\":1}");
    /* And the session goes on after the buffers were let go. */
    send_ok(s, m);
    pump(c, s, 0);
    expect_msg(c, m);
    free(m);
    jt_jtp_free(c);
    jt_jtp_free(s);
}

static void queue_and_output_caps(void **state)
{
    (void)state;
    keys k;
    make_keys(&k);
    jt_jtp_limits lim = {.max_message = 100, .max_output = 300, .max_queued = 200};
    jt_jtp *c, *s;
    open_pair(&k, &lim, &c, &s);
    char m[91];
    memset(m, 'z', 90);
    m[90] = '\0';
    /* Output cap: two 90-byte messages (111 bytes each on the wire) fit,
     * the third does not; the session stays usable. */
    send_ok(c, m);
    send_ok(c, m);
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_jtp_send(c, m, 90, &ei), JT_ETOOBIG);
    assert_non_null(strstr(ei.msg, "output queue full"));
    assert_int_equal(jt_jtp_get_state(c), JT_JTP_OPEN);
    pump(c, s, 0);
    /* Queue cap: two undrained messages (95 bytes each) fit in 200, a third
     * does not. */
    send_ok(c, m);
    pump(c, s, 0);
    assert_int_equal(jt_jtp_get_state(s), JT_JTP_FAILED);
    assert_int_equal(jt_jtp_error(s)->code, JT_ETOOBIG);
    expect_msg(s, m);
    expect_msg(s, m);
    jt_jtp_free(c);
    jt_jtp_free(s);
}

static void send_before_open(void **state)
{
    (void)state;
    keys k;
    make_keys(&k);
    jt_jtp *c;
    assert_int_equal(jt_jtp_new_client(k.node_pk, k.cli_pk, k.cli_sk, NULL, &c, NULL), JT_OK);
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_jtp_send(c, "{}", 2, &ei), JT_ESTATE);
    assert_null(jt_jtp_peer_key(c));
    jt_jtp_free(c);
}

static void plaintext_mode(void **state)
{
    (void)state;
    keys k;
    make_keys(&k);
    jt_jtp *c, *s;
    assert_int_equal(jt_jtp_new_client_plaintext(NULL, &c, NULL), JT_OK);
    assert_int_equal(jt_jtp_get_state(c), JT_JTP_OPEN);
    send_ok(c, "{\"id\":1,\"command\":\"ping\"}"); /* allowed before the node answers */
    const uint8_t *p;
    size_t n;
    jt_jtp_pending_output(c, &p, &n);
    assert_int_equal(n, 4 + 4 + 25);
    assert_memory_equal(p, "JTPP\0\0\0\x19{\"id\":1", 15);
    assert_int_equal(jt_jtp_new_server(k.node_pk, k.node_sk, NULL, true, &s, NULL), JT_OK);
    pump(c, s, 1);
    assert_int_equal(jt_jtp_get_state(s), JT_JTP_OPEN);
    assert_true(jt_jtp_is_plaintext(s));
    assert_null(jt_jtp_peer_key(s));
    expect_msg(s, "{\"id\":1,\"command\":\"ping\"}");
    send_ok(s, "{\"id\":1,\"status\":\"success\"}");
    pump(c, s, 0);
    expect_msg(c, "{\"id\":1,\"status\":\"success\"}");
    jt_jtp_free(c);
    jt_jtp_free(s);
}

static void plaintext_refused(void **state)
{
    (void)state;
    keys k;
    make_keys(&k);
    jt_jtp *c, *s;
    assert_int_equal(jt_jtp_new_client_plaintext(NULL, &c, NULL), JT_OK);
    send_ok(c, "{\"id\":1,\"command\":\"ping\"}");
    assert_int_equal(jt_jtp_new_server(k.node_pk, k.node_sk, NULL, false, &s, NULL), JT_OK);
    pump(c, s, 0);
    assert_int_equal(jt_jtp_get_state(s), JT_JTP_FAILED);
    assert_int_equal(jt_jtp_error(s)->code, JT_EJTP_PLAINTEXT);
    const char *m;
    size_t n;
    assert_false(jt_jtp_next_message(s, &m, &n)); /* the request was not accepted */
    assert_true(jt_jtp_next_message(c, &m, &n));
    assert_non_null(strstr(m, "\"error\":\"plaintextRefused\""));
    jt_jtp_free(c);
    jt_jtp_free(s);
}

static void bad_magic_and_garbage(void **state)
{
    (void)state;
    keys k;
    make_keys(&k);
    jt_jtp *s;
    assert_int_equal(jt_jtp_new_server(k.node_pk, k.node_sk, NULL, true, &s, NULL), JT_OK);
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    const char *http = "GET / HTTP/1.1\r\n";
    assert_int_equal(jt_jtp_feed(s, (const uint8_t *)http, strlen(http), &ei), JT_EJTP_MAGIC);
    assert_non_null(strstr(ei.msg, "47 45 54 20"));
    jt_jtp_free(s);

    /* A zero-length frame is a protocol error, not a message. */
    assert_int_equal(jt_jtp_new_server(k.node_pk, k.node_sk, NULL, true, &s, NULL), JT_OK);
    assert_int_equal(jt_jtp_feed(s, (const uint8_t *)"JTPP\0\0\0\0", 8, &ei), JT_EJTP_PROTOCOL);
    jt_jtp_free(s);

    /* A secure client that sends the wrong handshake message type. */
    assert_int_equal(jt_jtp_new_server(k.node_pk, k.node_sk, NULL, true, &s, NULL), JT_OK);
    uint8_t bad[4 + 4 + 81] = {'J', 'T', 'P', '1', 0, 0, 0, 81, 0x03};
    assert_int_equal(jt_jtp_feed(s, bad, sizeof bad, &ei), JT_EJTP_PROTOCOL);
    jt_jtp_free(s);
}

static void bad_keys(void **state)
{
    (void)state;
    keys k;
    make_keys(&k);
    jt_jtp *j = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_jtp_new_client(k.node_pk, k.node_pk, k.cli_sk, NULL, &j, &ei), JT_EKEY);
    assert_null(j);
    assert_int_equal(jt_jtp_new_client(k.node_pk, k.cli_pk, NULL, NULL, &j, &ei), JT_EINVAL);
    uint8_t zero[32] = {0};
    assert_int_equal(jt_jtp_new_client(zero, NULL, NULL, NULL, &j, &ei), JT_EKEY);
    assert_int_equal(jt_jtp_new_server(k.cli_pk, k.node_sk, NULL, false, &j, &ei), JT_EKEY);
    assert_null(j);
    jt_jtp_free(NULL);
}

static void key_text_forms(void **state)
{
    (void)state;
    keys k;
    make_keys(&k);
    char hex[JT_JTP_KEY_HEX_MAX], np[JT_NODE_PUBLIC_MAX];
    uint8_t back[32];
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_jtp_key_to_hex(k.node_pk, hex);
    assert_int_equal(strlen(hex), 64);
    assert_int_equal(jt_jtp_key_parse(hex, back, &ei), JT_OK);
    assert_memory_equal(back, k.node_pk, 32);
    assert_int_equal(jt_jtp_key_to_node_public(k.node_pk, np, sizeof np), JT_OK);
    assert_int_equal(np[0], 'n');
    memset(back, 0, 32);
    assert_int_equal(jt_jtp_key_parse(np, back, &ei), JT_OK);
    assert_memory_equal(back, k.node_pk, 32);
    assert_int_equal(jt_jtp_key_to_node_public(k.node_pk, np, 10), JT_EBUFSIZE);

    /* Fixed vector: RFC 8032 test 1's public key; its n-form was computed
     * independently (Base58Check, version 0x1C, over ED ‖ key). */
    static const char *vhex = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    static const char *vnp_want = "nHUzHEkDS2p3BzdD2eUN8sfcDBzF9JzYp9Nq2HtkhXvZjoyJU1uN";
    uint8_t vk[32], vk2[32];
    assert_int_equal(jt_jtp_key_parse(vhex, vk, &ei), JT_OK);
    char vnp[JT_NODE_PUBLIC_MAX];
    assert_int_equal(jt_jtp_key_to_node_public(vk, vnp, sizeof vnp), JT_OK);
    assert_string_equal(vnp, vnp_want);
    assert_int_equal(jt_jtp_key_parse(vnp_want, vk2, &ei), JT_OK);
    assert_memory_equal(vk, vk2, 32);
    jt_jtp_key_to_hex(vk, hex);
    assert_string_equal(hex, vhex);

    /* Wrong forms are explained. */
    assert_int_equal(jt_jtp_key_parse("abc", back, &ei), JT_EKEY);
    assert_non_null(strstr(ei.msg, "64 hex"));
    char nothex[65];
    memset(nothex, 'g', 64);
    nothex[64] = '\0';
    assert_int_equal(jt_jtp_key_parse(nothex, back, &ei), JT_EKEY);
    np[5] = np[5] == 'a' ? 'b' : 'a'; /* checksum breaks */
    assert_int_equal(jt_jtp_key_parse(np, back, &ei), JT_EKEY);
    /* A node public key holding a secp256k1 key is not a jtp key. */
    uint8_t secp[33] = {0x02};
    memset(secp + 1, 0x11, 32);
    char sp[JT_NODE_PUBLIC_MAX];
    assert_int_equal(jt_node_public_encode(secp, sp), JT_OK);
    assert_int_equal(jt_jtp_key_parse(sp, back, &ei), JT_EKEY);
    assert_non_null(strstr(ei.msg, "ed25519"));
    /* All-zero is not a usable point. */
    char zero[65];
    memset(zero, '0', 64);
    zero[64] = '\0';
    assert_int_equal(jt_jtp_key_parse(zero, back, &ei), JT_EKEY);
}

static void urls(void **state)
{
    (void)state;
    keys k;
    make_keys(&k);
    char np[JT_NODE_PUBLIC_MAX], hex[JT_JTP_KEY_HEX_MAX], url[512], canon[512];
    assert_int_equal(jt_jtp_key_to_node_public(k.node_pk, np, sizeof np), JT_OK);
    jt_jtp_key_to_hex(k.node_pk, hex);
    jt_jtp_url u;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);

    snprintf(url, sizeof url, "jtp://127.0.0.1:5030?key=%s", np);
    assert_int_equal(jt_jtp_url_parse(url, &u, &ei), JT_OK);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 5030);
    assert_false(u.plaintext);
    assert_memory_equal(u.key, k.node_pk, 32);
    assert_int_equal(jt_jtp_url_format(&u, canon, sizeof canon), JT_OK);
    assert_string_equal(canon, url);

    const char *forms[] = {"jtp://node.example:6000/#", "jtp://node.example:6000#",
                           "jtp://node.example:6000/?key=", "JTP://node.example:6000?key="};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        snprintf(url, sizeof url, "%s%s", forms[i], hex);
        assert_int_equal(jt_jtp_url_parse(url, &u, &ei), JT_OK);
        assert_string_equal(u.host, "node.example");
        assert_int_equal(u.port, 6000);
        assert_memory_equal(u.key, k.node_pk, 32);
    }
    snprintf(url, sizeof url, "jtp://[::1]?key=%s", np);
    assert_int_equal(jt_jtp_url_parse(url, &u, &ei), JT_OK);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, JT_JTP_DEFAULT_PORT);
    assert_int_equal(jt_jtp_url_format(&u, canon, sizeof canon), JT_OK);
    assert_true(strncmp(canon, "jtp://[::1]:5030?key=n", 22) == 0);

    assert_int_equal(jt_jtp_url_parse("jtp+plain://127.0.0.1:5030", &u, &ei), JT_OK);
    assert_true(u.plaintext);
    assert_int_equal(jt_jtp_url_parse("jtp+plain://localhost", &u, &ei), JT_OK);
    assert_int_equal(jt_jtp_url_parse("jtp+plain://[::1]:1", &u, &ei), JT_OK);
    assert_int_equal(jt_jtp_url_format(&u, canon, sizeof canon), JT_OK);
    assert_string_equal(canon, "jtp+plain://[::1]:1");

    /* Refusals. */
    assert_int_equal(jt_jtp_url_parse("jtp+plain://10.0.0.1:5030", &u, &ei), JT_EURL);
    assert_non_null(strstr(ei.msg, "loopback"));
    assert_int_equal(jt_jtp_url_parse("jtp://127.0.0.1:5030", &u, &ei), JT_EURL);
    assert_non_null(strstr(ei.msg, "pin"));
    assert_int_equal(jt_jtp_url_parse("ws://127.0.0.1:5020", &u, &ei), JT_EURL);
    snprintf(url, sizeof url, "jtp://h:70000?key=%s", np);
    assert_int_equal(jt_jtp_url_parse(url, &u, &ei), JT_EURL);
    snprintf(url, sizeof url, "jtp://h:0?key=%s", np);
    assert_int_equal(jt_jtp_url_parse(url, &u, &ei), JT_EURL);
    snprintf(url, sizeof url, "jtp://h:1?key=%s&x=1", np);
    assert_int_equal(jt_jtp_url_parse(url, &u, &ei), JT_EURL);
    snprintf(url, sizeof url, "jtp+plain://127.0.0.1?key=%s", np);
    assert_int_equal(jt_jtp_url_parse(url, &u, &ei), JT_EURL);
    assert_int_equal(jt_jtp_url_parse("jtp://h:1?key=nBAD", &u, &ei), JT_EKEY);
    assert_int_equal(jt_jtp_url_parse("jtp://[::1:1?key=x", &u, &ei), JT_EURL);
    assert_int_equal(jt_jtp_url_parse("jtp://:1?key=x", &u, &ei), JT_EURL);
    assert_int_equal(jt_jtp_url_parse("jtp://h/path?key=x", &u, &ei), JT_EURL);
}

static void identity_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/jtp-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], path2[256];
    snprintf(path, sizeof path, "%s/id", dir);
    snprintf(path2, sizeof path2, "%s/id2", dir);
    jt_jtp_identity *id = NULL, *back = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_jtp_identity_generate(&id), JT_OK);
    assert_int_equal(jt_jtp_identity_save(id, path, &ei), JT_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* Never overwritten. */
    assert_int_equal(jt_jtp_identity_save(id, path, &ei), JT_EIO);
    /* Written whole through a temporary file that is gone afterwards (and
     * not left by the refused second save either): only "id" is there. */
    {
        DIR *dh = opendir(dir);
        assert_non_null(dh);
        struct dirent *e;
        int files = 0;
        while ((e = readdir(dh)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            assert_string_equal(e->d_name, "id");
            files++;
        }
        closedir(dh);
        assert_int_equal(files, 1);
    }
    assert_int_equal(jt_jtp_identity_load(path, &back, &ei), JT_OK);
    assert_memory_equal(jt_jtp_identity_public(back), jt_jtp_identity_public(id), 32);
    assert_memory_equal(jt_jtp_identity_secret(back), jt_jtp_identity_secret(id), 64);
    jt_jtp_identity_free(back);
    back = NULL;

    /* The loaded identity works in a session. */
    jt_jtp *c, *s;
    keys k;
    make_keys(&k);
    assert_int_equal(jt_jtp_new_client(k.node_pk, jt_jtp_identity_public(id),
                                       jt_jtp_identity_secret(id), NULL, &c, NULL),
                     JT_OK);
    assert_int_equal(jt_jtp_new_server(k.node_pk, k.node_sk, NULL, false, &s, NULL), JT_OK);
    pump(c, s, 0);
    assert_memory_equal(jt_jtp_peer_key(s), jt_jtp_identity_public(id), 32);
    jt_jtp_free(c);
    jt_jtp_free(s);

    /* Loose permissions are refused. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(jt_jtp_identity_load(path, &back, &ei), JT_EIO);
    assert_non_null(strstr(ei.msg, "chmod 600"));
    assert_null(back);

    /* A damaged file is refused. */
    char *text = tu_read_file(path, NULL);
    assert_int_equal(unlink(path), 0);
    char *digit = text + strlen("jtp-identity-1\nseed=") + 3;
    *digit = *digit == '0' ? '1' : '0'; /* still hex, wrong seed */
    FILE *f = fopen(path2, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(text);
    assert_int_equal(chmod(path2, 0600), 0);
    assert_int_equal(jt_jtp_identity_load(path2, &back, &ei), JT_EKEY);
    assert_non_null(strstr(ei.msg, "does not match"));
    unlink(path2);
    assert_int_equal(jt_jtp_identity_load(path2, &back, &ei), JT_EIO);

    /* Deterministic from a seed. */
    uint8_t seed[32];
    memset(seed, 7, sizeof seed);
    jt_jtp_identity *a, *b;
    assert_int_equal(jt_jtp_identity_from_seed(seed, &a), JT_OK);
    assert_int_equal(jt_jtp_identity_from_seed(seed, &b), JT_OK);
    assert_memory_equal(jt_jtp_identity_public(a), jt_jtp_identity_public(b), 32);
    jt_jtp_identity_free(a);
    jt_jtp_identity_free(b);
    jt_jtp_identity_free(id);
    jt_jtp_identity_free(NULL);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake_and_messages),
        cmocka_unit_test(anonymous_client),
        cmocka_unit_test(split_feeds_byte_by_byte),
        cmocka_unit_test(wrong_pinned_key),
        cmocka_unit_test(impostor_node),
        cmocka_unit_test(tampered_ciphertext),
        cmocka_unit_test(reordered_frames_fail),
        cmocka_unit_test(tampered_handshake),
        cmocka_unit_test(oversize_frame_rejected_early),
        cmocka_unit_test(message_exactly_at_limit),
        cmocka_unit_test(queue_and_output_caps),
        cmocka_unit_test(large_buffers_let_go),
        cmocka_unit_test(send_before_open),
        cmocka_unit_test(plaintext_mode),
        cmocka_unit_test(plaintext_refused),
        cmocka_unit_test(bad_magic_and_garbage),
        cmocka_unit_test(bad_keys),
        cmocka_unit_test(key_text_forms),
        cmocka_unit_test(urls),
        cmocka_unit_test(identity_files),
    };
    return cmocka_run_group_tests_name("jtp", tests, NULL, NULL);
}
