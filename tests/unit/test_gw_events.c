/*
 * test_gw_events.c — the logic of jt-gateway's events and webhooks: HMAC
 * signing, the retry schedule, webhook and delivery records, URL checks,
 * event ids and shapes, the accounts a transaction touches, and the
 * [events]/[webhooks] settings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <jt/json.h>

#include "config.h"
#include "events.h"
#include "hook.h"
#include "testutil.h"

static jt_json_doc *parse_n(const char *text, size_t len)
{
    jt_json_doc *d = NULL;
    jt_errinfo ei;
    assert_int_equal(jt_json_parse(text, len, NULL, &d, &ei), JT_OK);
    return d;
}

static jt_json_doc *parse(const char *text)
{
    return parse_n(text, strlen(text));
}

static void sign_matches_rfc4231(void **state)
{
    (void)state;
    /* RFC 4231 test case 2: key "Jefe". */
    char sig[GW_HOOK_SIG_LEN];
    const char *data = "what do ya want for nothing?";
    gw_hook_sign("Jefe", data, strlen(data), sig);
    assert_string_equal(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* one byte of the body or of the secret changes it */
    char other[GW_HOOK_SIG_LEN];
    gw_hook_sign("Jefe", "what do ya want for nothing!", 28, other);
    assert_string_not_equal(sig, other);
    gw_hook_sign("Jeff", data, strlen(data), other);
    assert_string_not_equal(sig, other);
}

static void backoff_doubles_to_cap(void **state)
{
    (void)state;
    assert_int_equal(gw_hook_backoff_ms(0, 1000, 600000), 0);
    assert_int_equal(gw_hook_backoff_ms(1, 1000, 600000), 1000);
    assert_int_equal(gw_hook_backoff_ms(2, 1000, 600000), 2000);
    assert_int_equal(gw_hook_backoff_ms(3, 1000, 600000), 4000);
    assert_int_equal(gw_hook_backoff_ms(10, 1000, 600000), 512000);
    assert_int_equal(gw_hook_backoff_ms(11, 1000, 600000), 600000);
    /* far past the cap: no overflow */
    assert_int_equal(gw_hook_backoff_ms(1000, 1000, 600000), 600000);
    assert_int_equal(gw_hook_backoff_ms(UINT32_MAX, 1000, 600000), 600000);
}

static void url_checks(void **state)
{
    (void)state;
    assert_true(gw_hook_url_ok("http://127.0.0.1:8080/hook"));
    assert_true(gw_hook_url_ok("https://example.com/a?b=c"));
    assert_false(gw_hook_url_ok("ftp://example.com/"));
    assert_false(gw_hook_url_ok("http://"));
    assert_false(gw_hook_url_ok("http:///x"));
    assert_false(gw_hook_url_ok("http://exa mple.com/"));
    assert_false(gw_hook_url_ok("http://example.com/\r\nX-Evil: 1"));
    assert_false(gw_hook_url_ok("javascript:alert(1)"));
}

static void webhook_record_roundtrip(void **state)
{
    (void)state;
    gw_webhook w;
    memset(&w, 0, sizeof w);
    snprintf(w.id, sizeof w.id, "0123456789abcdef");
    snprintf(w.url, sizeof w.url, "http://127.0.0.1:1/\"quoted\"");
    snprintf(w.secret, sizeof w.secret, "whsec_abc");
    char accts[2][40] = {"jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh", "jB"};
    w.accounts = accts;
    w.n_accounts = 2;
    w.created = 1700000000;
    jt_buf b;
    jt_buf_init(&b);
    assert_int_equal(gw_webhook_encode(&w, &b), 0);
    gw_webhook r;
    assert_int_equal(gw_webhook_decode(b.data, b.len, &r), 0);
    assert_string_equal(r.id, w.id);
    assert_string_equal(r.url, w.url);
    assert_string_equal(r.secret, w.secret);
    assert_int_equal(r.n_accounts, 2);
    assert_true(gw_webhook_has(&r, "jB"));
    assert_false(gw_webhook_has(&r, "jC"));
    assert_int_equal(r.created, 1700000000);
    gw_webhook_clear(&r);
    assert_int_equal(gw_webhook_decode("{\"id\":1}", 8, &r), -1);
    assert_int_equal(gw_webhook_decode("not json", 8, &r), -1);
    jt_buf_clear(&b);
}

static void delivery_record_roundtrip(void **state)
{
    (void)state;
    char key[160];
    assert_int_equal(gw_delivery_key("0123456789abcdef", "12:3:jX", key, sizeof key), 24);
    assert_string_equal(key, "0123456789abcdef/12:3:jX");
    assert_int_equal(gw_delivery_key("0123456789abcdef", "12:3:jX", key, 10), 0);
    gw_delivery d;
    memset(&d, 0, sizeof d);
    snprintf(d.hook, sizeof d.hook, "0123456789abcdef");
    snprintf(d.event_id, sizeof d.event_id, "12:3:jX");
    d.attempts = 5;
    d.next_ms = 1700000000123ull;
    d.created_ms = 1700000000000ull;
    d.last_ms = 1700000000100ull;
    d.last_status = 503;
    snprintf(d.last_error, sizeof d.last_error, "HTTP 503");
    /* the body is kept byte for byte, white space and escapes included */
    const char *body = "{ \"event\" : \"account\",\n\"memo\":\"a\\\"b\\u00e9\" }";
    d.body = (char *)body;
    d.body_len = strlen(body);
    jt_buf b;
    jt_buf_init(&b);
    assert_int_equal(gw_delivery_encode(&d, &b), 0);
    gw_delivery r;
    assert_int_equal(gw_delivery_decode(b.data, b.len, &r), 0);
    assert_string_equal(r.hook, d.hook);
    assert_string_equal(r.event_id, d.event_id);
    assert_int_equal(r.attempts, 5);
    assert_true(r.next_ms == d.next_ms && r.created_ms == d.created_ms && r.last_ms == d.last_ms);
    assert_int_equal(r.last_status, 503);
    assert_string_equal(r.last_error, "HTTP 503");
    assert_int_equal(r.body_len, strlen(body));
    assert_memory_equal(r.body, body, r.body_len);
    gw_delivery_clear(&r);
    jt_buf_clear(&b);
    assert_int_equal(gw_delivery_decode("{}", 2, &r), -1);
}

#define ALICE "jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh"
#define BOB "jsMwaJ7EA4y7QgdvQzaD2CqzQQN4v7vLFK"
#define ISSUER "jGa9J9TkqtBcUoHe2zqhVFFbgUVED6o9or"

static const char *const payment_json =
    "{\"tx\":{\"Account\":\"" ALICE "\",\"Destination\":\"" BOB "\",\"Amount\":\"7000000\","
    "\"Fee\":\"10000\",\"Flags\":0,\"Sequence\":3,\"TransactionType\":\"Payment\",\"hash\":\"AB\","
    "\"inLedger\":9,\"ledger_index\":9,\"date\":600000000},"
    "\"meta\":{\"TransactionIndex\":2,\"TransactionResult\":\"tesSUCCESS\","
    "\"delivered_amount\":\"6500000\",\"AffectedNodes\":["
    "{\"ModifiedNode\":{\"LedgerEntryType\":\"AccountRoot\",\"FinalFields\":{\"Account\":\"" ALICE
    "\",\"Balance\":\"1\"},\"PreviousFields\":{\"Balance\":\"2\"}}},"
    "{\"ModifiedNode\":{\"LedgerEntryType\":\"AccountRoot\",\"FinalFields\":{\"Account\":\"" BOB
    "\",\"Balance\":\"1\"}}},"
    "{\"CreatedNode\":{\"LedgerEntryType\":\"SkywellState\",\"NewFields\":{\"HighLimit\":{"
    "\"currency\":\"CNY\",\"issuer\":\"" ISSUER "\",\"value\":\"0\"},\"LowNode\":\"0\"}}}]}}";

static void tx_accounts_as_node(void **state)
{
    (void)state;
    jt_json_doc *d = parse(payment_json);
    const jt_json *root = jt_json_root(d);
    char acc[8][40];
    size_t n = gw_tx_accounts(jt_json_get(root, "tx"), jt_json_get(root, "meta"), acc, 8);
    assert_int_equal(n, 3);
    assert_string_equal(acc[0], ALICE); /* the sender first */
    assert_string_equal(acc[1], BOB);
    assert_string_equal(acc[2], ISSUER); /* a line's issuer */
    /* capped */
    assert_int_equal(gw_tx_accounts(jt_json_get(root, "tx"), jt_json_get(root, "meta"), acc, 1), 1);
    jt_json_doc_free(d);
}

static void event_shapes_and_ids(void **state)
{
    (void)state;
    char id[GW_EVENT_ID_MAX];
    assert_int_equal(gw_event_id(id, sizeof id, 9, 2, NULL), 0);
    assert_string_equal(id, "9:2");
    assert_int_equal(gw_event_id(id, sizeof id, 9, 2, BOB), 0);
    assert_string_equal(id, "9:2:" BOB);
    assert_int_equal(gw_event_id(id, 4, 9, 2, BOB), -1);

    jt_json_doc *d = parse(payment_json);
    const jt_json *root = jt_json_root(d);
    jt_buf b;
    jt_buf_init(&b);
    assert_int_equal(gw_event_tx(&b, BOB, jt_json_get(root, "tx"), jt_json_get(root, "meta"), 9,
                                 600000000), 0);
    jt_json_doc *e = parse_n((const char *)b.data, b.len);
    const jt_json *ev = jt_json_root(e);
    assert_string_equal(jt_json_string(jt_json_get(ev, "event")), "account");
    assert_string_equal(jt_json_string(jt_json_get(ev, "id")), "9:2:" BOB);
    assert_string_equal(jt_json_string(jt_json_get(ev, "type")), "received");
    assert_string_equal(jt_json_string(jt_json_get(ev, "counterparty")), ALICE);
    /* credited: what was delivered, not the Amount */
    assert_string_equal(jt_json_string(jt_json_get(jt_json_get(ev, "delivered_amount"), "value")),
                        "6.5");
    assert_string_equal(jt_json_string(jt_json_get(jt_json_get(ev, "amount"), "value")), "6.5");
    /* the transaction's own fields only: the node's additions differ
     * between ledger and account_tx */
    const jt_json *tx = jt_json_get(ev, "tx");
    assert_non_null(jt_json_get(tx, "Sequence"));
    assert_null(jt_json_get(tx, "inLedger"));
    assert_null(jt_json_get(tx, "date"));
    assert_null(jt_json_get(tx, "ledger_index"));
    jt_json_doc_free(e);

    /* the transactions stream: seen from the sender */
    b.len = 0;
    assert_int_equal(gw_event_tx(&b, NULL, jt_json_get(root, "tx"), jt_json_get(root, "meta"), 9,
                                 600000000), 0);
    e = parse_n((const char *)b.data, b.len);
    ev = jt_json_root(e);
    assert_string_equal(jt_json_string(jt_json_get(ev, "event")), "transaction");
    assert_string_equal(jt_json_string(jt_json_get(ev, "id")), "9:2");
    assert_string_equal(jt_json_string(jt_json_get(ev, "type")), "sent");
    assert_null(jt_json_get(ev, "account"));
    jt_json_doc_free(e);

    /* no TransactionIndex: no event */
    jt_json_doc *bad = parse("{\"TransactionResult\":\"tesSUCCESS\"}");
    assert_int_equal(gw_event_tx(&b, NULL, jt_json_get(root, "tx"), jt_json_root(bad), 9, 0), -1);
    jt_json_doc_free(bad);

    b.len = 0;
    assert_int_equal(gw_event_ledger(&b, 12, "FF", 600000001, 3), 0);
    e = parse_n((const char *)b.data, b.len);
    ev = jt_json_root(e);
    assert_string_equal(jt_json_string(jt_json_get(ev, "id")), "12");
    uint64_t n = 0;
    assert_true(jt_json_uint64(jt_json_get(ev, "txn_count"), false, &n) && n == 3);
    jt_json_doc_free(e);
    jt_buf_clear(&b);
    jt_json_doc_free(d);
}

static void settings_defaults_and_ranges(void **state)
{
    (void)state;
    char dir[] = "/tmp/jt-gw-ev-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/jt-gateway.conf", dir);
    char *text = gw_config_default_text("ws://127.0.0.1:5020", NULL, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "[webhooks]\n"));
    assert_non_null(strstr(text, "max_attempts = 12\n"));
    assert_non_null(strstr(text, "[events]\n"));
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fputs("[webhooks]\nbackoff_ms = 250\n", f);
    fclose(f);
    free(text);
    gw_config c;
    gw_config_init(&c);
    char err[512];
    assert_int_equal(gw_config_load(&c, path, err, sizeof err), 0);
    assert_int_equal(c.wh_max_attempts, 12);
    assert_int_equal(c.wh_backoff_ms, 250);
    assert_int_equal(c.wh_backoff_max_s, 600);
    assert_int_equal(c.ev_subs_per_conn, 16);
    f = fopen(path, "a");
    fputs("max_attempts = 0\n", f);
    fclose(f);
    assert_int_equal(gw_config_load(&c, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "max_attempts"));
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sign_matches_rfc4231),
        cmocka_unit_test(backoff_doubles_to_cap),
        cmocka_unit_test(url_checks),
        cmocka_unit_test(webhook_record_roundtrip),
        cmocka_unit_test(delivery_record_roundtrip),
        cmocka_unit_test(tx_accounts_as_node),
        cmocka_unit_test(event_shapes_and_ids),
        cmocka_unit_test(settings_defaults_and_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
