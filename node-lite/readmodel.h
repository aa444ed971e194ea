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

/* ---------------------------------------------------------------- platform fees */

/* The Brokerage entry `platform` set for like's currency and issuer (SWT:
 * both zero), as v sees it, or NULL when there is none. */
const jt_obj *jn_read_brokerage(const jn_view *v, const jt_account_id *platform,
                                const jt_amount *like);

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

/* Moves c to the entry `id` of a's owner directory, so that the next
 * jn_read_owner_next returns it: found through the page the entry records
 * (a trust line's LowNode or HighNode, as a is its low or high account;
 * any other entry's OwnerNode), else by reading the directory from the
 * start. false (c unspecified) when the entry does not exist or is not in
 * the directory. */
bool jn_read_owner_seek(const jn_view *v, const jt_account_id *a, const uint8_t id[32],
                        jn_dir_cursor *c);

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

/* A place in a book between two offers, from which a walk resumes later,
 * possibly in a later ledger (book_offers' marker). A book keeps its offers
 * in quality directories whose pages keep time order: removals close up a
 * page, new offers go to the end of the last page, and a page is deleted
 * only when empty. So the place is named by the quality, the page, and a
 * short tag (the ID's first four bytes) of every entry of that page up to
 * and including the last offer read. Resuming, the page's entries that
 * still match those tags, in order, are skipped:
 *  - when that offer or any earlier offer of its page is still in the book,
 *    the walk resumes exactly after it: no offer that stayed in the book is
 *    skipped or read twice, and offers placed since come in their places;
 *  - when they have all gone, it resumes at the start of that quality, so
 *    offers at that quality already read may come again, but none is
 *    skipped.
 * A page written with more than 32 entries (never by this engine or
 * skywelld) keeps the last 32 tags and may resume at its start. */
#define JN_BOOK_MARK_TAGS JN_DIR_PAGE_MAX
typedef struct jn_book_mark {
    uint64_t quality; /* the quality directory */
    uint64_t page;    /* its page */
    uint32_t n;       /* tags: 1..JN_BOOK_MARK_TAGS */
    uint32_t tags[JN_BOOK_MARK_TAGS];
} jn_book_mark;

/* The place right after the offer jn_book_next returned last. false when c
 * has not returned one (not started, or at the end of the book). */
bool jn_book_mark_get(const jn_view *v, const jn_book_cursor *c, jn_book_mark *m);
/* Moves c, fresh from jn_book_cursor_init, to m: the next jn_book_next
 * returns the first offer after it, as described above. */
void jn_book_seek(const jn_view *v, jn_book_cursor *c, const jn_book_mark *m);

/* ---------------------------------------------------------------- offers and book pages */

/* The account's TransferRate (parts per 10^9), JT_QUALITY_ONE when it sets
 * none or does not exist. */
uint32_t jn_read_transfer_rate(const jn_view *v, const jt_account_id *a);

/* Has the account set GlobalFreeze? false when it does not exist. */
bool jn_read_global_freeze(const jn_view *v, const jt_account_id *a);

/* What `owner` has to fill an offer whose TakerGets is like's asset
 * (skywelld's accountFunds with fhZERO_IF_FROZEN), into *out, in like's
 * asset and never negative:
 *  - SWT: its balance above its reserve;
 *  - an issued currency: its balance with like's issuer when positive,
 *    zero when the holding is frozen (jn_read_frozen), less what a freeze
 *    relation with a limit holds back (jn_read_frozen_amount);
 *  - owner is like's issuer: *like itself (its own IOUs: fully funded). */
void jn_read_offer_funds(const jn_view *v, const jn_env *env, const jt_account_id *owner,
                         const jt_amount *like, jt_amount *out);

/* Reading a book page as a taker sees it (book_offers, the books stream's
 * snapshot; skywelld's getBookPage): each offer with what its owner can
 * deliver of it. For each offer, in book order:
 *  - owner_funds: the TakerGets issuer's own offers are fully funded (their
 *    TakerGets); when either side's issuer has GlobalFreeze, every other
 *    offer has zero; otherwise jn_read_offer_funds for the owner's first
 *    offer on the page, then what its earlier offers on the page left;
 *  - the transfer rate: the TakerGets issuer's TransferRate, charged to the
 *    owner when it is not 1 and neither the taker nor the owner is that
 *    issuer; the funds cover owner_funds / rate of TakerGets;
 *  - when those do not cover TakerGets, the offer is underfunded:
 *    gets_funded is what they cover and pays_funded the lesser of
 *    TakerPays and gets_funded × the directory's quality (skywelld's
 *    multiply);
 *  - the owner's funds left for its next offer: owner_funds less what this
 *    one takes (gets_funded, times the rate when charged, at most
 *    owner_funds).
 * Running balances start afresh on every page, as skywelld's do. */
typedef struct jn_book_owner {
    jt_account_id owner;
    jt_amount left;
} jn_book_owner;

typedef struct jn_book_page {
    jn_book_cursor c;      /* where the page stands in the book */
    jt_account_id taker;
    jt_account_id gets_issuer; /* the TakerGets issuer (zero for SWT) */
    uint32_t rate;         /* its TransferRate */
    bool frozen;           /* either side's issuer has GlobalFreeze */
    jn_book_owner *owners; /* the caller's: one per owner seen on the page */
    size_t n_owners, cap_owners;
} jn_book_page;

typedef struct jn_book_offer {
    uint8_t id[32];
    const jt_obj *offer;   /* the Offer entry (valid until the view changes) */
    uint64_t quality;      /* its book directory's */
    jt_amount gets, pays;  /* TakerGets, TakerPays */
    jt_amount owner_funds;
    bool first;            /* the owner's first offer on the page (and every offer of
                              the issuer or of a frozen book): skywelld shows
                              owner_funds only then */
    bool funded;           /* the funds cover TakerGets */
    jt_amount gets_funded, pays_funded; /* when !funded */
} jn_book_offer;

/* Starts a page of the book pays/gets (as jn_book_cursor_init) for `taker`
 * (JT_ACCOUNT_ONE for none); owners is the caller's table of cap entries,
 * at least one per offer it will read (an owner beyond it has no running
 * balance: each of its offers starts from its full funds). Reads the
 * issuers' TransferRate and GlobalFreeze from v. A marker: jn_book_seek
 * on p->c after this. */
void jn_book_page_init(jn_book_page *p, const jn_view *v, const jt_amount *pays,
                       const jt_amount *gets, const jt_account_id *taker, jn_book_owner *owners,
                       size_t cap);
/* The page's next offer into *o; false at the end of the book. Entries a
 * directory lists but the view lacks, and malformed offers, are skipped. */
bool jn_book_page_next(const jn_view *v, const jn_env *env, jn_book_page *p, jn_book_offer *o);

/* ---------------------------------------------------------------- freeze and auth */

/* Is holder's holding of issuer's currency cur frozen: the issuer's
 * GlobalFreeze, the issuer's freeze flag on their line, or a freeze
 * relation (RelationType 3) from the issuer with a zero LimitAmount? Never
 * for the issuer itself. A freeze relation with a non-zero LimitAmount
 * freezes that much only (jn_read_frozen_amount). */
bool jn_read_frozen(const jn_view *v, const jt_account_id *holder, const jt_account_id *issuer,
                    const jt_currency *cur);

/* The part of holder's holding of issuer's cur that a freeze relation
 * from the issuer holds back: the relation's non-zero LimitAmount, into
 * *out (cur, issuer). false, *out untouched, when there is no freeze
 * relation, or its limit is zero (which freezes it all: jn_read_frozen),
 * or holder is the issuer. */
bool jn_read_frozen_amount(const jn_view *v, const jt_account_id *holder, const jt_account_id *issuer,
                           const jt_currency *cur, jt_amount *out);

/* skywelld's accountFundsCheck as far as freeze relations go (Payment's
 * preCheck): may `who` send `amount` of an issued currency, its frozen
 * amount held back? JT_tesSUCCESS when nothing is held back or its balance
 * less the frozen amount covers amount; else JT_telINSUF_FUND (no line:
 * nothing to send). SWT: always JT_tesSUCCESS. */
int jn_read_relation_funds_check(const jn_view *v, const jt_account_id *who, const jt_amount *amount);

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

/* The most holder may hold of issuer's cur when an authorize relation with
 * a non-zero LimitAmount is what authorizes it (RequireAuth, no auth flag
 * on the line): that LimitAmount into *cap. false, *cap untouched, when
 * there is no such cap. The payment engine takes it as a limit on the
 * holder's line. */
bool jn_read_auth_cap(const jn_view *v, const jt_account_id *holder, const jt_account_id *issuer,
                      const jt_currency *cur, jt_amount *cap);

#endif
