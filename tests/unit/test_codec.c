/* test_codec.c — binary codec and JSON form against transactions.json, plus
 * hostile-input rejection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jt/jt.h"
#include "testutil.h"

static yajl_val txs_doc;

static int setup(void **state)
{
    (void)state;
    txs_doc = tu_load_vectors("transactions.json");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    yajl_tree_free(txs_doc);
    return 0;
}

/* yajl tree → JSON text (for feeding vector JSON to the codec). */
static void gen_json(yajl_val v, jt_jw *w)
{
    if (YAJL_IS_OBJECT(v)) {
        jt_jw_object_begin(w);
        for (size_t i = 0; i < v->u.object.len; i++) {
            jt_jw_key(w, v->u.object.keys[i]);
            gen_json(v->u.object.values[i], w);
        }
        jt_jw_object_end(w);
    } else if (YAJL_IS_ARRAY(v)) {
        jt_jw_array_begin(w);
        for (size_t i = 0; i < v->u.array.len; i++)
            gen_json(v->u.array.values[i], w);
        jt_jw_array_end(w);
    } else if (YAJL_IS_STRING(v)) {
        jt_jw_string(w, YAJL_GET_STRING(v));
    } else if (YAJL_IS_NUMBER(v)) {
        jt_jw_raw(w, YAJL_GET_NUMBER(v), strlen(YAJL_GET_NUMBER(v)));
    } else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
        jt_jw_bool(w, YAJL_IS_TRUE(v));
    } else {
        jt_jw_null(w);
    }
}

static char *to_json_text(yajl_val v)
{
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    gen_json(v, &w);
    assert_int_equal(jt_jw_finish(&w), JT_OK);
    return (char *)b.data;
}

static const char *bin_hex(const jt_obj *o, unsigned flags)
{
    jt_buf b;
    jt_buf_init(&b);
    assert_int_equal(jt_obj_to_binary(o, flags, &b), JT_OK);
    const char *h = tu_hex(b.data, b.len);
    jt_buf_clear(&b);
    return h;
}

static yajl_val txs(void)
{
    return tu_get(txs_doc, "transactions");
}

/* tx_json → signing bytes equal unsigned_blob; signed with the secret the
 * blob and hash equal the libraries' byte for byte. */
static void vectors_encode_and_sign(void **state)
{
    (void)state;
    yajl_val list = txs();
    assert_true(YAJL_IS_ARRAY(list));
    assert_true(list->u.array.len >= 21);
    for (size_t i = 0; i < list->u.array.len; i++) {
        yajl_val t = list->u.array.values[i];
        const char *name = tu_str(t, "name");
        char *json = to_json_text(tu_get(t, "tx_json"));
        jt_obj *tx = NULL;
        jt_errinfo ei;
        jt_errinfo_clear(&ei);
        if (jt_obj_from_json(json, strlen(json), &tx, &ei) != JT_OK) {
            print_error("%s: %s\n", name, ei.msg);
            fail();
        }
        if (strcmp(name, "payment_native_large") == 0) {
            /* PROTOCOL.md §7.7: jingtum-lib turns drops into SWT and back
             * through a double and signs 9000000000123455 drops for the
             * 9000000000123456 it was given. libjt encodes the exact value;
             * the rest of the transaction must still match byte for byte,
             * so take the library's (wrong) amount from its blob. */
            jt_amount mine, theirs;
            assert_int_equal(jt_obj_get_amount(tx, "Amount", &mine), JT_OK);
            assert_int_equal(mine.mantissa, 9000000000123456ULL);
            jt_obj *lib = NULL;
            const char *b = tu_str(t, "tx_blob");
            assert_int_equal(jt_obj_from_hex(b, strlen(b), &lib, NULL), JT_OK);
            assert_int_equal(jt_obj_get_amount(lib, "Amount", &theirs), JT_OK);
            assert_int_equal(theirs.mantissa, 9000000000123455ULL);
            assert_int_equal(jt_obj_set_amount(tx, "Amount", &theirs), JT_OK);
            jt_obj_free(lib);
        }
        jt_keypair kp;
        assert_int_equal(jt_keypair_from_secret(tu_str(t, "signer_secret"), &kp, NULL), JT_OK);
        assert_int_equal(jt_tx_sign(tx, &kp, &ei), JT_OK);
        const char *unsigned_hex = bin_hex(tx, JT_SER_SIGNING);
        if (strcmp(unsigned_hex, tu_str(t, "unsigned_blob")) != 0) {
            print_error("%s unsigned:\n got %s\nwant %s\n", name, unsigned_hex,
                        tu_str(t, "unsigned_blob"));
            fail();
        }
        const char *blob_hex = bin_hex(tx, 0);
        if (strcmp(blob_hex, tu_str(t, "tx_blob")) != 0) {
            print_error("%s blob:\n got %s\nwant %s\n", name, blob_hex, tu_str(t, "tx_blob"));
            fail();
        }
        uint8_t id[32];
        assert_int_equal(jt_tx_id(tx, id), JT_OK);
        assert_string_equal(tu_hex(id, 32), tu_str(t, "hash"));
        if (tu_str(t, "signing_hash")) {
            jt_buf sd;
            jt_buf_init(&sd);
            assert_int_equal(jt_tx_signing_data(tx, &sd), JT_OK);
            uint8_t sh[32];
            jt_sha512half(sd.data, sd.len, sh);
            assert_string_equal(tu_hex(sh, 32), tu_str(t, "signing_hash"));
            jt_buf_clear(&sd);
        }
        assert_int_equal(jt_tx_verify(tx, NULL), JT_OK);
        jt_keypair_clear(&kp);
        jt_obj_free(tx);
        free(json);
    }
}

/* tx_blob → object → same bytes; → JSON → object → same bytes; the JSON
 * agrees with ripple-binary-codec's decoding where it has one. */
static void vectors_decode_round_trip(void **state)
{
    (void)state;
    yajl_val list = txs();
    for (size_t i = 0; i < list->u.array.len; i++) {
        yajl_val t = list->u.array.values[i];
        const char *name = tu_str(t, "name");
        const char *blob = tu_str(t, "tx_blob");
        jt_obj *tx = NULL;
        jt_errinfo ei;
        jt_errinfo_clear(&ei);
        if (jt_obj_from_hex(blob, strlen(blob), &tx, &ei)) {
            print_error("%s: %s\n", name, ei.msg);
            fail();
        }
        assert_string_equal(bin_hex(tx, 0), blob);
        assert_int_equal(jt_tx_verify(tx, NULL), JT_OK);

        jt_buf js;
        jt_buf_init(&js);
        assert_int_equal(jt_obj_to_json(tx, &js), JT_OK);
        jt_obj *back = NULL;
        if (jt_obj_from_json((char *)js.data, js.len, &back, &ei)) {
            print_error("%s: re-reading %s: %s\n", name, (char *)js.data, ei.msg);
            fail();
        }
        assert_string_equal(bin_hex(back, 0), blob);

        /* Spot checks of skywelld's JSON form against ripple-binary-codec. */
        yajl_val rbc = tu_get(tu_get(t, "ripple_binary_codec"), "decoded_by_rbc");
        if (rbc) {
            jt_json_doc *doc = NULL;
            assert_int_equal(jt_json_parse((char *)js.data, js.len, NULL, &doc, NULL), JT_OK);
            const jt_json *root = jt_json_root(doc);
            assert_string_equal(jt_json_string(jt_json_get(root, "Fee")), tu_str(rbc, "Fee"));
            assert_string_equal(jt_json_string(jt_json_get(root, "TransactionType")),
                                tu_str(rbc, "TransactionType"));
            assert_string_equal(jt_json_string(jt_json_get(root, "TxnSignature")),
                                tu_str(rbc, "TxnSignature"));
            if (tu_str(rbc, "Amount"))
                assert_string_equal(jt_json_string(jt_json_get(root, "Amount")),
                                    tu_str(rbc, "Amount"));
            jt_json_doc_free(doc);
        }
        jt_buf_clear(&js);
        jt_obj_free(back);
        jt_obj_free(tx);
    }
}

static jt_err decode_hex(const char *hex, jt_errinfo *ei)
{
    jt_obj *o = NULL;
    jt_errinfo_clear(ei);
    jt_err e = jt_obj_from_hex(hex, strlen(hex), &o, ei);
    jt_obj_free(o);
    return e;
}

/* Each malformed input fails with its own code, and the message names the
 * field or offset. */
static void decoder_rejects_hostile_input(void **state)
{
    (void)state;
    jt_errinfo ei;
    /* Valid: TransactionType Payment, Flags 0, Sequence 1. */
    assert_int_equal(decode_hex("1200002200000000240000000 1", &ei), JT_EHEX);
    assert_int_equal(decode_hex("120000220000000024000000", &ei), JT_ETRUNCATED);
    assert_non_null(strstr(ei.msg, "Sequence"));
    /* Out of order: Sequence before Flags. */
    assert_int_equal(decode_hex("1200002400000001220000000", &ei), JT_EHEX);
    assert_int_equal(decode_hex("12000024000000012200000000", &ei), JT_EFIELD_ORDER);
    assert_string_equal(ei.field, "Flags");
    /* Duplicate. */
    assert_int_equal(decode_hex("12000022000000002200000000", &ei), JT_EFIELD_DUP);
    /* Unknown field code (type 2, field 1 is not defined). */
    assert_int_equal(decode_hex("2100000000", &ei), JT_EFIELD_CODE);
    assert_int_equal(ei.offset, 0);
    /* Zero type code written in the long form with a small value. */
    assert_int_equal(decode_hex("000100", &ei), JT_EFIELD_CODE);
    /* End markers at the top level. */
    assert_int_equal(decode_hex("E1", &ei), JT_EMARKER);
    assert_int_equal(decode_hex("F1", &ei), JT_EMARKER);
    /* Nested object without its end marker. */
    assert_int_equal(decode_hex("E7", &ei), JT_ETRUNCATED);
    /* VL: 0xFF prefix, and a length beyond the input. */
    assert_int_equal(decode_hex("73FF", &ei), JT_EVL);
    assert_int_equal(decode_hex("7305AABB", &ei), JT_ETRUNCATED);
    /* AccountID must be 20 bytes. */
    assert_int_equal(decode_hex("8113"
                                "00000000000000000000000000000000000000",
                                &ei),
                     JT_EVL);
    /* Non-canonical amounts: native negative zero; issued mantissa too small. */
    assert_int_equal(decode_hex("610000000000000000", &ei) != JT_OK, 1);
    assert_non_null(strstr(ei.msg, "Amount"));
    /* Paths: empty path, and a bad step type. */
    assert_int_equal(decode_hex("011200", &ei), JT_EPATH);
    assert_int_equal(decode_hex("011202", &ei), JT_EPATH);
    /* Array element that is not an object field. */
    assert_int_equal(decode_hex("F9"
                                "2200000000"
                                "F1",
                                &ei),
                     JT_EFIELD_CODE);
    /* Trailing byte after a complete top-level object is an unknown header. */
    assert_int_equal(decode_hex("1200000F", &ei) != JT_OK, 1);
    /* An empty blob as the last bytes of the input (found by fuzzing: the
     * decoder once copied one byte past the end). */
    {
        const uint8_t tail[] = {0x22, 0, 0, 0x12, 0x3b, 0x75, 0x00};
        uint8_t *exact = malloc(sizeof tail);
        memcpy(exact, tail, sizeof tail);
        jt_obj *o = NULL;
        assert_int_equal(jt_obj_from_binary(exact, sizeof tail, &o, &ei), JT_OK);
        const uint8_t *p = NULL;
        size_t n = 1;
        assert_int_equal(jt_obj_get_bytes(o, "Generator", &p, &n), JT_OK);
        assert_int_equal(n, 0);
        jt_obj_free(o);
        free(exact);
    }
    /* Vector256 length not a multiple of 32. */
    assert_int_equal(decode_hex("011301AA", &ei), JT_EVL);
}

/* Nesting bombs stop at the depth limit, not the stack. */
static void decoder_depth_limit(void **state)
{
    (void)state;
    /* FinalFields objects nested 200 deep (E7 … E7 then end markers). */
    size_t depth = 200;
    uint8_t *p = malloc(2 * depth);
    memset(p, 0xE7, depth);
    memset(p + depth, 0xE1, depth);
    jt_obj *o = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    assert_int_equal(jt_obj_from_binary(p, 2 * depth, &o, &ei), JT_EDEPTH);
    assert_null(o);
    /* Arrays of arrays: AffectedNodes (F8) holding CreatedNode (E3) holding
     * AffectedNodes ... */
    for (size_t i = 0; i < depth; i++)
        p[i] = (i % 2) ? 0xE3 : 0xF8;
    assert_int_equal(jt_obj_from_binary(p, depth, &o, &ei), JT_EDEPTH);
    /* Within the limit it decodes: E7 E7 E1 E1. */
    const uint8_t ok[] = {0xE7, 0xE7, 0xE1, 0xE1};
    assert_int_equal(jt_obj_from_binary(ok, sizeof ok, &o, &ei), JT_OK);
    jt_obj_free(o);
    free(p);
}

static jt_err from_json(const char *json, jt_errinfo *ei)
{
    jt_obj *o = NULL;
    jt_errinfo_clear(ei);
    jt_err e = jt_obj_from_json(json, strlen(json), &o, ei);
    jt_obj_free(o);
    return e;
}

static void json_errors_name_the_field(void **state)
{
    (void)state;
    jt_errinfo ei;
    assert_int_equal(from_json("{\"Sequence\":1,\"Bogus\":2}", &ei), JT_EFIELD_UNKNOWN);
    assert_non_null(strstr(ei.msg, "Bogus"));
    /* Known response keys are skipped; other lower-case keys are not. */
    assert_int_equal(from_json("{\"Sequence\":1,\"hash\":\"AB\",\"inLedger\":3,"
                               "\"parsed_memo_type\":\"x\"}",
                               &ei),
                     JT_OK);
    assert_int_equal(from_json("{\"sequence\":1}", &ei), JT_EFIELD_UNKNOWN);
    assert_int_equal(from_json("{\"Sequence\":\"x\"}", &ei), JT_EFIELD_TYPE);
    assert_string_equal(ei.field, "Sequence");
    assert_int_equal(from_json("{\"Sequence\":4294967296}", &ei), JT_EFIELD_TYPE);
    assert_int_equal(from_json("{\"TransactionType\":\"Teleport\"}", &ei), JT_ETXTYPE);
    assert_int_equal(from_json("{\"Memos\":[{\"Memo\":{\"MemoData\":\"ABC\"}}]}", &ei), JT_EHEX);
    assert_string_equal(ei.field, "Memos[0].Memo.MemoData");
    assert_int_equal(from_json("{\"Memos\":[{\"Memo\":{\"MemoData\":\"zz\"}}]}", &ei), JT_EHEX);
    assert_int_equal(from_json("{\"Memos\":[{\"Nope\":{}}]}", &ei), JT_EFIELD_UNKNOWN);
    assert_int_equal(from_json("{\"Account\":\"rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh\"}", &ei),
                     JT_EBASE58_VERSION);
    assert_string_equal(ei.field, "Account");
    assert_int_equal(from_json("{\"Account\":\"0Hb9CJAWyB4jr91VRWn96DkukG4bwdtyTh\"}", &ei),
                     JT_EBASE58_CHAR);
    assert_int_equal(from_json("{\"Amount\":\"1.5\"}", &ei) != JT_OK, 1);
    assert_string_equal(ei.field, "Amount");
    assert_int_equal(from_json("{\"Amount\":{\"value\":\"1\",\"currency\":\"SWT\","
                               "\"issuer\":\"\"}}",
                               &ei),
                     JT_EAMOUNT);
    assert_int_equal(from_json("{\"Sequence\":1,\"Sequence\":2}", &ei), JT_EFIELD_DUP);
    assert_int_equal(from_json("[1]", &ei), JT_EJSON);
    assert_int_equal(from_json("{\"Sequence\":1", &ei), JT_EJSON);
    assert_int_equal(from_json("{\"LedgerHash\":\"00\"}", &ei), JT_EFIELD_TYPE);
    assert_int_equal(from_json("{\"IndexNext\":\"10000000000000000\"}", &ei), JT_EFIELD_TYPE);
}

static void json_forms(void **state)
{
    (void)state;
    const char *in = "{\"TransactionType\":\"OfferCreate\",\"IndexNext\":\"1000\","
                     "\"BookNode\":16,\"TakerGets\":\"-5\",\"TransactionResult\":\"tecPATH_DRY\","
                     "\"Indexes\":[\""
                     "0000000000000000000000000000000000000000000000000000000000000001\"],"
                     "\"Paths\":[[{\"currency\":\"CNY\",\"issuer\":"
                     "\"jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh\",\"type\":48,\"type_hex\":\"x\"}],"
                     "[{\"account\":\"jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh\"}]]}";
    jt_obj *o = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    if (jt_obj_from_json(in, strlen(in), &o, &ei)) {
        print_error("%s\n", ei.msg);
        fail();
    }
    uint64_t u = 0;
    assert_int_equal(jt_obj_get_uint(o, "IndexNext", &u), JT_OK);
    assert_int_equal(u, 0x1000); /* the hex-string trap */
    assert_int_equal(jt_obj_get_uint(o, "BookNode", &u), JT_OK);
    assert_int_equal(u, 16);
    assert_int_equal(jt_obj_get_uint(o, "TransactionResult", &u), JT_OK);
    assert_int_equal(u, 128);
    jt_buf b;
    jt_buf_init(&b);
    assert_int_equal(jt_obj_to_json(o, &b), JT_OK);
    const char *out = (const char *)b.data;
    assert_non_null(strstr(out, "\"TransactionType\":\"OfferCreate\""));
    assert_non_null(strstr(out, "\"IndexNext\":\"0000000000001000\""));
    assert_non_null(strstr(out, "\"TakerGets\":\"-5\""));
    assert_non_null(strstr(out, "\"TransactionResult\":\"tecPATH_DRY\""));
    assert_non_null(strstr(out, "\"type\":48,\"type_hex\":\"0000000000000030\""));
    /* Paths bytes: 30 currency issuer FF 01 account 00. */
    jt_buf bin;
    jt_buf_init(&bin);
    assert_int_equal(jt_obj_to_binary(o, 0, &bin), JT_OK);
    jt_obj *back = NULL;
    assert_int_equal(jt_obj_from_binary(bin.data, bin.len, &back, NULL), JT_OK);
    jt_buf b2;
    jt_buf_init(&b2);
    assert_int_equal(jt_obj_to_json(back, &b2), JT_OK);
    assert_string_equal((char *)b2.data, out);
    jt_buf_clear(&b);
    jt_buf_clear(&b2);
    jt_buf_clear(&bin);
    jt_obj_free(o);
    jt_obj_free(back);
}

/* The JSON writer keeps UTF-8 and replaces what is not UTF-8 (a character
 * cut in half, stray bytes) with U+FFFD, so its output always parses. */
static void json_writer_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t n;
        const char *out;
    } cases[] = {
        {"a\xc3\xa9" "b", 4, "\"a\xc3\xa9" "b\""},                 /* é kept */
        {"\xe4\xba\x95\xe9\x80\x9a", 6, "\"\xe4\xba\x95\xe9\x80\x9a\""}, /* 井通 kept */
        {"x\xe4\xba", 3, "\"x\\ufffd\\ufffd\""},            /* cut short */
        {"\x80q\xff", 3, "\"\\ufffdq\\ufffd\""},            /* stray bytes */
        {"\xf0\x9f\x98\x80\"", 5, "\"\xf0\x9f\x98\x80\\\"\""}, /* 4 bytes, then a quote */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jt_buf b;
        jt_jw w;
        jt_buf_init(&b);
        jt_jw_init(&w, &b);
        jt_jw_string_n(&w, cases[i].in, cases[i].n);
        assert_int_equal(jt_jw_finish(&w), JT_OK);
        assert_int_equal(b.len, strlen(cases[i].out));
        assert_memory_equal(b.data, cases[i].out, b.len);
        jt_json_doc *doc = NULL;
        jt_errinfo ei;
        assert_int_equal(jt_json_parse((const char *)b.data, b.len, NULL, &doc, &ei), JT_OK);
        jt_json_doc_free(doc);
        jt_buf_clear(&b);
    }
}

/* Access by field handle gives what access by name gives; the in-place
 * builders serialize exactly like set_object/array_append of a copy. */
static void field_handles(void **state)
{
    (void)state;
    const jt_field *seq = jt_field_by_name("Sequence"), *amt = jt_field_by_name("Amount"),
                   *acct = jt_field_by_name("Account"), *pk = jt_field_by_name("SigningPubKey");
    jt_obj *o = jt_obj_new();
    assert_non_null(o);
    assert_int_equal(jt_obj_set_uint_f(o, seq, 7), JT_OK);
    uint64_t u = 0;
    assert_int_equal(jt_obj_get_uint(o, "Sequence", &u), JT_OK);
    assert_int_equal(u, 7);
    assert_true(jt_obj_has_f(o, seq));
    assert_false(jt_obj_has_f(o, amt));
    assert_false(jt_obj_has_f(o, NULL));
    jt_amount a = {.native = true, .mantissa = 25};
    assert_int_equal(jt_obj_set_amount_f(o, amt, &a), JT_OK);
    jt_amount back;
    assert_int_equal(jt_obj_get_amount_f(o, amt, &back), JT_OK);
    assert_true(back.native && back.mantissa == 25);
    jt_account_id id, id2;
    memset(id.bytes, 0x5A, 20);
    assert_int_equal(jt_obj_set_account_f(o, acct, &id), JT_OK);
    assert_int_equal(jt_obj_get_account(o, "Account", &id2), JT_OK);
    assert_memory_equal(id.bytes, id2.bytes, 20);
    uint8_t key[33] = {2};
    const uint8_t *p;
    size_t n;
    assert_int_equal(jt_obj_set_bytes_f(o, pk, key, sizeof key), JT_OK);
    assert_int_equal(jt_obj_get_bytes_f(o, pk, &p, &n), JT_OK);
    assert_int_equal(n, 33);
    /* Wrong type, unknown (NULL) handle, missing field. */
    assert_int_equal(jt_obj_get_uint_f(o, amt, &u), JT_EFIELD_TYPE);
    assert_int_equal(jt_obj_set_amount_f(o, seq, &a), JT_EFIELD_TYPE);
    assert_int_equal(jt_obj_get_uint_f(o, NULL, &u), JT_EFIELD_UNKNOWN);
    assert_int_equal(jt_obj_get_uint_f(o, jt_field_by_name("Flags"), &u), JT_EFIELD_MISSING);
    assert_null(jt_obj_object_add_f(o, seq));
    assert_null(jt_obj_array_add_f(o, jt_field_by_name("Memos"), seq));

    /* A memo built in place against one built apart and copied in. */
    jt_obj *copy = jt_obj_clone(o);
    assert_non_null(copy);
    const jt_field *memos = jt_field_by_name("Memos"), *memo = jt_field_by_name("Memo"),
                   *data = jt_field_by_name("MemoData");
    jt_obj *m = jt_obj_array_add_f(o, memos, memo);
    assert_non_null(m);
    assert_int_equal(jt_obj_set_bytes_f(m, data, key, 4), JT_OK);
    jt_obj *apart = jt_obj_new();
    assert_non_null(apart);
    assert_int_equal(jt_obj_set_bytes_f(apart, data, key, 4), JT_OK);
    assert_int_equal(jt_obj_array_append_f(copy, memos, memo, apart), JT_OK);
    jt_obj_free(apart);
    jt_buf b1, b2;
    jt_buf_init(&b1);
    jt_buf_init(&b2);
    assert_int_equal(jt_obj_to_binary(o, 0, &b1), JT_OK);
    assert_int_equal(jt_obj_to_binary(copy, 0, &b2), JT_OK);
    assert_int_equal(b1.len, b2.len);
    assert_memory_equal(b1.data, b2.data, b1.len);
    assert_int_equal(jt_obj_array_len(o, "Memos"), 1);
    jt_buf_clear(&b1);
    jt_buf_clear(&b2);
    jt_obj_free(copy);
    jt_obj_free(o);
}

static void field_table(void **state)
{
    (void)state;
    yajl_val defs = tu_load_vectors("definitions_diff.json");
    yajl_val fields = tu_get(defs, "fields");
    assert_int_equal(jt_field_count(), fields->u.array.len);
    for (size_t i = 0; i < fields->u.array.len; i++) {
        yajl_val f = fields->u.array.values[i];
        const jt_field *jf = jt_field_by_name(tu_str(f, "name"));
        assert_non_null(jf);
        assert_int_equal(jf->type, YAJL_GET_INTEGER(tu_get(f, "type_code")));
        assert_int_equal(jf->code, YAJL_GET_INTEGER(tu_get(f, "field_code")));
        assert_ptr_equal(jt_field_by_code(jf->type, jf->code), jf);
    }
    /* The codes most easily copied wrongly from rippled. */
    assert_int_equal(jt_field_by_name("SignerQuorum")->code, 38);
    assert_int_equal(jt_field_by_name("Signers")->type, 15);
    assert_int_equal(jt_field_by_name("Signers")->code, 12);
    assert_true(jt_field_by_name("Signers")->flags & JT_FIELD_NOT_SIGNING);
    assert_true(jt_field_by_name("TxnSignature")->flags & JT_FIELD_NOT_SIGNING);
    assert_false(jt_field_by_name("SigningPubKey")->flags & JT_FIELD_NOT_SIGNING);
    yajl_val tt = tu_get(defs, "transaction_types");
    for (size_t i = 0; i < tt->u.array.len; i++) {
        yajl_val t = tt->u.array.values[i];
        assert_int_equal(jt_tx_type_by_name(tu_str(t, "name")),
                         YAJL_GET_INTEGER(tu_get(t, "code")));
    }
    assert_string_equal(jt_tx_type_name(207), "SignerListSet");
    assert_string_equal(jt_ledger_type_name(114), "SkywellState");
    assert_int_equal(jt_ledger_type_by_name("TrustState"), 116);
    yajl_tree_free(defs);

    yajl_val ters = tu_load_vectors("ter_codes.json");
    for (size_t i = 0; i < ters->u.array.len; i++) {
        yajl_val t = ters->u.array.values[i];
        const jt_ter *jt = jt_ter_by_token(tu_str(t, "token"));
        assert_non_null(jt);
        assert_int_equal(jt->code, YAJL_GET_INTEGER(tu_get(t, "code")));
    }
    assert_string_equal(jt_ter_by_code(0)->token, "tesSUCCESS");
    yajl_tree_free(ters);
}

/* Building a transaction from C, signing, multi-signing. */
static void build_sign_verify(void **state)
{
    (void)state;
    jt_seed seed;
    jt_keypair kp, k2, k3;
    jt_seed_from_passphrase("masterpassphrase", JT_KEY_SECP256K1, &seed);
    assert_int_equal(jt_keypair_from_seed(&seed, &kp), JT_OK);
    jt_account_id src, dst;
    assert_int_equal(jt_account_id_from_pubkey(kp.pub, 33, &src), JT_OK);
    assert_int_equal(jt_address_decode("jnQJ6M9wMtNDSWyk1wqAYa2CXdmDZ5h5Xb", &dst, NULL), JT_OK);
    jt_amount amt, fee;
    assert_int_equal(jt_amount_from_drops(&amt, "1000000", 0, NULL), JT_OK);
    assert_int_equal(jt_amount_from_drops(&fee, "10000", 0, NULL), JT_OK);

    jt_obj *tx = jt_obj_new();
    assert_int_equal(jt_obj_set_account(tx, "Destination", &dst), JT_OK);
    assert_int_equal(jt_obj_set_uint(tx, "Sequence", 1), JT_OK);
    assert_int_equal(jt_obj_set_account(tx, "Account", &src), JT_OK);
    assert_int_equal(jt_obj_set_amount(tx, "Fee", &fee), JT_OK);
    assert_int_equal(jt_obj_set_amount(tx, "Amount", &amt), JT_OK);
    assert_int_equal(jt_obj_set_uint(tx, "TransactionType", JT_TX_PAYMENT), JT_OK);
    assert_int_equal(jt_obj_set_uint(tx, "Flags", 0), JT_OK);
    assert_int_equal(jt_obj_set_uint(tx, "TransactionType", 1u << 16), JT_EFIELD_TYPE);
    assert_int_equal(jt_obj_set_uint(tx, "Nope", 1), JT_EFIELD_UNKNOWN);
    assert_int_equal(jt_obj_set_amount(tx, "Sequence", &fee), JT_EFIELD_TYPE);
    /* Canonical order no matter the order of the setters. */
    assert_string_equal(jt_obj_field_at(tx, 0)->name, "TransactionType");
    assert_string_equal(jt_obj_field_at(tx, 1)->name, "Flags");

    jt_obj *memo = jt_obj_new();
    assert_int_equal(jt_obj_set_bytes(memo, "MemoData", (const uint8_t *)"hi", 2), JT_OK);
    assert_int_equal(jt_obj_array_append(tx, "Memos", "Memo", memo), JT_OK);
    jt_obj_free(memo);
    assert_int_equal(jt_obj_array_len(tx, "Memos"), 1);

    assert_int_equal(jt_tx_verify(tx, NULL), JT_ENOT_SIGNED);
    {
        /* A failed signing changes nothing, even a SigningPubKey longer than
         * a key (the setter reuses its storage). */
        uint8_t longkey[40];
        memset(longkey, 0xAB, sizeof longkey);
        assert_int_equal(jt_obj_set_bytes(tx, "SigningPubKey", longkey, sizeof longkey), JT_OK);
        jt_keypair broken = kp;
        broken.type = (jt_key_type)7;
        assert_int_not_equal(jt_tx_sign(tx, &broken, NULL), JT_OK);
        const uint8_t *p = NULL;
        size_t n = 0;
        assert_int_equal(jt_obj_get_bytes(tx, "SigningPubKey", &p, &n), JT_OK);
        assert_int_equal(n, sizeof longkey);
        assert_memory_equal(p, longkey, sizeof longkey);
        assert_false(jt_obj_has(tx, "TxnSignature"));
        assert_int_equal(jt_obj_remove(tx, "SigningPubKey"), JT_OK);
    }
    assert_int_equal(jt_tx_sign(tx, &kp, NULL), JT_OK);
    assert_int_equal(jt_tx_verify(tx, NULL), JT_OK);
    /* A changed field breaks the signature. */
    jt_obj *bad = jt_obj_clone(tx);
    assert_int_equal(jt_obj_set_uint(bad, "Sequence", 2), JT_OK);
    assert_int_equal(jt_tx_verify(bad, NULL), JT_ESIG_INVALID);
    jt_obj_free(bad);

    /* Multi-signing: two signers, inserted out of order, end up sorted. */
    jt_seed s2, s3;
    jt_seed_from_passphrase("signer-two", JT_KEY_SECP256K1, &s2);
    jt_seed_from_passphrase("signer-three", JT_KEY_ED25519, &s3);
    assert_int_equal(jt_keypair_from_seed(&s2, &k2), JT_OK);
    assert_int_equal(jt_keypair_from_seed(&s3, &k3), JT_OK);
    jt_account_id a2, a3;
    assert_int_equal(jt_account_id_from_pubkey(k2.pub, 33, &a2), JT_OK);
    assert_int_equal(jt_account_id_from_pubkey(k3.pub, 33, &a3), JT_OK);
    jt_obj *ms = jt_obj_clone(tx);
    assert_int_equal(jt_obj_remove(ms, "TxnSignature"), JT_OK);
    bool first_low = memcmp(a2.bytes, a3.bytes, 20) < 0;
    assert_int_equal(jt_tx_multisign(ms, first_low ? &k3 : &k2, first_low ? &a3 : &a2, NULL),
                     JT_OK);
    assert_int_equal(jt_tx_multisign(ms, first_low ? &k2 : &k3, first_low ? &a2 : &a3, NULL),
                     JT_OK);
    assert_int_equal(jt_obj_array_len(ms, "Signers"), 2);
    jt_account_id got0;
    assert_int_equal(jt_obj_get_account(jt_obj_array_at(ms, "Signers", 0, NULL), "Account", &got0),
                     JT_OK);
    assert_memory_equal(got0.bytes, first_low ? a2.bytes : a3.bytes, 20);
    assert_int_equal(jt_tx_verify(ms, NULL), JT_OK);
    /* Signers are not signing fields: the single-sign data ignores them. */
    jt_buf d1, d2;
    jt_buf_init(&d1);
    jt_buf_init(&d2);
    assert_int_equal(jt_tx_signing_data(ms, &d1), JT_OK);
    assert_int_equal(jt_obj_remove(ms, "Signers"), JT_OK);
    assert_int_equal(jt_tx_signing_data(ms, &d2), JT_OK);
    assert_int_equal(d1.len, d2.len);
    assert_memory_equal(d1.data, d2.data, d1.len);
    jt_buf_clear(&d1);
    jt_buf_clear(&d2);
    jt_obj_free(ms);
    jt_obj_free(tx);
    jt_keypair_clear(&kp);
    jt_keypair_clear(&k2);
    jt_keypair_clear(&k3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vectors_encode_and_sign),
        cmocka_unit_test(vectors_decode_round_trip),
        cmocka_unit_test(decoder_rejects_hostile_input),
        cmocka_unit_test(decoder_depth_limit),
        cmocka_unit_test(json_errors_name_the_field),
        cmocka_unit_test(json_forms),
        cmocka_unit_test(field_table),
        cmocka_unit_test(field_handles),
        cmocka_unit_test(json_writer_utf8),
        cmocka_unit_test(build_sign_verify),
    };
    return cmocka_run_group_tests_name("codec", tests, setup, teardown);
}
