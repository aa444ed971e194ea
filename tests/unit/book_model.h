/*
 * book_model.h — a plain price-time order book for one token/SWT pair,
 * written for test_jn_offers_prop as a second opinion on jt-node's offer
 * crossing. It shares no code with node-lite or libjt (it includes only the
 * C library): amounts are integers, qualities exact fractions.
 *
 * Units: SWT in drops, the token in millionths (micro-tokens). Both are
 * int64. Book b holds the offers whose TakerPays is asset b and whose
 * TakerGets is the other asset:
 *     BM_ASKS (0): TakerPays SWT, TakerGets token — offers selling the token;
 *     BM_BIDS (1): TakerPays token, TakerGets SWT — offers buying it.
 * An offer's quality is TakerPays/TakerGets in these units as it was
 * placed; lower is better for a taker. Within one quality, time order.
 *
 * The rules are skywelld's (rippled 0.28 crossing, direct books only; see
 * book_model.c), for accounts that are always funded: the model checks
 * that funds never limit a fill and fails the order (BM_UNFUNDED) if they
 * would. It does not round where the ledger's arithmetic would round in a
 * way that depends on its number format: an order whose quality (or its
 * reciprocal) is not a decimal of at most 16 digits, a remainder to place
 * that is not exact, or a token amount of a fill that is not a whole
 * micro-token is refused (BM_AMBIGUOUS, the model unchanged) and the
 * generator draws another.
 * SWT results that only lose a fraction of a drop are cut toward zero, as
 * the ledger does in every multiply and divide of a fill.
 *
 * Not thread-safe; everything it allocates is freed by bm_free.
 */
#ifndef BOOK_MODEL_H
#define BOOK_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { BM_SWT = 0, BM_TOK = 1 };
enum { BM_ASKS = 0, BM_BIDS = 1 };

/* Order flags (the transaction's tfPassive, tfImmediateOrCancel,
 * tfFillOrKill, tfSell). */
#define BM_PASSIVE 0x1u
#define BM_IOC     0x2u
#define BM_FOK     0x4u
#define BM_SELL    0x8u

#define BM_MAX_ACCOUNTS 64

/* An exact fraction num/den, den > 0, reduced. */
typedef struct bm_q {
    int64_t num, den;
} bm_q;

typedef struct bm_offer {
    int owner;
    uint32_t seq;
    int64_t pays, gets; /* what is left, in the book's assets */
    bm_q q;             /* TakerPays/TakerGets when placed */
    bool passive, sell;
    uint32_t expiration; /* 0: none */
    uint64_t time;       /* placement order */
} bm_offer;

typedef struct bm_book {
    bm_offer *v; /* best quality first, then time order */
    size_t n, cap;
} bm_book;

typedef struct bm {
    int n_accounts;
    int64_t bal[BM_MAX_ACCOUNTS][2];           /* [account][asset] */
    uint32_t reserve_objects[BM_MAX_ACCOUNTS]; /* objects the account owns besides offers */
    int64_t reserve_base, reserve_inc;         /* drops */
    bm_book book[2];
    uint64_t clock;
} bm;

/* What an order did, in order of occurrence. */
enum { BM_FILL, BM_GONE, BM_PLACED };
enum { BM_CONSUMED, BM_CANCELLED, BM_SELF, BM_EXPIRED };

typedef struct bm_event {
    int kind;
    int why; /* BM_GONE: BM_CONSUMED, BM_CANCELLED, BM_SELF or BM_EXPIRED */
    int book;
    int owner;
    uint32_t seq;
    /* BM_FILL: the taker paid the owner `a` (the book's TakerPays asset) and
     * received `b` (its TakerGets asset). BM_PLACED: TakerPays, TakerGets. */
    int64_t a, b;
} bm_event;

typedef struct bm_outcome {
    bm_event *ev;
    size_t n, cap;
    const char *why; /* BM_AMBIGUOUS / BM_UNFUNDED: what the model could not do */
} bm_outcome;

enum { BM_OK = 0, BM_AMBIGUOUS = 1, BM_UNFUNDED = 2, BM_NOMEM = 3 };

/* An order as OfferCreate gives it. */
typedef struct bm_order {
    int account;
    uint32_t seq;
    int give_asset;      /* TakerGets's asset; TakerPays is the other one */
    int64_t give, want;  /* TakerGets, TakerPays: > 0 */
    unsigned flags;      /* BM_PASSIVE | BM_IOC | BM_FOK | BM_SELL */
    uint32_t expiration; /* 0: none */
    uint32_t cancel_seq; /* OfferSequence, 0: none */
} bm_order;

void bm_init(bm *m, int n_accounts, int64_t reserve_base, int64_t reserve_inc);
void bm_free(bm *m);
/* dst becomes a copy of src (dst initialised or zeroed). BM_OK or BM_NOMEM. */
int bm_copy(bm *dst, const bm *src);

void bm_outcome_clear(bm_outcome *o); /* frees the events, keeps it usable */

/* Balance changes outside the book: a fee, a payment. */
void bm_fee(bm *m, int account, int64_t drops);
void bm_transfer(bm *m, int from, int to, int asset, int64_t amount);

/* OfferCreate, after its fee is charged (bm_fee). `parent_close` is the
 * parent ledger's close time (expirations). Fills *out (cleared first).
 * BM_OK; else the model is unchanged and out->why says why. */
int bm_offer_create(bm *m, const bm_order *o, uint32_t parent_close, bm_outcome *out);
/* OfferCancel: removes the account's offer `seq` if it rests. */
int bm_offer_cancel(bm *m, int account, uint32_t seq, bm_outcome *out);

/* The offer `seq` of `account` if it rests (its book in *book), else NULL. */
const bm_offer *bm_find(const bm *m, int account, uint32_t seq, int *book);

/* -1, 0, 1 as a < b, a == b, a > b. */
int bm_q_cmp(bm_q a, bm_q b);

#endif
