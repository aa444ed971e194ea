/* test_jn_engine.c — the ledger engine (node-lite/apply.h) tested from data.
 *
 * Every JSON file under tests/engine/ (directory from $JT_ENGINE_FIXTURES,
 * else $JT_VECTORS/../engine, else tests/engine) holds scenarios: starting
 * entries, transactions with their expected results and metadata, and the
 * entries expected afterwards. docs/testing.md ("Engine fixtures")
 * describes the format. Each scenario is one cmocka case, run three times:
 *
 *   A  as a ledger close builds metadata, every transaction through the
 *      general path (env.no_fast_path); the fixture's expectations are
 *      checked against this run;
 *   B  as the open ledger applies submits (no metadata, fast path allowed);
 *   C  as run A with the plain-payment fast path allowed.
 *
 * C must give A's results, metadata bytes and final state; B A's results
 * and final state. C reuses each transaction's memo from B, as the node's
 * close reuses what the open ledger's apply worked out.
 *
 * JT_FIXTURE_WRITE=1 writes what run A produced into the fixtures (a
 * missing result, metadata given as null or not matching, the values of
 * expected fields that do not match) and rewrites every file in the
 * canonical layout; a person then reads and checks each value. JT_FIXTURE=
 * TEXT runs only the files whose name contains TEXT. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jt/jt.h>

#include "apply.h"
#include "ledger.h"
#include "state.h"
#include "testutil.h"

#define MAX_NAMES      32
#define MAX_CURRENCIES 16
#define LINE_WIDTH     120 /* the pretty printer keeps a value on one line up to here */
#define MAX_DIFF_LINES 40

/* ---------------------------------------------------------------- files and cases */

typedef struct fxfile {
    char *path;
    char *base; /* file name, for messages */
    yajl_val doc;
    char err[512]; /* why the file could not be read; "" when fine */
    bool dirty;    /* JT_FIXTURE_WRITE changed it */
} fxfile;

typedef struct fxcase {
    fxfile *f;
    yajl_val sc; /* the scenario object (NULL: the file failed to load) */
    char name[256];
} fxcase;

static bool g_write;
static char g_account_one[JT_ADDRESS_MAX];

/* ---------------------------------------------------------------- small helpers */

static void bput(jt_buf *b, const void *p, size_t n)
{
    assert_int_equal(jt_buf_append(b, p, n), JT_OK);
}

static void bputs(jt_buf *b, const char *s)
{
    bput(b, s, strlen(s));
}

static void bprintf(jt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(jt_buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof tmp);
    bput(b, tmp, (size_t)n);
}

/* NUL-terminated contents (not counted in len). */
static const char *bstr(jt_buf *b)
{
    assert_int_equal(jt_buf_reserve(b, 1), JT_OK);
    b->data[b->len] = '\0';
    return (const char *)b->data;
}

static void hex32(const uint8_t id[32], char out[65])
{
    assert_int_equal(jt_hex_encode(id, 32, out, 65), JT_OK);
}

/* A UInt field of o, or dflt when absent. */
static uint64_t get_uint(const jt_obj *o, const char *field, uint64_t dflt)
{
    uint64_t v;
    return jt_obj_get_uint(o, field, &v) == JT_OK ? v : dflt;
}

static bool is_upper_first(const char *k)
{
    return k[0] >= 'A' && k[0] <= 'Z';
}

/* ---------------------------------------------------------------- yajl trees */

static yajl_val jget(yajl_val obj, const char *key)
{
    if (!YAJL_IS_OBJECT(obj))
        return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (!strcmp(obj->u.object.keys[i], key))
            return obj->u.object.values[i];
    return NULL;
}

static const char *jstr(yajl_val obj, const char *key)
{
    yajl_val v = jget(obj, key);
    return YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

static bool jtrue(yajl_val obj, const char *key)
{
    return YAJL_IS_TRUE(jget(obj, key));
}

static size_t jlen(yajl_val arr)
{
    return YAJL_IS_ARRAY(arr) ? arr->u.array.len : 0;
}

/* Replaces obj[key] with v (taking it), appending the key when new. */
static void jset(yajl_val obj, const char *key, yajl_val v)
{
    assert_true(YAJL_IS_OBJECT(obj));
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (!strcmp(obj->u.object.keys[i], key)) {
            yajl_tree_free(obj->u.object.values[i]);
            obj->u.object.values[i] = v;
            return;
        }
    size_t n = obj->u.object.len + 1;
    const char **k = realloc((void *)obj->u.object.keys, n * sizeof *k);
    assert_non_null(k);
    obj->u.object.keys = k;
    yajl_val *vals = realloc(obj->u.object.values, n * sizeof *vals);
    assert_non_null(vals);
    obj->u.object.values = vals;
    k[n - 1] = strdup(key);
    assert_non_null(k[n - 1]);
    vals[n - 1] = v;
    obj->u.object.len = n;
}

/* Adds key (absent from obj) right after member `after`. */
static void jinsert_after(yajl_val obj, const char *after, const char *key, yajl_val v)
{
    jset(obj, key, v);
    size_t n = obj->u.object.len, at = n - 1;
    for (size_t i = 0; i + 1 < n; i++)
        if (!strcmp(obj->u.object.keys[i], after))
            at = i + 1;
    const char *k = obj->u.object.keys[n - 1];
    memmove(&obj->u.object.keys[at + 1], &obj->u.object.keys[at],
            (n - 1 - at) * sizeof *obj->u.object.keys);
    memmove(&obj->u.object.values[at + 1], &obj->u.object.values[at],
            (n - 1 - at) * sizeof *obj->u.object.values);
    obj->u.object.keys[at] = k;
    obj->u.object.values[at] = v;
}

static yajl_val jparse(const char *text)
{
    char err[256];
    yajl_val v = yajl_tree_parse(text, err, sizeof err);
    if (!v)
        print_error("internal: cannot parse generated JSON (%s): %s\n", err, text);
    assert_non_null(v);
    return v;
}

static yajl_val jstring_new(const char *s)
{
    yajl_val v = calloc(1, sizeof *v);
    assert_non_null(v);
    v->type = yajl_t_string;
    v->u.string = strdup(s);
    assert_non_null(v->u.string);
    return v;
}

/* ---------------------------------------------------------------- JSON text */

static void put_str(jt_buf *b, const char *s)
{
    bputs(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            bput(b, e, 2);
        } else if (*p < 0x20) {
            bprintf(b, "\\u%04x", *p);
        } else {
            bput(b, p, 1);
        }
    }
    bputs(b, "\"");
}

/* One line; `spaced` puts a space after ':' and ','. */
static void put_compact(jt_buf *b, yajl_val v, bool spaced)
{
    const char *comma = spaced ? ", " : ",", *colon = spaced ? ": " : ":";
    if (YAJL_IS_STRING(v)) {
        put_str(b, YAJL_GET_STRING(v));
    } else if (YAJL_IS_NUMBER(v)) {
        bputs(b, YAJL_GET_NUMBER(v));
    } else if (YAJL_IS_TRUE(v)) {
        bputs(b, "true");
    } else if (YAJL_IS_FALSE(v)) {
        bputs(b, "false");
    } else if (YAJL_IS_OBJECT(v)) {
        bputs(b, "{");
        for (size_t i = 0; i < v->u.object.len; i++) {
            if (i)
                bputs(b, comma);
            put_str(b, v->u.object.keys[i]);
            bputs(b, colon);
            put_compact(b, v->u.object.values[i], spaced);
        }
        bputs(b, "}");
    } else if (YAJL_IS_ARRAY(v)) {
        bputs(b, "[");
        for (size_t i = 0; i < v->u.array.len; i++) {
            if (i)
                bputs(b, comma);
            put_compact(b, v->u.array.values[i], spaced);
        }
        bputs(b, "]");
    } else {
        bputs(b, "null");
    }
}

static void indent_to(jt_buf *b, int n)
{
    for (int i = 0; i < n; i++)
        bputs(b, " ");
}

/* The layout of the fixture files: a value stays on one line when it fits
 * in LINE_WIDTH columns from `col`, else its members go one per line. */
static void put_pretty(jt_buf *b, yajl_val v, int indent, int col)
{
    jt_buf one;
    jt_buf_init(&one);
    put_compact(&one, v, true);
    bool fits = col + (int)one.len <= LINE_WIDTH;
    bool empty = (YAJL_IS_OBJECT(v) && !v->u.object.len) || (YAJL_IS_ARRAY(v) && !v->u.array.len);
    if (fits || empty || !(YAJL_IS_OBJECT(v) || YAJL_IS_ARRAY(v))) {
        bput(b, one.data, one.len);
        jt_buf_clear(&one);
        return;
    }
    jt_buf_clear(&one);
    bool obj = YAJL_IS_OBJECT(v);
    size_t n = obj ? v->u.object.len : v->u.array.len;
    bputs(b, obj ? "{\n" : "[\n");
    for (size_t i = 0; i < n; i++) {
        indent_to(b, indent + 2);
        int c = indent + 2;
        if (obj) {
            size_t before = b->len;
            put_str(b, v->u.object.keys[i]);
            bputs(b, ": ");
            c += (int)(b->len - before);
        }
        put_pretty(b, obj ? v->u.object.values[i] : v->u.array.values[i], indent + 2, c + 1);
        bputs(b, i + 1 < n ? ",\n" : "\n");
    }
    indent_to(b, indent);
    bputs(b, obj ? "}" : "]");
}

/* ---------------------------------------------------------------- a scenario */

typedef struct name_ent {
    char name[24];
    jt_keypair kp;
    jt_account_id id;
    char addr[JT_ADDRESS_MAX];
    bool exists;
    yajl_val spec; /* its value under "accounts" */
} name_ent;

typedef struct sym {
    uint8_t id[32];
    char text[96];
} sym;

typedef struct sc {
    const fxcase *fc;
    yajl_val file, scen;
    name_ent names[MAX_NAMES];
    size_t n_names;
    char currencies[MAX_CURRENCIES][JT_CURRENCY_TEXT_MAX];
    size_t n_currencies;
    sym *syms;
    size_t n_syms, cap_syms;
    uint8_t (*txids)[32]; /* of the transactions built so far, "$tx:N" */
    size_t n_txids;
    uint8_t setup_id[32]; /* PreviousTxnID of the starting entries, "$setup" */
    jn_env env0;
    char where[200]; /* what the messages are about */
    int failures;
    bool broken; /* the fixture itself is wrong: stop */
} sc;

static void fx_error(sc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fx_error(sc *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_error("FIXTURE ERROR %s: %s: %s\n", c->fc->name, c->where, msg);
    c->broken = true;
}

static void mismatch(sc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mismatch(sc *c, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *msg = malloc(n > 0 ? (size_t)n + 1 : 1);
    assert_non_null(msg);
    vsnprintf(msg, n > 0 ? (size_t)n + 1 : 1, fmt, ap2);
    va_end(ap2);
    /* Not print_error: cmocka cuts its messages at 1 KB. */
    fprintf(stderr, "MISMATCH %s: %s: %s\n", c->fc->name, c->where, msg);
    fflush(stderr);
    free(msg);
    c->failures++;
}

static name_ent *name_find(sc *c, const char *s)
{
    for (size_t i = 0; i < c->n_names; i++)
        if (!strcmp(c->names[i].name, s))
            return &c->names[i];
    return NULL;
}

static name_ent *name_by_id(sc *c, const jt_account_id *id)
{
    for (size_t i = 0; i < c->n_names; i++)
        if (!memcmp(c->names[i].id.bytes, id->bytes, 20))
            return &c->names[i];
    return NULL;
}

static void sym_add(sc *c, const uint8_t id[32], const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void sym_add(sc *c, const uint8_t id[32], const char *fmt, ...)
{
    for (size_t i = 0; i < c->n_syms; i++)
        if (!memcmp(c->syms[i].id, id, 32))
            return;
    if (c->n_syms == c->cap_syms) {
        c->cap_syms = c->cap_syms ? 2 * c->cap_syms : 256;
        c->syms = realloc(c->syms, c->cap_syms * sizeof *c->syms);
        assert_non_null(c->syms);
    }
    sym *s = &c->syms[c->n_syms++];
    memcpy(s->id, id, 32);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->text, sizeof s->text, fmt, ap);
    va_end(ap);
}

static bool currency_of(sc *c, const char *text, jt_currency *cur)
{
    if (jt_currency_from_text(text, false, cur, NULL) != JT_OK) {
        fx_error(c, "bad currency \"%s\"", text);
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- symbols
 *
 * In a fixture an account may be written by its name, and an entry or a
 * transaction ID by a symbol:
 *   $account:NAME  $dir:NAME (owner directory)  $line:A/B/CUR  $offer:NAME/SEQ
 *   $rel:ACCOUNT/TARGET/TYPE/CUR  $tx:N (the scenario's N-th transaction)
 *   $setup (PreviousTxnID of the starting entries)
 * fwd() expands them; rev() gives them back for what the runner prints. */

static int split(char *s, char **parts, int max)
{
    int n = 0;
    for (char *p = s; n < max;) {
        parts[n++] = p;
        char *q = strchr(p, '/');
        if (!q)
            break;
        *q = '\0';
        p = q + 1;
    }
    return n;
}

static bool sym_id(sc *c, const char *s, uint8_t id[32])
{
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s", s);
    char *colon = strchr(tmp, ':');
    char *arg = colon ? colon + 1 : NULL;
    if (colon)
        *colon = '\0';
    char *p[5];
    int n = arg ? split(arg, p, 5) : 0;
    name_ent *a = n >= 1 ? name_find(c, p[0]) : NULL, *b = n >= 2 ? name_find(c, p[1]) : NULL;
    jt_currency cur;
    if (!strcmp(tmp, "$setup") && !arg) {
        memcpy(id, c->setup_id, 32);
        return true;
    }
    if (!strcmp(tmp, "$tx") && n == 1) {
        long k = strtol(p[0], NULL, 10);
        if (k < 1 || (size_t)k > c->n_txids)
            return false;
        memcpy(id, c->txids[k - 1], 32);
        return true;
    }
    if (!strcmp(tmp, "$account") && n == 1 && a) {
        jn_id_account(&a->id, id);
        return true;
    }
    if (!strcmp(tmp, "$dir") && n == 1 && a) {
        jn_id_owner_dir(&a->id, id);
        return true;
    }
    if (!strcmp(tmp, "$line") && n == 3 && a && b && currency_of(c, p[2], &cur)) {
        jn_id_line(&a->id, &b->id, &cur, id);
        return true;
    }
    if (!strcmp(tmp, "$offer") && n == 2 && a) {
        jn_id_offer(&a->id, (uint32_t)strtoul(p[1], NULL, 10), id);
        return true;
    }
    if (!strcmp(tmp, "$rel") && n == 4 && a && b && currency_of(c, p[3], &cur)) {
        jn_id_relation(&a->id, &b->id, (uint32_t)strtoul(p[2], NULL, 10), &cur, id);
        return true;
    }
    return false;
}

/* The fixture text s as the engine sees it into out: 1 when replaced, 0
 * when s stands for itself, -1 for a symbol that names nothing. */
static int fwd(sc *c, const char *s, char *out, size_t cap)
{
    name_ent *n = name_find(c, s);
    if (n) {
        snprintf(out, cap, "%s", n->addr);
        return 1;
    }
    if (s[0] != '$')
        return 0;
    uint8_t id[32];
    if (!sym_id(c, s, id)) {
        fx_error(c,
                 "\"%s\" names nothing (symbols: $account:NAME, $dir:NAME, $line:A/B/CUR, "
                 "$offer:NAME/SEQ, $rel:A/B/TYPE/CUR, $tx:N, $setup)",
                 s);
        return -1;
    }
    assert_true(cap >= 65);
    hex32(id, out);
    return 1;
}

static const char *rev(sc *c, const char *s)
{
    size_t n = strlen(s);
    if (n == 64) {
        uint8_t id[32];
        size_t got;
        if (jt_hex_decode(s, 64, id, 32, &got) != JT_OK || got != 32)
            return NULL;
        for (size_t i = 0; i < c->n_syms; i++)
            if (!memcmp(c->syms[i].id, id, 32))
                return c->syms[i].text;
        return NULL;
    }
    if (s[0] == 'j')
        for (size_t i = 0; i < c->n_names; i++)
            if (!strcmp(c->names[i].addr, s))
                return c->names[i].name;
    return NULL;
}

static void rev_tree(sc *c, yajl_val v)
{
    if (YAJL_IS_STRING(v)) {
        const char *r = rev(c, v->u.string);
        if (r) {
            free(v->u.string);
            v->u.string = strdup(r);
            assert_non_null(v->u.string);
        }
    } else if (YAJL_IS_OBJECT(v)) {
        for (size_t i = 0; i < v->u.object.len; i++)
            rev_tree(c, v->u.object.values[i]);
    } else if (YAJL_IS_ARRAY(v)) {
        for (size_t i = 0; i < v->u.array.len; i++)
            rev_tree(c, v->u.array.values[i]);
    }
}

/* Compact JSON of fixture value v with names and symbols expanded; the
 * member `skip` of a top-level object is left out. -1 on a bad symbol. */
static int emit(sc *c, jt_buf *b, yajl_val v, const char *skip)
{
    if (YAJL_IS_STRING(v)) {
        char out[128];
        int r = fwd(c, YAJL_GET_STRING(v), out, sizeof out);
        if (r < 0)
            return -1;
        put_str(b, r ? out : YAJL_GET_STRING(v));
    } else if (YAJL_IS_OBJECT(v)) {
        bputs(b, "{");
        bool first = true;
        for (size_t i = 0; i < v->u.object.len; i++) {
            if (skip && !strcmp(v->u.object.keys[i], skip))
                continue;
            if (!first)
                bputs(b, ",");
            first = false;
            put_str(b, v->u.object.keys[i]);
            bputs(b, ":");
            if (emit(c, b, v->u.object.values[i], NULL))
                return -1;
        }
        bputs(b, "}");
    } else if (YAJL_IS_ARRAY(v)) {
        bputs(b, "[");
        for (size_t i = 0; i < v->u.array.len; i++) {
            if (i)
                bputs(b, ",");
            if (emit(c, b, v->u.array.values[i], NULL))
                return -1;
        }
        bputs(b, "]");
    } else {
        put_compact(b, v, false);
    }
    return 0;
}

/* A libjt object from fixture JSON (skywelld's form), or NULL after a
 * fixture error naming `what`. */
static jt_obj *to_obj(sc *c, yajl_val v, const char *skip, const char *what)
{
    if (!YAJL_IS_OBJECT(v)) {
        fx_error(c, "%s: not a JSON object", what);
        return NULL;
    }
    jt_buf b;
    jt_buf_init(&b);
    jt_obj *o = NULL;
    if (!emit(c, &b, v, skip)) {
        jt_errinfo ei;
        jt_errinfo_clear(&ei);
        if (jt_obj_from_json((const char *)b.data, b.len, &o, &ei) != JT_OK) {
            fx_error(c, "%s: %s", what, ei.msg);
            o = NULL;
        }
    }
    jt_buf_clear(&b);
    return o;
}

/* Members in key order, at every level, as skywelld prints JSON. */
static void sort_tree(yajl_val v)
{
    if (YAJL_IS_ARRAY(v)) {
        for (size_t i = 0; i < v->u.array.len; i++)
            sort_tree(v->u.array.values[i]);
        return;
    }
    if (!YAJL_IS_OBJECT(v))
        return;
    size_t n = v->u.object.len;
    for (size_t i = 0; i < n; i++)
        sort_tree(v->u.object.values[i]);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(v->u.object.keys[j - 1], v->u.object.keys[j]) > 0; j--) {
            const char *k = v->u.object.keys[j];
            yajl_val x = v->u.object.values[j];
            v->u.object.keys[j] = v->u.object.keys[j - 1];
            v->u.object.values[j] = v->u.object.values[j - 1];
            v->u.object.keys[j - 1] = k;
            v->u.object.values[j - 1] = x;
        }
}

/* The object as the runner shows it: a JSON tree with names and symbols,
 * members in key order. */
static yajl_val obj_tree(sc *c, const jt_obj *o)
{
    jt_buf b;
    jt_buf_init(&b);
    assert_int_equal(jt_obj_to_json(o, &b), JT_OK);
    yajl_val v = jparse((const char *)b.data);
    jt_buf_clear(&b);
    rev_tree(c, v);
    sort_tree(v);
    return v;
}

/* Field f of o as a tree (NULL when absent). */
static yajl_val field_tree(sc *c, const jt_obj *o, const char *field)
{
    const jt_field *f = jt_field_by_name(field);
    if (!f || !jt_obj_has_f(o, f))
        return NULL;
    jt_obj *one = jt_obj_new();
    assert_non_null(one);
    assert_int_equal(jt_obj_copy_field(one, o, f), JT_OK);
    yajl_val t = obj_tree(c, one);
    jt_obj_free(one);
    assert_true(YAJL_IS_OBJECT(t) && t->u.object.len == 1);
    yajl_val v = t->u.object.values[0];
    t->u.object.values[0] = NULL;
    yajl_tree_free(t);
    return v;
}

static const char *show(jt_buf *b, yajl_val v)
{
    b->len = 0;
    if (!v)
        bputs(b, "(absent)");
    else
        put_compact(b, v, true);
    return bstr(b);
}

/* Lines "PATH: expected X, actual Y" for every difference of two trees. */
static void tree_diff(jt_buf *out, const char *path, yajl_val e, yajl_val a, int *lines)
{
    jt_buf x, y;
    if (*lines >= MAX_DIFF_LINES)
        return;
    bool both_obj = YAJL_IS_OBJECT(e) && YAJL_IS_OBJECT(a);
    bool both_arr = YAJL_IS_ARRAY(e) && YAJL_IS_ARRAY(a);
    if (both_obj) {
        for (size_t i = 0; i < e->u.object.len; i++) {
            char p[512];
            snprintf(p, sizeof p, "%s%s%s", path, *path ? "." : "", e->u.object.keys[i]);
            tree_diff(out, p, e->u.object.values[i], jget(a, e->u.object.keys[i]), lines);
        }
        for (size_t i = 0; i < a->u.object.len; i++)
            if (!jget(e, a->u.object.keys[i])) {
                char p[512];
                snprintf(p, sizeof p, "%s%s%s", path, *path ? "." : "", a->u.object.keys[i]);
                tree_diff(out, p, NULL, a->u.object.values[i], lines);
            }
        return;
    }
    if (both_arr) {
        size_t n = e->u.array.len > a->u.array.len ? e->u.array.len : a->u.array.len;
        for (size_t i = 0; i < n; i++) {
            yajl_val ei = i < e->u.array.len ? e->u.array.values[i] : NULL;
            yajl_val ai = i < a->u.array.len ? a->u.array.values[i] : NULL;
            /* An affected node is named by its LedgerIndex. */
            yajl_val w = ei ? ei : ai;
            const char *li = NULL;
            if (YAJL_IS_OBJECT(w) && w->u.object.len == 1)
                li = jstr(w->u.object.values[0], "LedgerIndex");
            char p[512];
            snprintf(p, sizeof p, "%s[%zu]%s%s%s", path, i, li ? "(" : "", li ? li : "",
                     li ? ")" : "");
            tree_diff(out, p, ei, ai, lines);
        }
        return;
    }
    jt_buf_init(&x);
    jt_buf_init(&y);
    show(&x, e);
    show(&y, a);
    if (!e || !a || strcmp(bstr(&x), bstr(&y))) {
        bprintf(out, "    %s: expected %s, actual %s\n", *path ? path : "(value)", bstr(&x),
                bstr(&y));
        (*lines)++;
    }
    jt_buf_clear(&x);
    jt_buf_clear(&y);
}

/* Reports two objects that should be equal: the differing fields, then
 * both in full. */
static void report_objs(sc *c, const char *what, yajl_val exp, yajl_val act)
{
    jt_buf msg;
    jt_buf_init(&msg);
    int lines = 0;
    bprintf(&msg, "%s differs:\n", what);
    tree_diff(&msg, "", exp, act, &lines);
    if (lines >= MAX_DIFF_LINES)
        bputs(&msg, "    ...\n");
    bputs(&msg, "  expected: ");
    put_pretty(&msg, exp, 2, 12);
    bputs(&msg, "\n  actual:   ");
    put_pretty(&msg, act, 2, 12);
    mismatch(c, "%s", bstr(&msg));
    jt_buf_clear(&msg);
}

/* ---------------------------------------------------------------- names */

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n >= sizeof(((name_ent *)0)->name) || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* Members of `key` at file level, then at scenario level. */
static size_t both_len(sc *c, const char *key, yajl_val *first, yajl_val *second)
{
    *first = jget(c->file, key);
    *second = jget(c->scen, key);
    return jlen(*first) + jlen(*second);
}

static yajl_val both_at(yajl_val first, yajl_val second, size_t i)
{
    return i < jlen(first) ? first->u.array.values[i] : second->u.array.values[i - jlen(first)];
}

static int add_names(sc *c, yajl_val accounts)
{
    if (!accounts)
        return 0;
    if (!YAJL_IS_OBJECT(accounts)) {
        fx_error(c, "\"accounts\" is not an object");
        return -1;
    }
    for (size_t i = 0; i < accounts->u.object.len; i++) {
        const char *k = accounts->u.object.keys[i];
        yajl_val v = accounts->u.object.values[i];
        if (!valid_name(k)) {
            fx_error(c, "account name \"%s\": use [a-z][a-z0-9_]*", k);
            return -1;
        }
        name_ent *n = name_find(c, k);
        if (!n) {
            if (c->n_names == MAX_NAMES) {
                fx_error(c, "more than %d accounts", MAX_NAMES);
                return -1;
            }
            n = &c->names[c->n_names++];
            snprintf(n->name, sizeof n->name, "%s", k);
            jt_seed seed;
            jt_seed_from_passphrase(k, JT_KEY_SECP256K1, &seed);
            assert_int_equal(jt_keypair_from_seed(&seed, &n->kp), JT_OK);
            assert_int_equal(jt_account_id_from_pubkey(n->kp.pub, 33, &n->id), JT_OK);
            assert_int_equal(jt_address_encode(&n->id, n->addr), JT_OK);
        }
        n->spec = v; /* the scenario's description replaces the file's */
        n->exists = !(YAJL_IS_OBJECT(v) && YAJL_IS_FALSE(jget(v, "exists")));
    }
    return 0;
}

/* ---------------------------------------------------------------- key checks */

static bool key_in(const char *k, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(k, *list))
            return true;
    return false;
}

/* Every member of obj is in `allowed`, or (when fields_ok) a capitalized
 * field name libjt knows. */
static int check_keys(sc *c, yajl_val obj, const char *what, const char *const *allowed,
                      bool fields_ok)
{
    if (!YAJL_IS_OBJECT(obj)) {
        fx_error(c, "%s is not an object", what);
        return -1;
    }
    for (size_t i = 0; i < obj->u.object.len; i++) {
        const char *k = obj->u.object.keys[i];
        if (key_in(k, allowed))
            continue;
        if (fields_ok && is_upper_first(k) && jt_field_by_name(k))
            continue;
        fx_error(c, "%s: unknown key \"%s\"", what, k);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- starting state */

typedef struct dir_acc {
    uint8_t id[32];
    const name_ent *owner; /* owner directory; NULL for a book */
    jt_amount pays, gets;  /* book */
    uint64_t quality;
    uint8_t (*items)[32];
    size_t n, cap;
} dir_acc;

typedef struct setup {
    sc *c;
    jn_map *base;
    dir_acc *dirs;
    size_t n_dirs;
    uint32_t owners[MAX_NAMES]; /* objects each named account owns */
} setup;

static int put_entry(setup *s, const uint8_t id[32], jt_obj *o, const char *what)
{
    if (jn_map_find(s->base, id)) {
        char h[65];
        hex32(id, h);
        fx_error(s->c, "%s: entry %s is given twice", what, h);
        jt_obj_free(o);
        return -1;
    }
    /* Through jn_map_put, which keeps the base's book index. */
    assert_int_equal(jn_map_put(s->base, id, o), 0);
    return 0;
}

static void dir_item(setup *s, const uint8_t dir[32], const name_ent *owner, const jt_amount *pays,
                     const jt_amount *gets, uint64_t q, const uint8_t item[32])
{
    dir_acc *d = NULL;
    for (size_t i = 0; i < s->n_dirs; i++)
        if (!memcmp(s->dirs[i].id, dir, 32))
            d = &s->dirs[i];
    if (!d) {
        s->dirs = realloc(s->dirs, (s->n_dirs + 1) * sizeof *s->dirs);
        assert_non_null(s->dirs);
        d = &s->dirs[s->n_dirs++];
        memset(d, 0, sizeof *d);
        memcpy(d->id, dir, 32);
        d->owner = owner;
        if (pays) {
            d->pays = *pays;
            d->gets = *gets;
            d->quality = q;
        }
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 8;
        d->items = realloc(d->items, d->cap * sizeof *d->items);
        assert_non_null(d->items);
    }
    memcpy(d->items[d->n++], item, 32);
}

static void owner_item(setup *s, const name_ent *owner, const uint8_t item[32])
{
    uint8_t dir[32];
    jn_id_owner_dir(&owner->id, dir);
    dir_item(s, dir, owner, NULL, NULL, 0, item);
}

static uint32_t *owner_count(setup *s, const name_ent *n)
{
    return &s->owners[n - s->c->names];
}

static name_ent *need_name(sc *c, yajl_val obj, const char *key, const char *what)
{
    const char *v = jstr(obj, key);
    name_ent *n = v ? name_find(c, v) : NULL;
    if (!n)
        fx_error(c, "%s: \"%s\" must name an account", what, key);
    return n;
}

/* Text of a JSON string or number (values, sequences). */
static const char *scalar_text(yajl_val v)
{
    if (YAJL_IS_STRING(v))
        return YAJL_GET_STRING(v);
    if (YAJL_IS_NUMBER(v))
        return YAJL_GET_NUMBER(v);
    return NULL;
}

static bool uint_of(yajl_val v, uint64_t *out)
{
    const char *t = scalar_text(v);
    if (!t || !*t)
        return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(t, &end, 10);
    if (errno || *end || t[0] == '-')
        return false;
    *out = x;
    return true;
}

static int value_sign(sc *c, const char *value, const char *what)
{
    bool neg;
    uint64_t m;
    int32_t e;
    if (jt_amount_parse_value(value, JT_AMOUNT_ALLOW_NEGATIVE, &neg, &m, &e, NULL) != JT_OK) {
        fx_error(c, "%s: bad value \"%s\"", what, value);
        return 2;
    }
    return m == 0 ? 0 : neg ? -1 : 1;
}

/* "-x" for "x" and back ("0" stays). */
static void negate_text(const char *v, char *out, size_t cap)
{
    if (v[0] == '-')
        snprintf(out, cap, "%s", v + 1);
    else if (v[0] == '+')
        snprintf(out, cap, "-%s", v + 1);
    else
        snprintf(out, cap, "-%s", v);
}

/* Writes the JSON of an issued amount. */
static void jw_issued(jt_jw *w, const char *value, const char *cur, const char *issuer)
{
    jt_jw_object_begin(w);
    jt_jw_key(w, "currency");
    jt_jw_string(w, cur);
    jt_jw_key(w, "issuer");
    jt_jw_string(w, issuer);
    jt_jw_key(w, "value");
    jt_jw_string(w, value);
    jt_jw_object_end(w);
}

static void jw_threading(sc *c, jt_jw *w)
{
    jt_jw_key(w, "PreviousTxnID");
    jt_jw_hex(w, c->setup_id, 32);
    jt_jw_key(w, "PreviousTxnLgrSeq");
    jt_jw_uint(w, c->env0.ledger_seq - 1);
}

static jt_obj *json_obj(sc *c, jt_buf *b, const char *what)
{
    jt_obj *o;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    if (jt_obj_from_json((const char *)b->data, b->len, &o, &ei) != JT_OK) {
        fx_error(c, "%s: %s", what, ei.msg);
        return NULL;
    }
    return o;
}

static const char *const LINE_FLAG_NAMES[] = {"holder_auth", "holder_no_skywell", "holder_freeze",
                                              "issuer_auth", "issuer_no_skywell", "issuer_freeze",
                                              NULL};

/* "lines": {"holder", "issuer", "currency", "limit", "balance" (the
 * holder's), "issuer_limit", "flags": [LINE_FLAG_NAMES...]}. Each side
 * whose state is not the default (a limit, a positive balance, a freeze or
 * NoSkywell flag: skywelld's rule) holds a reserve and counts as an owned
 * object of that account. */
static int setup_line(setup *s, yajl_val l)
{
    static const char *const keys[] = {"holder",       "issuer", "currency", "limit", "balance",
                                       "issuer_limit", "flags",  "note",     NULL};
    sc *c = s->c;
    if (check_keys(c, l, "a line", keys, false))
        return -1;
    name_ent *h = need_name(c, l, "holder", "a line"), *i = need_name(c, l, "issuer", "a line");
    const char *cur_text = jstr(l, "currency");
    jt_currency cur;
    if (!h || !i || !cur_text || !currency_of(c, cur_text, &cur))
        return -1;
    const char *limit = scalar_text(jget(l, "limit")), *bal = scalar_text(jget(l, "balance"));
    const char *ilimit = scalar_text(jget(l, "issuer_limit"));
    limit = limit ? limit : "0";
    bal = bal ? bal : "0";
    ilimit = ilimit ? ilimit : "0";
    int sl = value_sign(c, limit, "line limit"), sb = value_sign(c, bal, "line balance"),
        si = value_sign(c, ilimit, "line issuer_limit");
    if (c->broken)
        return -1;
    bool holder_low = memcmp(h->id.bytes, i->id.bytes, 20) < 0;
    uint32_t flags = 0;
    bool hfreeze = false, ifreeze = false, hns = false, ins = false;
    yajl_val fl = jget(l, "flags");
    for (size_t k = 0; k < jlen(fl); k++) {
        const char *f =
            YAJL_IS_STRING(fl->u.array.values[k]) ? YAJL_GET_STRING(fl->u.array.values[k]) : "";
        bool holder = !strncmp(f, "holder_", 7);
        bool low = holder == holder_low;
        if (!key_in(f, LINE_FLAG_NAMES)) {
            fx_error(c, "a line: unknown flag \"%s\"", f);
            return -1;
        }
        const char *what = strchr(f, '_') + 1;
        if (!strcmp(what, "auth"))
            flags |= low ? JT_LSF_LOW_AUTH : JT_LSF_HIGH_AUTH;
        else if (!strcmp(what, "no_skywell"))
            flags |= low ? JT_LSF_LOW_NO_SKYWELL : JT_LSF_HIGH_NO_SKYWELL;
        else
            flags |= low ? JT_LSF_LOW_FREEZE : JT_LSF_HIGH_FREEZE;
        if (!strcmp(what, "freeze"))
            *(holder ? &hfreeze : &ifreeze) = true;
        if (!strcmp(what, "no_skywell"))
            *(holder ? &hns : &ins) = true;
    }
    bool hres = sl != 0 || sb > 0 || hfreeze || hns, ires = si != 0 || sb < 0 || ifreeze || ins;
    if (hres) {
        flags |= holder_low ? JT_LSF_LOW_RESERVE : JT_LSF_HIGH_RESERVE;
        (*owner_count(s, h))++;
    }
    if (ires) {
        flags |= holder_low ? JT_LSF_HIGH_RESERVE : JT_LSF_LOW_RESERVE;
        (*owner_count(s, i))++;
    }
    char low_bal[64];
    if (holder_low)
        snprintf(low_bal, sizeof low_bal, "%s", bal);
    else if (sb == 0)
        snprintf(low_bal, sizeof low_bal, "0");
    else
        negate_text(bal, low_bal, sizeof low_bal);
    const name_ent *lo = holder_low ? h : i, *hi = holder_low ? i : h;
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "LedgerEntryType");
    jt_jw_string(&w, "SkywellState");
    jt_jw_key(&w, "Flags");
    jt_jw_uint(&w, flags);
    jt_jw_key(&w, "Balance");
    jw_issued(&w, low_bal, cur_text, g_account_one);
    jt_jw_key(&w, "LowLimit");
    jw_issued(&w, holder_low ? limit : ilimit, cur_text, lo->addr);
    jt_jw_key(&w, "HighLimit");
    jw_issued(&w, holder_low ? ilimit : limit, cur_text, hi->addr);
    jt_jw_key(&w, "LowNode");
    jt_jw_string(&w, "0");
    jt_jw_key(&w, "HighNode");
    jt_jw_string(&w, "0");
    jw_threading(c, &w);
    jt_jw_object_end(&w);
    assert_int_equal(jt_jw_finish(&w), JT_OK);
    jt_obj *o = json_obj(c, &b, "a line");
    jt_buf_clear(&b);
    if (!o)
        return -1;
    uint8_t id[32];
    jn_id_line(&h->id, &i->id, &cur, id);
    if (put_entry(s, id, o, "a line"))
        return -1;
    owner_item(s, h, id);
    owner_item(s, i, id);
    return 0;
}

static bool amount_of(sc *c, yajl_val v, jt_amount *a, const char *what)
{
    jt_buf b;
    jt_buf_init(&b);
    bputs(&b, "{\"Amount\":");
    bool ok = !emit(c, &b, v, NULL);
    bputs(&b, "}");
    jt_obj *o = ok ? json_obj(c, &b, what) : NULL;
    jt_buf_clear(&b);
    ok = o && jt_obj_get_amount(o, "Amount", a) == JT_OK;
    jt_obj_free(o);
    if (!ok && !c->broken)
        fx_error(c, "%s: not an amount", what);
    return ok;
}

/* "offers": {"owner", "sequence", "taker_pays", "taker_gets", "Flags",
 * "Expiration"}: the Offer, its book directory and its owner's directory,
 * as OfferCreate places one. */
static int setup_offer(setup *s, yajl_val v)
{
    static const char *const keys[] = {"owner", "sequence",   "taker_pays", "taker_gets",
                                       "Flags", "Expiration", "note",       NULL};
    sc *c = s->c;
    if (check_keys(c, v, "an offer", keys, false))
        return -1;
    name_ent *n = need_name(c, v, "owner", "an offer");
    uint64_t seq, flags = 0, exp = 0;
    jt_amount pays, gets;
    if (!n)
        return -1;
    if (!uint_of(jget(v, "sequence"), &seq) ||
        (jget(v, "Flags") && !uint_of(jget(v, "Flags"), &flags)) ||
        (jget(v, "Expiration") && !uint_of(jget(v, "Expiration"), &exp))) {
        fx_error(c, "an offer: \"sequence\", \"Flags\" and \"Expiration\" are numbers");
        return -1;
    }
    if (!amount_of(c, jget(v, "taker_pays"), &pays, "offer taker_pays") ||
        !amount_of(c, jget(v, "taker_gets"), &gets, "offer taker_gets"))
        return -1;
    uint64_t q = jt_amount_rate(&gets, &pays); /* skywelld's getRate(TakerGets, TakerPays) */
    uint8_t book[32], id[32];
    jn_id_book_base(&pays.currency, &pays.issuer, &gets.currency, &gets.issuer, book);
    for (int i = 0; i < 8; i++)
        book[24 + i] = (uint8_t)(q >> (56 - 8 * i));
    jn_id_offer(&n->id, (uint32_t)seq, id);
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "LedgerEntryType");
    jt_jw_string(&w, "Offer");
    jt_jw_key(&w, "Flags");
    jt_jw_uint(&w, flags);
    jt_jw_key(&w, "Account");
    jt_jw_string(&w, n->addr);
    jt_jw_key(&w, "Sequence");
    jt_jw_uint(&w, seq);
    jt_jw_key(&w, "BookDirectory");
    jt_jw_hex(&w, book, 32);
    jt_jw_key(&w, "BookNode");
    jt_jw_string(&w, "0");
    jt_jw_key(&w, "OwnerNode");
    jt_jw_string(&w, "0");
    if (jget(v, "Expiration")) {
        jt_jw_key(&w, "Expiration");
        jt_jw_uint(&w, exp);
    }
    jw_threading(c, &w);
    jt_jw_object_end(&w);
    assert_int_equal(jt_jw_finish(&w), JT_OK);
    jt_obj *o = json_obj(c, &b, "an offer");
    jt_buf_clear(&b);
    if (!o)
        return -1;
    assert_int_equal(jt_obj_set_amount(o, "TakerPays", &pays), JT_OK);
    assert_int_equal(jt_obj_set_amount(o, "TakerGets", &gets), JT_OK);
    if (put_entry(s, id, o, "an offer"))
        return -1;
    dir_item(s, book, NULL, &pays, &gets, q, id);
    owner_item(s, n, id);
    (*owner_count(s, n))++;
    return 0;
}

/* "relations": {"account", "target", "type", "limit"}: a TrustState as
 * RelationSet makes it, in both accounts' directories. */
static int setup_relation(setup *s, yajl_val v)
{
    static const char *const keys[] = {"account", "target", "type", "limit", "note", NULL};
    sc *c = s->c;
    if (check_keys(c, v, "a relation", keys, false))
        return -1;
    name_ent *a = need_name(c, v, "account", "a relation"),
             *t = need_name(c, v, "target", "a relation");
    uint64_t type;
    jt_amount lim;
    if (!a || !t)
        return -1;
    if (!uint_of(jget(v, "type"), &type)) {
        fx_error(c, "a relation: \"type\" is a number");
        return -1;
    }
    if (!amount_of(c, jget(v, "limit"), &lim, "relation limit"))
        return -1;
    jt_obj *o = jt_obj_new();
    assert_non_null(o);
    assert_int_equal(jt_obj_set_uint(o, "LedgerEntryType", JT_LT_TRUST_STATE), JT_OK);
    assert_int_equal(jt_obj_set_uint(o, "Flags", 0), JT_OK);
    assert_int_equal(jt_obj_set_account(o, "Account", &a->id), JT_OK);
    assert_int_equal(jt_obj_set_account(o, "Target", &t->id), JT_OK);
    assert_int_equal(jt_obj_set_uint(o, "RelationType", type), JT_OK);
    assert_int_equal(jt_obj_set_uint(o, "OwnerNode", 0), JT_OK);
    assert_int_equal(jt_obj_set_uint(o, "LowNode", 0), JT_OK);
    assert_int_equal(jt_obj_set_uint(o, "HighNode", 0), JT_OK);
    assert_int_equal(jt_obj_set_amount(o, "LimitAmount", &lim), JT_OK);
    assert_int_equal(jt_obj_set_bytes(o, "PreviousTxnID", c->setup_id, 32), JT_OK);
    assert_int_equal(jt_obj_set_uint(o, "PreviousTxnLgrSeq", c->env0.ledger_seq - 1), JT_OK);
    uint8_t id[32];
    jn_id_relation(&a->id, &t->id, (uint32_t)type, &lim.currency, id);
    if (put_entry(s, id, o, "a relation"))
        return -1;
    owner_item(s, a, id);
    owner_item(s, t, id);
    (*owner_count(s, a))++;
    return 0;
}

/* "entries": raw ledger entries in skywelld's JSON form; "index" gives the
 * ID (a symbol is fine), else it is worked out from the entry's fields. */
static int setup_raw(setup *s, yajl_val v)
{
    sc *c = s->c;
    jt_obj *o = to_obj(c, v, "index", "a raw entry");
    if (!o)
        return -1;
    uint8_t id[32];
    const char *idx = jstr(v, "index");
    uint64_t lt = get_uint(o, "LedgerEntryType", 0);
    jt_account_id a, b;
    jt_amount x, y;
    const uint8_t *p;
    size_t n;
    bool ok = true;
    if (idx) {
        char h[128];
        int r = fwd(c, idx, h, sizeof h);
        size_t got;
        ok = r >= 0 && jt_hex_decode(r ? h : idx, 64, id, 32, &got) == JT_OK && got == 32 &&
             strlen(r ? h : idx) == 64;
    } else if (lt == JT_LT_ACCOUNT_ROOT && jt_obj_get_account(o, "Account", &a) == JT_OK) {
        jn_id_account(&a, id);
    } else if (lt == JT_LT_SKYWELL_STATE && jt_obj_get_amount(o, "LowLimit", &x) == JT_OK &&
               jt_obj_get_amount(o, "HighLimit", &y) == JT_OK) {
        jn_id_line(&x.issuer, &y.issuer, &x.currency, id);
    } else if (lt == JT_LT_OFFER && jt_obj_get_account(o, "Account", &a) == JT_OK) {
        uint64_t seq = 0;
        ok = jt_obj_get_uint(o, "Sequence", &seq) == JT_OK;
        jn_id_offer(&a, (uint32_t)seq, id);
    } else if (lt == JT_LT_TRUST_STATE && jt_obj_get_account(o, "Account", &a) == JT_OK &&
               jt_obj_get_account(o, "Target", &b) == JT_OK &&
               jt_obj_get_amount(o, "LimitAmount", &x) == JT_OK) {
        uint64_t type = 0;
        ok = jt_obj_get_uint(o, "RelationType", &type) == JT_OK;
        jn_id_relation(&a, &b, (uint32_t)type, &x.currency, id);
    } else if (lt == JT_LT_DIRECTORY_NODE && jt_obj_get_bytes(o, "RootIndex", &p, &n) == JT_OK &&
               n == 32) {
        memcpy(id, p, 32);
    } else {
        ok = false;
    }
    if (!ok) {
        jt_obj_free(o);
        if (!c->broken)
            fx_error(c, "a raw entry: give its \"index\" (64 hex digits or a symbol)");
        return -1;
    }
    return put_entry(s, id, o, "a raw entry");
}

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

static int setup_dirs(setup *s)
{
    for (size_t i = 0; i < s->n_dirs; i++) {
        dir_acc *d = &s->dirs[i];
        qsort(d->items, d->n, 32, cmp_id);
        jt_obj *o = jt_obj_new();
        assert_non_null(o);
        assert_int_equal(jt_obj_set_uint(o, "LedgerEntryType", JT_LT_DIRECTORY_NODE), JT_OK);
        assert_int_equal(jt_obj_set_uint(o, "Flags", 0), JT_OK);
        assert_int_equal(jt_obj_set_bytes(o, "RootIndex", d->id, 32), JT_OK);
        assert_int_equal(jt_obj_set_bytes(o, "Indexes", d->items[0], d->n * 32), JT_OK);
        if (d->owner) {
            assert_int_equal(jt_obj_set_account(o, "Owner", &d->owner->id), JT_OK);
        } else {
            assert_int_equal(jt_obj_set_bytes(o, "TakerPaysCurrency", d->pays.currency.bytes, 20),
                             JT_OK);
            assert_int_equal(jt_obj_set_bytes(o, "TakerPaysIssuer", d->pays.issuer.bytes, 20),
                             JT_OK);
            assert_int_equal(jt_obj_set_bytes(o, "TakerGetsCurrency", d->gets.currency.bytes, 20),
                             JT_OK);
            assert_int_equal(jt_obj_set_bytes(o, "TakerGetsIssuer", d->gets.issuer.bytes, 20),
                             JT_OK);
            assert_int_equal(jt_obj_set_uint(o, "ExchangeRate", d->quality), JT_OK);
        }
        if (put_entry(s, d->id, o, "a directory"))
            return -1;
    }
    return 0;
}

/* AccountRoot of a named account: "NAME": "DROPS", or {"balance": DROPS,
 * "exists": false, AccountRoot fields (Sequence, Flags, OwnerCount,
 * RegularKey, TransferRate, ...)}. OwnerCount defaults to the objects the
 * account owns among the "lines", "offers" and "relations". */
static int setup_root(setup *s, name_ent *n)
{
    static const char *const keys[] = {"balance", "exists", "note", NULL};
    sc *c = s->c;
    yajl_val v = n->spec, bal = v;
    snprintf(c->where, sizeof c->where, "account \"%s\"", n->name);
    if (YAJL_IS_OBJECT(v)) {
        if (check_keys(c, v, "an account", keys, true))
            return -1;
        bal = jget(v, "balance");
    }
    uint64_t drops;
    if (!uint_of(bal, &drops)) {
        fx_error(c, "the balance is a number of drops (\"balance\")");
        return -1;
    }
    jt_buf b;
    jt_buf_init(&b);
    bprintf(&b, "{\"LedgerEntryType\":\"AccountRoot\",\"Account\":\"%s\",\"Balance\":\"%llu\"",
            n->addr, (unsigned long long)drops);
    static const char *const dflt[] = {"Sequence",      "OwnerCount",        "Flags",
                                       "PreviousTxnID", "PreviousTxnLgrSeq", NULL};
    char setup_hex[65];
    hex32(c->setup_id, setup_hex);
    char vals[5][80];
    snprintf(vals[0], sizeof vals[0], "1");
    snprintf(vals[1], sizeof vals[1], "%u", *owner_count(s, n));
    snprintf(vals[2], sizeof vals[2], "0");
    snprintf(vals[3], sizeof vals[3], "\"%s\"", setup_hex);
    snprintf(vals[4], sizeof vals[4], "%u", c->env0.ledger_seq - 1);
    for (int i = 0; dflt[i]; i++)
        if (!jget(v, dflt[i]))
            bprintf(&b, ",\"%s\":%s", dflt[i], vals[i]);
    int rc = 0;
    if (YAJL_IS_OBJECT(v))
        for (size_t i = 0; i < v->u.object.len && !rc; i++) {
            const char *k = v->u.object.keys[i];
            if (!is_upper_first(k))
                continue;
            bputs(&b, ",");
            put_str(&b, k);
            bputs(&b, ":");
            rc = emit(c, &b, v->u.object.values[i], NULL);
        }
    bputs(&b, "}");
    jt_obj *o = rc ? NULL : json_obj(c, &b, "an account");
    jt_buf_clear(&b);
    if (!o)
        return -1;
    uint8_t id[32];
    jn_id_account(&n->id, id);
    return put_entry(s, id, o, "an account");
}

/* Builds the starting state into base. */
static int build_base(sc *c, jn_map *base)
{
    setup s = {.c = c, .base = base};
    int rc = 0;
    yajl_val f, g;
    size_t n = both_len(c, "lines", &f, &g);
    for (size_t i = 0; i < n && !rc; i++) {
        snprintf(c->where, sizeof c->where, "lines[%zu]", i);
        rc = setup_line(&s, both_at(f, g, i));
    }
    n = both_len(c, "offers", &f, &g);
    for (size_t i = 0; i < n && !rc; i++) {
        snprintf(c->where, sizeof c->where, "offers[%zu]", i);
        rc = setup_offer(&s, both_at(f, g, i));
    }
    n = both_len(c, "relations", &f, &g);
    for (size_t i = 0; i < n && !rc; i++) {
        snprintf(c->where, sizeof c->where, "relations[%zu]", i);
        rc = setup_relation(&s, both_at(f, g, i));
    }
    n = both_len(c, "entries", &f, &g);
    for (size_t i = 0; i < n && !rc; i++) {
        snprintf(c->where, sizeof c->where, "entries[%zu]", i);
        rc = setup_raw(&s, both_at(f, g, i));
    }
    snprintf(c->where, sizeof c->where, "directories");
    if (!rc)
        rc = setup_dirs(&s);
    for (size_t i = 0; i < c->n_names && !rc; i++)
        if (c->names[i].exists)
            rc = setup_root(&s, &c->names[i]);
    for (size_t i = 0; i < s.n_dirs; i++)
        free(s.dirs[i].items);
    free(s.dirs);
    return rc || c->broken ? -1 : 0;
}

/* ---------------------------------------------------------------- symbols table */

static void add_currency(sc *c, const char *t)
{
    jt_currency cur;
    if (!t || jt_currency_from_text(t, false, &cur, NULL) != JT_OK)
        return;
    for (size_t i = 0; i < c->n_currencies; i++)
        if (!strcmp(c->currencies[i], t))
            return;
    if (c->n_currencies < MAX_CURRENCIES)
        snprintf(c->currencies[c->n_currencies++], JT_CURRENCY_TEXT_MAX, "%s", t);
}

/* Currencies the fixture mentions: "currency" members, line and relation
 * locators, and symbols. */
static void scan_currencies(sc *c, yajl_val v, const char *key)
{
    if (YAJL_IS_STRING(v)) {
        const char *s = YAJL_GET_STRING(v);
        if (key && !strcmp(key, "currency"))
            add_currency(c, s);
        if (!strncmp(s, "$line:", 6) || !strncmp(s, "$rel:", 5)) {
            const char *last = strrchr(s, '/');
            if (last)
                add_currency(c, last + 1);
        }
    } else if (YAJL_IS_OBJECT(v)) {
        for (size_t i = 0; i < v->u.object.len; i++)
            scan_currencies(c, v->u.object.values[i], v->u.object.keys[i]);
    } else if (YAJL_IS_ARRAY(v)) {
        if (key && (!strcmp(key, "line") || !strcmp(key, "relation")) && jlen(v) >= 3)
            add_currency(c, scalar_text(v->u.array.values[v->u.array.len - 1]));
        for (size_t i = 0; i < v->u.array.len; i++)
            scan_currencies(c, v->u.array.values[i], NULL);
    }
}

/* The IDs the runner prints as symbols. */
static void build_syms(sc *c, size_t n_txs)
{
    uint8_t id[32];
    sym_add(c, c->setup_id, "$setup");
    scan_currencies(c, c->file, NULL);
    for (size_t i = 0; i < c->n_names; i++) {
        name_ent *a = &c->names[i];
        jn_id_account(&a->id, id);
        sym_add(c, id, "$account:%s", a->name);
        jn_id_owner_dir(&a->id, id);
        sym_add(c, id, "$dir:%s", a->name);
        uint64_t seq0 = 1;
        if (YAJL_IS_OBJECT(a->spec))
            (void)uint_of(jget(a->spec, "Sequence"), &seq0);
        for (uint64_t q = seq0 > 64 ? seq0 - 64 : 1; q <= seq0 + n_txs + 64; q++) {
            jn_id_offer(&a->id, (uint32_t)q, id);
            sym_add(c, id, "$offer:%s/%llu", a->name, (unsigned long long)q);
        }
        for (size_t j = 0; j < c->n_names; j++) {
            name_ent *b = &c->names[j];
            if (i == j)
                continue;
            for (size_t k = 0; k < c->n_currencies; k++) {
                jt_currency cur;
                assert_int_equal(jt_currency_from_text(c->currencies[k], false, &cur, NULL), JT_OK);
                if (i < j) {
                    const name_ent *x = strcmp(a->name, b->name) < 0 ? a : b, *y = x == a ? b : a;
                    jn_id_line(&a->id, &b->id, &cur, id);
                    sym_add(c, id, "$line:%s/%s/%s", x->name, y->name, c->currencies[k]);
                }
                for (uint32_t t = 1; t <= 3; t += 2) {
                    jn_id_relation(&a->id, &b->id, t, &cur, id);
                    sym_add(c, id, "$rel:%s/%s/%u/%s", a->name, b->name, t, c->currencies[k]);
                }
            }
        }
    }
}

/* ---------------------------------------------------------------- runs */

/* In the order they run: a run without metadata (as path finding's trials
 * apply) leaves each transaction's memo (what its first apply worked out)
 * for the fast-path run to reuse, as a held transaction's retry reuses what
 * its first apply found. */
enum { RUN_GENERAL, RUN_OPEN, RUN_FAST, N_RUNS };
static const char *const RUN_NAMES[N_RUNS] = {"general path", "no metadata",
                                              "fast path allowed"};

typedef struct txrec {
    int ter;
    jt_buf meta; /* binary, claimed results of runs with metadata */
} txrec;

typedef struct ent {
    uint8_t id[32];
    jt_buf bin;
} ent;

typedef struct snapshot {
    ent *v;
    size_t n, cap;
} snapshot;

typedef struct runner {
    sc *c;
    int mode;
    jn_map base;
    jn_view view;
    jn_env env;
    uint32_t index;
    txrec *rec;
    jn_txmemo *memos; /* per transaction; NULL: a fresh memo each time */
    snapshot final;
} runner;

static void snap_entry(void *ctx, const uint8_t id[32], const jt_obj *o)
{
    snapshot *s = ctx;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        assert_non_null(s->v);
    }
    ent *e = &s->v[s->n++];
    memcpy(e->id, id, 32);
    jt_buf_init(&e->bin);
    assert_int_equal(jt_obj_to_binary(o, 0, &e->bin), JT_OK);
}

static int cmp_ent(const void *a, const void *b)
{
    return memcmp(((const ent *)a)->id, ((const ent *)b)->id, 32);
}

static void snap_free(snapshot *s)
{
    for (size_t i = 0; i < s->n; i++)
        jt_buf_clear(&s->v[i].bin);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* Ends the ledger: its changes go into the base, the next one opens. */
static void close_ledger(runner *r)
{
    size_t i = 0;
    jn_slot *s;
    while ((s = jn_map_next(&r->view.changes, &i))) {
        if (s->deleted) {
            jn_map_remove(&r->base, s->id);
            continue;
        }
        jt_obj *o = jt_obj_clone(s->obj);
        assert_non_null(o);
        assert_int_equal(jn_map_put(&r->base, s->id, o), 0);
    }
    jn_view_clear(&r->view);
    jn_view_init(&r->view, NULL, &r->base);
    r->env.ledger_seq++;
    r->env.parent_close_time += 10;
    r->index = 0;
}

/* The transaction of a step, as jn_apply gets it: names expanded, then
 * Fee (the base fee), Sequence (the account's) and SigningPubKey (the key
 * of "signer", else of the named Account) filled in when absent. */
static jt_obj *build_tx(runner *r, yajl_val item, uint8_t id[32])
{
    sc *c = r->c;
    jt_obj *tx = to_obj(c, jget(item, "tx"), NULL, "tx");
    if (!tx)
        return NULL;
    jt_account_id acct;
    name_ent *who = NULL;
    if (jt_obj_get_account(tx, "Account", &acct) == JT_OK)
        who = name_by_id(c, &acct);
    const char *signer = jstr(item, "signer");
    if (signer && !(who = name_find(c, signer))) {
        fx_error(c, "\"signer\" must name an account");
        jt_obj_free(tx);
        return NULL;
    }
    if (!jt_obj_has(tx, "Fee")) {
        jt_amount fee;
        jt_amount_native(&fee, (int64_t)r->env.base_fee);
        assert_int_equal(jt_obj_set_amount(tx, "Fee", &fee), JT_OK);
    }
    if (!jt_obj_has(tx, "Sequence")) {
        uint8_t k[32];
        jn_id_account(&acct, k);
        const jt_obj *root = jn_view_read(&r->view, k);
        uint64_t seq = root ? get_uint(root, "Sequence", 1) : 1;
        assert_int_equal(jt_obj_set_uint(tx, "Sequence", seq), JT_OK);
    }
    if (!jt_obj_has(tx, "SigningPubKey") && who)
        assert_int_equal(jt_obj_set_bytes(tx, "SigningPubKey", who->kp.pub, 33), JT_OK);
    jt_buf b;
    jt_buf_init(&b);
    assert_int_equal(jt_obj_to_binary(tx, 0, &b), JT_OK);
    jt_tx_blob_id(b.data, b.len, id);
    jt_buf_clear(&b);
    return tx;
}

static const char *ter_token(int ter)
{
    const jt_ter *t = jt_ter_by_code(ter);
    return t ? t->token : "(unknown result)";
}

/* ---------------------------------------------------------------- checks of run A */

/* delivered_amount as jt-node's API reports it for a Payment: the
 * metadata's DeliveredAmount, else the Amount (zero for a tec). */
static void delivered_of(const jt_obj *tx, const jt_obj *meta, int ter, jt_amount *d)
{
    if (meta && jt_obj_get_amount(meta, "DeliveredAmount", d) == JT_OK)
        return;
    if (jt_obj_get_amount(tx, "Amount", d) != JT_OK)
        jt_amount_native(d, 0);
    if (ter != JT_tesSUCCESS)
        jt_amount_zero_like(d, d);
}

static bool is_payment(const jt_obj *tx)
{
    uint64_t t;
    return jt_obj_get_uint(tx, "TransactionType", &t) == JT_OK && t == JT_TX_PAYMENT;
}

static yajl_val amount_tree(sc *c, const jt_amount *a)
{
    jt_obj *o = jt_obj_new();
    assert_non_null(o);
    assert_int_equal(jt_obj_set_amount(o, "Amount", a), JT_OK);
    yajl_val v = field_tree(c, o, "Amount");
    jt_obj_free(o);
    return v;
}

/* The metadata as the fixture writes it: skywelld's JSON plus
 * delivered_amount for a Payment. */
static yajl_val meta_tree(sc *c, const jt_obj *meta, const jt_obj *tx, int ter)
{
    yajl_val v = obj_tree(c, meta);
    if (is_payment(tx)) {
        jt_amount d;
        delivered_of(tx, meta, ter, &d);
        jset(v, "delivered_amount", amount_tree(c, &d));
    }
    return v;
}

/* Does the fixture's expected metadata `exp` (skywelld JSON, plus
 * delivered_amount) equal the actual `bin`? 1 yes, 0 no (reported when
 * `report`), -1 fixture error. */
static int meta_matches(sc *c, yajl_val exp, const jt_buf *bin, bool report, const char *what)
{
    jt_obj *e = to_obj(c, exp, "delivered_amount", what);
    if (!e)
        return -1;
    jt_buf eb;
    jt_buf_init(&eb);
    assert_int_equal(jt_obj_to_binary(e, 0, &eb), JT_OK);
    bool same = bin->len == eb.len && !memcmp(bin->data, eb.data, eb.len);
    if (!same && report) {
        jt_obj *a;
        assert_int_equal(jt_obj_from_binary(bin->data, bin->len, &a, NULL), JT_OK);
        yajl_val et = obj_tree(c, e), at = obj_tree(c, a);
        report_objs(c, what, et, at);
        yajl_tree_free(et);
        yajl_tree_free(at);
        jt_obj_free(a);
    }
    jt_obj_free(e);
    jt_buf_clear(&eb);
    return same;
}

static int amount_matches(sc *c, yajl_val exp, const jt_amount *act, bool report, const char *what)
{
    jt_amount e;
    if (!amount_of(c, exp, &e, what))
        return -1;
    jt_obj *x = jt_obj_new(), *y = jt_obj_new();
    assert_true(x && y);
    assert_int_equal(jt_obj_set_amount(x, "Amount", &e), JT_OK);
    assert_int_equal(jt_obj_set_amount(y, "Amount", act), JT_OK);
    bool same = jt_obj_field_equal(x, y, jt_field_by_name("Amount"));
    if (!same && report) {
        jt_buf s1, s2;
        jt_buf_init(&s1);
        jt_buf_init(&s2);
        yajl_val t1 = field_tree(c, x, "Amount"), t2 = field_tree(c, y, "Amount");
        mismatch(c, "%s: expected %s, actual %s", what, show(&s1, t1), show(&s2, t2));
        yajl_tree_free(t1);
        yajl_tree_free(t2);
        jt_buf_clear(&s1);
        jt_buf_clear(&s2);
    }
    jt_obj_free(x);
    jt_obj_free(y);
    return same;
}

static const char *const TX_KEYS[] = {
    "tx", "result", "meta", "delivered_amount", "expect", "signer", "note", "divergence", NULL};
static const char *const TX_DIVERGENCE_KEYS[] = {"why", "result", "meta", "delivered_amount", NULL};

/* A divergence records where jt-node is known to differ from skywelld: the
 * step keeps skywelld's value, the divergence gives jt-node's, and the
 * engine is checked against the latter. When the engine comes to give
 * skywelld's value, the check fails so that the divergence is removed. */
static int check_divergence(sc *c, yajl_val div, yajl_val owner, const char *const *keys,
                            bool fields_ok)
{
    if (!div)
        return 0;
    if (check_keys(c, div, "divergence", keys, fields_ok))
        return -1;
    if (!jstr(div, "why")) {
        fx_error(c, "divergence: say \"why\"");
        return -1;
    }
    for (size_t i = 0; i < div->u.object.len; i++) {
        const char *k = div->u.object.keys[i];
        if (strcmp(k, "why") && !jget(owner, k)) {
            fx_error(c, "divergence.%s: give skywelld's \"%s\" beside it", k, k);
            return -1;
        }
    }
    print_message("# %s: %s: known divergence from skywelld: %s\n", c->fc->name, c->where,
                  jstr(div, "why"));
    return 0;
}

static void set_dirty(sc *c)
{
    c->fc->f->dirty = true;
}

/* Checks one transaction of run A against its step; in write mode fills
 * in what the step asks for. */
static void check_tx(runner *r, yajl_val item, const jt_obj *tx, int ter, const jt_buf *meta_bin)
{
    sc *c = r->c;
    yajl_val div = jget(item, "divergence");
    if (check_divergence(c, div, item, TX_DIVERGENCE_KEYS, false))
        return;
    jt_obj *meta = NULL;
    if (meta_bin->len)
        assert_int_equal(jt_obj_from_binary(meta_bin->data, meta_bin->len, &meta, NULL), JT_OK);
    const char *got = ter_token(ter);
    yajl_val im = jget(item, "meta"), dm = jget(div, "meta");

    /* result */
    const char *want = jstr(div, "result") ? jstr(div, "result") : jstr(item, "result");
    if (!jget(item, "result")) {
        if (g_write) {
            jinsert_after(item, "tx", "result", jstring_new(got));
            set_dirty(c);
        } else {
            fx_error(c, "no \"result\" (JT_FIXTURE_WRITE=1 fills it in)");
        }
    } else if (!want || !jt_ter_by_token(want)) {
        fx_error(c, "\"result\" is a result token such as \"tesSUCCESS\"");
    } else if (strcmp(want, got)) {
        mismatch(c, "result: expected %s, actual %s", want, got);
    }
    if (jstr(div, "result") && jstr(item, "result") && !strcmp(jstr(item, "result"), got))
        mismatch(c, "result: the engine now gives skywelld's %s: remove divergence.result", got);

    /* delivered_amount, on its own or inside "meta" */
    yajl_val ed = jget(div, "delivered_amount");
    if (!ed)
        ed = jget(dm ? dm : im, "delivered_amount");
    if (!ed && !jget(div, "delivered_amount"))
        ed = jget(item, "delivered_amount");
    yajl_val sd = jget(item, "delivered_amount") ? jget(item, "delivered_amount")
                                                 : jget(im, "delivered_amount");
    bool rewrite_meta = false;
    if ((ed || sd) && !is_payment(tx)) {
        fx_error(c, "delivered_amount: only a Payment has one");
    } else if (ed) {
        jt_amount d;
        delivered_of(tx, meta, ter, &d);
        bool in_meta = ed != jget(item, "delivered_amount") && ed != jget(div, "delivered_amount");
        int m = amount_matches(c, ed, &d, !g_write, "delivered_amount");
        rewrite_meta = m == 0 && g_write && in_meta;
        if (m == 0 && g_write && !in_meta) {
            jset(jget(div, "delivered_amount") ? div : item, "delivered_amount",
                 amount_tree(c, &d));
            set_dirty(c);
        }
        if (jget(div, "delivered_amount") && sd &&
            amount_matches(c, sd, &d, false, "skywelld's delivered_amount") == 1)
            mismatch(c, "delivered_amount: the engine now gives skywelld's: remove the divergence");
    }

    /* metadata: exact; null asks write mode for it */
    yajl_val mv = dm ? dm : im, holder = dm ? div : item;
    if (mv && !meta) {
        mismatch(c, "metadata expected, but %s has none", got);
    } else if (mv) {
        if (dm && !YAJL_IS_NULL(im) &&
            meta_matches(c, im, meta_bin, false, "skywelld's metadata") == 1)
            mismatch(c, "metadata: the engine now writes skywelld's: remove divergence.meta");
        int m = YAJL_IS_NULL(mv) ? 0 : meta_matches(c, mv, meta_bin, !g_write, "metadata");
        if ((m == 0 || rewrite_meta) && g_write) {
            jset(holder, "meta", meta_tree(c, meta, tx, ter)); /* mv is freed */
            set_dirty(c);
        } else if (m == 0 && YAJL_IS_NULL(mv)) {
            fx_error(c, "\"meta\": null is filled in by JT_FIXTURE_WRITE=1");
        }
    }
    jt_obj_free(meta);
}

/* ---------------------------------------------------------------- entry expectations */

static const char *const EXPECT_KEYS[] = {
    "account", "line",    "offer", "relation",   "owner_dir", "index",      "absent",
    "entry",   "balance", "limit", "limit_peer", "note",      "divergence", NULL};
static const char *const EXPECT_DIVERGENCE_KEYS[] = {"why",   "absent",     "entry", "balance",
                                                     "limit", "limit_peer", NULL};
static const char *const LOCATORS[] = {"account",   "line",  "offer", "relation",
                                       "owner_dir", "index", NULL};

typedef struct located {
    uint8_t id[32];
    char label[160];
    bool is_line;
    const name_ent *me; /* a line: the side "balance" and "limit" are seen from */
} located;

static int locate(sc *c, yajl_val e, located *out)
{
    int found = 0;
    memset(out, 0, sizeof *out);
    for (int i = 0; LOCATORS[i]; i++) {
        yajl_val v = jget(e, LOCATORS[i]);
        if (!v)
            continue;
        if (found++) {
            fx_error(c, "an expectation names two entries");
            return -1;
        }
        const char *k = LOCATORS[i];
        jt_buf b;
        jt_buf_init(&b);
        snprintf(out->label, sizeof out->label, "%s %s", k, show(&b, v));
        jt_buf_clear(&b);
        name_ent *a = NULL, *bn = NULL;
        size_t n = jlen(v);
        if (YAJL_IS_ARRAY(v) && n >= 2) {
            const char *s0 = scalar_text(v->u.array.values[0]);
            const char *s1 = scalar_text(v->u.array.values[1]);
            a = s0 ? name_find(c, s0) : NULL;
            bn = s1 ? name_find(c, s1) : NULL;
        }
        jt_currency cur;
        uint64_t num;
        if (!strcmp(k, "account") || !strcmp(k, "owner_dir")) {
            a = YAJL_IS_STRING(v) ? name_find(c, YAJL_GET_STRING(v)) : NULL;
            if (!a)
                goto bad;
            if (k[0] == 'a')
                jn_id_account(&a->id, out->id);
            else
                jn_id_owner_dir(&a->id, out->id);
        } else if (!strcmp(k, "line")) {
            if (n != 3 || !a || !bn || !scalar_text(v->u.array.values[2]) ||
                !currency_of(c, scalar_text(v->u.array.values[2]), &cur))
                goto bad;
            jn_id_line(&a->id, &bn->id, &cur, out->id);
            out->is_line = true;
            out->me = a;
        } else if (!strcmp(k, "offer")) {
            if (n != 2 || !a || !uint_of(v->u.array.values[1], &num))
                goto bad;
            jn_id_offer(&a->id, (uint32_t)num, out->id);
        } else if (!strcmp(k, "relation")) {
            if (n != 4 || !a || !bn || !uint_of(v->u.array.values[2], &num) ||
                !scalar_text(v->u.array.values[3]) ||
                !currency_of(c, scalar_text(v->u.array.values[3]), &cur))
                goto bad;
            jn_id_relation(&a->id, &bn->id, (uint32_t)num, &cur, out->id);
        } else {
            char h[128];
            const char *s = YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : "";
            int r = fwd(c, s, h, sizeof h);
            size_t got;
            const char *hex = r > 0 ? h : s;
            if (r < 0 || strlen(hex) != 64 || jt_hex_decode(hex, 64, out->id, 32, &got) != JT_OK)
                goto bad;
        }
    }
    if (!found) {
        fx_error(c, "an expectation names its entry with one of: account, line, offer, relation, "
                    "owner_dir, index");
        return -1;
    }
    return 0;
bad:
    if (!c->broken)
        fx_error(c,
                 "cannot find the entry of %s (account: NAME; line: [A, B, CUR]; offer: [NAME, "
                 "SEQ]; relation: [ACCOUNT, TARGET, TYPE, CUR]; owner_dir: NAME; index: ID)",
                 out->label);
    return -1;
}

/* The line's Balance or a limit, from `me`'s side. */
static bool line_side(const jt_obj *o, const name_ent *me, const char *what, jt_amount *out)
{
    jt_amount lo, hi;
    if (jt_obj_get_amount(o, "LowLimit", &lo) != JT_OK ||
        jt_obj_get_amount(o, "HighLimit", &hi) != JT_OK)
        return false;
    bool low = !memcmp(lo.issuer.bytes, me->id.bytes, 20);
    if (!strcmp(what, "balance")) {
        if (jt_obj_get_amount(o, "Balance", out) != JT_OK)
            return false;
        if (!low)
            jt_amount_negate(out);
        return true;
    }
    bool mine = !strcmp(what, "limit");
    *out = (low == mine) ? lo : hi;
    return true;
}

/* One expected key of an existing entry `o`: 1 matches, 0 not (reported
 * when `report`), -1 fixture error. *actual (may be NULL) gets the
 * entry's value as the fixture would write it. */
static int check_key(sc *c, const located *L, const jt_obj *o, const char *key, yajl_val exp,
                     bool report, yajl_val *actual)
{
    jt_buf s1, s2;
    jt_buf_init(&s1);
    jt_buf_init(&s2);
    yajl_val act = NULL;
    int rc;
    if (!strcmp(key, "entry")) {
        jt_obj *e = to_obj(c, exp, "index", "entry");
        rc = -1;
        if (e) {
            jt_buf x, y;
            jt_buf_init(&x);
            jt_buf_init(&y);
            assert_int_equal(jt_obj_to_binary(e, 0, &x), JT_OK);
            assert_int_equal(jt_obj_to_binary(o, 0, &y), JT_OK);
            rc = x.len == y.len && !memcmp(x.data, y.data, x.len);
            act = obj_tree(c, o);
            if (!rc && report) {
                yajl_val et = obj_tree(c, e);
                report_objs(c, L->label, et, act);
                yajl_tree_free(et);
            }
            jt_buf_clear(&x);
            jt_buf_clear(&y);
            jt_obj_free(e);
        }
    } else if (!strcmp(key, "balance") || !strcmp(key, "limit") || !strcmp(key, "limit_peer")) {
        jt_amount a, e;
        const char *et = scalar_text(exp);
        char text[64];
        memset(&e, 0, sizeof e);
        if (!L->is_line) {
            fx_error(c, "%s: \"%s\" is for lines", L->label, key);
            rc = -1;
        } else if (!line_side(o, L->me, key, &a)) {
            mismatch(c, "%s: not a trust line", L->label);
            rc = 0;
        } else if (!et || jt_amount_parse_value(et, JT_AMOUNT_ALLOW_NEGATIVE, &e.negative,
                                                &e.mantissa, &e.exponent, NULL) != JT_OK) {
            fx_error(c, "%s: \"%s\" is a value such as \"-12.5\"", L->label, key);
            rc = -1;
        } else {
            rc = jt_amount_cmp(&a, &e) == 0;
            assert_int_equal(jt_amount_value_text(&a, text, sizeof text), JT_OK);
            if (!rc && report)
                mismatch(c, "%s: %s: expected \"%s\", actual \"%s\"", L->label, key, et, text);
            act = jstring_new(text);
        }
    } else {
        /* A field of the entry; null: the field must be absent. */
        act = field_tree(c, o, key);
        yajl_val shown = NULL;
        if (YAJL_IS_NULL(exp)) {
            rc = act == NULL;
        } else {
            jt_buf b;
            jt_buf_init(&b);
            bputs(&b, "{");
            put_str(&b, key);
            bputs(&b, ":");
            rc = emit(c, &b, exp, NULL) ? -1 : 0;
            bputs(&b, "}");
            jt_obj *e = rc ? NULL : json_obj(c, &b, key);
            jt_buf_clear(&b);
            if (!e) {
                rc = -1;
            } else {
                rc = jt_obj_field_equal(e, o, jt_field_by_name(key));
                shown = field_tree(c, e, key);
            }
            jt_obj_free(e);
        }
        if (rc == 0 && report)
            mismatch(c, "%s: %s: expected %s, actual %s", L->label, key, show(&s1, shown),
                     show(&s2, act));
        yajl_tree_free(shown);
    }
    if (actual)
        *actual = act;
    else
        yajl_tree_free(act);
    jt_buf_clear(&s1);
    jt_buf_clear(&s2);
    return rc;
}

static bool checkable(const char *k)
{
    return is_upper_first(k) || !strcmp(k, "entry") || !strcmp(k, "balance") ||
           !strcmp(k, "limit") || !strcmp(k, "limit_peer");
}

static void check_expects(runner *r, yajl_val list, const char *after)
{
    sc *c = r->c;
    if (!YAJL_IS_ARRAY(list)) {
        fx_error(c, "\"expect\" is a list");
        return;
    }
    for (size_t i = 0; i < list->u.array.len && !c->broken; i++) {
        yajl_val e = list->u.array.values[i];
        snprintf(c->where, sizeof c->where, "%s, expect[%zu]", after, i);
        located L;
        if (check_keys(c, e, "an expectation", EXPECT_KEYS, true) || locate(c, e, &L))
            return;
        yajl_val div = jget(e, "divergence");
        if (check_divergence(c, div, e, EXPECT_DIVERGENCE_KEYS, true))
            return;
        const jt_obj *o = jn_view_read(&r->view, L.id);
        bool want_absent = jget(div, "absent") ? jtrue(div, "absent") : jtrue(e, "absent");
        if (jget(div, "absent") && jtrue(e, "absent") == !o)
            mismatch(c,
                     "%s: the engine now agrees with skywelld on its presence: remove "
                     "divergence.absent",
                     L.label);
        if (want_absent != !o) {
            mismatch(c, "%s: expected %s, actual %s", L.label, want_absent ? "absent" : "present",
                     o ? "present" : "absent");
            continue;
        }
        if (!o)
            continue;
        for (size_t k = 0; k < e->u.object.len && !c->broken; k++) {
            const char *key = e->u.object.keys[k];
            if (!checkable(key))
                continue;
            yajl_val dv = jget(div, key), exp = dv ? dv : e->u.object.values[k];
            yajl_val act = NULL;
            int rc = check_key(c, &L, o, key, exp, !g_write, g_write ? &act : NULL);
            if (rc == 0 && g_write && act) {
                jset(dv ? div : e, key, act); /* exp is freed */
                set_dirty(c);
            } else {
                yajl_tree_free(act);
            }
            if (dv && check_key(c, &L, o, key, e->u.object.values[k], false, NULL) == 1)
                mismatch(c, "%s: %s: the engine now gives skywelld's value: remove divergence.%s",
                         L.label, key, key);
        }
    }
}

/* ---------------------------------------------------------------- one run */

static const char *const STEP_KEYS[] = {"close", "expect", "note", NULL};

static size_t count_txs(yajl_val steps)
{
    size_t n = 0;
    for (size_t i = 0; i < jlen(steps); i++)
        n += jget(steps->u.array.values[i], "tx") != NULL;
    return n;
}

static void tx_label(sc *c, size_t txno, const jt_obj *tx, yajl_val item)
{
    const char *type = jt_tx_type_name((unsigned)get_uint(tx, "TransactionType", 9999));
    const char *note = jstr(item, "note");
    snprintf(c->where, sizeof c->where, "tx #%zu (%s%s%s)", txno, type ? type : "?",
             note ? ": " : "", note ? note : "");
}

static void run_steps(runner *r)
{
    sc *c = r->c;
    bool checks = r->mode == RUN_GENERAL;
    yajl_val steps = jget(c->scen, "txs");
    size_t txno = 0;
    for (size_t i = 0; i < jlen(steps) && !c->broken; i++) {
        yajl_val item = steps->u.array.values[i];
        snprintf(c->where, sizeof c->where, "txs[%zu]", i);
        if (!jget(item, "tx")) {
            if (check_keys(c, item, "a step", STEP_KEYS, false))
                return;
            if (jtrue(item, "close"))
                close_ledger(r);
            else if (!jget(item, "expect"))
                fx_error(c, "a step is {\"tx\": ...}, {\"close\": true} or {\"expect\": [...]}");
            if (checks && jget(item, "expect"))
                check_expects(r, jget(item, "expect"),
                              jtrue(item, "close") ? "after the close" : c->where);
            continue;
        }
        if (check_keys(c, item, "a transaction step", TX_KEYS, false))
            return;
        uint8_t id[32];
        jt_obj *tx = build_tx(r, item, id);
        if (!tx)
            return;
        txrec *rec = &r->rec[txno++];
        tx_label(c, txno, tx, item);
        if (checks) {
            c->txids = realloc(c->txids, txno * sizeof *c->txids);
            assert_non_null(c->txids);
            memcpy(c->txids[txno - 1], id, 32);
            c->n_txids = txno;
            sym_add(c, id, "$tx:%zu", txno);
        }
        jn_txmemo fresh;
        memset(&fresh, 0, sizeof fresh);
        jn_txmemo *memo = r->memos ? &r->memos[txno - 1] : &fresh;
        jn_applied ap;
        rec->ter = jn_apply(&r->view, &r->env, tx, id, r->index, memo, &ap);
        if (jt_ter_is_claimed(rec->ter)) {
            /* Every claimed result comes with its metadata, serialized,
             * unless the run asked for none. */
            assert_int_equal(!ap.meta_bin.data, r->env.no_meta);
            rec->meta = ap.meta_bin;
            jt_buf_init(&ap.meta_bin);
            r->index++;
        }
        jt_buf_clear(&ap.meta_bin);
        if (checks) {
            check_tx(r, item, tx, rec->ter, &rec->meta);
            char after[200];
            snprintf(after, sizeof after, "%s", c->where);
            if (jget(item, "expect") && !c->broken)
                check_expects(r, jget(item, "expect"), after);
        }
        jt_obj_free(tx);
    }
    if (checks && jget(c->scen, "expect") && !c->broken)
        check_expects(r, jget(c->scen, "expect"), "after the last step");
}

/* ---------------------------------------------------------------- runs compared */

static void report_entry_diff(sc *c, const ent *a, const ent *b, const char *ra, const char *rb)
{
    char h[65];
    hex32(a ? a->id : b->id, h);
    const char *name = rev(c, h);
    yajl_val ta = NULL, tb = NULL;
    jt_obj *o;
    if (a) {
        assert_int_equal(jt_obj_from_binary(a->bin.data, a->bin.len, &o, NULL), JT_OK);
        ta = obj_tree(c, o);
        jt_obj_free(o);
    }
    if (b) {
        assert_int_equal(jt_obj_from_binary(b->bin.data, b->bin.len, &o, NULL), JT_OK);
        tb = obj_tree(c, o);
        jt_obj_free(o);
    }
    char what[300];
    snprintf(what, sizeof what, "final entry %s (\"expected\": %s run, \"actual\": %s run)",
             name ? name : h, ra, rb);
    report_objs(c, what, ta, tb);
    yajl_tree_free(ta);
    yajl_tree_free(tb);
}

static void compare_runs(sc *c, const runner *a, const runner *b, yajl_val steps)
{
    size_t txno = 0;
    for (size_t i = 0; i < jlen(steps); i++) {
        yajl_val item = steps->u.array.values[i];
        if (!jget(item, "tx"))
            continue;
        const txrec *x = &a->rec[txno], *y = &b->rec[txno];
        txno++;
        snprintf(c->where, sizeof c->where, "tx #%zu", txno);
        if (x->ter != y->ter) {
            mismatch(c, "result %s in the %s run, %s in the %s run", ter_token(x->ter),
                     RUN_NAMES[a->mode], ter_token(y->ter), RUN_NAMES[b->mode]);
            continue;
        }
        if (b->mode == RUN_OPEN)
            continue;
        if (x->meta.len != y->meta.len ||
            (x->meta.len && memcmp(x->meta.data, y->meta.data, x->meta.len))) {
            jt_obj *mx, *my;
            assert_int_equal(jt_obj_from_binary(x->meta.data, x->meta.len, &mx, NULL), JT_OK);
            assert_int_equal(jt_obj_from_binary(y->meta.data, y->meta.len, &my, NULL), JT_OK);
            yajl_val tx_ = obj_tree(c, mx), ty = obj_tree(c, my);
            char what[200];
            snprintf(what, sizeof what, "metadata (\"expected\": %s run, \"actual\": %s run)",
                     RUN_NAMES[a->mode], RUN_NAMES[b->mode]);
            report_objs(c, what, tx_, ty);
            yajl_tree_free(tx_);
            yajl_tree_free(ty);
            jt_obj_free(mx);
            jt_obj_free(my);
        }
    }
    snprintf(c->where, sizeof c->where, "final state");
    size_t i = 0, j = 0;
    const snapshot *sa = &a->final, *sb = &b->final;
    while (i < sa->n || j < sb->n) {
        int d = i == sa->n ? 1 : j == sb->n ? -1 : memcmp(sa->v[i].id, sb->v[j].id, 32);
        if (d < 0) {
            report_entry_diff(c, &sa->v[i++], NULL, RUN_NAMES[a->mode], RUN_NAMES[b->mode]);
        } else if (d > 0) {
            report_entry_diff(c, NULL, &sb->v[j++], RUN_NAMES[a->mode], RUN_NAMES[b->mode]);
        } else {
            const ent *x = &sa->v[i++], *y = &sb->v[j++];
            if (x->bin.len != y->bin.len || memcmp(x->bin.data, y->bin.data, x->bin.len))
                report_entry_diff(c, x, y, RUN_NAMES[a->mode], RUN_NAMES[b->mode]);
        }
    }
}

/* ---------------------------------------------------------------- a case */

static const char *const FILE_KEYS[] = {"note",      "env",     "accounts",  "lines", "offers",
                                        "relations", "entries", "scenarios", NULL};
static const char *const SCEN_KEYS[] = {"name",  "note",   "env",       "accounts",
                                        "lines", "offers", "relations", "entries",
                                        "txs",   "expect", NULL};
static const char *const ENV_KEYS[] = {"base_fee",   "reserve_base",      "reserve_inc",
                                       "ledger_seq", "parent_close_time", NULL};

/* The node's defaults (jn_params_init), the ledger after genesis, and a
 * parent close time of 2019-01-05T10:40:00Z; "env" overrides them. */
static int read_env(sc *c, yajl_val env)
{
    if (!env)
        return 0;
    if (check_keys(c, env, "env", ENV_KEYS, false))
        return -1;
    uint64_t v;
    for (int i = 0; ENV_KEYS[i]; i++) {
        yajl_val x = jget(env, ENV_KEYS[i]);
        if (!x)
            continue;
        if (!uint_of(x, &v)) {
            fx_error(c, "env.%s is a number", ENV_KEYS[i]);
            return -1;
        }
        switch (i) {
        case 0: c->env0.base_fee = v; break;
        case 1: c->env0.reserve_base = v; break;
        case 2: c->env0.reserve_inc = v; break;
        case 3: c->env0.ledger_seq = (uint32_t)v; break;
        default: c->env0.parent_close_time = (uint32_t)v; break;
        }
    }
    if (c->env0.ledger_seq < 2) {
        fx_error(c, "env.ledger_seq is at least 2 (the starting entries are in the ledger before)");
        return -1;
    }
    return 0;
}

static void runner_free(runner *r, size_t n_txs)
{
    for (size_t i = 0; r->rec && i < n_txs; i++)
        jt_buf_clear(&r->rec[i].meta);
    free(r->rec);
    jn_view_clear(&r->view);
    jn_map_clear(&r->base);
    snap_free(&r->final);
}

static void run_case(void **state)
{
    const fxcase *fc = *state;
    if (!fc->sc)
        fail_msg("%s", fc->f->err);
    sc *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->fc = fc;
    c->file = fc->f->doc;
    c->scen = fc->sc;
    static const char seed[] = "jtkit engine fixture: the starting entries";
    jt_sha512half(seed, sizeof seed - 1, c->setup_id);
    jn_params p;
    jn_params_init(&p);
    c->env0 = (jn_env){.base_fee = p.base_fee,
                       .reserve_base = p.reserve_base,
                       .reserve_inc = p.reserve_inc,
                       .ledger_seq = 2,
                       .parent_close_time = 600000000};
    snprintf(c->where, sizeof c->where, "scenario");
    yajl_val steps = jget(c->scen, "txs");
    if (!check_keys(c, c->scen, "the scenario", SCEN_KEYS, false) &&
        !read_env(c, jget(c->file, "env")) && !read_env(c, jget(c->scen, "env")) &&
        !add_names(c, jget(c->file, "accounts")) && !add_names(c, jget(c->scen, "accounts")) &&
        !YAJL_IS_ARRAY(steps))
        fx_error(c, "\"txs\" is a list of steps");
    size_t n_txs = count_txs(steps);
    runner runs[N_RUNS];
    memset(runs, 0, sizeof runs);
    jn_txmemo *memos = calloc(n_txs ? n_txs : 1, sizeof *memos);
    assert_non_null(memos);
    if (!c->broken)
        build_syms(c, n_txs);
    for (int m = 0; m < N_RUNS && !c->broken; m++) {
        runner *r = &runs[m];
        r->c = c;
        r->mode = m;
        jn_map_init(&r->base);
        jn_view_init(&r->view, NULL, &r->base);
        r->rec = calloc(n_txs ? n_txs : 1, sizeof *r->rec);
        assert_non_null(r->rec);
        r->env = c->env0;
        r->env.no_fast_path = m == RUN_GENERAL;
        r->env.no_meta = m == RUN_OPEN;
        r->memos = m == RUN_GENERAL ? NULL : memos;
        if (build_base(c, &r->base))
            break;
        run_steps(r);
        jn_view_foreach(&r->view, snap_entry, &r->final);
        qsort(r->final.v, r->final.n, sizeof *r->final.v, cmp_ent);
    }
    if (!c->broken) {
        compare_runs(c, &runs[RUN_GENERAL], &runs[RUN_FAST], steps);
        compare_runs(c, &runs[RUN_GENERAL], &runs[RUN_OPEN], steps);
    }
    for (int m = 0; m < N_RUNS; m++)
        runner_free(&runs[m], n_txs);
    free(memos);
    bool broken = c->broken;
    int failures = c->failures;
    free(c->syms);
    free(c->txids);
    for (size_t i = 0; i < c->n_names; i++)
        jt_keypair_clear(&c->names[i].kp);
    free(c);
    if (broken)
        fail_msg("the fixture is wrong (see FIXTURE ERROR above)");
    if (failures)
        fail_msg("%d mismatch%s (see MISMATCH above)", failures, failures == 1 ? "" : "es");
}

/* ---------------------------------------------------------------- fixtures on disk */

static char *fixture_dir(void)
{
    const char *d = getenv("JT_ENGINE_FIXTURES"), *v = getenv("JT_VECTORS");
    char buf[1024];
    if (d && *d)
        snprintf(buf, sizeof buf, "%s", d);
    else if (v && *v)
        snprintf(buf, sizeof buf, "%s/../engine", v);
    else
        snprintf(buf, sizeof buf, "tests/engine");
    return strdup(buf);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_file(fxfile *f)
{
    char *text = tu_read_file(f->path, NULL);
    char err[256];
    if (!text) {
        snprintf(f->err, sizeof f->err, "%s: cannot read: %s", f->path, strerror(errno));
        return;
    }
    f->doc = yajl_tree_parse(text, err, sizeof err);
    free(text);
    if (!f->doc) {
        snprintf(f->err, sizeof f->err, "%s: not JSON: %s", f->path, err);
        return;
    }
    if (!YAJL_IS_OBJECT(f->doc) || !YAJL_IS_ARRAY(jget(f->doc, "scenarios"))) {
        snprintf(f->err, sizeof f->err, "%s: a fixture file is an object with \"scenarios\": [...]",
                 f->path);
        return;
    }
    for (size_t i = 0; i < f->doc->u.object.len; i++)
        if (!key_in(f->doc->u.object.keys[i], FILE_KEYS)) {
            snprintf(f->err, sizeof f->err, "%s: unknown key \"%s\"", f->path,
                     f->doc->u.object.keys[i]);
            return;
        }
}

static void write_file(const fxfile *f)
{
    jt_buf b;
    jt_buf_init(&b);
    put_pretty(&b, f->doc, 0, 0);
    bputs(&b, "\n");
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->path);
    FILE *out = fopen(tmp, "wb");
    bool ok = out && fwrite(b.data, 1, b.len, out) == b.len;
    if (out && fclose(out))
        ok = false;
    if (ok && rename(tmp, f->path))
        ok = false;
    if (ok && f->dirty)
        fprintf(stderr,
                "wrote %s: values were filled in; read each one and check it against "
                "skywelld before committing\n",
                f->path);
    else if (ok)
        fprintf(stderr, "rewrote %s (layout only)\n", f->path);
    else
        fprintf(stderr, "could not write %s: %s\n", f->path, strerror(errno));
    jt_buf_clear(&b);
}

int main(void)
{
    const char *w = getenv("JT_FIXTURE_WRITE"), *only = getenv("JT_FIXTURE");
    g_write = w && *w && strcmp(w, "0");
    assert_int_equal(jt_address_encode(&JT_ACCOUNT_ONE, g_account_one), JT_OK);

    char *dir = fixture_dir();
    char **names = NULL;
    size_t n_names = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json") || (only && !strstr(de->d_name, only)))
            continue;
        names = realloc(names, (n_names + 1) * sizeof *names);
        names[n_names++] = strdup(de->d_name);
    }
    if (d)
        closedir(d);
    if (n_names)
        qsort(names, n_names, sizeof *names, cmp_str);

    fxfile *files = calloc(n_names ? n_names : 1, sizeof *files);
    fxcase *cases = NULL;
    size_t n_cases = 0;
    for (size_t i = 0; i < n_names; i++) {
        fxfile *f = &files[i];
        f->base = names[i];
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        f->path = malloc(len);
        snprintf(f->path, len, "%s/%s", dir, names[i]);
        load_file(f);
        size_t n = f->err[0] ? 1 : jlen(jget(f->doc, "scenarios"));
        cases = realloc(cases, (n_cases + n) * sizeof *cases);
        for (size_t k = 0; k < n; k++) {
            fxcase *fc = &cases[n_cases++];
            memset(fc, 0, sizeof *fc);
            fc->f = f;
            if (f->err[0]) {
                snprintf(fc->name, sizeof fc->name, "%s", f->base);
                continue;
            }
            fc->sc = jget(f->doc, "scenarios")->u.array.values[k];
            const char *sn = jstr(fc->sc, "name");
            snprintf(fc->name, sizeof fc->name, "%s: %s", f->base, sn ? sn : "(no name)");
            if (!sn) {
                snprintf(f->err, sizeof f->err, "%s: scenario %zu has no \"name\"", f->path, k);
                fc->sc = NULL;
            }
        }
    }
    static fxfile none = {.err = "no fixture files (*.json) found"};
    if (!n_cases) {
        snprintf(none.err, sizeof none.err, "no fixture files (*.json) in %s", dir);
        cases = calloc(1, sizeof *cases);
        cases[0].f = &none;
        snprintf(cases[0].name, sizeof cases[0].name, "fixtures");
        n_cases = 1;
    }
    struct CMUnitTest *tests = calloc(n_cases, sizeof *tests);
    for (size_t i = 0; i < n_cases; i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = run_case;
        tests[i].initial_state = &cases[i];
    }
    int rc = _cmocka_run_group_tests("test_jn_engine", tests, n_cases, NULL, NULL);
    for (size_t i = 0; i < n_names; i++) {
        if (g_write && files[i].doc && !files[i].err[0])
            write_file(&files[i]);
        yajl_tree_free(files[i].doc);
        free(files[i].path);
        free(names[i]);
    }
    free(names);
    free(files);
    free(cases);
    free(tests);
    free(dir);
    return rc;
}
