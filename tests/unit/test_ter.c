/* test_ter.c — engine result codes (jt/ter.h) against tests/vectors/ter_codes.json. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jt/ter.h"
#include "testutil.h"

/* The rows as the header's list spells them, enum constant included. */
typedef struct row {
    const char *token;
    int enum_value;
    int code;
    const char *message;
} row;

static const row macro_rows[] = {
#define X(token, code, message) {#token, JT_##token, code, message},
    JT_TER_CODES(X)
#undef X
};
#define MACRO_ROWS (sizeof macro_rows / sizeof macro_rows[0])

static yajl_val find_vector(yajl_val arr, const char *token)
{
    for (size_t i = 0; i < arr->u.array.len; i++) {
        const char *t = tu_str(arr->u.array.values[i], "token");
        if (t && strcmp(t, token) == 0)
            return arr->u.array.values[i];
    }
    return NULL;
}

static void expect_message(const char *got, yajl_val want, const char *token)
{
    if (YAJL_IS_NULL(want)) {
        if (got)
            print_error("%s: message should be NULL, is \"%s\"\n", token, got);
        assert_null(got);
    } else {
        assert_true(YAJL_IS_STRING(want));
        assert_non_null(got);
        assert_string_equal(got, YAJL_GET_STRING(want));
    }
}

static jt_ter_kind kind_of_prefix(const char *token)
{
    static const struct {
        const char *prefix;
        jt_ter_kind kind;
    } k[] = {{"tel", JT_TER_KIND_TEL}, {"tem", JT_TER_KIND_TEM}, {"tef", JT_TER_KIND_TEF},
             {"ter", JT_TER_KIND_TER}, {"tes", JT_TER_KIND_TES}, {"tec", JT_TER_KIND_TEC}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (strncmp(token, k[i].prefix, 3) == 0)
            return k[i].kind;
    return JT_TER_KIND_UNKNOWN;
}

/* Every vector round-trips through the lookups: code → token and message,
 * token → code, and the class agrees with the token's prefix. */
static void vectors_round_trip(void **state)
{
    (void)state;
    yajl_val arr = tu_load_vectors("ter_codes.json");
    assert_true(YAJL_IS_ARRAY(arr));
    assert_true(arr->u.array.len > 90);
    for (size_t i = 0; i < arr->u.array.len; i++) {
        yajl_val v = arr->u.array.values[i];
        const char *token = tu_str(v, "token");
        assert_non_null(token);
        yajl_val c = tu_get(v, "code");
        assert_true(YAJL_IS_INTEGER(c));
        int code = (int)YAJL_GET_INTEGER(c);

        const char *t = jt_ter_token(code);
        if (!t)
            print_error("%s (%d) missing from the table\n", token, code);
        assert_non_null(t);
        assert_string_equal(t, token);
        expect_message(jt_ter_message(code), tu_get(v, "message"), token);

        int back = 12345;
        assert_true(jt_ter_from_token(token, &back));
        assert_int_equal(back, code);

        const jt_ter *r = jt_ter_by_code(code);
        assert_non_null(r);
        assert_ptr_equal(r, jt_ter_by_token(token));
        assert_int_equal(r->code, code);
        expect_message(r->message, tu_get(v, "message"), token);

        assert_int_equal(jt_ter_class(code), kind_of_prefix(token));
        assert_int_equal(jt_ter_is_claimed(code), kind_of_prefix(token) == JT_TER_KIND_TES ||
                                                      kind_of_prefix(token) == JT_TER_KIND_TEC);
        assert_int_equal(jt_ter_is_retry(code), kind_of_prefix(token) == JT_TER_KIND_TER);
    }
    yajl_tree_free(arr);
}

/* The table holds nothing the vectors do not: the header's list, its enum and
 * the library's table are each exactly the vectors. */
static void table_has_no_extra_entries(void **state)
{
    (void)state;
    yajl_val arr = tu_load_vectors("ter_codes.json");
    assert_int_equal(MACRO_ROWS, arr->u.array.len);
    assert_int_equal(JT_TER_COUNT, arr->u.array.len);
    for (size_t i = 0; i < MACRO_ROWS; i++) {
        const row *m = &macro_rows[i];
        yajl_val v = find_vector(arr, m->token);
        if (!v)
            print_error("%s is not in ter_codes.json\n", m->token);
        assert_non_null(v);
        assert_int_equal(m->code, YAJL_GET_INTEGER(tu_get(v, "code")));
        assert_int_equal(m->enum_value, m->code);
        expect_message(m->message, tu_get(v, "message"), m->token);
        /* numeric order, no repeats */
        if (i > 0)
            assert_true(macro_rows[i - 1].code < m->code);
    }
    size_t n = 0;
    const jt_ter *t = jt_ter_table(&n);
    assert_int_equal(n, arr->u.array.len);
    for (size_t i = 0; i < n; i++) {
        yajl_val v = find_vector(arr, t[i].token);
        assert_non_null(v);
        assert_int_equal(t[i].code, YAJL_GET_INTEGER(tu_get(v, "code")));
        assert_ptr_equal(jt_ter_by_code(t[i].code), &t[i]);
    }
    yajl_tree_free(arr);
}

static void named_constants(void **state)
{
    (void)state;
    assert_int_equal(JT_tesSUCCESS, 0);
    assert_int_equal(JT_tecPATH_DRY, 128);
    assert_int_equal(JT_tecCLAIM, 100);
    assert_int_equal(JT_terRETRY, -99);
    assert_int_equal(JT_tefFAILURE, -199);
    assert_int_equal(JT_temMALFORMED, -299);
    assert_int_equal(JT_telLOCAL_ERROR, -399);
    assert_string_equal(jt_ter_token(JT_tecUNFUNDED_OFFER), "tecUNFUNDED_OFFER");
    assert_string_equal(jt_ter_message(JT_tesSUCCESS),
                        "The transaction was applied. Only final in a validated ledger.");
    assert_null(jt_ter_message(JT_telBAD_NICKNAME));
    assert_non_null(jt_ter_token(JT_telBAD_NICKNAME));
}

static void unknown_codes_and_tokens(void **state)
{
    (void)state;
    static const int codes[] = {1,    99,   106,  120,  145,  255,  256,  -1,      -89,
                                -100, -186, -200, -267, -300, -389, -400, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        assert_null(jt_ter_token(codes[i]));
        assert_null(jt_ter_message(codes[i]));
        assert_null(jt_ter_by_code(codes[i]));
    }
    static const char *const tokens[] = {
        "",           "tes",           "TESSUCCESS", "tesSUCCESS ", " tesSUCCESS",
        "tessuccess", "tecPATH_DRY\n", "tecPATH"};
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
        int code = 777;
        assert_false(jt_ter_from_token(tokens[i], &code));
        assert_int_equal(code, 777); /* untouched */
        assert_null(jt_ter_by_token(tokens[i]));
    }
    int code = 777;
    assert_false(jt_ter_from_token(NULL, &code));
    assert_null(jt_ter_by_token(NULL));
    assert_int_equal(code, 777);
}

/* Each range edge, and one step outside it. */
static void class_boundaries(void **state)
{
    (void)state;
    static const struct {
        int code;
        jt_ter_kind kind;
    } edges[] = {
        {INT_MIN, JT_TER_KIND_UNKNOWN}, {-400, JT_TER_KIND_UNKNOWN},    {-399, JT_TER_KIND_TEL},
        {-300, JT_TER_KIND_TEL},        {-299, JT_TER_KIND_TEM},        {-200, JT_TER_KIND_TEM},
        {-199, JT_TER_KIND_TEF},        {-100, JT_TER_KIND_TEF},        {-99, JT_TER_KIND_TER},
        {-1, JT_TER_KIND_TER},          {0, JT_TER_KIND_TES},           {1, JT_TER_KIND_UNKNOWN},
        {99, JT_TER_KIND_UNKNOWN},      {100, JT_TER_KIND_TEC},         {255, JT_TER_KIND_TEC},
        {256, JT_TER_KIND_UNKNOWN},     {INT_MAX, JT_TER_KIND_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        if (jt_ter_class(edges[i].code) != edges[i].kind)
            print_error("class of %d\n", edges[i].code);
        assert_int_equal(jt_ter_class(edges[i].code), edges[i].kind);
        bool claimed = edges[i].kind == JT_TER_KIND_TES || edges[i].kind == JT_TER_KIND_TEC;
        assert_int_equal(jt_ter_is_claimed(edges[i].code), claimed);
        assert_int_equal(jt_ter_is_retry(edges[i].code), edges[i].kind == JT_TER_KIND_TER);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vectors_round_trip), cmocka_unit_test(table_has_no_extra_entries),
        cmocka_unit_test(named_constants),    cmocka_unit_test(unknown_codes_and_tokens),
        cmocka_unit_test(class_boundaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
