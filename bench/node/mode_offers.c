#include "common.h"

/* ---------------------------------------------------------------- book_offers clients */

typedef struct book_res {
    double secs, rate, p50, p99, pmax;
    size_t replies, bad;
    double node_cpu_share, self_cpu_share;
} book_res;

/* book_offers (limit b->br.expect) of the CNY/SWT book for `secs` seconds,
 * from b->book_clients connections, each keeping b->book_window requests
 * outstanding. Rate: replies received in the window; latency: request ->
 * reply of the requests sent in it. */
static void book_bench(bench *b, double secs, book_res *out)
{
    if (!b->nbook) {
        for (int i = 0; i < b->book_clients; i++) {
            char name[16];
            snprintf(name, sizeof name, "book%d", i);
            conn_open(b, &b->book[i], name, false);
            b->nbook = i + 1;
        }
        for (int i = 0; i < b->nbook; i++)
            wait_open(b, &b->book[i]);
    }
    book_run *r = &b->br;
    r->nlat = r->replies = r->bad = r->sent = 0;
    r->first_bad[0] = 0;
    r->t_start = now() + 0.3; /* a short warm-up, not counted */
    r->t_end = r->t_start + secs;
    r->sending = true;
    while (now() < r->t_start)
        pump(b, 5);
    double cn0 = node_cpu(), cs0 = self_cpu();
    while (now() < r->t_end) {
        pump(b, 5);
        node_check_alive();
    }
    double cn = node_cpu() - cn0, cs = self_cpu() - cs0;
    r->sending = false;
    double t0 = now();
    for (;;) {
        size_t inflight = 0;
        for (int i = 0; i < b->nbook; i++)
            inflight += b->book[i].inflight;
        if (!inflight)
            break;
        if (now() - t0 > 30)
            die("%zu book_offers requests unanswered after 30 s", inflight);
        pump(b, 20);
    }
    qsort(r->lat, r->nlat, sizeof *r->lat, cmp_double);
    memset(out, 0, sizeof *out);
    out->secs = secs;
    out->replies = r->replies;
    out->bad = r->bad;
    out->rate = (double)r->replies / secs;
    out->p50 = pct(r->lat, r->nlat, 50);
    out->p99 = pct(r->lat, r->nlat, 99);
    out->pmax = r->nlat ? r->lat[r->nlat - 1] : 0;
    out->node_cpu_share = cn / secs;
    out->self_cpu_share = cs / secs;
    if (r->bad)
        die("%zu of %zu book_offers replies were not %zu offers (first: %s)", r->bad,
            r->replies + r->bad, r->expect, r->first_bad);
}

typedef struct taker_ctx {
    size_t nm, nt;
} taker_ctx;

/* Taker t: account 1 + nm + t % nt buys taker_units(t) CNY. */
static ospec offer_taker(size_t t, uint32_t *seq, void *ctx)
{
    const taker_ctx *c = ctx;
    uint32_t a = (uint32_t)(1 + c->nm + t % c->nt);
    return (ospec){S_TAKER, a, seq[a]++, taker_units(t), 0};
}

/* Offers mode: set-up, the load in rounds, book_offers, and the report.
 * Returns the exit status (3: the offers did not cross or fill). */
int offers_run(bench *b, const account *genesis, uint32_t gseq, const char *ledger_dir)
{
    size_t nm = b->nmakers, nt = b->ntakers, na = 1 + nm + nt;
    double t0 = now();
    account *accts = make_accounts(na);
    char issuer[JT_ADDRESS_MAX];
    check(jt_address_encode(&accts[0].id, issuer), "issuer address");
    snprintf(b->book_req, sizeof b->book_req,
             "\"command\":\"book_offers\",\"taker_gets\":{\"currency\":\"CNY\",\"issuer\":\"%s\"},"
             "\"taker_pays\":{\"currency\":\"SWT\",\"issuer\":\"\"},\"limit\":20",
             issuer);
    b->br.expect = 20;
    uint32_t *seq = xcalloc(na, sizeof *seq);
    for (size_t a = 0; a < na; a++)
        seq[a] = 1; /* a new account's first Sequence */

    /* Set-up transactions: trust lines (makers and takers), CNY for the
     * makers, the book. */
    size_t ntrust = nm + nt, nbook = b->depth;
    ospec *st, *si, *sb, *sl = xcalloc(b->noffers, sizeof *sl);
    market_plan(na, nm, nbook, seq, &st, &si, &sb);
    /* The load: the takers in turn (with --refills inline, each followed by
     * the makers' refills; see market_load). */
    taker_ctx tc = {.nm = nm, .nt = nt};
    uint64_t units;
    size_t ntakers = market_load(b, sl, b->noffers, nbook, seq, offer_taker, &tc, &units);
    double t_keys = now() - t0;
    set_alloc(&b->fund, na);
    fund_job fj = {
        .genesis = genesis, .accts = accts, .gseq = gseq, .amount = FUND_DROPS, .v = b->fund.v};
    parallel(na, sign_fund, &fj, "signing funding payments");
    set_signed(&b->fund);
    ptx_set trust, issue, book;
    sign_offers_set(&trust, st, ntrust, accts, issuer, "signing TrustSets");
    sign_offers_set(&issue, si, nm, accts, issuer, "signing CNY payments");
    sign_offers_set(&book, sb, nbook, accts, issuer, "signing the book's offers");
    sign_offers_set(&b->txs, sl, b->noffers, accts, issuer, "signing the load's offers");
    double t_sign = now() - t0 - t_keys;
    int rounds = b->rounds;
    if ((size_t)rounds > b->noffers)
        rounds = (int)b->noffers;
    free(st);
    free(si);
    free(sb);
    refiller rf;
    market_refills(b, &rf, accts, issuer, seq, nbook, (double)units / OFFER_CNY_UNITS / (double)ntakers);
    if (!b->json)
        printf("bench_node --mode offers: %s, issuer of CNY, %zu makers, %zu takers; a book %zu "
               "offers deep; %zu pre-signed OfferCreates (%zu takers, %zu makers' refills%s) for "
               "%d rounds of %.0f s, %d jtp connections x window %zu, close every %u ms\n",
               b->node, nm, nt, nbook, b->noffers, ntakers, b->noffers - ntakers,
               b->refill ? "; the refills between the rounds, off the clock" : "", rounds,
               b->round_secs, b->nconns, b->window, b->close_ms);

    /* ---- set-up (not measured) ---- */
    double top0 = market_setup(b, &trust, &issue, &book, nbook, t_keys, t_sign);

    /* ---- book_offers on the book as placed ---- */
    book_res br0;
    book_bench(b, b->book_secs, &br0);
    if (!b->json) {
        char g1[32];
        printf("book_offers (limit %zu) on the %zu-deep book, %d clients x %zu outstanding: %s/s, "
               "p50 %.2f ms, p99 %.2f ms; node CPU %.0f %% of a core\n",
               b->br.expect, nbook, b->nbook, b->book_window, grouped(br0.rate, g1, sizeof g1),
               br0.p50, br0.p99, 100 * br0.node_cpu_share);
    }

    /* ---- the load ---- */
    size_t bounds[MAX_ROUNDS + 1];
    for (int r = 0; r <= rounds; r++)
        bounds[r] = b->noffers * (size_t)r / (size_t)rounds;
    load_res L;
    memset(&L, 0, sizeof L);
    run_rounds(b, &L, bounds, rounds, ledger_dir);

    /* ---- off the clock: did the takers fill, and do the balances show it? ---- */
    offer_tally ot = {0};
    tally_offers(&b->txs, 0, b->txs.n, 0, &ot);
    uint64_t filled_units = 0;
    for (size_t i = 0; i < b->txs.n; i++) {
        const ptx *p = &b->txs.v[i];
        if (p->kind == K_TAKER && p->has_result && !p->ter_val && p->crossed && !p->placed)
            filled_units += sl[i].param;
    }
    double held = takers_cny(b, accts, 1 + nm, nt), bought = (double)filled_units / 100;
    double diff = held - bought;
    /* Exact when every taker filled; a taker left resting in the book may
     * be filled later by a maker's offer, so then only "at least". */
    bool balances_ok = ot.rested ? diff > -0.005 : diff > -0.005 && diff < 0.005;
    bool did_cross = ot.takers && ot.crossed * 100 >= ot.takers * 99;
    bool filled_ok = ot.filled * 100 >= ot.crossed * 99;
    bool pass_ratio = L.cross_ratio >= 0.35;
    depth_range dr = market_depths(b, &L);
    double top1 = book_top(b, b->br.expect);
    book_res br1;
    book_bench(b, b->book_secs, &br1);

    long rss, hwm, anon, file;
    node_memory(&rss, &hwm, &anon, &file);
    double p50 = pct(L.lat, L.nlat, 50), p99 = pct(L.lat, L.nlat, 99);
    double a50 = pct(L.ack, L.nack, 50), a99 = pct(L.ack, L.nack, 99);
    double node_us = L.validated ? L.cpu_node / (double)L.validated * 1e6 : 0;
    char verdict[160];
    if (!did_cross)
        snprintf(verdict, sizeof verdict,
                 "FAIL (did not cross: %zu of %zu takers took from the book)", ot.crossed,
                 ot.takers);
    else if (!dr.ok)
        snprintf(verdict, sizeof verdict, "FAIL (the book fell to %ld deep, below %zu)", dr.min,
                 nbook);
    else if (!filled_ok)
        snprintf(verdict, sizeof verdict, "FAIL (not filled: %zu of %zu crossing takers rested)",
                 ot.crossed - ot.filled, ot.crossed);
    else if (!balances_ok)
        snprintf(verdict, sizeof verdict,
                 "FAIL (takers hold %.2f CNY, the fills in the metadata say %.2f)", held, bought);
    else
        snprintf(verdict, sizeof verdict, "%s", pass_ratio ? "PASS" : "BELOW");
    bool fail = !did_cross || !dr.ok || !filled_ok || !balances_ok;
    double tt = ot.takers_tes ? (double)ot.takers_tes : 1;

    if (b->json) {
        printf(
            "{\"bench\": \"bench_node\", \"mode\": \"offers\", \"makers\": %zu, \"takers\": %zu, "
            "\"depth\": %zu, \"offers\": %zu, \"rounds\": %d, \"conns\": %d, \"window\": %zu,\n"
            "  \"crossing_takers_per_s\": %.1f, \"offer_creates_per_s\": %.1f, \"steady\": %s, "
            "\"verify_ceiling_per_s\": %.1f, \"verify_1thread_per_s\": %.1f,\n"
            "  \"ratio\": %.4f, \"ratio_min\": %.4f, \"ratio_max\": %.4f, \"ratio_all\": %.4f,\n"
            "  \"takers_submitted\": %zu, \"takers_tes\": %zu, \"takers_crossed\": %zu, "
            "\"takers_filled\": %zu, \"took_from\": [%zu, %zu, %zu, %zu, %zu], "
            "\"offers_taken\": %zu, \"maker_offers_placed\": %zu, \"book_depth_end\": %ld,\n"
            "  \"refills\": \"%s\", \"book_depth_min\": %ld, \"book_depth_max\": %ld,\n"
            "  \"takers_cny_held\": %.2f, \"takers_cny_bought\": %.2f, \"verdict\": \"%s\",\n"
            "  \"latency_ms\": {\"p50\": %.1f, \"p99\": %.1f}, \"reply_ms\": {\"p50\": %.1f, "
            "\"p99\": %.1f}, \"node_cpu_us_per_tx\": %.1f, \"rss_kb\": %ld,\n"
            "  \"book_offers\": {\"limit\": %zu, \"clients\": %d, \"window\": %zu, "
            "\"per_s\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"after_load_per_s\": %.1f, "
            "\"after_load_p99_ms\": %.3f}}\n",
            nm, nt, nbook, b->noffers, L.rounds, b->nconns, b->window, L.cross_rate, L.rate,
            L.all_steady ? "true" : "false", L.ceiling, L.ceil1, L.cross_ratio, L.cross_ratio_min,
            L.cross_ratio_max, L.ratio, ot.takers, ot.takers_tes, ot.crossed, ot.filled, ot.hist[0],
            ot.hist[1], ot.hist[2], ot.hist[3], ot.hist[4], ot.taken, ot.makers_placed,
            b->book_depth, b->refill ? "between" : "inline", dr.min, dr.max, held, bought, verdict, p50, p99, a50, a99, node_us, rss, b->br.expect,
            b->nbook, b->book_window, br0.rate, br0.p50, br0.p99, br1.rate, br1.p99);
    } else {
        char g1[32], g2[32], g3[32];
        printf("\nbaseline: secp256k1_ecdsa_verify on pre-made signatures, between the rounds\n");
        printf("  %-46s %12s /s\n", "two threads (ceiling, median of rounds)",
               grouped(L.ceiling, g1, sizeof g1));
        printf("  %-46s %12s /s\n", "one thread (information)", grouped(L.ceil1, g1, sizeof g1));
        printf(
            "\nload: %zu OfferCreates sent (%zu takers, %zu makers' refills) in %d rounds, %.1f s "
            "of load\n",
            ot.takers + ot.makers, ot.takers, ot.makers, L.rounds, L.secs);
        printf("  %-46s %12s /s (%s)\n", "crossing takers (took from the book), median",
               grouped(L.cross_rate, g1, sizeof g1),
               L.all_steady ? "steady state: ledgers closed while submitting"
                            : "some rounds too short for a steady window: raise --offers");
        printf("  %-46s %12s /s\n", "all OfferCreates (tesSUCCESS), median of rounds",
               grouped(L.rate, g1, sizeof g1));
        printf("  %-46s %12s /s\n", "submit replies, median of rounds",
               grouped(L.submit_rate, g1, sizeof g1));
        printf("  %-46s %zu of %zu sent (tesSUCCESS %zu); rejected at submit %zu\n", "validated",
               L.validated, ot.takers + ot.makers, L.tes, L.rejected);
        printf("  %-46s %zu tesSUCCESS of %zu; took from 0 offers %.1f %%, 1: %.1f %%, 2: %.1f "
               "%%, 3: %.1f %%, more: %.1f %%\n",
               "takers", ot.takers_tes, ot.takers, 100 * (double)ot.hist[0] / tt,
               100 * (double)ot.hist[1] / tt, 100 * (double)ot.hist[2] / tt,
               100 * (double)ot.hist[3] / tt, 100 * (double)ot.hist[4] / tt);
        printf("  %-46s %zu filled in full, %zu left resting in the book\n", "", ot.filled,
               ot.rested);
        printf("  %-46s %zu taken in full, %zu placed by makers in the load; now %ld deep (from "
               "%zu)\n",
               "offers in the book", ot.taken, ot.makers_placed, b->book_depth, nbook);
        print_depths(b, &dr);
        printf("  %-46s %.0f drops/CNY before the load, %.0f after\n", "best offer", top0, top1);
        printf("  %-46s %.2f CNY held (account_lines), %.2f CNY bought by the filled takers "
               "(metadata)  %s\n",
               "takers' balances", held, bought, balances_ok ? "agree" : "DISAGREE");
        printf("  %-46s %9.0f ms p50, %.0f ms p99\n", "submit -> validated", p50, p99);
        printf("  %-46s %9.1f ms p50, %.1f ms p99\n", "submit -> reply", a50, a99);
        printf("  %-46s %9.1f %% of a core, %.1f us per OfferCreate; bench process %.1f %%; "
               "node RSS %.0f MB\n",
               "node CPU during the load", 100 * L.cpu_node / L.secs, node_us,
               100 * L.cpu_self / L.secs, (double)rss / 1024);
        print_thread_split(&L, (double)L.validated, "OfferCreate");
        printf("\nbook_offers (limit %zu), %d clients x %zu outstanding, %.0f s each\n",
               b->br.expect, b->nbook, b->book_window, b->book_secs);
        printf("  %-46s %12s /s, p50 %.2f ms, p99 %.2f ms, max %.2f ms; node CPU %.0f %%, "
               "bench %.0f %%\n",
               "on the book as placed", grouped(br0.rate, g1, sizeof g1), br0.p50, br0.p99,
               br0.pmax, 100 * br0.node_cpu_share, 100 * br0.self_cpu_share);
        printf("  %-46s %12s /s, p50 %.2f ms, p99 %.2f ms, max %.2f ms; node CPU %.0f %%, "
               "bench %.0f %%\n",
               "after the load", grouped(br1.rate, g1, sizeof g1), br1.p50, br1.p99, br1.pmax,
               100 * br1.node_cpu_share, 100 * br1.self_cpu_share);
        printf("\n  %-46s %12.3f (rounds %.3f..%.3f; target >= 0.35)  %s\n",
               "ratio crossing takers/s / verify ceiling", L.cross_ratio, L.cross_ratio_min,
               L.cross_ratio_max, verdict);
        printf("  %-46s %12.3f (rounds %.3f..%.3f; information)\n",
               "ratio all OfferCreates/s / verify ceiling", L.ratio, L.ratio_min, L.ratio_max);
        printf("\nSUMMARY offers: %s OfferCreates/s crossing 1-3 offers of a %zu-deep book, "
               "two-core verify ceiling %s/s, ratio %.3f (target >= 0.35)  %s\n",
               grouped(L.cross_rate, g1, sizeof g1), nbook, grouped(L.ceiling, g2, sizeof g2),
               L.cross_ratio, verdict);
        printf("SUMMARY offers: all OfferCreates (takers and the makers' refills) %s/s, ratio "
               "%.3f; takers took from 1/2/3 offers: %.0f/%.0f/%.0f %%; p99 submit->validated "
               "%.0f ms\n",
               grouped(L.rate, g3, sizeof g3), L.ratio, 100 * (double)ot.hist[1] / tt,
               100 * (double)ot.hist[2] / tt, 100 * (double)ot.hist[3] / tt, p99);
        printf("SUMMARY book_offers (limit %zu, %zu-deep book, %d clients x %zu): %s/s, p50 %.2f "
               "ms, p99 %.2f ms (after the load: %s/s, p99 %.2f ms)\n",
               b->br.expect, nbook, b->nbook, b->book_window, grouped(br0.rate, g1, sizeof g1),
               br0.p50, br0.p99, grouped(br1.rate, g2, sizeof g2), br1.p99);
    }
    free(sl);
    free(seq);
    b->refill = NULL;
    free_accounts(accts, na);
    free_load(&L);
    return fail ? 3 : 0;
}
