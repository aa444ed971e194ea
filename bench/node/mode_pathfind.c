#include "common.h"

/* ---------------------------------------------------------------- pathfind mode */

/*
 * path_find answers per second, and their p99 latency, on a ledger with
 * 1 000 accounts, 50 tokens and 20 000 offers: NOT YET MEASURED.
 *
 * jt-node has no path finding yet (`path_find` and `skywell_path_find`
 * answer notSupported). Until it has, this mode only asks the node and
 * reports that the figure is not measured; it never prints a rate.
 *
 * Where the measurement goes, once the node finds paths (the plan, as
 * docs/benchmarks.md describes it):
 *
 *  1. Set-up (not measured), with the pieces the offers and xpay modes use
 *     (market.c, submit_set): 1 000 accounts; 50 tokens from a few issuers,
 *     each account trusting some of them and holding some; 20 000 offers
 *     spread over the books between the tokens and SWT (and some between
 *     two tokens), so that a source and a destination are joined by paths
 *     of one and two books.
 *  2. The load: `skywell_path_find` requests (source, destination and an
 *     amount of a token the source does not hold, drawn from a fixed
 *     scramble) from several jtp clients, each keeping a few requests
 *     outstanding, as book_bench does for book_offers (mode_offers.c); the
 *     replies must each hold at least one path (alternatives), checked
 *     cheaply, and a sample of them checked by submitting the payment with
 *     the paths found and reading its metadata.
 *  3. Figures: answers per second over a fixed time after a warm-up, and
 *     request -> reply latency (p50, p99), on the ledger as built; and, as
 *     the other modes, a ratio against the two-core verify ceiling measured
 *     in interleaved slices if the acceptance criteria name a target.
 */

/* "notSupported" or "unknownCmd" when the node does not have `command`;
 * otherwise NULL (the node answered something else). */
static const char *pathfind_missing(bench *b, const char *command, const char *params, char *err,
                                    size_t cap)
{
    jt_json_doc *d = ctrl_call_any(b, 30, "\"command\":\"%s\",%s", command, params);
    const jt_json *root = jt_json_root(d);
    const char *status = jt_json_string(jt_json_get(root, "status"));
    const char *e = jt_json_string(jt_json_get(root, "error"));
    const char *missing = NULL;
    if (status && strcmp(status, "success") && e &&
        (!strcmp(e, "notSupported") || !strcmp(e, "unknownCmd"))) {
        snprintf(err, cap, "%s", e);
        missing = err;
    }
    jt_json_doc_free(d);
    return missing;
}

int pathfind_run(bench *b, const account *genesis, uint32_t gseq, const char *ledger_dir)
{
    char params[400], e1[32], e2[32];
    snprintf(params, sizeof params,
             "\"source_account\":\"%s\",\"destination_account\":\"%s\","
             "\"destination_amount\":\"1000000\"",
             GENESIS_ADDRESS, GENESIS_ADDRESS);
    char pf_params[450];
    snprintf(pf_params, sizeof pf_params, "\"subcommand\":\"create\",%s", params);
    const char *m1 = pathfind_missing(b, "skywell_path_find", params, e1, sizeof e1);
    const char *m2 = pathfind_missing(b, "path_find", pf_params, e2, sizeof e2);
    if (b->json) {
        printf("{\"bench\": \"bench_node\", \"mode\": \"pathfind\", \"measured\": false, "
               "\"skywell_path_find\": \"%s\", \"path_find\": \"%s\"}\n",
               m1 ? m1 : "answers", m2 ? m2 : "answers");
        return 0;
    }
    printf("bench_node --mode pathfind: %s; skywell_path_find: %s, path_find: %s\n", b->node,
           m1 ? m1 : "answers", m2 ? m2 : "answers");
    if (m1 && m2)
        printf("SUMMARY path_find (1000 accounts, 50 tokens, 20000 offers): not yet measured: "
               "the node has no path finding yet (skywell_path_find and path_find answer %s)\n",
               m1);
    else
        printf("SUMMARY path_find (1000 accounts, 50 tokens, 20000 offers): not yet measured: "
               "the node answers path finding requests, but bench_node --mode pathfind does not "
               "measure them yet (bench/node/mode_pathfind.c)\n");
    return 0;
}
