/* memo.c — memos sealed to an account's X25519 key (jt/memo.h, docs/memos.md). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "jt/keys.h"
#include "jt/memo.h"

/* BLAKE2b-256 keyed by the 16-byte seed over this text and the key type
 * byte. The text names the purpose and the version, so the same seed never
 * gives this key for anything else. */
static const char derive_context[] = "jtkit memo key v1";

struct jt_memo_key {
    uint8_t *sk; /* guarded, 32 bytes; PROT_NONE outside calls */
    pthread_mutex_t lock;
    uint8_t pub[JT_MEMO_KEY_BYTES];
};

static jt_err derive(const jt_seed *seed, void *ctx)
{
    jt_memo_key *k = ctx;
    uint8_t msg[sizeof derive_context];
    memcpy(msg, derive_context, sizeof derive_context - 1);
    msg[sizeof derive_context - 1] = seed->type == JT_KEY_ED25519 ? 1 : 0;
    if (crypto_generichash(k->sk, 32, msg, sizeof msg, seed->bytes, sizeof seed->bytes) != 0)
        return JT_ECRYPTO;
    /* crypto_scalarmult clamps the scalar itself: the 32 bytes are the
     * private key as they are. */
    if (crypto_scalarmult_base(k->pub, k->sk) != 0)
        return JT_ECRYPTO;
    return JT_OK;
}

jt_err jt_memo_key_new(jt_secret_key *sk, jt_memo_key **out)
{
    if (!out)
        return JT_EINVAL;
    *out = NULL;
    if (!sk)
        return JT_EINVAL;
    if (jt__sodium_ready() != 0)
        return JT_ECRYPTO;
    jt_memo_key *k = calloc(1, sizeof *k);
    if (!k)
        return JT_ENOMEM;
    k->sk = sodium_malloc(32);
    if (!k->sk) {
        free(k);
        return JT_ENOMEM;
    }
    if (pthread_mutex_init(&k->lock, NULL) != 0) {
        sodium_free(k->sk);
        free(k);
        return JT_ENOMEM;
    }
    jt_err e = jt__secret_key_with_seed(sk, derive, k);
    if (!e && sodium_mprotect_noaccess(k->sk) != 0)
        e = JT_ECRYPTO;
    if (e) {
        jt_memo_key_free(k);
        return e;
    }
    *out = k;
    return JT_OK;
}

void jt_memo_key_free(jt_memo_key *k)
{
    if (!k)
        return;
    sodium_free(k->sk); /* makes it writable, wipes and unmaps it */
    pthread_mutex_destroy(&k->lock);
    free(k);
}

const uint8_t *jt_memo_key_public(const jt_memo_key *k)
{
    return k->pub;
}

void jt_memo_key_message_key(const jt_memo_key *k, uint8_t out[JT_MESSAGE_KEY_BYTES])
{
    out[0] = JT_MESSAGE_KEY_PREFIX;
    memcpy(out + 1, k->pub, JT_MEMO_KEY_BYTES);
}

jt_err jt_message_key_decode(const uint8_t *mk, size_t len, uint8_t pub[JT_MEMO_KEY_BYTES])
{
    if (!mk || !pub)
        return JT_EINVAL;
    if (len != JT_MESSAGE_KEY_BYTES || mk[0] != JT_MESSAGE_KEY_PREFIX)
        return JT_EKEY;
    memcpy(pub, mk + 1, JT_MEMO_KEY_BYTES);
    return JT_OK;
}

size_t jt_memo_sealed_size(const jt_memo_parts *in)
{
    return JT_MEMO_OVERHEAD + in->type_len + in->format_len + in->data_len;
}

static void put16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static size_t get16(const uint8_t *p)
{
    return (size_t)p[0] << 8 | p[1];
}

jt_err jt_memo_seal(const uint8_t to[JT_MEMO_KEY_BYTES], jt_memo_role role,
                    const jt_account_id *sender, const jt_memo_parts *in, uint8_t *out, size_t cap,
                    size_t *outlen)
{
    if (!to || !sender || !in || !out || !outlen ||
        (role != JT_MEMO_FOR_RECIPIENT && role != JT_MEMO_FOR_SENDER) ||
        (in->type_len && !in->type) || (in->format_len && !in->format) ||
        (in->data_len && !in->data))
        return JT_EINVAL;
    *outlen = 0;
    if (in->type_len > 0xFFFF || in->format_len > 0xFFFF ||
        in->type_len + in->format_len + in->data_len > JT_MEMO_PLAIN_MAX)
        return JT_ETOOBIG;
    size_t need = jt_memo_sealed_size(in);
    if (cap < need)
        return JT_EBUFSIZE;
    if (jt__sodium_ready() != 0)
        return JT_ECRYPTO;
    size_t plen = 24 + in->type_len + in->format_len + in->data_len;
    uint8_t *plain = malloc(plen);
    if (!plain)
        return JT_ENOMEM;
    uint8_t *p = plain;
    memcpy(p, sender->bytes, 20);
    p += 20;
    put16(p, in->type_len);
    if (in->type_len)
        memcpy(p + 2, in->type, in->type_len);
    p += 2 + in->type_len;
    put16(p, in->format_len);
    if (in->format_len)
        memcpy(p + 2, in->format, in->format_len);
    p += 2 + in->format_len;
    if (in->data_len)
        memcpy(p, in->data, in->data_len);
    out[0] = JT_MEMO_VERSION;
    out[1] = (uint8_t)role;
    memcpy(out + 2, to, JT_MEMO_KEY_BYTES);
    int rc = crypto_box_seal(out + JT_MEMO_HEADER_BYTES, plain, plen, to);
    sodium_memzero(plain, plen);
    free(plain);
    if (rc != 0) {
        sodium_memzero(out, need);
        return JT_ECRYPTO;
    }
    *outlen = need;
    return JT_OK;
}

jt_err jt_memo_peek(const uint8_t *sealed, size_t len, jt_memo_role *role,
                    uint8_t to[JT_MEMO_KEY_BYTES])
{
    if (!sealed)
        return JT_EINVAL;
    if (len < JT_MEMO_OVERHEAD)
        return JT_ETRUNCATED;
    if (sealed[0] != JT_MEMO_VERSION || sealed[1] > JT_MEMO_FOR_SENDER)
        return JT_EINVAL;
    if (role)
        *role = (jt_memo_role)sealed[1];
    if (to)
        memcpy(to, sealed + 2, JT_MEMO_KEY_BYTES);
    return JT_OK;
}

jt_err jt_memo_open(jt_memo_key *k, const uint8_t *sealed, size_t len, const jt_account_id *sender,
                    uint8_t *buf, size_t cap, jt_memo_parts *out)
{
    if (!k || !sender || !buf || !out)
        return JT_EINVAL;
    memset(out, 0, sizeof *out);
    uint8_t to[JT_MEMO_KEY_BYTES];
    jt_err e = jt_memo_peek(sealed, len, NULL, to);
    if (e)
        return e;
    if (memcmp(to, k->pub, sizeof to) != 0)
        return JT_EKEY;
    const uint8_t *box = sealed + JT_MEMO_HEADER_BYTES;
    size_t blen = len - JT_MEMO_HEADER_BYTES;
    size_t plen = blen - crypto_box_SEALBYTES;
    if (cap < plen)
        return JT_EBUFSIZE;
    pthread_mutex_lock(&k->lock);
    if (sodium_mprotect_readonly(k->sk) != 0) {
        pthread_mutex_unlock(&k->lock);
        return JT_ECRYPTO;
    }
    int rc = crypto_box_seal_open(buf, box, blen, k->pub, k->sk);
    /* If PROT_NONE cannot be restored the key stays readable but is still
     * locked, out of core dumps and wiped on free. */
    (void)sodium_mprotect_noaccess(k->sk);
    pthread_mutex_unlock(&k->lock);
    if (rc != 0) {
        sodium_memzero(buf, plen);
        return JT_EDECRYPT;
    }
    /* Sealed by the transaction's own account, or copied from another's:
     * anyone can seal to a published key, so the box alone says nothing of
     * who wrote it; the transaction's signature does, for its Account. */
    if (sodium_memcmp(buf, sender->bytes, 20) != 0) {
        sodium_memzero(buf, plen);
        return JT_EDECRYPT;
    }
    /* type and format with 2-byte lengths, then the data: each length
     * checked against what is left before it is used. */
    const uint8_t *p = buf + 20;
    size_t rest = plen - 20;
    size_t tl = get16(p);
    if (2 + tl + 2 > rest) {
        sodium_memzero(buf, plen);
        return JT_EINVAL;
    }
    size_t fl = get16(p + 2 + tl);
    if (4 + tl + fl > rest) {
        sodium_memzero(buf, plen);
        return JT_EINVAL;
    }
    out->type = tl ? p + 2 : NULL;
    out->type_len = tl;
    out->format = fl ? p + 4 + tl : NULL;
    out->format_len = fl;
    out->data_len = rest - 4 - tl - fl;
    out->data = out->data_len ? p + 4 + tl + fl : NULL;
    return JT_OK;
}
