/*
 * state.h — ledger entries in memory, views over them, and object IDs.
 *
 * jn_map: an open-addressing table from a 32-byte object ID to a jt_obj
 * (IDs are SHA-512Half outputs, but a book's directories share all but
 * their last 8 bytes: the slot comes from the first and last 8 mixed).
 *
 * jn_view: a layer of changes over a parent view or over a base map.
 * Reads fall through to the parent; writes copy the entry into the view on
 * first write. The open ledger is a view over the closed state; each
 * transaction applies in a child view that is either merged into its parent
 * (tes/tec) or discarded. Not thread-safe.
 */
#ifndef JN_STATE_H
#define JN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jt/jt.h>

#include "keyset.h"

typedef struct jn_slot {
    uint8_t id[32];
    jt_obj *obj;  /* owned; for a deleted entry in a view: its final value */
    uint8_t used; /* 1 in use */
    uint8_t deleted;
    uint32_t aux; /* the owner's own use (e.g. a list index) */
} jn_slot;

typedef struct jn_map {
    jn_slot *slots;
    size_t cap, n;
    /* The book directories among the entries (see jn_view_book_next):
     * in a base map every one it holds, in a view's changes the ones
     * inserted by that view. NULL while there are none. */
    struct jn_keyset *books;
    /* Counts the changes that may have made a book directory visible
     * (an insert, a put, a merge, a clear); see jn_view_book_next. */
    uint64_t gen;
} jn_map;

void jn_map_init(jn_map *m);
void jn_map_clear(jn_map *m); /* frees every object */
jn_slot *jn_map_find(const jn_map *m, const uint8_t id[32]);
/* The slot for id, created empty (obj NULL) when absent; NULL on ENOMEM. */
jn_slot *jn_map_slot(jn_map *m, const uint8_t id[32]);
/* Room for n entries without growing (one table instead of a doubling
 * series when the size is known, e.g. the last ledger's). -1 on ENOMEM. */
int jn_map_reserve(jn_map *m, size_t n);
/* Starts bringing id's entry into cache without waiting for it: stage 0
 * its slot, 1 the object (reads the slot), 2 the object's members (reads
 * the object). Each stage is meant to run a little after the one before. */
void jn_map_prefetch(const jn_map *m, const uint8_t id[32], int stage);
/* Removes id (freeing its object). */
void jn_map_remove(jn_map *m, const uint8_t id[32]);
/* Sets id's entry to obj (takes ownership, frees the one it replaces),
 * keeping the map's book index. Base maps are changed only through this
 * and jn_map_remove. -1 on ENOMEM (obj freed, map unchanged). */
int jn_map_put(jn_map *m, const uint8_t id[32], jt_obj *obj);
/* Is o, stored under id, the root page of an order book directory
 * (a DirectoryNode with an ExchangeRate whose RootIndex is id)? */
bool jn_is_book_root(const uint8_t id[32], const jt_obj *o);
/* Iteration: i from 0; returns NULL at the end. */
jn_slot *jn_map_next(const jn_map *m, size_t *i);

#define JN_BOOK_MEMOS 4     /* books a view remembers the best visible quality of */
#define JN_BOOK_MEMO_DEPTH 6 /* maps below a view that a memo can depend on */

/* What jn_view_book_next learned of one book in one view: no directory of
 * the book below `lo` is visible in it, as long as none of the maps below
 * (maps[i] at gens[i]) has changed in a way that could add one. Taking
 * the best offers of a book deletes its best directories one after the
 * other; the memo lets the next lookup start past them. */
typedef struct jn_book_memo {
    uint8_t lo[32]; /* the book is lo's first 24 bytes */
    const jn_map *maps[JN_BOOK_MEMO_DEPTH];
    uint64_t gens[JN_BOOK_MEMO_DEPTH];
    uint8_t depth;
    bool used;
} jn_book_memo;

typedef struct jn_view {
    struct jn_view *parent; /* NULL: reads go to base */
    const jn_map *base;
    jn_map changes;
    /* A cache that lookups fill in, even through a const view. */
    jn_book_memo memo[JN_BOOK_MEMOS];
    unsigned memo_next;
} jn_view;

void jn_view_init(jn_view *v, jn_view *parent, const jn_map *base);
void jn_view_clear(jn_view *v); /* discards every change */
/* The entry as this view sees it, or NULL. */
const jt_obj *jn_view_read(const jn_view *v, const uint8_t id[32]);
/* A writable entry owned by this view (copied on first write), or NULL when
 * absent (or on ENOMEM: *oom set). */
jt_obj *jn_view_peek(jn_view *v, const uint8_t id[32], bool *oom);
/* Inserts a new entry (takes ownership). -1 on ENOMEM. */
int jn_view_insert(jn_view *v, const uint8_t id[32], jt_obj *obj);
/* Deletes the entry; its last value is kept for metadata. -1 on ENOMEM. */
int jn_view_erase(jn_view *v, const uint8_t id[32]);
/* The same through a view: the slots in every layer (stage 0), then the
 * entry as the view sees it (1: the object, 2: its members). */
void jn_view_prefetch(const jn_view *v, const uint8_t id[32], int stage);
/* Ordered book access: the smallest ID k with from <= k <= last of a book
 * directory's root page that exists in v (the view's own changes and
 * deletions overlaid on its parents and base), into out. A book's
 * directories are base‖quality (jn_id_book_base), so from = base‖q and
 * last = base‖FF…FF walk the book best quality first; the cost grows with
 * the directories walked, not with the ledger. false when there is none
 * (or on ENOMEM in a view's index: then every later lookup in that view
 * may miss directories it inserted; jn_view_insert reports it). */
bool jn_view_book_next(const jn_view *v, const uint8_t from[32], const uint8_t last[32],
                       uint8_t out[32]);

/* Moves every change into the parent view. -1 on ENOMEM (parent unchanged
 * for the failing entry only; callers treat it as fatal). */
int jn_view_merge(jn_view *v);

/* ---- object IDs (§5.5) ---- */
void jn_id_account(const jt_account_id *a, uint8_t out[32]);
void jn_id_owner_dir(const jt_account_id *a, uint8_t out[32]);
void jn_id_line(const jt_account_id *a, const jt_account_id *b, const jt_currency *c,
                uint8_t out[32]);
void jn_id_offer(const jt_account_id *a, uint32_t seq, uint8_t out[32]);
/* The book base (quality 0) for pays/gets; the book directory of an offer
 * is the base with its last 8 bytes replaced by the quality. */
void jn_id_book_base(const jt_currency *pays_cur, const jt_account_id *pays_iss,
                     const jt_currency *gets_cur, const jt_account_id *gets_iss, uint8_t out[32]);
void jn_id_fee_settings(uint8_t out[32]);
/* A relation (TrustState): account, target, type, currency. */
void jn_id_relation(const jt_account_id *a, const jt_account_id *target, uint32_t type,
                    const jt_currency *c, uint8_t out[32]);
/* A platform's Brokerage entry for one fee currency (issuer zero for SWT):
 * SHA512Half(0x0062 'b' ‖ platform ‖ currency ‖ issuer), a space jtkit
 * chose (docs/node.md, "Platform fees"). */
void jn_id_brokerage(const jt_account_id *platform, const jt_currency *c,
                     const jt_account_id *issuer, uint8_t out[32]);

#endif
