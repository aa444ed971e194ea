/*
 * config.c — jt-gateway.conf (config.h).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

void gw_config_init(gw_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->http_addr, sizeof c->http_addr, "127.0.0.1:5080");
    c->max_body = 1 << 20;
    c->max_conns = 1024;
    c->max_conns_per_addr = 64;
    c->conn_rate = 2000;
    c->idle_s = 120;
    c->msg_deadline_s = 30;
    c->slow_reader_s = 10;
    c->max_outbuf = (size_t)16 << 20;
    c->max_outbuf_total = (size_t)512 << 20;
    c->request_timeout_ms = 10000;
    snprintf(c->passphrase_env, sizeof c->passphrase_env, "JT_GATEWAY_PASSPHRASE");
    c->kdf_cost = 2;
    c->ledger_window = 10;
    c->fee_drops = 10000;
    c->wait_max_s = 30;
    c->resubmit_ms = 4000;
    c->key_rate = 100;
    c->key_burst = 200;
    c->max_pending = 10000;
    c->keys_loaded = 256;
    c->ev_conns_per_key = 8;
    c->ev_subs_per_conn = 16;
    c->ev_max_replay = 100000;
    c->wh_max_attempts = 12;
    c->wh_backoff_ms = 1000;
    c->wh_backoff_max_s = 600;
    c->wh_timeout_s = 10;
    c->wh_max_inflight = 8;
    c->wh_max_hooks = 100;
    c->wh_max_owed = 100000;
    c->wh_max_dead = 100000;
    c->map_size = (uint64_t)1 << 30;
    c->log_requests = true;
}

typedef struct load_ctx {
    gw_config *c;
    char *err;
    size_t errcap;
    const char *path;
    bool nodes_seen;
} load_ctx;

static bool parse_u64(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*v == '-' || *v == 0)
        return false;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || x < min || x > max)
        return false;
    *out = x;
    return true;
}

static bool set_text(char *dst, size_t cap, const char *v)
{
    if (strlen(v) >= cap)
        return false;
    memcpy(dst, v, strlen(v) + 1);
    return true;
}

static int on_item(void *user, const char *section, const char *name, const char *value)
{
    load_ctx *lc = user;
    gw_config *c = lc->c;
    uint64_t u = 0;
    bool ok = true, known = true;
    const char *range = "";
#define IS(s, n) (!strcmp(section, s) && !strcmp(name, n))
#define UNUM(field, lo, hi)                                                                         \
    do {                                                                                            \
        ok = parse_u64(value, lo, hi, &u);                                                          \
        if (ok)                                                                                     \
            c->field = (__typeof__(c->field))u;                                                     \
        range = "a whole number from " #lo " to " #hi;                                              \
    } while (0)
    if (IS("http", "address"))
        ok = set_text(c->http_addr, sizeof c->http_addr, value);
    else if (IS("http", "tls_cert"))
        ok = set_text(c->tls_cert, sizeof c->tls_cert, value);
    else if (IS("http", "tls_key"))
        ok = set_text(c->tls_key, sizeof c->tls_key, value);
    else if (IS("http", "cors_origins"))
        ok = set_text(c->cors_origins, sizeof c->cors_origins, value);
    else if (IS("http", "max_body"))
        UNUM(max_body, 1024, 67108864);
    else if (IS("http", "max_conns"))
        UNUM(max_conns, 1, 1000000);
    else if (IS("http", "max_conns_per_addr"))
        UNUM(max_conns_per_addr, 1, 1000000);
    else if (IS("http", "conn_rate"))
        UNUM(conn_rate, 1, 10000000);
    else if (IS("http", "idle_timeout_s"))
        UNUM(idle_s, 1, 86400);
    else if (IS("http", "message_deadline_s"))
        UNUM(msg_deadline_s, 1, 3600);
    else if (IS("http", "slow_reader_s"))
        UNUM(slow_reader_s, 1, 3600);
    else if (IS("http", "max_outbuf"))
        UNUM(max_outbuf, 65536, UINT64_C(4294967296));
    else if (IS("http", "max_outbuf_total"))
        UNUM(max_outbuf_total, 1048576, UINT64_C(68719476736));
    else if (IS("node", "url")) {
        if (!lc->nodes_seen) {
            c->n_nodes = 0;
            lc->nodes_seen = true;
        }
        /* One url per line, or several separated by spaces or commas. */
        const char *p = value;
        while (*p && ok) {
            size_t n = strcspn(p, ", \t");
            if (n) {
                if (c->n_nodes == GW_MAX_NODES || n >= sizeof c->nodes[0]) {
                    ok = false;
                    range = "at most 8 node URLs";
                    break;
                }
                memcpy(c->nodes[c->n_nodes], p, n);
                c->nodes[c->n_nodes][n] = 0;
                c->n_nodes++;
            }
            p += n;
            p += strspn(p, ", \t");
        }
    } else if (IS("node", "request_timeout_ms"))
        UNUM(request_timeout_ms, 100, 600000);
    else if (IS("keystore", "passphrase_file"))
        ok = set_text(c->passphrase_file, sizeof c->passphrase_file, value);
    else if (IS("keystore", "passphrase_env"))
        ok = set_text(c->passphrase_env, sizeof c->passphrase_env, value);
    else if (IS("keystore", "passphrase")) {
        snprintf(lc->err, lc->errcap,
                 "a passphrase is never read from the config; use passphrase_file (a file "
                 "only its owner may read) or passphrase_env");
        return 0;
    } else if (IS("keystore", "kdf_cost")) {
        static const char *const costs[] = {"min", "interactive", "moderate", "sensitive"};
        ok = false;
        for (int i = 0; i < 4; i++)
            if (!strcmp(value, costs[i])) {
                c->kdf_cost = i;
                ok = true;
            }
        range = "min, interactive, moderate or sensitive";
    } else if (IS("keystore", "keys_loaded"))
        UNUM(keys_loaded, 1, 100000);
    else if (IS("submit", "ledger_window"))
        UNUM(ledger_window, 1, 1000);
    else if (IS("submit", "fee_drops"))
        UNUM(fee_drops, 10, 1000000000);
    else if (IS("submit", "wait_max_s"))
        UNUM(wait_max_s, 1, 600);
    else if (IS("submit", "resubmit_ms"))
        UNUM(resubmit_ms, 100, 600000);
    else if (IS("limits", "key_rate"))
        UNUM(key_rate, 1, 1000000);
    else if (IS("limits", "key_burst"))
        UNUM(key_burst, 1, 1000000);
    else if (IS("limits", "max_pending"))
        UNUM(max_pending, 1, 10000000);
    else if (IS("events", "max_conns_per_key"))
        UNUM(ev_conns_per_key, 1, 100000);
    else if (IS("events", "max_subscriptions"))
        UNUM(ev_subs_per_conn, 1, 1000);
    else if (IS("events", "max_replay_ledgers"))
        UNUM(ev_max_replay, 1, 100000000);
    else if (IS("webhooks", "max_attempts"))
        UNUM(wh_max_attempts, 1, 1000);
    else if (IS("webhooks", "backoff_ms"))
        UNUM(wh_backoff_ms, 10, 3600000);
    else if (IS("webhooks", "backoff_max_s"))
        UNUM(wh_backoff_max_s, 1, 604800);
    else if (IS("webhooks", "timeout_s"))
        UNUM(wh_timeout_s, 1, 600);
    else if (IS("webhooks", "max_inflight"))
        UNUM(wh_max_inflight, 1, 1000);
    else if (IS("webhooks", "max_webhooks"))
        UNUM(wh_max_hooks, 1, 100000);
    else if (IS("webhooks", "max_owed"))
        UNUM(wh_max_owed, 1, 100000000);
    else if (IS("webhooks", "max_dead_letters"))
        UNUM(wh_max_dead, 1, 100000000);
    else if (IS("store", "map_size"))
        UNUM(map_size, 1048576, UINT64_C(1099511627776));
    else if (IS("log", "requests")) {
        ok = !strcmp(value, "true") || !strcmp(value, "false");
        c->log_requests = !strcmp(value, "true");
        range = "true or false";
    } else
        known = false;
#undef UNUM
#undef IS
    if (!known) {
        snprintf(lc->err, lc->errcap, "unknown setting [%s] %s", section, name);
        return 0;
    }
    if (!ok) {
        snprintf(lc->err, lc->errcap, "[%s] %s = \"%.200s\" is not valid%s%s", section, name,
                 value, range[0] ? ": expected " : "", range);
        return 0;
    }
    return 1;
}

int gw_config_load(gw_config *c, const char *path, char *err, size_t errcap)
{
    load_ctx lc = {c, err, errcap, path, false};
    err[0] = 0;
    int rc = ini_parse(path, on_item, &lc);
    if (rc == -1) {
        snprintf(err, errcap, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    if (rc != 0) {
        char what[512];
        snprintf(what, sizeof what, "%s", err[0] ? err : "not INI (expected [section] or name = value)");
        snprintf(err, errcap, "%s:%d: %s", path, rc, what);
        return -1;
    }
    if (!c->tls_cert[0] != !c->tls_key[0]) {
        snprintf(err, errcap, "%s: [http] tls_cert and tls_key go together", path);
        return -1;
    }
    if (c->n_nodes == 0) {
        snprintf(err, errcap, "%s: [node] url is missing", path);
        return -1;
    }
    return 0;
}

char *gw_config_default_text(const char *node_url, const char *tls_cert, const char *tls_key)
{
    gw_config d;
    gw_config_init(&d);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        return NULL;
    fprintf(f,
            "; jt-gateway settings. Every line shows its default.\n"
            "\n"
            "[http]\n"
            "; where the REST API and /v2/events listen\n"
            "address = %s\n"
            "; PEM certificate and key: both set, the listener speaks HTTPS only\n"
            "tls_cert = %s\n"
            "tls_key = %s\n"
            "; origins allowed by CORS, space separated (empty: no CORS headers)\n"
            "cors_origins =\n"
            "max_body = %zu\n"
            "max_conns = %u\n"
            "max_conns_per_addr = %u\n"
            "; requests per second on one connection, API key or not (429 past it)\n"
            "conn_rate = %u\n"
            "idle_timeout_s = %u\n"
            "message_deadline_s = %u\n"
            "; a client that does not read its answers for slow_reader_s is closed, and so\n"
            "; is the slowest when answers queued for all clients pass max_outbuf_total\n"
            "slow_reader_s = %u\n"
            "max_outbuf = %zu\n"
            "max_outbuf_total = %zu\n"
            "\n"
            "[node]\n"
            "; jtp://HOST:PORT?key=NODEKEY (jt-node, its key pinned) or ws://HOST:PORT;\n"
            "; several URLs (space separated): the next is used when one fails\n"
            "url = %s\n"
            "request_timeout_ms = %u\n"
            "\n"
            "[keystore]\n"
            "; the passphrase is never written here: a file only its owner may read,\n"
            "; or an environment variable, or (without either) a prompt\n"
            "passphrase_file =\n"
            "passphrase_env = %s\n"
            "; Argon2id cost of a new keystore: min, interactive, moderate, sensitive\n"
            "kdf_cost = moderate\n"
            "; signing keys kept unsealed in locked memory at once; the least recently\n"
            "; used is sealed again past this (each costs a locked page and three mappings)\n"
            "keys_loaded = %u\n"
            "\n"
            "[submit]\n"
            "; LastLedgerSequence = last validated ledger + ledger_window\n"
            "ledger_window = %u\n"
            "fee_drops = %" PRIu64 "\n"
            "wait_max_s = %u\n"
            "resubmit_ms = %u\n"
            "\n"
            "[limits]\n"
            "; requests per second per API key, and the burst it may save up\n"
            "key_rate = %u\n"
            "key_burst = %u\n"
            "max_pending = %u\n"
            "\n"
            "[events]\n"
            "; GET /v2/events (WebSocket): connections per API key, subscriptions per\n"
            "; connection, and how far back since_ledger may reach\n"
            "max_conns_per_key = %u\n"
            "max_subscriptions = %u\n"
            "max_replay_ledgers = %u\n"
            "\n"
            "[webhooks]\n"
            "; a delivery is retried after backoff_ms, doubling up to backoff_max_s, and\n"
            "; becomes a dead letter after max_attempts\n"
            "max_attempts = %u\n"
            "backoff_ms = %u\n"
            "backoff_max_s = %u\n"
            "timeout_s = %u\n"
            "max_inflight = %u\n"
            "max_webhooks = %u\n"
            "; deliveries owed in all; past it, a webhook owed more than its share\n"
            "; (max_owed / webhooks) gets no new ones until it catches up (each skipped\n"
            "; one is counted and logged; the events stay in history and /v2/events)\n"
            "max_owed = %u\n"
            "; dead letters kept, in all; past it the oldest is deleted\n"
            "max_dead_letters = %u\n"
            "\n"
            "[store]\n"
            "map_size = %" PRIu64 "\n"
            "\n"
            "[log]\n"
            "requests = true\n",
            d.http_addr, tls_cert ? tls_cert : "", tls_key ? tls_key : "", d.max_body, d.max_conns,
            d.max_conns_per_addr, d.conn_rate, d.idle_s, d.msg_deadline_s, d.slow_reader_s, d.max_outbuf,
            d.max_outbuf_total, node_url, d.request_timeout_ms, d.passphrase_env, d.keys_loaded, d.ledger_window,
            d.fee_drops, d.wait_max_s, d.resubmit_ms, d.key_rate, d.key_burst, d.max_pending,
            d.ev_conns_per_key, d.ev_subs_per_conn, d.ev_max_replay, d.wh_max_attempts,
            d.wh_backoff_ms, d.wh_backoff_max_s, d.wh_timeout_s, d.wh_max_inflight,
            d.wh_max_hooks, d.wh_max_owed, d.wh_max_dead, d.map_size);
    fclose(f);
    return out;
}
