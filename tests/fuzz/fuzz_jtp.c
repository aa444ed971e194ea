/* fuzz_jtp.c — the jtp frame and handshake parsers on hostile bytes.
 *
 * The first input byte picks what the rest is fed to:
 *   0  a node that accepts plaintext          3  key and URL text parsers
 *   1  a node that refuses plaintext          4  a node whose secure session is open
 *   2  a client waiting for the node's reply
 * The second byte sets the size of the chunks the bytes arrive in, so that
 * every split of the stream is explored.
 * Properties: no crash or leak; every failure explains itself; a failed
 * handle stays failed with the same code; no message exceeds the limit. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "jt/jt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MESSAGE 4096

static uint8_t node_pk[32], node_sk[64], cli_pk[32], cli_sk[64];

static void setup(void)
{
    static int done;
    if (done)
        return;
    if (sodium_init() < 0)
        abort();
    uint8_t seed[32];
    memset(seed, 1, sizeof seed);
    crypto_sign_seed_keypair(node_pk, node_sk, seed);
    memset(seed, 2, sizeof seed);
    crypto_sign_seed_keypair(cli_pk, cli_sk, seed);
    done = 1;
}

static void drain(jt_jtp *j)
{
    const char *m;
    size_t n;
    while (jt_jtp_next_message(j, &m, &n))
        if (n == 0 || n > MAX_MESSAGE || m[n] != '\0')
            abort();
}

static void feed_all(jt_jtp *j, const uint8_t *p, size_t n, size_t chunk)
{
    jt_err first = JT_OK;
    while (n > 0) {
        size_t k = n < chunk ? n : chunk;
        jt_errinfo ei;
        jt_errinfo_clear(&ei);
        jt_err e = jt_jtp_feed(j, p, k, &ei);
        if (e != JT_OK) {
            if (ei.msg[0] == '\0' || jt_jtp_get_state(j) != JT_JTP_FAILED)
                abort();
            if (first != JT_OK && e != first)
                abort(); /* failure is sticky */
            first = e;
        } else if (first != JT_OK) {
            abort();
        }
        drain(j);
        /* Output stays bounded: drop what a socket would have written. */
        const uint8_t *out;
        size_t on;
        jt_jtp_pending_output(j, &out, &on);
        jt_jtp_consume_output(j, on);
        p += k;
        n -= k;
    }
}

static void fuzz_text(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return;
    memcpy(s, data, size);
    s[size] = '\0';
    uint8_t pk[32];
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    if (jt_jtp_key_parse(s, pk, &ei) != JT_OK && ei.msg[0] == '\0')
        abort();
    jt_jtp_url u;
    jt_errinfo_clear(&ei);
    if (jt_jtp_url_parse(s, &u, &ei) == JT_OK) {
        /* What parses formats canonically and parses back to the same thing. */
        char canon[512];
        jt_jtp_url v;
        if (jt_jtp_url_format(&u, canon, sizeof canon) != JT_OK ||
            jt_jtp_url_parse(canon, &v, &ei) != JT_OK || strcmp(u.host, v.host) != 0 ||
            u.port != v.port || u.plaintext != v.plaintext ||
            (!u.plaintext && memcmp(u.key, v.key, 32) != 0))
            abort();
    } else if (ei.msg[0] == '\0') {
        abort();
    }
    free(s);
}

/* A secure session opened in memory; returns the node side. */
static jt_jtp *open_server(const jt_jtp_limits *lim)
{
    jt_jtp *c = NULL, *s = NULL;
    if (jt_jtp_new_client(node_pk, cli_pk, cli_sk, lim, &c, NULL) != JT_OK ||
        jt_jtp_new_server(node_pk, node_sk, lim, false, &s, NULL) != JT_OK)
        abort();
    for (int i = 0; i < 4; i++) {
        const uint8_t *p;
        size_t n;
        jt_jtp_pending_output(c, &p, &n);
        if (n && jt_jtp_feed(s, p, n, NULL) != JT_OK)
            abort();
        jt_jtp_consume_output(c, n);
        jt_jtp_pending_output(s, &p, &n);
        if (n && jt_jtp_feed(c, p, n, NULL) != JT_OK)
            abort();
        jt_jtp_consume_output(s, n);
    }
    if (jt_jtp_get_state(s) != JT_JTP_OPEN)
        abort();
    jt_jtp_free(c);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    if (size < 2)
        return 0;
    int mode = data[0] % 5;
    size_t chunk = (size_t)data[1] + 1;
    data += 2;
    size -= 2;
    jt_jtp_limits lim;
    jt_jtp_limits_init(&lim);
    lim.max_message = MAX_MESSAGE;
    lim.max_queued = 4 * MAX_MESSAGE;
    jt_jtp *j = NULL;
    switch (mode) {
    case 0:
    case 1:
        if (jt_jtp_new_server(node_pk, node_sk, &lim, mode == 0, &j, NULL) != JT_OK)
            abort();
        break;
    case 2:
        if (jt_jtp_new_client(node_pk, cli_pk, cli_sk, &lim, &j, NULL) != JT_OK)
            abort();
        break;
    case 3: fuzz_text(data, size); return 0;
    default: j = open_server(&lim); break;
    }
    feed_all(j, data, size, chunk);
    jt_jtp_free(j);
    return 0;
}
