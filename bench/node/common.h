/*
 * common.h — what the parts of bench_node share: the node process, the
 * pre-signed transactions, the jtp connections and their tracking, the
 * rounds against the verify ceiling, and the market (an issuer of CNY,
 * makers and a book) that the offers and xpay modes build.
 *
 *   bench/bench_node.c        options, the node's start, the mode table, main
 *   bench/node/proc.c         helpers; the jt-node process (init, run, stop, memory, CPU, disk)
 *   bench/node/txs.c          pre-signed transaction sets, signing on two threads, accounts
 *   bench/node/conn.c         jtp connections, replies, ledger tracking, results from metadata
 *   bench/node/rounds.c       set-up submission, rounds V L V ... V, per-round figures
 *   bench/node/market.c       the CNY market: TrustSets, issuing, the makers' book
 *   bench/node/mode_*.c       one file per mode: its set-up, load and report
 *
 * A new mode is a mode_NAME.c with a run function (`mode_run_fn`), its
 * prototype and a MODE_NAME value here, and a line in the mode table of
 * bench_node.c (with its options, if it has any of its own).
 */
#ifndef BENCH_NODE_COMMON_H
#define BENCH_NODE_COMMON_H

#define _GNU_SOURCE /* nftw, memmem */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <secp256k1.h>
#include <sodium.h>

#include "jt/jt.h"
#include "jt/jtp.h"

#define GENESIS_SECRET  "snoPBjXtMeMyMHUVTgbuqAfg1SUTb"
#define GENESIS_ADDRESS "jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh"

#define FUND_DROPS  1000000000ull /* 1 000 SWT per account: far above the reserve */
#define PAY_DROPS   1000ull
#define FEE_DROPS   10ull
#define MAX_CONNS   16
#define MAX_MSG     ((size_t)128 << 20) /* ledger replies with every transaction */
#define READ_CHUNK  ((size_t)256 << 10)
#define CTRL_ID     1000000000ull /* ids of control requests; below: index in the set submitted */
#define LEDGER_ID   2000000000ull /* hash-list fetches: LEDGER_ID + ledger index */
#define RESULT_ID   3000000000ull /* binary fetches (results): RESULT_ID + ledger index */
#define BOOK_ID     4000000000ull /* book_offers requests: BOOK_ID + request number */
#define TXR_ID      5000000000ull /* one transaction's result (tx, binary): TXR_ID + its index */
#define MAX_LEDGERS 100000
#define MAX_ROUNDS  16
/* The node's threads: the event loop (the process's first thread), the
 * verify workers (jt-verify), the ledger writer (jt-writer), anything else. */
enum { THR_LOOP, THR_VERIFY, THR_WRITER, THR_OTHER, NODE_THR };

/* ---------------------------------------------------------------- globals (proc.c) */

extern pid_t g_node_pid;
extern char g_dir[4096]; /* parent temp dir: data/, node.log, bench.conf */
extern bool g_keep;

/* ---------------------------------------------------------------- transactions */

enum { P_UNSENT, P_SENT, P_ACKED, P_REJECTED, P_VALIDATED };

/* What a transaction is for (offers and xpay modes read the metadata of
 * takers, makers and cross-currency payments; everything else only needs
 * its result). */
enum { K_OTHER, K_TAKER, K_MAKER, K_XPAY };

typedef struct ptx {
    char *req; /* the submit request, id included */
    uint32_t req_len;
    uint32_t ledger;
    uint32_t src; /* the sending account: its transactions share a connection */
    uint8_t id[32];
    uint8_t state;
    bool has_result;
    int16_t ter_sub, ter_val;
    uint8_t kind;    /* K_* */
    uint8_t round;   /* the round of load that sent it (1, 2, ...) */
    uint8_t crossed; /* offers: other accounts' offers it took from (metadata) */
    uint8_t taken;   /* ... of which it took in full (deleted) */
    bool placed;     /* offers: its own offer was placed in the book */
    bool delivered;  /* xpay: tesSUCCESS, and its Destination got exactly the Amount */
    double t_sub, t_ack, t_val;
} ptx;

/* ID -> index in a set: open addressing over the first 8 bytes of the ID. */
typedef struct idmap {
    uint32_t *slot; /* index + 1; 0 = empty */
    size_t mask;
    const ptx *v;
} idmap;

/* A set of pre-signed transactions submitted together; request ids are
 * indices into the set. */
typedef struct ptx_set {
    ptx *v;
    size_t n;
    idmap map; /* ID -> index, once signed (set_signed) */
} ptx_set;

typedef struct account {
    jt_keypair kp;
    jt_account_id id;
} account;

/* Runs fn(ctx, k) for k in [0, n) on two threads (k even on one, odd on
 * the other); dies naming `what` on the first error. */
typedef jt_err (*job_fn)(void *ctx, size_t k);

/* Funding payments: genesis (Sequence gseq on) -> accts[k], amount drops
 * each, into v[k]. */
typedef struct fund_job {
    const account *genesis, *accts;
    uint32_t gseq;
    uint64_t amount;
    ptx *v;
} fund_job;

/* ---------------------------------------------------------------- jtp connections */

typedef struct conn {
    int fd;
    jt_jtp *j;
    char name[16];
    /* load: transaction indices in send order */
    uint32_t *order;
    size_t norder, next, inflight;
} conn;

typedef struct ledger_rec {
    uint32_t seq;
    uint32_t txn_count;
    double t_closed; /* ledgerClosed arrived */
    double t_known;  /* its transactions arrived (ledger reply, or last stream message) */
    uint32_t ours, tes;
    uint32_t cross; /* offers mode: tesSUCCESS takers that took from the book */
    bool results;   /* every transaction's result is known */
    bool by_tx;     /* too big for one reply: results fetched one transaction at a time */
} ledger_rec;

enum { MODE_PAYMENTS, MODE_OFFERS, MODE_XPAY, MODE_PATHFIND };

/* book_offers clients (pathfind mode: skywell_path_find clients): what
 * they saw. */
typedef struct book_run {
    double *lat; /* request -> reply, ms, of the replies counted */
    size_t nlat, cap;
    double *t_send; /* by request number */
    size_t tcap;
    size_t sent, replies, bad, expect;
    size_t none;           /* pathfind: successful replies in the window without an alternative */
    size_t partial;        /* pathfind: ... of all of them, with "full_reply":false */
    double t_start, t_end; /* replies in [t_start, t_end] count; latency: requests sent in it */
    bool sending;
    char first_bad[240];
} book_run;

typedef struct bench {
    /* options */
    int mode;
    const char *node;
    size_t naccts, npay;                     /* payments mode */
    size_t nmakers, ntakers, depth, noffers; /* offers mode (xpay: makers, depth) */
    size_t npayers, nreceivers, nxpay;       /* xpay mode */
    int book_clients;
    size_t book_window;
    double book_secs;
    int nconns;
    size_t window;
    unsigned close_ms;
    bool stream;
    double verify_secs;
    int rounds;
    bool json, verbose;
    /* node */
    uint8_t node_pk[32];
    int port;
    jt_jtp_identity *me;
    /* connections: ctl + load (+ book_offers clients) */
    conn ctl;
    conn load[MAX_CONNS];
    conn book[MAX_CONNS];
    int nbook;
    /* transactions */
    ptx_set fund, txs; /* funding, and the load */
    ptx_set *cur;      /* the set being submitted/tracked; NULL between sets */
    bool offer_meta;   /* read the metadata of takers and makers */
    long book_depth;   /* offers mode: offers in the book, from the metadata */
    struct refiller *refill; /* offers and xpay modes: refills between the rounds */
    bool refill_inline;      /* ... or in the load, behind the takers (--refills inline) */
    double round_secs; /* offers mode: each round submits for this long */
    double deadline;   /* no submits from then on (0: none) */
    int round_no;      /* the round being sent (marks each transaction) */
    bool submitting;   /* inside run_set: the load connections may send */
    size_t acked, rejected, validated, val_tes, other_ledger_txs;
    size_t sent;
    double t_first_sub, t_last_sub, t_last_ack, t_last_val;
    int sub_results[8]; /* counts of the first few distinct non-tes results */
    int sub_codes[8];
    int nsub_codes;
    /* ledgers */
    ledger_rec *ledgers;
    size_t nledgers;
    uint32_t last_closed;
    /* results fetched one transaction at a time (ledgers too big for one reply) */
    uint32_t *txr_queue;
    size_t txr_n, txr_next, txr_inflight, txr_cap;
    /* book_offers */
    book_run br;
    char book_req[256]; /* the request after its id */
    /* pathfind mode: the requests the clients send in turn (each after its
     * id), instead of book_req */
    char **pf_req;
    size_t npf_req;
    int pf_clients;
    size_t pf_window;
    double pf_secs;
    /* synchronous control call */
    uint64_t ctrl_next;
    uint64_t ctrl_wait;
    jt_json_doc *ctrl_reply;
    char *rbuf;
} bench;

/* Offers and xpay modes: what the takers (xpay: the cross-currency
 * payments) and makers of some transactions did, from their metadata. A
 * payment is `filled` when it delivered exactly its Amount. */
typedef struct offer_tally {
    size_t takers, takers_tes, crossed, filled; /* crossed: took from >= 1 offer */
    size_t hist[5];                             /* takers by offers taken from: 0, 1, 2, 3, more */
    size_t makers, makers_tes, makers_placed;
    size_t taken;  /* offers the takers took in full (deleted from the book) */
    size_t rested; /* takers whose own offer was placed (not filled) */
} offer_tally;

/* What one round of load gave. */
typedef struct round_res {
    int no;         /* 1, 2, ... */
    size_t lo, hi;  /* the load's transactions it may have sent */
    size_t n;       /* ... and those it sent */
    bool cut_short; /* with a deadline: the load ran out before it */
    double secs;
    double rate; /* headline: steady state, or whole round if too short */
    bool steady;
    double steady_secs;
    size_t steady_tes, steady_ledgers;
    uint32_t la, lb;     /* steady window: ledgers (la, lb] */
    double overall_rate; /* first submit to last validation */
    double submit_rate;
    size_t validated, tes, rejected;
    double p50, p99; /* submit -> validated, ms */
    double ceiling, ratio;
    double node_cpu, self_cpu;
    double thr_cpu[NODE_THR];
    size_t max_in_ledger;
    /* offers mode */
    offer_tally ot;
    size_t steady_cross;
    double cross_rate, cross_ratio; /* takers that took from the book, per second */
    long depth0, depth;             /* the book's depth before and after the round */
} round_res;

/* The load, round by round, and what it gave. */
typedef struct load_res {
    round_res rr[MAX_ROUNDS];
    int rounds;
    double *lat, *ack; /* submit -> validated, submit -> reply (ms), pooled */
    size_t nlat, nack;
    double cpu_node, cpu_self, secs;
    double cpu_thr[NODE_THR]; /* the node's CPU by thread (node_thread_cpu) */
    size_t validated, tes, rejected;
    long rss0, hwm0, anon0, file0; /* before the load */
    long long disk0, disk0_size, wbytes0;
    double ceil1; /* one verify thread (information) */
    /* medians of the rounds */
    double rate, ceiling, ratio, ratio_min, ratio_max, submit_rate;
    double cross_rate, cross_ratio, cross_ratio_min, cross_ratio_max;
    bool all_steady;
} load_res;

/* ---------------------------------------------------------------- offers mode */

/*
 * Accounts: 0 the issuer of CNY, 1..M makers, M+1..M+T takers.
 *
 * The book (taker_gets CNY, taker_pays SWT): makers sell 1 CNY per offer,
 * at level L for 1 000 000 + 100 * L drops. The initial book holds `depth`
 * offers, OFFERS_PER_LEVEL per level (levels 0 .. depth/10 - 1: 1.0000 to
 * 1.0999 SWT per CNY for 10 000 offers), each level from different makers.
 *
 * Takers buy CNY with SWT at a limit of 10 SWT per CNY, above every level,
 * so each fills in full from the best offers. One taker in ten buys 1.05 to
 * 1.95 CNY, the others 0.05 to 0.35 CNY (1 CNY in 3.3 on average).
 *
 * Makers replace what the takers buy: after each taker, one new 1-CNY offer
 * for every CNY bought so far, on the next level behind the book (ten to a
 * level, as the book was built). Refills always sort behind every offer in
 * the book, so whatever order the node applies takers and refills in, the
 * takers eat the book from the front and at most one offer is ever partly
 * taken: a taker takes from the rest of that one and then whole offers, at
 * most 3 in all (it buys under 2 CNY) and at least 1. The book stays about
 * `depth` deep; its best price rises by 100 drops per 10 offers taken
 * (0.6 SWT per CNY after 60 000), far below the takers' limit. Amounts are
 * multiples of 0.01 CNY and prices multiples of 100 drops per CNY, so every
 * fill is exact in both currencies.
 */
#define OFFER_CNY_UNITS  100u     /* a maker offer: 1 CNY, in units of 0.01 CNY */
#define LEVEL0_DROPS     1000000u /* price of level 0, drops per CNY */
#define LEVEL_STEP       100u     /* drops per CNY between levels */
#define OFFERS_PER_LEVEL 10u
#define TAKER_LIMIT      10000000u /* a taker pays at most 10 SWT per CNY */
#define MAKER_CNY        "10000"   /* issued to each maker */
#define LINE_LIMIT       "1000000"

enum { S_TRUST, S_ISSUE, S_MAKER, S_TAKER, S_XPAY };

/* One transaction to sign: type, sending account, Sequence, and a type's
 * parameter (S_ISSUE: the maker's account; S_MAKER: price level; S_TAKER:
 * units of 0.01 CNY to buy; S_XPAY: units of 0.01 CNY to deliver to the
 * account `dst`, paying SWT through the book). */
typedef struct ospec {
    uint8_t type;
    uint32_t src, seq, param, dst;
} ospec;

/* Offers and xpay modes: the makers' offers that keep the book at least
 * `nbook` deep, placed between the rounds, off the clock (market_refill). */
typedef struct refiller {
    const account *accts;
    const char *issuer;
    uint32_t *seq;    /* every account's next Sequence */
    size_t nm, nbook; /* makers are accounts 1..nm; the book's depth as built */
    size_t made;      /* refills placed so far */
    double per_taker; /* offers a taker takes in full, on average */
    size_t max_taken; /* most offers the takers took in one round so far */
    double secs;      /* time spent signing and placing them */
} refiller;

typedef struct offer_job {
    const account *accts;
    const char *issuer; /* address */
    const ospec *spec;
    ptx *v;
} offer_job;

/* A mode: its set-up, its load and its report, on a node that is running
 * and connected (b->ctl, b->load[]); returns the exit status. */
typedef int (*mode_run_fn)(bench *b, const account *genesis, uint32_t gseq, const char *ledger_dir);

/* bench/node/proc.c */
double now(void);
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void *xcalloc(size_t n, size_t size);
void check(jt_err e, const char *what);
int cmp_double(const void *a, const void *b);
double median(const double *v, int n);
double pct(const double *sorted, size_t n, double p);
const char *grouped(double v, char *buf, size_t cap);
void cleanup(void);
void on_signal(int sig);
void print_log_tail(void);
void node_check_alive(void);
void node_check_gone(void);
void node_init(const char *node, const char *data, char key_hex[65]);
int node_start(const char *node, const char *data, const char *conf, unsigned close_ms);
void node_memory(long *rss_kb, long *hwm_kb, long *anon_kb, long *file_kb);
double node_cpu(void);
/* The node's CPU time (seconds) by thread group (THR_*). */
void node_thread_cpu(double out[NODE_THR]);
/* "loop A us, verify workers B us, writer C us" per transaction (n of them). */
void print_thread_split(const load_res *L, double n, const char *per);
long long node_write_bytes(void);
double self_cpu(void);
void disk_usage(const char *dir, long long *alloc, long long *size);
/* bench/node/txs.c */
long idmap_find(const idmap *m, const uint8_t id[32]);
void set_alloc(ptx_set *s, size_t n);
void set_signed(ptx_set *s);
void set_free(ptx_set *s);
jt_err drops(jt_amount *a, uint64_t v);
jt_obj *tx_begin(unsigned type, uint32_t flags, const account *from, uint32_t seq);
jt_err tx_finish(ptx *p, uint64_t req_id, jt_obj *tx, const account *from, jt_err e);
jt_err sign_payment(ptx *p, uint64_t req_id, const account *from, uint32_t seq,
                    const jt_account_id *to, const jt_amount *amt);
jt_err sign_swt_payment(ptx *p, uint64_t req_id, const account *from, uint32_t seq,
                        const jt_account_id *to, uint64_t amount);
void parallel(size_t n, job_fn fn, void *ctx, const char *what);
account *make_accounts(size_t n);
void free_accounts(account *v, size_t n);
jt_err sign_fund(void *ctx, size_t k);
/* bench/node/conn.c */
void conn_open(bench *b, conn *c, const char *name, bool admin);
void conn_close(conn *c);
const char *ter_name(int ter);
void request_ledger(bench *b, uint32_t seq, bool binary);
void pump(bench *b, int timeout_ms);
void wait_open(bench *b, conn *c);
jt_json_doc *ctrl_call(bench *b, double timeout, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
jt_json_doc *ctrl_call_any(bench *b, double timeout, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* bench/node/rounds.c */
void submit_set(bench *b, ptx_set *s, const char *what);
void tally_offers(const ptx_set *s, size_t lo, size_t hi, int round, offer_tally *t);
void run_rounds(bench *b, load_res *L, const size_t *bounds, int rounds, const char *ledger_dir);
void free_load(load_res *L);
/* bench/node/mode_payments.c */
int payments_run(bench *b, const account *genesis, uint32_t gseq, const char *ledger_dir);
/* bench/node/market.c */
unsigned taker_units(size_t t);
void sign_offers_set(ptx_set *set, const ospec *spec, size_t n, const account *accts,
                     const char *issuer, const char *what);
double book_top(bench *b, unsigned limit);
double market_setup(bench *b, ptx_set *trust, ptx_set *issue, ptx_set *book, size_t nbook,
                    double t_keys, double t_sign);
void market_plan(size_t na, size_t nm, size_t nbook, uint32_t *seq, ospec **st, ospec **si,
                 ospec **sb);
size_t market_load(const bench *b, ospec *sl, size_t n, size_t nbook, uint32_t *seq,
                   ospec (*taker)(size_t t, uint32_t *seq, void *ctx), void *ctx,
                   uint64_t *units);
void market_refills(bench *b, refiller *rf, const account *accts, const char *issuer,
                    uint32_t *seq, size_t nbook, double per_taker);
void market_refill(bench *b, int round, double ceiling, size_t taken_last);
typedef struct depth_range {
    long min, max;
    bool ok;
} depth_range;
depth_range market_depths(const bench *b, const load_res *L);
void print_depths(const bench *b, const depth_range *d);
double account_cny(bench *b, const account *acct);
double takers_cny(bench *b, const account *accts, size_t first, size_t n);
/* bench/node/mode_offers.c */
int offers_run(bench *b, const account *genesis, uint32_t gseq, const char *ledger_dir);

/* bench/node/mode_xpay.c */
int xpay_run(bench *b, const account *genesis, uint32_t gseq, const char *ledger_dir);

/* bench/node/mode_pathfind.c */
int pathfind_run(bench *b, const account *genesis, uint32_t gseq, const char *ledger_dir);

#endif
