/*
 * tx_relation.c — RelationSet and RelationDel: an issuer's relation
 * (TrustState) with a holder in one currency. Type 1 authorizes the holder
 * up to LimitAmount under RequireAuth; type 3 freezes its holding, all of
 * it when LimitAmount is zero, else that much (the read model's
 * jn_read_authorized, jn_read_frozen and jn_read_frozen_amount consult
 * them). The entry is listed in both accounts' owner directories, so
 * account_relation answers from either side; the owner pays the reserve.
 */
#include "engine.h"

int jn_relation_preflight(const jt_obj *tx, uint32_t flags)
{
    jt_account_id target, src;
    if (jt_obj_get_account_f(tx, FLD("Target"), &target) != JT_OK ||
        !jt_obj_has_f(tx, FLD("RelationType")))
        return JT_temMALFORMED;
    uint64_t type = get_u(tx, FLD("RelationType"), 0);
    if (type != JN_REL_AUTHORIZE && type != JN_REL_FREEZE)
        return JT_temINVALID;
    if (jt_obj_get_account_f(tx, FLD("Account"), &src) == JT_OK && same_account(&src, &target))
        return JT_temDST_IS_SRC;
    jt_amount lim;
    if (!get_amount(tx, FLD("LimitAmount"), &lim))
        return JT_temBAD_LIMIT;
    if (lim.native || lim.negative)
        return JT_temBAD_LIMIT;
    if (bad_currency(&lim))
        return JT_temBAD_CURRENCY;
    return JT_tesSUCCESS;
}

int jn_relation_set_apply(jn_txctx *c)
{
    jt_account_id target;
    jt_amount lim;
    if (jt_obj_get_account_f(c->tx, FLD("Target"), &target) != JT_OK ||
        !get_amount(c->tx, FLD("LimitAmount"), &lim))
        return JT_temMALFORMED;
    uint32_t type = (uint32_t)get_u(c->tx, FLD("RelationType"), 0);
    if (!read_account(c, &target))
        return JT_tecNO_TARGET;
    jt_obj *mr = peek_account(c, &c->account);
    if (!mr)
        return JT_tefINTERNAL;
    if (type == JN_REL_FREEZE && (get_u(mr, FLD("Flags"), 0) & JT_LSF_NO_FREEZE))
        return JT_tecNO_PERMISSION;
    uint8_t k[32];
    bool oom;
    jn_id_relation(&c->account, &target, type, &lim.currency, k);
    jt_obj *rel = jn_view_peek(c->sb, k, &oom);
    if (oom)
        return JT_tefINTERNAL;
    if (!rel) {
        uint64_t reserve = jn_reserve(c->env, jn_read_owner_count(mr) + 1);
        if (jn_read_balance(mr) < (int64_t)reserve)
            return JT_tecINSUFFICIENT_RESERVE;
        if (!(rel = jn_new_entry(c, "TrustState")))
            return JT_tefINTERNAL;
        set_acct(c, rel, FLD("Account"), &c->account);
        set_acct(c, rel, FLD("Target"), &target);
        set_u(c, rel, FLD("RelationType"), type);
        set_u(c, rel, FLD("Flags"), 0);
        /* In both owner directories, as skywelld's relationCreate puts it:
         * the owner's page is OwnerNode (and its side's LowNode or
         * HighNode), the target's its side's; only the owner counts it. */
        uint64_t owner_node, target_node;
        if (jn_owner_dir_add(c, &c->account, k, &owner_node) ||
            jn_owner_dir_add(c, &target, k, &target_node)) {
            jt_obj_free(rel);
            return JT_tefINTERNAL;
        }
        bool low = is_low(&c->account, &target);
        set_u(c, rel, FLD("OwnerNode"), owner_node);
        set_u(c, rel, FLD("LowNode"), low ? owner_node : target_node);
        set_u(c, rel, FLD("HighNode"), low ? target_node : owner_node);
        set_amt(c, rel, FLD("LimitAmount"), &lim);
        if (c->oom || jn_view_insert(c->sb, k, rel))
            return JT_tefINTERNAL;
        jn_adjust_owner_count(c, &c->account, +1);
    } else {
        set_amt(c, rel, FLD("LimitAmount"), &lim);
    }
    return c->oom ? JT_tefINTERNAL : JT_tesSUCCESS;
}

int jn_relation_del_apply(jn_txctx *c)
{
    jt_account_id target;
    jt_amount lim;
    if (jt_obj_get_account_f(c->tx, FLD("Target"), &target) != JT_OK ||
        !get_amount(c->tx, FLD("LimitAmount"), &lim))
        return JT_temMALFORMED;
    uint32_t type = (uint32_t)get_u(c->tx, FLD("RelationType"), 0);
    uint8_t k[32];
    jn_id_relation(&c->account, &target, type, &lim.currency, k);
    const jt_obj *rel = jn_view_read(c->sb, k);
    if (!rel)
        return JT_tecNO_ENTRY;
    /* Relations written before they were listed in the target's directory
     * too have no LowNode/HighNode. */
    const jt_field *tf = is_low(&target, &c->account) ? FLD("LowNode") : FLD("HighNode");
    if (jn_owner_dir_remove(c, &c->account, k, rel, FLD("OwnerNode")) ||
        (jt_obj_has_f(rel, tf) && jn_owner_dir_remove(c, &target, k, rel, tf)) ||
        jn_view_erase(c->sb, k))
        return JT_tefINTERNAL;
    jn_adjust_owner_count(c, &c->account, -1);
    return c->oom ? JT_tefINTERNAL : JT_tesSUCCESS;
}
