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

gw_memos *gw_memos_new(jt_keystore *ks);
void gw_memos_free(gw_memos *m);

/* The memo key of `address` when the gateway holds its secret (derived
 * on first use, then kept); NULL when it does not, or on failure. */
jt_memo_key *gw_memos_key(gw_memos *m, const char *address);

/* Seals each of the n memos twice, to `recipient` (an X25519 key from
 * the destination's MessageKey) and to the sender's own key, and sets them
 * as the transaction's Memos: MemoType "jt/sealed", the recipient's copy
 * then the sender's. A refusal fills e (field named) for a 400, or with an
 * empty field for a 500. */
int gw_memos_seal(gw_memos *m, const char *sender, const uint8_t recipient[JT_MEMO_KEY_BYTES],
                  const gw_memo *memos, size_t n, jt_obj *tx, gw_txerr *e);

/* Writes "memos":[…] (key and value) for a transaction in the node's JSON
 * form when it has Memos: plain ones as text, sealed ones opened when the
 * gateway holds the key of the party a copy is for and `key` may act for
 * that account (admin: any), else marked sealed. A recipient's copy and the
 * sender's copy that follows it are one memo. */
void gw_memos_write(gw_memos *m, jt_jw *w, const jt_json *tx, const gw_apikey *key);

#endif
