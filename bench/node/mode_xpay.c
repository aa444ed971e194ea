#include "common.h"

/* ---------------------------------------------------------------- xpay mode */

/*
 * Cross-currency payments through one order book, per second, against the
 * two-core verify ceiling (target >= 0.3).
 *
 * Accounts: 0 the issuer of CNY, 1..M makers, M+1..M+P payers,
 * M+P+1..M+P+R receivers; 1 000 SWT each from the genesis account.
 *
 * Set-up (not measured), as the offers mode builds its market: a CNY trust
 * line from every maker, payer and receiver; 10 000 CNY issued to every
 * maker; the book of `depth` 1-CNY offers selling CNY for SWT, ten to a
 * price level (see the comment above OFFER_CNY_UNITS in common.h). Payers
 * hold only SWT; their trust lines stay empty.
 *
 * The load, pre-signed: Payments from the payers, Amount u/100 CNY (the
 * issuer's) to a receiver, SendMax u * 0.1 SWT (10 SWT per CNY, far above
 * every price in the book), no Paths and no flags: jt-node's payment
 * engine takes the default path, the payer's SWT through the SWT -> CNY
 * book, CNY from the makers through the issuer to the receiver. The sizes
 * u are the offers mode's takers' (taker_units: 0.05-0.35 CNY, one in ten
 * 1.05-1.95 CNY), so each payment takes from 1-3 offers of the book. The
 * makers' refills follow the payments exactly as they follow the takers in
 * offers mode (one new 1-CNY offer behind the book for every CNY bought so
 * far, per connection), so the book stays `depth` deep.
 *
 * Counted, from every payment's metadata after each round (off the clock):
 * tesSUCCESS payments that took from the book (Offers of the makers
 * modified or deleted) and delivered exactly their Amount (the receiver's
 * RippleState grew by the Amount; no DeliveredAmount other than it). After
 * the load: every receiver's CNY balance (account_lines) must equal what
 * the metadata says it was delivered, and the payers must hold no CNY.
 */

#define XPAY_FAIL 3

/* A receiver's share of the load: payment t goes to receiver t % R. */
static size_t xpay_receiver(size_t t, size_t nr)
{
    return t % nr;
}

/* Index of the largest of n[0..count). */
static size_t most_other(const size_t *n, size_t count)
{
    size_t best = 0;
    for (size_t c = 1; c < count; c++)
        if (n[c] > n[best])
            best = c;
    return best;
}

typedef struct xpay_ctx {
    size_t payer0, recv0, np, nr;
} xpay_ctx;

/* Payment t: payer t % P delivers taker_units(t) CNY to receiver t % R. */
static ospec xpay_taker(size_t t, uint32_t *seq, void *ctx)
{
    const xpay_ctx *c = ctx;
    uint32_t a = (uint32_t)(c->payer0 + t % c->np);
    uint32_t dst = (uint32_t)(c->recv0 + xpay_receiver(t, c->nr));
    return (ospec){S_XPAY, a, seq[a]++, taker_units(t), dst};
}

int xpay_run(bench *b, const account *genesis, uint32_t gseq, const char *ledger_dir)
{
    size_t nm = b->nmakers, np = b->npayers, nr = b->nreceivers, na = 1 + nm + np + nr;
    size_t first_payer = 1 + nm, first_recv = 1 + nm + np;
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

    /* Set-up: trust lines (makers, payers, receivers), CNY for the makers,
     * the book. */
    size_t ntrust = na - 1, nbook = b->depth, nload = b->nxpay;
    ospec *st, *si, *sb, *sl = xcalloc(nload, sizeof *sl);
    market_plan(na, nm, nbook, seq, &st, &si, &sb);
    /* The load: the payments in turn (with --refills inline, each followed
     * by the makers' refills; see market_load). */
    xpay_ctx xc = {.payer0 = first_payer, .recv0 = first_recv, .np = np, .nr = nr};
    uint64_t units;
    size_t npay = market_load(b, sl, nload, nbook, seq, xpay_taker, &xc, &units);
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
    sign_offers_set(&b->txs, sl, nload, accts, issuer, "signing the load");
    double t_sign = now() - t0 - t_keys;
    int rounds = b->rounds;
    if ((size_t)rounds > nload)
        rounds = (int)nload;
    free(st);
    free(si);
    free(sb);
    refiller rf;
    market_refills(b, &rf, accts, issuer, seq, nbook, (double)units / OFFER_CNY_UNITS / (double)npay);
    if (!b->json)
        printf("bench_node --mode xpay: %s, issuer of CNY, %zu makers, %zu payers (SWT only), %zu "
               "receivers; a book %zu offers deep; %zu pre-signed transactions (%zu payments of "
               "CNY for SWT, %zu makers' refills%s) for %d rounds of %.0f s, %d jtp connections "
               "x window %zu, close every %u ms\n",
               b->node, nm, np, nr, nbook, nload, npay, nload - npay,
               b->refill ? "; the refills between the rounds, off the clock" : "", rounds,
               b->round_secs, b->nconns, b->window, b->close_ms);

    /* ---- set-up (not measured) ---- */
    double top0 = market_setup(b, &trust, &issue, &book, nbook, t_keys, t_sign);

    /* ---- the load ---- */
    size_t bounds[MAX_ROUNDS + 1];
    for (int r = 0; r <= rounds; r++)
        bounds[r] = nload * (size_t)r / (size_t)rounds;
    load_res L;
    memset(&L, 0, sizeof L);
    run_rounds(b, &L, bounds, rounds, ledger_dir);

    /* ---- off the clock: did the payments cross and deliver, and do the
     * balances show it? ---- */
    offer_tally ot = {0};
    tally_offers(&b->txs, 0, b->txs.n, 0, &ot);
    uint64_t *due = xcalloc(nr, sizeof *due); /* units delivered to each receiver */
    uint64_t delivered_units = 0;
    size_t tes_not_delivered = 0;
    int other_code[4] = {0}; /* the payments' first few results other than tesSUCCESS */
    size_t other_n[4] = {0}, nother = 0;
    for (size_t i = 0; i < b->txs.n; i++) {
        const ptx *p = &b->txs.v[i];
        if (p->kind != K_XPAY || !p->has_result)
            continue;
        if (p->ter_val) {
            size_t c = 0;
            while (c < nother && other_code[c] != p->ter_val)
                c++;
            if (c == nother && nother < 4)
                other_code[nother++] = p->ter_val;
            if (c < nother)
                other_n[c]++;
            continue;
        }
        if (!p->delivered) {
            tes_not_delivered++;
            continue;
        }
        due[sl[i].dst - first_recv] += sl[i].param;
        delivered_units += sl[i].param;
    }
    size_t recv_bad = 0, recv_first_bad = 0;
    double held = 0, recv_bad_held = 0;
    for (size_t r = 0; r < nr; r++) {
        double h = account_cny(b, &accts[first_recv + r]);
        held += h;
        double diff = h * 100 - (double)due[r];
        if (diff < -0.5 || diff > 0.5) {
            if (!recv_bad++) {
                recv_first_bad = r;
                recv_bad_held = h;
            }
        }
    }
    double payers_held = takers_cny(b, accts, first_payer, np);
    double bought = (double)delivered_units / 100;
    bool balances_ok = !recv_bad && payers_held > -0.005 && payers_held < 0.005;
    bool did_cross = ot.takers && ot.crossed * 100 >= ot.takers * 99;
    bool delivered_ok = !tes_not_delivered;
    bool pass_ratio = L.cross_ratio >= 0.3;
    depth_range dr = market_depths(b, &L);
    double top1 = book_top(b, b->br.expect);

    long rss, hwm, anon, file;
    node_memory(&rss, &hwm, &anon, &file);
    double p50 = pct(L.lat, L.nlat, 50), p99 = pct(L.lat, L.nlat, 99);
    double a50 = pct(L.ack, L.nack, 50), a99 = pct(L.ack, L.nack, 99);
    double node_us = L.validated ? L.cpu_node / (double)L.validated * 1e6 : 0;
    char verdict[200];
    if (!did_cross)
        snprintf(verdict, sizeof verdict,
                 "FAIL (did not cross: %zu of %zu payments took from the book%s%s)", ot.crossed,
                 ot.takers, nother ? "; most common other result " : "",
                 nother ? ter_name(other_code[most_other(other_n, nother)]) : "");
    else if (!dr.ok)
        snprintf(verdict, sizeof verdict, "FAIL (the book fell to %ld deep, below %zu)", dr.min,
                 nbook);
    else if (!delivered_ok)
        snprintf(verdict, sizeof verdict,
                 "FAIL (not delivered: %zu tesSUCCESS payments did not deliver their Amount)",
                 tes_not_delivered);
    else if (!balances_ok && recv_bad)
        snprintf(verdict, sizeof verdict,
                 "FAIL (%zu receivers' balances disagree with the metadata; receiver %zu holds "
                 "%.2f CNY, was delivered %.2f)",
                 recv_bad, recv_first_bad, recv_bad_held, (double)due[recv_first_bad] / 100);
    else if (!balances_ok)
        snprintf(verdict, sizeof verdict, "FAIL (the payers hold %.2f CNY, not 0)", payers_held);
    else
        snprintf(verdict, sizeof verdict, "%s", pass_ratio ? "PASS" : "BELOW");
    bool fail = !did_cross || !dr.ok || !delivered_ok || !balances_ok;
    double tt = ot.takers_tes ? (double)ot.takers_tes : 1;

    if (b->json) {
        printf("{\"bench\": \"bench_node\", \"mode\": \"xpay\", \"makers\": %zu, \"payers\": %zu, "
               "\"receivers\": %zu, \"depth\": %zu, \"load\": %zu, \"rounds\": %d, \"conns\": %d, "
               "\"window\": %zu,\n"
               "  \"crossing_payments_per_s\": %.1f, \"transactions_per_s\": %.1f, \"steady\": %s, "
               "\"verify_ceiling_per_s\": %.1f, \"verify_1thread_per_s\": %.1f,\n"
               "  \"ratio\": %.4f, \"ratio_min\": %.4f, \"ratio_max\": %.4f, \"ratio_all\": %.4f,\n"
               "  \"payments_submitted\": %zu, \"payments_tes\": %zu, \"payments_crossed\": %zu, "
               "\"payments_delivered\": %zu, \"took_from\": [%zu, %zu, %zu, %zu, %zu], "
               "\"offers_taken\": %zu, \"maker_offers_placed\": %zu, \"book_depth_end\": %ld,\n"
               "  \"refills\": \"%s\", \"book_depth_min\": %ld, \"book_depth_max\": %ld,\n"
               "  \"receivers_cny_held\": %.2f, \"receivers_cny_delivered\": %.2f, "
               "\"payers_cny_held\": %.2f, \"verdict\": \"%s\",\n"
               "  \"latency_ms\": {\"p50\": %.1f, \"p99\": %.1f}, \"reply_ms\": {\"p50\": %.1f, "
               "\"p99\": %.1f}, \"node_cpu_us_per_tx\": %.1f, \"rss_kb\": %ld}\n",
               nm, np, nr, nbook, nload, L.rounds, b->nconns, b->window, L.cross_rate, L.rate,
               L.all_steady ? "true" : "false", L.ceiling, L.ceil1, L.cross_ratio,
               L.cross_ratio_min, L.cross_ratio_max, L.ratio, ot.takers, ot.takers_tes, ot.crossed,
               ot.filled, ot.hist[0], ot.hist[1], ot.hist[2], ot.hist[3], ot.hist[4], ot.taken,
               ot.makers_placed, b->book_depth, b->refill ? "between" : "inline", dr.min, dr.max, held, bought, payers_held, verdict, p50, p99, a50,
               a99, node_us, rss);
    } else {
        char g1[32], g2[32], g3[32];
        printf("\nbaseline: secp256k1_ecdsa_verify on pre-made signatures, between the rounds\n");
        printf("  %-46s %12s /s\n", "two threads (ceiling, median of rounds)",
               grouped(L.ceiling, g1, sizeof g1));
        printf("  %-46s %12s /s\n", "one thread (information)", grouped(L.ceil1, g1, sizeof g1));
        printf("\nload: %zu transactions sent (%zu payments, %zu makers' refills) in %d rounds, "
               "%.1f s of load\n",
               ot.takers + ot.makers, ot.takers, ot.makers, L.rounds, L.secs);
        printf("  %-46s %12s /s (%s)\n", "crossing payments (delivered through the book)",
               grouped(L.cross_rate, g1, sizeof g1),
               L.all_steady ? "steady state: ledgers closed while submitting"
                            : "some rounds too short for a steady window: raise --xpays");
        printf("  %-46s %12s /s\n", "all transactions (tesSUCCESS), median of rounds",
               grouped(L.rate, g1, sizeof g1));
        printf("  %-46s %12s /s\n", "submit replies, median of rounds",
               grouped(L.submit_rate, g1, sizeof g1));
        printf("  %-46s %zu of %zu sent (tesSUCCESS %zu); rejected at submit %zu\n", "validated",
               L.validated, ot.takers + ot.makers, L.tes, L.rejected);
        printf("  %-46s %zu tesSUCCESS of %zu; took from 0 offers %.1f %%, 1: %.1f %%, 2: %.1f "
               "%%, 3: %.1f %%, more: %.1f %%\n",
               "payments", ot.takers_tes, ot.takers, 100 * (double)ot.hist[0] / tt,
               100 * (double)ot.hist[1] / tt, 100 * (double)ot.hist[2] / tt,
               100 * (double)ot.hist[3] / tt, 100 * (double)ot.hist[4] / tt);
        printf("  %-46s %zu delivered exactly their Amount through the book\n", "", ot.filled);
        if (nother) {
            printf("  %-46s", "payments validated with another result");
            for (size_t c = 0; c < nother; c++)
                printf(" %s %zu", ter_name(other_code[c]), other_n[c]);
            printf("\n");
        }
        printf("  %-46s %zu taken in full, %zu placed by makers in the load; now %ld deep (from "
               "%zu)\n",
               "offers in the book", ot.taken, ot.makers_placed, b->book_depth, nbook);
        print_depths(b, &dr);
        printf("  %-46s %.0f drops/CNY before the load, %.0f after\n", "best offer", top0, top1);
        printf("  %-46s %.2f CNY held (account_lines), %.2f CNY delivered (metadata); %zu of %zu "
               "receivers disagree; payers hold %.2f CNY  %s\n",
               "receivers' balances", held, bought, recv_bad, nr, payers_held,
               balances_ok ? "agree" : "DISAGREE");
        printf("  %-46s %9.0f ms p50, %.0f ms p99\n", "submit -> validated", p50, p99);
        printf("  %-46s %9.1f ms p50, %.1f ms p99\n", "submit -> reply", a50, a99);
        printf("  %-46s %9.1f %% of a core, %.1f us per transaction; bench process %.1f %%; "
               "node RSS %.0f MB\n",
               "node CPU during the load", 100 * L.cpu_node / L.secs, node_us,
               100 * L.cpu_self / L.secs, (double)rss / 1024);
        print_thread_split(&L, (double)L.validated, "transaction");
        printf("\n  %-46s %12.3f (rounds %.3f..%.3f; target >= 0.3)  %s\n",
               "ratio crossing payments/s / verify ceiling", L.cross_ratio, L.cross_ratio_min,
               L.cross_ratio_max, verdict);
        printf("  %-46s %12.3f (rounds %.3f..%.3f; information)\n",
               "ratio all transactions/s / verify ceiling", L.ratio, L.ratio_min, L.ratio_max);
        printf("\nSUMMARY xpay: %s cross-currency payments/s (CNY for SWT through a %zu-deep "
               "book, 1-3 offers each), two-core verify ceiling %s/s, ratio %.3f (target >= "
               "0.3)  %s\n",
               grouped(L.cross_rate, g1, sizeof g1), nbook, grouped(L.ceiling, g2, sizeof g2),
               L.cross_ratio, verdict);
        printf("SUMMARY xpay: all transactions (payments and the makers' refills) %s/s, ratio "
               "%.3f; payments took from 1/2/3 offers: %.0f/%.0f/%.0f %%; p99 submit->validated "
               "%.0f ms\n",
               grouped(L.rate, g3, sizeof g3), L.ratio, 100 * (double)ot.hist[1] / tt,
               100 * (double)ot.hist[2] / tt, 100 * (double)ot.hist[3] / tt, p99);
    }
    free(due);
    free(sl);
    free(seq);
    b->refill = NULL;
    free_accounts(accts, na);
    free_load(&L);
    return fail ? XPAY_FAIL : 0;
}
