/* secret_key.c — signing keys kept in libsodium guarded memory. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "jt/base58.h"
#include "jt/secret_key.h"

/* What lives in guarded memory. The size is padded to a multiple of 16:
 * sodium_malloc puts the block at the very end of its page, so its size
 * decides its alignment. */
typedef struct guarded {
    jt_seed seed;
    jt_keypair kp;
} guarded;
#define GUARDED_SIZE ((sizeof(guarded) + 15) & ~(size_t)15)

struct jt_secret_key {
    guarded *g; /* PROT_NONE unless readers > 0 */
    pthread_mutex_t lock;
    unsigned readers;
    jt_key_type type;
    bool sealed; /* export refused: the key came from a keystore */
    uint8_t pub[33];
    jt_account_id id;
    char address[JT_ADDRESS_MAX];
};

/* Makes the guarded block readable for one more reader. */
static jt_err acquire(jt_secret_key *sk)
{
    jt_err e = JT_OK;
    pthread_mutex_lock(&sk->lock);
    if (sk->readers == 0 && sodium_mprotect_readonly(sk->g) != 0)
        e = JT_ECRYPTO;
    else
        sk->readers++;
    pthread_mutex_unlock(&sk->lock);
    return e;
}

static void release(jt_secret_key *sk)
{
    pthread_mutex_lock(&sk->lock);
    /* If PROT_NONE cannot be restored the block stays readable but is
     * still locked, out of core dumps and wiped on free. */
    if (--sk->readers == 0)
        (void)sodium_mprotect_noaccess(sk->g);
    pthread_mutex_unlock(&sk->lock);
}

/* An empty handle with a writable guarded block. */
static jt_err handle_alloc(jt_secret_key **out)
{
    *out = NULL;
    if (jt__sodium_ready() != 0)
        return JT_ECRYPTO;
    jt_secret_key *sk = calloc(1, sizeof *sk);
    if (!sk)
        return JT_ENOMEM;
    sk->g = sodium_malloc(GUARDED_SIZE);
    if (!sk->g) {
        free(sk);
        return JT_ENOMEM;
    }
    sodium_memzero(sk->g, GUARDED_SIZE);
    if (pthread_mutex_init(&sk->lock, NULL) != 0) {
        sodium_free(sk->g);
        free(sk);
        return JT_ENOMEM;
    }
    *out = sk;
    return JT_OK;
}

/* Derives the key pair from the seed already in sk->g, fills the public
 * facts and locks the block away. Frees the handle on failure. */
static jt_err handle_finish(jt_secret_key *sk, jt_secret_key **out)
{
    jt_err e = jt_keypair_from_seed(&sk->g->seed, &sk->g->kp);
    if (!e) {
        sk->type = sk->g->kp.type;
        memcpy(sk->pub, sk->g->kp.pub, sizeof sk->pub);
        e = jt_account_id_from_pubkey(sk->pub, sizeof sk->pub, &sk->id);
    }
    if (!e)
        e = jt_address_encode(&sk->id, sk->address);
    if (!e && sodium_mprotect_noaccess(sk->g) != 0)
        e = JT_ECRYPTO;
    if (e) {
        jt_secret_key_free(sk);
        return e;
    }
    *out = sk;
    return JT_OK;
}

static jt_err jt_secret_key_new__impl(const jt_seed *seed, jt_secret_key **out)
{
    if (!out)
        return JT_EINVAL;
    *out = NULL;
    if (!seed || (seed->type != JT_KEY_SECP256K1 && seed->type != JT_KEY_ED25519))
        return JT_EINVAL;
    jt_secret_key *sk;
    jt_err e = handle_alloc(&sk);
    if (e)
        return e;
    sk->g->seed = *seed;
    return handle_finish(sk, out);
}

jt_err jt_secret_key_new(const jt_seed *seed, jt_secret_key **out)
{
    jt_err e = jt_secret_key_new__impl(seed, out);
    jt__scrub_stack();
    return e;
}

static jt_err jt_secret_key_new_from_secret__impl(const char *secret, jt_secret_key **out, jt_errinfo *ei)
{
    if (!out)
        return jt__err(ei, JT_EINVAL, NULL, -1, "no place for the key handle");
    *out = NULL;
    if (!secret)
        return jt__err(ei, JT_EINVAL, NULL, -1, "no secret given");
    jt_secret_key *sk;
    jt_err e = handle_alloc(&sk);
    if (e)
        return jt__err(ei, e, NULL, -1, "cannot allocate guarded memory for the key");
    e = jt_secret_decode(secret, &sk->g->seed, ei);
    if (e) {
        jt_secret_key_free(sk);
        return e;
    }
    e = handle_finish(sk, out);
    if (e)
        return jt__err(ei, e, NULL, -1, "cannot derive a key pair from the secret");
    return JT_OK;
}

jt_err jt_secret_key_new_from_secret(const char *secret, jt_secret_key **out, jt_errinfo *ei)
{
    jt_err e = jt_secret_key_new_from_secret__impl(secret, out, ei);
    jt__scrub_stack();
    return e;
}

static jt_err jt_secret_key_new_random__impl(jt_key_type type, jt_secret_key **out)
{
    if (!out)
        return JT_EINVAL;
    *out = NULL;
    if (type != JT_KEY_SECP256K1 && type != JT_KEY_ED25519)
        return JT_EINVAL;
    jt_secret_key *sk;
    jt_err e = handle_alloc(&sk);
    if (e)
        return e;
    e = jt_seed_generate(type, &sk->g->seed);
    if (e) {
        jt_secret_key_free(sk);
        return e;
    }
    return handle_finish(sk, out);
}

jt_err jt_secret_key_new_random(jt_key_type type, jt_secret_key **out)
{
    jt_err e = jt_secret_key_new_random__impl(type, out);
    jt__scrub_stack();
    return e;
}

void jt_secret_key_free(jt_secret_key *sk)
{
    if (!sk)
        return;
    /* sodium_free makes the block writable, wipes it and unmaps it. */
    sodium_free(sk->g);
    pthread_mutex_destroy(&sk->lock);
    free(sk);
}

jt_err jt_secret_key_hold(jt_secret_key *sk)
{
    return sk ? acquire(sk) : JT_EINVAL;
}

void jt_secret_key_release(jt_secret_key *sk)
{
    if (sk)
        release(sk);
}

jt_key_type jt_secret_key_type(const jt_secret_key *sk)
{
    return sk->type;
}

const uint8_t *jt_secret_key_public(const jt_secret_key *sk)
{
    return sk->pub;
}

const jt_account_id *jt_secret_key_account_id(const jt_secret_key *sk)
{
    return &sk->id;
}

const char *jt_secret_key_address(const jt_secret_key *sk)
{
    return sk->address;
}

static jt_err jt_secret_sign__impl(jt_secret_key *sk, const uint8_t *msg, size_t len, uint8_t sig[JT_SIG_MAX],
                      size_t *siglen)
{
    if (!sk)
        return JT_EINVAL;
    jt_err e = acquire(sk);
    if (e)
        return e;
    e = jt_sign(&sk->g->kp, msg, len, sig, siglen);
    release(sk);
    return e;
}

/* The work above runs in frames below this one; what it left on the
 * stack (copies of key material in library code that does not wipe)
 * is cleared before returning. */
jt_err jt_secret_sign(jt_secret_key *sk, const uint8_t *msg, size_t len, uint8_t sig[JT_SIG_MAX],
                      size_t *siglen)
{
    jt_err e = jt_secret_sign__impl(sk, msg, len, sig, siglen);
    jt__scrub_stack();
    return e;
}

static jt_err jt_secret_sign_digest__impl(jt_secret_key *sk, const uint8_t digest[32], uint8_t sig[JT_SIG_MAX],
                             size_t *siglen)
{
    if (!sk)
        return JT_EINVAL;
    if (sk->type != JT_KEY_SECP256K1)
        return JT_EKEY;
    jt_err e = acquire(sk);
    if (e)
        return e;
    e = jt_sign_digest(&sk->g->kp, digest, sig, siglen);
    release(sk);
    return e;
}

jt_err jt_secret_sign_digest(jt_secret_key *sk, const uint8_t digest[32], uint8_t sig[JT_SIG_MAX],
                             size_t *siglen)
{
    jt_err e = jt_secret_sign_digest__impl(sk, digest, sig, siglen);
    jt__scrub_stack();
    return e;
}

const void *jt__secret_key_block(const jt_secret_key *sk)
{
    return sk->g;
}

jt_err jt__secret_key_with_seed(jt_secret_key *sk, jt_err (*fn)(const jt_seed *seed, void *ctx),
                                void *ctx)
{
    jt_err e = acquire(sk);
    if (e)
        return e;
    e = fn(&sk->g->seed, ctx);
    release(sk);
    return e;
}

void jt__secret_key_seal(jt_secret_key *sk)
{
    sk->sealed = true;
}

jt_err jt_secret_key_export(jt_secret_key *sk, char *out, size_t cap)
{
    if (!sk || !out)
        return JT_EINVAL;
    if (sk->sealed) {
        sodium_memzero(out, cap);
        return JT_ESTATE;
    }
    jt_err e = acquire(sk);
    if (e)
        return e;
    e = jt_secret_encode(&sk->g->seed, out, cap);
    release(sk);
    if (e)
        sodium_memzero(out, cap);
    return e;
}
