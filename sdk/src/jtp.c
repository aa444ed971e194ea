/* jtp.c — the jtp wire protocol as a sans-IO state machine (docs/jtp.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "jt/base58.h"
#include "jt/jtp.h"
#include "jt/util.h"

/* ---- protocol constants (docs/jtp.md §3) ---- */

#define PROTOCOL_NAME "jtp/1 crypto_kx BLAKE2b ChaCha20-Poly1305 secretstream"
#define SIG_CONTEXT   "jtp/1 client signature"
#define KDF_CONTEXT   "jtp1keys" /* exactly crypto_kdf_CONTEXTBYTES */

#define HS_HELLO  0x01
#define HS_REPLY  0x02
#define HS_FINISH 0x03
#define HS_ERROR  0x7F

#define PK_BYTES   32
#define TAG_BYTES  crypto_aead_chacha20poly1305_ietf_ABYTES
#define SS_HEADER  crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define SS_ABYTES  crypto_secretstream_xchacha20poly1305_ABYTES
#define SIG_BYTES  crypto_sign_BYTES
#define HELLO_LEN  (1 + PK_BYTES + PK_BYTES + TAG_BYTES)
#define REPLY_LEN  (1 + PK_BYTES + SS_HEADER + TAG_BYTES)
#define FINISH_LEN (1 + SS_HEADER + SIG_BYTES + TAG_BYTES)
/* Handshake frames are tiny; a peer that announces more during the handshake
 * is not speaking jtp, and must not make us allocate a message-sized buffer
 * before it has proved anything. */
#define HS_MAX_FRAME 256
#define ERR_TEXT_MAX 200
/* A frame buffer above this is released after use, so that idle connections
 * do not each pin their largest message. */
#define KEEP_FRAME_BUF ((size_t)64 << 10)
/* The output buffer and the queue of received messages are let go when
 * they empty past these sizes: one large reply or burst must not hold its
 * memory for the rest of the session. */
#define KEEP_OUT_BUF ((size_t)1 << 20)
#define KEEP_MQ_BUF ((size_t)256 << 10)

_Static_assert(sizeof(KDF_CONTEXT) - 1 == crypto_kdf_CONTEXTBYTES, "kdf context length");
_Static_assert(crypto_kx_SESSIONKEYBYTES == 32, "kx session key size");
_Static_assert(HELLO_LEN <= HS_MAX_FRAME && FINISH_LEN <= HS_MAX_FRAME, "handshake sizes");

typedef enum phase {
    PH_MAGIC,       /* server: waiting for the 4 magic bytes */
    PH_WAIT_HELLO,  /* server */
    PH_WAIT_FINISH, /* server */
    PH_WAIT_REPLY,  /* client */
    PH_OPEN,
    PH_FAILED,
} phase;

/* Everything secret about one session, in guarded memory. */
typedef struct secrets {
    crypto_secretstream_xchacha20poly1305_state tx;
    crypto_secretstream_xchacha20poly1305_state rx;
    uint8_t sign_sk[64];  /* client: ed25519 secret, for the transcript signature */
    uint8_t static_x[32]; /* X25519 secret of our static identity */
    uint8_t eph_x[32];    /* X25519 secret of our ephemeral key */
    uint8_t ck[32];       /* chaining key */
    uint8_t k_finish[32]; /* server: key of the FINISH message */
    uint8_t k_c2s[32];    /* server: kept until FINISH to open the rx stream */
} secrets;

struct jt_jtp {
    bool server;
    bool plaintext;
    bool allow_plaintext;
    phase ph;
    jt_errinfo err;
    size_t max_message, max_output, max_queued;

    secrets *sec;
    uint32_t sec_size;
    uint8_t h[32];         /* transcript hash */
    uint8_t node_pk[32];   /* ed25519: pinned (client) or own (server) */
    uint8_t node_x[32];    /* its X25519 form */
    uint8_t client_pk[32]; /* ed25519: own (client) or claimed/proved (server) */
    uint8_t client_x[32];  /* its X25519 form */
    uint8_t eph_pk[32];    /* our ephemeral public key */
    uint8_t peer_eph[32];  /* the peer's ephemeral public key */
    bool peer_known;

    /* input: the magic, then frames (header, then payload) */
    uint8_t magic[4];
    size_t magic_have;
    uint8_t hdr[4];
    size_t hdr_have;
    uint8_t *frame;
    size_t frame_cap, frame_len, frame_have;
    bool in_frame;
    uint64_t frames_in;

    /* received messages: records of [u32 len][bytes][NUL] */
    uint8_t *mq;
    size_t mq_len, mq_cap, mq_off;

    /* output bytes, the first out_off of which were already written */
    uint8_t *out;
    size_t out_len, out_cap, out_off;
};

/* ---- small helpers ---- */

static jt_err fail(jt_jtp *j, jt_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static jt_err fail(jt_jtp *j, jt_err code, const char *fmt, ...)
{
    j->ph = PH_FAILED;
    j->err.code = code;
    j->err.offset = -1;
    j->err.field[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->err.msg, sizeof j->err.msg, fmt, ap);
    va_end(ap);
    return code;
}

static jt_err report(const jt_jtp *j, jt_errinfo *ei)
{
    if (ei && j->err.code != JT_OK)
        *ei = j->err;
    return j->err.code;
}

static void hash_mix(uint8_t h[32], const uint8_t *data, size_t n)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, h, 32);
    crypto_generichash_update(&st, data, n);
    crypto_generichash_final(&st, h, 32);
}

/* ck, k ← BLAKE2b-512(key = ck, dh). `k` may be NULL when unused. */
static void key_mix(uint8_t ck[32], uint8_t *k, const uint8_t dh[64])
{
    uint8_t outk[64];
    crypto_generichash(outk, sizeof outk, dh, 64, ck, 32);
    memcpy(ck, outk, 32);
    if (k)
        memcpy(k, outk + 32, 32);
    sodium_memzero(outk, sizeof outk);
}

/* The 64-byte crypto_kx result shared by the two ends of one key agreement,
 * in the same order on both sides (client rx ‖ client tx). `as_client`
 * says which crypto_kx role this end plays in that agreement. */
static int kx(uint8_t out[64], bool as_client, const uint8_t my_pk[32], const uint8_t my_sk[32],
              const uint8_t peer_pk[32])
{
    if (as_client)
        return crypto_kx_client_session_keys(out, out + 32, my_pk, my_sk, peer_pk);
    return crypto_kx_server_session_keys(out + 32, out, my_pk, my_sk, peer_pk);
}

static void *grow(uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return *buf;
    size_t c = *cap ? *cap : 512;
    while (c < need)
        c = c > SIZE_MAX / 2 ? need : c * 2;
    uint8_t *p = realloc(*buf, c);
    if (!p)
        return NULL;
    *buf = p;
    *cap = c;
    return p;
}

/* Room for `n` more output bytes; returns where to write them. */
static uint8_t *out_reserve(jt_jtp *j, size_t n, jt_err *why)
{
    if (j->out_off == j->out_len) {
        j->out_off = j->out_len = 0;
    }
    size_t pending = j->out_len - j->out_off;
    if (n > j->max_output || pending > j->max_output - n) {
        *why = JT_ETOOBIG;
        return NULL;
    }
    if (j->out_off > 0 && j->out_len + n > j->out_cap) {
        memmove(j->out, j->out + j->out_off, pending);
        j->out_len = pending;
        j->out_off = 0;
    }
    if (!grow(&j->out, &j->out_cap, j->out_len + n)) {
        *why = JT_ENOMEM;
        return NULL;
    }
    return j->out + j->out_len;
}

static jt_err out_frame(jt_jtp *j, const uint8_t *payload, size_t n)
{
    jt_err why = JT_OK;
    uint8_t *p = out_reserve(j, 4 + n, &why);
    if (!p)
        return why;
    jt__put_u32(p, (uint32_t)n);
    memcpy(p + 4, payload, n);
    j->out_len += 4 + n;
    return JT_OK;
}

static size_t limit_frame(const jt_jtp *j)
{
    if (j->ph != PH_OPEN)
        return HS_MAX_FRAME;
    return j->plaintext ? j->max_message : j->max_message + SS_ABYTES;
}

static void limits_resolve(jt_jtp *j, const jt_jtp_limits *l)
{
    jt_jtp_limits d;
    jt_jtp_limits_init(&d);
    j->max_message = l && l->max_message ? l->max_message : d.max_message;
    if (j->max_message > JT_JTP_MAX_MESSAGE_CEILING)
        j->max_message = JT_JTP_MAX_MESSAGE_CEILING;
    j->max_output = l && l->max_output ? l->max_output : d.max_output;
    /* One maximal frame must always fit, or a legal message could never go out. */
    if (j->max_output < j->max_message + SS_ABYTES + 4)
        j->max_output = j->max_message + SS_ABYTES + 4;
    j->max_queued = l && l->max_queued ? l->max_queued : d.max_queued;
    if (j->max_queued < j->max_message + 5)
        j->max_queued = j->max_message + 5;
}

void jt_jtp_limits_init(jt_jtp_limits *l)
{
    l->max_message = JT_JTP_DEFAULT_MAX_MESSAGE;
    l->max_output = JT_JTP_DEFAULT_MAX_OUTPUT;
    l->max_queued = JT_JTP_DEFAULT_MAX_QUEUED;
}

static jt_jtp *jtp_alloc(const jt_jtp_limits *limits, bool server)
{
    jt_jtp *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    /* sodium_malloc places the block at the end of a page; a multiple of 16
     * keeps the secretstream states aligned. */
    j->sec_size = (uint32_t)((sizeof(secrets) + 15) & ~(size_t)15);
    j->sec = sodium_malloc(j->sec_size);
    if (!j->sec) {
        free(j);
        return NULL;
    }
    sodium_memzero(j->sec, j->sec_size);
    j->server = server;
    jt_errinfo_clear(&j->err);
    limits_resolve(j, limits);
    return j;
}

void jt_jtp_free(jt_jtp *j)
{
    if (!j)
        return;
    if (j->sec) {
        sodium_memzero(j->sec, j->sec_size);
        sodium_free(j->sec);
    }
    /* Received plaintext may be confidential too. */
    if (j->mq)
        sodium_memzero(j->mq, j->mq_cap);
    if (j->frame)
        sodium_memzero(j->frame, j->frame_cap);
    free(j->mq);
    free(j->frame);
    free(j->out);
    sodium_memzero(j, sizeof *j);
    free(j);
}

/* h ← H(PROTOCOL_NAME), then the node's identity, which both ends know before
 * the first byte (docs/jtp.md §3.2). ck starts equal to h. */
static void transcript_init(jt_jtp *j)
{
    crypto_generichash(j->h, 32, (const uint8_t *)PROTOCOL_NAME, sizeof PROTOCOL_NAME - 1, NULL, 0);
    memcpy(j->sec->ck, j->h, 32);
    hash_mix(j->h, j->node_pk, 32);
}

static jt_err check_keypair(const uint8_t pk[32], const uint8_t sk[64], const char *who,
                            jt_errinfo *ei)
{
    uint8_t derived[32];
    if (crypto_sign_ed25519_sk_to_pk(derived, sk) != 0 || sodium_memcmp(derived, pk, 32) != 0)
        return jt__err(ei, JT_EKEY, NULL, -1, "%s public key does not match its secret key", who);
    return JT_OK;
}

/* ---- client ---- */

static const uint8_t zero_nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];

jt_err jt_jtp_new_client(const uint8_t server_pk[32], const uint8_t *client_pk,
                         const uint8_t *client_sk, const jt_jtp_limits *limits, jt_jtp **out,
                         jt_errinfo *ei)
{
    if (!out || !server_pk || (!client_pk) != (!client_sk))
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_jtp_new_client: bad arguments");
    *out = NULL;
    if (jt__sodium_ready() != 0)
        return jt__err(ei, JT_ECRYPTO, NULL, -1, "libsodium failed to initialise");
    jt_jtp *j = jtp_alloc(limits, false);
    if (!j)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    secrets *s = j->sec;
    jt_err e;
    if (client_pk) {
        if ((e = check_keypair(client_pk, client_sk, "client", ei)) != JT_OK)
            goto fail;
        memcpy(j->client_pk, client_pk, 32);
        memcpy(s->sign_sk, client_sk, 64);
    } else {
        crypto_sign_keypair(j->client_pk, s->sign_sk);
    }
    memcpy(j->node_pk, server_pk, 32);
    if (crypto_sign_ed25519_pk_to_curve25519(j->node_x, server_pk) != 0) {
        e = jt__err(ei, JT_EKEY, NULL, -1, "the pinned node key is not a valid ed25519 public key");
        goto fail;
    }
    if (crypto_sign_ed25519_pk_to_curve25519(j->client_x, j->client_pk) != 0 ||
        crypto_sign_ed25519_sk_to_curve25519(s->static_x, s->sign_sk) != 0) {
        e = jt__err(ei, JT_EKEY, NULL, -1, "the client key is not a valid ed25519 key");
        goto fail;
    }
    crypto_kx_keypair(j->eph_pk, s->eph_x);

    /* HELLO = 01 ‖ E ‖ AEAD(k1, ad = h, client ed25519 key) */
    uint8_t hello[HELLO_LEN], dh[64], k1[32];
    transcript_init(j);
    hello[0] = HS_HELLO;
    memcpy(hello + 1, j->eph_pk, 32);
    hash_mix(j->h, hello, 1 + 32);
    if (kx(dh, true, j->eph_pk, s->eph_x, j->node_x) != 0) {
        e = jt__err(ei, JT_EKEY, NULL, -1, "the pinned node key is a weak key");
        goto fail;
    }
    key_mix(s->ck, k1, dh);
    crypto_aead_chacha20poly1305_ietf_encrypt(hello + 33, NULL, j->client_pk, 32, j->h, 32, NULL,
                                              zero_nonce, k1);
    hash_mix(j->h, hello + 33, 32 + TAG_BYTES);
    sodium_memzero(dh, sizeof dh);
    sodium_memzero(k1, sizeof k1);

    jt_err why = JT_OK;
    uint8_t *p = out_reserve(j, 4, &why);
    if (p) {
        memcpy(p, JT_JTP_MAGIC_SECURE, 4);
        j->out_len += 4;
        why = out_frame(j, hello, sizeof hello);
    }
    if (why != JT_OK) {
        e = jt__err(ei, why, NULL, -1, "out of memory");
        goto fail;
    }
    j->ph = PH_WAIT_REPLY;
    *out = j;
    return JT_OK;
fail:
    jt_jtp_free(j);
    return e;
}

jt_err jt_jtp_new_client_plaintext(const jt_jtp_limits *limits, jt_jtp **out, jt_errinfo *ei)
{
    if (!out)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_jtp_new_client_plaintext: out is NULL");
    *out = NULL;
    if (jt__sodium_ready() != 0)
        return jt__err(ei, JT_ECRYPTO, NULL, -1, "libsodium failed to initialise");
    jt_jtp *j = jtp_alloc(limits, false);
    if (!j)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    jt_err why = JT_OK;
    uint8_t *p = out_reserve(j, 4, &why);
    if (!p) {
        jt_jtp_free(j);
        return jt__err(ei, why, NULL, -1, "out of memory");
    }
    memcpy(p, JT_JTP_MAGIC_PLAINTEXT, 4);
    j->out_len += 4;
    j->plaintext = true;
    j->ph = PH_OPEN;
    *out = j;
    return JT_OK;
}

/* REPLY = 02 ‖ F ‖ AEAD(k2, ad = h, node's secretstream header) */
static jt_err client_on_reply(jt_jtp *j, const uint8_t *f, size_t n)
{
    secrets *s = j->sec;
    if (n != REPLY_LEN)
        return fail(j, JT_EJTP_PROTOCOL, "handshake reply has %zu bytes, expected %d", n,
                    REPLY_LEN);
    uint8_t dh[64], k2[32], hdr[SS_HEADER];
    memcpy(j->peer_eph, f + 1, 32);
    hash_mix(j->h, f, 1 + 32);
    int weak = kx(dh, true, j->eph_pk, s->eph_x, j->peer_eph);
    key_mix(s->ck, NULL, dh); /* ee */
    weak |= kx(dh, true, j->client_x, s->static_x, j->peer_eph);
    key_mix(s->ck, k2, dh); /* se */
    sodium_memzero(dh, sizeof dh);
    if (weak) {
        sodium_memzero(k2, sizeof k2);
        return fail(j, JT_EJTP_AUTH, "node sent a weak ephemeral key");
    }
    int bad = crypto_aead_chacha20poly1305_ietf_decrypt(
        hdr, NULL, NULL, f + 33, SS_HEADER + TAG_BYTES, j->h, 32, zero_nonce, k2);
    sodium_memzero(k2, sizeof k2);
    if (bad)
        return fail(j, JT_EJTP_AUTH,
                    "the node failed to prove it holds the pinned key (wrong key pinned, or "
                    "someone in the middle)");
    hash_mix(j->h, f + 33, SS_HEADER + TAG_BYTES);

    uint8_t k3[32], c2s[32], s2c[32];
    crypto_kdf_derive_from_key(k3, 32, 1, KDF_CONTEXT, s->ck);
    crypto_kdf_derive_from_key(c2s, 32, 2, KDF_CONTEXT, s->ck);
    crypto_kdf_derive_from_key(s2c, 32, 3, KDF_CONTEXT, s->ck);
    int rc = crypto_secretstream_xchacha20poly1305_init_pull(&s->rx, hdr, s2c);

    /* FINISH = 03 ‖ AEAD(k3, ad = h, client's secretstream header ‖ signature) */
    uint8_t plain[SS_HEADER + SIG_BYTES], fin[FINISH_LEN];
    uint8_t signed_msg[sizeof SIG_CONTEXT - 1 + 32];
    rc |= crypto_secretstream_xchacha20poly1305_init_push(&s->tx, plain, c2s);
    memcpy(signed_msg, SIG_CONTEXT, sizeof SIG_CONTEXT - 1);
    memcpy(signed_msg + sizeof SIG_CONTEXT - 1, j->h, 32);
    rc |= crypto_sign_detached(plain + SS_HEADER, NULL, signed_msg, sizeof signed_msg, s->sign_sk);
    fin[0] = HS_FINISH;
    crypto_aead_chacha20poly1305_ietf_encrypt(fin + 1, NULL, plain, sizeof plain, j->h, 32, NULL,
                                              zero_nonce, k3);
    sodium_memzero(k3, sizeof k3);
    sodium_memzero(c2s, sizeof c2s);
    sodium_memzero(s2c, sizeof s2c);
    /* The handshake secrets are no longer needed; wiping them now is what
     * gives forward secrecy against a later compromise of this process. */
    sodium_memzero(s->eph_x, sizeof s->eph_x);
    sodium_memzero(s->static_x, sizeof s->static_x);
    sodium_memzero(s->sign_sk, sizeof s->sign_sk);
    sodium_memzero(s->ck, sizeof s->ck);
    if (rc != 0)
        return fail(j, JT_ECRYPTO, "libsodium failed while finishing the handshake");
    jt_err e = out_frame(j, fin, sizeof fin);
    if (e)
        return fail(j, e, "out of memory");
    j->peer_known = true;
    j->ph = PH_OPEN;
    return JT_OK;
}

static jt_err client_on_error(jt_jtp *j, const uint8_t *f, size_t n)
{
    char text[ERR_TEXT_MAX + 1];
    size_t k = 0;
    /* The text is unauthenticated: keep it short and printable so it cannot
     * forge log lines or terminal escapes. */
    for (size_t i = 1; i < n && k < ERR_TEXT_MAX; i++)
        text[k++] = (f[i] >= 0x20 && f[i] < 0x7F) ? (char)f[i] : '?';
    text[k] = '\0';
    return fail(j, JT_EJTP_AUTH, "the node refused the handshake: %s", text);
}

/* ---- server ---- */

jt_err jt_jtp_new_server(const uint8_t node_pk[32], const uint8_t node_sk[64],
                         const jt_jtp_limits *limits, bool allow_plaintext, jt_jtp **out,
                         jt_errinfo *ei)
{
    if (!out || !node_pk || !node_sk)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_jtp_new_server: bad arguments");
    *out = NULL;
    if (jt__sodium_ready() != 0)
        return jt__err(ei, JT_ECRYPTO, NULL, -1, "libsodium failed to initialise");
    jt_err e = check_keypair(node_pk, node_sk, "node", ei);
    if (e)
        return e;
    jt_jtp *j = jtp_alloc(limits, true);
    if (!j)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    memcpy(j->node_pk, node_pk, 32);
    if (crypto_sign_ed25519_pk_to_curve25519(j->node_x, node_pk) != 0 ||
        crypto_sign_ed25519_sk_to_curve25519(j->sec->static_x, node_sk) != 0) {
        jt_jtp_free(j);
        return jt__err(ei, JT_EKEY, NULL, -1, "the node key is not a valid ed25519 key");
    }
    j->allow_plaintext = allow_plaintext;
    j->ph = PH_MAGIC;
    *out = j;
    return JT_OK;
}

static const char plaintext_refused[] =
    "{\"type\":\"error\",\"error\":\"plaintextRefused\",\"error_message\":\"This node does not "
    "accept plaintext jtp from this address; use jtp://HOST:PORT?key=<node key>.\"}";

static jt_err server_on_magic(jt_jtp *j)
{
    if (memcmp(j->magic, JT_JTP_MAGIC_SECURE, 4) == 0) {
        transcript_init(j);
        j->ph = PH_WAIT_HELLO;
        return JT_OK;
    }
    if (memcmp(j->magic, JT_JTP_MAGIC_PLAINTEXT, 4) == 0) {
        j->plaintext = true;
        if (!j->allow_plaintext) {
            (void)out_frame(j, (const uint8_t *)plaintext_refused, sizeof plaintext_refused - 1);
            return fail(j, JT_EJTP_PLAINTEXT,
                        "plaintext jtp refused (allowed only from loopback, when configured)");
        }
        j->ph = PH_OPEN;
        return JT_OK;
    }
    char shown[5];
    for (int i = 0; i < 4; i++)
        shown[i] = (j->magic[i] >= 0x20 && j->magic[i] < 0x7F) ? (char)j->magic[i] : '.';
    shown[4] = '\0';
    return fail(j, JT_EJTP_MAGIC,
                "not a jtp client: first bytes %02x %02x %02x %02x (\"%s\"), expected \"JTP1\" or "
                "\"JTPP\"",
                j->magic[0], j->magic[1], j->magic[2], j->magic[3], shown);
}

static void server_send_error(jt_jtp *j, const char *text)
{
    uint8_t f[1 + ERR_TEXT_MAX];
    size_t n = strlen(text);
    if (n > ERR_TEXT_MAX)
        n = ERR_TEXT_MAX;
    f[0] = HS_ERROR;
    memcpy(f + 1, text, n);
    (void)out_frame(j, f, 1 + n);
}

static jt_err server_on_hello(jt_jtp *j, const uint8_t *f, size_t n)
{
    secrets *s = j->sec;
    if (f[0] != HS_HELLO || n != HELLO_LEN) {
        server_send_error(j, "malformed hello");
        return fail(j, JT_EJTP_PROTOCOL, "handshake hello malformed (type %u, %zu bytes)", f[0], n);
    }
    uint8_t dh[64], k[32];
    memcpy(j->peer_eph, f + 1, 32);
    hash_mix(j->h, f, 1 + 32);
    if (kx(dh, false, j->node_x, s->static_x, j->peer_eph) != 0) {
        server_send_error(j, "weak ephemeral key");
        return fail(j, JT_EJTP_AUTH, "client sent a weak ephemeral key");
    }
    key_mix(s->ck, k, dh); /* es */
    int bad = crypto_aead_chacha20poly1305_ietf_decrypt(j->client_pk, NULL, NULL, f + 33,
                                                        32 + TAG_BYTES, j->h, 32, zero_nonce, k);
    if (bad) {
        server_send_error(j, "cannot decrypt the hello: the client pinned a different node key");
        sodium_memzero(dh, sizeof dh);
        sodium_memzero(k, sizeof k);
        return fail(j, JT_EJTP_AUTH,
                    "client hello does not decrypt: the client pinned a different node key");
    }
    hash_mix(j->h, f + 33, 32 + TAG_BYTES);
    if (crypto_sign_ed25519_pk_to_curve25519(j->client_x, j->client_pk) != 0) {
        sodium_memzero(dh, sizeof dh);
        sodium_memzero(k, sizeof k);
        server_send_error(j, "the client key is not a valid ed25519 key");
        return fail(j, JT_EJTP_AUTH, "the client key is not a valid ed25519 key");
    }

    uint8_t reply[REPLY_LEN], hdr[SS_HEADER], s2c[32];
    crypto_kx_keypair(j->eph_pk, s->eph_x);
    reply[0] = HS_REPLY;
    memcpy(reply + 1, j->eph_pk, 32);
    hash_mix(j->h, reply, 1 + 32);
    int rc = kx(dh, false, j->eph_pk, s->eph_x, j->peer_eph);
    key_mix(s->ck, NULL, dh); /* ee */
    rc |= kx(dh, false, j->eph_pk, s->eph_x, j->client_x);
    key_mix(s->ck, k, dh); /* se */
    sodium_memzero(dh, sizeof dh);
    if (rc != 0) {
        sodium_memzero(k, sizeof k);
        server_send_error(j, "weak key");
        return fail(j, JT_EJTP_AUTH, "client keys are weak");
    }
    crypto_kdf_derive_from_key(s->k_finish, 32, 1, KDF_CONTEXT, s->ck);
    crypto_kdf_derive_from_key(s->k_c2s, 32, 2, KDF_CONTEXT, s->ck);
    crypto_kdf_derive_from_key(s2c, 32, 3, KDF_CONTEXT, s->ck);
    rc = crypto_secretstream_xchacha20poly1305_init_push(&s->tx, hdr, s2c);
    sodium_memzero(s2c, sizeof s2c);
    crypto_aead_chacha20poly1305_ietf_encrypt(reply + 33, NULL, hdr, SS_HEADER, j->h, 32, NULL,
                                              zero_nonce, k);
    sodium_memzero(k, sizeof k);
    hash_mix(j->h, reply + 33, SS_HEADER + TAG_BYTES);
    sodium_memzero(s->eph_x, sizeof s->eph_x);
    sodium_memzero(s->static_x, sizeof s->static_x);
    sodium_memzero(s->ck, sizeof s->ck);
    if (rc != 0)
        return fail(j, JT_ECRYPTO, "libsodium failed during the handshake");
    jt_err e = out_frame(j, reply, sizeof reply);
    if (e)
        return fail(j, e, "out of memory");
    j->ph = PH_WAIT_FINISH;
    return JT_OK;
}

static jt_err server_on_finish(jt_jtp *j, const uint8_t *f, size_t n)
{
    secrets *s = j->sec;
    if (f[0] != HS_FINISH || n != FINISH_LEN)
        return fail(j, JT_EJTP_PROTOCOL, "handshake finish malformed (type %u, %zu bytes)", f[0],
                    n);
    uint8_t plain[SS_HEADER + SIG_BYTES];
    uint8_t signed_msg[sizeof SIG_CONTEXT - 1 + 32];
    int bad = crypto_aead_chacha20poly1305_ietf_decrypt(plain, NULL, NULL, f + 1, n - 1, j->h, 32,
                                                        zero_nonce, s->k_finish);
    sodium_memzero(s->k_finish, sizeof s->k_finish);
    if (bad)
        return fail(j, JT_EJTP_AUTH,
                    "client failed to prove its key (handshake finish does not decrypt)");
    memcpy(signed_msg, SIG_CONTEXT, sizeof SIG_CONTEXT - 1);
    memcpy(signed_msg + sizeof SIG_CONTEXT - 1, j->h, 32);
    if (crypto_sign_verify_detached(plain + SS_HEADER, signed_msg, sizeof signed_msg,
                                    j->client_pk) != 0)
        return fail(j, JT_EJTP_AUTH, "client's transcript signature does not verify");
    int rc = crypto_secretstream_xchacha20poly1305_init_pull(&s->rx, plain, s->k_c2s);
    sodium_memzero(s->k_c2s, sizeof s->k_c2s);
    if (rc != 0)
        return fail(j, JT_ECRYPTO, "libsodium failed during the handshake");
    j->peer_known = true;
    j->ph = PH_OPEN;
    return JT_OK;
}

/* ---- messages ---- */

/* Room for one received message of `n` bytes; returns where its text goes. */
static uint8_t *mq_reserve(jt_jtp *j, size_t n)
{
    if (j->mq_off == j->mq_len)
        j->mq_off = j->mq_len = 0;
    size_t waiting = j->mq_len - j->mq_off;
    if (n + 5 > j->max_queued || waiting > j->max_queued - (n + 5))
        return NULL;
    if (j->mq_off > 0 && j->mq_len + n + 5 > j->mq_cap) {
        memmove(j->mq, j->mq + j->mq_off, waiting);
        j->mq_len = waiting;
        j->mq_off = 0;
    }
    if (!grow(&j->mq, &j->mq_cap, j->mq_len + n + 5))
        return NULL;
    return j->mq + j->mq_len + 4;
}

static void mq_commit(jt_jtp *j, size_t n)
{
    jt__put_u32(j->mq + j->mq_len, (uint32_t)n);
    j->mq[j->mq_len + 4 + n] = '\0';
    j->mq_len += 4 + n + 1;
}

static jt_err on_message_frame(jt_jtp *j, const uint8_t *f, size_t n)
{
    size_t plen = j->plaintext ? n : n - SS_ABYTES;
    if (!j->plaintext && n <= SS_ABYTES)
        return fail(j, JT_EJTP_PROTOCOL, "frame %llu is too short (%zu bytes) to be a message",
                    (unsigned long long)j->frames_in, n);
    uint8_t *dst = mq_reserve(j, plen);
    if (!dst) {
        size_t waiting = j->mq_len - j->mq_off;
        return fail(j, JT_ETOOBIG, "received messages not drained: %zu bytes waiting, limit %zu",
                    waiting, j->max_queued);
    }
    if (j->plaintext) {
        memcpy(dst, f, n);
    } else {
        unsigned char tag = 0;
        if (crypto_secretstream_xchacha20poly1305_pull(&j->sec->rx, dst, NULL, &tag, f, n, NULL,
                                                       0) != 0)
            return fail(j, JT_EJTP_DECRYPT,
                        "frame %llu (%zu bytes) failed to authenticate: corrupted or tampered",
                        (unsigned long long)j->frames_in, n);
        if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)
            return fail(j, JT_EJTP_PROTOCOL, "frame %llu carries secretstream tag %u, expected 0",
                        (unsigned long long)j->frames_in, tag);
    }
    if (plen == 0)
        return fail(j, JT_EJTP_PROTOCOL, "frame %llu carries an empty message",
                    (unsigned long long)j->frames_in);
    mq_commit(j, plen);
    return JT_OK;
}

static jt_err on_frame(jt_jtp *j, const uint8_t *f, size_t n)
{
    j->frames_in++;
    switch (j->ph) {
    case PH_WAIT_HELLO: return server_on_hello(j, f, n);
    case PH_WAIT_FINISH: return server_on_finish(j, f, n);
    case PH_WAIT_REPLY:
        if (f[0] == HS_ERROR)
            return client_on_error(j, f, n);
        if (f[0] != HS_REPLY)
            return fail(j, JT_EJTP_PROTOCOL, "expected the handshake reply, got frame type %u",
                        f[0]);
        return client_on_reply(j, f, n);
    case PH_OPEN: return on_message_frame(j, f, n);
    default: return fail(j, JT_ESTATE, "frame in an unexpected state");
    }
}

jt_err jt_jtp_feed(jt_jtp *j, const uint8_t *in, size_t n, jt_errinfo *ei)
{
    if (!j || (!in && n))
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_jtp_feed: bad arguments");
    while (n > 0 && j->ph != PH_FAILED) {
        if (j->ph == PH_MAGIC) {
            size_t k = 4 - j->magic_have < n ? 4 - j->magic_have : n;
            memcpy(j->magic + j->magic_have, in, k);
            j->magic_have += k;
            in += k;
            n -= k;
            if (j->magic_have == 4)
                server_on_magic(j);
            continue;
        }
        if (!j->in_frame) {
            size_t k = 4 - j->hdr_have < n ? 4 - j->hdr_have : n;
            memcpy(j->hdr + j->hdr_have, in, k);
            j->hdr_have += k;
            in += k;
            n -= k;
            if (j->hdr_have < 4)
                break;
            j->hdr_have = 0;
            uint32_t len = jt__get_u32(j->hdr);
            size_t lim = limit_frame(j);
            if (len == 0) {
                fail(j, JT_EJTP_PROTOCOL, "empty frame (length 0) after %llu frames",
                     (unsigned long long)j->frames_in);
                break;
            }
            if (len > lim) {
                if (j->ph == PH_OPEN)
                    fail(j, JT_EJTP_FRAME_SIZE,
                         "frame of %lu bytes exceeds the limit of %zu bytes (max message %zu)",
                         (unsigned long)len, lim, j->max_message);
                else
                    fail(j, JT_EJTP_FRAME_SIZE,
                         "handshake frame of %lu bytes exceeds the limit of %d bytes",
                         (unsigned long)len, HS_MAX_FRAME);
                break;
            }
            if (!grow(&j->frame, &j->frame_cap, len)) {
                fail(j, JT_ENOMEM, "out of memory for a frame of %lu bytes", (unsigned long)len);
                break;
            }
            j->frame_len = len;
            j->frame_have = 0;
            j->in_frame = true;
        }
        size_t k = j->frame_len - j->frame_have < n ? j->frame_len - j->frame_have : n;
        memcpy(j->frame + j->frame_have, in, k);
        j->frame_have += k;
        in += k;
        n -= k;
        if (j->frame_have < j->frame_len)
            break;
        j->in_frame = false;
        on_frame(j, j->frame, j->frame_len);
        if (j->frame_cap > KEEP_FRAME_BUF) {
            sodium_memzero(j->frame, j->frame_cap);
            free(j->frame);
            j->frame = NULL;
            j->frame_cap = 0;
        }
    }
    return report(j, ei);
}

bool jt_jtp_next_message(jt_jtp *j, const char **msg, size_t *len)
{
    if (!j || j->mq_off >= j->mq_len) {
        if (j) {
            j->mq_off = j->mq_len = 0;
            if (j->mq_cap > KEEP_MQ_BUF) {
                sodium_memzero(j->mq, j->mq_cap);
                free(j->mq);
                j->mq = NULL;
                j->mq_cap = 0;
            }
        }
        return false;
    }
    uint32_t n = jt__get_u32(j->mq + j->mq_off);
    *msg = (const char *)(j->mq + j->mq_off + 4);
    *len = n;
    j->mq_off += 4 + (size_t)n + 1;
    return true;
}

jt_err jt_jtp_send(jt_jtp *j, const char *msg, size_t len, jt_errinfo *ei)
{
    if (!j || (!msg && len))
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_jtp_send: bad arguments");
    if (j->ph == PH_FAILED)
        return jt__err(ei, JT_ESTATE, NULL, -1, "jtp session failed: %s", j->err.msg);
    if (j->ph != PH_OPEN)
        return jt__err(ei, JT_ESTATE, NULL, -1, "jtp handshake not finished");
    if (len == 0)
        return jt__err(ei, JT_EINVAL, NULL, -1, "empty message");
    if (len > j->max_message)
        return jt__err(ei, JT_ETOOBIG, NULL, -1, "message of %zu bytes exceeds the limit of %zu",
                       len, j->max_message);
    size_t flen = j->plaintext ? len : len + SS_ABYTES;
    jt_err why = JT_OK;
    uint8_t *p = out_reserve(j, 4 + flen, &why);
    if (!p)
        return jt__err(ei, why, NULL, -1, "%s (%zu bytes pending, limit %zu)",
                       why == JT_ETOOBIG ? "output queue full" : "out of memory",
                       j->out_len - j->out_off, j->max_output);
    jt__put_u32(p, (uint32_t)flen);
    if (j->plaintext) {
        memcpy(p + 4, msg, len);
    } else if (crypto_secretstream_xchacha20poly1305_push(
                   &j->sec->tx, p + 4, NULL, (const uint8_t *)msg, len, NULL, 0,
                   crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) != 0) {
        fail(j, JT_ECRYPTO, "encryption failed");
        return report(j, ei);
    }
    j->out_len += 4 + flen;
    return JT_OK;
}

void jt_jtp_pending_output(const jt_jtp *j, const uint8_t **p, size_t *n)
{
    *p = j->out ? j->out + j->out_off : NULL;
    *n = j->out_len - j->out_off;
}

void jt_jtp_consume_output(jt_jtp *j, size_t n)
{
    size_t pending = j->out_len - j->out_off;
    j->out_off += n < pending ? n : pending;
    if (j->out_off == j->out_len) {
        j->out_off = j->out_len = 0;
        if (j->out_cap > KEEP_OUT_BUF) {
            /* A plaintext session's output is the messages themselves. */
            sodium_memzero(j->out, j->out_cap);
            free(j->out);
            j->out = NULL;
            j->out_cap = 0;
        }
    }
}

size_t jt_jtp_output_buffered(const jt_jtp *j)
{
    return j ? j->out_cap : 0;
}

size_t jt_jtp_input_buffered(const jt_jtp *j)
{
    return j ? j->frame_cap + j->mq_cap : 0;
}

bool jt_jtp_partial_input(const jt_jtp *j)
{
    return j && j->ph != PH_FAILED && (j->hdr_have > 0 || j->in_frame);
}

jt_jtp_state jt_jtp_get_state(const jt_jtp *j)
{
    if (j->ph == PH_FAILED)
        return JT_JTP_FAILED;
    return j->ph == PH_OPEN ? JT_JTP_OPEN : JT_JTP_HANDSHAKE;
}

const jt_errinfo *jt_jtp_error(const jt_jtp *j)
{
    return &j->err;
}

bool jt_jtp_is_plaintext(const jt_jtp *j)
{
    return j->plaintext;
}

bool jt_jtp_is_server(const jt_jtp *j)
{
    return j->server;
}

const uint8_t *jt_jtp_peer_key(const jt_jtp *j)
{
    if (!j->peer_known || j->ph != PH_OPEN)
        return NULL;
    return j->server ? j->client_pk : j->node_pk;
}

/* ---- key text forms ---- */

jt_err jt_jtp_key_parse(const char *text, uint8_t pk[32], jt_errinfo *ei)
{
    if (!text || !pk)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_jtp_key_parse: NULL argument");
    if (jt__sodium_ready() != 0)
        return jt__err(ei, JT_ECRYPTO, NULL, -1, "libsodium failed to initialise");
    size_t n = strlen(text);
    uint8_t key[32];
    if (n == 64) {
        size_t got = 0;
        if (jt_hex_decode(text, 64, key, sizeof key, &got) != JT_OK || got != 32)
            return jt__err(ei, JT_EKEY, NULL, -1, "node key: 64 characters but not hex");
    } else if (n > 0 && text[0] == 'n') {
        uint8_t raw[33] = {0};
        jt_errinfo sub;
        jt_errinfo_clear(&sub);
        if (jt_node_public_decode(text, raw, &sub) != JT_OK)
            return jt__err(ei, JT_EKEY, NULL, -1, "node key: not a valid node public key: %s",
                           sub.msg[0] ? sub.msg : jt_strerror(sub.code));
        if (raw[0] != 0xED)
            return jt__err(ei, JT_EKEY, NULL, -1,
                           "node key: this node public key is not an ed25519 key (first byte "
                           "%02X, expected ED)",
                           raw[0]);
        memcpy(key, raw + 1, 32);
    } else {
        return jt__err(ei, JT_EKEY, NULL, -1,
                       "node key: expected 64 hex digits or a node public key \"n...\" (got %zu "
                       "characters)",
                       n);
    }
    uint8_t x[32];
    if (crypto_sign_ed25519_pk_to_curve25519(x, key) != 0)
        return jt__err(ei, JT_EKEY, NULL, -1, "node key: not a valid ed25519 public key");
    memcpy(pk, key, 32);
    return JT_OK;
}

void jt_jtp_key_to_hex(const uint8_t pk[32], char out[JT_JTP_KEY_HEX_MAX])
{
    static const char dig[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = dig[pk[i] >> 4];
        out[2 * i + 1] = dig[pk[i] & 15];
    }
    out[64] = '\0';
}

jt_err jt_jtp_key_to_node_public(const uint8_t pk[32], char *out, size_t cap)
{
    uint8_t raw[33];
    char tmp[JT_NODE_PUBLIC_MAX];
    raw[0] = 0xED;
    memcpy(raw + 1, pk, 32);
    jt_err e = jt_node_public_encode(raw, tmp);
    if (e)
        return e;
    size_t n = strlen(tmp);
    if (n + 1 > cap)
        return JT_EBUFSIZE;
    memcpy(out, tmp, n + 1);
    return JT_OK;
}

/* ---- identities ---- */

struct jt_jtp_identity {
    uint8_t sk[64];
    uint8_t pk[32];
    uint8_t pad[16]; /* keeps the size a multiple of 16 for sodium_malloc */
};

static jt_jtp_identity *identity_alloc(void)
{
    if (jt__sodium_ready() != 0)
        return NULL;
    jt_jtp_identity *id = sodium_malloc(sizeof *id);
    if (id)
        sodium_memzero(id, sizeof *id);
    return id;
}

jt_err jt_jtp_identity_generate(jt_jtp_identity **out)
{
    if (!out)
        return JT_EINVAL;
    *out = NULL;
    jt_jtp_identity *id = identity_alloc();
    if (!id)
        return JT_ENOMEM;
    if (crypto_sign_keypair(id->pk, id->sk) != 0) {
        jt_jtp_identity_free(id);
        return JT_ERANDOM;
    }
    *out = id;
    return JT_OK;
}

jt_err jt_jtp_identity_from_seed(const uint8_t seed[32], jt_jtp_identity **out)
{
    if (!out || !seed)
        return JT_EINVAL;
    *out = NULL;
    jt_jtp_identity *id = identity_alloc();
    if (!id)
        return JT_ENOMEM;
    if (crypto_sign_seed_keypair(id->pk, id->sk, seed) != 0) {
        jt_jtp_identity_free(id);
        return JT_ECRYPTO;
    }
    *out = id;
    return JT_OK;
}

const uint8_t *jt_jtp_identity_public(const jt_jtp_identity *id)
{
    return id->pk;
}

const uint8_t *jt_jtp_identity_secret(const jt_jtp_identity *id)
{
    return id->sk;
}

void jt_jtp_identity_free(jt_jtp_identity *id)
{
    if (id)
        sodium_free(id); /* sodium_free wipes the block */
}

#define ID_HEADER   "jtp-identity-1\n"
#define ID_FILE_MAX 1024

/* fsync of the directory holding `path`, so that a name just linked or
 * renamed into it survives a power loss. */
static int sync_parent_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) < sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    /* Some file systems cannot sync a directory; nothing more can be done. */
    if (r != 0 && (errno == EINVAL || errno == ENOTSUP))
        r = 0;
    int er = errno;
    close(fd);
    errno = er;
    return r;
}

/*
 * The file appears whole or not at all: it is written to PATH.tmp-XXXXXX
 * (0600), synced, then given its name with link(), which fails rather than
 * replace an existing key, and the directory is synced. A crash leaves no
 * PATH or a complete one, and at worst a stray temporary file.
 */
jt_err jt_jtp_identity_save(const jt_jtp_identity *id, const char *path, jt_errinfo *ei)
{
    if (!id || !path)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_jtp_identity_save: NULL argument");
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof tmp)
        return jt__err(ei, JT_EINVAL, "path", -1, "path too long: %s", path);
    struct stat st;
    if (lstat(path, &st) == 0)
        return jt__err(ei, JT_EIO, "path", -1, "cannot create %s: %s", path, strerror(EEXIST));
    /* seed hex + public hex + fixed text; built in guarded memory */
    char *buf = sodium_malloc(ID_FILE_MAX);
    if (!buf)
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    char seedhex[JT_JTP_KEY_HEX_MAX], pubhex[JT_JTP_KEY_HEX_MAX];
    jt_jtp_key_to_hex(id->sk, seedhex); /* the first 32 bytes are the seed */
    jt_jtp_key_to_hex(id->pk, pubhex);
    int len = snprintf(buf, ID_FILE_MAX, "%sseed=%s\npublic=%s\n", ID_HEADER, seedhex, pubhex);
    sodium_memzero(seedhex, sizeof seedhex);
    jt_err e = JT_OK;
    int fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0) {
        e = jt__err(ei, JT_EIO, "path", -1, "cannot create %s: %s", tmp, strerror(errno));
    } else {
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        size_t off = 0;
        while (off < (size_t)len) {
            ssize_t w = write(fd, buf + off, (size_t)len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                e = jt__err(ei, JT_EIO, "path", -1, "cannot write %s: %s", tmp,
                            w < 0 ? strerror(errno) : "short write");
                break;
            }
            off += (size_t)w;
        }
        if (!e && fsync(fd) != 0)
            e = jt__err(ei, JT_EIO, "path", -1, "cannot sync %s: %s", tmp, strerror(errno));
        if (close(fd) != 0 && !e)
            e = jt__err(ei, JT_EIO, "path", -1, "cannot close %s: %s", tmp, strerror(errno));
        if (!e && link(tmp, path) != 0) {
            int er = errno;
            /* A file system without hard links: rename, having checked
             * above that nothing is there (the caller owns the directory). */
            if ((er == EPERM || er == ENOTSUP || er == ENOSYS) && lstat(path, &st) != 0 &&
                rename(tmp, path) == 0)
                er = 0;
            if (er)
                e = jt__err(ei, JT_EIO, "path", -1, "cannot create %s: %s", path, strerror(er));
        }
        unlink(tmp); /* after rename it is already gone */
        if (!e && sync_parent_dir(path) != 0)
            e = jt__err(ei, JT_EIO, "path", -1, "cannot sync the directory of %s: %s", path,
                        strerror(errno));
    }
    sodium_free(buf);
    return e;
}

/* Finds "name=<64 hex>\n" at the start of *p and decodes it. */
static bool id_line(const char **p, const char *end, const char *name, uint8_t out[32])
{
    size_t nl = strlen(name);
    const char *s = *p;
    if ((size_t)(end - s) < nl + 1 + 64 || memcmp(s, name, nl) != 0 || s[nl] != '=')
        return false;
    s += nl + 1;
    size_t got = 0;
    if (jt_hex_decode(s, 64, out, 32, &got) != JT_OK)
        return false;
    s += 64;
    if (s < end && *s == '\r')
        s++;
    if (s < end && *s == '\n')
        s++;
    *p = s;
    return true;
}

jt_err jt_jtp_identity_load(const char *path, jt_jtp_identity **out, jt_errinfo *ei)
{
    if (!path || !out)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_jtp_identity_load: NULL argument");
    *out = NULL;
    if (jt__sodium_ready() != 0)
        return jt__err(ei, JT_ECRYPTO, NULL, -1, "libsodium failed to initialise");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return jt__err(ei, JT_EIO, "path", -1, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int er = errno;
        close(fd);
        return jt__err(ei, JT_EIO, "path", -1, "cannot stat %s: %s", path, strerror(er));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return jt__err(ei, JT_EIO, "path", -1, "%s is not a regular file", path);
    }
    if (st.st_mode & 077) {
        close(fd);
        return jt__err(ei, JT_EIO, "path", -1,
                       "%s is accessible by group or others (mode %03o); run chmod 600 on it", path,
                       (unsigned)(st.st_mode & 0777));
    }
    char *buf = sodium_malloc(ID_FILE_MAX);
    if (!buf) {
        close(fd);
        return jt__err(ei, JT_ENOMEM, NULL, -1, "out of memory");
    }
    size_t len = 0;
    jt_err e = JT_OK;
    for (;;) {
        if (len == ID_FILE_MAX) {
            e = jt__err(ei, JT_EIO, "path", -1, "%s is too large to be an identity file", path);
            break;
        }
        ssize_t r = read(fd, buf + len, ID_FILE_MAX - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            e = jt__err(ei, JT_EIO, "path", -1, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    jt_jtp_identity *id = NULL;
    if (!e) {
        const char *p = buf, *end = buf + len;
        uint8_t seed[32], pub[32];
        size_t hl = sizeof ID_HEADER - 1;
        if (len < hl || memcmp(buf, ID_HEADER, hl) != 0) {
            e = jt__err(ei, JT_EKEY, "path", -1, "%s is not a jtp identity file (no \"%.*s\" line)",
                        path, (int)hl - 1, ID_HEADER);
        } else {
            p += hl;
            if (!id_line(&p, end, "seed", seed) || !id_line(&p, end, "public", pub) || p != end) {
                e = jt__err(ei, JT_EKEY, "path", -1,
                            "%s is malformed (expected seed=<64 hex> and public=<64 hex> lines)",
                            path);
            } else if ((e = jt_jtp_identity_from_seed(seed, &id)) != JT_OK) {
                e = jt__err(ei, e, NULL, -1, "cannot derive the identity: %s", jt_strerror(e));
            } else if (sodium_memcmp(id->pk, pub, 32) != 0) {
                e = jt__err(ei, JT_EKEY, "path", -1,
                            "%s: the public key does not match the seed (file damaged?)", path);
                jt_jtp_identity_free(id);
                id = NULL;
            }
        }
        sodium_memzero(seed, sizeof seed);
    }
    sodium_free(buf);
    if (!e)
        *out = id;
    return e;
}

/* ---- URLs ---- */

static bool host_is_loopback(const char *host)
{
    if (strcasecmp(host, "localhost") == 0)
        return true;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    struct in6_addr a6;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return memcmp(&a6, &in6addr_loopback, sizeof a6) == 0;
    return false;
}

static bool host_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

jt_err jt_jtp_url_parse(const char *url, jt_jtp_url *u, jt_errinfo *ei)
{
    if (!url || !u)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_jtp_url_parse: NULL argument");
    memset(u, 0, sizeof *u);
    const char *p;
    if (strncasecmp(url, "jtp://", 6) == 0) {
        p = url + 6;
    } else if (strncasecmp(url, "jtp+plain://", 12) == 0) {
        p = url + 12;
        u->plaintext = true;
    } else {
        return jt__err(ei, JT_EURL, NULL, -1,
                       "not a jtp URL (expected jtp://HOST:PORT?key=<node key> or "
                       "jtp+plain://HOST:PORT)");
    }
    /* host */
    size_t hl = 0;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (!close)
            return jt__err(ei, JT_EURL, NULL, -1, "unterminated [IPv6] host in URL");
        hl = (size_t)(close - p - 1);
        if (hl == 0 || hl >= sizeof u->host)
            return jt__err(ei, JT_EURL, NULL, -1, "bad [IPv6] host in URL");
        memcpy(u->host, p + 1, hl);
        u->host[hl] = '\0';
        struct in6_addr a6;
        if (inet_pton(AF_INET6, u->host, &a6) != 1)
            return jt__err(ei, JT_EURL, NULL, -1, "\"%s\" is not an IPv6 address", u->host);
        p = close + 1;
    } else {
        while (p[hl] && host_char_ok(p[hl]))
            hl++;
        if (hl == 0)
            return jt__err(ei, JT_EURL, NULL, -1, "URL has no host");
        if (hl >= sizeof u->host)
            return jt__err(ei, JT_EURL, NULL, -1, "URL host is too long");
        memcpy(u->host, p, hl);
        u->host[hl] = '\0';
        p += hl;
    }
    /* port */
    u->port = JT_JTP_DEFAULT_PORT;
    if (*p == ':') {
        p++;
        unsigned long port = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 6) {
            port = port * 10 + (unsigned long)(*p - '0');
            p++;
            digits++;
        }
        if (digits == 0 || port == 0 || port > 65535 || (*p >= '0' && *p <= '9'))
            return jt__err(ei, JT_EURL, NULL, -1, "URL port must be a number from 1 to 65535");
        u->port = (uint16_t)port;
    }
    /* key: ?key=K (canonical), /?key=K, #K, /#K */
    if (*p == '/')
        p++;
    const char *key = NULL;
    if (strncmp(p, "?key=", 5) == 0)
        key = p + 5;
    else if (*p == '#')
        key = p + 1;
    else if (*p != '\0')
        return jt__err(ei, JT_EURL, NULL, -1,
                       "unexpected \"%.40s\" in URL (the only part after HOST:PORT is "
                       "?key=<node key>)",
                       p);
    if (key && (strchr(key, '&') || strchr(key, '#') || strchr(key, '/')))
        return jt__err(ei, JT_EURL, NULL, -1, "URL has parameters besides key=");
    if (u->plaintext) {
        if (key)
            return jt__err(ei, JT_EURL, NULL, -1, "a jtp+plain URL takes no key");
        if (!host_is_loopback(u->host))
            return jt__err(ei, JT_EURL, NULL, -1,
                           "plaintext jtp is for loopback only; \"%s\" is not a loopback host "
                           "(use jtp://HOST:PORT?key=<node key>)",
                           u->host);
        return JT_OK;
    }
    if (!key || !*key)
        return jt__err(ei, JT_EURL, NULL, -1,
                       "a jtp URL must pin the node key: jtp://%s:%u?key=<node key as printed by "
                       "jt-node init>",
                       u->host, (unsigned)u->port);
    return jt_jtp_key_parse(key, u->key, ei);
}

jt_err jt_jtp_url_format(const jt_jtp_url *u, char *out, size_t cap)
{
    bool v6 = strchr(u->host, ':') != NULL;
    int n;
    if (u->plaintext) {
        n = snprintf(out, cap, "jtp+plain://%s%s%s:%u", v6 ? "[" : "", u->host, v6 ? "]" : "",
                     (unsigned)u->port);
    } else {
        char key[JT_NODE_PUBLIC_MAX];
        jt_err e = jt_jtp_key_to_node_public(u->key, key, sizeof key);
        if (e)
            return e;
        n = snprintf(out, cap, "jtp://%s%s%s:%u?key=%s", v6 ? "[" : "", u->host, v6 ? "]" : "",
                     (unsigned)u->port, key);
    }
    if (n < 0 || (size_t)n >= cap)
        return JT_EBUFSIZE;
    return JT_OK;
}
