/*
 * test_gw_txbuild.c — the REST bodies turned into transactions: amounts in
 * SWT and tokens, prices, flags, relations, settings, and refusals that
 * name their field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jt/jt.h>

#include "testutil.h"
#include "txbuild.h"

#define ISSUER "jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh"
#define DEST "jGXjV57AKG7dpEv8T6x5H6nmPvNK5tZj72"

typedef int (*builder)(const jt_json *v, jt_obj *tx, gw_txerr *e);

/* Builds from JSON text; returns the transaction's JSON (caller frees) or
 * NULL with *e filled. */
static char *build(builder fn, const char *json, gw_txerr *e)
{
    jt_json_doc *doc;
    jt_errinfo ei;
    assert_int_equal(jt_json_parse(json, strlen(json), NULL, &doc, &ei), JT_OK);
    jt_obj *tx = jt_obj_new();
    memset(e, 0, sizeof *e);
    char *out = NULL;
    if (fn(jt_json_root(doc), tx, e) == 0) {
        jt_buf b;
        jt_buf_init(&b);
        assert_int_equal(jt_obj_to_json(tx, &b), JT_OK);
        assert_int_equal(jt_buf_append(&b, "", 1), JT_OK);
        out = strdup((const char *)b.data);
        jt_buf_clear(&b);
    }
    jt_obj_free(tx);
    jt_json_doc_free(doc);
    return out;
}

static int relation_post(const jt_json *v, jt_obj *tx, gw_txerr *e)
{
    return gw_tx_relation(v, false, tx, e);
}

static int relation_del(const jt_json *v, jt_obj *tx, gw_txerr *e)
{
    return gw_tx_relation(v, true, tx, e);
}

static int settings_plain(const jt_json *v, jt_obj *tx, gw_txerr *e)
{
    return gw_tx_settings(v, NULL, tx, e);
}

static void contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("%s\n  does not contain %s", hay, needle);
}

static void payments(void **state)
{
    gw_txerr e;
    char *j = build(gw_tx_payment,
                    "{\"destination\":\"" DEST "\",\"amount\":{\"value\":\"1.5\",\"currency\":\"SWT\"},"
                    "\"memos\":[{\"type\":\"t\",\"data\":\"hi\"}],\"destination_tag\":7}",
                    &e);
    assert_non_null(j);
    contains(j, "\"TransactionType\":\"Payment\"");
    contains(j, "\"Amount\":\"1500000\"");
    contains(j, "\"DestinationTag\":7");
    contains(j, "\"MemoType\":\"74\"");
    contains(j, "\"MemoData\":\"6869\"");
    free(j);
    j = build(gw_tx_payment,
              "{\"destination\":\"" DEST "\",\"amount\":{\"value\":\"100\",\"currency\":\"CNY\","
              "\"issuer\":\"" ISSUER "\"},\"send_max\":{\"value\":\"101\",\"currency\":\"CNY\","
              "\"issuer\":\"" ISSUER "\"}}",
              &e);
    assert_non_null(j);
    contains(j, "\"currency\":\"CNY\"");
    contains(j, "\"value\":\"100\"");
    contains(j, "\"SendMax\"");
    free(j);
    static const struct {
        const char *json, *field;
    } bad[] = {
        {"{\"destination\":\"jBad\",\"amount\":{\"value\":\"1\",\"currency\":\"SWT\"}}", "payment.destination"},
        {"{\"destination\":\"" DEST "\"}", "payment.amount"},
        {"{\"destination\":\"" DEST "\",\"amount\":{\"value\":\"0\",\"currency\":\"SWT\"}}", "payment.amount.value"},
        {"{\"destination\":\"" DEST "\",\"amount\":{\"value\":\"1.0000001\",\"currency\":\"SWT\"}}", "payment.amount.value"},
        {"{\"destination\":\"" DEST "\",\"amount\":{\"value\":\"-1\",\"currency\":\"SWT\"}}", "payment.amount.value"},
        {"{\"destination\":\"" DEST "\",\"amount\":{\"value\":\"1\",\"currency\":\"SWT\",\"issuer\":\"" ISSUER "\"}}", "payment.amount.issuer"},
        {"{\"destination\":\"" DEST "\",\"amount\":{\"value\":\"1\",\"currency\":\"CNY\"}}", "payment.amount.issuer"},
        {"{\"destination\":\"" DEST "\",\"amount\":{\"value\":\"1\",\"currency\":\"C!Y\",\"issuer\":\"" ISSUER "\"}}", "payment.amount.currency"},
        {"{\"destination\":\"" DEST "\",\"amount\":{\"value\":\"1\",\"currency\":\"SWT\"},\"tip\":1}", "payment.tip"},
        {"{\"destination\":\"" DEST "\",\"amount\":{\"value\":\"1\",\"currency\":\"SWT\"},\"destination_tag\":-1}", "payment.destination_tag"},
        {"{\"destination\":\"" DEST "\",\"amount\":{\"value\":\"1\",\"currency\":\"SWT\"},\"invoice_id\":\"AB\"}", "payment.invoice_id"},
        {"{\"destination\":\"" DEST "\",\"amount\":{\"value\":\"1\",\"currency\":\"SWT\"},\"memos\":{}}", "payment.memos"},
        {"{\"destination\":\"" DEST "\",\"amount\":{\"value\":\"1\",\"currency\":\"SWT\"},\"memos\":[{\"data\":1}]}", "payment.memos[0].data"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        j = build(gw_tx_payment, bad[i].json, &e);
        if (j || strcmp(e.field, bad[i].field) || !e.msg[0])
            fail_msg("case %zu: built=%d field=\"%s\" (want \"%s\") msg=\"%s\"", i, j != NULL,
                     e.field, bad[i].field, e.msg);
    }
}

static void orders(void **state)
{
    gw_txerr e;
    /* sell 10 CNY at 2.5 SWT: the taker gets 10 CNY and pays 25 SWT. */
    char *j = build(gw_tx_order,
                    "{\"type\":\"sell\",\"pair\":\"CNY:" ISSUER "/SWT\",\"amount\":\"10\",\"price\":\"2.5\"}",
                    &e);
    assert_non_null(j);
    contains(j, "\"TakerPays\":\"25000000\"");
    contains(j, "\"TakerGets\":{\"currency\":\"CNY\",\"issuer\":\"" ISSUER "\",\"value\":\"10\"}");
    contains(j, "\"Flags\":524288");
    free(j);
    /* buy 3 SWT at 0.333 CNY: the taker pays 3 SWT, gets 0.999 CNY. */
    j = build(gw_tx_order,
              "{\"type\":\"buy\",\"pair\":\"SWT/CNY:" ISSUER "\",\"amount\":\"3\",\"price\":\"0.333\","
              "\"flags\":[\"passive\",\"immediate_or_cancel\"]}",
              &e);
    assert_non_null(j);
    contains(j, "\"TakerPays\":\"3000000\"");
    contains(j, "\"value\":\"0.999\"");
    contains(j, "\"Flags\":196608");
    free(j);
    /* token/token with 16 significant digits kept, rounded down */
    j = build(gw_tx_order,
              "{\"type\":\"buy\",\"pair\":\"USD:" DEST "/CNY:" ISSUER "\",\"amount\":\"3\",\"price\":\"0.3333333333333333333\"}",
              &e);
    assert_null(j); /* more than 16 digits in the price are refused by the value parser */
    assert_string_equal(e.field, "order.price");
    static const struct {
        const char *json, *field;
    } bad[] = {
        {"{\"type\":\"hold\",\"pair\":\"CNY:" ISSUER "/SWT\",\"amount\":\"1\",\"price\":\"1\"}", "order.type"},
        {"{\"type\":\"buy\",\"pair\":\"CNY/SWT\",\"amount\":\"1\",\"price\":\"1\"}", "order.pair"},
        {"{\"type\":\"buy\",\"pair\":\"SWT/SWT\",\"amount\":\"1\",\"price\":\"1\"}", "order.pair"},
        {"{\"type\":\"buy\",\"pair\":\"SWT:" ISSUER "/CNY:" ISSUER "\",\"amount\":\"1\",\"price\":\"1\"}", "order.pair"},
        {"{\"type\":\"buy\",\"pair\":\"CNY:" ISSUER "/SWT\",\"amount\":\"0\",\"price\":\"1\"}", "order.amount"},
        {"{\"type\":\"buy\",\"pair\":\"CNY:" ISSUER "/SWT\",\"amount\":\"1\",\"price\":\"0\"}", "order.price"},
        {"{\"type\":\"buy\",\"pair\":\"CNY:" ISSUER "/SWT\",\"amount\":\"1\",\"price\":\"x\"}", "order.price"},
        {"{\"type\":\"buy\",\"pair\":\"CNY:" ISSUER "/SWT\",\"amount\":\"1\",\"price\":\"1\",\"flags\":[\"fast\"]}", "order.flags"},
        {"{\"type\":\"buy\",\"pair\":\"CNY:" ISSUER "/SWT\",\"amount\":\"1\",\"price\":\"1e90\"}", "order.price"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        j = build(gw_tx_order, bad[i].json, &e);
        if (j || strcmp(e.field, bad[i].field) || !e.msg[0])
            fail_msg("case %zu: built=%d field=\"%s\" (want \"%s\") msg=\"%s\"", i, j != NULL,
                     e.field, bad[i].field, e.msg);
        free(j);
    }
}

static void relations(void **state)
{
    gw_txerr e;
    char *j = build(relation_post,
                    "{\"type\":\"trust\",\"amount\":{\"limit\":\"1000\",\"currency\":\"CNY\",\"issuer\":\"" ISSUER "\"}}",
                    &e);
    assert_non_null(j);
    contains(j, "\"TransactionType\":\"TrustSet\"");
    contains(j, "\"LimitAmount\"");
    free(j);
    j = build(relation_post,
              "{\"type\":\"freeze\",\"counterparty\":\"" DEST "\",\"amount\":{\"limit\":\"0\",\"currency\":\"CNY\",\"issuer\":\"" ISSUER "\"}}",
              &e);
    assert_non_null(j);
    contains(j, "\"TransactionType\":\"RelationSet\"");
    contains(j, "\"RelationType\":3");
    contains(j, "\"Target\":\"" DEST "\"");
    free(j);
    j = build(relation_del,
              "{\"type\":\"unauthorize\",\"counterparty\":\"" DEST "\",\"amount\":{\"limit\":\"5\",\"currency\":\"CNY\",\"issuer\":\"" ISSUER "\"}}",
              &e);
    assert_non_null(j);
    contains(j, "\"TransactionType\":\"RelationDel\"");
    contains(j, "\"RelationType\":1");
    free(j);
    assert_null(build(relation_del, "{\"type\":\"trust\",\"amount\":{\"limit\":\"1\",\"currency\":\"CNY\",\"issuer\":\"" ISSUER "\"}}", &e));
    assert_string_equal(e.field, "type");
    assert_null(build(relation_post, "{\"type\":\"freeze\",\"amount\":{\"limit\":\"1\",\"currency\":\"CNY\",\"issuer\":\"" ISSUER "\"}}", &e));
    assert_string_equal(e.field, "counterparty");
    assert_null(build(relation_post, "{\"type\":\"trust\",\"amount\":{\"limit\":\"1\",\"currency\":\"SWT\",\"issuer\":\"" ISSUER "\"}}", &e));
    assert_string_equal(e.field, "amount.currency");
}

static void settings(void **state)
{
    gw_txerr e;
    char *j = build(settings_plain,
                    "{\"require_auth\":true,\"no_freeze\":false,\"transfer_rate\":\"0.001\",\"domain\":\"b.example\"}",
                    &e);
    assert_non_null(j);
    contains(j, "\"TransactionType\":\"AccountSet\"");
    contains(j, "\"SetFlag\":2");
    contains(j, "\"ClearFlag\":6");
    contains(j, "\"TransferRate\":1001000000");
    free(j);
    j = build(settings_plain, "{\"transfer_rate\":\"0\"}", &e);
    assert_non_null(j);
    contains(j, "\"TransferRate\":0");
    free(j);
    j = build(settings_plain, "{\"regular_key\":\"" DEST "\"}", &e);
    assert_non_null(j);
    contains(j, "\"TransactionType\":\"SetRegularKey\"");
    contains(j, "\"RegularKey\":\"" DEST "\"");
    free(j);
    static const struct {
        const char *json, *field;
    } bad[] = {
        {"{}", "settings"},
        {"{\"require_auth\":true,\"global_freeze\":true}", "settings.global_freeze"},
        {"{\"require_auth\":1}", "settings.require_auth"},
        {"{\"transfer_rate\":\"1.5\"}", "settings.transfer_rate"},
        {"{\"transfer_rate\":\"0.0000000001\"}", "settings.transfer_rate"},
        {"{\"regular_key\":\"" DEST "\",\"domain\":\"x\"}", "settings.regular_key"},
        {"{\"message_key\":\"zz\"}", "settings.message_key"},
        {"{\"colour\":\"red\"}", "settings.colour"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        j = build(settings_plain, bad[i].json, &e);
        if (j || strcmp(e.field, bad[i].field) || !e.msg[0])
            fail_msg("case %zu: built=%d field=\"%s\" (want \"%s\") msg=\"%s\"", i, j != NULL,
                     e.field, bad[i].field, e.msg);
        free(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(payments),
        cmocka_unit_test(orders),
        cmocka_unit_test(relations),
        cmocka_unit_test(settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
