/*
 * test_gw_events.c — the logic of jt-gateway's events and webhooks: HMAC
 * signing, the retry schedule, webhook and delivery records, URL checks,
 * event ids and shapes, the accounts a transaction touches, sealed memos
 * in events (opened per reader, as history opens them, and opened again
 * from a stored event), and the [events]/[webhooks] settings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <jt/base58.h>
#include <jt/json.h>
#include <jt/keystore.h>
#include <jt/memo.h>

#include "config.h"
#include "events.h"
#include "hook.h"
#include "memo.h"
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
                                 600000000, NULL), 0);
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
                                 600000000, NULL), 0);
    e = parse_n((const char *)b.data, b.len);
    ev = jt_json_root(e);
    assert_string_equal(jt_json_string(jt_json_get(ev, "event")), "transaction");
    assert_string_equal(jt_json_string(jt_json_get(ev, "id")), "9:2");
    assert_string_equal(jt_json_string(jt_json_get(ev, "type")), "sent");
    assert_null(jt_json_get(ev, "account"));
    jt_json_doc_free(e);

    /* no TransactionIndex: no event */
    jt_json_doc *bad = parse("{\"TransactionResult\":\"tesSUCCESS\"}");
    assert_int_equal(gw_event_tx(&b, NULL, jt_json_get(root, "tx"), jt_json_root(bad), 9, 0, NULL),
                     -1);
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

/* MemoData of `text` sealed to `to`'s key as `role`, from `from`, in hex. */
static void seal_hex(jt_keystore *ks, const char *to, jt_memo_role role, const char *from,
                     const char *text, char *hex, size_t cap)
{
    jt_secret_key *sk;
    jt_memo_key *k;
    jt_errinfo ei;
    assert_int_equal(jt_keystore_get_key(ks, to, &sk, &ei), JT_OK);
    assert_int_equal(jt_memo_key_new(sk, &k), JT_OK);
    jt_secret_key_free(sk);
    jt_account_id sender;
    assert_int_equal(jt_address_decode(from, &sender, &ei), JT_OK);
    jt_memo_parts in = {(const uint8_t *)"invoice", 7, NULL, 0, (const uint8_t *)text, strlen(text)};
    uint8_t box[256];
    size_t len;
    assert_int_equal(jt_memo_seal(jt_memo_key_public(k), role, &sender, &in, box, sizeof box, &len),
                     JT_OK);
    assert_int_equal(jt_hex_encode(box, len, hex, cap), JT_OK);
    jt_memo_key_free(k);
}

/* Does the text in b hold needle? */
static bool holds(const jt_buf *b, const char *needle)
{
    char *t = calloc(1, b->len + 1);
    assert_non_null(t);
    memcpy(t, b->data, b->len);
    bool found = strstr(t, needle) != NULL;
    free(t);
    return found;
}

/* The memos of the first event in b, parsed: memos[i][member]. */
static const char *memo_member(const jt_buf *b, size_t i, const char *member, jt_json_doc **d)
{
    *d = parse_n((const char *)b->data, b->len);
    const jt_json *memos = jt_json_get(jt_json_root(*d), "memos");
    assert_non_null(memos);
    assert_true(memos->kind == JT_JSON_ARRAY && i < memos->u.arr.n);
    const jt_json *v = jt_json_get(memos->u.arr.items[i], member);
    return !v ? NULL : v->kind == JT_JSON_BOOL ? (v->u.b ? "true" : "false") : jt_json_string(v);
}

static void event_memos_as_history(void **state)
{
    (void)state;
    char dir[] = "/tmp/jt-gw-evm-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/keystore.json", dir);
    jt_keystore_params kp;
    jt_keystore_params_preset(JT_KEYSTORE_COST_MIN, &kp);
    jt_keystore *ks;
    jt_errinfo ei;
    assert_int_equal(jt_keystore_create(path, "passphrase", &kp, &ks, &ei), JT_OK);
    jt_keystore_entry a, b;
    assert_int_equal(jt_keystore_generate(ks, JT_KEY_SECP256K1, "a", &a, &ei), JT_OK);
    assert_int_equal(jt_keystore_generate(ks, JT_KEY_ED25519, "b", &b, &ei), JT_OK);

    /* a pays b: one sealed memo (the recipient's copy, then the sender's)
     * and a plain one, as the ledger holds them */
    char to_b[600], to_a[600];
    seal_hex(ks, b.address, JT_MEMO_FOR_RECIPIENT, a.address, "invoice 42", to_b, sizeof to_b);
    seal_hex(ks, a.address, JT_MEMO_FOR_SENDER, a.address, "invoice 42", to_a, sizeof to_a);
    char tx[4096];
    snprintf(tx, sizeof tx,
             "{\"tx\":{\"Account\":\"%s\",\"Destination\":\"%s\",\"Amount\":\"1000000\","
             "\"Fee\":\"10000\",\"Sequence\":4,\"TransactionType\":\"Payment\",\"hash\":\"CD\","
             "\"Memos\":[{\"Memo\":{\"MemoType\":\"6A742F7365616C6564\",\"MemoData\":\"%s\"}},"
             "{\"Memo\":{\"MemoType\":\"6A742F7365616C6564\",\"MemoData\":\"%s\"}},"
             "{\"Memo\":{\"MemoData\":\"706C61696E\"}}],"
             "\"inLedger\":9,\"ledger_index\":9,\"date\":600000000},"
             "\"meta\":{\"TransactionIndex\":1,\"TransactionResult\":\"tesSUCCESS\","
             "\"delivered_amount\":\"1000000\",\"AffectedNodes\":[]}}",
             a.address, b.address, to_b, to_a);
    jt_json_doc *d = parse(tx);
    const jt_json *root = jt_json_root(d);
    const jt_json *t = jt_json_get(root, "tx"), *meta = jt_json_get(root, "meta");
    gw_memos *m = gw_memos_new(ks, 16);
    assert_non_null(m);

    /* No reader: the memo sealed, the plain one as text (history's shape). */
    jt_buf sealed, opened, again;
    jt_buf_init(&sealed);
    jt_buf_init(&opened);
    jt_buf_init(&again);
    jt_json_doc *e;
    assert_int_equal(gw_event_tx(&sealed, b.address, t, meta, 9, 600000000, NULL), 0);
    assert_string_equal(memo_member(&sealed, 0, "sealed", &e), "true");
    jt_json_doc_free(e);
    assert_string_equal(memo_member(&sealed, 0, "encrypted", &e), "true");
    jt_json_doc_free(e);
    assert_null(memo_member(&sealed, 0, "data", &e));
    jt_json_doc_free(e);
    assert_string_equal(memo_member(&sealed, 1, "data", &e), "plain");
    jt_json_doc_free(e);
    assert_false(holds(&sealed, "invoice 42"));

    /* The operator's reader: opened, from the recipient's copy. */
    gw_memo_reader all = gw_memo_reader_all(m);
    assert_int_equal(gw_event_tx(&opened, b.address, t, meta, 9, 600000000, &all), 0);
    assert_string_equal(memo_member(&opened, 0, "data", &e), "invoice 42");
    jt_json_doc_free(e);
    assert_string_equal(memo_member(&opened, 0, "type", &e), "invoice");
    jt_json_doc_free(e);
    assert_null(memo_member(&opened, 0, "sealed", &e));
    jt_json_doc_free(e);

    /* An API key: opened for a key that may act for either party, sealed
     * for one that may act for neither (the rule history follows). */
    char allowed[1][36];
    gw_apikey key = {.scopes = GW_SCOPE_READ, .n_accounts = 1, .accounts = allowed};
    gw_memo_reader kr = gw_memo_reader_key(m, &key);
    const char *who[] = {a.address, b.address, ALICE};
    for (size_t i = 0; i < 3; i++) {
        snprintf(allowed[0], sizeof allowed[0], "%s", who[i]);
        again.len = 0;
        assert_int_equal(gw_event_tx(&again, NULL, t, meta, 9, 600000000, &kr), 0);
        if (i < 2)
            assert_true(holds(&again, "invoice 42"));
        else
            assert_false(holds(&again, "invoice 42"));
    }

    /* A stored (sealed) event opened again is byte for byte the event
     * written for that reader; for no reader, the stored text itself. */
    again.len = 0;
    assert_int_equal(gw_event_reopen(&again, (const char *)sealed.data, sealed.len, &all), 0);
    assert_int_equal(again.len, opened.len);
    assert_memory_equal(again.data, opened.data, opened.len);
    again.len = 0;
    assert_int_equal(gw_event_reopen(&again, (const char *)sealed.data, sealed.len, NULL), 0);
    assert_int_equal(again.len, sealed.len);
    assert_memory_equal(again.data, sealed.data, sealed.len);
    /* nothing sealed: the text stands (1, out untouched); not an event: -1 */
    again.len = 0;
    assert_int_equal(gw_event_reopen(&again, (const char *)opened.data, opened.len, &all), 1);
    assert_int_equal(again.len, 0);
    const char *odd = "{\"event\":\"ledger\",\"memos\":[{\"sealed\":true}]}";
    assert_int_equal(gw_event_reopen(&again, odd, strlen(odd), &all), -1);
    assert_int_equal(gw_event_reopen(&again, "\"sealed\":true", 13, &all), -1);

    /* an account removed from the keystore opens nothing more */
    assert_int_equal(jt_keystore_remove(ks, b.address, &ei), JT_OK);
    assert_int_equal(jt_keystore_remove(ks, a.address, &ei), JT_OK);
    again.len = 0;
    assert_int_equal(gw_event_reopen(&again, (const char *)sealed.data, sealed.len, &all), 0);
    assert_false(holds(&again, "invoice 42"));

    jt_buf_clear(&sealed);
    jt_buf_clear(&opened);
    jt_buf_clear(&again);
    gw_memos_free(m);
    jt_keystore_free(ks);
    jt_json_doc_free(d);
    unlink(path);
    rmdir(dir);
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
        cmocka_unit_test(event_memos_as_history),
        cmocka_unit_test(settings_defaults_and_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
