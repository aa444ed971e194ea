/*
 * rpc_budget.c — request budgets: every request costs units, roughly ten
 * microseconds of the event loop each (a ping 1, a book_offers page 10 and
 * more with its limit, a path search 100; its reply a unit a KiB more,
 * charged once it is built), and is paid from two token
 * buckets: its connection's and its peer address's (shared by every
 * connection from that address). Both refill continuously; a request that
 * either cannot pay is answered `slowDown` and not run. So one connection
 * cannot take more than its share of the loop, nor can one address by
 * opening many connections, while light clients are never held up.
 */
#include "rpc_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct jn_addr_budget {
    struct jn_addr_budget *next;
    uint8_t addr[16];
    unsigned users; /* connections from this address */
    double tokens, at;
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Refills a bucket (rate per second, up to burst) to `now`; true when it
 * holds `cost`, which is then taken. */
static bool take(double *tokens, double *at, double rate, double burst, double cost, double now)
{
    *tokens += (now - *at) * rate;
    if (*tokens > burst)
        *tokens = burst;
    *at = now;
    return *tokens >= cost;
}

int rpc_budget_attach(jn_rpc *r, jn_client *c, const uint8_t addr[16])
{
    double now = mono_now();
    c->tokens = r->cfg.budget_burst;
    c->tokens_at = now;
    if (!addr)
        return 0;
    jn_addr_budget *b = r->addr_budgets;
    while (b && memcmp(b->addr, addr, 16))
        b = b->next;
    if (!b) {
        if (!(b = calloc(1, sizeof *b)))
            return -1;
        memcpy(b->addr, addr, 16);
        b->tokens = r->cfg.addr_budget_burst;
        b->at = now;
        b->next = r->addr_budgets;
        r->addr_budgets = b;
    }
    b->users++;
    c->addr_budget = b;
    return 0;
}

void rpc_budget_detach(jn_rpc *r, jn_client *c)
{
    jn_addr_budget *b = c->addr_budget;
    c->addr_budget = NULL;
    if (!b || --b->users)
        return;
    jn_addr_budget **pp = &r->addr_budgets;
    while (*pp != b)
        pp = &(*pp)->next;
    *pp = b->next;
    free(b);
}

/* A list request's page size: its `limit`, else `dflt`, at most `max`. */
static double page(const jt_json *p, double dflt, double max)
{
    int64_t v;
    if (!jt_json_int64(jt_json_get(p, "limit"), true, &v) || v < 0)
        return dflt;
    return v > (int64_t)max ? max : (double)v;
}

static bool flag(const jt_json *p, const char *key)
{
    const jt_json *v = jt_json_get(p, key);
    return v && v->kind == JT_JSON_BOOL && v->u.b;
}

double rpc_request_cost(const command *cmd, const jt_json *p)
{
    if (!cmd)
        return 1;
    double base = cmd->cost ? cmd->cost : 1;
    switch (cmd->price) {
    case PRICE_BOOK_PAGE: return base + page(p, 300, 300) / 20;
    case PRICE_TX_PAGE: return base + page(p, 200, 1000) / 50;
    case PRICE_LEDGER:
        if (flag(p, "full") || flag(p, "accounts"))
            return 500;
        return flag(p, "transactions") || flag(p, "expand") ? 50 : base;
    default: return base;
    }
}

bool rpc_budget_take(jn_rpc *r, jn_client *c, double cost)
{
    double now = mono_now();
    jn_addr_budget *b = c->addr_budget;
    bool conn_ok = take(&c->tokens, &c->tokens_at, r->cfg.budget_per_sec, r->cfg.budget_burst, cost, now);
    bool addr_ok = !b || take(&b->tokens, &b->at, r->cfg.addr_budget_per_sec,
                              r->cfg.addr_budget_burst, cost, now);
    if (conn_ok && addr_ok) {
        c->tokens -= cost;
        if (b)
            b->tokens -= cost;
        return true;
    }
    c->refused++;
    if (now - c->refused_logged >= 1.0) {
        fprintf(stderr,
                "level=warn mod=rpc event=rate_limited client=%p budget=%s refused=%u cost=%g\n",
                (void *)c, conn_ok ? "address" : "connection", c->refused, cost);
        c->refused_logged = now;
        c->refused = 0;
    }
    return false;
}

void rpc_budget_charge(jn_rpc *r, jn_client *c, double cost)
{
    (void)r;
    /* Into debt if need be: the next requests wait until it is paid. */
    c->tokens -= cost;
    if (c->addr_budget)
        c->addr_budget->tokens -= cost;
}
