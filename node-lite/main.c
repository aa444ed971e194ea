/*
 * jt-node — a standalone, durable, Jingtum-compatible ledger node.
 *
 *   jt-node init   --data DIR [--genesis-address ADDR] [--json]
 *   jt-node run    --data DIR [--config FILE] [--ws ADDR] [--jtp ADDR] [--close-ms N]
 *   jt-node verify --data DIR
 *
 * DIR (0700) holds node.key (the node's ed25519 identity, 0600), jt-node.conf
 * (INI, written by init with the defaults), jt-node.lock (held by whichever
 * command has the directory: datadir.h) and the LMDB store (ledger/).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>
#include <sodium.h>
#include <jt/jt.h>
#include <jt/jtp.h>

#include "closer.h"
#include "datadir.h"
#include "ledger.h"
#include "srv.h"
#include "srv_alloc.h"
#include "rpc.h"

#define VERSION "0.1.0"
#define MAX_KEYS 64
#define MAX_ADMIN_NETS 64
/* The smallest store_map_size: a few ledgers' worth of pages. */
#define STORE_MAP_MIN (1u << 20)

typedef struct config {
    char ws[128];
    char jtp[128];
    unsigned close_ms;
    bool jtp_plaintext;
    jn_params p;
    size_t max_message;
    unsigned max_conns, max_conns_per_addr, rate_per_sec, rate_burst;
    size_t max_outbuf, max_out_total, max_in_total;
    unsigned msg_deadline_s, idle_s, slow_reader_s;
    unsigned max_books_per_conn, max_books;
    unsigned budget, budget_burst, addr_budget, addr_budget_burst;
    unsigned max_accounts_per_conn, max_accounts;
    unsigned max_paths, path_nodes, path_calcs, path_ms, path_close_ms;
    unsigned verify_threads;
    uint64_t store_map_size; /* 0: the store's default */
    uint8_t allowed[MAX_KEYS][32];
    size_t n_allowed;
    uint8_t admin[MAX_KEYS][32];
    size_t n_admin;
    srv_net_prefix admin_nets[MAX_ADMIN_NETS];
    size_t n_admin_nets;
    bool admin_nets_set; /* an [admin] address line was read */
    char error[400];
} config;

static void config_defaults(config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->ws, sizeof c->ws, "127.0.0.1:5020");
    snprintf(c->jtp, sizeof c->jtp, "127.0.0.1:5030");
    c->close_ms = 1000;
    jn_params_init(&c->p);
    c->max_message = 1u << 20;
    c->max_conns = 1024;
    c->max_conns_per_addr = 64;
    c->rate_per_sec = 0;
    c->max_outbuf = 16u << 20;
    c->max_out_total = (size_t)512 << 20;
    c->max_in_total = (size_t)256 << 20;
    c->msg_deadline_s = 30;
    c->idle_s = 300;
    c->slow_reader_s = 10;
    c->max_books_per_conn = JN_RPC_MAX_BOOKS_PER_CONN;
    c->max_books = JN_RPC_MAX_BOOKS;
    c->max_accounts_per_conn = JN_RPC_MAX_ACCOUNTS_PER_CONN;
    c->max_accounts = JN_RPC_MAX_ACCOUNTS;
    c->max_paths = JN_RPC_MAX_PATHS;
    c->verify_threads = 2;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return false;
    *out = v;
    return true;
}

static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
    config *c = user;
    uint64_t n = 0;
#define IS(s, k) (!strcmp(section, s) && !strcmp(name, k))
#define NUM()                                                                                      \
    do {                                                                                           \
        if (!parse_u64(value, &n)) {                                                               \
            snprintf(c->error, sizeof c->error, "[%s] %s: not a number: %s", section, name, value); \
            return 0;                                                                              \
        }                                                                                          \
    } while (0)
    if (IS("ws", "address"))
        snprintf(c->ws, sizeof c->ws, "%s", value);
    else if (IS("jtp", "address"))
        snprintf(c->jtp, sizeof c->jtp, "%s", value);
    else if (IS("jtp", "plaintext"))
        c->jtp_plaintext = !strcmp(value, "true") || !strcmp(value, "1") || !strcmp(value, "yes");
    else if (IS("admin", "address")) {
        /* The first line replaces the default (loopback); "none" lists none. */
        c->admin_nets_set = true;
        if (!strcmp(value, "none") || !value[0])
            return 1;
        if (c->n_admin_nets >= MAX_ADMIN_NETS) {
            snprintf(c->error, sizeof c->error, "[admin] address: at most %d", MAX_ADMIN_NETS);
            return 0;
        }
        if (srv_net_prefix_parse(value, &c->admin_nets[c->n_admin_nets])) {
            snprintf(c->error, sizeof c->error,
                     "[admin] address: not an address or ADDRESS/BITS: %s", value);
            return 0;
        }
        c->n_admin_nets++;
    } else if (IS("jtp", "allow_key") || IS("jtp", "admin_key") || IS("admin", "key")) {
        bool admin = strcmp(name, "allow_key") != 0;
        size_t *cnt = admin ? &c->n_admin : &c->n_allowed;
        jt_errinfo ei;
        if (*cnt >= MAX_KEYS) {
            snprintf(c->error, sizeof c->error, "[%s] %s: at most %d keys", section, name, MAX_KEYS);
            return 0;
        }
        if (jt_jtp_key_parse(value, admin ? c->admin[*cnt] : c->allowed[*cnt], &ei) != JT_OK) {
            snprintf(c->error, sizeof c->error, "[%s] %s: %s", section, name, ei.msg);
            return 0;
        }
        (*cnt)++;
    } else if (IS("ledger", "close_ms")) {
        NUM();
        c->close_ms = (unsigned)n;
    } else if (IS("ledger", "base_fee")) {
        NUM();
        c->p.base_fee = n;
    } else if (IS("ledger", "reserve_base")) {
        NUM();
        c->p.reserve_base = n;
    } else if (IS("ledger", "reserve_inc")) {
        NUM();
        c->p.reserve_inc = n;
    } else if (IS("ledger", "verify_threads")) {
        NUM();
        if (n > 16) {
            snprintf(c->error, sizeof c->error, "[ledger] verify_threads: at most 16, not %s", value);
            return 0;
        }
        c->verify_threads = (unsigned)n;
    } else if (IS("ledger", "store_map_size")) {
        NUM();
        if (n && (n < STORE_MAP_MIN || n > SIZE_MAX / 2)) {
            snprintf(c->error, sizeof c->error,
                     "[ledger] store_map_size: 0 (the default) or %u to %zu bytes, not %s",
                     STORE_MAP_MIN, SIZE_MAX / 2, value);
            return 0;
        }
        c->store_map_size = n;
    } else if (IS("ledger", "held_ledgers")) {
        NUM();
        c->p.held_ledgers = (unsigned)n;
    } else if (IS("limits", "max_message")) {
        NUM();
        c->max_message = (size_t)n;
    } else if (IS("limits", "max_connections")) {
        NUM();
        c->max_conns = (unsigned)n;
    } else if (IS("limits", "max_connections_per_address")) {
        NUM();
        c->max_conns_per_addr = (unsigned)n;
    } else if (IS("limits", "rate_per_sec")) {
        NUM();
        c->rate_per_sec = (unsigned)n;
    } else if (IS("limits", "rate_burst")) {
        NUM();
        c->rate_burst = (unsigned)n;
    } else if (IS("limits", "max_outbuf")) {
        NUM();
        c->max_outbuf = (size_t)n;
    } else if (IS("limits", "max_outbuf_total")) {
        NUM();
        c->max_out_total = (size_t)n;
    } else if (IS("limits", "max_inbuf_total")) {
        NUM();
        c->max_in_total = (size_t)n;
    } else if (IS("limits", "idle_timeout_s")) {
        NUM();
        if (n == 0 || n > 86400) {
            snprintf(c->error, sizeof c->error, "[limits] idle_timeout_s: 1 to 86400, not %s", value);
            return 0;
        }
        c->idle_s = (unsigned)n;
    } else if (IS("limits", "message_deadline_s")) {
        NUM();
        c->msg_deadline_s = (unsigned)n;
    } else if (IS("limits", "request_budget") || IS("limits", "request_burst") ||
               IS("limits", "address_budget") || IS("limits", "address_burst")) {
        NUM();
        if (n == 0 || n > 100000000) {
            snprintf(c->error, sizeof c->error, "[limits] %s: 1 to 100000000, not %s", name, value);
            return 0;
        }
        unsigned *dst = IS("limits", "request_budget") ? &c->budget
                        : IS("limits", "request_burst") ? &c->budget_burst
                        : IS("limits", "address_budget") ? &c->addr_budget
                                                          : &c->addr_budget_burst;
        *dst = (unsigned)n;
    } else if (IS("limits", "max_books_per_conn") || IS("limits", "max_books")) {
        NUM();
        if (!n || n > 1000000) {
            snprintf(c->error, sizeof c->error, "[limits] %s: 1 to 1000000, not %s", name, value);
            return 0;
        }
        *(!strcmp(name, "max_books") ? &c->max_books : &c->max_books_per_conn) = (unsigned)n;
    } else if (IS("limits", "max_accounts_per_conn") || IS("limits", "max_accounts")) {
        NUM();
        if (!n || n > 10000000) {
            snprintf(c->error, sizeof c->error, "[limits] %s: 1 to 10000000, not %s", name, value);
            return 0;
        }
        *(!strcmp(name, "max_accounts") ? &c->max_accounts : &c->max_accounts_per_conn) =
            (unsigned)n;
    } else if (IS("limits", "slow_reader_s")) {
        NUM();
        if (!n || n > 3600) {
            snprintf(c->error, sizeof c->error, "[limits] %s: 1 to 3600, not %s", name, value);
            return 0;
        }
        c->slow_reader_s = (unsigned)n;
    } else if (IS("limits", "max_path_requests") || IS("limits", "path_search_nodes") ||
               IS("limits", "path_search_calcs") || IS("limits", "path_search_ms") ||
               IS("limits", "path_close_ms")) {
        NUM();
        if (!n || n > 1000000) {
            snprintf(c->error, sizeof c->error, "[limits] %s: 1 to 1000000, not %s", name, value);
            return 0;
        }
        unsigned *dst = !strcmp(name, "max_path_requests") ? &c->max_paths
                        : !strcmp(name, "path_search_nodes") ? &c->path_nodes
                        : !strcmp(name, "path_search_calcs") ? &c->path_calcs
                        : !strcmp(name, "path_search_ms")    ? &c->path_ms
                                                             : &c->path_close_ms;
        *dst = (unsigned)n;
    } else if (IS("limits", "max_open_txs")) {
        NUM();
        c->p.max_open = (unsigned)n;
    } else {
        snprintf(c->error, sizeof c->error, "unknown setting [%s] %s", section, name);
        return 0;
    }
    return 1;
#undef IS
#undef NUM
}

static const char DEFAULT_CONF[] =
    "# jt-node configuration (INI). Command-line options override these.\n"
    "[ws]\n"
    "address = 127.0.0.1:5020\n"
    "\n"
    "[jtp]\n"
    "address = 127.0.0.1:5030\n"
    "# plaintext = false        ; loopback peers only, and only when true\n"
    "# allow_key = n9...        ; restrict jtp clients (repeat the line per key)\n"
    "\n"
    "[admin]\n"
    "# Who may run admin commands (ledger_accept, stop, submit with secret, ...):\n"
    "# WebSocket and plaintext jtp peers by address (ADDRESS or ADDRESS/BITS, one\n"
    "# per line; default loopback, 127.0.0.0/8 and ::1; \"none\" for nobody, which\n"
    "# a reverse proxy on this host needs, as every client then comes from\n"
    "# 127.0.0.1), and jtp sessions by client key.\n"
    "address = 127.0.0.0/8\n"
    "address = ::1\n"
    "# key = n9...\n"
    "\n"
    "[ledger]\n"
    "close_ms = 1000\n"
    "base_fee = 10\n"
    "reserve_base = 10000000\n"
    "reserve_inc = 1000000\n"
    "held_ledgers = 10\n"
    "# threads checking signatures beside the loop (0: on the loop itself)\n"
    "verify_threads = 2\n"
    "# the most the ledger store (DIR/ledger) may hold, bytes; 0: 64 GiB\n"
    "# store_map_size = 0\n"
    "\n"
    "[limits]\n"
    "max_message = 1048576\n"
    "max_connections = 1024\n"
    "# from one address (behind a reverse proxy on this host, every client is 127.0.0.1)\n"
    "max_connections_per_address = 64\n"
    "# request budgets, in units of about 10 us of the event loop (a ping costs 1,\n"
    "# a book_offers page 10-25, a path search 100): per connection and per peer\n"
    "# address, per second; bursts default to twice that. Over budget: slowDown\n"
    "request_budget = 20000\n"
    "address_budget = 50000\n"
    "# a flat cap on requests per second per connection (0: none)\n"
    "rate_per_sec = 0\n"
    "# queued output per connection: above half of it the connection's requests wait\n"
    "# until it has read; its stream messages alone may not pass it\n"
    "max_outbuf = 16777216\n"
    "# seconds a connection with output queued may go without reading any of it\n"
    "slow_reader_s = 10\n"
    "# output queued for all connections together\n"
    "max_outbuf_total = 536870912\n"
    "# input buffered for all connections together (messages on their way in)\n"
    "max_inbuf_total = 268435456\n"
    "# seconds a client has to finish a message (a jtp frame) it has begun\n"
    "message_deadline_s = 30\n"
    "# seconds a connection may stay silent, unless it holds subscriptions\n"
    "idle_timeout_s = 300\n"
    "max_open_txs = 200000\n"
    "# order books subscribed to (each direction counts one)\n"
    "max_books_per_conn = 20\n"
    "max_books = 5000\n"
    "# accounts subscribed to (accounts and accounts_proposed together)\n"
    "max_accounts_per_conn = 1000\n"
    "max_accounts = 100000\n"
    "# path_find: requests open (one per connection), and the work of each search\n"
    "# (states and directory entries, payment engine runs, milliseconds) and of\n"
    "# all updates after one close (milliseconds)\n"
    "max_path_requests = 200\n"
    "path_search_nodes = 4000\n"
    "path_search_calcs = 64\n"
    "path_search_ms = 300\n"
    "path_close_ms = 1000\n";

/* ---------------------------------------------------------------- options */

typedef struct opts {
    const char *data, *config, *ws, *jtp, *genesis;
    long close_ms;
    bool json, plaintext;
} opts;

static void usage(FILE *f);

static int parse_opts(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->close_ms = -1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (!strcmp(a, "--data"))
            dst = &o->data;
        else if (!strcmp(a, "--config"))
            dst = &o->config;
        else if (!strcmp(a, "--ws"))
            dst = &o->ws;
        else if (!strcmp(a, "--jtp"))
            dst = &o->jtp;
        else if (!strcmp(a, "--genesis-address"))
            dst = &o->genesis;
        else if (!strcmp(a, "--json")) {
            o->json = true;
            continue;
        } else if (!strcmp(a, "--jtp-plaintext")) {
            o->plaintext = true;
            continue;
        } else if (!strcmp(a, "--close-ms")) {
            uint64_t n;
            if (i + 1 >= argc || !parse_u64(argv[i + 1], &n) || n > 86400000) {
                fprintf(stderr, "jt-node: --close-ms needs a number of milliseconds\n");
                return -1;
            }
            o->close_ms = (long)n;
            i++;
            continue;
        } else {
            fprintf(stderr, "jt-node: unknown option %s\n", a);
            return -1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "jt-node: %s needs a value\n", a);
            return -1;
        }
        *dst = argv[++i];
    }
    if (!o->data) {
        fprintf(stderr, "jt-node: --data DIR is required\n");
        return -1;
    }
    return 0;
}

static void path_in(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* ------------------------------------------------------ the data directory */

/* For run and verify: the directory must exist (init makes it). */
static int need_initialized(const char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        fprintf(stderr, "jt-node: %s: not initialized (run `jt-node init --data %s`)\n", dir, dir);
        return -1;
    }
    return 0;
}

/* Takes the data directory for `command` (datadir.h): its lock, its
 * permissions and those of ledger/ when it exists. */
static srv_datadir *take_datadir(const char *dir, const char *command, bool create)
{
    char err[640], path[4096];
    srv_datadir *d;
    static const char *const whole_files[] = {"node.key", "jt-node.conf", NULL};
    if (srv_datadir_open(dir, "jt-node", command, whole_files, create, &d, err, sizeof err)) {
        fprintf(stderr, "jt-node: %s\n", err);
        return NULL;
    }
    path_in(path, sizeof path, dir, "ledger");
    struct stat sb;
    bool tightened = false;
    unsigned old_mode = 0;
    if (stat(path, &sb) == 0 &&
        srv_datadir_check_private(path, &tightened, &old_mode, err, sizeof err)) {
        fprintf(stderr, "jt-node: %s\n", err);
        srv_datadir_close(d);
        return NULL;
    }
    if (tightened)
        fprintf(stderr, "jt-node: %s was open to group or others (mode %04o); its mode is now 0700\n",
                path, old_mode);
    return d;
}

/* "jt-node: " and why node.key at `kpath` cannot be used, with what to do.
 * `fresh`: no ledger was made with it yet (init). */
static void key_error(const char *dir, const char *kpath, const jt_errinfo *ei, bool fresh)
{
    if (ei->code != JT_EKEY) {
        /* Cannot open, or loose permissions (the message says to chmod 600). */
        fprintf(stderr, "jt-node: %s\n", ei->msg);
    } else if (fresh) {
        fprintf(stderr,
                "jt-node: %s; no ledger has been made with this key yet: remove %s and run "
                "`jt-node init --data %s` again to make a new key, or put back the key file you "
                "meant to use\n",
                ei->msg, kpath, dir);
    } else {
        fprintf(stderr,
                "jt-node: %s; restore %s from a backup (jtp clients pin the node's public key; "
                "a new key is a new identity for them)\n",
                ei->msg, kpath);
    }
}

/* ---------------------------------------------------------------- init */

static int cmd_init(int argc, char **argv)
{
    opts o;
    if (parse_opts(argc, argv, &o))
        return 2;
    jt_account_id genesis;
    jt_errinfo ei;
    const char *gaddr = o.genesis ? o.genesis : "jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh";
    if (jt_address_decode(gaddr, &genesis, &ei) != JT_OK) {
        fprintf(stderr, "jt-node: --genesis-address %s: %s\n", gaddr, ei.msg);
        return 2;
    }
    srv_datadir *dd = take_datadir(o.data, "init", true);
    if (!dd)
        return 1;
    int rcode = 1;
    char path[4096];
    path_in(path, sizeof path, o.data, "ledger");
    char err[1024] = "";
    jn_store *st = NULL;
    jt_jtp_identity *id = NULL;
    if (jn_store_open(path, 0, &st, err, sizeof err)) {
        fprintf(stderr, "jt-node: %s\n", err);
        goto out;
    }
    jn_header h;
    if (jn_store_last_header(st, &h) == 0) {
        fprintf(stderr, "jt-node: %s is already initialized (ledger %" PRIu32 ")\n", o.data, h.seq);
        goto out;
    }
    /* The identity first: a genesis without a key would be unusable. A key
     * already there (put there on purpose, or by an init that stopped before
     * the genesis) is used. */
    path_in(path, sizeof path, o.data, "node.key");
    struct stat sb;
    if (lstat(path, &sb) == 0) {
        if (jt_jtp_identity_load(path, &id, &ei) != JT_OK) {
            key_error(o.data, path, &ei, true);
            goto out;
        }
    } else if (jt_jtp_identity_generate(&id) != JT_OK) {
        fprintf(stderr, "jt-node: cannot make a node key (out of memory or no random numbers)\n");
        goto out;
    } else if (jt_jtp_identity_save(id, path, &ei) != JT_OK) {
        fprintf(stderr, "jt-node: writing %s: %s\n", path, ei.msg);
        goto out;
    }
    config c;
    config_defaults(&c);
    path_in(path, sizeof path, o.data, "jt-node.conf");
    if (stat(path, &sb) != 0) {
        if (srv_datadir_write_new(dd, "jt-node.conf", DEFAULT_CONF, sizeof DEFAULT_CONF - 1, err,
                                 sizeof err)) {
            fprintf(stderr, "jt-node: %s\n", err);
            goto out;
        }
    } else if (ini_parse(path, conf_handler, &c) != 0) {
        fprintf(stderr, "jt-node: %s: %s\n", path, c.error[0] ? c.error : "cannot be read");
        goto out;
    }
    if (jn_ledger_genesis(st, &c.p, &genesis, jn_now(), err, sizeof err)) {
        fprintf(stderr, "jt-node: %s\n", err);
        goto out;
    }
    jn_store_last_header(st, &h);
    char npub[64], hex[JT_JTP_KEY_HEX_MAX], lh[65];
    if (jt_jtp_key_to_node_public(jt_jtp_identity_public(id), npub, sizeof npub) != JT_OK)
        npub[0] = 0;
    jt_jtp_key_to_hex(jt_jtp_identity_public(id), hex);
    (void)jt_hex_encode(h.hash, 32, lh, sizeof lh);
    if (o.json)
        printf("{\"node_public_key\":\"%s\",\"node_public_key_hex\":\"%s\",\"genesis_address\":\"%s\","
               "\"ledger_index\":%" PRIu32 ",\"ledger_hash\":\"%s\"}\n",
               npub, hex, gaddr, h.seq, lh);
    else
        printf("node public key: %s\nnode public key (hex): %s\ngenesis account: %s\nledger %" PRIu32
               " hash: %s\n",
               npub, hex, gaddr, h.seq, lh);
    rcode = 0;
out:
    jt_jtp_identity_free(id);
    jn_store_close(st);
    srv_datadir_close(dd);
    return rcode;
}

/* ---------------------------------------------------------------- verify */

/* verify takes the lock too: opening the store writes to it (the format
 * value), and a store another process is writing is a moving target; a
 * running node's store is verified on a copy (mdb_copy, docs/node.md). */
static int cmd_verify(int argc, char **argv)
{
    opts o;
    if (parse_opts(argc, argv, &o))
        return 2;
    char path[4096], err[1024] = "";
    path_in(path, sizeof path, o.data, "ledger");
    struct stat sb;
    if (stat(o.data, &sb) != 0 || stat(path, &sb) != 0) {
        fprintf(stderr, "jt-node: %s: no ledger store (run `jt-node init --data %s`)\n", o.data, o.data);
        return 1;
    }
    srv_datadir *dd = take_datadir(o.data, "verify", false);
    if (!dd)
        return 1;
    jn_store *st;
    if (jn_store_open(path, 0, &st, err, sizeof err)) {
        fprintf(stderr, "jt-node: %s\n", err);
        srv_datadir_close(dd);
        return 1;
    }
    uint32_t checked = 0;
    int r = jn_ledger_verify(st, err, sizeof err, &checked);
    jn_header h;
    if (r) {
        printf("FAIL %s\n", err);
    } else if (jn_store_last_header(st, &h) == 0) {
        char lh[65];
        (void)jt_hex_encode(h.hash, 32, lh, sizeof lh);
        printf("ok %" PRIu32 " ledgers verified; last %" PRIu32 " %s; total coins %" PRIu64 "\n", checked,
               h.seq, lh, h.total_coins);
    }
    jn_store_close(st);
    srv_datadir_close(dd);
    return r ? 1 : 0;
}

/* ---------------------------------------------------------------- run */

typedef struct node {
    srv_net *net;
    jn_rpc *rpc;
    jn_closer *closer;
    jn_ledger *L;
    int exit_code;
} node;

static node *g_node;

static void conn_send(void *sctx, const char *msg, size_t len, bool push)
{
    if (push)
        (void)srv_conn_send((srv_conn *)sctx, msg, len);
    else
        (void)srv_conn_reply((srv_conn *)sctx, msg, len);
}

static void on_request(void *ctx, srv_conn *c, const char *msg, size_t len, bool over_rate)
{
    node *n = ctx;
    jn_client *cl = srv_conn_user(c);
    if (!cl) {
        cl = jn_rpc_client_new(n->rpc, conn_send, c, srv_conn_is_admin(c), srv_conn_addr_key(c));
        if (!cl)
            return;
        srv_conn_set_user(c, cl);
    }
    jn_rpc_request(n->rpc, cl, msg, len, over_rate);
}

static void on_close(void *ctx, srv_conn *c)
{
    node *n = ctx;
    jn_rpc_client_free(n->rpc, srv_conn_user(c));
    srv_conn_set_user(c, NULL);
}

/* A silent connection stays open while it holds subscriptions or requests. */
static bool conn_keep(void *ctx, srv_conn *c)
{
    node *n = ctx;
    jn_client *cl = srv_conn_user(c);
    return cl && jn_rpc_client_holds(n->rpc, cl);
}

static int post_to_loop(void *pctx, void (*cb)(void *ctx), void *ctx)
{
    return srv_net_post(pctx, cb, ctx);
}

static int loop_after(void *actx, unsigned us, void (*cb)(void *ctx), void *ctx)
{
    return srv_net_after(actx, us, cb, ctx);
}

/* A close started by the timer, or finished after the writer's report,
 * failed: nothing of that ledger was announced. */
static void on_fatal(void *ctx, const char *err)
{
    node *n = ctx;
    fprintf(stderr, "jt-node event=fatal reason=\"%s\"\n", err);
    n->exit_code = 1;
    srv_net_stop(n->net);
}

/* `stop`: as SIGTERM, once the reply is written (at most a second). */
static void on_stop(void *ctx)
{
    node *n = ctx;
    srv_net_stop_flushed(n->net, 1000);
}

static void on_signal(int sig)
{
    (void)sig;
    if (g_node && g_node->net)
        srv_net_stop(g_node->net);
}

/* "HOST" of "HOST:PORT" (in a static buffer; for the start log line). */
static const char *host_of(const char *addr)
{
    static char buf[2][128];
    static int k;
    char *b = buf[k++ & 1];
    snprintf(b, sizeof buf[0], "%s", addr);
    char *colon = strrchr(b, ':');
    if (colon)
        *colon = 0;
    return b;
}

/* Empty ledgers closed in a row before the node counts as idle and gives
 * its free memory back (srv_alloc_release): a minute at the default close
 * interval. A pause of a few seconds in trading is not idleness, and a
 * purge then would slow the load that follows (server/srv_alloc.c). */
#ifndef IDLE_CLOSES
#define IDLE_CLOSES 60
#endif

/* After every close, on the loop. */
static void after_close(void *ctx, bool idle)
{
    (void)ctx;
    srv_alloc_release(idle);
}

static int cmd_run_locked(const opts *po);

static int cmd_run(int argc, char **argv)
{
    opts o;
    if (parse_opts(argc, argv, &o))
        return 2;
    srv_alloc_setup();
    /* The directory is ours for the life of the process: before anything in
     * it is read, so a second node is refused before it touches the store. */
    if (need_initialized(o.data))
        return 1;
    srv_datadir *dd = take_datadir(o.data, "run", false);
    if (!dd)
        return 1;
    int rc = cmd_run_locked(&o);
    srv_datadir_close(dd);
    return rc;
}

static int cmd_run_locked(const opts *po)
{
    opts o = *po;
    config c;
    config_defaults(&c);
    char path[4096], err[1024] = "";
    const char *conf = o.config;
    if (!conf) {
        path_in(path, sizeof path, o.data, "jt-node.conf");
        struct stat sb;
        conf = stat(path, &sb) == 0 ? path : NULL;
    }
    if (conf) {
        int r = ini_parse(conf, conf_handler, &c);
        if (r != 0) {
            fprintf(stderr, "jt-node: %s: %s%s\n", conf, c.error[0] ? c.error : "cannot be read",
                    r > 0 ? " (line number above)" : "");
            return 2;
        }
    }
    if (o.ws)
        snprintf(c.ws, sizeof c.ws, "%s", o.ws);
    if (o.jtp)
        snprintf(c.jtp, sizeof c.jtp, "%s", o.jtp);
    if (o.close_ms >= 0)
        c.close_ms = (unsigned)o.close_ms;
    if (o.plaintext)
        c.jtp_plaintext = true;

    jt_jtp_identity *id = NULL;
    jt_errinfo ei;
    char kpath[4096];
    path_in(kpath, sizeof kpath, o.data, "node.key");
    path_in(path, sizeof path, o.data, "ledger");
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "jt-node: %s: not initialized (run `jt-node init --data %s`)\n", o.data, o.data);
        return 1;
    }
    if (jt_jtp_identity_load(kpath, &id, &ei) != JT_OK) {
        key_error(o.data, kpath, &ei, false);
        return 1;
    }
    jn_store *st;
    if (jn_store_open(path, (size_t)c.store_map_size, &st, err, sizeof err)) {
        fprintf(stderr, "jt-node: %s\n", err);
        jt_jtp_identity_free(id);
        return 1;
    }
    node n = {0};
    if (jn_ledger_load(st, &c.p, &n.L, err, sizeof err)) {
        fprintf(stderr, "jt-node: %s\n", err);
        jn_store_close(st);
        jt_jtp_identity_free(id);
        return 1;
    }
    n.closer = jn_closer_new(n.L, on_fatal, &n);
    if (n.closer)
        jn_closer_set_idle(n.closer, IDLE_CLOSES, after_close, NULL);
    jn_rpc_config rc = {.hostid = "jt-node", .version = VERSION, .closer = n.closer,
                        .max_books_per_conn = c.max_books_per_conn, .max_books = c.max_books,
                        .max_accounts_per_conn = c.max_accounts_per_conn,
                        .max_accounts = c.max_accounts,
                        .max_paths = c.max_paths, .path_max_nodes = c.path_nodes,
                        .path_max_calcs = c.path_calcs, .path_max_ms = c.path_ms,
                        .path_close_ms = c.path_close_ms, .stop = on_stop, .stop_ctx = &n,
                        .budget_per_sec = c.budget, .budget_burst = c.budget_burst,
                        .addr_budget_per_sec = c.addr_budget,
                        .addr_budget_burst = c.addr_budget_burst};
    memcpy(rc.node_pk, jt_jtp_identity_public(id), 32);
    n.rpc = n.closer ? jn_rpc_new(n.L, &rc) : NULL;
    srv_net_config nc;
    srv_net_config_init(&nc);
    nc.ws_addr = c.ws;
    nc.jtp_addr = c.jtp;
    memcpy(nc.node_pk, jt_jtp_identity_public(id), 32);
    memcpy(nc.node_sk, jt_jtp_identity_secret(id), 64);
    nc.jtp_plaintext = c.jtp_plaintext;
    nc.allowed_keys = (const uint8_t(*)[32])c.allowed;
    nc.n_allowed = c.n_allowed;
    nc.admin_keys = (const uint8_t(*)[32])c.admin;
    nc.n_admin = c.n_admin;
    nc.admin_nets = c.admin_nets;
    nc.n_admin_nets = c.n_admin_nets;
    nc.admin_nets_set = c.admin_nets_set;
    nc.max_message = c.max_message;
    nc.max_conns = c.max_conns;
    nc.max_conns_per_addr = c.max_conns_per_addr;
    nc.rate_per_sec = c.rate_per_sec;
    nc.rate_burst = c.rate_burst;
    nc.max_outbuf = c.max_outbuf;
    nc.max_out_total = c.max_out_total;
    nc.msg_deadline_s = c.msg_deadline_s;
    nc.idle_s = c.idle_s;
    nc.slow_reader_s = c.slow_reader_s;
    nc.max_in_total = c.max_in_total;
    srv_net_handlers h = {.on_request = on_request, .on_close = on_close, .keep = conn_keep};
    int rcode = 1;
    if (!n.rpc || srv_net_new(&nc, &h, &n, &n.net, err, sizeof err)) {
        fprintf(stderr, "jt-node: %s\n", err[0] ? err : "out of memory");
        goto out;
    }
    sodium_memzero(nc.node_sk, sizeof nc.node_sk);
    jn_rpc_set_after(n.rpc, loop_after, n.net, c.close_ms);
    if (jn_rpc_start_verifiers(n.rpc, c.verify_threads, post_to_loop, n.net)) {
        fprintf(stderr, "jt-node: cannot start %u verify threads\n", c.verify_threads);
        goto out;
    }
    if (jn_closer_start_writer(n.closer, post_to_loop, n.net)) {
        fprintf(stderr, "jt-node: cannot start the ledger writer thread\n");
        goto out;
    }
    g_node = &n;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (c.close_ms)
        srv_net_set_timer(n.net, c.close_ms, jn_closer_tick, n.closer);
    char npub[64];
    if (jt_jtp_key_to_node_public(jt_jtp_identity_public(id), npub, sizeof npub) != JT_OK)
        npub[0] = 0;
    fprintf(stderr,
            "jt-node event=start version=%s ws=%s:%d jtp=%s:%d ledger=%" PRIu32 " close_ms=%u node_key=%s allocator=%s\n",
            VERSION, host_of(c.ws), srv_net_listen_port(n.net, "ws"), host_of(c.jtp), srv_net_listen_port(n.net, "jtp"),
            jn_ledger_last(n.L)->seq, c.close_ms, npub, srv_alloc_name());
    srv_net_run(n.net);
    jn_rpc_stop_verifiers(n.rpc);
    /* The ledger being written, if any, becomes durable before we exit. */
    (void)jn_closer_stop(n.closer, err, sizeof err);
    rcode = n.exit_code;
    fprintf(stderr, "jt-node event=stop ledger=%" PRIu32 "\n", jn_ledger_last(n.L)->seq);
out:
    g_node = NULL;
    srv_net_free(n.net);
    jn_rpc_free(n.rpc);
    jn_closer_free(n.closer);
    jn_ledger_free(n.L);
    jn_store_close(st);
    jt_jtp_identity_free(id);
    return rcode;
}

/* ---------------------------------------------------------------- main */

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *args;
    const char *help;
} command;

static const command commands[] = {
    {"init", cmd_init, "--data DIR [--genesis-address ADDR] [--json]",
     "create the genesis ledger and the node key; print the node public key"},
    {"run", cmd_run, "--data DIR [--config FILE] [--ws ADDR] [--jtp ADDR] [--close-ms N] [--jtp-plaintext]",
     "serve the WebSocket and jtp APIs and close a ledger every N ms (0: only on ledger_accept)"},
    {"verify", cmd_verify, "--data DIR",
     "recompute every header hash, the chain, transaction and state hashes, and the SWT total"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: jt-node COMMAND [options]\n\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  jt-node %s %s\n      %s\n", commands[i].name, commands[i].args, commands[i].help);
    fprintf(f, "\nDefaults: ws 127.0.0.1:5020, jtp 127.0.0.1:5030, close every 1000 ms.\n"
               "Settings live in DIR/jt-node.conf (INI), written by init.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("jt-node %s\n", VERSION);
        return 0;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "jt-node: libsodium failed to initialize\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        if (strcmp(argv[1], commands[i].name))
            continue;
        if (argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
            printf("usage: jt-node %s %s\n  %s\n", commands[i].name, commands[i].args, commands[i].help);
            return 0;
        }
        return commands[i].fn(argc - 2, argv + 2);
    }
    fprintf(stderr, "jt-node: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
