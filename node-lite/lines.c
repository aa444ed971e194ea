/*
 * lines.c — trust lines (SkywellState) in a transaction's sandbox: finding,
 * creating, changing and settling them (see engine.h).
 *
 * A side of a line "needs a reserve" while it holds anything but defaults;
 * its owner counts the line then, and a line neither side needs is deleted.
 */
#include "engine.h"

bool jn_line_get(jn_txctx *c, const jt_account_id *me, const jt_account_id *peer,
                 const jt_currency *cur, jn_line *l)
{
    bool oom;
    jn_id_line(me, peer, cur, l->key);
    l->low = is_low(me, peer);
    l->o = jn_view_peek(c->sb, l->key, &oom);
    if (oom)
        c->oom = true;
    return l->o != NULL;
}

void jn_line_set_balance(jn_txctx *c, jn_line *l, const jt_amount *mine)
{
    jt_amount b = *mine;
    if (!l->low)
        jt_amount_negate(&b);
    b.issuer = JT_ACCOUNT_ONE;
    set_amt(c, l->o, FLD("Balance"), &b);
}

bool jn_line_needs_reserve(jn_txctx *c, const jn_line *l, bool mine, const jt_account_id *who)
{
    jt_amount lim, bal;
    line_limit(l, mine, &lim);
    line_balance(l, &bal);
    if (!mine)
        jt_amount_negate(&bal);
    uint32_t f = line_flags(l);
    bool low = (l->low == mine);
    /* skywelld's SetTrust: a side's NoSkywell is in its default state when
     * it equals the account's DefaultSkywell (rippled has the reverse). */
    const jt_obj *r = read_account(c, who);
    bool ds = r && (get_u(r, FLD("Flags"), 0) & JT_LSF_DEFAULT_SKYWELL);
    bool ns = f & (low ? JT_LSF_LOW_NO_SKYWELL : JT_LSF_HIGH_NO_SKYWELL);
    return !jt_amount_is_zero(&lim) || jt_amount_sign(&bal) > 0 || ns != ds ||
           (f & (low ? JT_LSF_LOW_FREEZE : JT_LSF_HIGH_FREEZE)) ||
           (f & (low ? JT_LSF_LOW_AUTH : JT_LSF_HIGH_AUTH)) ||
           get_u(l->o, low ? FLD("LowQualityIn") : FLD("HighQualityIn"), 0) ||
           get_u(l->o, low ? FLD("LowQualityOut") : FLD("HighQualityOut"), 0);
}

static int settle(jn_txctx *c, jn_line *l, const jt_account_id *me, const jt_account_id *peer, int sides)
{
    uint32_t f = line_flags(l), nf = f;
    const jt_account_id *who[2] = {me, peer};
    for (int i = 0; i < sides; i++) {
        bool mine = (i == 0);
        uint32_t rf = side_flag(l, mine, JT_LSF_LOW_RESERVE, JT_LSF_HIGH_RESERVE);
        bool need = jn_line_needs_reserve(c, l, mine, who[i]);
        if (need && !(f & rf)) {
            nf |= rf;
            jn_adjust_owner_count(c, who[i], +1);
        } else if (!need && (f & rf)) {
            nf &= ~rf;
            jn_adjust_owner_count(c, who[i], -1);
        }
    }
    if (nf != f)
        set_u(c, l->o, FLD("Flags"), nf);
    jt_amount bal;
    line_balance(l, &bal);
    if (!(nf & (JT_LSF_LOW_RESERVE | JT_LSF_HIGH_RESERVE)) && jt_amount_is_zero(&bal)) {
        const jt_field *mine = l->low ? FLD("LowNode") : FLD("HighNode");
        const jt_field *theirs = l->low ? FLD("HighNode") : FLD("LowNode");
        if (jn_owner_dir_remove(c, me, l->key, l->o, mine) ||
            jn_owner_dir_remove(c, peer, l->key, l->o, theirs) || jn_view_erase(c->sb, l->key))
            return -1;
        l->o = NULL;
    }
    return c->oom ? -1 : 0;
}

int jn_line_create(jn_txctx *c, jn_line *l, const jt_account_id *me, const jt_account_id *peer,
                   const jt_amount *limit, uint32_t flags)
{
    jt_obj *o = jn_new_entry(c, "SkywellState");
    if (!o)
        return -1;
    const jt_account_id *lo = l->low ? me : peer, *hi = l->low ? peer : me;
    jt_amount bal, ll, hl;
    jt_amount_zero_like(&bal, limit);
    bal.issuer = JT_ACCOUNT_ONE;
    jt_amount_zero_like(&ll, limit);
    jt_amount_zero_like(&hl, limit);
    ll.issuer = *lo;
    hl.issuer = *hi;
    if (l->low) {
        ll = *limit;
        ll.issuer = *lo;
    } else {
        hl = *limit;
        hl.issuer = *hi;
    }
    set_amt(c, o, FLD("Balance"), &bal);
    set_amt(c, o, FLD("LowLimit"), &ll);
    set_amt(c, o, FLD("HighLimit"), &hl);
    set_u(c, o, FLD("Flags"), flags);
    uint64_t low_node, high_node;
    if (c->oom || jn_owner_dir_add(c, lo, l->key, &low_node) ||
        jn_owner_dir_add(c, hi, l->key, &high_node)) {
        jt_obj_free(o);
        return -1;
    }
    set_u(c, o, FLD("LowNode"), low_node);
    set_u(c, o, FLD("HighNode"), high_node);
    if (c->oom || jn_view_insert(c->sb, l->key, o))
        return -1;
    bool oom;
    l->o = jn_view_peek(c->sb, l->key, &oom);
    return l->o ? 0 : -1;
}

int jn_line_settle(jn_txctx *c, jn_line *l, const jt_account_id *me, const jt_account_id *peer)
{
    return settle(c, l, me, peer, 2);
}

int jn_line_settle_own(jn_txctx *c, jn_line *l, const jt_account_id *me, const jt_account_id *peer)
{
    return settle(c, l, me, peer, 1);
}

/* A new line from issuer `sender` to holder `receiver` holding amount. */
static int line_open(jn_txctx *c, const jt_account_id *sender, const jt_account_id *receiver,
                     const jt_amount *amount)
{
    jn_line l;
    jn_id_line(receiver, sender, &amount->currency, l.key);
    l.low = is_low(receiver, sender);
    l.o = NULL;
    jt_amount limit;
    jt_amount_zero_like(&limit, amount);
    limit.issuer = *receiver;
    if (jn_line_create(c, &l, receiver, sender, &limit,
                       l.low ? JT_LSF_LOW_RESERVE : JT_LSF_HIGH_RESERVE))
        return -1;
    jn_line_set_balance(c, &l, amount);
    jn_adjust_owner_count(c, receiver, +1);
    return c->oom ? -1 : 0;
}

int jn_line_credit(jn_txctx *c, const jt_account_id *sender, const jt_account_id *receiver,
                   const jt_amount *amount, bool open)
{
    uint8_t key[32];
    jn_id_line(sender, receiver, &amount->currency, key);
    const jt_obj *cur = jn_view_read(c->sb, key);
    if (!cur)
        return open ? line_open(c, sender, receiver, amount) : JN_CREDIT_NO_LINE;
    bool low = is_low(sender, receiver);
    jt_amount before, after;
    jn_read_line_balance(cur, low, &before);
    if (jt_amount_sub(&before, amount, &after) != JT_OK)
        return JN_CREDIT_RANGE;
    uint32_t f = (uint32_t)get_u(cur, FLD("Flags"), 0), nf = f;
    uint32_t reserve = low ? JT_LSF_LOW_RESERVE : JT_LSF_HIGH_RESERVE;
    bool release = false, drop = false;
    if (jt_amount_sign(&before) > 0 && jt_amount_sign(&after) <= 0 && (f & reserve)) {
        const jt_obj *sa = jn_read_account(c->sb, sender);
        bool default_skywell = sa && (get_u(sa, FLD("Flags"), 0) & JT_LSF_DEFAULT_SKYWELL);
        bool no_skywell = f & (low ? JT_LSF_LOW_NO_SKYWELL : JT_LSF_HIGH_NO_SKYWELL);
        jt_amount limit;
        jn_read_line_limit(cur, low, &limit);
        /* skywelld's test of the default NoSkywell state is the reverse of
         * rippled's (== where rippled has !=). */
        if (no_skywell == default_skywell && !(f & (low ? JT_LSF_LOW_FREEZE : JT_LSF_HIGH_FREEZE)) &&
            jt_amount_is_zero(&limit) &&
            !get_u(cur, low ? FLD("LowQualityIn") : FLD("HighQualityIn"), 0) &&
            !get_u(cur, low ? FLD("LowQualityOut") : FLD("HighQualityOut"), 0)) {
            release = true;
            nf &= ~reserve;
            drop = jt_amount_is_zero(&after) &&
                   !(f & (low ? JT_LSF_HIGH_RESERVE : JT_LSF_LOW_RESERVE));
        }
    }
    if (!release && !jt_amount_cmp(&before, &after))
        return 0; /* too small to change the balance */
    bool oom;
    jt_obj *o = jn_view_peek(c->sb, key, &oom);
    if (!o)
        return -1;
    jt_amount b = after;
    if (!low)
        jt_amount_negate(&b);
    b.issuer = JT_ACCOUNT_ONE;
    set_amt(c, o, FLD("Balance"), &b);
    if (nf != f)
        set_u(c, o, FLD("Flags"), nf);
    if (release)
        jn_adjust_owner_count(c, sender, -1);
    if (drop) {
        const jt_account_id *lo = low ? sender : receiver, *hi = low ? receiver : sender;
        if (jn_owner_dir_remove(c, lo, key, o, FLD("LowNode")) ||
            jn_owner_dir_remove(c, hi, key, o, FLD("HighNode")) || jn_view_erase(c->sb, key))
            return -1;
    }
    return c->oom ? -1 : 0;
}
