#include "common.h"

/* ---------------------------------------------------------------- phases */

/* Have the load connections sent all they were given? */
static bool load_exhausted(const bench *b)
{
    for (int i = 0; i < b->nconns; i++)
        if (b->load[i].next < b->load[i].norder)
            return false;
    return true;
}

/* ... or is it past the deadline? */
static bool sending_done(const bench *b)
{
    return (b->deadline > 0 && now() >= b->deadline) || load_exhausted(b);
}

/* Submits the transactions of s in the connections' send orders (until
 * b->deadline, if set) and waits until every accepted one is validated.
 * With `accept`, closes the ledger as soon as all are in the open ledger. */
static void run_set(bench *b, ptx_set *s, bool accept, double timeout)
{
    b->cur = s;
    b->submitting = true;
    b->acked = b->rejected = b->validated = b->val_tes = b->sent = 0;
    b->nsub_codes = 0;
    double t0 = now(), last_progress = t0;
    size_t last_done = 0;
    bool accepted = false;
    for (;;) {
        bool all_sent = sending_done(b);
        if (all_sent && b->acked + b->rejected == b->sent && b->validated >= b->acked)
            break;
        pump(b, 20);
        size_t done = b->acked + b->rejected + b->validated;
        double t = now();
        if (done != last_done) {
            last_done = done;
            last_progress = t;
        }
        if (accept && !accepted && all_sent && b->acked + b->rejected == b->sent) {
            /* Everything is in the open ledger: close it now. */
            jt_json_doc_free(ctrl_call(b, 30, "\"command\":\"ledger_accept\""));
            accepted = true;
        }
        if (t - last_progress > timeout) {
            print_log_tail();
            die("no progress for %.0f s: %zu transactions sent, %zu accepted, %zu rejected, %zu "
                "validated",
                timeout, b->sent, b->acked, b->rejected, b->validated);
        }
        node_check_alive();
    }
    b->submitting = false;
    b->cur = NULL;
}

/* After a round, off the clock: the result of every transaction it
 * validated, from each ledger's transactions in binary with metadata. */
static void fetch_results(bench *b, ptx_set *s, size_t nled0)
{
    b->cur = s;
    size_t want = 0;
    for (size_t i = nled0; i < b->nledgers; i++)
        if (!b->ledgers[i].results && b->ledgers[i].ours > 0) {
            request_ledger(b, b->ledgers[i].seq, true);
            want++;
        }
    double t0 = now();
    while (want) {
        want = 0;
        for (size_t i = nled0; i < b->nledgers; i++)
            if (!b->ledgers[i].results && b->ledgers[i].ours > 0)
                want++;
        if (!want)
            break;
        if (now() - t0 > 120)
            die("%zu ledger replies with results missing after 120 s", want);
        node_check_alive();
        pump(b, 20);
    }
    b->cur = NULL;
}

/* Builds each load connection's send order for s[lo, hi): the transactions
 * of the accounts it owns (src % nconns), in index order, hence in each
 * account's Sequence order. */
static void assign(bench *b, const ptx_set *s, size_t lo, size_t hi)
{
    for (int c = 0; c < b->nconns; c++) {
        free(b->load[c].order);
        b->load[c].order = xcalloc(hi - lo, sizeof(uint32_t));
        b->load[c].norder = b->load[c].next = b->load[c].inflight = 0;
    }
    for (size_t k = lo; k < hi; k++) {
        conn *c = &b->load[s->v[k].src % (size_t)b->nconns];
        c->order[c->norder++] = (uint32_t)k;
    }
}

/* Set-up transactions per ledger at most: a ledger's results are fetched
 * in one reply, which must stay well under a reply's cap (64 MiB of hex
 * blobs and metadata; an offer placed in a deep book writes ~5 KB). */
#define SETUP_CHUNK 2000

/* Set-up, not measured: submits the set in chunks, each closed in a ledger
 * of its own, and stops the benchmark unless every transaction is
 * validated with tesSUCCESS. */
void submit_set(bench *b, ptx_set *s, const char *what)
{
    /* Between rounds, the load connections' send orders are kept. */
    conn saved[MAX_CONNS];
    for (int c = 0; c < b->nconns; c++) {
        saved[c] = b->load[c];
        b->load[c].order = NULL;
    }
    size_t rejected = 0, tes = 0;
    for (size_t lo = 0; lo < s->n; lo += SETUP_CHUNK) {
        size_t hi = s->n - lo > SETUP_CHUNK ? lo + SETUP_CHUNK : s->n;
        assign(b, s, lo, hi);
        size_t nled0 = b->nledgers;
        run_set(b, s, true, 60);
        fetch_results(b, s, nled0);
        rejected += b->rejected;
        tes += b->val_tes;
    }
    b->rejected = rejected;
    b->val_tes = tes;
    for (int c = 0; c < b->nconns; c++) {
        free(b->load[c].order);
        b->load[c].order = saved[c].order;
        b->load[c].norder = saved[c].norder;
        b->load[c].next = saved[c].next;
        b->load[c].inflight = saved[c].inflight;
    }
    if (b->rejected || b->val_tes != s->n) {
        int code = 0;
        size_t bad = 0;
        for (size_t k = 0; k < s->n; k++) {
            const ptx *p = &s->v[k];
            int ter = p->has_result ? p->ter_val : p->ter_sub;
            if (ter && !bad++)
                code = ter;
        }
        die("%s: %zu of %zu rejected at submit, %zu validated with tesSUCCESS (first other "
            "result: %s, %zu such)",
            what, b->rejected, s->n, b->val_tes, ter_name(code), bad);
    }
}

/* ... of s[lo, hi) that were sent, in round `round` only unless it is 0. */
void tally_offers(const ptx_set *s, size_t lo, size_t hi, int round, offer_tally *t)
{
    for (size_t k = lo; k < hi; k++) {
        const ptx *p = &s->v[k];
        if (p->state == P_UNSENT || (round && p->round != round))
            continue;
        bool tes = p->has_result && p->ter_val == 0;
        if (p->kind == K_MAKER) {
            t->makers++;
            t->makers_tes += tes;
            t->makers_placed += tes && p->placed;
        } else if (p->kind == K_TAKER || p->kind == K_XPAY) {
            t->takers++;
            if (!tes)
                continue;
            t->takers_tes++;
            t->hist[p->crossed > 4 ? 4 : p->crossed]++;
            t->crossed += p->crossed > 0;
            /* A taker filled: did not rest; a payment: delivered its Amount. */
            t->filled += p->crossed > 0 && (p->kind == K_XPAY ? p->delivered : !p->placed);
            t->rested += p->placed;
            t->taken += p->taken;
        }
    }
}

/* Figures of the round's transactions and of the ledgers recorded from
 * index nled0 on (sequence first_seq and later). Latencies are appended to
 * lat/ack. */
static void round_figures(bench *b, round_res *r, size_t nled0, uint32_t first_seq, double *lat,
                          size_t *nlat, double *ack, size_t *nack)
{
    size_t n0 = *nlat;
    for (size_t k = r->lo; k < r->hi; k++) {
        const ptx *p = &b->txs.v[k];
        if (p->round != r->no)
            continue;
        if (p->state == P_VALIDATED)
            lat[(*nlat)++] = (p->t_val - p->t_sub) * 1e3;
        if (p->t_ack > 0)
            ack[(*nack)++] = (p->t_ack - p->t_sub) * 1e3;
    }
    /* Per-round percentiles on a sorted copy; the pooled arrays stay whole. */
    size_t nr = *nlat - n0;
    double *tmp = xcalloc(nr, sizeof *tmp);
    memcpy(tmp, lat + n0, nr * sizeof *tmp);
    qsort(tmp, nr, sizeof *tmp, cmp_double);
    r->p50 = pct(tmp, nr, 50);
    r->p99 = pct(tmp, nr, 99);
    free(tmp);

    /* Steady state: ledgers closed while the submitters were busy. La is
     * the first ledger holding this round's transactions, Lb the last one
     * closed before the round's last submit; rate = tesSUCCESS transactions
     * in (La, Lb] / (t(Lb) - t(La)). */
    const ledger_rec *la = NULL, *lb = NULL;
    r->max_in_ledger = 0;
    for (size_t i = nled0; i < b->nledgers; i++) {
        const ledger_rec *l = &b->ledgers[i];
        if (l->seq < first_seq || l->t_closed == 0)
            continue;
        if (l->ours > r->max_in_ledger)
            r->max_in_ledger = l->ours;
        if (!la && l->ours > 0)
            la = l;
        if (la && l->seq > la->seq && l->t_closed <= b->t_last_sub)
            lb = l;
    }
    r->steady_tes = r->steady_ledgers = r->steady_cross = 0;
    if (la && lb) {
        for (size_t i = nled0; i < b->nledgers; i++) {
            const ledger_rec *l = &b->ledgers[i];
            if (l->seq > la->seq && l->seq <= lb->seq) {
                r->steady_tes += l->tes;
                r->steady_cross += l->cross;
                r->steady_ledgers++;
            }
        }
        r->steady_secs = lb->t_closed - la->t_closed;
        r->la = la->seq;
        r->lb = lb->seq;
    }
    r->validated = b->validated;
    r->tes = b->val_tes;
    r->rejected = b->rejected;
    double osecs = b->t_last_val - b->t_first_sub;
    r->overall_rate = osecs > 0 ? (double)b->val_tes / osecs : 0;
    r->submit_rate = b->t_last_ack > b->t_first_sub
                         ? (double)(b->acked + b->rejected) / (b->t_last_ack - b->t_first_sub)
                         : 0;
    r->steady = r->steady_ledgers >= 2 && r->steady_secs > 0;
    r->rate = r->steady ? (double)r->steady_tes / r->steady_secs : r->overall_rate;
    if (b->offer_meta) {
        memset(&r->ot, 0, sizeof r->ot);
        tally_offers(&b->txs, r->lo, r->hi, r->no, &r->ot);
        b->book_depth += (long)r->ot.makers_placed - (long)r->ot.taken;
        r->depth = b->book_depth;
        r->cross_rate = r->steady   ? (double)r->steady_cross / r->steady_secs
                        : osecs > 0 ? (double)r->ot.crossed / osecs
                                    : 0;
    }
}

/* One line per ledger of a round (--verbose). */
static void print_ledgers(const bench *b, size_t nled0, uint32_t first_seq, double t0)
{
    printf("    ledger  closed(s)  gap(ms)  txns  ours   tes%s  known(ms after close)\n",
           b->offer_meta ? " cross" : "");
    double prev = 0;
    for (size_t i = nled0; i < b->nledgers; i++) {
        const ledger_rec *l = &b->ledgers[i];
        if (l->seq < first_seq || l->t_closed == 0)
            continue;
        printf("    %6" PRIu32 " %10.3f %8.0f %5" PRIu32 " %5" PRIu32 " %5" PRIu32, l->seq,
               l->t_closed - t0, prev > 0 ? (l->t_closed - prev) * 1e3 : 0, l->txn_count, l->ours,
               l->tes);
        if (b->offer_meta)
            printf(" %5" PRIu32, l->cross);
        printf(" %8.0f\n", l->t_known > 0 ? (l->t_known - l->t_closed) * 1e3 : 0);
        prev = l->t_closed;
    }
}

/* ---- the verification ceiling ---- */

#define VSETS 256

typedef struct vset {
    secp256k1_pubkey pk;
    secp256k1_ecdsa_signature sig;
    uint8_t msg[32];
} vset;

typedef struct vjob {
    const vset *sets;
    uint64_t start; /* threads start at different sets */
    atomic_int *stop;
    uint64_t count;
    int bad;
} vjob;

static void *verify_thread(void *arg)
{
    vjob *j = arg;
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (!ctx) {
        j->bad = 1;
        return NULL;
    }
    uint64_t n = 0;
    while (!atomic_load_explicit(j->stop, memory_order_relaxed)) {
        for (int i = 0; i < 16; i++) {
            const vset *s = &j->sets[(j->start + n + (uint64_t)i) % VSETS];
            if (secp256k1_ecdsa_verify(ctx, &s->sig, s->msg, &s->pk) != 1)
                j->bad = 1;
        }
        n += 16;
    }
    j->count = n;
    secp256k1_context_destroy(ctx);
    return NULL;
}

static vset *make_vsets(void)
{
    vset *v = xcalloc(VSETS, sizeof *v);
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    for (int i = 0; i < VSETS; i++) {
        uint8_t sk[32];
        do
            randombytes_buf(sk, sizeof sk);
        while (!secp256k1_ec_seckey_verify(ctx, sk));
        randombytes_buf(v[i].msg, 32);
        if (!secp256k1_ec_pubkey_create(ctx, &v[i].pk, sk) ||
            !secp256k1_ecdsa_sign(ctx, &v[i].sig, v[i].msg, sk, NULL, NULL))
            die("secp256k1 set-up failed");
        sodium_memzero(sk, sizeof sk);
    }
    secp256k1_context_destroy(ctx);
    return v;
}

/* secp256k1_ecdsa_verify on `threads` threads for `secs`: verifications/s. */
static double verify_ceiling(const vset *sets, int threads, double secs)
{
    atomic_int stop = 0;
    pthread_t th[4];
    vjob jobs[4];
    double t0 = now();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (vjob){.sets = sets, .start = (uint64_t)i * 37, .stop = &stop};
        if (pthread_create(&th[i], NULL, verify_thread, &jobs[i]))
            die("pthread_create failed");
    }
    struct timespec ts = {.tv_sec = (time_t)secs,
                          .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&stop, 1);
    uint64_t total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        if (jobs[i].bad)
            die("a pre-made signature did not verify");
        total += jobs[i].count;
    }
    return (double)total / (now() - t0);
}

static void print_round(const bench *b, int r, const round_res *R)
{
    char g1[32], g2[32], g3[32];
    long m[4];
    node_memory(&m[0], &m[1], &m[2], &m[3]);
    if (b->mode == MODE_XPAY)
        printf("round %d: %zu transactions (%zu payments) in %.1f s: %s crossing payments/s, %s "
               "transactions/s (%s), verify ceiling %s/s, ratio %.3f (all transactions %.3f), p99 "
               "%.0f ms, book %ld -> %ld deep\n",
               r + 1, R->n, R->ot.takers, R->secs, grouped(R->cross_rate, g1, sizeof g1),
               grouped(R->rate, g2, sizeof g2), R->steady ? "steady state" : "whole round",
               grouped(R->ceiling, g3, sizeof g3), R->cross_ratio, R->ratio, R->p99, R->depth0, R->depth);
    else if (b->mode == MODE_OFFERS)
        printf("round %d: %zu OfferCreates (%zu takers) in %.1f s: %s crossing takers/s, %s "
               "OfferCreates/s (%s), verify ceiling %s/s, ratio %.3f (all OfferCreates "
               "%.3f), p99 %.0f ms, book %ld -> %ld deep\n",
               r + 1, R->n, R->ot.takers, R->secs, grouped(R->cross_rate, g1, sizeof g1),
               grouped(R->rate, g2, sizeof g2), R->steady ? "steady state" : "whole round",
               grouped(R->ceiling, g3, sizeof g3), R->cross_ratio, R->ratio, R->p99, R->depth0, R->depth);
    else
        printf("round %d: %zu payments in %.1f s: %s validated/s (%s), verify ceiling %s/s, "
               "ratio %.3f, p99 %.0f ms, node RSS %.0f MB\n",
               r + 1, R->n, R->secs, grouped(R->rate, g1, sizeof g1),
               R->steady ? "steady state" : "whole round", grouped(R->ceiling, g2, sizeof g2),
               R->ratio, R->p99, (double)m[0] / 1024);
    if (b->verbose && R->validated)
        printf("  node CPU by thread: loop %.1f us, verify workers %.1f us, writer %.1f us per "
               "transaction; whole node %.0f %% of a core\n",
               R->thr_cpu[THR_LOOP] / (double)R->validated * 1e6,
               R->thr_cpu[THR_VERIFY] / (double)R->validated * 1e6,
               R->thr_cpu[THR_WRITER] / (double)R->validated * 1e6,
               R->secs > 0 ? 100 * R->node_cpu / R->secs : 0);
    if (R->cut_short)
        printf("  the load ran out before the round's %.0f s: raise %s\n", b->round_secs,
               b->mode == MODE_XPAY ? "--xpays" : "--offers");
    if (R->rejected) {
        printf("  rejected at submit:");
        for (int i = 0; i < b->nsub_codes; i++)
            printf(" %s %d", ter_name(b->sub_codes[i]), b->sub_results[i]);
        printf("\n");
    }
}

/* Rounds of the load b->txs, alternating with the baseline: verify slice,
 * load, verify slice, load, ... verify slice. A round's ceiling is the mean
 * of the slices on either side of it. Round r sends [bounds[r],
 * bounds[r+1]); or, with b->round_secs, whatever the connections send in
 * that time, each going on from where it stopped (bounds unused; fewer
 * rounds if the load runs out). */
void run_rounds(bench *b, load_res *L, const size_t *bounds, int rounds, const char *ledger_dir)
{
    bool timed = b->round_secs > 0;
    if (timed)
        assign(b, &b->txs, 0, b->txs.n);
    vset *vs = make_vsets();
    L->ceil1 = verify_ceiling(vs, 1, 0.5);
    double vslice = b->verify_secs / 2;
    double ceil_prev = verify_ceiling(vs, 2, vslice);
    L->lat = xcalloc(b->txs.n, sizeof *L->lat);
    L->ack = xcalloc(b->txs.n, sizeof *L->ack);
    L->wbytes0 = -1;
    for (int r = 0; r < rounds; r++) {
        round_res *R = &L->rr[r];
        R->no = r + 1;
        R->lo = timed ? 0 : bounds[r];
        R->hi = timed ? b->txs.n : bounds[r + 1];
        if (timed && r > 0 && sending_done(b)) {
            rounds = r; /* the load ran out */
            break;
        }
        if (b->refill)
            market_refill(b, r, ceil_prev, r ? L->rr[r - 1].ot.taken : 0);
        R->depth0 = b->book_depth;
        /* Take in what arrived while the baseline ran (closes of empty
         * ledgers), so that this round's ledgers are told apart by sequence. */
        for (int i = 0; i < 5; i++)
            pump(b, 20);
        if (r == 0) {
            L->wbytes0 = node_write_bytes();
            disk_usage(ledger_dir, &L->disk0, &L->disk0_size);
            node_memory(&L->rss0, &L->hwm0, &L->anon0, &L->file0);
        }
        size_t nled0 = b->nledgers;
        uint32_t first_seq = b->last_closed + 1;
        if (!timed)
            assign(b, &b->txs, R->lo, R->hi);
        b->round_no = R->no;
        if (b->verbose && !b->json) {
            printf("round %d: sending\n", R->no);
            fflush(stdout);
        }
        double thr0[NODE_THR];
        node_thread_cpu(thr0);
        double cn0 = node_cpu(), cs0 = self_cpu(), t0r = now();
        b->deadline = timed ? t0r + b->round_secs : 0;
        run_set(b, &b->txs, false, 30);
        R->cut_short = timed && load_exhausted(b);
        b->deadline = 0;
        R->n = b->sent;
        R->secs = now() - t0r;
        R->node_cpu = node_cpu() - cn0;
        R->self_cpu = self_cpu() - cs0;
        node_thread_cpu(R->thr_cpu);
        for (int g = 0; g < NODE_THR; g++)
            R->thr_cpu[g] -= thr0[g];
        fetch_results(b, &b->txs, nled0);
        round_figures(b, R, nled0, first_seq, L->lat, &L->nlat, L->ack, &L->nack);
        double ceil_next = verify_ceiling(vs, 2, vslice);
        R->ceiling = (ceil_prev + ceil_next) / 2;
        R->ratio = R->ceiling > 0 ? R->rate / R->ceiling : 0;
        R->cross_ratio = R->ceiling > 0 ? R->cross_rate / R->ceiling : 0;
        ceil_prev = ceil_next;
        L->cpu_node += R->node_cpu;
        L->cpu_self += R->self_cpu;
        for (int g = 0; g < NODE_THR; g++)
            L->cpu_thr[g] += R->thr_cpu[g];
        L->secs += R->secs;
        L->validated += R->validated;
        L->tes += R->tes;
        L->rejected += R->rejected;
        if (!b->json) {
            print_round(b, r, R);
            if (b->verbose)
                print_ledgers(b, nled0, first_seq, t0r);
        }
    }
    free(vs);
    L->rounds = rounds;

    double v_rate[MAX_ROUNDS], v_ceil[MAX_ROUNDS], v_ratio[MAX_ROUNDS], v_sub[MAX_ROUNDS];
    double v_cross[MAX_ROUNDS], v_cross_ratio[MAX_ROUNDS];
    L->ratio_min = L->ratio_max = L->rr[0].ratio;
    L->cross_ratio_min = L->cross_ratio_max = L->rr[0].cross_ratio;
    L->all_steady = true;
    /* A round the load ran out in measures its tail, not a rate: the
     * medians are of the full rounds (of all, when none was full). */
    int full = 0;
    for (int r = 0; r < rounds; r++)
        full += !L->rr[r].cut_short;
    int nv = 0;
    for (int r = 0; r < rounds; r++) {
        const round_res *R = &L->rr[r];
        if (!full || !R->cut_short) {
            v_rate[nv] = R->rate;
            v_ceil[nv] = R->ceiling;
            v_ratio[nv] = R->ratio;
            v_sub[nv] = R->submit_rate;
            v_cross[nv] = R->cross_rate;
            v_cross_ratio[nv] = R->cross_ratio;
            nv++;
        }
        if (R->ratio < L->ratio_min)
            L->ratio_min = R->ratio;
        if (R->ratio > L->ratio_max)
            L->ratio_max = R->ratio;
        if (R->cross_ratio < L->cross_ratio_min)
            L->cross_ratio_min = R->cross_ratio;
        if (R->cross_ratio > L->cross_ratio_max)
            L->cross_ratio_max = R->cross_ratio;
        L->all_steady = L->all_steady && R->steady;
    }
    L->rate = median(v_rate, nv);
    L->ceiling = median(v_ceil, nv);
    L->ratio = median(v_ratio, nv);
    L->submit_rate = median(v_sub, nv);
    L->cross_rate = median(v_cross, nv);
    L->cross_ratio = median(v_cross_ratio, nv);
    qsort(L->lat, L->nlat, sizeof *L->lat, cmp_double);
    qsort(L->ack, L->nack, sizeof *L->ack, cmp_double);
}

void free_load(load_res *L)
{
    free(L->lat);
    free(L->ack);
}
