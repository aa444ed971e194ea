/* test_util.c — hex, buffers and error tables. */
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "jt/jt.h"
#include "testutil.h"

static void hex_round_trip(void **state)
{
    (void)state;
    uint8_t in[] = {0x00, 0x01, 0xAB, 0xFF};
    char out[9];
    assert_int_equal(jt_hex_encode(in, 4, out, sizeof out), JT_OK);
    assert_string_equal(out, "0001ABFF");
    assert_int_equal(jt_hex_encode(in, 4, out, 8), JT_EBUFSIZE);
    uint8_t back[4];
    size_t n = 0;
    assert_int_equal(jt_hex_decode("0001abFF", 8, back, sizeof back, &n), JT_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(back, in, 4);
    assert_int_equal(jt_hex_decode("0g", 2, back, sizeof back, &n), JT_EHEX);
    assert_int_equal(jt_hex_decode("000", 3, back, sizeof back, &n), JT_EHEX);
    assert_int_equal(jt_hex_decode("0000000000", 10, back, sizeof back, &n), JT_EBUFSIZE);
}

static void error_names(void **state)
{
    (void)state;
    assert_string_equal(jt_errname(JT_OK), "OK");
    assert_string_equal(jt_errname(JT_EAMOUNT_DECIMALS), "EAMOUNT_DECIMALS");
    assert_string_equal(jt_strerror(JT_EAMOUNT_DECIMALS), "SWT has at most 6 decimal places");
    assert_string_equal(jt_strerror((jt_err)9999), "unknown error");
    /* Every code has a distinct name. */
    for (int i = 0; i < JT__ERR_COUNT; i++)
        for (int j = i + 1; j < JT__ERR_COUNT; j++)
            assert_string_not_equal(jt_errname((jt_err)i), jt_errname((jt_err)j));
}

static void buffer_growth(void **state)
{
    (void)state;
    jt_buf b;
    jt_buf_init(&b);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(jt_buf_append(&b, "abc", 3), JT_OK);
    assert_int_equal(b.len, 30000);
    assert_memory_equal(b.data + 29997, "abc", 3);
    assert_int_equal(jt_buf_append(&b, "x", JT_BUF_MAX), JT_ETOOBIG);
    jt_buf_clear(&b);
    assert_null(b.data);
}

static void arena_limits(void **state)
{
    (void)state;
    jt__arena a;
    jt__arena_init(&a, 64 * 1024);
    char *s = jt__arena_strndup(&a, "hello", 3);
    assert_string_equal(s, "hel");
    assert_non_null(jt__arena_alloc(&a, 10000)); /* a one-off large block */
    assert_null(jt__arena_alloc(&a, 1 << 20));   /* over the limit */
    jt__arena_clear(&a);
}

static void arena_sized(void **state)
{
    (void)state;
    jt__arena a;
    jt__arena_init_first(&a, 0, 1000);
    assert_int_equal(jt__arena_used(&a), 0);
    assert_non_null(jt__arena_alloc(&a, 600)); /* over half the first chunk: still in it */
    assert_non_null(jt__arena_alloc(&a, 300));
    assert_int_equal(jt__arena_used(&a), 608 + 304);
    assert_int_equal(a.total, 1008); /* one chunk, rounded to 16 */
    assert_non_null(jt__arena_alloc(&a, 200)); /* then the usual chunks */
    assert_int_equal(jt__arena_used(&a), 608 + 304 + 208);
    jt__arena_clear(&a);
    assert_int_equal(jt__arena_used(&a), 0);
}

/* The parser's own memory comes from the document: documents small and
 * large, strings with escapes (yajl's buffer) and longer than its first
 * 2 KB, and every error path, under the sanitizers. */
static void json_parse_memory(void **state)
{
    (void)state;
    jt_json_doc *doc = NULL;
    jt_errinfo ei;
    const char *small = "{\"a\":\"x\\ny\\u00e9\",\"b\":[1,2,{\"c\":null}]}";
    assert_int_equal(jt_json_parse(small, strlen(small), NULL, &doc, &ei), JT_OK);
    assert_string_equal(jt_json_string(jt_json_get(jt_json_root(doc), "a")), "x\ny\xc3\xa9");
    jt_json_doc_free(doc);

    /* A 300 KB document: one string of 100 000 escaped characters and
     * 20 000 small values. */
    jt_buf b;
    jt_buf_init(&b);
    assert_int_equal(jt_buf_append(&b, "{\"s\":\"", 6), JT_OK);
    for (int i = 0; i < 50000; i++)
        assert_int_equal(jt_buf_append(&b, "\\t\\\"", 4), JT_OK);
    assert_int_equal(jt_buf_append(&b, "\",\"v\":[", 7), JT_OK);
    for (int i = 0; i < 20000; i++)
        assert_int_equal(jt_buf_append(&b, i ? ",12345" : "12345", i ? 6 : 5), JT_OK);
    assert_int_equal(jt_buf_append(&b, "]}", 2), JT_OK);
    assert_int_equal(jt_json_parse((const char *)b.data, b.len, NULL, &doc, &ei), JT_OK);
    const char *str = jt_json_string(jt_json_get(jt_json_root(doc), "s"));
    assert_non_null(str);
    assert_int_equal(strlen(str), 100000);
    assert_memory_equal(str + 99998, "\t\"", 2);
    jt_json_doc_free(doc);
    /* The same text cut short, and with too many values. */
    assert_int_equal(jt_json_parse((const char *)b.data, b.len - 1, NULL, &doc, &ei), JT_EJSON);
    assert_null(doc);
    jt_json_limits few = {.max_items = 1000};
    assert_int_equal(jt_json_parse((const char *)b.data, b.len, &few, &doc, &ei), JT_ETOOBIG);
    assert_null(doc);
    jt_buf_clear(&b);

    const char *bad = "{\"a\": [1, 2,, 3]}";
    assert_int_equal(jt_json_parse(bad, strlen(bad), NULL, &doc, &ei), JT_EJSON);
    assert_non_null(strstr(ei.msg, "malformed JSON at byte"));
    /* U+0000 in a key or a string: refused, not read as a shorter C string
     * ("command\u0000x" would otherwise be taken for "command"). */
    const char *nul_key = "{\"command\\u0000x\":\"ping\"}";
    assert_int_equal(jt_json_parse(nul_key, strlen(nul_key), NULL, &doc, &ei), JT_EJSON);
    assert_null(doc);
    assert_non_null(strstr(ei.msg, "U+0000"));
    const char *nul_str = "{\"account\":\"jHb9\\u0000junk\"}";
    assert_int_equal(jt_json_parse(nul_str, strlen(nul_str), NULL, &doc, &ei), JT_EJSON);
    assert_null(doc);
    const char *other = "{\"a\":\"\\u0001\"}"; /* other controls are fine */
    assert_int_equal(jt_json_parse(other, strlen(other), NULL, &doc, &ei), JT_OK);
    jt_json_doc_free(doc);
    /* Deeper than the parser's first stack (8 levels): it grows. */
    const char *deeper = "[[[[[[[[[[[[{\"k\":[[[7]]]}]]]]]]]]]]]]";
    assert_int_equal(jt_json_parse(deeper, strlen(deeper), NULL, &doc, &ei), JT_OK);
    const jt_json *v = jt_json_root(doc);
    for (int i = 0; i < 12; i++) {
        assert_int_equal(v->kind, JT_JSON_ARRAY);
        assert_int_equal(v->u.arr.n, 1);
        v = v->u.arr.items[0];
    }
    v = jt_json_get(v, "k");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(v->kind, JT_JSON_ARRAY);
        v = v->u.arr.items[0];
    }
    assert_int_equal(v->kind, JT_JSON_NUMBER);
    assert_string_equal(v->u.str.s, "7");
    jt_json_doc_free(doc);
    const char *deep = "[[[[[[[[[[1]]]]]]]]]]";
    jt_json_limits shallow = {.max_depth = 4};
    assert_int_equal(jt_json_parse(deep, strlen(deep), &shallow, &doc, &ei), JT_EJSON_DEPTH);
    assert_int_equal(jt_json_parse("", 0, NULL, &doc, &ei), JT_EJSON);
    assert_null(doc);
}

/* The scan for plain documents and yajl give the same result and the same
 * document: nested plain texts, near misses at every depth, and strings of
 * every length up to 40 with one bad byte at every place (the scan reads
 * eight bytes at a time). */
static void both_parsers_agree(const char *text, size_t len)
{
    jt_json_doc *fast = NULL, *slow = NULL;
    jt_errinfo ei;
    jt_err ef = jt_json_parse(text, len, NULL, &fast, &ei);
    jt_err es = jt__json_parse_general(text, len, NULL, &slow, &ei);
    assert_int_equal(ef, es);
    assert_true(!fast == !slow);
    if (fast) {
        jt_buf a, b;
        jt_buf_init(&a);
        jt_buf_init(&b);
        jt_jw wa, wb;
        jt_jw_init(&wa, &a);
        jt_jw_init(&wb, &b);
        jt_jw_value(&wa, jt_json_root(fast));
        jt_jw_value(&wb, jt_json_root(slow));
        assert_int_equal(jt_jw_finish(&wa), JT_OK);
        assert_int_equal(jt_jw_finish(&wb), JT_OK);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        jt_buf_clear(&a);
        jt_buf_clear(&b);
    }
    jt_json_doc_free(fast);
    jt_json_doc_free(slow);
}

static void json_plain_scan(void **state)
{
    (void)state;
    static const char *texts[] = {
        "{\"id\":7,\"result\":{\"engine_result\":\"tesSUCCESS\",\"tx_json\":{\"Fee\":\"10\","
        "\"Flags\":-1,\"Memos\":[{\"Memo\":{\"MemoData\":\"6869\"}}]}},\"ok\":true,\"n\":null}",
        "[1,[2,[3,[]]],{},{\"a\":[]},\"x\",false]",
        " \t\r\n{ \"a\" : [ 1 , { \"b\" : \"c\" } ] } \n",
        "{\"a\":{\"b\":{\"c\":1.5}}}",      /* a fraction deep inside */
        "{\"a\":[{\"b\":\"\\u00e9\"}]}",  /* an escape deep inside */
        "{\"a\":[1,2,]}",                       /* trailing comma */
        "{\"a\":{\"b\":1,}}",
        "{\"a\":[1}",                           /* mismatched */
        "{\"a\":{\"b\":1]}",
        "[{\"a\":1}",                           /* unterminated */
        "{\"a\":[1] x}",
        "[1]]",
        "[01]",
        "[-]",
        "[tru]",
        "[true,nulls]",
        "{\"a\"}",
        "{\"a\":}",
        "{1:2}",
        "\"top\"",
        "42",
        "[1,\f2]",
        "[\"\x7f\"]",
        "[\"\xc3\xa9\"]",
        "{\"k\":[{\"k\":[{\"k\":[{\"k\":[{\"k\":[{\"k\":[{\"k\":[{\"k\":[{\"k\":[]}]}]}]}]}]}]}]}]}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        both_parsers_agree(texts[i], strlen(texts[i]));
    static const unsigned char bad[] = {'"', '\\', 0x01, 0x1f, 0x7f, 0x80, 0xff};
    char text[64];
    for (size_t len = 0; len <= 40; len++) {
        text[0] = '[';
        text[1] = '"';
        memset(text + 2, 'a', len);
        memcpy(text + 2 + len, "\"]", 2);
        both_parsers_agree(text, len + 4);
        for (size_t at = 0; at < len; at++)
            for (size_t k = 0; k < sizeof bad; k++) {
                text[2 + at] = (char)bad[k];
                both_parsers_agree(text, len + 4);
                text[2 + at] = 'a';
            }
    }
}

static void json_writer_numbers_hex(void **state)
{
    (void)state;
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_array_begin(&w);
    jt_jw_int(&w, 0);
    jt_jw_int(&w, -7);
    jt_jw_int(&w, INT64_MIN);
    jt_jw_int(&w, INT64_MAX);
    jt_jw_uint(&w, UINT64_MAX);
    jt_jw_uint(&w, 10);
    const uint8_t bytes[] = {0x00, 0x0F, 0xA5, 0xFF};
    jt_jw_hex(&w, bytes, sizeof bytes);
    jt_jw_hex(&w, bytes, 0);
    jt_jw_string(&w, "tab\there \"q\" \xc3\xa9");
    jt_jw_array_end(&w);
    assert_int_equal(jt_jw_finish(&w), JT_OK);
    assert_string_equal((const char *)b.data,
                        "[0,-7,-9223372036854775808,9223372036854775807,18446744073709551615,10,"
                        "\"000FA5FF\",\"\",\"tab\\there \\\"q\\\" \xc3\xa9\"]");
    jt_buf_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hex_round_trip),
        cmocka_unit_test(error_names),
        cmocka_unit_test(buffer_growth),
        cmocka_unit_test(arena_limits),
        cmocka_unit_test(arena_sized),
        cmocka_unit_test(json_parse_memory),
        cmocka_unit_test(json_plain_scan),
        cmocka_unit_test(json_writer_numbers_hex),
    };
    return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
