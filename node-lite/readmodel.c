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

/* Reads a's owner directory from c until `id`; steps back onto it. */
static bool owner_find(const jn_view *v, const jt_account_id *a, const uint8_t id[32],
                       jn_dir_cursor *c, bool one_page)
{
    uint8_t got[32];
    uint64_t page = c->page;
    while (jn_read_owner_next(v, a, c, got) && (!one_page || c->page == page)) {
        if (!memcmp(got, id, 32)) {
            c->pos--;
            return true;
        }
    }
    return false;
}

bool jn_read_owner_seek(const jn_view *v, const jt_account_id *a, const uint8_t id[32],
                        jn_dir_cursor *c)
{
    const jt_obj *o = jn_view_read(v, id);
    if (!o)
        return false;
    const jt_field *f = FLD("OwnerNode");
    jt_amount lo;
    jt_account_id owner, target;
    uint64_t lt = get_u(o, FLD("LedgerEntryType"), 0);
    if (lt == JT_LT_SKYWELL_STATE)
        f = jt_obj_get_amount_f(o, FLD("LowLimit"), &lo) == JT_OK && same_account(&lo.issuer, a)
                ? FLD("LowNode")
                : FLD("HighNode");
    else if (lt == JT_LT_TRUST_STATE && jt_obj_get_account_f(o, FLD("Account"), &owner) == JT_OK &&
             !same_account(&owner, a) && jt_obj_get_account_f(o, FLD("Target"), &target) == JT_OK)
        f = memcmp(target.bytes, owner.bytes, 20) < 0 ? FLD("LowNode") : FLD("HighNode");
    memset(c, 0, sizeof *c);
    c->started = true;
    c->page = get_u(o, f, 0);
    if (owner_find(v, a, id, c, true))
        return true;
    memset(c, 0, sizeof *c);
    return owner_find(v, a, id, c, false);
}

void jn_book_cursor_init(jn_book_cursor *c, const jt_amount *pays, const jt_amount *gets)
{
    static const jt_currency none_c;
    static const jt_account_id none_a;
    memset(c, 0, sizeof *c);
    jn_id_book_base(
        pays->native ? &none_c : &pays->currency, pays->native ? &none_a : &pays->issuer,
        gets->native ? &none_c : &gets->currency, gets->native ? &none_a : &gets->issuer, c->base);
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

static uint32_t id_tag(const uint8_t *id)
{
    return (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3];
}

/* A directory page's entries (NULL, 0 when it has none). */
static const uint8_t *page_entries(const jt_obj *node, size_t *count)
{
    const uint8_t *p;
    size_t n;
    if (!node || jt_obj_get_bytes_f(node, FLD("Indexes"), &p, &n) != JT_OK) {
        *count = 0;
        return NULL;
    }
    *count = n / 32;
    return p;
}

bool jn_book_mark_get(const jn_view *v, const jn_book_cursor *c, jn_book_mark *m)
{
    if (!c->started || c->done || !c->dc.started || c->dc.done || c->dc.pos == 0)
        return false;
    uint8_t pid[32];
    jn_id_dir_page(c->dir, c->dc.page, pid);
    size_t count;
    const uint8_t *e = page_entries(jn_view_read(v, pid), &count);
    if (c->dc.pos > count)
        return false;
    m->quality = 0;
    for (int i = 24; i < 32; i++)
        m->quality = m->quality << 8 | c->dir[i];
    m->page = c->dc.page;
    size_t from = c->dc.pos > JN_BOOK_MARK_TAGS ? c->dc.pos - JN_BOOK_MARK_TAGS : 0;
    m->n = (uint32_t)(c->dc.pos - from);
    for (uint32_t i = 0; i < m->n; i++)
        m->tags[i] = id_tag(e + (from + i) * 32);
    return true;
}

void jn_book_seek(const jn_view *v, jn_book_cursor *c, const jn_book_mark *m)
{
    memcpy(c->dir, c->base, 24);
    for (int i = 0; i < 8; i++)
        c->dir[24 + i] = (uint8_t)(m->quality >> (56 - 8 * i));
    c->started = true;
    c->done = false;
    memset(&c->dc, 0, sizeof c->dc);
    c->dc.started = true;
    uint8_t pid[32];
    jn_id_dir_page(c->dir, m->page, pid);
    size_t count;
    const uint8_t *e = page_entries(jn_view_read(v, pid), &count);
    /* The entries still there from before the mark lead the page, in the
     * order of the tags; the first that matches none is newer. */
    uint32_t j = 0, pos = 0;
    uint32_t n = m->n < JN_BOOK_MARK_TAGS ? m->n : JN_BOOK_MARK_TAGS;
    for (size_t i = 0; i < count && j < n; i++) {
        uint32_t t = id_tag(e + i * 32), k = j;
        while (k < n && m->tags[k] != t)
            k++;
        if (k == n)
            break;
        j = k + 1;
        pos = (uint32_t)i + 1;
    }
    if (pos) {
        c->dc.page = m->page;
        c->dc.pos = pos;
    }
    /* Otherwise page 0, position 0: the quality from its start (and when
     * the quality directory has gone, jn_book_next goes on to the next). */
}

/* ---------------------------------------------------------------- offers and book pages */

uint32_t jn_read_transfer_rate(const jn_view *v, const jt_account_id *a)
{
    const jt_obj *r = jn_read_account(v, a);
    uint64_t rate = r ? get_u(r, FLD("TransferRate"), 0) : 0;
    return rate && rate <= UINT32_MAX ? (uint32_t)rate : JT_QUALITY_ONE;
}

bool jn_read_global_freeze(const jn_view *v, const jt_account_id *a)
{
    const jt_obj *r = jn_read_account(v, a);
    return r && (get_u(r, FLD("Flags"), 0) & JT_LSF_GLOBAL_FREEZE);
}

static const jt_obj *relation(const jn_view *v, const jt_account_id *issuer,
                              const jt_account_id *target, uint32_t type, const jt_currency *cur);

/* What jn_read_frozen, jn_read_funds and jn_read_frozen_amount give
 * together, reading the line and the freeze relation once each (this runs
 * for every offer a crossing or a payment's book step looks at). */
void jn_read_offer_funds(const jn_view *v, const jn_env *env, const jt_account_id *owner,
                         const jt_amount *like, jt_amount *out)
{
    if (like->native) {
        (void)jn_read_funds(v, env, owner, like, out);
        return;
    }
    if (same_account(owner, &like->issuer)) {
        *out = *like; /* the issuer */
        return;
    }
    jt_amount_zero_like(out, like);
    const jt_obj *ir = jn_read_account(v, &like->issuer);
    if (ir && (get_u(ir, FLD("Flags"), 0) & JT_LSF_GLOBAL_FREEZE))
        return;
    uint8_t k[32];
    jn_id_line(owner, &like->issuer, &like->currency, k);
    const jt_obj *l = jn_view_read(v, k);
    bool low = memcmp(owner->bytes, like->issuer.bytes, 20) < 0;
    if (l && (get_u(l, FLD("Flags"), 0) & (low ? JT_LSF_HIGH_FREEZE : JT_LSF_LOW_FREEZE)))
        return;
    const jt_obj *rel = relation(v, &like->issuer, owner, JN_REL_FREEZE, &like->currency);
    jt_amount held;
    bool some_held = false;
    if (rel) {
        if (jt_obj_get_amount_f(rel, FLD("LimitAmount"), &held) != JT_OK || jt_amount_is_zero(&held))
            return; /* frozen whole */
        held.currency = like->currency;
        held.issuer = like->issuer;
        some_held = true;
    }
    if (!l)
        return;
    jt_amount bal, left;
    jn_read_line_balance(l, low, &bal);
    if (jt_amount_sign(&bal) <= 0)
        return;
    bal.currency = like->currency;
    bal.issuer = like->issuer;
    if (!some_held)
        *out = bal;
    else if (jt_amount_sub(&bal, &held, &left) == JT_OK && jt_amount_sign(&left) > 0)
        *out = left;
}

void jn_book_page_init(jn_book_page *p, const jn_view *v, const jt_amount *pays,
                       const jt_amount *gets, const jt_account_id *taker, jn_book_owner *owners,
                       size_t cap)
{
    memset(p, 0, sizeof *p);
    jn_book_cursor_init(&p->c, pays, gets);
    p->taker = *taker;
    if (!gets->native)
        p->gets_issuer = gets->issuer;
    p->rate = gets->native ? JT_QUALITY_ONE : jn_read_transfer_rate(v, &gets->issuer);
    p->frozen = (!gets->native && jn_read_global_freeze(v, &gets->issuer)) ||
                (!pays->native && jn_read_global_freeze(v, &pays->issuer));
    p->owners = owners;
    p->cap_owners = cap;
}

/* a < b ? a : b, as std::min(b, a) picks. */
static const jt_amount *amount_min(const jt_amount *a, const jt_amount *b)
{
    return jt_amount_cmp(b, a) < 0 ? b : a;
}

bool jn_book_page_next(const jn_view *v, const jn_env *env, jn_book_page *p, jn_book_offer *o)
{
    for (;;) {
        memset(o, 0, sizeof *o);
        if (!jn_book_next(v, &p->c, o->id, &o->offer, &o->quality))
            return false;
        jt_account_id owner;
        if (!o->offer || jt_obj_get_account_f(o->offer, FLD("Account"), &owner) != JT_OK ||
            jt_obj_get_amount_f(o->offer, FLD("TakerGets"), &o->gets) != JT_OK ||
            jt_obj_get_amount_f(o->offer, FLD("TakerPays"), &o->pays) != JT_OK)
            continue;
        bool issuer = !o->gets.native && same_account(&owner, &p->gets_issuer);
        jn_book_owner *slot = NULL;
        o->first = true;
        if (issuer) {
            o->owner_funds = o->gets;
        } else if (p->frozen) {
            jt_amount_zero_like(&o->owner_funds, &o->gets);
        } else {
            for (size_t i = 0; i < p->n_owners; i++)
                if (same_account(&p->owners[i].owner, &owner)) {
                    slot = &p->owners[i];
                    break;
                }
            if (slot) {
                o->owner_funds = slot->left;
                o->first = false;
            } else {
                jn_read_offer_funds(v, env, &owner, &o->gets, &o->owner_funds);
                if (p->n_owners < p->cap_owners) {
                    slot = &p->owners[p->n_owners++];
                    slot->owner = owner;
                }
            }
        }
        bool charged =
            p->rate != JT_QUALITY_ONE && !same_account(&p->taker, &p->gets_issuer) && !issuer;
        jt_amount rate_amt, limit = o->owner_funds;
        jt_amount_from_transfer_rate(p->rate, &rate_amt);
        if (charged && jt_amount_div(&o->owner_funds, &rate_amt, &o->owner_funds, &limit) != JT_OK)
            limit = o->owner_funds;
        jt_amount gets_funded = o->gets;
        o->funded = jt_amount_cmp(&limit, &o->gets) >= 0;
        if (!o->funded) {
            gets_funded = limit;
            o->gets_funded = limit;
            jt_amount dir_rate, x;
            if (jt_amount_from_rate(o->quality, &dir_rate) == JT_OK &&
                jt_amount_mul(&gets_funded, &dir_rate, &o->pays, &x) == JT_OK)
                o->pays_funded = *amount_min(&o->pays, &x);
            else
                o->pays_funded = o->pays;
        }
        if (slot) {
            jt_amount paid = gets_funded, x;
            if (charged && jt_amount_mul(&gets_funded, &rate_amt, &gets_funded, &x) == JT_OK)
                paid = *amount_min(&o->owner_funds, &x);
            if (jt_amount_sub(&o->owner_funds, &paid, &slot->left) != JT_OK ||
                jt_amount_sign(&slot->left) < 0)
                jt_amount_zero_like(&slot->left, &o->gets);
        }
        return true;
    }
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
    const jt_obj *rel = relation(v, issuer, holder, JN_REL_FREEZE, cur);
    jt_amount lim;
    return rel && (jt_obj_get_amount_f(rel, FLD("LimitAmount"), &lim) != JT_OK || jt_amount_is_zero(&lim));
}

bool jn_read_frozen_amount(const jn_view *v, const jt_account_id *holder, const jt_account_id *issuer,
                           const jt_currency *cur, jt_amount *out)
{
    if (same_account(holder, issuer))
        return false;
    const jt_obj *rel = relation(v, issuer, holder, JN_REL_FREEZE, cur);
    jt_amount lim;
    if (!rel || jt_obj_get_amount_f(rel, FLD("LimitAmount"), &lim) != JT_OK || jt_amount_is_zero(&lim))
        return false;
    *out = lim;
    out->currency = *cur;
    out->issuer = *issuer;
    return true;
}

int jn_read_relation_funds_check(const jn_view *v, const jt_account_id *who, const jt_amount *amount)
{
    jt_amount held, bal, free_;
    if (amount->native || !jn_read_frozen_amount(v, who, &amount->issuer, &amount->currency, &held))
        return JT_tesSUCCESS;
    uint8_t k[32];
    jn_id_line(who, &amount->issuer, &amount->currency, k);
    const jt_obj *l = jn_view_read(v, k);
    if (!l)
        return JT_telINSUF_FUND;
    jn_read_line_balance(l, memcmp(who->bytes, amount->issuer.bytes, 20) < 0, &bal);
    bal.currency = amount->currency;
    bal.issuer = amount->issuer;
    if (jt_amount_sub(&bal, &held, &free_) != JT_OK || jt_amount_cmp(&free_, amount) < 0)
        return JT_telINSUF_FUND;
    return JT_tesSUCCESS;
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

bool jn_read_auth_cap(const jn_view *v, const jt_account_id *holder, const jt_account_id *issuer,
                      const jt_currency *cur, jt_amount *cap)
{
    if (!jn_read_auth_required(v, holder, issuer))
        return false;
    if (line_flags_between(v, holder, issuer, cur) &
        issuer_side(holder, issuer, JT_LSF_LOW_AUTH, JT_LSF_HIGH_AUTH))
        return false;
    const jt_obj *rel = relation(v, issuer, holder, JN_REL_AUTHORIZE, cur);
    jt_amount lim;
    if (!rel || jt_obj_get_amount_f(rel, FLD("LimitAmount"), &lim) != JT_OK || jt_amount_is_zero(&lim))
        return false;
    *cap = lim;
    return true;
}

const jt_obj *jn_read_brokerage(const jn_view *v, const jt_account_id *platform,
                                const jt_amount *like)
{
    static const jt_currency zc;
    static const jt_account_id za;
    uint8_t k[32];
    jn_id_brokerage(platform, like->native ? &zc : &like->currency,
                    like->native ? &za : &like->issuer, k);
    return jn_view_read(v, k);
}
