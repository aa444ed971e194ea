/*
 * readmodel.h — the ledger rules that commands and transactors both read:
 * an account's reserve and spendable funds, one account's side of a trust
 * line, a directory's items, and whether a holding is frozen or authorized.
 *
 * Every function reads a view (jn_view_read) and never changes it, so a
 * command can pass the open or a closed ledger's view and get the values
 * the engine acts on; the engine's transactors call the same functions on
 * their sandbox (see engine.h). A rule is written here once.
 *
 * Only env->reserve_base and env->reserve_inc are read. A command that holds
 * the ledger's jn_params passes
 *     &(jn_env){.reserve_base = p->reserve_base, .reserve_inc = p->reserve_inc}.
 *
 * Nothing allocates; results are written to caller-owned structs, or point
 * into an entry the view holds (valid until the view changes). Thread
 * safety is that of reading the view.
 */
#ifndef JN_READMODEL_H
#define JN_READMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jt/jt.h>

#include "apply.h"
#include "directory.h"
#include "fld.h"
#include "state.h"

/* Relation types (TrustState's RelationType; RelationSet/RelationDel). */
#define JN_REL_AUTHORIZE 1u
#define JN_REL_FREEZE    3u

/* ---------------------------------------------------------------- accounts */

/* The reserve rule itself is jn_reserve (apply.h): reserve_base plus
 * reserve_inc per owned object. */

/* The AccountRoot of `a` as v sees it, or NULL when there is none. */
static inline const jt_obj *jn_read_account(const jn_view *v, const jt_account_id *a)
{
    uint8_t k[32];
    jn_id_account(a, k);
    return jn_view_read(v, k);
}

/* An AccountRoot's SWT balance in drops (0 when it has no native Balance). */
static inline int64_t jn_read_balance(const jt_obj *root)
{
    jt_amount a;
    if (jt_obj_get_amount_f(root, FLD("Balance"), &a) != JT_OK || !a.native)
        return 0;
    return jt_amount_drops(&a);
}

/* An AccountRoot's OwnerCount (0 when unset). */
static inline uint32_t jn_read_owner_count(const jt_obj *root)
{
    uint64_t n;
    return jt_obj_get_uint_f(root, FLD("OwnerCount"), &n) == JT_OK ? (uint32_t)n : 0;
}

/* What the account must keep: jn_reserve of its OwnerCount. */
uint64_t jn_read_account_reserve(const jn_env *env, const jt_obj *root);

/* What `who` can deliver of `like`'s asset in v, into *out:
 *  - SWT: its balance above its reserve, never below zero (zero when the
 *    account does not exist);
 *  - an issued currency: its balance on its line with like's issuer when
 *    positive, else zero (no line, or it owes), with like's currency and
 *    issuer.
 * Returns false, *out untouched, when `who` is like's issuer: an issuer's
 * own IOUs are unlimited. */
bool jn_read_funds(const jn_view *v, const jn_env *env, const jt_account_id *who,
                   const jt_amount *like, jt_amount *out);

/* What an offer of `like`'s asset is funded with, as skywelld's order
 * book counts it (accountFunds with fhZERO_IF_FROZEN), into *out:
 *  - `like` itself when `who` is like's issuer (an issuer's own IOUs are
 *    unlimited);
 *  - SWT: as jn_read_funds (above the reserve, never below zero);
 *  - an issued currency: who's balance on its line with like's issuer,
 *    signed (negative when it owes), zero when there is no line or the
 *    holding is frozen (jn_read_frozen); like's currency and issuer. */
void jn_read_offer_funds(const jn_view *v, const jn_env *env, const jt_account_id *who,
                         const jt_amount *like, jt_amount *out);

/* ---------------------------------------------------------------- trust lines */

/* One account's side of a trust line (a SkywellState entry). */
typedef struct jn_line_side {
    jt_account_id peer;  /* the other account */
    jt_amount balance;   /* the account's: > 0 it holds the peer's IOUs, < 0 it owes;
                            the line's currency, issuer as stored (ACCOUNT_ONE) */
    jt_amount limit;     /* the account's limit (issuer: the account) */
    jt_amount limit_peer; /* the peer's limit (issuer: the peer) */
    uint32_t quality_in, quality_out; /* the account's; 0 when unset (parity) */
    uint32_t flags;      /* the line's Flags, both sides (LSF_LOW_* / LSF_HIGH_*) */
    bool low;            /* the account is the line's low account */
    /* The account's and the peer's side flags, decoded. */
    bool authorized, peer_authorized;
    bool no_skywell, no_skywell_peer;
    bool freeze, freeze_peer;
} jn_line_side;

/* Fills *out with account a's side of `line`, an entry as read from a view
 * (e.g. one of a's owner directory items). a is taken to be the low account
 * when it is LowLimit's issuer, else the high one. Returns false (*out
 * unspecified) when the entry is not a SkywellState or lacks Balance,
 * LowLimit or HighLimit. */
bool jn_read_line_side(const jt_obj *line, const jt_account_id *a, jn_line_side *out);

/* The line between a and peer in currency cur, from a's side. Returns false
 * (*out unspecified) when there is no such line, or it is malformed as above. */
bool jn_read_line(const jn_view *v, const jt_account_id *a, const jt_account_id *peer,
                  const jt_currency *cur, jn_line_side *out);

/* The two values a side is made of, for a caller that already knows which
 * side is whose (the engine, changing the line in place): the balance seen
 * from the low (low=true) or high side (zero when the entry has none), and
 * that side's limit (zero when absent). */
void jn_read_line_balance(const jt_obj *line, bool low, jt_amount *out);
void jn_read_line_limit(const jt_obj *line, bool low, jt_amount *out);

/* ---------------------------------------------------------------- directories and books
 *
 * A directory (an account's owner directory, one quality of a book) is read
 * in order with jn_dir_next (directory.h), page by page. */

/* The next entry of a's owner directory (its lines, offers and relations),
 * in directory order; c zeroed to start. false at the end. */
bool jn_read_owner_next(const jn_view *v, const jt_account_id *a, jn_dir_cursor *c, uint8_t id[32]);

/* Reading an order book: the offers whose TakerPays is pays' asset and
 * whose TakerGets is gets' asset (currency and issuer; SWT has both zero),
 * best quality first (lowest TakerPays/TakerGets), and in time order within
 * one quality, as a taker meets them. Directories are found through the
 * view's ordered book index (jn_view_book_next), so the cost grows with the
 * offers read, not with the ledger. */
typedef struct jn_book_cursor {
    uint8_t base[32], dir[32]; /* the book; the quality directory being read */
    jn_dir_cursor dc;
    bool started, done;
} jn_book_cursor;

void jn_book_cursor_init(jn_book_cursor *c, const jt_amount *pays, const jt_amount *gets);
/* The next offer: its ID into id, its entry (*offer, valid until v changes;
 * NULL when a directory lists an ID with no entry, which callers skip) and
 * its quality (the book directory's, as the offer was placed). false at the
 * end of the book. */
bool jn_book_next(const jn_view *v, jn_book_cursor *c, uint8_t id[32], const jt_obj **offer,
                  uint64_t *quality);
/* The same asset: both SWT, or the same currency and issuer. */
bool jn_same_asset(const jt_amount *a, const jt_amount *b);

/* ---------------------------------------------------------------- freeze and auth */

/* Is holder's holding of issuer's currency cur frozen: the issuer's
 * GlobalFreeze, the issuer's freeze flag on their line, or a freeze
 * relation (RelationType 3) from the issuer? Never for the issuer itself. */
bool jn_read_frozen(const jn_view *v, const jt_account_id *holder, const jt_account_id *issuer,
                    const jt_currency *cur);

/* Must issuer authorize holder before it may hold issuer's currencies: the
 * issuer exists, has RequireAuth, and is not the holder? */
bool jn_read_auth_required(const jn_view *v, const jt_account_id *holder,
                           const jt_account_id *issuer);

/* May holder hold issuer's currency cur: no authorization is required, the
 * issuer set its auth flag on their line, or there is an authorize relation
 * (RelationType 1) whose LimitAmount (zero: no cap) new_balance does not
 * exceed. new_balance may be NULL: the cap is not checked. */
bool jn_read_authorized(const jn_view *v, const jt_account_id *holder, const jt_account_id *issuer,
                        const jt_currency *cur, const jt_amount *new_balance);

#endif
