#include "common.h"

/* ---------------------------------------------------------------- pathfind mode */

/*
 * path_find answers per second, and their latency (p50, p99), on a ledger
 * with 1 000 accounts, 50 tokens and 20 000 offers. The issue names no
 * target: the figures are information; the mode FAILs (exit status 3) when
 * most answers hold no path (the set-up gives none) or when a payment made
 * with the paths found does not deliver.
 *
 * Accounts (1 000, each funded with 5 000 SWT from the genesis account;
 * their keys from fixed passphrases, so every run builds the same ledger):
 * 0..4 the issuers; 5 + u the users u = 0..994. Users 0..899 are makers
 * (they place the offers); users 900..994 only receive, so a payment to
 * one of them changes no offer of theirs.
 *
 * Tokens (50): token t is currency PF_CODES[t / 5] of issuer t % 5 (ten
 * currency codes from five issuers, so one code has five issuers). Token t
 * is worth pf_price(t) drops (0.5 to 2.95 SWT), a fixed scramble of t.
 *
 * Set-up (not measured), in chunks each closed in a ledger and checked
 * tesSUCCESS (submit_set):
 *  - user u trusts the six tokens pf_token(u, 0..5) = (17 u + k) mod 50
 *    and is issued 10 000 of the first four (it holds them);
 *  - 20 000 offers, offer i placed by maker i mod 900, the n-th (n = i /
 *    900) of that maker's, by n mod 5:
 *      0, 1  asks: sells 1-5 units of a token it holds for SWT, at 1.010 to
 *            1.048 times the token's worth;
 *      2, 3  bids: sells SWT for 1-5 units of a token it trusts, at 0.990 to
 *            0.952 times its worth;
 *      4     token for token: sells 1-5 units of a token it holds for the
 *            next (or the previous) of its tokens (t -> t+1, t+1 -> t), at
 *            1.020 to 1.058 times the ratio of their worths.
 *    Every ask is above every bid and a token-for-token offer is dearer
 *    than the same trade through SWT, so no offer crosses another: all are
 *    placed (checked from their metadata). The books: 50 token/SWT books of
 *    asks (9 000 offers), 50 of bids (7 400), and 100 token/token books
 *    between neighbouring tokens (3 600).
 *
 * So a source joins a destination's token X by one book (its SWT through
 * X's asks; a token it holds next to X through a token/token book) or by
 * two (a token it holds through its bids into SWT, then X's asks).
 *
 * The load, two phases of --pf-seconds (10) each after a 1 s warm-up, from
 * --pf-clients (4) jtp clients each keeping --pf-window (2) requests
 * outstanding, sending a list of 4 096 skywell_path_find requests in turn;
 * ledgers close every second meanwhile, as in the other modes. A request,
 * drawn by a fixed scramble: a receiver (destination), one of the tokens it
 * trusts (X, the amount's issuer named), 0.50 to 3.00 units of it, and a
 * user that does not hold X as source.
 *  1. (the headline) no source_currencies: the node tries the source's SWT
 *     and its four tokens' currencies, as a wallet's request does;
 *  2. (information) source_currencies naming the currency of one token the
 *     source holds, so only paths from a token (through a token/token book,
 *     or through SWT: two books) can answer.
 * Every reply must be a success (else the benchmark stops); a reply counts
 * as an answer with a path when it holds at least one alternative (its
 * "paths_computed" members, found without parsing it); replies without
 * one, and those cut short by the node's search bounds ("full_reply":
 * false), are counted apart. Latency: request -> reply of every successful
 * reply to a request sent in the window.
 *
 * Off the clock, a sample check per phase: requests of the list asked again
 * (parsed) until PF_SAMPLES of them have alternatives (at most
 * PF_SAMPLE_TRIES asked); for the first and last alternative of each, a
 * Payment from the source with those Paths (none for an alternative of the
 * default path alone) and SendMax = source_amount + 1 %, each in a ledger
 * of its own: it must be tesSUCCESS and the receiver's line must grow by
 * exactly the Amount (metadata, as xpay mode checks its payments).
 *
 * Verdict: FAIL (exit status 3) when most answers of the first phase hold
 * no path (the set-up gives none) or a sample payment does not deliver;
 * otherwise the figures are information (the issue names no target).
 */

#define PF_ISSUERS      5
#define PF_NTOKENS      50
#define PF_ACCOUNTS     1000
#define PF_USERS        (PF_ACCOUNTS - PF_ISSUERS)
#define PF_MAKERS       900
#define PF_TRUSTS       6
#define PF_HELD         4
#define PF_OFFERS       20000
#define PF_FUND         5000000000ull /* 5 000 SWT */
#define PF_ISSUED       "10000"
#define PF_NREQ         4096
#define PF_SAMPLES      8  /* requests whose alternatives are paid with, per phase */
#define PF_SAMPLE_TRIES 64 /* requests asked at most, to find them */
#define PF_FAIL         3

static const char *const PF_CODES[PF_NTOKENS / PF_ISSUERS] = {"CNY", "USD", "EUR", "JPY", "GBP",
                                                              "HKD", "AUD", "CAD", "CHF", "SGD"};

enum { PF_TRUST, PF_ISSUE, PF_ASK, PF_BID, PF_CROSS };

/* One set-up transaction: type, sending account (index in accts), its
 * Sequence, tokens a (and b: the token bought by PF_CROSS), the user a
 * PF_ISSUE goes to, units of 0.01 of a token, and the price level. */
typedef struct pf_spec {
    uint8_t type;
    uint8_t lvl;
    uint16_t units;
    uint32_t src, seq, dst;
    uint8_t a, b;
} pf_spec;

typedef struct pf_job {
    const account *accts;
    char (*issuer)[JT_ADDRESS_MAX]; /* the issuers' addresses */
    const pf_spec *spec;
    ptx *v;
} pf_job;

/* One request of the load. */
typedef struct pf_req {
    uint32_t src, dst; /* users */
    uint8_t token;
    uint16_t units; /* 0.01 of the token */
    int8_t via;     /* -1, or the token whose currency is the only source currency */
} pf_req;

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* User u's k-th token (k < PF_HELD: held; k < PF_TRUSTS: trusted). */
static unsigned pf_token(size_t u, unsigned k)
{
    return (unsigned)((u * 17 + k) % PF_NTOKENS);
}

static bool pf_holds(size_t u, unsigned t)
{
    for (unsigned k = 0; k < PF_HELD; k++)
        if (pf_token(u, k) == t)
            return true;
    return false;
}

/* What a unit of token t is worth, in drops. */
static uint64_t pf_price(unsigned t)
{
    return 500000 + (uint64_t)((t * 37) % 50) * 50000;
}

static jt_err pf_issued(jt_amount *a, const pf_job *j, unsigned t, const char *value)
{
    return jt_amount_issued(a, value, PF_CODES[t / PF_ISSUERS], j->issuer[t % PF_ISSUERS], 0, NULL);
}

static jt_err pf_units(jt_amount *a, const pf_job *j, unsigned t, unsigned units)
{
    char v[32];
    snprintf(v, sizeof v, "%u.%02u", units / 100, units % 100);
    return pf_issued(a, j, t, v);
}

static jt_err pf_sign(void *ctx, size_t k)
{
    const pf_job *j = ctx;
    const pf_spec *s = &j->spec[k];
    ptx *p = &j->v[k];
    const account *from = &j->accts[s->src];
    p->src = s->src;
    jt_amount gets, pays;
    jt_err e;
    jt_obj *tx;
    switch (s->type) {
    case PF_TRUST:
        if ((e = pf_issued(&gets, j, s->a, LINE_LIMIT)))
            return e;
        tx = tx_begin(JT_TX_TRUST_SET, 0, from, s->seq);
        return tx_finish(p, k, tx, from, tx ? jt_obj_set_amount(tx, "LimitAmount", &gets) : JT_OK);
    case PF_ISSUE:
        if ((e = pf_issued(&gets, j, s->a, PF_ISSUED)))
            return e;
        return sign_payment(p, k, from, s->seq, &j->accts[s->dst].id, &gets);
    case PF_ASK: /* sells token a for SWT */
        if ((e = pf_units(&gets, j, s->a, s->units)) ||
            (e = drops(&pays, s->units * pf_price(s->a) * (1010u + 2u * s->lvl) / 100000)))
            return e;
        break;
    case PF_BID: /* sells SWT for token a */
        if ((e = drops(&gets, s->units * pf_price(s->a) * (990u - 2u * s->lvl) / 100000)) ||
            (e = pf_units(&pays, j, s->a, s->units)))
            return e;
        break;
    default: { /* PF_CROSS: sells token a for token b */
        char v[48];
        double want = s->units / 100.0 * (double)pf_price(s->a) / (double)pf_price(s->b) *
                      (1020 + 2 * s->lvl) / 1000.0;
        snprintf(v, sizeof v, "%.6f", want);
        if ((e = pf_units(&gets, j, s->a, s->units)) || (e = pf_issued(&pays, j, s->b, v)))
            return e;
        break;
    }
    }
    p->kind = K_MAKER;
    tx = tx_begin(JT_TX_OFFER_CREATE, 0, from, s->seq);
    e = tx ? jt_obj_set_amount(tx, "TakerPays", &pays) : JT_OK;
    if (!e && tx)
        e = jt_obj_set_amount(tx, "TakerGets", &gets);
    return tx_finish(p, k, tx, from, e);
}

static void pf_sign_set(ptx_set *set, const pf_spec *spec, size_t n, pf_job *j, const char *what)
{
    set_alloc(set, n);
    j->spec = spec;
    j->v = set->v;
    parallel(n, pf_sign, j, what);
    set_signed(set);
}

typedef struct pf_res {
    double secs, rate, answer_rate, p50, p99, pmax;
    size_t with, none, partial, sent, answers;
    double share; /* % of the answers with a path */
    double node_cpu_share, self_cpu_share;
} pf_res;

/* skywell_path_find from b->pf_clients connections, each keeping
 * b->pf_window requests outstanding, for `secs` after a 1 s warm-up. */
static void pf_bench(bench *b, double secs, pf_res *out)
{
    if (!b->nbook) {
        for (int i = 0; i < b->pf_clients; i++) {
            char name[16];
            snprintf(name, sizeof name, "path%d", i);
            conn_open(b, &b->book[i], name, false);
            b->nbook = i + 1;
        }
        for (int i = 0; i < b->nbook; i++)
            wait_open(b, &b->book[i]);
    }
    book_run *r = &b->br;
    r->nlat = r->replies = r->none = r->partial = r->bad = 0;
    r->first_bad[0] = 0;
    r->t_start = now() + 1.0; /* warm-up, not counted */
    r->t_end = r->t_start + secs;
    r->sending = true;
    size_t sent0 = r->sent;
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
        if (now() - t0 > 60)
            die("%zu skywell_path_find requests unanswered after 60 s", inflight);
        pump(b, 20);
    }
    if (r->bad)
        die("%zu skywell_path_find replies were not a success (first: %s)", r->bad, r->first_bad);
    qsort(r->lat, r->nlat, sizeof *r->lat, cmp_double);
    memset(out, 0, sizeof *out);
    out->secs = secs;
    out->with = r->replies;
    out->none = r->none;
    out->partial = r->partial;
    out->sent = r->sent - sent0;
    out->answers = r->replies + r->none;
    out->share = out->answers ? 100.0 * (double)r->replies / (double)out->answers : 0;
    out->rate = (double)r->replies / secs;
    out->answer_rate = (double)(r->replies + r->none) / secs;
    out->p50 = pct(r->lat, r->nlat, 50);
    out->p99 = pct(r->lat, r->nlat, 99);
    out->pmax = r->nlat ? r->lat[r->nlat - 1] : 0;
    out->node_cpu_share = cn / secs;
    out->self_cpu_share = cs / secs;
}

/* SendMax for an alternative's source_amount, 1 % above it. */
static jt_err pf_sendmax(jt_amount *a, const jt_json *sa)
{
    const char *d = jt_json_string(sa);
    if (d) {
        uint64_t v = strtoull(d, NULL, 10);
        return drops(a, v + v / 100 + 1);
    }
    const char *cur = jt_json_string(jt_json_get(sa, "currency"));
    const char *iss = jt_json_string(jt_json_get(sa, "issuer"));
    const char *val = jt_json_string(jt_json_get(sa, "value"));
    if (!cur || !iss || !val)
        return JT_EJSON;
    char v[48];
    snprintf(v, sizeof v, "%.6f", strtod(val, NULL) * 1.01 + 0.000001);
    return jt_amount_issued(a, v, cur, iss, 0, NULL);
}

typedef struct pf_sample {
    size_t tried, delivered, swt, token, default_only, empty;
    char first_bad[200];
} pf_sample;

/* One phase of the load: its requests, what they gave, the sample check. */
typedef struct pf_phase {
    pf_req *reqs;
    char **text;
    pf_res r;
    pf_sample s;
} pf_phase;

/* The sample check (off the clock): see the comment at the top. */
static void pf_check(bench *b, const account *accts, uint32_t *seq, const pf_req *reqs,
                     const char *const *req_text, pf_sample *out)
{
    memset(out, 0, sizeof *out);
    size_t with = 0;
    for (size_t i = 0; i < PF_SAMPLE_TRIES && with < PF_SAMPLES; i++) {
        size_t ri = i * (PF_NREQ / PF_SAMPLE_TRIES) + i % 7;
        const pf_req *q = &reqs[ri];
        jt_json_doc *d = ctrl_call(b, 60, "%s", req_text[ri]);
        if (b->verbose) {
            jt_buf jb;
            jt_buf_init(&jb);
            jt_jw w;
            jt_jw_init(&w, &jb);
            jt_jw_value(&w, jt_json_root(d));
            if (jt_jw_finish(&w))
                die("out of memory");
            printf("sample request %zu: %s\n  answer: %.3000s\n", ri, req_text[ri],
                   jb.data ? (const char *)jb.data : "");
            jt_buf_clear(&jb);
        }
        const jt_json *alts = jt_json_get(jt_json_get(jt_json_root(d), "result"), "alternatives");
        size_t na = alts && alts->kind == JT_JSON_ARRAY ? alts->u.arr.n : 0;
        if (!na) {
            out->empty++;
            jt_json_doc_free(d);
            continue;
        }
        with++;
        size_t pick[2] = {0, na - 1};
        for (int w = 0; w < (na > 1 ? 2 : 1); w++) {
            const jt_json *alt = alts->u.arr.items[pick[w]];
            const jt_json *paths = jt_json_get(alt, "paths_computed");
            const jt_json *sa = jt_json_get(alt, "source_amount");
            const account *from = &accts[PF_ISSUERS + q->src];
            jt_amount amt, smax;
            char v[32];
            snprintf(v, sizeof v, "%u.%02u", q->units / 100, q->units % 100);
            char iss[JT_ADDRESS_MAX];
            check(jt_address_encode(&accts[q->token % PF_ISSUERS].id, iss), "issuer address");
            check(jt_amount_issued(&amt, v, PF_CODES[q->token / PF_ISSUERS], iss, 0, NULL),
                  "sample Amount");
            check(pf_sendmax(&smax, sa), "sample SendMax (source_amount)");
            if (jt_json_string(sa))
                out->swt++;
            else
                out->token++;
            ptx_set one;
            set_alloc(&one, 1);
            ptx *p = &one.v[0];
            p->src = PF_ISSUERS + q->src;
            p->kind = K_XPAY;
            jt_obj *tx = tx_begin(JT_TX_PAYMENT, 0, from, seq[p->src]++);
            jt_err e =
                tx ? jt_obj_set_account(tx, "Destination", &accts[PF_ISSUERS + q->dst].id) : JT_OK;
            if (!e && tx)
                e = jt_obj_set_amount(tx, "Amount", &amt);
            if (!e && tx)
                e = jt_obj_set_amount(tx, "SendMax", &smax);
            bool has_paths = paths && paths->kind == JT_JSON_ARRAY && paths->u.arr.n;
            if (!has_paths)
                out->default_only++;
            jt_errinfo ei = {0};
            if (!e && tx && has_paths)
                e = jt_obj_set_json(tx, "Paths", paths, &ei);
            if (e)
                die("sample payment %zu: its fields: %s", out->tried, ei.msg);
            check(tx_finish(p, 0, tx, from, e), "signing a sample payment");
            set_signed(&one);
            char what[80];
            snprintf(what, sizeof what, "sample payment %zu (request %zu, alternative %zu)",
                     out->tried, ri, pick[w]);
            b->offer_meta = true;
            submit_set(b, &one, what);
            out->tried++;
            if (p->delivered)
                out->delivered++;
            else if (!out->first_bad[0])
                snprintf(out->first_bad, sizeof out->first_bad,
                         "request %zu, alternative %zu: tesSUCCESS, but not exactly %s %s "
                         "delivered",
                         ri, pick[w], v, PF_CODES[q->token / PF_ISSUERS]);
            set_free(&one);
        }
        jt_json_doc_free(d);
    }
}

/* Account a's keys, from a fixed passphrase: the same accounts in every
 * run, so the order of the ledger's directories (by key), which decides
 * what the node's bounded search reaches first, is the same too. */
static jt_err pf_key(void *ctx, size_t a)
{
    account *acct = &((account *)ctx)[a];
    char phrase[48];
    snprintf(phrase, sizeof phrase, "jtkit bench pathfind %zu", a);
    jt_seed seed;
    jt_seed_from_passphrase(phrase, JT_KEY_SECP256K1, &seed);
    jt_err e = jt_keypair_from_seed(&seed, &acct->kp);
    if (!e)
        e = jt_account_id_from_pubkey(acct->kp.pub, 33, &acct->id);
    jt_seed_clear(&seed);
    return e;
}

/* The requests of one phase, a fixed scramble (see the comment at the
 * top): with `via`, each names one source currency, that of a token its
 * source holds. */
static void pf_requests(const account *accts, char (*issuer)[JT_ADDRESS_MAX], bool via,
                        pf_req *reqs, char **text)
{
    for (size_t r = 0; r < PF_NREQ; r++) {
        uint64_t h = mix64((via ? 0x766961ull << 32 : 0x70617468ull << 32) + r);
        pf_req q;
        q.dst = (uint32_t)(PF_MAKERS + h % (PF_USERS - PF_MAKERS));
        q.token = (uint8_t)pf_token(q.dst, (unsigned)((h >> 12) % PF_TRUSTS));
        q.units = (uint16_t)(50 + (h >> 24) % 251);
        q.src = (uint32_t)((h >> 40) % PF_USERS);
        while (q.src == q.dst || pf_holds(q.src, q.token))
            q.src = (q.src + 1) % PF_USERS;
        q.via = via ? (int8_t)pf_token(q.src, (unsigned)((h >> 56) % PF_HELD)) : -1;
        reqs[r] = q;
        char src[JT_ADDRESS_MAX], dst[JT_ADDRESS_MAX];
        check(jt_address_encode(&accts[PF_ISSUERS + q.src].id, src), "address");
        check(jt_address_encode(&accts[PF_ISSUERS + q.dst].id, dst), "address");
        char buf[512], sc[64] = "";
        if (q.via >= 0)
            snprintf(sc, sizeof sc, ",\"source_currencies\":[{\"currency\":\"%s\"}]",
                     PF_CODES[q.via / PF_ISSUERS]);
        snprintf(buf, sizeof buf,
                 "\"command\":\"skywell_path_find\",\"source_account\":\"%s\","
                 "\"destination_account\":\"%s\",\"destination_amount\":{\"currency\":\"%s\","
                 "\"issuer\":\"%s\",\"value\":\"%u.%02u\"}%s",
                 src, dst, PF_CODES[q.token / PF_ISSUERS], issuer[q.token % PF_ISSUERS],
                 q.units / 100, q.units % 100, sc);
        text[r] = strdup(buf);
        if (!text[r])
            die("out of memory");
    }
}

int pathfind_run(bench *b, const account *genesis, uint32_t gseq, const char *ledger_dir)
{
    (void)ledger_dir;
    double t0 = now();
    account *accts = xcalloc(PF_ACCOUNTS, sizeof *accts);
    parallel(PF_ACCOUNTS, pf_key, accts, "deriving account keys");
    char issuer[PF_ISSUERS][JT_ADDRESS_MAX];
    for (int i = 0; i < PF_ISSUERS; i++)
        check(jt_address_encode(&accts[i].id, issuer[i]), "issuer address");
    uint32_t *seq = xcalloc(PF_ACCOUNTS, sizeof *seq);
    for (size_t a = 0; a < PF_ACCOUNTS; a++)
        seq[a] = 1; /* a new account's first Sequence */

    /* ---- the plan ---- */
    size_t ntrust = (size_t)PF_USERS * PF_TRUSTS, nissue = (size_t)PF_USERS * PF_HELD;
    pf_spec *st = xcalloc(ntrust, sizeof *st), *si = xcalloc(nissue, sizeof *si);
    pf_spec *so = xcalloc(PF_OFFERS, sizeof *so);
    for (size_t u = 0; u < PF_USERS; u++) {
        uint32_t a = (uint32_t)(PF_ISSUERS + u);
        for (unsigned k = 0; k < PF_TRUSTS; k++)
            st[u * PF_TRUSTS + k] = (pf_spec){
                .type = PF_TRUST, .src = a, .seq = seq[a]++, .a = (uint8_t)pf_token(u, k)};
    }
    /* Issuing in rounds over the users, so each issuer's payments spread over the chunks. */
    for (unsigned k = 0; k < PF_HELD; k++)
        for (size_t u = 0; u < PF_USERS; u++) {
            unsigned t = pf_token(u, k);
            uint32_t is = t % PF_ISSUERS;
            si[k * PF_USERS + u] = (pf_spec){.type = PF_ISSUE,
                                             .src = is,
                                             .seq = seq[is]++,
                                             .dst = (uint32_t)(PF_ISSUERS + u),
                                             .a = (uint8_t)t};
        }
    size_t nkind[3] = {0};
    for (size_t i = 0; i < PF_OFFERS; i++) {
        size_t m = i % PF_MAKERS, n = i / PF_MAKERS;
        uint32_t a = (uint32_t)(PF_ISSUERS + m);
        uint64_t h = mix64(i);
        pf_spec s = {.src = a,
                     .seq = seq[a]++,
                     .units = (uint16_t)(100 + h % 401),
                     .lvl = (uint8_t)((h >> 16) % 20)};
        switch (n % 5) {
        case 0:
        case 1:
            s.type = PF_ASK;
            s.a = (uint8_t)pf_token(m, (unsigned)((n / 5 + n) % PF_HELD));
            nkind[0]++;
            break;
        case 2:
        case 3:
            s.type = PF_BID;
            s.a = (uint8_t)pf_token(m, (unsigned)((n / 5 + n) % PF_TRUSTS));
            nkind[1]++;
            break;
        default:
            s.type = PF_CROSS;
            if ((n / 5) % 2 == 0) { /* a held token for the next */
                unsigned k = (unsigned)((h >> 24) % PF_HELD);
                s.a = (uint8_t)pf_token(m, k);
                s.b = (uint8_t)pf_token(m, k + 1);
            } else { /* a held token for the previous */
                unsigned k = (unsigned)((h >> 24) % (PF_HELD - 1));
                s.a = (uint8_t)pf_token(m, k + 1);
                s.b = (uint8_t)pf_token(m, k);
            }
            nkind[2]++;
            break;
        }
        so[i] = s;
    }
    double t_keys = now() - t0;

    /* ---- signing, on two threads ---- */
    set_alloc(&b->fund, PF_ACCOUNTS);
    fund_job fj = {
        .genesis = genesis, .accts = accts, .gseq = gseq, .amount = PF_FUND, .v = b->fund.v};
    parallel(PF_ACCOUNTS, sign_fund, &fj, "signing funding payments");
    set_signed(&b->fund);
    pf_job job = {.accts = accts, .issuer = issuer};
    ptx_set trust, issue, offers;
    pf_sign_set(&trust, st, ntrust, &job, "signing TrustSets");
    pf_sign_set(&issue, si, nissue, &job, "signing the issuing payments");
    pf_sign_set(&offers, so, PF_OFFERS, &job, "signing the offers");
    double t_sign = now() - t0 - t_keys;
    free(st);
    free(si);
    free(so);
    if (!b->json)
        printf("bench_node --mode pathfind: %s, %d accounts (%d issuers, %d makers, %d "
               "receivers), %d tokens, %d offers (%zu asks, %zu bids, %zu token/token); %d "
               "skywell_path_find requests, %d clients x %zu outstanding, %.0f s after a 1 s "
               "warm-up, close every %u ms\n",
               b->node, PF_ACCOUNTS, PF_ISSUERS, PF_MAKERS, PF_USERS - PF_MAKERS, PF_NTOKENS,
               PF_OFFERS, nkind[0], nkind[1], nkind[2], PF_NREQ, b->pf_clients, b->pf_window,
               b->pf_secs, b->close_ms);

    /* ---- set-up (not measured) ---- */
    double t1 = now();
    submit_set(b, &b->fund, "funding");
    submit_set(b, &trust, "trust lines");
    submit_set(b, &issue, "issuing the tokens");
    b->offer_meta = true;
    submit_set(b, &offers, "placing the offers");
    offer_tally ot = {0};
    tally_offers(&offers, 0, PF_OFFERS, 0, &ot);
    if (ot.makers_placed != PF_OFFERS)
        die("placing the offers: %zu of %d placed (some crossed)", ot.makers_placed, PF_OFFERS);
    set_free(&trust);
    set_free(&issue);
    set_free(&offers);
    set_free(&b->fund);
    double t_setup = now() - t1;
    if (!b->json)
        printf("set-up (not measured): keys and plan %.1f s, signing %.1f s on 2 threads, "
               "funding, trust lines, issuing and the offers %.1f s; %zu offers placed\n",
               t_keys, t_sign, t_setup, ot.makers_placed);

    /* ---- the load: any source currency, then one token's ---- */
    pf_phase ph[2];
    for (int k = 0; k < 2; k++) {
        pf_phase *f = &ph[k];
        f->reqs = xcalloc(PF_NREQ, sizeof *f->reqs);
        f->text = xcalloc(PF_NREQ, sizeof *f->text);
        pf_requests(accts, issuer, k == 1, f->reqs, f->text);
        b->pf_req = f->text;
        b->npf_req = PF_NREQ;
        pf_bench(b, b->pf_secs, &f->r);
        b->pf_req = NULL;
    }
    /* ---- off the clock: payments with the paths found ---- */
    for (int k = 0; k < 2; k++)
        pf_check(b, accts, seq, ph[k].reqs, (const char *const *)ph[k].text, &ph[k].s);

    long rss, hwm, anon, file;
    node_memory(&rss, &hwm, &anon, &file);
    pf_res *R = &ph[0].r;
    size_t tried = ph[0].s.tried + ph[1].s.tried;
    size_t delivered = ph[0].s.delivered + ph[1].s.delivered;
    const char *first_bad = ph[0].s.first_bad[0] ? ph[0].s.first_bad : ph[1].s.first_bad;
    char verdict[400];
    bool fail = true;
    if (!R->answers)
        snprintf(verdict, sizeof verdict, "FAIL (no answers)");
    else if (R->with * 2 <= R->answers)
        snprintf(verdict, sizeof verdict,
                 "FAIL (most answers hold no path: %zu of %zu; the set-up gives none)", R->none,
                 R->answers);
    else if (delivered != tried || !tried)
        snprintf(verdict, sizeof verdict, "FAIL (sample payments: %zu of %zu delivered%s%s)",
                 delivered, tried, first_bad[0] ? "; " : "", first_bad);
    else {
        snprintf(verdict, sizeof verdict, "information (no target)");
        fail = false;
    }

    static const char *const phase_name[2] = {"any source currency", "one token's currency"};
    if (b->json) {
        printf("{\"bench\": \"bench_node\", \"mode\": \"pathfind\", \"measured\": true, "
               "\"accounts\": %d, \"tokens\": %d, \"offers\": %d, \"clients\": %d, \"window\": "
               "%zu, \"seconds\": %.0f, \"setup_s\": %.1f, \"rss_kb\": %ld, \"verdict\": "
               "\"%s\",\n  \"phases\": [",
               PF_ACCOUNTS, PF_NTOKENS, PF_OFFERS, b->nbook, b->pf_window, b->pf_secs, t_setup, rss,
               verdict);
        for (int k = 0; k < 2; k++) {
            const pf_res *r = &ph[k].r;
            const pf_sample *S = &ph[k].s;
            printf("%s\n    {\"source\": \"%s\", \"answers_with_path_per_s\": %.1f, "
                   "\"answers_per_s\": %.1f, \"with_path\": %zu, \"without_path\": %zu, "
                   "\"not_full_reply\": %zu, \"share_with_path\": %.2f, \"latency_ms\": "
                   "{\"p50\": %.2f, \"p99\": %.2f, \"max\": %.2f}, \"node_cpu_share\": %.3f, "
                   "\"samples\": {\"tried\": %zu, \"delivered\": %zu, \"swt_source\": %zu, "
                   "\"token_source\": %zu, \"default_path_only\": %zu, \"no_alternative\": "
                   "%zu}}",
                   k ? "," : "", phase_name[k], r->rate, r->answer_rate, r->with, r->none,
                   r->partial, r->share, r->p50, r->p99, r->pmax, r->node_cpu_share, S->tried,
                   S->delivered, S->swt, S->token, S->default_only, S->empty);
        }
        printf("]}\n");
    } else {
        char g1[32], g2[32];
        for (int k = 0; k < 2; k++) {
            const pf_res *r = &ph[k].r;
            const pf_sample *S = &ph[k].s;
            printf("\nskywell_path_find, %s, %d clients x %zu outstanding, %.0f s\n", phase_name[k],
                   b->nbook, b->pf_window, r->secs);
            printf("  %-46s %12s /s (%zu in %.0f s)\n", "answers with at least one path",
                   grouped(r->rate, g1, sizeof g1), r->with, r->secs);
            printf("  %-46s %12s /s; %zu without a path (%.1f %% with one)\n", "all answers",
                   grouped(r->answer_rate, g2, sizeof g2), r->none, r->share);
            printf("  %-46s %zu of %zu (a search bound reached: full_reply false)\n",
                   "partial answers", r->partial, r->answers);
            printf("  %-46s %9.2f ms p50, %.2f ms p99, %.2f ms max\n", "request -> reply", r->p50,
                   r->p99, r->pmax);
            printf("  %-46s %9.0f %% of a core; bench process %.0f %%\n",
                   "node CPU during the load", 100 * r->node_cpu_share, 100 * r->self_cpu_share);
            printf("  %-46s %zu of %zu delivered (source SWT %zu, a token %zu; default path "
                   "only %zu; requests with no alternative %zu)\n",
                   "sample payments with the paths found", S->delivered, S->tried, S->swt, S->token,
                   S->default_only, S->empty);
        }
        printf("\n  %-46s %.0f MB\n", "node RSS", (double)rss / 1024);
        printf("  %-46s %s\n", "verdict", verdict);
        const pf_res *v = &ph[1].r;
        printf("\nSUMMARY path_find (%d accounts, %d tokens, %d offers, %d clients x %zu): %s/s, "
               "p50 %.1f ms, p99 %.1f ms; %.1f %% with a path; samples %zu/%zu delivered  %s\n",
               PF_ACCOUNTS, PF_NTOKENS, PF_OFFERS, b->nbook, b->pf_window,
               grouped(R->rate, g1, sizeof g1), R->p50, R->p99, R->share, delivered, tried,
               verdict);
        printf("SUMMARY path_find with one token as source currency: %s/s, p50 %.1f ms, p99 %.1f "
               "ms; %.1f %% with a path; %.1f %% of answers cut short by the search bounds "
               "(information)\n",
               grouped(v->rate, g2, sizeof g2), v->p50, v->p99, v->share,
               v->answers ? 100.0 * (double)v->partial / (double)v->answers : 0);
    }
    for (int k = 0; k < 2; k++) {
        for (size_t r = 0; r < PF_NREQ; r++)
            free(ph[k].text[r]);
        free(ph[k].text);
        free(ph[k].reqs);
    }
    free(seq);
    free_accounts(accts, PF_ACCOUNTS);
    return fail ? PF_FAIL : 0;
}
