/*
 * pathfind.c — path finding (pathfind.h): source currencies, the search
 * over lines and books, ranking by the payment engine, source_amount.
 */
#include "pathfind.h"

#include "engine.h"
#include "paths.h"

#include <stdlib.h>
#include <time.h>

/* ---------------------------------------------------------------- currencies */

static bool cur_in(const jt_currency *list, size_t n, const jt_currency *c)
{
    for (size_t i = 0; i < n; i++)
        if (!memcmp(&list[i], c, sizeof *c))
            return true;
    return false;
}

static size_t account_currencies(const jn_view *v, const jt_account_id *a, bool send,
                                 jt_currency *out, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return 0;
    memset(&out[n++], 0, sizeof out[0]); /* SWT */
    uint8_t id[32];
    jn_dir_cursor c = {0};
    unsigned read = 0;
    while (n < cap && read++ < 1000 && jn_read_owner_next(v, a, &c, id)) {
        const jt_obj *o = jn_view_read(v, id);
        jn_line_side l;
        if (!o || !jn_read_line_side(o, a, &l))
            continue;
        bool ok;
        if (send) {
            jt_amount neg = l.balance;
            jt_amount_negate(&neg);
            ok = jt_amount_sign(&l.balance) > 0 || jt_amount_cmp(&l.limit_peer, &neg) > 0;
        } else {
            ok = jt_amount_cmp(&l.balance, &l.limit) < 0;
        }
        if (ok && !cur_in(out, n, &l.balance.currency))
            out[n++] = l.balance.currency;
    }
    return n;
}

size_t jn_pf_source_currencies(const jn_view *v, const jt_account_id *src, jt_currency *out,
                               size_t cap)
{
    return account_currencies(v, src, true, out, cap);
}

size_t jn_pf_dest_currencies(const jn_view *v, const jt_account_id *dst, jt_currency *out,
                             size_t cap)
{
    return account_currencies(v, dst, false, out, cap);
}

/* ---------------------------------------------------------------- the search */

#define MAX_TARGETS 10

typedef struct cand {
    jn_path p;
    uint64_t quality; /* in/out of the ranking run; 0: dry */
    jt_amount out;
} cand;

typedef struct search {
    const jn_view *v;
    const jn_env *env;
    jt_account_id src, dst;
    jt_amount amt;
    jn_pf_limits lim;
    struct timespec t0;
    unsigned nodes, calcs;
    bool stop; /* a bound was reached */
    bool oom;
    jt_amount targets[MAX_TARGETS]; /* assets a book may lead to */
    size_t n_targets;
    jn_path cur;
    cand *cands;
    size_t n_cands;
} search;

static const jt_account_id NONE;

static bool same_acct(const jt_account_id *a, const jt_account_id *b)
{
    return !memcmp(a->bytes, b->bytes, 20);
}

static unsigned elapsed_ms(const search *s)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    long ms = (t.tv_sec - s->t0.tv_sec) * 1000 + (t.tv_nsec - s->t0.tv_nsec) / 1000000;
    return ms < 0 ? 0 : (unsigned)ms;
}

/* Charges n units of work; false (and stop) once a bound is reached. */
static bool charge(search *s, unsigned n)
{
    if (s->stop)
        return false;
    s->nodes += n;
    if (s->nodes > s->lim.max_nodes || elapsed_ms(s) > s->lim.max_ms) {
        s->stop = true;
        return false;
    }
    return true;
}

static bool path_eq(const jn_path *a, const jn_path *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const jn_path_elem *x = &a->e[i], *y = &b->e[i];
        if (x->type != y->type || memcmp(&x->account, &y->account, 20) ||
            memcmp(&x->currency, &y->currency, 20) || memcmp(&x->issuer, &y->issuer, 20))
            return false;
    }
    return true;
}

static void add_candidate(search *s, const jn_path *p)
{
    if (p->n == 0 || s->n_cands >= JN_PF_MAX_CANDIDATES)
        return;
    for (size_t i = 0; i < s->n_cands; i++)
        if (path_eq(&s->cands[i].p, p))
            return;
    memset(&s->cands[s->n_cands], 0, sizeof s->cands[0]);
    s->cands[s->n_cands++].p = *p;
}

/* Does a line of currency cur join a and b? */
static bool has_line(const search *s, const jt_account_id *a, const jt_account_id *b,
                     const jt_currency *cur)
{
    uint8_t k[32];
    jn_id_line(a, b, cur, k);
    return jn_view_read(s->v, k) != NULL;
}

/* Does the book that takes `pays` and gives `gets` hold an offer? */
static bool book_exists(const search *s, const jt_amount *pays, const jt_amount *gets)
{
    jn_book_cursor c;
    uint8_t id[32];
    const jt_obj *o;
    uint64_t q;
    jn_book_cursor_init(&c, pays, gets);
    return jn_book_next(s->v, &c, id, &o, &q);
}

static bool path_has_account(const search *s, const jt_account_id *a)
{
    if (same_acct(a, &s->src))
        return true;
    for (size_t i = 0; i < s->cur.n; i++)
        if ((s->cur.e[i].type & JN_PATH_ACCOUNT) && same_acct(&s->cur.e[i].account, a))
            return true;
    return false;
}

static bool path_has_book_to(const search *s, const jt_amount *t)
{
    for (size_t i = 0; i < s->cur.n; i++) {
        const jn_path_elem *e = &s->cur.e[i];
        if (!(e->type & JN_PATH_CURRENCY))
            continue;
        if (memcmp(&e->currency, &t->currency, 20))
            continue;
        if (t->native || same_acct(&e->issuer, &t->issuer))
            return true;
    }
    return false;
}

/* The path so far reaches holder h in the destination currency: record
 * the candidate it makes, if any (the engine adds the Amount's issuer and
 * the destination after it). true when the search ends here. */
static bool complete(search *s, const jt_account_id *h, bool native)
{
    const jt_amount *amt = &s->amt;
    if (amt->native) {
        if (native)
            add_candidate(s, &s->cur);
        return false;
    }
    if (native || s->cur.n == 0)
        return false;
    bool any_issuer = same_acct(&amt->issuer, &s->dst);
    jn_path p = s->cur;
    const jn_path_elem *last = &p.e[p.n - 1];
    bool last_acct = (last->type & JN_PATH_ACCOUNT) != 0;
    if (same_acct(h, &s->dst) || (!any_issuer && same_acct(h, &amt->issuer))) {
        if (last_acct && same_acct(&last->account, h))
            p.n--;
        add_candidate(s, &p);
        return same_acct(h, &s->dst);
    }
    const jt_account_id *to = any_issuer ? &s->dst : &amt->issuer;
    if (has_line(s, h, to, &amt->currency))
        add_candidate(s, &p);
    return false;
}

static void explore(search *s, const jt_account_id *at, const jt_amount *asset, bool at_source);

static void push_and_explore(search *s, const jn_path_elem *e, const jt_account_id *at,
                             const jt_amount *asset)
{
    s->cur.e[s->cur.n++] = *e;
    explore(s, at, asset, false);
    s->cur.n--;
}

typedef struct link {
    jt_account_id peer;
    int score;
} link;

static int link_cmp(const void *a, const void *b)
{
    const link *x = a, *y = b;
    return y->score - x->score;
}

/* The accounts `at` can pass asset's currency to over its lines. */
static void account_links(search *s, const jt_account_id *at, const jt_amount *asset)
{
    link links[JN_PF_MAX_LINKS * 4];
    size_t n = 0;
    uint8_t id[32];
    jn_dir_cursor c = {0};
    bool any_issuer = same_acct(&s->amt.issuer, &s->dst);
    while (n < sizeof links / sizeof links[0] && jn_read_owner_next(s->v, at, &c, id)) {
        if (!charge(s, 1))
            break;
        const jt_obj *o = jn_view_read(s->v, id);
        jn_line_side l;
        if (!o || !jn_read_line_side(o, at, &l) || memcmp(&l.balance.currency, &asset->currency, 20))
            continue;
        if (path_has_account(s, &l.peer))
            continue;
        jt_amount neg = l.balance;
        jt_amount_negate(&neg);
        /* at holds the peer's IOUs (it redeems), or the peer trusts at. */
        if (!(jt_amount_sign(&l.balance) > 0 || jt_amount_cmp(&l.limit_peer, &neg) > 0))
            continue;
        if (l.no_skywell && !same_acct(at, &s->src) && s->cur.n > 0)
            continue; /* the engine would refuse rippling through at */
        int score = 0;
        bool dst_cur = !memcmp(&asset->currency, &s->amt.currency, 20) && !s->amt.native;
        if (dst_cur) {
            if (same_acct(&l.peer, &s->dst))
                score = 4;
            else if (!any_issuer && same_acct(&l.peer, &s->amt.issuer))
                score = 3;
            else if (has_line(s, &l.peer, any_issuer ? &s->dst : &s->amt.issuer, &s->amt.currency))
                score = 2;
        }
        links[n].peer = l.peer;
        links[n].score = score;
        n++;
    }
    qsort(links, n, sizeof links[0], link_cmp);
    if (n > JN_PF_MAX_LINKS)
        n = JN_PF_MAX_LINKS;
    for (size_t i = 0; i < n && !s->stop; i++) {
        jn_path_elem e;
        memset(&e, 0, sizeof e);
        e.type = JN_PATH_ACCOUNT;
        e.account = links[i].peer;
        jt_amount next = *asset;
        next.issuer = links[i].peer;
        push_and_explore(s, &e, &links[i].peer, &next);
    }
}

static void explore(search *s, const jt_account_id *at, const jt_amount *asset, bool at_source)
{
    if (!charge(s, 1))
        return;
    if (!at_source && !asset->native && !memcmp(&asset->currency, &s->amt.currency, 20)) {
        if (complete(s, at, false))
            return;
    } else if (!at_source && asset->native && s->amt.native) {
        complete(s, at, true);
        return;
    }
    if (s->cur.n >= JN_PF_MAX_DEPTH)
        return;
    /* An issued source currency (any issuer) goes to an issuer first. */
    if (at_source && !asset->native) {
        account_links(s, at, asset);
        return;
    }
    /* Books before lines: a book is one lookup and leads to the targets at
     * once, while an issuer's lines are many (each read costs the search's
     * budget) and mostly lead on to other holders. */
    for (size_t i = 0; i < s->n_targets && !s->stop; i++) {
        const jt_amount *t = &s->targets[i];
        if (jn_same_asset(t, asset) || path_has_book_to(s, t))
            continue;
        if (!charge(s, 1) || !book_exists(s, asset, t))
            continue;
        jn_path_elem e;
        memset(&e, 0, sizeof e);
        e.type = JN_PATH_CURRENCY;
        e.currency = t->currency;
        if (!t->native) {
            e.type |= JN_PATH_ISSUER;
            e.issuer = t->issuer;
        }
        push_and_explore(s, &e, t->native ? &NONE : &t->issuer, t);
    }
    if (!asset->native && !s->stop)
        account_links(s, at, asset);
}

/* The assets books may lead to: SWT, and the destination currency from
 * each issuer the destination takes it from. */
static void find_targets(search *s)
{
    jt_amount *t = s->targets;
    size_t n = 0;
    jt_amount_native(&t[n++], 0);
    if (s->amt.native) {
        s->n_targets = n;
        return;
    }
    jt_amount like;
    jt_amount_zero_like(&like, &s->amt);
    if (!same_acct(&s->amt.issuer, &s->dst)) {
        t[n++] = like;
        s->n_targets = n;
        return;
    }
    t[n] = like; /* the destination's own issue */
    n++;
    uint8_t id[32];
    jn_dir_cursor c = {0};
    unsigned read = 0;
    while (n < MAX_TARGETS && read++ < 200 && jn_read_owner_next(s->v, &s->dst, &c, id)) {
        const jt_obj *o = jn_view_read(s->v, id);
        jn_line_side l;
        if (!o || !jn_read_line_side(o, &s->dst, &l) ||
            memcmp(&l.balance.currency, &s->amt.currency, 20))
            continue;
        if (jt_amount_cmp(&l.balance, &l.limit) >= 0)
            continue;
        t[n] = like;
        t[n].issuer = l.peer;
        n++;
    }
    s->n_targets = n;
}

/* ---------------------------------------------------------------- ranking */

/* The engine over the given paths in a discarded child view of v: what
 * the sender spends and what arrives. */
static int run_calc(search *s, const jt_amount *max_in, const jn_pathset *ps, bool default_path,
                    bool partial, jn_ripple_out *out)
{
    s->calcs++;
    jn_view sb;
    jn_view_init(&sb, (jn_view *)s->v, NULL);
    jn_txctx c;
    memset(&c, 0, sizeof c);
    c.sb = &sb;
    c.env = s->env;
    c.account = s->src;
    jn_id_account(&s->src, c.account_key);
    jn_ripple_in in;
    memset(&in, 0, sizeof in);
    in.max_in = *max_in;
    in.dst_amount = s->amt;
    in.src = s->src;
    in.dst = s->dst;
    in.paths = ps;
    in.partial = partial;
    in.default_path = default_path;
    int r = jn_ripple_calc(&c, &in, out);
    if (c.oom)
        s->oom = true;
    jn_view_clear(&sb);
    return r;
}

static int cand_cmp(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (!x->quality != !y->quality)
        return x->quality ? -1 : 1;
    if (x->quality != y->quality)
        return x->quality < y->quality ? -1 : 1;
    return -jt_amount_cmp(&x->out, &y->out);
}

static bool calc_budget(search *s)
{
    if (s->calcs >= s->lim.max_calcs || elapsed_ms(s) > s->lim.max_ms) {
        s->stop = true;
        return false;
    }
    return true;
}

/* One source currency: search, rank, and the alternative. true when it
 * gives one. */
static bool find_for(search *s, const jt_currency *cur, jn_pf_alt *alt)
{
    jt_amount start, max_in;
    bool native = jt_currency_is_swt(cur);
    memset(&start, 0, sizeof start);
    if (native) {
        jt_amount_native(&start, 0);
        jt_amount_native(&max_in, -1);
    } else {
        start.currency = *cur;
        start.issuer = s->src;
        if (jt_amount_from_mantissa(&max_in, -1, 0, cur, &s->src) != JT_OK)
            return false;
    }
    /* The same currency from and to the same account: nothing to find. */
    if (same_acct(&s->src, &s->dst) && native == s->amt.native &&
        (native || !memcmp(cur, &s->amt.currency, 20)))
        return false;
    s->n_cands = 0;
    s->cur.n = 0;
    explore(s, &s->src, &start, true);

    for (size_t i = 0; i < s->n_cands; i++) {
        if (!calc_budget(s))
            break;
        jn_pathset one;
        memset(&one, 0, sizeof one);
        one.p[0] = s->cands[i].p;
        one.n = 1;
        jn_ripple_out o;
        int r = run_calc(s, &max_in, &one, false, true, &o);
        if (r == JT_tesSUCCESS && jt_amount_sign(&o.out) > 0 && jt_amount_sign(&o.in) > 0) {
            s->cands[i].quality = jt_amount_rate(&o.out, &o.in);
            if (!s->cands[i].quality)
                s->cands[i].quality = 1;
            s->cands[i].out = o.out;
        }
    }
    qsort(s->cands, s->n_cands, sizeof s->cands[0], cand_cmp);
    size_t live = 0;
    while (live < s->n_cands && s->cands[live].quality)
        live++;

    /* The best few with the default path; when they fall short, the next
     * best too, up to the most a payment may carry. */
    size_t take = live < JN_PF_BEST_PATHS ? live : JN_PF_BEST_PATHS;
    for (;;) {
        jn_pathset ps;
        memset(&ps, 0, sizeof ps);
        for (size_t i = 0; i < take; i++)
            ps.p[ps.n++] = s->cands[i].p;
        if (s->calcs >= s->lim.max_calcs + 2) /* the final runs have a small reserve */
            return false;
        jn_ripple_out o;
        int r = run_calc(s, &max_in, &ps, true, false, &o);
        if (r == JT_tesSUCCESS) {
            alt->source_amount = o.in;
            if (!native)
                alt->source_amount.issuer = s->src;
            alt->n_paths = ps.n;
            for (size_t i = 0; i < ps.n; i++) {
                alt->paths[i].n = ps.p[i].n;
                for (size_t e = 0; e < ps.p[i].n; e++) {
                    const jn_path_elem *x = &ps.p[i].e[e];
                    alt->paths[i].e[e] = (jn_pf_elem){x->type, x->account, x->currency, x->issuer};
                }
            }
            return true;
        }
        if (take >= live || take >= JN_MAX_PATHS)
            return false;
        take = live < JN_MAX_PATHS ? live : JN_MAX_PATHS;
    }
}

int jn_pathfind(const jn_view *v, const jn_env *env, const jt_account_id *src,
                const jt_account_id *dst, const jt_amount *dst_amt, const jt_currency *src_cur,
                size_t n_src_cur, const jn_pf_limits *lim, jn_pf_result *out)
{
    memset(out, 0, sizeof *out);
    search s;
    memset(&s, 0, sizeof s);
    s.v = v;
    s.env = env;
    s.src = *src;
    s.dst = *dst;
    s.amt = *dst_amt;
    s.lim.max_nodes = lim && lim->max_nodes ? lim->max_nodes : JN_PF_DEFAULT_NODES;
    s.lim.max_calcs = lim && lim->max_calcs ? lim->max_calcs : JN_PF_DEFAULT_CALCS;
    s.lim.max_ms = lim && lim->max_ms ? lim->max_ms : JN_PF_DEFAULT_MS;
    clock_gettime(CLOCK_MONOTONIC, &s.t0);
    s.cands = calloc(JN_PF_MAX_CANDIDATES, sizeof *s.cands);
    if (!s.cands)
        return -1;
    if (!jn_read_account(v, src) || jt_amount_sign(dst_amt) <= 0) {
        free(s.cands);
        return 0;
    }
    find_targets(&s);
    jt_currency curs[JN_PF_MAX_SRC_CUR];
    size_t nc;
    if (n_src_cur) {
        nc = n_src_cur < JN_PF_MAX_SRC_CUR ? n_src_cur : JN_PF_MAX_SRC_CUR;
        memcpy(curs, src_cur, nc * sizeof curs[0]);
    } else {
        nc = jn_pf_source_currencies(v, src, curs, JN_PF_MAX_SRC_CUR);
    }
    for (size_t i = 0; i < nc; i++) {
        if (s.stop || s.oom)
            break;
        if (find_for(&s, &curs[i], &out->alt[out->n]))
            out->n++;
    }
    out->truncated = s.stop;
    out->nodes = s.nodes;
    out->calcs = s.calcs;
    free(s.cands);
    return s.oom ? -1 : 0;
}

_Static_assert(JN_PF_PATH_LEN == JN_MAX_PATH_LENGTH && JN_PF_PATHS == JN_MAX_PATHS &&
                   JN_PF_ACCOUNT == JN_PATH_ACCOUNT && JN_PF_CURRENCY == JN_PATH_CURRENCY &&
                   JN_PF_ISSUER == JN_PATH_ISSUER,
               "path_find's paths are a Payment's");
