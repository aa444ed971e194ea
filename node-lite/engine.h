/*
 * engine.h — the transaction engine's private header: the context a
 * transaction applies in, the shared helpers every transactor uses, and
 * the transactor table (apply.c) with each transactor's two steps.
 *
 * Every transaction type follows the same steps:
 *  - preflight: checks of the transaction alone (tem*), no ledger;
 *  - apply: checks against the ledger, then the change, all in the
 *    transaction's sandbox c->sb (a child view of the ledger). The fee and
 *    the sequence are already claimed in it; a tec result makes the driver
 *    discard the rest.
 * The driver (apply.c) runs the common checks, claims the fee, calls the
 * transactor, threads the touched entries and builds the metadata
 * (meta.c), and merges the sandbox. A funded SWT payment between existing
 * accounts skips the sandbox (fastpay.c).
 *
 * Files: apply.c (driver and table), tx_payment.c, tx_trust.c
 * (TrustSet), tx_account.c (AccountSet, SetRegularKey), tx_relation.c
 * (RelationSet, RelationDel), tx_offer.c (OfferCreate, OfferCancel) and
 * taker.c (its crossing and platform fees, taker.h), tx_brokerage.c
 * (Brokerage), paths.c (the payment engine, paths.h), dir.c (owner and
 * book directories and
 * offer removal), lines.c (trust lines), meta.c,
 * fastpay.c; the rules commands read too are in readmodel.c.
 *
 * Only the engine's files include this header. Not thread-safe: one
 * transaction at a time per sandbox.
 */
#ifndef JN_ENGINE_H
#define JN_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <jt/jt.h>

#include "apply.h"
#include "fld.h"
#include "readmodel.h"
#include "state.h"

/* Transaction and ledger flags: <jt/flags.h>. */

/* One transaction being applied. */
typedef struct jn_txctx {
    jn_view *sb;     /* the transaction's sandbox */
    const jn_env *env;
    const jt_obj *tx;
    const uint8_t *id;
    jt_account_id account;
    uint8_t account_key[32]; /* its AccountRoot ID */
    jn_txmemo *memo;         /* may be NULL */
    int64_t prior_balance;   /* drops before the fee */
    int64_t fee;
    jt_amount delivered;
    bool has_delivered;
    bool oom; /* a set_* failed: the transaction ends in tefINTERNAL */
} jn_txctx;

/* ---------------------------------------------------------------- transactors */

typedef struct jn_transactor {
    int type; /* JT_TX_* */
    /* Checks of the transaction alone; `flags` is its Flags. tesSUCCESS or tem*. */
    int (*preflight)(const jt_obj *tx, uint32_t flags);
    /* Checks against the ledger and the change, in c->sb. */
    int (*apply)(jn_txctx *c);
} jn_transactor;

int jn_payment_preflight(const jt_obj *tx, uint32_t flags);
int jn_payment_apply(jn_txctx *c);
int jn_trust_set_preflight(const jt_obj *tx, uint32_t flags);
int jn_trust_set_apply(jn_txctx *c);
int jn_account_set_preflight(const jt_obj *tx, uint32_t flags);
int jn_account_set_apply(jn_txctx *c);
int jn_set_regular_key_preflight(const jt_obj *tx, uint32_t flags);
int jn_set_regular_key_apply(jn_txctx *c);
int jn_relation_preflight(const jt_obj *tx, uint32_t flags); /* RelationSet and RelationDel */
int jn_relation_set_apply(jn_txctx *c);
int jn_relation_del_apply(jn_txctx *c);
int jn_offer_create_preflight(const jt_obj *tx, uint32_t flags);
int jn_offer_create_apply(jn_txctx *c);
int jn_offer_cancel_preflight(const jt_obj *tx, uint32_t flags);
int jn_offer_cancel_apply(jn_txctx *c);
int jn_brokerage_preflight(const jt_obj *tx, uint32_t flags); /* tx_brokerage.c */
int jn_brokerage_apply(jn_txctx *c);

/* ---------------------------------------------------------------- fields
 * Setters record a failure in c->oom rather than returning it, so a
 * transactor makes its changes and checks once. */

static inline uint64_t get_u(const jt_obj *o, const jt_field *f, uint64_t dflt)
{
    uint64_t v;
    return jt_obj_get_uint_f(o, f, &v) == JT_OK ? v : dflt;
}

static inline bool get_amount(const jt_obj *o, const jt_field *f, jt_amount *a)
{
    return jt_obj_get_amount_f(o, f, a) == JT_OK;
}

static inline void set_u(jn_txctx *c, jt_obj *o, const jt_field *f, uint64_t v)
{
    if (jt_obj_set_uint_f(o, f, v) != JT_OK)
        c->oom = true;
}

static inline void set_amt(jn_txctx *c, jt_obj *o, const jt_field *f, const jt_amount *a)
{
    if (jt_obj_set_amount_f(o, f, a) != JT_OK)
        c->oom = true;
}

static inline void set_acct(jn_txctx *c, jt_obj *o, const jt_field *f, const jt_account_id *a)
{
    if (jt_obj_set_account_f(o, f, a) != JT_OK)
        c->oom = true;
}

static inline void set_bytes(jn_txctx *c, jt_obj *o, const jt_field *f, const uint8_t *p, size_t n)
{
    if (jt_obj_set_bytes_f(o, f, p, n) != JT_OK)
        c->oom = true;
}

static inline void set_balance(jn_txctx *c, jt_obj *root, int64_t drops)
{
    jt_amount a;
    jt_amount_native(&a, drops);
    set_amt(c, root, FLD("Balance"), &a);
}

/* An issued amount may not use the SWT currency code. */
static inline bool bad_currency(const jt_amount *a)
{
    return !a->native && jt_currency_is_swt(&a->currency);
}

/* ---------------------------------------------------------------- accounts */

static inline bool same_account(const jt_account_id *a, const jt_account_id *b)
{
    return memcmp(a->bytes, b->bytes, 20) == 0;
}

/* Is a the low account of a line between a and b? */
static inline bool is_low(const jt_account_id *a, const jt_account_id *b)
{
    return memcmp(a->bytes, b->bytes, 20) < 0;
}

static inline const jt_obj *read_account(jn_txctx *c, const jt_account_id *a)
{
    return jn_read_account(c->sb, a);
}

/* The AccountRoot, writable in the sandbox (NULL when absent or on ENOMEM,
 * which sets c->oom). */
static inline jt_obj *peek_account(jn_txctx *c, const jt_account_id *a)
{
    uint8_t k[32];
    bool oom;
    jn_id_account(a, k);
    jt_obj *o = jn_view_peek(c->sb, k, &oom);
    if (oom)
        c->oom = true;
    return o;
}

/* A new entry of ledger type `type` (LedgerEntryType set), or NULL (c->oom). */
jt_obj *jn_new_entry(jn_txctx *c, const char *type);
/* Adds delta to a's OwnerCount (not below zero). */
void jn_adjust_owner_count(jn_txctx *c, const jt_account_id *a, int delta);

/* ---------------------------------------------------------------- directories (dir.c)
 * Owner and book directories in pages (directory.h). Adding gives the page
 * the item went into, which the entry keeps (OwnerNode, BookNode, LowNode,
 * HighNode); removing starts from that page. 0; else nonzero (-1 on ENOMEM,
 * which also sets c->oom; tefBAD_LEDGER when the item is not where its
 * entry says; tecDIR_FULL). */

int jn_owner_dir_add(jn_txctx *c, const jt_account_id *owner, const uint8_t item[32], uint64_t *page);
/* `entry` is the item's ledger entry, `hint` its field naming the page in
 * this owner's directory (OwnerNode; LowNode or HighNode for a line). */
int jn_owner_dir_remove(jn_txctx *c, const jt_account_id *owner, const uint8_t item[32],
                        const jt_obj *entry, const jt_field *hint);
/* The book directory `book` (quality in its last 8 bytes) of pays/gets. */
int jn_book_dir_add(jn_txctx *c, const uint8_t book[32], const uint8_t item[32],
                    const jt_amount *pays, const jt_amount *gets, uint64_t quality, uint64_t *page);
int jn_book_dir_remove(jn_txctx *c, const uint8_t book[32], const uint8_t item[32], uint64_t page);

/* Deletes the offer `key`, if it exists, as skywelld's offerDelete: from
 * its owner's directory and its book directory (a book directory left
 * empty goes too), the owner's OwnerCount less one, and the entry. 0, or
 * nonzero on a malformed offer, a damaged directory or ENOMEM (c->oom). */
int jn_offer_delete(jn_txctx *c, const uint8_t key[32]);

/* ---------------------------------------------------------------- trust lines (lines.c) */

/* A line between `me` and a peer, writable in the sandbox. */
typedef struct jn_line {
    jt_obj *o;       /* NULL when absent */
    uint8_t key[32];
    bool low;        /* `me` is the low account */
} jn_line;

/* Finds the line of me and peer in cur (taking a writable copy). */
bool jn_line_get(jn_txctx *c, const jt_account_id *me, const jt_account_id *peer,
                 const jt_currency *cur, jn_line *l);

/* `me`'s balance on the line (positive: me holds). */
static inline void line_balance(const jn_line *l, jt_amount *out)
{
    jn_read_line_balance(l->o, l->low, out);
}

/* The limit of `me`'s side (mine) or the peer's. */
static inline void line_limit(const jn_line *l, bool mine, jt_amount *out)
{
    jn_read_line_limit(l->o, l->low == mine, out);
}

static inline uint32_t line_flags(const jn_line *l)
{
    return (uint32_t)get_u(l->o, FLD("Flags"), 0);
}

/* The flag of `me`'s side (mine) or the peer's, from a low/high pair. */
static inline uint32_t side_flag(const jn_line *l, bool mine, uint32_t low_flag, uint32_t high_flag)
{
    return (l->low == mine) ? low_flag : high_flag;
}

/* Sets `me`'s balance. */
void jn_line_set_balance(jn_txctx *c, jn_line *l, const jt_amount *mine);
/* Does `me`'s side (mine) or the peer's, `who`, hold non-default state, and
 * so a reserve? A limit, a positive balance, Freeze, Auth, a quality, or a
 * NoSkywell flag that differs from who's DefaultSkywell (skywelld's rule). */
bool jn_line_needs_reserve(jn_txctx *c, const jn_line *l, bool mine, const jt_account_id *who);
/* Brings the reserve flags (and owner counts) in line with the state of
 * both sides; deletes the line when neither side needs it (l->o NULL). */
int jn_line_settle(jn_txctx *c, jn_line *l, const jt_account_id *me, const jt_account_id *peer);
/* The same for me's side only (a line TrustSet has just made: skywelld's
 * trustCreate reserves the creator's side and leaves the peer's alone). */
int jn_line_settle_own(jn_txctx *c, jn_line *l, const jt_account_id *me, const jt_account_id *peer);
/* A new line between me and peer, with me's limit and the given flags. */
int jn_line_create(jn_txctx *c, jn_line *l, const jt_account_id *me, const jt_account_id *peer,
                   const jt_amount *limit, uint32_t flags);

/* skywelld's skywellCredit, as crossing and payments both move IOUs:
 * sender's balance with receiver falls by `amount`. A sender whose side
 * empties and holds nothing else releases its reserve, and the line goes
 * when neither side needs it; the entry is changed only when something
 * changes (an unchanged entry is not in the metadata). Without a line:
 * with `open`, one is made for the receiver as skywelld's issue makes it
 * (both limits zero, the receiver's reserve flag and OwnerCount, no
 * reserve check), else JN_CREDIT_NO_LINE. JN_CREDIT_RANGE: an amount out
 * of range; -1: ENOMEM or a damaged directory. */
enum { JN_CREDIT_NO_LINE = 1, JN_CREDIT_RANGE = 2 };
int jn_line_credit(jn_txctx *c, const jt_account_id *sender, const jt_account_id *receiver,
                   const jt_amount *amount, bool open);

/* ---------------------------------------------------------------- metadata (meta.c) */

/* Gives each changed AccountRoot, line, offer and relation PreviousTxnID and
 * PreviousTxnLgrSeq, touching the owners of created or deleted ones first. */
void jn_meta_thread(jn_txctx *c);
/* The metadata of c->sb against its parent, serialized, appended to out,
 * and the accounts it touches added to accts (c's Account first). 0, or -1
 * on ENOMEM. */
int jn_meta_bytes(jn_txctx *c, int ter, uint32_t index, jt_buf *out, jn_accts *accts);

/* Pieces of the binary form for writers that assemble metadata themselves
 * (canonical order is jt_field pointer order): sorting field handles, and a
 * field (header and value) from a number, an amount or a member of `o`. */
void jn_bin_sort(const jt_field **f, size_t n);
jt_err jn_bin_uint(jt_buf *b, const jt_field *f, uint64_t v);
jt_err jn_bin_amount(jt_buf *b, const jt_field *f, const jt_amount *a);
jt_err jn_bin_member(jt_buf *b, const jt_obj *o, const jt_field *f);

/* ---------------------------------------------------------------- plain payments (fastpay.c) */

/* Applies a funded SWT payment between two existing, threaded accounts
 * straight to `view`, with its metadata as bytes. Returns false, having
 * changed nothing, for any other transaction (the general path takes it). */
bool jn_fast_payment(jn_view *view, const jn_env *env, jn_txctx *c, uint32_t index,
                     jn_applied *out);

#endif
