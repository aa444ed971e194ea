/*
 * bench_node.c — jt-node under load, against the machine's two-core
 * signature-verification ceiling measured in the same run.
 *
 *   bench_node [--mode payments|offers|xpay|pathfind] [--node PATH] [--conns C]
 *              [--window W] [--close-ms MS] [--rounds R] [--verify-seconds S]
 *              [--keep] [--json] [--verbose]
 *     payments: [--accounts N] [--payments M] [--track ledger|stream]
 *     offers:   [--makers N] [--takers N] [--depth N] [--offers M]
 *               [--round-seconds S] [--refills between|inline]
 *               [--book-clients C] [--book-window W] [--book-seconds S]
 *     xpay:     [--makers N] [--payers N] [--receivers N] [--depth N]
 *               [--xpays M] [--round-seconds S] [--refills between|inline]
 *     pathfind: [--pf-clients C] [--pf-window W] [--pf-seconds S]
 *
 * This file is the driver: options, the node, its connections, and the
 * mode table; the parts and the modes are in bench/node/ (common.h lists
 * them). Each mode is one file, bench/node/mode_NAME.c.
 *
 * Payments mode (the default): validated payments per second.
 *
 *  1. Creates a data directory, runs `jt-node init` and starts `jt-node run`
 *     on kernel-chosen loopback ports with a configuration of its own (its
 *     client key listed as admin_key; room for large replies and queues).
 *  2. Generates N secp256k1 accounts and signs, on two threads, N funding
 *     payments from the genesis account and M payments among the accounts
 *     (each account's Sequence increasing, Fee 10 drops). Funds the accounts
 *     (ledger_accept) and waits until every funding payment is validated
 *     with tesSUCCESS. None of this is measured.
 *  3. R rounds, each M/R payments (split at multiples of N, so every account
 *     pays in every round and its Sequence simply continues), alternating
 *     with the baseline: secp256k1_ecdsa_verify on two threads over
 *     pre-made signatures (V L V L ... V). A round's ceiling is the mean of
 *     the slices on either side of it; its ratio is its validated rate over
 *     that ceiling; the reported ratio is the median of the rounds' ratios,
 *     so load from elsewhere on a shared machine hits both sides alike.
 *  4. Load: C encrypted jtp connections (node key pinned), each keeping up to
 *     W submit requests outstanding; an account's transactions always go
 *     over the same connection, in Sequence order. A separate connection
 *     follows the ledger stream and, for every closed ledger, fetches the IDs
 *     of its transactions: a transaction is validated when its ID arrives.
 *     After each round (off the clock) each of its ledgers is fetched again
 *     in binary with metadata, and only tesSUCCESS transactions are counted.
 *     With `--track stream` the transactions stream is followed instead
 *     (result and ID in one message, but much more work for the node).
 *
 * Offers mode: OfferCreates that cross 1-3 offers of a book `depth` offers
 * deep, per second, against the same ceiling; and book_offers on that book.
 * The node, the connections, the rounds and the tracking are the same. The
 * set-up (not measured) funds an issuer of CNY, M makers and T takers, opens
 * the makers' and takers' CNY trust lines, issues CNY to the makers and
 * places the book; the load is pre-signed takers' OfferCreates (each buying
 * CNY with SWT, sized to take from 1-3 offers), sent in rounds of a fixed
 * time (see offers_run and the comment above OFFER_CNY_UNITS). Before each
 * round, off the clock, the makers top the book up (market_refill) so that
 * it stays at least `depth` deep through the round; with `--refills inline`
 * the refills go in the load instead, behind the takers. The rate counts the takers that took
 * from the book, read from every taker's metadata; a run whose takers did
 * not take from the book, or were not filled, or whose CNY balances do not
 * show the fills, FAILs (exit status 3). book_offers (limit 20) is measured
 * from concurrent jtp clients on the book as placed and again after the
 * load: replies per second and the latency of each request.
 *
 * Xpay mode (mode_xpay.c): cross-currency payments through one book per
 * second, against the same ceiling. The same market as offers mode (an
 * issuer of CNY, makers, a book `depth` deep, refills); payers holding only
 * SWT pay receivers CNY with a SendMax in SWT and no Paths, so jt-node's
 * payment engine takes them through the book. Counted: tesSUCCESS payments
 * that took from the book and delivered exactly their Amount (metadata);
 * the receivers' CNY balances must match. FAILs exit with status 3.
 *
 * Pathfind mode (mode_pathfind.c): skywell_path_find answers per second,
 * and their latency, on a ledger of 1 000 accounts, 50 tokens and 20 000
 * offers (token/SWT and token/token books), from C jtp clients each keeping
 * W requests outstanding. An answer counts when it holds at least one
 * alternative; a sample of the alternatives is paid with (Paths and SendMax
 * from the answer) and must deliver. No ratio target: the figures are
 * information; a run whose answers mostly hold no path, or whose sample
 * payments do not deliver, FAILs (exit status 3).
 *
 * A round's rate counts tesSUCCESS transactions (offers mode: crossing
 * takers) in the ledgers closed while the submitters were busy (steady
 * state): (La, Lb], where La is the first ledger holding the round's
 * transactions and Lb the last one closed before its last submit, over the
 * time between the two closes as the client saw them. Latency is from
 * writing a submit request to learning that the transaction is in a
 * validated (closed) ledger.
 */
#include "node/common.h"

/* ---------------------------------------------------------------- main */

/* The modes, by their --mode name; the index is b->mode (MODE_*). */
static const struct {
    const char *name;
    mode_run_fn run;
} modes[] = {
    [MODE_PAYMENTS] = {"payments", payments_run},
    [MODE_OFFERS] = {"offers", offers_run},
    [MODE_XPAY] = {"xpay", xpay_run},
    [MODE_PATHFIND] = {"pathfind", pathfind_run},
};

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
    fprintf(stderr,
            "usage: bench_node [--mode payments|offers|xpay|pathfind] [--node PATH] [--conns C]\n"
            "                  [--window W] [--close-ms MS] [--rounds R] [--verify-seconds S]\n"
            "                  [--keep] [--json] [--verbose]\n"
            "  payments: [--accounts N] [--payments M] [--track ledger|stream]\n"
            "  offers:   [--makers N] [--takers N] [--depth N] [--offers M] [--round-seconds S]\n"
            "            [--refills between|inline] [--book-clients C] [--book-window W]\n"
            "            [--book-seconds S]\n"
            "  xpay:     [--makers N] [--payers N] [--receivers N] [--depth N] [--xpays M]\n"
            "            [--round-seconds S] [--refills between|inline]\n"
            "  pathfind: [--pf-clients C] [--pf-window W] [--pf-seconds S]\n");
    exit(2);
}

static int mode_by_name(const char *name)
{
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++)
        if (modes[m].name && !strcmp(name, modes[m].name))
            return (int)m;
    usage();
}

static unsigned long opt_num(const char *s, unsigned long lo, unsigned long hi)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || s[0] == '-' || v < lo || v > hi)
        usage();
    return v;
}

int main(int argc, char **argv)
{
    static bench B;
    bench *b = &B;
    b->node = "build/bin/jt-node";
    b->naccts = 10000;
    b->npay = 600000;
    b->nmakers = 1000;
    b->ntakers = 4000;
    b->depth = 10000;
    b->noffers = 400000; /* 3 rounds of 5 s at 26 000/s */
    b->npayers = 4000;
    b->nreceivers = 1000;
    b->nxpay = 400000;
    b->book_clients = 4;
    b->book_window = 4;
    b->book_secs = 3;
    b->pf_clients = 4;
    b->pf_window = 2;
    b->pf_secs = 10;
    b->round_secs = 5;
    b->nconns = 2;
    b->window = 256;
    b->close_ms = 1000;
    b->verify_secs = 2;
    b->rounds = 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--keep")) {
            g_keep = true;
            continue;
        }
        if (!strcmp(a, "--json")) {
            b->json = true;
            continue;
        }
        if (!strcmp(a, "--verbose")) {
            b->verbose = true;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "--node"))
            b->node = v;
        else if (!strcmp(a, "--mode"))
            b->mode = mode_by_name(v);
        else if (!strcmp(a, "--accounts"))
            b->naccts = opt_num(v, 2, 1000000);
        else if (!strcmp(a, "--payments"))
            b->npay = opt_num(v, 1, 900000000);
        else if (!strcmp(a, "--makers"))
            b->nmakers = opt_num(v, 1, 100000);
        else if (!strcmp(a, "--takers"))
            b->ntakers = opt_num(v, 1, 1000000);
        else if (!strcmp(a, "--depth"))
            b->depth = opt_num(v, 20, 1000000);
        else if (!strcmp(a, "--payers"))
            b->npayers = opt_num(v, 1, 1000000);
        else if (!strcmp(a, "--receivers"))
            b->nreceivers = opt_num(v, 1, 1000000);
        else if (!strcmp(a, "--xpays"))
            b->nxpay = opt_num(v, 1, 100000000);
        else if (!strcmp(a, "--offers"))
            b->noffers = opt_num(v, 1, 100000000);
        else if (!strcmp(a, "--book-clients"))
            b->book_clients = (int)opt_num(v, 1, MAX_CONNS);
        else if (!strcmp(a, "--book-window"))
            b->book_window = opt_num(v, 1, 1000);
        else if (!strcmp(a, "--book-seconds"))
            b->book_secs = (double)opt_num(v, 1, 600);
        else if (!strcmp(a, "--pf-clients"))
            b->pf_clients = (int)opt_num(v, 1, MAX_CONNS);
        else if (!strcmp(a, "--pf-window"))
            b->pf_window = opt_num(v, 1, 1000);
        else if (!strcmp(a, "--pf-seconds"))
            b->pf_secs = (double)opt_num(v, 1, 600);
        else if (!strcmp(a, "--round-seconds"))
            b->round_secs = (double)opt_num(v, 2, 600);
        else if (!strcmp(a, "--conns"))
            b->nconns = (int)opt_num(v, 1, MAX_CONNS);
        else if (!strcmp(a, "--window"))
            b->window = opt_num(v, 1, 20000);
        else if (!strcmp(a, "--close-ms"))
            b->close_ms = (unsigned)opt_num(v, 100, 60000);
        else if (!strcmp(a, "--rounds"))
            b->rounds = (int)opt_num(v, 1, MAX_ROUNDS);
        else if (!strcmp(a, "--verify-seconds"))
            b->verify_secs = (double)opt_num(v, 1, 60);
        else if (!strcmp(a, "--refills") && (!strcmp(v, "between") || !strcmp(v, "inline")))
            b->refill_inline = !strcmp(v, "inline");
        else if (!strcmp(a, "--track") && (!strcmp(v, "ledger") || !strcmp(v, "stream")))
            b->stream = !strcmp(v, "stream");
        else
            usage();
    }
    /* Offers and xpay modes read every taker's and payment's metadata from
     * the ledgers. Payments mode splits its rounds by count. */
    if ((b->mode == MODE_OFFERS || b->mode == MODE_XPAY) && b->stream)
        usage();
    if (b->mode == MODE_PAYMENTS || b->mode == MODE_PATHFIND)
        b->round_secs = 0;
    if (sodium_init() < 0)
        die("sodium_init failed");
    if (access(b->node, X_OK))
        die("%s: %s (build it with make, or pass --node)", b->node, strerror(errno));
    setvbuf(stdout, NULL, _IOLBF, 0);
    atexit(cleanup);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    b->rbuf = xcalloc(1, READ_CHUNK);
    b->ledgers = xcalloc(MAX_LEDGERS, sizeof *b->ledgers);
    b->ctl.fd = -1;

    /* ---- the node ---- */
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/jt-bench-node.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir)) {
        g_dir[0] = 0;
        die("mkdtemp: %s", strerror(errno));
    }
    char data[4200], conf[4200], ledger_dir[4300];
    snprintf(data, sizeof data, "%s/data", g_dir);
    snprintf(conf, sizeof conf, "%s/bench.conf", g_dir);
    snprintf(ledger_dir, sizeof ledger_dir, "%s/ledger", data);
    char key_hex[65];
    node_init(b->node, data, key_hex);
    jt_errinfo ei;
    if (jt_jtp_key_parse(key_hex, b->node_pk, &ei) != JT_OK)
        die("node key %s: %s", key_hex, ei.msg);
    check(jt_jtp_identity_generate(&b->me), "client identity");
    char me_hex[JT_JTP_KEY_HEX_MAX];
    jt_jtp_key_to_hex(jt_jtp_identity_public(b->me), me_hex);
    FILE *cf = fopen(conf, "w");
    if (!cf)
        die("%s: %s", conf, strerror(errno));
    /* Large messages and output queues: a ledger reply carries every
     * transaction of a ledger, and the transactions stream can queue that
     * much at once (the node's total for all connections is raised with the
     * control connection's own). The admin key lets the control connection
     * close ledgers. Request budgets as high as they go: the benchmark
     * measures what the node can do, and its book_offers clients alone ask
     * for several times one address's default budget. */
    fprintf(cf,
            "[jtp]\nadmin_key = %s\n[ledger]\nclose_ms = %u\n"
            "[limits]\nmax_message = %zu\nmax_outbuf = %zu\nmax_outbuf_total = %zu\n"
            "request_budget = 100000000\naddress_budget = 100000000\n",
            me_hex, b->close_ms, MAX_MSG, (size_t)1 << 30, (size_t)2 << 30);
    if (fclose(cf))
        die("%s: %s", conf, strerror(errno));
    b->port = node_start(b->node, data, conf, b->close_ms);
    if (b->verbose)
        printf("jt-node pid %d, data %s, jtp port %d\n", (int)g_node_pid, data, b->port);

    conn_open(b, &b->ctl, "ctl", true);
    wait_open(b, &b->ctl);
    for (int i = 0; i < b->nconns; i++) {
        char name[16];
        snprintf(name, sizeof name, "load%d", i);
        conn_open(b, &b->load[i], name, false);
    }
    for (int i = 0; i < b->nconns; i++)
        wait_open(b, &b->load[i]);
    jt_json_doc_free(ctrl_call(b, 30, "\"command\":\"subscribe\",\"streams\":[%s]",
                               b->stream ? "\"ledger\",\"transactions\"" : "\"ledger\""));
    jt_json_doc *d =
        ctrl_call(b, 30, "\"command\":\"account_info\",\"account\":\"" GENESIS_ADDRESS "\"");
    uint64_t gseq = 0;
    if (!jt_json_uint64(
            jt_json_get(jt_json_get(jt_json_get(jt_json_root(d), "result"), "account_data"),
                        "Sequence"),
            true, &gseq))
        die("account_info of the genesis account has no Sequence");
    jt_json_doc_free(d);
    account genesis;
    check(jt_keypair_from_secret(GENESIS_SECRET, &genesis.kp, NULL), "genesis key");
    check(jt_account_id_from_pubkey(genesis.kp.pub, 33, &genesis.id), "genesis account");

    int status = modes[b->mode].run(b, &genesis, (uint32_t)gseq, ledger_dir);
    jt_keypair_clear(&genesis.kp);

    conn_close(&b->ctl);
    for (int i = 0; i < b->nconns; i++) {
        conn_close(&b->load[i]);
        free(b->load[i].order);
    }
    for (int i = 0; i < b->nbook; i++)
        conn_close(&b->book[i]);
    set_free(&b->txs);
    set_free(&b->fund);
    free(b->br.lat);
    free(b->br.t_send);
    free(b->ledgers);
    free(b->rbuf);
    jt_jtp_identity_free(b->me);
    return status;
}
