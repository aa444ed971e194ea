/*
 * pathfind.h — path finding: which paths a payment of a given amount from
 * one account to another can take, and what each source currency would
 * cost (path_find, skywell_path_find; docs/node.md, "Path finding").
 *
 * It follows skywelld's Pathfinder and PathRequest (rippled ~0.27): the
 * sender's source currencies (its SWT and the currencies of the lines it
 * can send on, as AccountCurrencies), a search from the sender over its
 * lines, the issuers' lines and the order books into the destination
 * currency, each candidate path ranked by the quality the payment engine
 * (jn_ripple_calc, paths.h) gives it in a throw-away sandbox, the best few
 * kept, and the amount the sender would spend through them with the
 * default path (source_amount) worked out by the engine again. A
 * candidate that the engine cannot run is simply dropped: the engine is
 * the judge of what a path delivers.
 *
 * Bounded: a search stops at the first of its limits (states explored,
 * engine runs, wall time) and answers with what it has (truncated).
 *
 * Reads the view only (the engine runs in child views that are
 * discarded). Not thread-safe (the view's caches).
 */
#ifndef JN_PATHFIND_H
#define JN_PATHFIND_H

#include <stdbool.h>
#include <stddef.h>

#include <jt/jt.h>

#include "apply.h"
#include "state.h"

/* Paths an alternative keeps (skywelld's iMaxPaths in PathRequest). */
#define JN_PF_BEST_PATHS 4
/* Source currencies one request may try (skywelld's max_src_cur). */
#define JN_PF_MAX_SRC_CUR 18
/* Intermediate elements of a path the search builds (accounts and books;
 * skywelld's longest path types, e.g. "saxfad", have four). */
#define JN_PF_MAX_DEPTH 4
/* Links followed out of one account or book (skywelld's
 * PATHFINDER_MAX_PATHS_FROM_SOURCE). */
#define JN_PF_MAX_LINKS 10
/* Candidate paths kept for ranking per source currency. */
#define JN_PF_MAX_CANDIDATES 64

/* The bounds of one request (0: the default below). */
typedef struct jn_pf_limits {
    unsigned max_nodes; /* states explored plus directory entries read */
    unsigned max_calcs; /* runs of the payment engine */
    unsigned max_ms;    /* wall time */
} jn_pf_limits;

#define JN_PF_DEFAULT_NODES 4000u
#define JN_PF_DEFAULT_CALCS 64u
#define JN_PF_DEFAULT_MS    300u

/* A path as path_find gives it (STPath: elements of type 0x01 account,
 * 0x10 currency, 0x20 issuer, as a Payment's Paths; paths.h). */
#define JN_PF_ACCOUNT  0x01u
#define JN_PF_CURRENCY 0x10u
#define JN_PF_ISSUER   0x20u
#define JN_PF_PATH_LEN 8 /* a Payment's longest path */
#define JN_PF_PATHS    6 /* a Payment's most paths */

typedef struct jn_pf_elem {
    unsigned type;
    jt_account_id account;
    jt_currency currency;
    jt_account_id issuer;
} jn_pf_elem;

typedef struct jn_pf_path {
    jn_pf_elem e[JN_PF_PATH_LEN];
    size_t n;
} jn_pf_path;

typedef struct jn_pf_alt {
    jt_amount source_amount; /* an issued currency: the sender as issuer (any issuer) */
    jn_pf_path paths[JN_PF_PATHS]; /* paths_computed (none: the default path only) */
    size_t n_paths;
} jn_pf_alt;

typedef struct jn_pf_result {
    jn_pf_alt alt[JN_PF_MAX_SRC_CUR + 1];
    size_t n;
    bool truncated;   /* a bound stopped the search: what it had */
    unsigned nodes, calcs; /* the work done */
} jn_pf_result;

/* Finds the alternatives for a payment of dst_amt (an issued amount whose
 * issuer is dst: any issuer dst accepts) from src to dst in v. src_cur
 * (n_src_cur, may be 0: all the sender has) restricts the source
 * currencies. Returns 0, or -1 on ENOMEM (out holds what was found). */
int jn_pathfind(const jn_view *v, const jn_env *env, const jt_account_id *src,
                const jt_account_id *dst, const jt_amount *dst_amt, const jt_currency *src_cur,
                size_t n_src_cur, const jn_pf_limits *lim, jn_pf_result *out);

/* The currencies src can send (skywelld's accountSourceCurrencies: SWT,
 * then each line's currency where it holds some or the peer extends it
 * credit), at most cap, into out. Returns how many. */
size_t jn_pf_source_currencies(const jn_view *v, const jt_account_id *src, jt_currency *out,
                               size_t cap);
/* The currencies dst can receive (accountDestCurrencies: SWT, then each
 * line's currency with room below its limit). */
size_t jn_pf_dest_currencies(const jn_view *v, const jt_account_id *dst, jt_currency *out,
                             size_t cap);

#endif
