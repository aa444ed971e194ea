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
