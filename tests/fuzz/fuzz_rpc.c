/*
 * fuzz_rpc — jt-node's request dispatcher on arbitrary request text.
 *
 * A real ledger (genesis in a temporary LMDB store, created once) answers
 * every input as an admin loopback client would be answered; every reply
 * must be one JSON object. ledger_accept closes real ledgers, so inputs also
 * exercise closing and the stores' writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jt/jt.h>

#include "closer.h"
#include "ledger.h"
#include "rpc.h"

static jn_rpc *rpc;
static jn_client *client;

static void on_reply(void *ctx, const char *msg, size_t len, bool push)
{
    jt_json_doc *doc = NULL;
    jt_errinfo ei;
    if (jt_json_parse(msg, len, NULL, &doc, &ei) != JT_OK || jt_json_root(doc)->kind != JT_JSON_OBJECT) {
        fprintf(stderr, "reply is not a JSON object: %.*s\n", (int)(len > 400 ? 400 : len), msg);
        abort();
    }
    jt_json_doc_free(doc);
}

static void setup(void)
{
    char dir[] = "/tmp/jt-fuzz-rpc-XXXXXX";
    char err[256];
    if (!mkdtemp(dir))
        abort();
    jn_store *st;
    jn_params p;
    jn_params_init(&p);
    jt_account_id genesis;
    jt_errinfo ei;
    jn_ledger *L;
    if (jn_store_open(dir, 1u << 30, &st, err, sizeof err) ||
        jt_address_decode("jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh", &genesis, &ei) != JT_OK ||
        jn_ledger_genesis(st, &p, &genesis, 600000000, err, sizeof err) ||
        jn_ledger_load(st, &p, &L, err, sizeof err)) {
        fprintf(stderr, "setup: %s\n", err);
        abort();
    }
    /* No writer thread: ledger_accept closes and writes inline. */
    jn_closer *closer = jn_closer_new(L, NULL, NULL);
    jn_rpc_config cfg = {.hostid = "fuzz", .version = "fuzz", .closer = closer};
    rpc = closer ? jn_rpc_new(L, &cfg) : NULL;
    if (!rpc)
        abort();
    client = jn_rpc_client_new(rpc, on_reply, NULL, true, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rpc)
        setup();
    jn_rpc_request(rpc, client, (const char *)data, size, false);
    return 0;
}
