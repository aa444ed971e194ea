/*
 * apply.h — the transaction engine: checks a verified transaction against a
 * view and applies it with skywelld's result codes and metadata.
 *
 * jn_apply runs the checks of PROTOCOL.md §5.3 in order, then the
 * transactor, inside a child view of `view`. tes and tec results are merged
 * into `view` (a tec keeps only the fee and the sequence) and come with
 * metadata; every other result leaves `view` untouched. Not thread-safe
 * (one writer).
 */
#ifndef JN_APPLY_H
#define JN_APPLY_H

#include <stdbool.h>
#include <stdint.h>

#include <jt/jt.h>

#include "state.h"

/* The result codes the engine produces (skywelld's numbers). */
enum {
    telBAD_DOMAIN = -398,
    telINSUF_FEE_P = -394,
    telNO_DST_PARTIAL = -393,
    temMALFORMED = -299,
    temBAD_AMOUNT = -298,
    temBAD_CURRENCY = -296,
    temBAD_EXPIRATION = -295,
    temBAD_FEE = -294,
    temBAD_ISSUER = -293,
    temBAD_LIMIT = -292,
    temBAD_OFFER = -289,
    temBAD_SEND_SWT_LIMIT = -286,
    temBAD_SEND_SWT_MAX = -285,
    temBAD_SEND_SWT_NO_DIRECT = -284,
    temBAD_SEND_SWT_PARTIAL = -283,
    temBAD_SEND_SWT_PATHS = -282,
    temBAD_SEQUENCE = -281,
    temBAD_SRC_ACCOUNT = -279,
    temBAD_TRANSFER_RATE = -278,
    temDST_IS_SRC = -277,
    temDST_NEEDED = -276,
    temINVALID = -275,
    temINVALID_FLAG = -274,
    temREDUNDANT = -273,
    temUNKNOWN = -268,
    tefFAILURE = -199,
    tefALREADY = -198,
    tefBAD_LEDGER = -195,
    tefBAD_AUTH = -196,
    tefINTERNAL = -192,
    tefNO_AUTH_REQUIRED = -191,
    tefPAST_SEQ = -190,
    tefMASTER_DISABLED = -188,
    tefMAX_LEDGER = -187,
    terRETRY = -99,
    terINSUF_FEE_B = -97,
    terNO_ACCOUNT = -96,
    terPRE_SEQ = -92,
    tesSUCCESS = 0,
    tecPATH_PARTIAL = 101,
    tecDIR_FULL = 121,
    tecUNFUNDED_OFFER = 103,
    tecUNFUNDED_PAYMENT = 104,
    tecINSUF_RESERVE_LINE = 122,
    tecINSUF_RESERVE_OFFER = 123,
    tecNO_DST = 124,
    tecNO_DST_INSUF_SWT = 125,
    tecNO_LINE_INSUF_RESERVE = 126,
    tecNO_LINE_REDUNDANT = 127,
    tecPATH_DRY = 128,
    tecMASTER_DISABLED = 130,
    tecNO_REGULAR_KEY = 131,
    tecOWNERS = 132,
    tecNO_ISSUER = 133,
    tecNO_AUTH = 134,
    tecNO_LINE = 135,
    tecFROZEN = 137,
    tecNO_TARGET = 138,
    tecNO_PERMISSION = 139,
    tecNO_ENTRY = 140,
    tecINSUFFICIENT_RESERVE = 141,
    tecDST_TAG_NEEDED = 143,
};

/* Is the result one that goes into a ledger (tes or tec)? */
#define JN_TER_CLAIMED(t) ((t) == tesSUCCESS || ((t) >= 100 && (t) <= 255))
/* Worth retrying in a later ledger (ter). */
#define JN_TER_RETRY(t) ((t) >= -99 && (t) <= -1)

/* Network parameters (PROTOCOL.md §5.1) and the ledger being built. */
typedef struct jn_env {
    uint64_t base_fee;     /* minimum Fee, drops */
    uint64_t reserve_base; /* drops */
    uint64_t reserve_inc;  /* drops per owned object */
    uint32_t ledger_seq;   /* sequence of the ledger the tx goes into */
    uint32_t parent_close_time;
    bool no_meta; /* the open ledger: results only, metadata is built at close */
    bool no_fast_path; /* tests: every transaction through the general path */
} jn_env;

typedef struct jn_applied {
    int ter;
    jt_obj *meta;  /* tes/tec: the metadata (caller frees), unless env->no_meta; else NULL */
    jt_buf meta_bin; /* instead, a plain payment's metadata already serialized (caller frees) */
    int64_t fee;   /* drops destroyed (tes/tec) */
    bool fast;     /* applied by the plain SWT payment path (no sandbox) */
} jn_applied;

/* What a transaction's own bytes determine, worked out on its first apply
 * and reused when it applies again (the canonical re-apply at close, a held
 * retry): the AccountRoot IDs of its account and (Payment) destination, the
 * account its SigningPubKey belongs to, and that it passed preflight with a
 * given base fee. Zeroed: nothing known yet. */
typedef struct jn_txmemo {
    bool have_account, have_dest, have_signer, preflight_ok;
    uint64_t preflight_fee;
    uint8_t account_key[32], dest_key[32];
    jt_account_id signer;
} jn_txmemo;

/* Fills in the entry IDs of memo from tx (its account; a Payment's
 * destination), as jn_apply would on its first run. */
void jn_txmemo_keys(jn_txmemo *memo, const jt_obj *tx);

/* Checks that need no ledger state (tem*, telINSUF_FEE_P). */
int jn_preflight(const jt_obj *tx, const jn_env *env);

/* Applies `tx` (already signature-checked; `id` its hash) as the `index`-th
 * transaction of the ledger. Returns the result code (also in out->ter).
 * `memo` (may be NULL) is read and filled in. */
int jn_apply(jn_view *view, const jn_env *env, const jt_obj *tx, const uint8_t id[32],
             uint32_t index, jn_txmemo *memo, jn_applied *out);

/* Owner reserve for an account owning `owners` objects. */
uint64_t jn_reserve(const jn_env *env, uint32_t owners);

/* Account flags (AccountRoot) and line flags (SkywellState). */
#define LSF_REQUIRE_DEST  0x00020000u
#define LSF_REQUIRE_AUTH  0x00040000u
#define LSF_DISALLOW_SWT  0x00080000u
#define LSF_DISABLE_MASTER 0x00100000u
#define LSF_NO_FREEZE     0x00200000u
#define LSF_GLOBAL_FREEZE 0x00400000u
#define LSF_DEFAULT_SKYWELL 0x00800000u
#define LSF_LOW_RESERVE   0x00010000u
#define LSF_HIGH_RESERVE  0x00020000u
#define LSF_LOW_AUTH      0x00040000u
#define LSF_HIGH_AUTH     0x00080000u
#define LSF_LOW_NO_SKYWELL 0x00100000u
#define LSF_HIGH_NO_SKYWELL 0x00200000u
#define LSF_LOW_FREEZE    0x00400000u
#define LSF_HIGH_FREEZE   0x00800000u
#define LSF_OFFER_PASSIVE 0x00010000u
#define LSF_OFFER_SELL    0x00020000u

#endif
