/*
 * txbuild.h — the REST API's request bodies (GATEWAY-API.md) turned into
 * transactions. Each builder checks its object (unknown fields, addresses,
 * amounts, currencies) and fills `tx` with the type's own fields; the
 * submission code adds Account, Sequence, Fee, LastLedgerSequence and the
 * signature. A refusal names the field ("payment.amount.value") and what is
 * wrong, for a 400.
 */
#ifndef GW_TXBUILD_H
#define GW_TXBUILD_H

#include <stdbool.h>
#include <stdint.h>

#include <jt/amount.h>
#include <jt/codec.h>
#include <jt/json.h>

typedef struct gw_txerr {
    char field[64];
    char msg[256];
} gw_txerr;

/* Fails unless every key of object `v` (named `where`) is in the
 * NULL-terminated `allowed`. */
int gw_check_fields(const jt_json *v, const char *where, const char *const *allowed, gw_txerr *e);

/* {"value","currency","issuer"} (SWT: currency "SWT", issuer empty or
 * absent, value in SWT). `allow_swt` false refuses SWT. */
int gw_amount_parse(const jt_json *v, const char *field, bool allow_swt, jt_amount *a, gw_txerr *e);
/* The amount as the REST API shows it. */
void gw_amount_write(jt_jw *w, const jt_amount *a);

/* payment: {destination, amount, send_max?, memos?, encrypt_memos?,
 * destination_tag?, invoice_id?, paths?}. memos are [{"type"?, "format"?,
 * "data"}]; with encrypt_memos true they are checked but left out of `tx`:
 * the caller seals them (memo.h) and sets them, never in the clear. */
int gw_tx_payment(const jt_json *payment, jt_obj *tx, gw_txerr *e);

/* payment.encrypt_memos: absent is false; anything but a boolean fails. */
int gw_payment_encrypt_memos(const jt_json *payment, bool *encrypt, gw_txerr *e);

#define GW_MEMOS_MAX 8
#define GW_MEMO_MAX 1024 /* bytes of each of a memo's parts */

/* One memo's parts as bytes; a NULL part is absent (empty is not). */
typedef struct gw_memo {
    const uint8_t *type;
    size_t type_len;
    const uint8_t *format;
    size_t format_len;
    const uint8_t *data;
    size_t data_len;
} gw_memo;

/* payment.memos checked into at most GW_MEMOS_MAX parts pointing into the
 * JSON (which must outlive them). */
int gw_memos_parse(const jt_json *memos, gw_memo *out, size_t *n, gw_txerr *e);
/* Sets Memos (hex in the JSON form) from n memos. */
int gw_tx_set_memos(jt_obj *tx, const gw_memo *memos, size_t n, gw_txerr *e);
/* order: {type:"buy"|"sell", pair:"BASE[:issuer]/COUNTER[:issuer]",
 * amount (of BASE), price (COUNTER per BASE), flags?:["passive",
 * "immediate_or_cancel","fill_or_kill"]}. */
int gw_tx_order(const jt_json *order, jt_obj *tx, gw_txerr *e);
int gw_tx_cancel(uint64_t offer_sequence, jt_obj *tx, gw_txerr *e);
/* The body of POST (del false) or DELETE (del true) /relations:
 * {type, amount:{limit,currency,issuer}, counterparty?}. */
int gw_tx_relation(const jt_json *body, bool del, jt_obj *tx, gw_txerr *e);
/* settings: {require_auth?, require_dest?, disallow_swt?, global_freeze?,
 * no_freeze?, transfer_rate?, domain?, message_key?, regular_key?}: an
 * AccountSet (at most one flag set and one cleared per request), or a
 * SetRegularKey when regular_key is given alone. message_key "publish"
 * sets MessageKey to `message_key` (JT_MESSAGE_KEY_BYTES: the account's
 * derived encryption key, which the caller passes; NULL otherwise). */
int gw_tx_settings(const jt_json *settings, const uint8_t *message_key, jt_obj *tx, gw_txerr *e);

#endif
