/*
 * tx_offer.c — OfferCreate and OfferCancel. Offers are placed in their book
 * directory and the owner's directory; they do not cross on this node, so
 * an ImmediateOrCancel or FillOrKill offer succeeds without being placed.
 */
#include "engine.h"

/* Deletes the offer `key` (if it exists) from the ledger and both its
 * directories. 0, or -1 on a malformed offer or ENOMEM. */
static int offer_delete(jn_txctx *c, const uint8_t key[32])
{
    const jt_obj *o = jn_view_read(c->sb, key);
    if (!o)
        return 0;
    jt_account_id owner;
    const uint8_t *book;
    size_t n;
    if (jt_obj_get_account_f(o, FLD("Account"), &owner) != JT_OK ||
        jt_obj_get_bytes_f(o, FLD("BookDirectory"), &book, &n) != JT_OK || n != 32)
        return -1;
    uint8_t bk[32];
    memcpy(bk, book, 32);
    if (jn_book_dir_remove(c, bk, key, get_u(o, FLD("BookNode"), 0)) ||
        jn_owner_dir_remove(c, &owner, key, o, FLD("OwnerNode")) || jn_view_erase(c->sb, key))
        return -1;
    jn_adjust_owner_count(c, &owner, -1);
    return c->oom ? -1 : 0;
}

int jn_offer_create_preflight(const jt_obj *tx, uint32_t flags)
{
    if (flags & ~(JT_TF_FULLY_CANONICAL_SIG | JT_TF_PASSIVE | JT_TF_IMMEDIATE_OR_CANCEL | JT_TF_FILL_OR_KILL | JT_TF_SELL))
        return JT_temINVALID_FLAG;
    if ((flags & JT_TF_IMMEDIATE_OR_CANCEL) && (flags & JT_TF_FILL_OR_KILL))
        return JT_temINVALID_FLAG;
    jt_amount pays, gets;
    if (!get_amount(tx, FLD("TakerPays"), &pays) || !get_amount(tx, FLD("TakerGets"), &gets))
        return JT_temMALFORMED;
    if (pays.native && gets.native)
        return JT_temBAD_OFFER;
    if (jt_amount_sign(&pays) <= 0 || jt_amount_sign(&gets) <= 0)
        return JT_temBAD_OFFER;
    if ((pays.native && pays.mantissa > JT_MAX_TX_DROPS) ||
        (gets.native && gets.mantissa > JT_MAX_TX_DROPS))
        return JT_temBAD_OFFER;
    if (bad_currency(&pays) || bad_currency(&gets))
        return JT_temBAD_CURRENCY;
    if (!pays.native && !gets.native && !memcmp(&pays.currency, &gets.currency, 20) &&
        same_account(&pays.issuer, &gets.issuer))
        return JT_temREDUNDANT;
    if (jt_obj_has_f(tx, FLD("Expiration")) && get_u(tx, FLD("Expiration"), 0) == 0)
        return JT_temBAD_EXPIRATION;
    if (jt_obj_has_f(tx, FLD("OfferSequence")) && get_u(tx, FLD("OfferSequence"), 0) == 0)
        return JT_temBAD_SEQUENCE;
    return JT_tesSUCCESS;
}

int jn_offer_create_apply(jn_txctx *c)
{
    uint32_t flags = (uint32_t)get_u(c->tx, FLD("Flags"), 0);
    jt_amount pays, gets;
    if (!get_amount(c->tx, FLD("TakerPays"), &pays) || !get_amount(c->tx, FLD("TakerGets"), &gets))
        return JT_temMALFORMED;
    uint32_t seq = (uint32_t)get_u(c->tx, FLD("Sequence"), 0);
    if (jt_obj_has_f(c->tx, FLD("OfferSequence"))) {
        uint8_t k[32];
        jn_id_offer(&c->account, (uint32_t)get_u(c->tx, FLD("OfferSequence"), 0), k);
        if (offer_delete(c, k))
            return JT_tefINTERNAL;
    }
    if (jt_obj_has_f(c->tx, FLD("Expiration")) &&
        get_u(c->tx, FLD("Expiration"), 0) <= c->env->parent_close_time)
        return JT_tesSUCCESS; /* already expired: nothing to place */
    if (!pays.native && !read_account(c, &pays.issuer))
        return JT_tecNO_ISSUER;
    if (!gets.native && !read_account(c, &gets.issuer))
        return JT_tecNO_ISSUER;
    if (!gets.native && jn_tx_frozen(c, &c->account, &gets.issuer, &gets.currency))
        return JT_tecFROZEN;
    jt_amount funds;
    if (jn_tx_funds(c, &c->account, &gets, &funds) && jt_amount_sign(&funds) <= 0)
        return JT_tecUNFUNDED_OFFER;
    if (!pays.native && !jn_tx_authorized(c, &c->account, &pays.issuer, &pays.currency, NULL))
        return JT_tecNO_AUTH;
    if (flags & (JT_TF_IMMEDIATE_OR_CANCEL | JT_TF_FILL_OR_KILL))
        return JT_tesSUCCESS; /* no crossing on this node: nothing would fill */
    jt_obj *mr = peek_account(c, &c->account);
    if (!mr)
        return JT_tefINTERNAL;
    uint64_t reserve = jn_reserve(c->env, jn_read_owner_count(mr) + 1);
    if (c->prior_balance < (int64_t)reserve)
        return JT_tecINSUF_RESERVE_OFFER;
    uint64_t q = jt_amount_quality(&pays, &gets);
    uint8_t book[32], key[32];
    jn_id_book_base(&pays.currency, &pays.issuer, &gets.currency, &gets.issuer, book);
    for (int i = 0; i < 8; i++)
        book[24 + i] = (uint8_t)(q >> (56 - 8 * i));
    jn_id_offer(&c->account, seq, key);
    jt_obj *o = jn_new_entry(c, "Offer");
    if (!o)
        return JT_tefINTERNAL;
    set_acct(c, o, FLD("Account"), &c->account);
    set_u(c, o, FLD("Sequence"), seq);
    set_amt(c, o, FLD("TakerPays"), &pays);
    set_amt(c, o, FLD("TakerGets"), &gets);
    set_bytes(c, o, FLD("BookDirectory"), book, 32);
    uint64_t book_node, owner_node;
    if (jn_book_dir_add(c, book, key, &pays, &gets, q, &book_node) ||
        jn_owner_dir_add(c, &c->account, key, &owner_node)) {
        jt_obj_free(o);
        return JT_tefINTERNAL;
    }
    set_u(c, o, FLD("BookNode"), book_node);
    set_u(c, o, FLD("OwnerNode"), owner_node);
    set_u(c, o, FLD("Flags"),
          ((flags & JT_TF_PASSIVE) ? JT_LSF_PASSIVE : 0) | ((flags & JT_TF_SELL) ? JT_LSF_SELL : 0));
    if (jt_obj_has_f(c->tx, FLD("Expiration")))
        set_u(c, o, FLD("Expiration"), get_u(c->tx, FLD("Expiration"), 0));
    if (c->oom || jn_view_insert(c->sb, key, o))
        return JT_tefINTERNAL;
    jn_adjust_owner_count(c, &c->account, +1);
    return c->oom ? JT_tefINTERNAL : JT_tesSUCCESS;
}

int jn_offer_cancel_preflight(const jt_obj *tx, uint32_t flags)
{
    if (flags & ~JT_TF_FULLY_CANONICAL_SIG)
        return JT_temINVALID_FLAG;
    uint64_t s = get_u(tx, FLD("OfferSequence"), 0);
    if (!s || s >= get_u(tx, FLD("Sequence"), 0))
        return JT_temBAD_SEQUENCE;
    return JT_tesSUCCESS;
}

int jn_offer_cancel_apply(jn_txctx *c)
{
    uint8_t k[32];
    jn_id_offer(&c->account, (uint32_t)get_u(c->tx, FLD("OfferSequence"), 0), k);
    return offer_delete(c, k) ? JT_tefINTERNAL : JT_tesSUCCESS;
}
