/*
 * memo.h — encrypted memos in the gateway (GATEWAY-API.md "Encrypted
 * memos"; the format is docs/memos.md, the cryptography jt/memo.h).
 *
 * The gateway holds each account's encryption key by holding its signing
 * key: the memo key is derived from it when first needed and kept (in
 * guarded memory, as the signing keys are) for as long as the gateway
 * runs. It seals a payment's memos to the destination's published key and
 * to the sender's own, and opens sealed memos for the accounts it holds.
 *
 * Loop thread only.
 */
#ifndef GW_MEMO_H
#define GW_MEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jt/codec.h>
#include <jt/json.h>
#include <jt/keystore.h>
#include <jt/memo.h>

#include "apikey.h"
#include "txbuild.h"

typedef struct gw_memos gw_memos;

/* Sealed Memos of one payment are at most this many bytes of MemoData
 * (both copies of every memo), so the node takes them (PROTOCOL.md: a
 * node accepts at least 8 KiB of Memos). */
#define GW_SEALED_MEMOS_MAX 7680

gw_memos *gw_memos_new(jt_keystore *ks, size_t max_keys);
/* Encryption keys derived and kept now (at most max_keys: the least
 * recently used is wiped to make room). */
size_t gw_memos_loaded(const gw_memos *m);
void gw_memos_free(gw_memos *m);

/* The memo key of `address` when the gateway holds its secret (derived
 * on first use, then kept until max_keys others are used after it); NULL
 * when it does not, or on failure. Valid until the next call. */
jt_memo_key *gw_memos_key(gw_memos *m, const char *address);

/* Seals each of the n memos twice, to `recipient` (an X25519 key from
 * the destination's MessageKey) and to the sender's own key, and sets them
 * as the transaction's Memos: MemoType "jt/sealed", the recipient's copy
 * then the sender's. A refusal fills e (field named) for a 400, or with an
 * empty field for a 500. */
int gw_memos_seal(gw_memos *m, const char *sender, const uint8_t recipient[JT_MEMO_KEY_BYTES],
                  const gw_memo *memos, size_t n, jt_obj *tx, gw_txerr *e);

/* Who reads a transaction's memos: a sealed copy is opened for the reader
 * when the gateway holds the secret of the party the copy is for (the
 * Destination for the recipient's copy, the Account for the sender's) and
 * may(ctx, party) says the reader may act for that account. memos NULL
 * opens nothing and touches no key (safe on any thread). */
typedef struct gw_memo_reader {
    gw_memos *memos;
    bool (*may)(const void *ctx, const char *account);
    const void *ctx;
} gw_memo_reader;

/* The reader behind an API key: every account for the admin scope, else
 * the accounts on its allow list. `key` is borrowed: it must outlive the
 * reader. */
gw_memo_reader gw_memo_reader_key(gw_memos *m, const gw_apikey *key);
/* The operator's own reader: every account the gateway holds (webhooks,
 * which only the admin scope registers). */
gw_memo_reader gw_memo_reader_all(gw_memos *m);

/* Does the transaction (node JSON) carry a sealed memo? */
bool gw_memos_any_sealed(const jt_json *tx);

/* Writes "memos":[…] (key and value) for a transaction in the node's JSON
 * form when it has Memos: plain ones as text, sealed ones opened for
 * reader r (NULL: none), else marked sealed. A recipient's copy and the
 * sender's copy that follows it are one memo. History, GET transaction,
 * /v2/events and webhooks all write memos through here. */
void gw_memos_write(jt_jw *w, const jt_json *tx, const gw_memo_reader *r);

#endif
