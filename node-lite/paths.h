/*
 * paths.h — the payment engine (paths.c), private to the engine: an amount
 * flowing from a source to a destination through trust lines (rippling)
 * and order books, along the default path and each path a transaction
 * gives, best quality first, within a maximum the source spends.
 *
 * It follows skywelld's SkywellCalc (rippled ~0.27's RippleCalc): each
 * path is expanded into nodes (accounts and books, with the implied
 * issuers and books between them), and each increment runs a reverse pass
 * (what each node must deliver for the destination to get what it still
 * wants) then a forward pass (what actually flows, from the source) on a
 * copy of the sandbox; the path with the best quality wins the increment,
 * its changes are kept and the others dropped, until the amount is
 * delivered, the maximum is spent or every path is dry. Offers found
 * unfunded, expired or used up are removed at the end.
 *
 * Not thread-safe (as the sandbox it works in).
 */
#ifndef JN_PATHS_H
#define JN_PATHS_H

#include "engine.h"

/* One element of a path as the transaction gives it (STPathElement). */
#define JN_PATH_ACCOUNT  0x01u
#define JN_PATH_CURRENCY 0x10u
#define JN_PATH_ISSUER   0x20u
#define JN_PATH_ALL      0x31u

typedef struct jn_path_elem {
    unsigned type;
    jt_account_id account;
    jt_currency currency;
    jt_account_id issuer;
} jn_path_elem;

/* skywelld's limits (Payment.cpp): paths in a set, elements in a path. */
#define JN_MAX_PATHS       6
#define JN_MAX_PATH_LENGTH 8

typedef struct jn_path {
    jn_path_elem e[JN_MAX_PATH_LENGTH];
    size_t n;
} jn_path;

typedef struct jn_pathset {
    jn_path p[JN_MAX_PATHS];
    size_t n;
    bool too_big; /* more paths, or a longer path, than the limits */
} jn_pathset;

/* Reads the transaction's Paths (none: n = 0). Paths beyond the limits
 * are not kept; too_big says so. false when the field is malformed or
 * holds an empty path (which skywelld cannot even read). */
bool jn_pathset_read(const jt_obj *tx, jn_pathset *ps);

typedef struct jn_ripple_in {
    jt_amount max_in;   /* SendMax (for none: Amount with the source as issuer) */
    jt_amount dst_amount;
    jt_account_id src, dst;
    const jn_pathset *paths;
    bool partial;       /* tfPartialPayment */
    bool default_path;  /* not tfNoSkywellDirect */
    bool limit_quality; /* tfLimitQuality */
} jn_ripple_in;

typedef struct jn_ripple_out {
    jt_amount in, out; /* spent and delivered */
} jn_ripple_out;

/* Runs the payment in c's sandbox. Returns tesSUCCESS, a tec code
 * (tecPATH_PARTIAL, tecPATH_DRY, tecFAILED_PROCESSING, ...), a tem code
 * for a malformed path (temBAD_PATH, temBAD_PATH_LOOP, temSKYWELL_EMPTY),
 * a ter code when no path could be expanded (terNO_LINE, ...: the caller
 * turns it into tecPATH_DRY as skywelld's Payment does), tefEXCEPTION where
 * skywelld's calculation throws, or tefINTERNAL (ENOMEM: c->oom). */
int jn_ripple_calc(jn_txctx *c, const jn_ripple_in *in, jn_ripple_out *out);

#endif
