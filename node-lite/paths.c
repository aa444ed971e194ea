/*
 * paths.c — the payment engine (paths.h): skywelld's SkywellCalc, PathState
 * and path cursor (rippled ~0.27's RippleCalc) over the engine's views.
 *
 * Vocabulary, as skywelld's: a path is a list of nodes; an account node
 * holds an issue (currency and issuer) and passes it on by redeeming (the
 * next holds its IOUs and takes them back) or issuing (it gives its own);
 * an offer node is a book whose offers deliver its issue for the previous
 * node's. Each node records what the reverse pass asked of it (rev_*) and
 * what the forward pass moved (fwd_*).
 *
 * Amounts carry their currency; issuers inside the calculation are
 * skywelld's (a node's own account for redeem/issue amounts) and are only
 * looked at where skywelld looks at them (a send between accounts).
 */
#include <stdlib.h>

#include "paths.h"

/* skywelld's Tuning.h */
#define DELIVER_MAX_LOOPS 40
#define ADVANCE_MAX_LOOPS 100
#define PAYMENT_MAX_LOOPS 1000

#define MAX_NODES 40

typedef struct issue {
    jt_currency cur;    /* zero: SWT */
    jt_account_id acct; /* zero: SWT */
} issue;

typedef struct node {
    unsigned type; /* JN_PATH_* */
    jt_account_id account; /* zero for a book */
    issue is;
    jt_amount rate; /* the issuer's transfer rate as a number (reverse pass) */
    jt_amount rev_redeem, rev_issue, rev_deliver;
    jt_amount fwd_redeem, fwd_issue, fwd_deliver;
    jt_amount rate_max; /* zero: unset */
    /* The book: the quality directory being read (NodeDirectory). */
    uint8_t dir[32];
    bool dir_set, adv_needed, restart_needed;
    jn_dir_cursor dc;
    jt_amount ofr_rate;
    bool entry_advance, funds_dirty, has_offer;
    uint8_t offer[32];
    jt_account_id owner;
    jt_amount funds, pays, gets;
} node;

typedef struct akey {
    jt_account_id a;
    issue is;
    size_t idx;
} akey;

typedef struct keys {
    uint8_t (*k)[32];
    size_t n, cap;
} keys;

typedef struct akeys {
    akey *k;
    size_t n, cap;
} akeys;

typedef struct pstate {
    node *nodes; /* grown as the path is expanded: most paths have a few */
    size_t n, cap;
    int status;
    uint64_t quality; /* 0: dry */
    size_t index;
    jt_amount in_req, in_act, in_pass, out_req, out_act, out_pass;
    bool all_consumed;
    keys unfunded;
    akeys fwd, rev;
    jn_view view;
    jn_txctx vc; /* the transaction over view */
} pstate;

typedef struct calc {
    jn_txctx *c;
    const jn_ripple_in *in;
    keys perm_unfunded;
    akeys mum;
    pstate *ps[1 + JN_MAX_PATHS];
    size_t n_ps;
    bool bad;  /* an amount out of range: skywelld throws */
    bool fail; /* ENOMEM */
} calc;

typedef struct cursor {
    calc *rc;
    pstate *ps;
    bool multi;
    size_t i;
} cursor;

/* ---------------------------------------------------------------- amounts */

static const jt_account_id NO_ACCOUNT;

static bool is_swt_cur(const jt_currency *c)
{
    static const jt_currency z;
    return memcmp(c, &z, sizeof z) == 0;
}

static bool is_zero_acct(const jt_account_id *a)
{
    return memcmp(a, &NO_ACCOUNT, sizeof *a) == 0;
}

static bool same_issue(const issue *a, const issue *b)
{
    return !memcmp(&a->cur, &b->cur, 20) && same_account(&a->acct, &b->acct);
}

/* Zero of an issue (SWT: native). */
static jt_amount zero_of(const issue *is)
{
    jt_amount a;
    memset(&a, 0, sizeof a);
    a.native = is_swt_cur(&is->cur);
    a.currency = is->cur;
    a.issuer = is->acct;
    return a;
}

static jt_amount zero_cur(const jt_currency *cur, const jt_account_id *iss)
{
    issue is = {*cur, *iss};
    return zero_of(&is);
}

static jt_amount zeroed(const jt_amount *like)
{
    jt_amount a;
    jt_amount_zero_like(&a, like);
    return a;
}

/* STAmount(issue, -1): "no limit". */
static jt_amount minus_one(const jt_amount *like)
{
    jt_amount a = *like;
    if (like->native) {
        jt_amount_native(&a, -1);
        a.currency = like->currency;
        a.issuer = like->issuer;
    } else {
        (void)jt_amount_from_mantissa(&a, -1, 0, &like->currency, &like->issuer);
    }
    return a;
}

static inline bool nz(const jt_amount *a)
{
    return !jt_amount_is_zero(a);
}

static inline int sgn(const jt_amount *a)
{
    return jt_amount_sign(a);
}

/* Value comparison; an issued zero and a native zero compare equal, as
 * skywelld's comparisons with zero do. */
static int cmp(const jt_amount *a, const jt_amount *b)
{
    if (a->native != b->native) {
        int sa = sgn(a), sb = sgn(b);
        return sa < sb ? -1 : sa > sb;
    }
    return jt_amount_cmp(a, b);
}

static inline bool eq(const jt_amount *a, const jt_amount *b)
{
    return cmp(a, b) == 0;
}

static jt_amount amin(const jt_amount *a, const jt_amount *b)
{
    return cmp(a, b) <= 0 ? *a : *b;
}

static jt_amount add(calc *rc, const jt_amount *a, const jt_amount *b)
{
    jt_amount o;
    if (jt_amount_is_zero(b))
        return *a;
    if (jt_amount_is_zero(a) && a->native == b->native) {
        o = *b;
        o.currency = a->currency;
        o.issuer = a->issuer;
        return o;
    }
    if (jt_amount_add(a, b, &o) != JT_OK) {
        rc->bad = true;
        return *a;
    }
    return o;
}

static jt_amount sub(calc *rc, const jt_amount *a, const jt_amount *b)
{
    jt_amount nb = *b;
    jt_amount_negate(&nb);
    return add(rc, a, &nb);
}

static jt_amount like_of(const jt_amount *a)
{
    return zeroed(a);
}

static jt_amount mulr(calc *rc, const jt_amount *a, const jt_amount *b, const jt_amount *like, bool up)
{
    jt_amount o;
    if (jt_amount_mul_round(a, b, like, up, &o) != JT_OK) {
        rc->bad = true;
        return zeroed(like);
    }
    return o;
}

static jt_amount divr(calc *rc, const jt_amount *a, const jt_amount *b, const jt_amount *like, bool up)
{
    jt_amount o;
    if (jt_amount_div_round(a, b, like, up, &o) != JT_OK) {
        rc->bad = true;
        return zeroed(like);
    }
    return o;
}

static jt_amount number_u(uint64_t v)
{
    /* STAmount(uint64): a native amount, used by skywelld as a plain number. */
    jt_amount a;
    jt_amount_native(&a, (int64_t)v);
    return a;
}

static uint64_t rate_one(void)
{
    jt_amount one = number_u(1);
    return jt_amount_rate(&one, &one);
}

/* ---------------------------------------------------------------- small sets */

static bool keys_has(const keys *s, const uint8_t k[32])
{
    for (size_t i = 0; i < s->n; i++)
        if (!memcmp(s->k[i], k, 32))
            return true;
    return false;
}

static void keys_add(calc *rc, keys *s, const uint8_t k[32], bool unique)
{
    if (unique && keys_has(s, k))
        return;
    if (s->n == s->cap) {
        size_t nc = s->cap ? 2 * s->cap : 8;
        void *p = realloc(s->k, nc * 32);
        if (!p) {
            rc->fail = true;
            return;
        }
        s->k = p;
        s->cap = nc;
    }
    memcpy(s->k[s->n++], k, 32);
}

static const akey *akeys_find(const akeys *s, const jt_account_id *a, const issue *is)
{
    for (size_t i = 0; i < s->n; i++)
        if (same_account(&s->k[i].a, a) && same_issue(&s->k[i].is, is))
            return &s->k[i];
    return NULL;
}

/* Inserts unless present (std::map::insert); false when it was present. */
static bool akeys_insert(calc *rc, akeys *s, const jt_account_id *a, const issue *is, size_t idx)
{
    if (akeys_find(s, a, is))
        return false;
    if (s->n == s->cap) {
        size_t nc = s->cap ? 2 * s->cap : 8;
        void *p = realloc(s->k, nc * sizeof *s->k);
        if (!p) {
            rc->fail = true;
            return true;
        }
        s->k = p;
        s->cap = nc;
    }
    s->k[s->n].a = *a;
    s->k[s->n].is = *is;
    s->k[s->n].idx = idx;
    s->n++;
    return true;
}

/* ---------------------------------------------------------------- ledger reads */

static bool read_line(const jn_view *v, const jt_account_id *a, const jt_account_id *b,
                      const jt_currency *cur, const jt_obj **o)
{
    uint8_t k[32];
    jn_id_line(a, b, cur, k);
    *o = jn_view_read(v, k);
    return *o != NULL;
}

/* skywelld's creditBalance(a, b): what b holds of a's IOUs (a owes b). */
static jt_amount credit_balance(const jn_view *v, const jt_account_id *a, const jt_account_id *b,
                                const jt_currency *cur)
{
    jt_amount r = zero_cur(cur, a);
    const jt_obj *l;
    if (read_line(v, a, b, cur, &l)) {
        jn_read_line_balance(l, is_low(a, b), &r);
        jt_amount_negate(&r);
        r.currency = *cur;
        r.issuer = *a;
    }
    return r;
}

/* skywelld's creditLimit(a, b): a's limit on its line with b. */
static jt_amount credit_limit(const jn_view *v, const jt_account_id *a, const jt_account_id *b,
                              const jt_currency *cur)
{
    jt_amount r = zero_cur(cur, a);
    const jt_obj *l;
    if (read_line(v, a, b, cur, &l)) {
        jn_read_line_limit(l, is_low(a, b), &r);
        r.currency = *cur;
        r.issuer = *a;
        jt_amount cap; /* jt-node's authorize relation: authorized up to its limit */
        if (jn_read_auth_cap(v, a, b, cur, &cap)) {
            cap.currency = *cur;
            cap.issuer = *a;
            if (jt_amount_cmp(&cap, &r) < 0)
                r = cap;
        }
    }
    return r;
}

static uint32_t line_quality(const jn_view *v, const jt_account_id *to, const jt_account_id *from,
                             const jt_currency *cur, bool in)
{
    if (same_account(to, from))
        return JT_QUALITY_ONE;
    const jt_obj *l;
    if (!read_line(v, to, from, cur, &l))
        return JT_QUALITY_ONE;
    bool low = is_low(to, from);
    const jt_field *f = in ? (low ? FLD("LowQualityIn") : FLD("HighQualityIn"))
                           : (low ? FLD("LowQualityOut") : FLD("HighQualityOut"));
    uint64_t q;
    if (jt_obj_get_uint_f(l, f, &q) != JT_OK)
        return JT_QUALITY_ONE;
    return q ? (uint32_t)q : 1;
}

static uint32_t transfer_rate(const jn_view *v, const jt_account_id *issuer)
{
    if (is_zero_acct(issuer))
        return JT_QUALITY_ONE;
    return jn_read_transfer_rate(v, issuer);
}

static jt_amount rate_number(uint32_t r)
{
    jt_amount a;
    jt_amount_from_transfer_rate(r, &a);
    return a;
}

/* ---------------------------------------------------------------- sends (skywelld's LedgerEntrySet) */

/* skywelld's skywellCredit (jn_line_credit), a holder without a line
 * getting one. */
static int ripple_credit(calc *rc, jn_txctx *v, const jt_account_id *sender,
                         const jt_account_id *receiver, const jt_amount *amount)
{
    int r = jn_line_credit(v, sender, receiver, amount, true);
    if (r == JN_CREDIT_RANGE) {
        rc->bad = true;
        return JT_tefEXCEPTION;
    }
    return r ? JT_tefINTERNAL : JT_tesSUCCESS;
}

/* skywelld's accountSend: SWT between balances (a zero account is the
 * other side of a book and is not changed), or an IOU through skywellSend
 * (the issuer's transfer fee charged to the sender when neither side is
 * the issuer). */
static int account_send(calc *rc, jn_txctx *v, const jt_account_id *from, const jt_account_id *to,
                        const jt_amount *amount)
{
    if (jt_amount_is_zero(amount) || same_account(from, to))
        return JT_tesSUCCESS;
    if (!amount->native) {
        const jt_account_id *iss = &amount->issuer;
        if (same_account(from, iss) || same_account(to, iss))
            return ripple_credit(rc, v, from, to, amount);
        uint32_t tr = transfer_rate(v->sb, iss);
        jt_amount actual = *amount;
        if (tr != JT_QUALITY_ONE) {
            jt_amount r = rate_number(tr), total, fee;
            if (jt_amount_mul(amount, &r, amount, &total) != JT_OK) {
                rc->bad = true;
                return JT_tefEXCEPTION;
            }
            fee = sub(rc, &total, amount);
            actual = add(rc, amount, &fee);
            actual.issuer = *iss;
        }
        int r = ripple_credit(rc, v, iss, to, amount);
        if (r == JT_tesSUCCESS)
            r = ripple_credit(rc, v, from, iss, &actual);
        return r;
    }
    int64_t drops = jt_amount_drops(amount);
    if (!is_zero_acct(from)) {
        jt_obj *s = peek_account(v, from);
        if (!s)
            return JT_tefINTERNAL;
        int64_t have = jn_read_balance(s);
        if (have < drops)
            return JT_tecFAILED_PROCESSING;
        set_balance(v, s, have - drops);
    }
    if (!is_zero_acct(to)) {
        jt_obj *r = peek_account(v, to);
        if (!r)
            return JT_tefINTERNAL;
        set_balance(v, r, jn_read_balance(r) + drops);
    }
    return v->oom ? JT_tefINTERNAL : JT_tesSUCCESS;
}

/* ---------------------------------------------------------------- path expansion (PathState) */

static int push_node(calc *rc, pstate *ps, unsigned type, const jt_account_id *account,
                     const jt_currency *cur, const jt_account_id *iss);

static int push_implied(calc *rc, pstate *ps, const jt_account_id *account, const jt_currency *cur,
                        const jt_account_id *iss)
{
    int r = JT_tesSUCCESS;
    const node *back = &ps->nodes[ps->n - 1];
    if (memcmp(&back->is.cur, cur, 20) != 0) {
        unsigned t = is_swt_cur(cur) ? JN_PATH_CURRENCY : (JN_PATH_CURRENCY | JN_PATH_ISSUER);
        r = push_node(rc, ps, t, &NO_ACCOUNT, cur, iss);
    }
    back = &ps->nodes[ps->n - 1];
    if (r == JT_tesSUCCESS && !is_swt_cur(cur) && !same_account(&back->account, iss) &&
        !same_account(account, iss))
        r = push_node(rc, ps, JN_PATH_ALL, iss, cur, iss);
    return r;
}

/* Adds a node to the path (the array grows by doubling, up to MAX_NODES). */
static int append_node(calc *rc, pstate *ps, const node *nd)
{
    if (ps->n >= MAX_NODES)
        return JT_temBAD_PATH;
    if (ps->n == ps->cap) {
        size_t nc = ps->cap ? ps->cap * 2 : 4;
        if (nc > MAX_NODES)
            nc = MAX_NODES;
        node *nv = realloc(ps->nodes, nc * sizeof *nv);
        if (!nv) {
            rc->fail = true;
            return JT_tefINTERNAL;
        }
        ps->nodes = nv;
        ps->cap = nc;
    }
    ps->nodes[ps->n++] = *nd;
    return JT_tesSUCCESS;
}

static int push_node(calc *rc, pstate *ps, unsigned type, const jt_account_id *account,
                     const jt_currency *cur, const jt_account_id *iss)
{
    if (ps->n >= MAX_NODES)
        return JT_temBAD_PATH;
    const jn_view *v = rc->c->sb;
    node nd;
    memset(&nd, 0, sizeof nd);
    bool empty = ps->n == 0;
    node back;
    if (empty)
        memset(&back, 0, sizeof back);
    else
        back = ps->nodes[ps->n - 1];
    bool has_acct = type & JN_PATH_ACCOUNT, has_cur = type & JN_PATH_CURRENCY,
         has_iss = type & JN_PATH_ISSUER;
    int r = JT_tesSUCCESS;
    nd.type = type;
    nd.is.cur = has_cur ? *cur : back.is.cur;
    if (type & ~JN_PATH_ALL)
        return JT_temBAD_PATH;
    if (has_iss && is_swt_cur(&nd.is.cur))
        return JT_temBAD_PATH;
    if (has_iss && is_zero_acct(iss))
        return JT_temBAD_PATH;
    if (!has_acct && !has_cur && !has_iss)
        return JT_temBAD_PATH;
    if (has_acct) {
        nd.account = *account;
        nd.is.acct = has_iss ? *iss : (is_swt_cur(&nd.is.cur) ? NO_ACCOUNT : *account);
        nd.rev_redeem = zero_cur(&nd.is.cur, account);
        nd.rev_issue = nd.rev_redeem;
        nd.rev_deliver = zero_of(&nd.is);
        nd.fwd_deliver = nd.rev_deliver;
        nd.fwd_redeem = nd.rev_redeem;
        nd.fwd_issue = nd.rev_redeem;
        if (!empty) {
            if (is_zero_acct(account))
                r = JT_temBAD_PATH;
            else
                r = push_implied(rc, ps, &nd.account, &nd.is.cur,
                                 is_swt_cur(&nd.is.cur) ? &NO_ACCOUNT : account);
        }
        if (r == JT_tesSUCCESS && ps->n) {
            const node *bk = &ps->nodes[ps->n - 1];
            if (bk->type & JN_PATH_ACCOUNT) {
                const jt_obj *l;
                if (!read_line(v, &bk->account, &nd.account, &bk->is.cur, &l)) {
                    r = JT_terNO_LINE;
                } else {
                    const jt_obj *ba = jn_read_account(v, &bk->account);
                    jt_amount bal;
                    jn_read_line_balance(l, true, &bal);
                    if (!ba) {
                        r = JT_terNO_ACCOUNT;
                    } else if (jn_read_auth_required(v, &nd.account, &bk->account) &&
                               !jn_read_authorized(v, &nd.account, &bk->account, &bk->is.cur, NULL) &&
                               jt_amount_is_zero(&bal)) {
                        r = JT_terNO_AUTH;
                    }
                    if (r == JT_tesSUCCESS) {
                        jt_amount owed = credit_balance(v, &nd.account, &bk->account, &nd.is.cur);
                        if (sgn(&owed) <= 0) {
                            jt_amount lim = credit_limit(v, &nd.account, &bk->account, &nd.is.cur);
                            jt_amount neg = owed;
                            jt_amount_negate(&neg);
                            if (cmp(&neg, &lim) >= 0)
                                r = JT_tecPATH_DRY;
                        }
                    }
                }
            }
        }
        if (r == JT_tesSUCCESS)
            r = append_node(rc, ps, &nd);
        return r;
    }
    if (has_iss)
        nd.is.acct = *iss;
    else if (is_swt_cur(&nd.is.cur))
        nd.is.acct = NO_ACCOUNT;
    else if (is_zero_acct(&back.is.acct))
        nd.is.acct = back.account;
    else
        nd.is.acct = back.is.acct;
    nd.rate_max = number_u(0);
    nd.rev_deliver = zero_of(&nd.is);
    nd.fwd_deliver = nd.rev_deliver;
    if (is_swt_cur(&nd.is.cur) != is_zero_acct(&nd.is.acct))
        r = JT_temBAD_PATH;
    else if (same_issue(&back.is, &nd.is))
        r = JT_temBAD_PATH;
    else
        r = push_implied(rc, ps, &NO_ACCOUNT, &back.is.cur, &back.is.acct);
    if (r == JT_tesSUCCESS) {
        if (ps->n >= MAX_NODES)
            return JT_temBAD_PATH;
        r = append_node(rc, ps, &nd);
    }
    return r;
}

static int expand_path(calc *rc, pstate *ps, const jn_path *path)
{
    const jn_ripple_in *in = rc->in;
    const jt_currency *max_cur = &in->max_in.currency, *out_cur = &in->dst_amount.currency;
    jt_account_id max_iss = in->max_in.native ? NO_ACCOUNT : in->max_in.issuer;
    jt_account_id out_iss = in->dst_amount.native ? NO_ACCOUNT : in->dst_amount.issuer;
    jt_currency swt;
    memset(&swt, 0, sizeof swt);
    if (in->max_in.native)
        max_cur = &swt;
    if (in->dst_amount.native)
        out_cur = &swt;
    const jt_account_id *sender_iss = is_swt_cur(max_cur) ? &NO_ACCOUNT : &in->src;
    ps->quality = 1;
    int r = JT_tesSUCCESS;
    unsigned acct_type_max = is_swt_cur(max_cur) ? (JN_PATH_ACCOUNT | JN_PATH_CURRENCY) : JN_PATH_ALL;
    unsigned acct_type_out = is_swt_cur(out_cur) ? (JN_PATH_ACCOUNT | JN_PATH_CURRENCY) : JN_PATH_ALL;
    r = push_node(rc, ps, acct_type_max, &in->src, max_cur, sender_iss);
    if (r == JT_tesSUCCESS && !same_account(&max_iss, sender_iss)) {
        const jt_currency *nxt_cur = path->n ? &path->e[0].currency : out_cur;
        jt_account_id nxt_acct;
        if (path->n)
            nxt_acct = path->e[0].account;
        else if (!is_swt_cur(out_cur))
            nxt_acct = same_account(&out_iss, &in->dst) ? in->dst : out_iss;
        else
            nxt_acct = NO_ACCOUNT;
        if (is_swt_cur(nxt_cur) || memcmp(max_cur, nxt_cur, 20) || !same_account(&max_iss, &nxt_acct))
            r = push_node(rc, ps, acct_type_max, &max_iss, max_cur, &max_iss);
    }
    for (size_t i = 0; i < path->n && r == JT_tesSUCCESS; i++)
        r = push_node(rc, ps, path->e[i].type, &path->e[i].account, &path->e[i].currency,
                      &path->e[i].issuer);
    if (r == JT_tesSUCCESS && !is_swt_cur(out_cur) && !same_account(&out_iss, &in->dst)) {
        const node *bk = &ps->nodes[ps->n - 1];
        if (memcmp(&bk->is.cur, out_cur, 20) || !same_account(&bk->account, &out_iss))
            r = push_node(rc, ps, acct_type_out, &out_iss, out_cur, &out_iss);
    }
    if (r == JT_tesSUCCESS)
        r = push_node(rc, ps, acct_type_out, &in->dst, out_cur, &in->dst);
    if (r == JT_tesSUCCESS) {
        for (size_t i = 0; i < ps->n; i++) {
            if (!akeys_insert(rc, &ps->fwd, &ps->nodes[i].account, &ps->nodes[i].is, i)) {
                r = JT_temBAD_PATH_LOOP;
                break;
            }
        }
    }
    return r;
}

static void check_freeze(calc *rc, pstate *ps)
{
    const jn_view *v = rc->c->sb;
    if (ps->n == 2)
        return;
    for (size_t i = 0; i + 1 < ps->n; i++) {
        const node *nd = &ps->nodes[i];
        if ((nd->type & JN_PATH_ISSUER) && jn_read_global_freeze(v, &nd->is.acct)) {
            ps->status = JT_terNO_LINE;
            return;
        }
        if (nd->type & JN_PATH_ACCOUNT) {
            const jt_account_id *a = &nd->account, *b = &ps->nodes[i + 1].account;
            if (!same_account(a, b) && !is_zero_acct(b) &&
                (jn_read_global_freeze(v, b) || jn_read_frozen(v, a, b, &nd->is.cur))) {
                ps->status = JT_terNO_LINE;
                return;
            }
        }
    }
}

static int no_ripple3(calc *rc, pstate *ps, const jt_account_id *a, const jt_account_id *b,
                      const jt_account_id *c, const jt_currency *cur)
{
    const jn_view *v = rc->c->sb;
    const jt_obj *l1, *l2;
    if (!read_line(v, a, b, cur, &l1) || !read_line(v, b, c, cur, &l2))
        return ps->status = JT_terNO_LINE;
    uint32_t f1 = (uint32_t)get_u(l1, FLD("Flags"), 0), f2 = (uint32_t)get_u(l2, FLD("Flags"), 0);
    if ((f1 & (is_low(a, b) ? JT_LSF_HIGH_NO_SKYWELL : JT_LSF_LOW_NO_SKYWELL)) &&
        (f2 & (is_low(c, b) ? JT_LSF_HIGH_NO_SKYWELL : JT_LSF_LOW_NO_SKYWELL)))
        ps->status = JT_terNO_SKYWELL;
    return ps->status;
}

static int check_no_ripple(calc *rc, pstate *ps)
{
    const jt_account_id *src = &rc->in->src, *dst = &rc->in->dst;
    node *n = ps->nodes;
    if (ps->n == 0)
        return ps->status;
    if (ps->n == 1) {
        if ((n[0].type & JN_PATH_ACCOUNT) && !same_account(&n[0].account, src) &&
            !same_account(&n[0].account, dst)) {
            if (memcmp(&rc->in->max_in.currency, &rc->in->dst_amount.currency, 20))
                ps->status = JT_terNO_LINE;
            else
                no_ripple3(rc, ps, src, &n[0].account, dst, &n[0].is.cur);
        }
        return ps->status;
    }
    if ((n[0].type & JN_PATH_ACCOUNT) && (n[1].type & JN_PATH_ACCOUNT) &&
        !same_account(&n[0].account, src)) {
        if (memcmp(&n[0].is.cur, &n[1].is.cur, 20))
            return ps->status = JT_terNO_LINE;
        if (no_ripple3(rc, ps, src, &n[0].account, &n[1].account, &n[0].is.cur))
            return ps->status;
    }
    size_t s = ps->n - 2;
    if ((n[s].type & JN_PATH_ACCOUNT) && (n[s + 1].type & JN_PATH_ACCOUNT) &&
        !same_account(dst, &n[s + 1].account)) {
        if (memcmp(&n[s].is.cur, &n[s + 1].is.cur, 20))
            return ps->status = JT_terNO_LINE;
        if (no_ripple3(rc, ps, &n[s].account, &n[s + 1].account, dst, &n[s].is.cur))
            return ps->status;
    }
    for (size_t i = 1; i + 1 < ps->n; i++) {
        if ((n[i - 1].type & JN_PATH_ACCOUNT) && (n[i].type & JN_PATH_ACCOUNT) &&
            (n[i + 1].type & JN_PATH_ACCOUNT)) {
            const jt_currency *cur = &n[i].is.cur;
            if (memcmp(&n[i - 1].is.cur, cur, 20) || memcmp(&n[i + 1].is.cur, cur, 20))
                return ps->status = JT_temBAD_PATH;
            if (no_ripple3(rc, ps, &n[i - 1].account, &n[i].account, &n[i + 1].account, cur))
                return ps->status;
        }
    }
    return JT_tesSUCCESS;
}

/* ---------------------------------------------------------------- cursor helpers */

static inline node *cur_node(const cursor *k)
{
    return &k->ps->nodes[k->i];
}

static inline node *prev_node(const cursor *k)
{
    return &k->ps->nodes[k->i ? k->i - 1 : 0];
}

static inline node *next_node(const cursor *k)
{
    return &k->ps->nodes[k->i + 1 < k->ps->n ? k->i + 1 : k->ps->n - 1];
}

static inline bool is_acct(const node *n)
{
    return n->type & JN_PATH_ACCOUNT;
}

static inline jn_txctx *led(const cursor *k)
{
    return &k->ps->vc;
}

/* skywelld's skywellLiquidity: moves up to what prv (with what is used so
 * far in prv_act) can give and cur (cur_act) still wants, at the rate
 * q_in/q_out, no worse than *rate_max. skywelld also credits a fee account
 * with the difference of in and out; jt-node has no fee account. */
static void liquidity(calc *rc, uint32_t q_in, uint32_t q_out, const jt_amount *prv_req,
                      const jt_amount *cur_req, jt_amount *prv_act, jt_amount *cur_act,
                      uint64_t *rate_max)
{
    bool unlimited = sgn(prv_req) < 0;
    jt_amount prv = unlimited ? *prv_req : sub(rc, prv_req, prv_act);
    jt_amount curv = sub(rc, cur_req, cur_act);
    if (!nz(&prv) || !nz(&curv))
        return;
    if (q_in >= q_out) {
        uint64_t one = rate_one();
        if (!*rate_max || one <= *rate_max) {
            jt_amount t = unlimited ? curv : amin(&prv, &curv);
            *prv_act = add(rc, prv_act, &t);
            *cur_act = add(rc, cur_act, &t);
            if (!*rate_max)
                *rate_max = one;
        }
    } else {
        jt_amount qo = number_u(q_out), qi = number_u(q_in);
        uint64_t rate = jt_amount_rate(&qo, &qi);
        if (!*rate_max || rate <= *rate_max) {
            jt_amount like = like_of(&curv);
            jt_amount num = mulr(rc, &curv, &qo, &like, true);
            jt_amount cur_in = divr(rc, &num, &qi, &like, true);
            if (unlimited || cmp(&cur_in, &prv) <= 0) {
                *cur_act = add(rc, cur_act, &curv);
                *prv_act = add(rc, prv_act, &cur_in);
            } else {
                jt_amount num2 = mulr(rc, &prv, &qi, &like, true);
                jt_amount cur_out = divr(rc, &num2, &qo, &like, true);
                *cur_act = add(rc, cur_act, &cur_out);
                *prv_act = *prv_req;
            }
            if (!*rate_max)
                *rate_max = rate;
        }
    }
}

/* ---------------------------------------------------------------- books (AdvanceNode) */

static void dir_restart(node *n, bool multi)
{
    if (multi)
        n->dir_set = false;
    else
        n->restart_needed = true;
}

static uint64_t dir_quality(const uint8_t dir[32])
{
    uint64_t q = 0;
    for (int i = 24; i < 32; i++)
        q = q << 8 | dir[i];
    return q;
}

/* NodeDirectory::initialize: true when the directory was (re)set. */
static bool dir_init(const cursor *k, node *n)
{
    if (n->dir_set)
        return false;
    const node *p = prev_node(k);
    jn_id_book_base(&p->is.cur, &p->is.acct, &n->is.cur, &n->is.acct, n->dir);
    n->dir_set = true;
    bool have = jn_view_read(led(k)->sb, n->dir) != NULL;
    n->adv_needed = !have;
    n->restart_needed = false;
    return have;
}

enum { NO_ADVANCE, NEW_QUALITY, END_ADVANCE };

static int dir_advance(const cursor *k, node *n)
{
    if (!(n->adv_needed || n->restart_needed))
        return NO_ADVANCE;
    bool end = false;
    if (n->adv_needed) {
        uint8_t from[32], last[32], out[32];
        memcpy(from, n->dir, 32);
        /* From the book's base (quality 0, where no directory is) the
         * lookup starts at the base itself: a lookup from the start of a
         * book is served by the views' memo of where the book starts, past
         * the directories this ledger already emptied, instead of stepping
         * over each of them again. */
        bool base = true;
        for (int b = 24; b < 32 && base; b++)
            base = from[b] == 0;
        int i = 31;
        if (base && !jn_view_read(led(k)->sb, from))
            i = 24;
        else
            while (i >= 24 && ++from[i] == 0)
                i--;
        memcpy(last, n->dir, 24);
        memset(last + 24, 0xFF, 8);
        if (i < 24 || !jn_view_book_next(led(k)->sb, from, last, out))
            end = true;
        else
            memcpy(n->dir, out, 32);
    }
    n->adv_needed = n->restart_needed = false;
    if (end) {
        /* current = 0: the next initialize starts from the book again. */
        n->dir_set = false;
        return END_ADVANCE;
    }
    return NEW_QUALITY;
}

static int advance_node(cursor *kin, const jt_amount *amount, bool reverse)
{
    cursor kk = *kin;
    kk.multi = kin->multi || jt_amount_is_zero(amount);
    cursor *k = &kk;
    calc *rc = k->rc;
    node *n = cur_node(k);
    jn_txctx *v = led(k);
    int r = JT_tesSUCCESS;
    int loops = 0;
    do {
        if (++loops > ADVANCE_MAX_LOOPS)
            return JT_tefEXCEPTION;
        bool dirty = dir_init(k, n);
        int adv = dir_advance(k, n);
        if (adv != NO_ADVANCE) {
            dirty = true;
            if (adv == NEW_QUALITY) {
            } else if (reverse) {
                n->has_offer = false;
                break;
            } else {
                return JT_tecFAILED_PROCESSING;
            }
        }
        if (dirty) {
            if (jt_amount_from_rate(dir_quality(n->dir), &n->ofr_rate) != JT_OK) {
                rc->bad = true;
                return JT_tefEXCEPTION;
            }
            memset(&n->dc, 0, sizeof n->dc);
            n->entry_advance = true;
        }
        if (!n->entry_advance) {
            if (n->funds_dirty) {
                const jt_obj *o = jn_view_read(v->sb, n->offer);
                if (o) {
                    (void)get_amount(o, FLD("TakerPays"), &n->pays);
                    (void)get_amount(o, FLD("TakerGets"), &n->gets);
                }
                jn_read_offer_funds(v->sb, v->env, &n->owner, &n->gets, &n->funds);
                n->funds_dirty = false;
            }
        } else if (!jn_dir_next(v->sb, n->dir, &n->dc, n->offer)) {
            if (k->multi) {
                n->adv_needed = true;
            } else if (!reverse) {
                return JT_tecFAILED_PROCESSING;
            } else {
                n->entry_advance = false;
                n->has_offer = false;
            }
        } else {
            n->has_offer = true;
            const jt_obj *o = jn_view_read(v->sb, n->offer);
            if (!o) {
                n->entry_advance = true; /* a directory naming a missing offer */
                continue;
            }
            if (jt_obj_get_account_f(o, FLD("Account"), &n->owner) != JT_OK ||
                !get_amount(o, FLD("TakerPays"), &n->pays) || !get_amount(o, FLD("TakerGets"), &n->gets))
                return JT_tefEXCEPTION;
            uint64_t exp;
            if (jt_obj_get_uint_f(o, FLD("Expiration"), &exp) == JT_OK &&
                exp <= v->env->parent_close_time) {
                keys_add(rc, &rc->perm_unfunded, n->offer, true);
                continue;
            }
            if (sgn(&n->pays) <= 0 || sgn(&n->gets) <= 0) {
                if (reverse)
                    keys_add(rc, &rc->perm_unfunded, n->offer, true);
                else if (!keys_has(&rc->perm_unfunded, n->offer))
                    r = JT_tefEXCEPTION;
                continue;
            }
            bool owner_is_issuer = same_account(&n->owner, &n->is.acct);
            const akey *f = akeys_find(&k->ps->fwd, &n->owner, &n->is);
            if (f && f->idx != k->i && !owner_is_issuer)
                continue;
            const akey *rv = akeys_find(&k->ps->rev, &n->owner, &n->is);
            if (rv && rv->idx != k->i && !owner_is_issuer)
                continue;
            bool past = akeys_find(&rc->mum, &n->owner, &n->is) != NULL;
            jn_read_offer_funds(v->sb, v->env, &n->owner, &n->gets, &n->funds);
            if (sgn(&n->funds) <= 0) {
                if (reverse && !rv && !past)
                    keys_add(rc, &rc->perm_unfunded, n->offer, true);
                continue;
            }
            if (reverse && !past && !rv)
                akeys_insert(rc, &k->ps->rev, &n->owner, &n->is, k->i);
            n->funds_dirty = false;
            n->entry_advance = false;
        }
    } while (r == JT_tesSUCCESS && (n->entry_advance || n->adv_needed));
    return r;
}

/* Writes an offer's new amounts (only what changed). */
static int offer_set(jn_txctx *v, node *n, const jt_amount *gets, const jt_amount *pays)
{
    bool oom;
    jt_obj *o = jn_view_peek(v->sb, n->offer, &oom);
    if (!o)
        return JT_tefINTERNAL;
    jt_amount g0, p0;
    if (!get_amount(o, FLD("TakerGets"), &g0) || !eq(&g0, gets) || g0.negative != gets->negative)
        set_amt(v, o, FLD("TakerGets"), gets);
    if (!get_amount(o, FLD("TakerPays"), &p0) || !eq(&p0, pays) || p0.negative != pays->negative)
        set_amt(v, o, FLD("TakerPays"), pays);
    return v->oom ? JT_tefINTERNAL : JT_tesSUCCESS;
}

/* ---------------------------------------------------------------- DeliverNodeReverse */

static int deliver_reverse(cursor *k, const jt_account_id *out_acct, const jt_amount *out_req,
                           jt_amount *out_act)
{
    calc *rc = k->rc;
    node *n = cur_node(k);
    jn_txctx *v = led(k);
    int r = JT_tesSUCCESS;
    dir_restart(n, k->multi);
    *out_act = zeroed(out_req);
    int loops = 0;
    jt_amount one = rate_number(JT_QUALITY_ONE);
    while (cmp(out_act, out_req) < 0) {
        if (++loops > DELIVER_MAX_LOOPS)
            return JT_tecFAILED_PROCESSING;
        r = advance_node(k, out_act, true);
        if (r != JT_tesSUCCESS || !n->has_offer)
            break;
        bool no_fee = same_account(&n->owner, &n->is.acct) || same_account(out_acct, &n->is.acct);
        jt_amount fee_rate = no_fee ? one : n->rate;
        if (k->multi) {
        } else if (!nz(&n->rate_max)) {
            n->rate_max = fee_rate;
        } else if (cmp(&fee_rate, &n->rate_max) > 0) {
            break;
        } else if (cmp(&fee_rate, &n->rate_max) < 0) {
            n->rate_max = fee_rate;
        }
        jt_amount left = sub(rc, out_req, out_act);
        jt_amount a = amin(&n->funds, &n->gets);
        jt_amount out_pass_req = amin(&a, &left);
        jt_amount out_pass_act = out_pass_req;
        jt_amount like_out = like_of(&out_pass_act);
        jt_amount plus_fees = mulr(rc, &out_pass_act, &fee_rate, &like_out, false);
        if (cmp(&plus_fees, &n->funds) > 0) {
            plus_fees = n->funds;
            jt_amount like_pf = like_of(&plus_fees);
            jt_amount fee = divr(rc, &plus_fees, &fee_rate, &like_pf, true);
            out_pass_act = amin(&out_pass_req, &fee);
        }
        jt_amount like_pays = like_of(&n->pays);
        jt_amount output_fee = mulr(rc, &out_pass_act, &n->ofr_rate, &like_pays, true);
        jt_amount in_pass_req = amin(&n->pays, &output_fee);
        jt_amount in_pass_act = zeroed(&in_pass_req);
        if (rc->bad)
            return JT_tefEXCEPTION;
        if (!nz(&in_pass_req)) {
            n->entry_advance = true;
            continue;
        } else if (!is_zero_acct(&prev_node(k)->account)) {
            in_pass_act = in_pass_req;
        } else {
            cursor kp = *k;
            kp.i = k->i - 1;
            r = deliver_reverse(&kp, &n->owner, &in_pass_req, &in_pass_act);
        }
        if (r != JT_tesSUCCESS)
            break;
        if (cmp(&in_pass_act, &in_pass_req) < 0) {
            jt_amount like_gets = like_of(&n->gets);
            jt_amount req = divr(rc, &in_pass_act, &n->ofr_rate, &like_gets, true);
            out_pass_act = amin(&out_pass_req, &req);
            jt_amount fees = mulr(rc, &out_pass_act, &fee_rate, &like_out, true);
            plus_fees = amin(&n->funds, &fees);
        }
        n->funds_dirty = true;
        jt_amount send = out_pass_act;
        send.issuer = n->is.acct;
        r = account_send(rc, v, &n->owner, &n->is.acct, &send);
        if (r != JT_tesSUCCESS)
            break;
        jt_amount gets_new = sub(rc, &n->gets, &out_pass_act);
        jt_amount pays_new = sub(rc, &n->pays, &in_pass_act);
        if (rc->bad)
            return JT_tefEXCEPTION;
        if (sgn(&pays_new) < 0 || sgn(&gets_new) < 0) {
            r = JT_tecFAILED_PROCESSING;
            break;
        }
        gets_new.currency = n->gets.currency, gets_new.issuer = n->gets.issuer;
        pays_new.currency = n->pays.currency, pays_new.issuer = n->pays.issuer;
        if ((r = offer_set(v, n, &gets_new, &pays_new)))
            break;
        if (eq(&out_pass_act, &n->gets))
            n->entry_advance = true;
        *out_act = add(rc, out_act, &out_pass_act);
        node *p = prev_node(k);
        p->rev_deliver = add(rc, &p->rev_deliver, &in_pass_act);
    }
    if (r == JT_tesSUCCESS && !nz(out_act))
        r = JT_tecPATH_DRY;
    return r;
}

/* ---------------------------------------------------------------- DeliverNodeForward */

static int deliver_forward(cursor *k, const jt_account_id *in_acct, const jt_amount *in_req,
                           jt_amount *in_act, jt_amount *in_fees)
{
    calc *rc = k->rc;
    node *n = cur_node(k);
    node *p = prev_node(k);
    jn_txctx *v = led(k);
    int r = JT_tesSUCCESS;
    dir_restart(n, k->multi);
    *in_act = zeroed(in_req);
    *in_fees = zeroed(in_req);
    jt_amount one = rate_number(JT_QUALITY_ONE);
    int loops = 0;
    for (;;) {
        jt_amount sum = add(rc, in_act, in_fees);
        if (!(r == JT_tesSUCCESS && cmp(&sum, in_req) < 0))
            break;
        if (++loops > DELIVER_MAX_LOOPS)
            return JT_tecFAILED_PROCESSING;
        /* skywelld ignores advanceNode's result here (its resultCode is not
         * assigned); a failure shows as no offer. */
        int ar = advance_node(k, in_act, false);
        if (ar != JT_tesSUCCESS || !n->has_offer)
            return JT_tecFAILED_PROCESSING;
        bool no_fee = is_swt_cur(&p->is.cur) || same_account(in_acct, &p->is.acct) ||
                      same_account(&n->owner, &p->is.acct);
        jt_amount in_rate = no_fee ? one : p->rate;
        jt_amount out_funded = amin(&n->funds, &n->gets);
        jt_amount want = sub(rc, &n->rev_deliver, &n->fwd_deliver);
        jt_amount out_pass_funded = amin(&out_funded, &want);
        jt_amount like_pays = like_of(&n->pays);
        jt_amount in_funded = mulr(rc, &out_pass_funded, &n->ofr_rate, &like_pays, true);
        jt_amount like_inf = like_of(&in_funded);
        jt_amount in_total = mulr(rc, &in_funded, &in_rate, &like_inf, true);
        jt_amount t = sub(rc, in_req, in_act);
        jt_amount in_remaining = sub(rc, &t, in_fees);
        if (sgn(&in_remaining) < 0)
            in_remaining = zeroed(&in_remaining);
        jt_amount in_sum = amin(&in_total, &in_remaining);
        jt_amount like_sum = like_of(&in_sum);
        jt_amount d = divr(rc, &in_sum, &in_rate, &like_sum, true);
        jt_amount in_pass_act = amin(&n->pays, &d);
        jt_amount like_gets = like_of(&n->gets);
        jt_amount out_pass = divr(rc, &in_pass_act, &n->ofr_rate, &like_gets, true);
        jt_amount out_pass_max = amin(&out_pass_funded, &out_pass);
        jt_amount in_pass_fees_max = sub(rc, &in_sum, &in_pass_act);
        jt_amount out_pass_act, in_pass_fees;
        if (rc->bad)
            return JT_tefEXCEPTION;
        if (!nz(&n->pays) || sgn(&in_sum) <= 0 || !nz(&in_funded)) {
            keys_add(rc, &k->ps->unfunded, n->offer, false);
            n->entry_advance = true;
            continue;
        }
        if (!is_zero_acct(&next_node(k)->account)) {
            out_pass_act = out_pass_max;
            in_pass_fees = in_pass_fees_max;
            jt_amount send = out_pass_act;
            if (!send.native)
                send.issuer = n->is.acct;
            r = account_send(rc, v, &n->owner, &next_node(k)->account, &send);
            if (r != JT_tesSUCCESS)
                break;
        } else {
            jt_amount out_pass_fees;
            cursor kn = *k;
            kn.i = k->i + 1;
            r = deliver_forward(&kn, &n->owner, &out_pass_max, &out_pass_act, &out_pass_fees);
            if (r != JT_tesSUCCESS)
                break;
            if (eq(&out_pass_act, &out_pass_max)) {
                in_pass_fees = in_pass_fees_max;
            } else {
                jt_amount like_in = like_of(in_req);
                jt_amount ipa = mulr(rc, &out_pass_act, &n->ofr_rate, &like_in, true);
                in_pass_act = amin(&n->pays, &ipa);
                jt_amount like_ipa = like_of(&in_pass_act);
                jt_amount ipf = mulr(rc, &in_pass_act, &in_rate, &like_ipa, true);
                in_pass_fees = amin(&in_pass_fees_max, &ipf);
            }
            /* SWT between two books: the next book's "fees" are no one's
             * (see forward_liquidity), so the owner gives what it took. */
            jt_amount total = is_swt_cur(&n->is.cur) ? out_pass_act
                                                     : add(rc, &out_pass_act, &out_pass_fees);
            if (!total.native)
                total.issuer = n->is.acct;
            /* skywelld does not look at this send's result. */
            (void)account_send(rc, v, &n->owner, is_swt_cur(&n->is.cur) ? &NO_ACCOUNT : &n->is.acct,
                               &total);
            if (v->oom)
                return JT_tefINTERNAL;
        }
        n->funds_dirty = true;
        if (is_swt_cur(&p->is.cur) || !same_account(in_acct, &n->owner)) {
            const jt_account_id *from = !is_swt_cur(&p->is.cur) ? in_acct : &NO_ACCOUNT;
            jt_amount send = in_pass_act;
            if (!send.native)
                send.issuer = p->is.acct;
            r = account_send(rc, v, from, &n->owner, &send);
            if (r != JT_tesSUCCESS)
                break;
        }
        jt_amount gets_new = sub(rc, &n->gets, &out_pass_act);
        jt_amount pays_new = sub(rc, &n->pays, &in_pass_act);
        if (rc->bad)
            return JT_tefEXCEPTION;
        if (sgn(&pays_new) < 0 || sgn(&gets_new) < 0) {
            r = JT_tecFAILED_PROCESSING;
            break;
        }
        gets_new.currency = n->gets.currency, gets_new.issuer = n->gets.issuer;
        pays_new.currency = n->pays.currency, pays_new.issuer = n->pays.issuer;
        if ((r = offer_set(v, n, &gets_new, &pays_new)))
            break;
        /* An offer left asking nothing (TakerPays 0, dust given) goes too:
         * skywelld would leave it in the book (docs/node.md). */
        if (eq(&out_pass_act, &out_funded) || !nz(&gets_new) || !nz(&pays_new)) {
            keys_add(rc, &k->ps->unfunded, n->offer, false);
            n->entry_advance = true;
        }
        *in_act = add(rc, in_act, &in_pass_act);
        *in_fees = add(rc, in_fees, &in_pass_fees);
        jt_amount fd = add(rc, &n->fwd_deliver, &out_pass_act);
        n->fwd_deliver = amin(&n->rev_deliver, &fd);
    }
    return r;
}

/* ---------------------------------------------------------------- ReverseLiquidity */

static int reverse_account(cursor *k)
{
    calc *rc = k->rc;
    pstate *ps = k->ps;
    node *n = cur_node(k), *p = prev_node(k);
    const jn_view *v = led(k)->sb;
    int r = JT_tesSUCCESS;
    size_t last = ps->n - 1;
    bool final = k->i == last;
    uint64_t rate_max = 0;
    bool prev_acct = !k->i || is_acct(p);
    bool next_acct = final || is_acct(next_node(k));
    const jt_account_id *prev_id = prev_acct ? &p->account : &n->account;
    const jt_account_id *next_id = next_acct ? &next_node(k)->account : &n->account;
    const jt_currency *cur = &n->is.cur;
    uint32_t q_in = k->i ? line_quality(v, &n->account, prev_id, cur, true) : JT_QUALITY_ONE;
    uint32_t q_out = k->i != last ? line_quality(v, &n->account, next_id, cur, false) : JT_QUALITY_ONE;
    jt_amount zero_n = zero_of(&n->is);
    jt_amount prv_owed = (prev_acct && k->i) ? credit_balance(v, &n->account, prev_id, cur) : zero_n;
    jt_amount prv_limit = (prev_acct && k->i) ? credit_limit(v, &n->account, prev_id, cur) : zero_n;
    jt_amount prv_redeem_req = sgn(&prv_owed) > 0 ? prv_owed : zeroed(&prv_owed);
    jt_amount prv_issue_req = sgn(&prv_owed) < 0 ? add(rc, &prv_limit, &prv_owed) : prv_limit;
    jt_amount prv_deliver_req = minus_one(&p->rev_deliver);
    jt_amount cur_redeem_act = zeroed(&n->rev_redeem);
    jt_amount cur_issue_act = zeroed(&n->rev_issue);
    jt_amount cur_deliver_act = zeroed(&n->rev_deliver);
    uint32_t tr = transfer_rate(v, &n->account);

    if (k->i == 0) {
    } else if (prev_acct && next_acct) {
        if (final) {
            jt_amount want = sub(rc, &ps->out_req, &ps->out_act);
            jt_amount room = add(rc, &prv_limit, &prv_owed);
            jt_amount wanted_req = amin(&want, &room);
            jt_amount wanted_act = zeroed(&wanted_req);
            if (nz(&prv_redeem_req)) {
                wanted_act = amin(&prv_redeem_req, &wanted_req);
                p->rev_redeem = wanted_act;
                rate_max = rate_one();
            } else {
                p->rev_redeem = zeroed(&prv_redeem_req);
            }
            p->rev_issue = zeroed(&prv_issue_req);
            if (!eq(&wanted_req, &wanted_act) && nz(&prv_issue_req))
                liquidity(rc, q_in, JT_QUALITY_ONE, &prv_issue_req, &wanted_req, &p->rev_issue,
                          &wanted_act, &rate_max);
            if (!nz(&wanted_act))
                r = JT_tecPATH_DRY;
        } else {
            p->rev_redeem = zeroed(&prv_redeem_req);
            p->rev_issue = zeroed(&prv_issue_req);
            if (nz(&n->rev_redeem) && nz(&prv_redeem_req))
                liquidity(rc, JT_QUALITY_ONE, q_out, &prv_redeem_req, &n->rev_redeem, &p->rev_redeem,
                          &cur_redeem_act, &rate_max);
            if (!eq(&n->rev_redeem, &cur_redeem_act) && eq(&p->rev_redeem, &prv_redeem_req))
                liquidity(rc, q_in, q_out, &prv_issue_req, &n->rev_redeem, &p->rev_issue,
                          &cur_redeem_act, &rate_max);
            if (nz(&n->rev_issue) && eq(&cur_redeem_act, &n->rev_redeem) &&
                !eq(&p->rev_redeem, &prv_redeem_req))
                liquidity(rc, JT_QUALITY_ONE, tr, &prv_redeem_req, &n->rev_issue, &p->rev_redeem,
                          &cur_issue_act, &rate_max);
            if (!eq(&n->rev_issue, &cur_issue_act) && eq(&cur_redeem_act, &n->rev_redeem) &&
                eq(&prv_redeem_req, &p->rev_redeem) && nz(&prv_issue_req))
                liquidity(rc, q_in, JT_QUALITY_ONE, &prv_issue_req, &n->rev_issue, &p->rev_issue,
                          &cur_issue_act, &rate_max);
            if (!nz(&cur_redeem_act) && !nz(&cur_issue_act))
                r = JT_tecPATH_DRY;
        }
    } else if (prev_acct && !next_acct) {
        p->rev_redeem = zeroed(&prv_redeem_req);
        p->rev_issue = zeroed(&prv_issue_req);
        if (sgn(&prv_owed) > 0 && nz(&n->rev_deliver))
            liquidity(rc, JT_QUALITY_ONE, tr, &prv_redeem_req, &n->rev_deliver, &p->rev_redeem,
                      &cur_deliver_act, &rate_max);
        if (eq(&prv_redeem_req, &p->rev_redeem) && !eq(&n->rev_deliver, &cur_deliver_act))
            liquidity(rc, q_in, JT_QUALITY_ONE, &prv_issue_req, &n->rev_deliver, &p->rev_issue,
                      &cur_deliver_act, &rate_max);
        if (!nz(&cur_deliver_act))
            r = JT_tecPATH_DRY;
    } else if (!prev_acct && next_acct) {
        if (final) {
            jt_amount want = sub(rc, &ps->out_req, &ps->out_act);
            jt_amount wanted_act = zeroed(&want);
            if (sgn(&want) <= 0)
                return JT_tefEXCEPTION;
            liquidity(rc, q_in, JT_QUALITY_ONE, &prv_deliver_req, &want, &p->rev_deliver, &wanted_act,
                      &rate_max);
            if (!nz(&wanted_act))
                r = JT_tecPATH_DRY;
        } else {
            if (nz(&n->rev_redeem))
                liquidity(rc, JT_QUALITY_ONE, q_out, &prv_deliver_req, &n->rev_redeem, &p->rev_deliver,
                          &cur_redeem_act, &rate_max);
            if (eq(&n->rev_redeem, &cur_redeem_act) && nz(&n->rev_issue))
                liquidity(rc, JT_QUALITY_ONE, tr, &prv_deliver_req, &n->rev_issue, &p->rev_deliver,
                          &cur_issue_act, &rate_max);
            if (!nz(&p->rev_deliver))
                r = JT_tecPATH_DRY;
        }
    } else {
        liquidity(rc, JT_QUALITY_ONE, tr, &prv_deliver_req, &n->rev_deliver, &p->rev_deliver,
                  &cur_deliver_act, &rate_max);
        if (!nz(&cur_deliver_act))
            r = JT_tecPATH_DRY;
    }
    return rc->bad ? JT_tefEXCEPTION : r;
}

static int reverse_liquidity(cursor *k)
{
    node *n = cur_node(k);
    n->rate = rate_number(transfer_rate(led(k)->sb, &n->is.acct));
    if (is_acct(n))
        return reverse_account(k);
    if (is_zero_acct(&next_node(k)->account))
        return JT_tesSUCCESS;
    jt_amount act;
    return deliver_reverse(k, &next_node(k)->account, &n->rev_deliver, &act);
}

/* ---------------------------------------------------------------- ForwardLiquidity */

static int forward_account(cursor *k)
{
    calc *rc = k->rc;
    pstate *ps = k->ps;
    node *n = cur_node(k), *p = prev_node(k), *nx = next_node(k);
    jn_txctx *vc = led(k);
    const jn_view *v = vc->sb;
    int r = JT_tesSUCCESS;
    size_t last = ps->n - 1;
    uint64_t rate_max = 0;
    const jt_account_id *prev_id = is_acct(p) ? &p->account : &n->account;
    const jt_account_id *next_id = is_acct(nx) ? &nx->account : &n->account;
    const jt_currency *cur = &n->is.cur;
    uint32_t q_in = k->i ? line_quality(v, &n->account, prev_id, cur, true) : JT_QUALITY_ONE;
    /* skywelld's test is inverted (== where RippleCalc meant !=): the
     * quality out of an intermediate node is never applied forward. */
    uint32_t q_out = k->i == last ? line_quality(v, &n->account, next_id, cur, false) : JT_QUALITY_ONE;
    jt_amount prv_redeem_act = zeroed(&p->fwd_redeem);
    jt_amount prv_issue_act = zeroed(&p->fwd_issue);
    jt_amount prv_deliver_act = zeroed(&p->fwd_deliver);
    uint32_t tr = transfer_rate(v, &n->account);

    if (is_acct(p) && is_acct(nx)) {
        if (!k->i) {
            n->fwd_redeem = n->rev_redeem;
            if (sgn(&ps->in_req) >= 0) {
                jt_amount left = sub(rc, &ps->in_req, &ps->in_act);
                n->fwd_redeem = amin(&n->fwd_redeem, &left);
            }
            ps->in_pass = n->fwd_redeem;
            n->fwd_issue = eq(&n->fwd_redeem, &n->rev_redeem) ? n->rev_issue : zeroed(&n->rev_issue);
            if (nz(&n->fwd_issue) && sgn(&ps->in_req) >= 0) {
                jt_amount left = sub(rc, &ps->in_req, &ps->in_act);
                left = sub(rc, &left, &n->fwd_redeem);
                n->fwd_issue = amin(&n->fwd_issue, &left);
            }
            ps->in_pass = add(rc, &ps->in_pass, &n->fwd_issue);
        } else if (k->i == last) {
            jt_amount issue_crd;
            if (q_in >= JT_QUALITY_ONE) {
                issue_crd = p->fwd_issue;
            } else {
                jt_amount q = rate_number(q_in), like = like_of(&p->fwd_issue);
                issue_crd = mulr(rc, &p->fwd_issue, &q, &like, true);
            }
            ps->out_pass = add(rc, &p->fwd_redeem, &issue_crd);
            if (nz(&ps->out_pass)) {
                jt_amount amt = add(rc, &p->fwd_redeem, &p->fwd_issue);
                r = ripple_credit(rc, vc, prev_id, &n->account, &amt);
            } else {
                r = JT_tecPATH_DRY;
            }
        } else {
            n->fwd_redeem = zeroed(&n->rev_redeem);
            n->fwd_issue = zeroed(&n->rev_issue);
            if (nz(&p->fwd_redeem) && nz(&n->rev_redeem))
                liquidity(rc, JT_QUALITY_ONE, q_out, &p->fwd_redeem, &n->rev_redeem, &prv_redeem_act,
                          &n->fwd_redeem, &rate_max);
            if (!eq(&p->fwd_issue, &prv_issue_act) && !eq(&n->rev_redeem, &n->fwd_redeem))
                liquidity(rc, q_in, q_out, &p->fwd_issue, &n->rev_redeem, &prv_issue_act, &n->fwd_redeem,
                          &rate_max);
            if (!eq(&p->fwd_redeem, &prv_redeem_act) && eq(&n->rev_redeem, &n->fwd_redeem) &&
                nz(&n->rev_issue))
                liquidity(rc, JT_QUALITY_ONE, tr, &p->fwd_redeem, &n->rev_issue, &prv_redeem_act,
                          &n->fwd_issue, &rate_max);
            if (!eq(&p->fwd_issue, &prv_issue_act) && eq(&n->rev_redeem, &n->fwd_redeem) &&
                nz(&n->rev_issue))
                liquidity(rc, q_in, JT_QUALITY_ONE, &p->fwd_issue, &n->rev_issue, &prv_issue_act,
                          &n->fwd_issue, &rate_max);
            jt_amount provide = add(rc, &n->fwd_redeem, &n->fwd_issue);
            if (nz(&provide)) {
                jt_amount amt = add(rc, &p->fwd_redeem, &p->fwd_issue);
                r = ripple_credit(rc, vc, prev_id, &n->account, &amt);
            } else {
                r = JT_tecPATH_DRY;
            }
        }
    } else if (is_acct(p) && !is_acct(nx)) {
        if (k->i) {
            n->fwd_deliver = zeroed(&n->rev_deliver);
            if (nz(&p->fwd_redeem))
                liquidity(rc, JT_QUALITY_ONE, tr, &p->fwd_redeem, &n->rev_deliver, &prv_redeem_act,
                          &n->fwd_deliver, &rate_max);
            if (eq(&p->fwd_redeem, &prv_redeem_act) && nz(&p->fwd_issue))
                liquidity(rc, q_in, JT_QUALITY_ONE, &p->fwd_issue, &n->rev_deliver, &prv_issue_act,
                          &n->fwd_deliver, &rate_max);
            if (nz(&n->fwd_deliver)) {
                jt_amount amt = add(rc, &p->fwd_redeem, &p->fwd_issue);
                r = ripple_credit(rc, vc, prev_id, &n->account, &amt);
            } else {
                r = JT_tecPATH_DRY;
            }
        } else {
            n->fwd_deliver = n->rev_deliver;
            if (sgn(&ps->in_req) >= 0) {
                jt_amount left = sub(rc, &ps->in_req, &ps->in_act);
                n->fwd_deliver = amin(&n->fwd_deliver, &left);
                if (is_swt_cur(&n->is.cur)) {
                    jt_amount holds, like = zero_of(&n->is);
                    (void)jn_read_funds(v, vc->env, &n->account, &like, &holds);
                    n->fwd_deliver = amin(&n->fwd_deliver, &holds);
                }
            }
            ps->in_pass = n->fwd_deliver;
            if (!nz(&n->fwd_deliver))
                r = JT_tecPATH_DRY;
            else if (is_swt_cur(&n->is.cur))
                r = account_send(rc, vc, &n->account, &NO_ACCOUNT, &n->fwd_deliver);
        }
    } else if (!is_acct(p) && is_acct(nx)) {
        if (k->i == last) {
            ps->out_pass = p->fwd_deliver;
        } else {
            n->fwd_redeem = zeroed(&n->rev_redeem);
            n->fwd_issue = zeroed(&n->rev_issue);
            if (nz(&p->fwd_deliver) && nz(&n->rev_redeem))
                liquidity(rc, JT_QUALITY_ONE, q_out, &p->fwd_deliver, &n->rev_redeem, &prv_deliver_act,
                          &n->fwd_redeem, &rate_max);
            if (!eq(&p->fwd_deliver, &prv_deliver_act) && eq(&n->rev_redeem, &n->fwd_redeem) &&
                nz(&n->rev_issue))
                liquidity(rc, JT_QUALITY_ONE, tr, &p->fwd_deliver, &n->rev_issue, &prv_deliver_act,
                          &n->fwd_issue, &rate_max);
            jt_amount provide = add(rc, &n->fwd_redeem, &n->fwd_issue);
            if (!nz(&provide))
                r = JT_tecPATH_DRY;
        }
    } else {
        n->fwd_deliver = zeroed(&n->rev_deliver);
        if (nz(&p->fwd_deliver) && nz(&n->rev_deliver))
            liquidity(rc, JT_QUALITY_ONE, tr, &p->fwd_deliver, &n->rev_deliver, &prv_deliver_act,
                      &n->fwd_deliver, &rate_max);
        if (!nz(&n->fwd_deliver))
            r = JT_tecPATH_DRY;
    }
    return rc->bad ? JT_tefEXCEPTION : r;
}

static int forward_liquidity(cursor *k)
{
    node *n = cur_node(k);
    if (is_acct(n))
        return forward_account(k);
    node *p = prev_node(k);
    if (is_zero_acct(&p->account))
        return JT_tesSUCCESS;
    jt_amount in_act, in_fees;
    int r = deliver_forward(k, &p->account, &p->fwd_deliver, &in_act, &in_fees);
    /* skywelld asserts that the book took all the source gave (in_act +
     * in_fees); for SWT the "fees" are only what an offer's input came to
     * beyond its TakerPays, which no one receives. jt-node gives them back
     * to the source rather than destroy SWT (docs/node.md). */
    if (r == JT_tesSUCCESS && is_swt_cur(&p->is.cur) && nz(&in_fees)) {
        r = account_send(k->rc, led(k), &NO_ACCOUNT, &p->account, &in_fees);
        k->ps->in_pass = sub(k->rc, &k->ps->in_pass, &in_fees);
    }
    return r;
}

/* ---------------------------------------------------------------- one increment of a path */

static void view_reset(calc *rc, pstate *ps)
{
    jn_view_clear(&ps->view);
    jn_view_init(&ps->view, rc->c->sb, NULL);
}

static bool is_dry(const pstate *ps)
{
    return !nz(&ps->in_pass) || !nz(&ps->out_pass);
}

static int path_liquidity(calc *rc, pstate *ps, bool multi)
{
    cursor k = {rc, ps, multi, 0};
    int r = JT_tecPATH_DRY;
    view_reset(rc, ps);
    for (size_t i = ps->n; i-- > 0;) {
        k.i = i;
        r = reverse_liquidity(&k);
        if (rc->fail || ps->vc.oom)
            return JT_tefINTERNAL;
        if (r != JT_tesSUCCESS)
            break;
    }
    if (r != JT_tesSUCCESS)
        return r;
    view_reset(rc, ps);
    for (size_t i = 0; i < ps->n; i++) {
        k.i = i;
        r = forward_liquidity(&k);
        if (rc->fail || ps->vc.oom)
            return JT_tefINTERNAL;
        if (r != JT_tesSUCCESS)
            return r;
        if (is_dry(ps))
            r = JT_tecPATH_DRY;
    }
    return r;
}

static int next_increment(calc *rc, pstate *ps, bool multi)
{
    int r = path_liquidity(rc, ps, multi);
    if (r == JT_tesSUCCESS) {
        if (is_dry(ps)) {
            rc->bad = true; /* skywelld throws "Made no progress." */
            return JT_tefEXCEPTION;
        }
        ps->quality = jt_amount_rate(&ps->out_pass, &ps->in_pass);
    } else {
        ps->quality = 0;
    }
    ps->status = r;
    return r;
}

static void path_reset(pstate *ps, const jt_amount *in_act, const jt_amount *out_act)
{
    ps->all_consumed = false;
    ps->in_pass = zeroed(&ps->in_req);
    ps->out_pass = zeroed(&ps->out_req);
    ps->unfunded.n = 0;
    ps->rev.n = 0;
    for (size_t i = 0; i < ps->n; i++) {
        node *n = &ps->nodes[i];
        n->rev_redeem = zeroed(&n->rev_redeem);
        n->rev_issue = zeroed(&n->rev_issue);
        n->rev_deliver = zeroed(&n->rev_deliver);
        n->fwd_deliver = zeroed(&n->fwd_deliver);
    }
    ps->in_act = *in_act;
    ps->out_act = *out_act;
}

static bool less_priority(const pstate *a, const pstate *b)
{
    if (a->quality != b->quality)
        return a->quality > b->quality;
    if (!eq(&a->out_pass, &b->out_pass))
        return cmp(&a->out_pass, &b->out_pass) < 0;
    return a->index > b->index;
}

/* ---------------------------------------------------------------- the calculation (SkywellCalc) */

static void pstate_free(pstate *ps)
{
    if (!ps)
        return;
    jn_view_clear(&ps->view);
    free(ps->nodes);
    free(ps->unfunded.k);
    free(ps->fwd.k);
    free(ps->rev.k);
    free(ps);
}

/* addPathState: false stops the calculation with *result. */
static bool add_path(calc *rc, const jn_path *path, int *result)
{
    pstate *ps = calloc(1, sizeof *ps);
    if (!ps) {
        *result = JT_tefINTERNAL;
        rc->fail = true;
        return false;
    }
    ps->in_req = rc->in->max_in;
    ps->out_req = rc->in->dst_amount;
    jn_view_init(&ps->view, rc->c->sb, NULL);
    ps->vc = *rc->c;
    ps->vc.sb = &ps->view;
    ps->status = expand_path(rc, ps, path);
    if (rc->fail) {
        pstate_free(ps);
        *result = JT_tefINTERNAL;
        return false;
    }
    if (ps->status == JT_tesSUCCESS)
        check_no_ripple(rc, ps);
    if (ps->status == JT_tesSUCCESS)
        check_freeze(rc, ps);
    ps->index = rc->n_ps;
    int st = ps->status;
    if (st >= -299 && st <= -200) { /* isTemMalformed */
        *result = st;
        pstate_free(ps);
        return false;
    }
    if (st == JT_tesSUCCESS) {
        *result = st;
        rc->ps[rc->n_ps++] = ps;
        return true;
    }
    if (st != JT_terNO_LINE)
        *result = st;
    pstate_free(ps);
    return true;
}

static int cmp_key(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

static int delete_offers(calc *rc, keys *s)
{
    if (s->n)
        qsort(s->k, s->n, 32, cmp_key);
    for (size_t i = 0; i < s->n; i++) {
        if (i && !memcmp(s->k[i], s->k[i - 1], 32))
            continue;
        if (jn_offer_delete(rc->c, s->k[i]))
            return JT_tefINTERNAL;
    }
    return JT_tesSUCCESS;
}

static int calculate(calc *rc, jn_ripple_out *out)
{
    const jn_ripple_in *in = rc->in;
    int result = JT_temUNCERTAIN;
    static const jn_path empty;
    if (in->default_path) {
        if (!add_path(rc, &empty, &result))
            return result;
    } else if (!in->paths || in->paths->n == 0) {
        return JT_temSKYWELL_EMPTY;
    }
    for (size_t i = 0; in->paths && i < in->paths->n; i++)
        if (!add_path(rc, &in->paths->p[i], &result))
            return result;
    if (result != JT_tesSUCCESS)
        return result == JT_temUNCERTAIN ? JT_terNO_LINE : result;

    result = JT_temUNCERTAIN;
    jt_amount act_in = zeroed(&in->max_in), act_out = zeroed(&in->dst_amount);
    uint64_t q_limit = in->limit_quality ? jt_amount_rate(&in->dst_amount, &in->max_in) : 0;
    keys best_unfunded = {0};
    int pass = 0;
    while (result == JT_temUNCERTAIN) {
        pstate *best = NULL;
        size_t dry = 0;
        bool multi = false;
        for (size_t i = 0; i < rc->n_ps; i++) {
            pstate *ps = rc->ps[i];
            if (!ps->quality)
                continue;
            multi = (rc->n_ps - dry) == 1;
            path_reset(ps, &act_in, &act_out);
            int r = next_increment(rc, ps, multi);
            if (r == JT_tefINTERNAL || rc->fail) {
                free(best_unfunded.k);
                return JT_tefINTERNAL;
            }
            (void)r; /* any other failure leaves the path dry (quality 0) */
            if (rc->bad) {
                free(best_unfunded.k);
                return JT_tefEXCEPTION;
            }
            if (!ps->quality) {
                ++dry;
            } else if (!nz(&ps->out_pass)) {
                ps->quality = 0;
                ++dry;
            } else if ((!in->limit_quality || ps->quality <= q_limit) &&
                       (!best || less_priority(best, ps))) {
                best = ps;
            }
        }
        ++pass;
        if (best) {
            for (size_t j = 0; j < best->unfunded.n; j++)
                keys_add(rc, &best_unfunded, best->unfunded.k[j], true);
            /* The best path's changes become the transaction's; the others
             * are dropped (each path starts afresh next increment). */
            if (jn_view_merge(&best->view)) {
                free(best_unfunded.k);
                return JT_tefINTERNAL;
            }
            for (size_t i = 0; i < rc->n_ps; i++)
                view_reset(rc, rc->ps[i]);
            act_in = add(rc, &act_in, &best->in_pass);
            act_out = add(rc, &act_out, &best->out_pass);
            if (best->all_consumed || multi) {
                ++dry;
                best->quality = 0;
            }
            if (eq(&act_out, &in->dst_amount)) {
                result = JT_tesSUCCESS;
            } else if (cmp(&act_out, &in->dst_amount) > 0) {
                free(best_unfunded.k);
                return JT_tefEXCEPTION;
            } else if (!eq(&act_in, &in->max_in) && dry != rc->n_ps) {
                for (size_t j = 0; j < best->rev.n; j++)
                    akeys_insert(rc, &rc->mum, &best->rev.k[j].a, &best->rev.k[j].is, best->rev.k[j].idx);
                if (pass >= PAYMENT_MAX_LOOPS)
                    result = JT_tecFAILED_PROCESSING;
            } else if (!in->partial) {
                result = JT_tecPATH_PARTIAL;
            } else {
                result = JT_tesSUCCESS;
            }
        } else {
            for (size_t i = 0; i < rc->n_ps; i++)
                view_reset(rc, rc->ps[i]);
            if (!in->partial)
                result = JT_tecPATH_PARTIAL;
            else if (!nz(&act_out))
                result = JT_tecPATH_DRY;
            else
                result = JT_tesSUCCESS;
        }
        if (rc->bad) {
            free(best_unfunded.k);
            return JT_tefEXCEPTION;
        }
    }
    if (result == JT_tesSUCCESS) {
        result = delete_offers(rc, &best_unfunded);
        if (result == JT_tesSUCCESS)
            result = delete_offers(rc, &rc->perm_unfunded);
    }
    free(best_unfunded.k);
    out->in = act_in;
    out->out = act_out;
    return result;
}

int jn_ripple_calc(jn_txctx *c, const jn_ripple_in *in, jn_ripple_out *out)
{
    calc rc;
    memset(&rc, 0, sizeof rc);
    rc.c = c;
    rc.in = in;
    out->in = zeroed(&in->max_in);
    out->out = zeroed(&in->dst_amount);
    int r = calculate(&rc, out);
    for (size_t i = 0; i < rc.n_ps; i++)
        pstate_free(rc.ps[i]);
    free(rc.perm_unfunded.k);
    free(rc.mum.k);
    if (rc.fail)
        c->oom = true;
    return r;
}

/* ---------------------------------------------------------------- reading Paths */

bool jn_pathset_read(const jt_obj *tx, jn_pathset *ps)
{
    memset(ps, 0, sizeof *ps);
    const jt_field *pf = FLD("Paths");
    size_t i = 0, nf = jt_obj_field_count(tx);
    while (i < nf && jt_obj_field_at(tx, i) != pf)
        i++;
    if (i == nf)
        return true;
    jt_buf b, h;
    jt_buf_init(&b);
    jt_buf_init(&h);
    if (jt_obj_member_to_binary(tx, i, &b) != JT_OK || jt_field_header_to_binary(pf, &h) != JT_OK ||
        b.len < h.len) {
        jt_buf_clear(&b);
        jt_buf_clear(&h);
        return false;
    }
    const uint8_t *p = b.data + h.len, *end = b.data + b.len;
    jt_buf_clear(&h);
    size_t np = 0, ne = 0;
    bool ok = false;
    while (p < end) {
        uint8_t t = *p++;
        if (t == 0x00 || t == 0xFF) {
            if (ne == 0)
                break; /* an empty path: skywelld's STPathSet refuses the transaction */
            if (np < JN_MAX_PATHS)
                ps->p[np].n = ne > JN_MAX_PATH_LENGTH ? JN_MAX_PATH_LENGTH : ne;
            if (ne > JN_MAX_PATH_LENGTH)
                ps->too_big = true;
            np++;
            ne = 0;
            if (t == 0x00) {
                ok = true;
                break;
            }
            continue;
        }
        jn_path_elem e;
        memset(&e, 0, sizeof e);
        e.type = t;
        if (t & JN_PATH_ACCOUNT) {
            if (end - p < 20)
                break;
            memcpy(e.account.bytes, p, 20);
            p += 20;
        }
        if (t & JN_PATH_CURRENCY) {
            if (end - p < 20)
                break;
            memcpy(e.currency.bytes, p, 20);
            p += 20;
        }
        if (t & JN_PATH_ISSUER) {
            if (end - p < 20)
                break;
            memcpy(e.issuer.bytes, p, 20);
            p += 20;
        }
        if (np < JN_MAX_PATHS && ne < JN_MAX_PATH_LENGTH)
            ps->p[np].e[ne] = e;
        ne++;
    }
    jt_buf_clear(&b);
    if (np > JN_MAX_PATHS)
        ps->too_big = true;
    ps->n = np > JN_MAX_PATHS ? JN_MAX_PATHS : np;
    return ok;
}
