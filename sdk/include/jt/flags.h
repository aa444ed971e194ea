/*
 * jt/flags.h — flag bits of ledger entries (Flags of AccountRoot, SkywellState
 * and Offer), of transactions (Flags of each transaction type), the values
 * of AccountSet's SetFlag/ClearFlag, and QUALITY_ONE.
 *
 * The values are skywelld's (LedgerFormats.h, TxFlags.h); changing one is a
 * hard fork. Bits of different entry or transaction types overlap (0x00010000
 * is lsfPasswordSpent on an AccountRoot, lsfLowReserve on a SkywellState and
 * lsfPassive on an Offer): test a bit only against the Flags of the type its
 * name says. Constants only.
 */
#ifndef JT_FLAGS_H
#define JT_FLAGS_H

/* ---- ledger entries (the entry's Flags field) ------------------------- */

/* AccountRoot */
#define JT_LSF_PASSWORD_SPENT   0x00010000u /* the free SetRegularKey has been used */
#define JT_LSF_REQUIRE_DEST_TAG 0x00020000u /* payments to it need a DestinationTag */
#define JT_LSF_REQUIRE_AUTH     0x00040000u /* its issued currencies need authorized lines */
#define JT_LSF_DISALLOW_SWT     0x00080000u /* asks not to be sent SWT (advisory) */
#define JT_LSF_DISABLE_MASTER   0x00100000u /* the master key may not sign */
#define JT_LSF_NO_FREEZE        0x00200000u /* gave up freezing lines, for good */
#define JT_LSF_GLOBAL_FREEZE    0x00400000u /* every line of its currencies is frozen */
#define JT_LSF_DEFAULT_SKYWELL  0x00800000u /* its lines allow rippling by default */

/* Offer */
#define JT_LSF_PASSIVE 0x00010000u /* placed with tfPassive: does not cross equal quality */
#define JT_LSF_SELL    0x00020000u /* placed with tfSell */

/* SkywellState (a trust line): Low/High name the side, the account whose ID
 * sorts lower or higher. */
#define JT_LSF_LOW_RESERVE     0x00010000u /* the line counts toward low's reserve */
#define JT_LSF_HIGH_RESERVE    0x00020000u
#define JT_LSF_LOW_AUTH        0x00040000u /* low has authorized high to hold */
#define JT_LSF_HIGH_AUTH       0x00080000u
#define JT_LSF_LOW_NO_SKYWELL  0x00100000u /* low's side does not ripple */
#define JT_LSF_HIGH_NO_SKYWELL 0x00200000u
#define JT_LSF_LOW_FREEZE      0x00400000u /* low has frozen the line */
#define JT_LSF_HIGH_FREEZE     0x00800000u
/* Defined by skywelld beside the line flags; nothing in its engine sets or
 * reads it. Listed so that a value met in a ledger has a name. */
#define JT_LSF_TIE 0x01000000u

/* ---- transactions (the transaction's Flags field) ----------------------- */

/* Every type */
#define JT_TF_FULLY_CANONICAL_SIG 0x80000000u /* the signature must be low-S */
#define JT_TF_UNIVERSAL           JT_TF_FULLY_CANONICAL_SIG
#define JT_TF_UNIVERSAL_MASK      (~JT_TF_UNIVERSAL)

/* Payment */
#define JT_TF_NO_SKYWELL_DIRECT 0x00010000u /* do not use the direct path */
#define JT_TF_PARTIAL_PAYMENT   0x00020000u /* deliver less than Amount rather than fail */
#define JT_TF_LIMIT_QUALITY     0x00040000u /* no path worse than Amount/SendMax */
#define JT_TF_PAYMENT_MASK                                                                         \
    (~(JT_TF_UNIVERSAL | JT_TF_NO_SKYWELL_DIRECT | JT_TF_PARTIAL_PAYMENT | JT_TF_LIMIT_QUALITY))

/* AccountSet (each pair: set / clear the AccountRoot flag of that name) */
#define JT_TF_REQUIRE_DEST_TAG  0x00010000u
#define JT_TF_OPTIONAL_DEST_TAG 0x00020000u
#define JT_TF_REQUIRE_AUTH      0x00040000u
#define JT_TF_OPTIONAL_AUTH     0x00080000u
#define JT_TF_DISALLOW_SWT      0x00100000u
#define JT_TF_ALLOW_SWT         0x00200000u
#define JT_TF_ACCOUNT_SET_MASK                                                                     \
    (~(JT_TF_UNIVERSAL | JT_TF_REQUIRE_DEST_TAG | JT_TF_OPTIONAL_DEST_TAG | JT_TF_REQUIRE_AUTH |   \
       JT_TF_OPTIONAL_AUTH | JT_TF_DISALLOW_SWT | JT_TF_ALLOW_SWT))

/* TrustSet (skywelld spells the first tfSetfAuth) */
#define JT_TF_SET_AUTH         0x00010000u /* authorize the other side to hold */
#define JT_TF_SET_NO_SKYWELL   0x00020000u
#define JT_TF_CLEAR_NO_SKYWELL 0x00040000u
#define JT_TF_SET_FREEZE       0x00100000u
#define JT_TF_CLEAR_FREEZE     0x00200000u
#define JT_TF_TRUST_SET_MASK                                                                       \
    (~(JT_TF_UNIVERSAL | JT_TF_SET_AUTH | JT_TF_SET_NO_SKYWELL | JT_TF_CLEAR_NO_SKYWELL |          \
       JT_TF_SET_FREEZE | JT_TF_CLEAR_FREEZE))

/* OfferCreate */
#define JT_TF_PASSIVE             0x00010000u /* do not cross offers of equal quality */
#define JT_TF_IMMEDIATE_OR_CANCEL 0x00020000u /* cross what it can now, never rest in the book */
#define JT_TF_FILL_OR_KILL        0x00040000u /* cross fully now or not at all */
#define JT_TF_SELL                0x00080000u /* sell all of TakerGets, even for more than TakerPays */
#define JT_TF_OFFER_CREATE_MASK                                                                    \
    (~(JT_TF_UNIVERSAL | JT_TF_PASSIVE | JT_TF_IMMEDIATE_OR_CANCEL | JT_TF_FILL_OR_KILL |          \
       JT_TF_SELL))

/* ---- AccountSet SetFlag / ClearFlag values ---------------------------- */

#define JT_ASF_REQUIRE_DEST    1u /* JT_LSF_REQUIRE_DEST_TAG */
#define JT_ASF_REQUIRE_AUTH    2u /* JT_LSF_REQUIRE_AUTH */
#define JT_ASF_DISALLOW_SWT    3u /* JT_LSF_DISALLOW_SWT */
#define JT_ASF_DISABLE_MASTER  4u /* JT_LSF_DISABLE_MASTER */
#define JT_ASF_ACCOUNT_TXN_ID  5u /* track AccountTxnID (no flag bit) */
#define JT_ASF_NO_FREEZE       6u /* JT_LSF_NO_FREEZE (cannot be cleared) */
#define JT_ASF_GLOBAL_FREEZE   7u /* JT_LSF_GLOBAL_FREEZE */
#define JT_ASF_DEFAULT_SKYWELL 8u /* JT_LSF_DEFAULT_SKYWELL */

/* ---- rates -------------------------------------------------------------- */

/* A TransferRate or a line's QualityIn/QualityOut of exactly 1: rates are
 * parts per 10^9 (1 002 000 000 = a 0.2 % fee). */
#define JT_QUALITY_ONE 1000000000u

#endif
