/*
 * acctidx.h — who subscribed to which account: a hash table from a 20-byte
 * account ID to the subscribers of that account, so that publishing a
 * transaction costs a lookup per account it touches rather than a scan of
 * every subscriber's list.
 *
 * Subscribers are opaque pointers; the table does not own them. Account
 * IDs come from clients, who may choose them, so the slot of an ID is a
 * SipHash of it under a key drawn at init: colliding IDs cannot be
 * prepared in advance. Open addressing with linear probing, at most half
 * full; a removal shifts the entries after it back, so there are no
 * tombstones. Not thread-safe.
 */
#ifndef JN_ACCTIDX_H
#define JN_ACCTIDX_H

#include <stddef.h>
#include <stdint.h>

#include <jt/jt.h>

typedef struct jn_acct_subs {
    jt_account_id id;
    void **subs; /* NULL: the slot is free */
    uint32_t n, cap;
} jn_acct_subs;

typedef struct jn_acctidx {
    jn_acct_subs *slots;
    size_t cap;   /* a power of two, or 0 */
    size_t used;  /* accounts with at least one subscriber */
    size_t pairs; /* (account, subscriber) pairs */
    uint8_t key[16];
} jn_acctidx;

/* An empty index with a fresh random key (libsodium must be initialised). */
void jn_acctidx_init(jn_acctidx *x);
/* Frees the table; the subscribers are not touched. */
void jn_acctidx_clear(jn_acctidx *x);
/* Adds sub to a's subscribers. The caller knows it is not there yet (a
 * second add would make it receive twice). -1 on ENOMEM, index unchanged. */
int jn_acctidx_add(jn_acctidx *x, const jt_account_id *a, void *sub);
/* Removes sub from a's subscribers; nothing when it is not there. */
void jn_acctidx_remove(jn_acctidx *x, const jt_account_id *a, const void *sub);
/* a's subscribers (*n of them, in no particular order), or NULL when none.
 * Valid until the next add or remove. */
void *const *jn_acctidx_find(const jn_acctidx *x, const jt_account_id *a, size_t *n);

#endif
