/*
 * jt/jtp.h — jtp, jtkit's native node transport, as a sans-IO state machine.
 *
 * jtp carries the node's JSON API (the same messages as the WebSocket API,
 * PROTOCOL.md §6) over TCP: a 4-byte magic, then frames of a big-endian u32
 * length and a payload. A secure session starts with a three-message
 * handshake (X25519 through crypto_kx, with per-connection ephemeral keys)
 * in which the client proves it holds the node key it pinned, and the node
 * learns and authenticates the client's ed25519 key; after it each frame is
 * one crypto_secretstream_xchacha20poly1305 message holding one JSON text.
 * A plaintext mode (frames carry JSON directly) exists for loopback use and
 * the node may refuse it. docs/jtp.md is the byte-level specification.
 *
 * This module does no I/O. The owner of the socket:
 *
 *     jt_jtp_feed(j, bytes_read, n, &ei);            // parse, decrypt, answer
 *     while (jt_jtp_next_message(j, &msg, &len))      // complete JSON texts
 *         handle(msg, len);
 *     jt_jtp_pending_output(j, &p, &n);               // write these bytes ...
 *     jt_jtp_consume_output(j, written);              // ... and drop what went out
 *
 * and calls jt_jtp_send() to queue a message. A client writes its pending
 * output right after creation (the magic and the first handshake message).
 * When jt_jtp_state() becomes JT_JTP_FAILED, flush the pending output (it
 * may hold an error frame for the peer), then close the connection.
 *
 * Identity keys are ed25519 key pairs in libsodium's layout: a 32-byte public
 * key and a 64-byte secret key (seed ‖ public key). The node's public key is
 * what a client pins; as text it is 64 hex digits or the node-public base58
 * form "n…" (version 0x1C over 0xED ‖ key) — both are accepted everywhere.
 *
 * Threading: a jt_jtp handle is not thread-safe; use each from one thread at
 * a time. Different handles are independent. Everything else here is
 * thread-safe.
 */
#ifndef JT_JTP_H
#define JT_JTP_H

#include "jt/common.h"
#include "jt/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JT_JTP_DEFAULT_PORT 5030

/* The first four bytes a client sends: secure session or plaintext. */
#define JT_JTP_MAGIC_SECURE    "JTP1"
#define JT_JTP_MAGIC_PLAINTEXT "JTPP"

#define JT_JTP_KEY_BYTES        32 /* ed25519 public key */
#define JT_JTP_SECRET_KEY_BYTES 64 /* ed25519 secret key (seed ‖ public) */
#define JT_JTP_KEY_HEX_MAX      65 /* 64 hex digits + NUL */

/* Size limits. Zero in any field means "the default". */
typedef struct jt_jtp_limits {
    /* Largest JSON message, either direction (default 1 MiB). A frame
     * announcing more is rejected before anything is allocated. */
    size_t max_message;
    /* Largest amount of unsent output the handle keeps (default 16 MiB);
     * jt_jtp_send fails with JT_ETOOBIG beyond it. */
    size_t max_output;
    /* Largest amount of received messages waiting for jt_jtp_next_message
     * (default 4 MiB, and never less than max_message + 1). */
    size_t max_queued;
} jt_jtp_limits;

#define JT_JTP_DEFAULT_MAX_MESSAGE ((size_t)1 << 20)
#define JT_JTP_DEFAULT_MAX_OUTPUT  ((size_t)16 << 20)
#define JT_JTP_DEFAULT_MAX_QUEUED  ((size_t)4 << 20)
/* Hard ceiling for max_message: the u32 frame length and secretstream's
 * overhead must fit, and nothing should ask for more anyway. */
#define JT_JTP_MAX_MESSAGE_CEILING ((size_t)256 << 20)

/* Fills `l` with the defaults. */
JT_API void jt_jtp_limits_init(jt_jtp_limits *l);

typedef enum jt_jtp_state {
    JT_JTP_HANDSHAKE = 0, /* magic/handshake not finished; jt_jtp_send fails */
    JT_JTP_OPEN = 1,      /* messages flow both ways */
    JT_JTP_FAILED = 2,    /* fatal error (jt_jtp_error); flush output, then close */
} jt_jtp_state;

typedef struct jt_jtp jt_jtp;

/* A client for a secure session with the node whose ed25519 public key is
 * `server_pk` (pinned by the caller). `client_pk`/`client_sk` are the
 * client's identity; pass both NULL for a fresh random identity used only by
 * this handle. `limits` may be NULL. The magic and the first handshake
 * message are queued as output at once.
 * Errors: JT_EKEY (server_pk is not a usable ed25519 key, or client_pk does
 * not match client_sk), JT_ENOMEM, JT_ECRYPTO. The handle is the caller's;
 * release it with jt_jtp_free(). Secret keys are copied into guarded memory;
 * the caller may wipe its own copies after the call. */
JT_API jt_err jt_jtp_new_client(const uint8_t server_pk[32], const uint8_t *client_pk,
                                const uint8_t *client_sk, const jt_jtp_limits *limits, jt_jtp **out,
                                jt_errinfo *ei) JT_MUST_CHECK;

/* A plaintext client: no handshake, no encryption. The handle is open at
 * once (the plaintext magic is queued as output, and messages may be sent
 * right away). The node may refuse it: it then sends one JSON error message
 * {"type":"error","error":"plaintextRefused",...} and closes. Meant for
 * loopback connections only; the caller enforces that.
 * Errors: JT_ENOMEM. Ownership as jt_jtp_new_client. */
JT_API jt_err jt_jtp_new_client_plaintext(const jt_jtp_limits *limits, jt_jtp **out,
                                          jt_errinfo *ei) JT_MUST_CHECK;

/* The node side of one accepted connection. `node_pk`/`node_sk` are the
 * node's identity. With `allow_plaintext` false, a plaintext client gets the
 * plaintextRefused error message and the handle fails with JT_EJTP_PLAINTEXT
 * (the caller passes true only for loopback peers, when configured).
 * Errors: JT_EKEY (node_pk does not match node_sk or is not a usable key),
 * JT_ENOMEM, JT_ECRYPTO. Ownership as jt_jtp_new_client. */
JT_API jt_err jt_jtp_new_server(const uint8_t node_pk[32], const uint8_t node_sk[64],
                                const jt_jtp_limits *limits, bool allow_plaintext, jt_jtp **out,
                                jt_errinfo *ei) JT_MUST_CHECK;

/* Releases the handle and wipes its secrets. NULL is fine. */
JT_API void jt_jtp_free(jt_jtp *j);

/* Consumes all `n` bytes received from the peer: completes the handshake
 * (queueing the replies as output), decrypts complete frames and queues
 * their messages for jt_jtp_next_message(). Partial frames are kept until
 * the rest arrives (any split of the byte stream gives the same result).
 * Errors (the handle is then JT_JTP_FAILED and every later feed returns the
 * same code): JT_EJTP_MAGIC, JT_EJTP_FRAME_SIZE (the message names the
 * announced size and the limit), JT_EJTP_PROTOCOL, JT_EJTP_AUTH (the client
 * pinned a key the node does not hold, the client failed to prove its key,
 * or the node refused the handshake — its reason is quoted), JT_EJTP_DECRYPT,
 * JT_EJTP_PLAINTEXT, JT_ETOOBIG (received messages not drained and over
 * max_queued), JT_ENOMEM. Messages queued before the failing frame can still
 * be read. Details go to `ei` (may be NULL) and to jt_jtp_error().
 * Pointers from jt_jtp_next_message() are invalid after this call. */
JT_API jt_err jt_jtp_feed(jt_jtp *j, const uint8_t *in, size_t n, jt_errinfo *ei) JT_MUST_CHECK;

/* The next received message: true with *msg and *len set (the text is also
 * NUL-terminated; it is whatever the peer sent and is not validated as
 * JSON), or false when none is waiting. The memory belongs to the handle and
 * stays valid until the next jt_jtp_next_message, jt_jtp_feed or
 * jt_jtp_free on this handle. */
JT_API bool jt_jtp_next_message(jt_jtp *j, const char **msg, size_t *len);

/* Queues one message (len ≥ 1, at most max_message bytes), encrypted in a
 * secure session, as one frame of output.
 * Errors: JT_ESTATE (handshake not finished, or the handle failed),
 * JT_EINVAL (empty message), JT_ETOOBIG (over max_message, or the output
 * would exceed max_output), JT_ENOMEM, JT_ECRYPTO. A failed send changes
 * nothing (the handle stays usable) except for JT_ECRYPTO. */
JT_API jt_err jt_jtp_send(jt_jtp *j, const char *msg, size_t len, jt_errinfo *ei) JT_MUST_CHECK;

/* The bytes waiting to be written to the peer (*n may be 0). The pointer is
 * valid until the next call that changes the handle. */
JT_API void jt_jtp_pending_output(const jt_jtp *j, const uint8_t **p, size_t *n);
/* Drops the first `n` pending bytes (those that were written); n larger than
 * what is pending drops everything. An output buffer that empties past
 * 1 MiB is let go (a later send allocates again). */
JT_API void jt_jtp_consume_output(jt_jtp *j, size_t n);
/* Bytes of memory the handle holds for output (at least what is pending):
 * what a server's output budget should count. */
JT_API size_t jt_jtp_output_buffered(const jt_jtp *j);

JT_API jt_jtp_state jt_jtp_get_state(const jt_jtp *j);
/* Whether a frame has begun to arrive and is not yet whole (its header or
 * its payload only in part): a server can give the peer a deadline. */
JT_API bool jt_jtp_partial_input(const jt_jtp *j);
/* Bytes of memory the handle holds for input: the frame being received and
 * messages not yet taken with jt_jtp_next_message (a queue that empties
 * past 256 KiB is let go at the jt_jtp_next_message that finds it empty). */
JT_API size_t jt_jtp_input_buffered(const jt_jtp *j);
/* The failure of a JT_JTP_FAILED handle (code JT_OK otherwise). Valid as
 * long as the handle. */
JT_API const jt_errinfo *jt_jtp_error(const jt_jtp *j);
/* true for a plaintext session (known on the node side once the magic
 * arrived). */
JT_API bool jt_jtp_is_plaintext(const jt_jtp *j);
/* true for a handle made by jt_jtp_new_server. */
JT_API bool jt_jtp_is_server(const jt_jtp *j);
/* The peer's authenticated ed25519 public key once the session is open:
 * on the node side the client's key, on the client side the node's (the
 * pinned key). NULL before that and for plaintext sessions. Valid as long
 * as the handle. */
JT_API const uint8_t *jt_jtp_peer_key(const jt_jtp *j);

/* ---- key text forms ---------------------------------------------------- */

/* Parses a public key given as 64 hex digits (either case) or in the
 * node-public base58 form "n…" (which must carry an ed25519 key, 0xED ‖ 32
 * bytes). Errors: JT_EKEY (message says which form was expected and what was
 * wrong), JT_EINVAL (NULL). Thread-safe. */
JT_API jt_err jt_jtp_key_parse(const char *text, uint8_t pk[32], jt_errinfo *ei) JT_MUST_CHECK;
/* 64 lower-case hex digits and a NUL. */
JT_API void jt_jtp_key_to_hex(const uint8_t pk[32], char out[JT_JTP_KEY_HEX_MAX]);
/* The node-public form "n…" (JT_NODE_PUBLIC_MAX from jt/base58.h bytes is
 * always enough). Errors: JT_EBUFSIZE. */
JT_API jt_err jt_jtp_key_to_node_public(const uint8_t pk[32], char *out, size_t cap);

/* ---- identities --------------------------------------------------------- */

/* An ed25519 key pair whose secret lives in guarded (sodium_malloc) memory. */
typedef struct jt_jtp_identity jt_jtp_identity;

/* A fresh random identity. Errors: JT_ENOMEM, JT_ERANDOM. The caller frees
 * it with jt_jtp_identity_free(). */
JT_API jt_err jt_jtp_identity_generate(jt_jtp_identity **out) JT_MUST_CHECK;
/* The identity derived from a 32-byte ed25519 seed (deterministic). */
JT_API jt_err jt_jtp_identity_from_seed(const uint8_t seed[32],
                                        jt_jtp_identity **out) JT_MUST_CHECK;
/* Writes the identity to a new file `path` with mode 0600 (fails with JT_EIO
 * if it exists: keys are never overwritten). The file appears whole or not at
 * all: it is written to `path`.tmp-XXXXXX, synced, linked into place and the
 * directory synced; a crash can leave such a temporary file behind, never a
 * partial `path`. Format (docs/jtp.md):
 *     jtp-identity-1\nseed=<64 hex>\npublic=<64 hex>\n
 * Errors: JT_EIO (message has the path and the system error). */
JT_API jt_err jt_jtp_identity_save(const jt_jtp_identity *id, const char *path,
                                   jt_errinfo *ei) JT_MUST_CHECK;
/* Reads an identity file. Refuses a file that is not a regular file or that
 * the group or others may read or write (JT_EIO, message says to chmod 600),
 * a malformed file, and a file whose public line does not match its seed
 * (JT_EKEY). Errors also JT_ENOMEM. The buffer holding the file is wiped. */
JT_API jt_err jt_jtp_identity_load(const char *path, jt_jtp_identity **out,
                                   jt_errinfo *ei) JT_MUST_CHECK;
JT_API const uint8_t *jt_jtp_identity_public(const jt_jtp_identity *id); /* 32 bytes */
JT_API const uint8_t *jt_jtp_identity_secret(const jt_jtp_identity *id); /* 64 bytes */
/* Wipes and frees. NULL is fine. */
JT_API void jt_jtp_identity_free(jt_jtp_identity *id);

/* ---- URLs ---------------------------------------------------------------- */

/* jtp://HOST[:PORT]?key=<node key>          canonical
 * jtp://HOST[:PORT]/#<node key>              also accepted (also "#<key>"
 *                                            without the slash, and "/?key=")
 * jtp+plain://HOST[:PORT]                    plaintext, loopback hosts only
 * HOST is a name, an IPv4 address or a bracketed IPv6 address; PORT defaults
 * to 5030; the key is hex or "n…" (jt_jtp_key_parse). */
typedef struct jt_jtp_url {
    char host[256]; /* without brackets */
    uint16_t port;
    bool plaintext;
    uint8_t key[32]; /* the pinned node key (secure URLs) */
} jt_jtp_url;

/* Parses a jtp URL. A secure URL must carry the node key; a jtp+plain URL
 * must name a loopback host ("localhost", 127.0.0.0/8, "::1") and carry no
 * key. Errors: JT_EURL (message says what is wrong), JT_EKEY (bad key).
 * Thread-safe. */
JT_API jt_err jt_jtp_url_parse(const char *url, jt_jtp_url *out, jt_errinfo *ei) JT_MUST_CHECK;

/* Writes the canonical form jtp://HOST:PORT?key=<n…> (or jtp+plain://HOST:PORT).
 * Errors: JT_EBUFSIZE. */
JT_API jt_err jt_jtp_url_format(const jt_jtp_url *u, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
