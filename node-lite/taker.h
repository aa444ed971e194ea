/*
 * taker.h — OfferCreate's crossing (taker.c), private to the engine: a new
 * offer taking the resting offers of the opposite book, best quality first,
 * as skywelld does (its Taker, OfferStream and BookTip: rippled 0.28's).
 *
 * The offer is seen from the taker: `in` is what it gives (the
 * transaction's TakerGets), `out` what it wants (its TakerPays). When
 * neither is SWT the book of in for out competes with the bridge through
 * SWT (the books of in for SWT and SWT for out).
 *
 * Not thread-safe (as the sandbox it works in).
 */
#ifndef JN_TAKER_H
#define JN_TAKER_H

#include "engine.h"

/* Crosses the offer in for out in v's sandbox: fills the resting offers it
 * takes (the funds move through trust lines and SWT balances, with
 * transfer rates; lines the receivers lack are created), and removes the
 * offers it finds dry, expired, unfunded, or its own in the direct book.
 * `flags` are the transaction's (Passive, Sell). When `cancel` is not
 * NULL, the removals skywelld keeps even when a FillOrKill offer is killed
 * (offers found expired, unfunded or empty) are made in cancel's sandbox
 * too; cancel is a sibling of v's sandbox over the same parent.
 *
 * Returns tesSUCCESS with what is left to place in *place_in / *place_out
 * (what the placed offer gives and wants; both zero when nothing is left:
 * filled, or the taker ran out of funds); tecFAILED_PROCESSING when a fill
 * failed; tecINTERNAL where skywelld's crossing throws; tefINTERNAL on
 * ENOMEM or a damaged directory (v->oom or cancel->oom set on ENOMEM). */
int jn_cross(jn_txctx *v, jn_txctx *cancel, const jt_amount *in, const jt_amount *out,
             uint32_t flags, jt_amount *place_in, jt_amount *place_out);

/* A platform fee (docs/node.md, "Platform fees"): the transaction's
 * Platform and that platform's Brokerage entry for the asset an offer
 * receives. */
typedef struct jn_fee_rate {
    jt_account_id platform;
    bool has_entry;      /* the platform has a Brokerage for the asset */
    uint8_t key[32];     /* the entry's ID */
    uint64_t num, den;   /* its rate */
    jt_account_id collector; /* its FeeAccountID */
} jn_fee_rate;

/* false when v's transaction names no Platform; else true, with the
 * platform and, when it has one, its Brokerage for `receive`'s asset. */
bool jn_offer_fee_rate(jn_txctx *v, const jt_amount *receive, jn_fee_rate *out);

#endif
