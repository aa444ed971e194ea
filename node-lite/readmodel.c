/*
 * readmodel.c — the ledger rules read from a view (see readmodel.h).
 */
#include "readmodel.h"

#include <string.h>

static uint64_t get_u(const jt_obj *o, const jt_field *f, uint64_t dflt)
{
    uint64_t v;
    return jt_obj_get_uint_f(o, f, &v) == JT_OK ? v : dflt;
}

static bool same_account(const jt_account_id *a, const jt_account_id *b)
{
    return memcmp(a->bytes, b->bytes, 20) == 0;
}

/* ---------------------------------------------------------------- accounts */

uint64_t jn_reserve(const jn_env *env, uint32_t owners)
{
    return env->reserve_base + (uint64_t)owners * env->reserve_inc;
}

uint64_t jn_read_account_reserve(const jn_env *env, const jt_obj *root)
{
    return jn_reserve(env, jn_read_owner_count(root));
}

bool jn_read_funds(const jn_view *v, const jn_env *env, const jt_account_id *who,
                   const jt_amount *like, jt_amount *out)
{
    if (like->native) {
        const jt_obj *r = jn_read_account(v, who);
        int64_t bal = r ? jn_read_balance(r) : 0;
        int64_t res = r ? (int64_t)jn_read_account_reserve(env, r) : 0;
        jt_amount_native(out, bal > res ? bal - res : 0);
        return true;
    }
    if (same_account(who, &like->issuer))
        return false;
    uint8_t k[32];
    jn_id_line(who, &like->issuer, &like->currency, k);
    const jt_obj *l = jn_view_read(v, k);
    jt_amount_zero_like(out, like);
    if (l) {
        jt_amount bal;
        jn_read_line_balance(l, memcmp(who->bytes, like->issuer.bytes, 20) < 0, &bal);
        if (jt_amount_sign(&bal) > 0) {
            *out = bal;
            out->currency = like->currency;
            out->issuer = like->issuer;
        }
    }
    return true;
}

void jn_read_offer_funds(const jn_view *v, const jn_env *env, const jt_account_id *who,
                         const jt_amount *like, jt_amount *out)
{
    if (!like->native && same_account(who, &like->issuer)) {
        *out = *like;
        return;
    }
    if (like->native) {
        (void)jn_read_funds(v, env, who, like, out);
        return;
    }
    jt_amount_zero_like(out, like);
    uint8_t k[32];
    jn_id_line(who, &like->issuer, &like->currency, k);
    const jt_obj *l = jn_view_read(v, k);
    if (!l || jn_read_frozen(v, who, &like->issuer, &like->currency))
        return;
    jn_read_line_balance(l, memcmp(who->bytes, like->issuer.bytes, 20) < 0, out);
    out->currency = like->currency;
    out->issuer = like->issuer;
}

/* ---------------------------------------------------------------- trust lines */

void jn_read_line_balance(const jt_obj *line, bool low, jt_amount *out)
{
    if (jt_obj_get_amount_f(line, FLD("Balance"), out) != JT_OK)
        memset(out, 0, sizeof *out);
    if (!low)
        jt_amount_negate(out);
}

void jn_read_line_limit(const jt_obj *line, bool low, jt_amount *out)
{
    if (jt_obj_get_amount_f(line, low ? FLD("LowLimit") : FLD("HighLimit"), out) != JT_OK)
        memset(out, 0, sizeof *out);
}

bool jn_read_line_side(const jt_obj *line, const jt_account_id *a, jn_line_side *out)
{
    jt_amount lo, hi;
    if (get_u(line, FLD("LedgerEntryType"), 0) != JT_LT_SKYWELL_STATE ||
        jt_obj_get_amount_f(line, FLD("Balance"), &out->balance) != JT_OK ||
        jt_obj_get_amount_f(line, FLD("LowLimit"), &lo) != JT_OK ||
        jt_obj_get_amount_f(line, FLD("HighLimit"), &hi) != JT_OK)
        return false;
    bool low = same_account(&lo.issuer, a);
    out->low = low;
    if (!low)
        jt_amount_negate(&out->balance);
    out->limit = low ? lo : hi;
    out->limit_peer = low ? hi : lo;
    out->peer = out->limit_peer.issuer;
    out->quality_in = (uint32_t)get_u(line, low ? FLD("LowQualityIn") : FLD("HighQualityIn"), 0);
    out->quality_out = (uint32_t)get_u(line, low ? FLD("LowQualityOut") : FLD("HighQualityOut"), 0);
    uint32_t f = (uint32_t)get_u(line, FLD("Flags"), 0);
    out->flags = f;
    out->authorized = f & (low ? JT_LSF_LOW_AUTH : JT_LSF_HIGH_AUTH);
    out->peer_authorized = f & (low ? JT_LSF_HIGH_AUTH : JT_LSF_LOW_AUTH);
    out->no_skywell = f & (low ? JT_LSF_LOW_NO_SKYWELL : JT_LSF_HIGH_NO_SKYWELL);
    out->no_skywell_peer = f & (low ? JT_LSF_HIGH_NO_SKYWELL : JT_LSF_LOW_NO_SKYWELL);
    out->freeze = f & (low ? JT_LSF_LOW_FREEZE : JT_LSF_HIGH_FREEZE);
    out->freeze_peer = f & (low ? JT_LSF_HIGH_FREEZE : JT_LSF_LOW_FREEZE);
    return true;
}

bool jn_read_line(const jn_view *v, const jt_account_id *a, const jt_account_id *peer,
                  const jt_currency *cur, jn_line_side *out)
{
    uint8_t k[32];
    jn_id_line(a, peer, cur, k);
    const jt_obj *l = jn_view_read(v, k);
    return l && jn_read_line_side(l, a, out);
}

/* The Flags of the line between holder and issuer (0 when there is none). */
static uint32_t line_flags_between(const jn_view *v, const jt_account_id *holder,
                                   const jt_account_id *issuer, const jt_currency *cur)
{
    uint8_t k[32];
    jn_id_line(holder, issuer, cur, k);
    const jt_obj *l = jn_view_read(v, k);
    return l ? (uint32_t)get_u(l, FLD("Flags"), 0) : 0;
}

/* ---------------------------------------------------------------- directories and books */

bool jn_read_owner_next(const jn_view *v, const jt_account_id *a, jn_dir_cursor *c, uint8_t id[32])
{
    uint8_t dir[32];
    jn_id_owner_dir(a, dir);
    return jn_dir_next(v, dir, c, id);
}

void jn_book_cursor_init(jn_book_cursor *c, const jt_amount *pays, const jt_amount *gets)
{
    static const jt_currency none_c;
    static const jt_account_id none_a;
    memset(c, 0, sizeof *c);
    jn_id_book_base(pays->native ? &none_c : &pays->currency, pays->native ? &none_a : &pays->issuer,
                    gets->native ? &none_c : &gets->currency, gets->native ? &none_a : &gets->issuer,
                    c->base);
}

bool jn_book_next(const jn_view *v, jn_book_cursor *c, uint8_t id[32], const jt_obj **offer,
                  uint64_t *quality)
{
    uint8_t last[32];
    memcpy(last, c->base, 24);
    memset(last + 24, 0xFF, 8);
    while (!c->done) {
        if (c->started && jn_dir_next(v, c->dir, &c->dc, id)) {
            *offer = jn_view_read(v, id);
            uint64_t q = 0;
            for (int i = 24; i < 32; i++)
                q = q << 8 | c->dir[i];
            *quality = q;
            return true;
        }
        /* The next quality directory after the one just read. */
        uint8_t from[32];
        if (!c->started) {
            memcpy(from, c->base, 32);
        } else {
            memcpy(from, c->dir, 32);
            int i = 31;
            while (i >= 24 && ++from[i] == 0)
                i--;
            if (i < 24) {
                c->done = true;
                break;
            }
        }
        c->started = true;
        memset(&c->dc, 0, sizeof c->dc);
        if (!jn_view_book_next(v, from, last, c->dir))
            c->done = true;
    }
    return false;
}

bool jn_same_asset(const jt_amount *a, const jt_amount *b)
{
    if (a->native || b->native)
        return a->native == b->native;
    return !memcmp(&a->currency, &b->currency, 20) && !memcmp(&a->issuer, &b->issuer, 20);
}

/* ---------------------------------------------------------------- freeze and auth */

static const jt_obj *relation(const jn_view *v, const jt_account_id *issuer,
                              const jt_account_id *target, uint32_t type, const jt_currency *cur)
{
    uint8_t k[32];
    jn_id_relation(issuer, target, type, cur, k);
    return jn_view_read(v, k);
}

/* The issuer's side of the line is the high one when the holder is low. */
static uint32_t issuer_side(const jt_account_id *holder, const jt_account_id *issuer,
                            uint32_t low_flag, uint32_t high_flag)
{
    return memcmp(holder->bytes, issuer->bytes, 20) < 0 ? high_flag : low_flag;
}

bool jn_read_frozen(const jn_view *v, const jt_account_id *holder, const jt_account_id *issuer,
                    const jt_currency *cur)
{
    if (same_account(holder, issuer))
        return false;
    const jt_obj *ir = jn_read_account(v, issuer);
    if (ir && (get_u(ir, FLD("Flags"), 0) & JT_LSF_GLOBAL_FREEZE))
        return true;
    if (line_flags_between(v, holder, issuer, cur) &
        issuer_side(holder, issuer, JT_LSF_LOW_FREEZE, JT_LSF_HIGH_FREEZE))
        return true;
    return relation(v, issuer, holder, JN_REL_FREEZE, cur) != NULL;
}

bool jn_read_auth_required(const jn_view *v, const jt_account_id *holder,
                           const jt_account_id *issuer)
{
    if (same_account(holder, issuer))
        return false;
    const jt_obj *ir = jn_read_account(v, issuer);
    return ir && (get_u(ir, FLD("Flags"), 0) & JT_LSF_REQUIRE_AUTH);
}

bool jn_read_authorized(const jn_view *v, const jt_account_id *holder, const jt_account_id *issuer,
                        const jt_currency *cur, const jt_amount *new_balance)
{
    if (!jn_read_auth_required(v, holder, issuer))
        return true;
    if (line_flags_between(v, holder, issuer, cur) &
        issuer_side(holder, issuer, JT_LSF_LOW_AUTH, JT_LSF_HIGH_AUTH))
        return true;
    const jt_obj *rel = relation(v, issuer, holder, JN_REL_AUTHORIZE, cur);
    if (!rel)
        return false;
    jt_amount cap;
    if (new_balance && jt_obj_get_amount_f(rel, FLD("LimitAmount"), &cap) == JT_OK &&
        !jt_amount_is_zero(&cap) && jt_amount_cmp(new_balance, &cap) > 0)
        return false;
    return true;
}
