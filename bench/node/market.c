#include "common.h"

/* What taker t buys, in units of 0.01 CNY: a fixed scramble of t, so that
 * the large ones do not all fall on one account or one connection. */
unsigned taker_units(size_t t)
{
    uint32_t h = (uint32_t)t * 2654435761u;
    h ^= h >> 15;
    if ((h >> 8) % 10 == 0)
        return 105 + (h >> 20) % 91; /* 1.05 .. 1.95 CNY */
    return 5 + (h >> 20) % 31;       /* 0.05 .. 0.35 CNY */
}

static jt_err cny(jt_amount *a, const char *issuer, unsigned units)
{
    char v[32];
    snprintf(v, sizeof v, "%u.%02u", units / 100, units % 100);
    return jt_amount_issued(a, v, "CNY", issuer, 0, NULL);
}

static jt_err sign_offers_tx(void *ctx, size_t k)
{
    const offer_job *j = ctx;
    const ospec *s = &j->spec[k];
    ptx *p = &j->v[k];
    const account *from = &j->accts[s->src];
    p->src = s->src;
    jt_amount a1, a2;
    jt_err e;
    jt_obj *tx;
    switch (s->type) {
    case S_TRUST:
        e = jt_amount_issued(&a1, LINE_LIMIT, "CNY", j->issuer, 0, NULL);
        if (e)
            return e;
        tx = tx_begin(JT_TX_TRUST_SET, 0, from, s->seq);
        return tx_finish(p, k, tx, from, tx ? jt_obj_set_amount(tx, "LimitAmount", &a1) : JT_OK);
    case S_ISSUE:
        e = jt_amount_issued(&a1, MAKER_CNY, "CNY", j->issuer, 0, NULL);
        return e ? e : sign_payment(p, k, from, s->seq, &j->accts[s->param].id, &a1);
    case S_MAKER: /* sells 1 CNY for the level's price */
        p->kind = K_MAKER;
        if ((e = drops(&a1, LEVEL0_DROPS + (uint64_t)LEVEL_STEP * s->param)) ||
            (e = cny(&a2, j->issuer, OFFER_CNY_UNITS)))
            return e;
        break;
    case S_XPAY: /* delivers param/100 CNY to dst, SWT spent through the book */
        p->kind = K_XPAY;
        if ((e = cny(&a1, j->issuer, s->param)) ||
            (e = drops(&a2, (uint64_t)s->param * (TAKER_LIMIT / 100))))
            return e;
        tx = tx_begin(JT_TX_PAYMENT, 0, from, s->seq);
        e = tx ? jt_obj_set_account(tx, "Destination", &j->accts[s->dst].id) : JT_OK;
        if (!e && tx)
            e = jt_obj_set_amount(tx, "Amount", &a1);
        if (!e && tx)
            e = jt_obj_set_amount(tx, "SendMax", &a2);
        return tx_finish(p, k, tx, from, e);
    default: /* S_TAKER: buys param/100 CNY, paying at most TAKER_LIMIT per CNY */
        p->kind = K_TAKER;
        if ((e = cny(&a1, j->issuer, s->param)) ||
            (e = drops(&a2, (uint64_t)s->param * (TAKER_LIMIT / 100))))
            return e;
        break;
    }
    tx = tx_begin(JT_TX_OFFER_CREATE, 0, from, s->seq);
    e = tx ? jt_obj_set_amount(tx, "TakerPays", &a1) : JT_OK;
    if (!e && tx)
        e = jt_obj_set_amount(tx, "TakerGets", &a2);
    return tx_finish(p, k, tx, from, e);
}

void sign_offers_set(ptx_set *set, const ospec *spec, size_t n, const account *accts,
                     const char *issuer, const char *what)
{
    set_alloc(set, n);
    offer_job j = {.accts = accts, .issuer = issuer, .spec = spec, .v = set->v};
    parallel(n, sign_offers_tx, &j, what);
    set_signed(set);
}

/* The first offer of the book as book_offers shows it: its quality (SWT
 * drops per CNY); dies unless the reply holds `limit` CNY-selling offers. */
double book_top(bench *b, unsigned limit)
{
    jt_json_doc *d = ctrl_call(b, 30, "%s", b->book_req);
    const jt_json *offers = jt_json_get(jt_json_get(jt_json_root(d), "result"), "offers");
    if (!offers || offers->kind != JT_JSON_ARRAY || offers->u.arr.n != limit)
        die("book_offers: expected %u offers, got %zu", limit,
            offers && offers->kind == JT_JSON_ARRAY ? offers->u.arr.n : 0);
    const jt_json *tg = jt_json_get(offers->u.arr.items[0], "TakerGets");
    const char *cur = jt_json_string(jt_json_get(tg, "currency"));
    const char *q = jt_json_string(jt_json_get(offers->u.arr.items[0], "quality"));
    if (!cur || strcmp(cur, "CNY") || !q)
        die("book_offers: the first offer does not sell CNY");
    double quality = strtod(q, NULL);
    jt_json_doc_free(d);
    return quality;
}

/* An account's CNY balance (account_lines), in CNY. */
double account_cny(bench *b, const account *acct)
{
    double sum = 0;
    char addr[JT_ADDRESS_MAX];
    check(jt_address_encode(&acct->id, addr), "address");
    jt_json_doc *d = ctrl_call(b, 30, "\"command\":\"account_lines\",\"account\":\"%s\"", addr);
    const jt_json *lines = jt_json_get(jt_json_get(jt_json_root(d), "result"), "lines");
    for (size_t i = 0; lines && lines->kind == JT_JSON_ARRAY && i < lines->u.arr.n; i++) {
        const jt_json *l = lines->u.arr.items[i];
        const char *cur = jt_json_string(jt_json_get(l, "currency"));
        const char *bal = jt_json_string(jt_json_get(l, "balance"));
        if (cur && bal && !strcmp(cur, "CNY"))
            sum += strtod(bal, NULL);
    }
    jt_json_doc_free(d);
    return sum;
}

/* Sum of some accounts' CNY balances (account_lines), in CNY. */
double takers_cny(bench *b, const account *accts, size_t first, size_t n)
{
    double sum = 0;
    for (size_t a = first; a < first + n; a++)
        sum += account_cny(b, &accts[a]);
    return sum;
}

/* The market's set-up, not measured: funding, the trust lines, CNY issued
 * to the makers and the book, each set submitted and checked (every offer
 * of the book placed); the three sets are freed. Returns the best offer's
 * price, checked to be the first level's. t_keys and t_sign are the times
 * the caller spent on keys and signing, for the set-up line. */
double market_setup(bench *b, ptx_set *trust, ptx_set *issue, ptx_set *book, size_t nbook,
                    double t_keys, double t_sign)
{
    double t1 = now();
    submit_set(b, &b->fund, "funding");
    submit_set(b, trust, "trust lines");
    submit_set(b, issue, "issuing CNY to the makers");
    b->offer_meta = true;
    submit_set(b, book, "placing the book");
    offer_tally bt = {0};
    tally_offers(book, 0, nbook, 0, &bt);
    if (bt.makers_placed != nbook)
        die("placing the book: %zu of %zu offers placed", bt.makers_placed, nbook);
    b->book_depth = (long)nbook;
    set_free(trust);
    set_free(issue);
    set_free(book);
    double top0 = book_top(b, b->br.expect);
    if (top0 != LEVEL0_DROPS)
        die("book_offers: the best offer is at %.0f drops/CNY, not %u", top0, LEVEL0_DROPS);
    if (!b->json)
        printf("set-up (not measured): keys and plan %.1f s, signing %.1f s on 2 threads, "
               "funding, trust lines, CNY and the book %.1f s; best offer %.0f drops/CNY\n",
               t_keys, t_sign, now() - t1, top0);
    return top0;
}

/* The market's set-up transactions, in order: a TrustSet for CNY from
 * every account but the issuer (accounts 1 .. na-1), CNY issued to the
 * makers (accounts 1 .. nm), and the book (nbook offers, ten to a price
 * level, the makers in turn). seq[] holds each account's next Sequence
 * and is advanced. The three arrays are the caller's to free. */
void market_plan(size_t na, size_t nm, size_t nbook, uint32_t *seq, ospec **st, ospec **si,
                 ospec **sb)
{
    *st = xcalloc(na - 1, sizeof **st);
    *si = xcalloc(nm, sizeof **si);
    *sb = xcalloc(nbook, sizeof **sb);
    for (size_t a = 1; a < na; a++)
        (*st)[a - 1] = (ospec){S_TRUST, (uint32_t)a, seq[a]++, 0, 0};
    for (size_t m = 0; m < nm; m++)
        (*si)[m] = (ospec){S_ISSUE, 0, seq[0]++, (uint32_t)(1 + m), 0};
    for (size_t j = 0; j < nbook; j++) {
        uint32_t m = (uint32_t)(1 + j % nm);
        (*sb)[j] = (ospec){S_MAKER, m, seq[m]++, (uint32_t)(j / OFFERS_PER_LEVEL), 0};
    }
}

/* The load's plan: n transactions into sl, the takers (offers mode) or
 * payments (xpay mode) in turn, taker t made by taker(t). With
 * b->refill_inline each is followed by the makers' offers that replace what
 * the takers have bought so far, per connection: connection c (accounts a
 * with a % nconns == c) carries its takers' refills, made by its own
 * makers, so the book keeps its depth however far apart the connections
 * are when a round ends. Otherwise the load is the takers alone and
 * market_refill keeps the book deep between the rounds. Returns the number
 * of takers; *units gets what they buy in all, in units of 0.01 CNY. */
size_t market_load(const bench *b, ospec *sl, size_t n, size_t nbook, uint32_t *seq,
                   ospec (*taker)(size_t t, uint32_t *seq, void *ctx), void *ctx,
                   uint64_t *units)
{
    size_t k = 0, t = 0, made = 0, nm = b->nmakers;
    size_t nc = (size_t)b->nconns, made_c[MAX_CONNS] = {0};
    uint64_t bought_c[MAX_CONNS] = {0};
    if (nm < nc)
        die("--makers must be at least --conns (%zu)", nc);
    *units = 0;
    while (k < n) {
        ospec s = taker(t++, seq, ctx);
        size_t c = s.src % nc;
        sl[k++] = s;
        *units += s.param;
        bought_c[c] += s.param;
        while (b->refill_inline && bought_c[c] >= (uint64_t)OFFER_CNY_UNITS * (made_c[c] + 1) &&
               k < n) {
            /* The makers of connection c: first, first + nc, ... <= nm. */
            size_t first = c ? c : nc, count = (nm - first) / nc + 1;
            uint32_t m = (uint32_t)(first + nc * (made_c[c]++ % count));
            sl[k++] =
                (ospec){S_MAKER, m, seq[m]++, (uint32_t)((nbook + made++) / OFFERS_PER_LEVEL), 0};
        }
    }
    return t;
}

/* Unless --refills inline: the makers' refills go between the rounds,
 * made by rf (which must outlive the rounds). seq: every account's next
 * Sequence; per_taker: offers a taker takes in full, on average. */
void market_refills(bench *b, refiller *rf, const account *accts, const char *issuer,
                    uint32_t *seq, size_t nbook, double per_taker)
{
    *rf = (refiller){.accts = accts,
                     .issuer = issuer,
                     .seq = seq,
                     .nm = b->nmakers,
                     .nbook = nbook,
                     .per_taker = per_taker};
    if (!b->refill_inline)
        b->refill = rf;
}

/* Before round `round` (0, 1, ...), off the clock: tops the book up with
 * the makers' offers, each on the next level behind the book, so that it
 * stays at least nbook deep all through the round. The round may take
 * before the first round, what takers at half the verify ceiling would
 * take (far above any rate seen), and after it 1.3 times the most the
 * takers took in one round, plus 1 000. taken_last: what the last round's
 * takers took in full. */
void market_refill(bench *b, int round, double ceiling, size_t taken_last)
{
    refiller *f = b->refill;
    if (taken_last > f->max_taken)
        f->max_taken = taken_last;
    double room = round == 0 ? ceiling * 0.5 * b->round_secs * f->per_taker
                             : 1.3 * (double)f->max_taken + 1000;
    long want = (long)f->nbook + (long)room;
    if (b->book_depth >= want)
        return;
    double t0 = now();
    size_t n = (size_t)(want - b->book_depth);
    ospec *sp = xcalloc(n, sizeof *sp);
    for (size_t i = 0; i < n; i++) {
        uint32_t m = (uint32_t)(1 + (f->made + i) % f->nm);
        sp[i] = (ospec){S_MAKER, m, f->seq[m]++,
                        (uint32_t)((f->nbook + f->made + i) / OFFERS_PER_LEVEL), 0};
    }
    ptx_set set;
    sign_offers_set(&set, sp, n, f->accts, f->issuer, "signing the makers' refills");
    submit_set(b, &set, "placing the makers' refills");
    offer_tally t = {0};
    tally_offers(&set, 0, n, 0, &t);
    if (t.makers_placed != n)
        die("placing the makers' refills: %zu of %zu offers placed", t.makers_placed, n);
    b->book_depth += (long)n;
    f->made += n;
    set_free(&set);
    free(sp);
    f->secs += now() - t0;
}

/* The book's depth over the rounds: the least (after a round) and the most
 * (before one); not ok when, with the refills between the rounds, it fell
 * below the depth it was built at. */
depth_range market_depths(const bench *b, const load_res *L)
{
    depth_range d = {.min = L->rounds ? LONG_MAX : 0, .max = 0, .ok = true};
    for (int r = 0; r < L->rounds; r++) {
        if (L->rr[r].depth < d.min)
            d.min = L->rr[r].depth;
        if (L->rr[r].depth0 > d.max)
            d.max = L->rr[r].depth0;
    }
    d.ok = !b->refill || d.min >= (long)b->refill->nbook;
    return d;
}

void print_depths(const bench *b, const depth_range *d)
{
    if (b->refill)
        printf("  %-46s %zu placed between the rounds, off the clock (%.1f s); the book %ld..%ld "
               "deep during the rounds\n",
               "makers' refills", b->refill->made, b->refill->secs, d->min, d->max);
    else
        printf("  %-46s in the load, behind the takers (--refills inline); the book %ld..%ld "
               "deep at the rounds' ends\n",
               "makers' refills", d->min, d->max);
}
