#include "common.h"

/* ---------------------------------------------------------------- payments mode */

/* Payment k: from account k % N with Sequence 1 + k / N, to another
 * account picked by a fixed scramble. */
static size_t pay_source(size_t k, size_t n)
{
    return k % n;
}

static size_t pay_dest(size_t k, size_t n)
{
    size_t src = k % n, round = k / n;
    return (src + 1 + (round * 7919 + src * 31) % (n - 1)) % n;
}

typedef struct pay_job {
    const account *accts;
    size_t n;
    ptx *v;
} pay_job;

static jt_err sign_pay(void *ctx, size_t k)
{
    const pay_job *j = ctx;
    size_t src = pay_source(k, j->n);
    j->v[k].src = (uint32_t)src;
    return sign_swt_payment(&j->v[k], k, &j->accts[src], 1 + (uint32_t)(k / j->n),
                            &j->accts[pay_dest(k, j->n)].id, PAY_DROPS + k % 1000);
}

/* Keys, N funding payments and M payments among the accounts, signed on
 * two threads; then the funding. None of it is measured. */
static void payments_setup(bench *b, const account *genesis, uint32_t gseq)
{
    double t0 = now();
    account *accts = make_accounts(b->naccts);
    double t_keys = now() - t0;
    set_alloc(&b->fund, b->naccts);
    set_alloc(&b->txs, b->npay);
    fund_job fj = {
        .genesis = genesis, .accts = accts, .gseq = gseq, .amount = FUND_DROPS, .v = b->fund.v};
    parallel(b->naccts, sign_fund, &fj, "signing funding payments");
    pay_job pj = {.accts = accts, .n = b->naccts, .v = b->txs.v};
    parallel(b->npay, sign_pay, &pj, "signing payments");
    double t_sign = now() - t0 - t_keys;
    free_accounts(accts, b->naccts);
    set_signed(&b->fund);
    set_signed(&b->txs);
    if (!b->json)
        printf("bench_node: %s, %zu accounts, %zu pre-signed secp256k1 payments, %d jtp "
               "connections x window %zu, close every %u ms, tracking by %s\n",
               b->node, b->naccts, b->npay, b->nconns, b->window, b->close_ms,
               b->stream ? "the transactions stream" : "ledger replies");
    double t1 = now();
    submit_set(b, &b->fund, "funding");
    if (!b->json)
        printf("set-up (not measured): keys %.1f s, signing %.1f s on 2 threads, funding %zu "
               "accounts %.1f s\n",
               t_keys, t_sign, b->naccts, now() - t1);
}

static int payments_report(bench *b, load_res *L, const char *ledger_dir)
{
    long rss, hwm, anon, file;
    node_memory(&rss, &hwm, &anon, &file);
    long long disk1, disk1_size, wbytes1 = node_write_bytes();
    disk_usage(ledger_dir, &disk1, &disk1_size);
    double p50 = pct(L->lat, L->nlat, 50), p99 = pct(L->lat, L->nlat, 99);
    double pmax = L->nlat ? L->lat[L->nlat - 1] : 0;
    double a50 = pct(L->ack, L->nack, 50), a99 = pct(L->ack, L->nack, 99);
    double p99_iv = p99 / (double)b->close_ms;
    double nval = (double)L->validated;
    double disk_per_tx = L->validated ? (double)(disk1 - L->disk0) / nval : 0;
    double disk_size_per_tx = L->validated ? (double)(disk1_size - L->disk0_size) / nval : 0;
    double written_per_tx = L->validated && L->wbytes0 >= 0 && wbytes1 >= 0
                                ? (double)(wbytes1 - L->wbytes0) / nval
                                : -1;
    double node_us = L->validated ? L->cpu_node / nval * 1e6 : 0;
    bool pass_ratio = L->ratio >= 0.5, pass_lat = p99_iv <= 2;

    if (b->json) {
        printf("{\"bench\": \"bench_node\", \"accounts\": %zu, \"payments\": %zu, "
               "\"rounds\": %d, \"conns\": %d, \"window\": %zu, \"close_ms\": %u, "
               "\"track\": \"%s\",\n"
               "  \"validated_tes_per_s\": %.1f, \"steady\": %s, \"submit_replies_per_s\": "
               "%.1f, \"verify_ceiling_per_s\": %.1f, \"verify_1thread_per_s\": %.1f,\n"
               "  \"ratio\": %.4f, \"ratio_min\": %.4f, \"ratio_max\": %.4f,\n"
               "  \"latency_ms\": {\"p50\": %.1f, \"p99\": %.1f, \"max\": %.1f}, "
               "\"p99_close_intervals\": %.3f, \"reply_ms\": {\"p50\": %.1f, \"p99\": %.1f},\n"
               "  \"validated\": %zu, \"validated_tes\": %zu, \"rejected\": %zu,\n"
               "  \"rss_kb\": %ld, \"rss_anon_kb\": %ld, \"rss_file_kb\": %ld, \"hwm_kb\": %ld, "
               "\"rss_before_kb\": %ld,\n"
               "  \"disk_bytes_per_tx\": %.1f, \"disk_apparent_bytes_per_tx\": %.1f, "
               "\"written_bytes_per_tx\": %.1f, "
               "\"node_cpu_us_per_tx\": %.1f, \"node_cpu_share\": %.3f, \"bench_cpu_share\": "
               "%.3f}\n",
               b->naccts, b->npay, L->rounds, b->nconns, b->window, b->close_ms,
               b->stream ? "stream" : "ledger", L->rate, L->all_steady ? "true" : "false",
               L->submit_rate, L->ceiling, L->ceil1, L->ratio, L->ratio_min, L->ratio_max, p50, p99,
               pmax, p99_iv, a50, a99, L->validated, L->tes, L->rejected, rss, anon, file, hwm,
               L->rss0, disk_per_tx, disk_size_per_tx, written_per_tx, node_us,
               L->cpu_node / L->secs, L->cpu_self / L->secs);
        return 0;
    }
    char g1[32], g2[32];
    printf("\nbaseline: secp256k1_ecdsa_verify on pre-made signatures, between the rounds\n");
    printf("  %-46s %12s /s\n", "two threads (ceiling, median of rounds)",
           grouped(L->ceiling, g1, sizeof g1));
    printf("  %-46s %12s /s\n", "one thread (information)", grouped(L->ceil1, g1, sizeof g1));
    printf("\nload: %zu payments in %d rounds, %.1f s of load\n", b->npay, L->rounds, L->secs);
    printf("  %-46s %12s /s (%s)\n", "validated payments (tes), median of rounds",
           grouped(L->rate, g1, sizeof g1),
           L->all_steady ? "steady state: ledgers closed while submitting"
                         : "some rounds too short for a steady window: raise --payments");
    printf("  %-46s %12s /s\n", "submit replies, median of rounds",
           grouped(L->submit_rate, g1, sizeof g1));
    printf("  %-46s %zu of %zu (tesSUCCESS %zu); rejected at submit %zu\n", "validated",
           L->validated, b->npay, L->tes, L->rejected);
    if (b->other_ledger_txs)
        printf("  %-46s %zu (not sent by this run)\n", "other transactions in the ledgers",
               b->other_ledger_txs);
    printf("  %-46s %9.0f ms p50, %.0f ms p99, %.0f ms max\n", "submit -> validated", p50, p99,
           pmax);
    printf("  %-46s %12.2f p50, %.2f p99\n", "  in close intervals", p50 / b->close_ms, p99_iv);
    printf("  %-46s %9.1f ms p50, %.1f ms p99\n", "submit -> reply", a50, a99);
    printf("  %-46s %9.1f MB (anonymous %.1f, LMDB map %.1f; %.1f MB before the load)\n",
           "node resident memory", (double)rss / 1024, (double)anon / 1024, (double)file / 1024,
           (double)L->rss0 / 1024);
    printf("  %-46s %9.0f bytes/tx allocated (%.0f apparent)\n", "node disk growth", disk_per_tx,
           disk_size_per_tx);
    if (written_per_tx >= 0)
        printf("  %-46s %9.0f bytes/tx (write_bytes of /proc/PID/io)\n", "node writes to storage",
               written_per_tx);
    printf("  %-46s %9.1f %% of a core, %.1f us per payment; bench process %.1f %%\n",
           "node CPU during the load", 100 * L->cpu_node / L->secs, node_us,
           100 * L->cpu_self / L->secs);
    print_thread_split(L, nval, "payment");
    printf("\n  %-46s %12.3f (rounds %.3f..%.3f; target >= 0.5)  %s\n",
           "ratio validated/s / verify ceiling", L->ratio, L->ratio_min, L->ratio_max,
           pass_ratio ? "PASS" : "BELOW");
    printf("  %-46s %12.2f (target <= 2)  %s\n", "p99 latency in close intervals", p99_iv,
           pass_lat ? "PASS" : "BELOW");
    printf("\nSUMMARY node: %s validated payments/s, two-core verify ceiling %s/s, ratio %.3f "
           "(target >= 0.5)  %s\n",
           grouped(L->rate, g1, sizeof g1), grouped(L->ceiling, g2, sizeof g2), L->ratio,
           pass_ratio ? "PASS" : "BELOW");
    printf("SUMMARY node: p99 submit->validated %.0f ms = %.2f close intervals (target <= 2)  "
           "%s; node RSS %.0f MB; %.0f bytes on disk per tx\n",
           p99, p99_iv, pass_lat ? "PASS" : "BELOW", (double)rss / 1024, disk_per_tx);
    return 0;
}

/* Payments mode: set-up, the rounds, the report. */
int payments_run(bench *b, const account *genesis, uint32_t gseq, const char *ledger_dir)
{
    payments_setup(b, genesis, gseq);
    /* Rounds split the payments at multiples of the account count, so
     * every account sends in every round and its Sequence simply
     * continues. */
    size_t per_acct = b->npay / b->naccts;
    int rounds = b->rounds;
    if ((size_t)rounds > per_acct)
        rounds = per_acct ? (int)per_acct : 1;
    size_t bounds[MAX_ROUNDS + 1];
    for (int r = 0; r < rounds; r++)
        bounds[r] = per_acct ? (size_t)r * (per_acct / (size_t)rounds) * b->naccts : 0;
    bounds[rounds] = b->npay;
    load_res L;
    memset(&L, 0, sizeof L);
    run_rounds(b, &L, bounds, rounds, ledger_dir);
    int status = payments_report(b, &L, ledger_dir);
    free_load(&L);
    return status;
}
