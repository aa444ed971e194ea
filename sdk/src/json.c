/* json.c — a bounded JSON document model parsed with yajl, and a writer. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "internal.h"
#include "jt/json.h"
#include "jt/util.h"

struct jt_json_doc {
    jt__arena arena;
    jt_json *root;
};

/* A container being built: its members as a linked list, turned into arrays
 * when it closes. */
typedef struct link {
    struct link *next;
    const char *key;
    jt_json *val;
} link;

typedef struct frame {
    jt_json *node;
    link *head, *tail;
    size_t n;
    const char *pending_key;
} frame;

typedef struct parser {
    jt_json_doc *doc;
    jt_json_limits lim;
    frame *stack;
    int depth, stack_cap;
    size_t items;
    jt_err err; /* set when a callback cancels the parse */
    bool nul;   /* ... because a key or string held U+0000 */
} parser;

static jt_json *new_node(parser *p, jt_json_kind kind)
{
    if (++p->items > p->lim.max_items) {
        p->err = JT_ETOOBIG;
        return NULL;
    }
    jt_json *v = jt__arena_alloc(&p->doc->arena, sizeof *v);
    if (!v) {
        p->err = JT_ENOMEM;
        return NULL;
    }
    v->kind = kind;
    return v;
}

/* Attaches a finished value to the open container, or makes it the root. */
static int attach(parser *p, jt_json *v)
{
    if (p->depth == 0) {
        p->doc->root = v;
        return 1;
    }
    frame *f = &p->stack[p->depth - 1];
    link *l = jt__arena_alloc(&p->doc->arena, sizeof *l);
    if (!l) {
        p->err = JT_ENOMEM;
        return 0;
    }
    l->key = f->pending_key;
    l->val = v;
    f->pending_key = NULL;
    if (f->tail)
        f->tail->next = l;
    else
        f->head = l;
    f->tail = l;
    f->n++;
    return 1;
}

static int scalar_text(parser *p, jt_json_kind kind, const unsigned char *s, size_t len)
{
    jt_json *v = new_node(p, kind);
    if (!v)
        return 0;
    v->u.str.s = jt__arena_strndup(&p->doc->arena, (const char *)s, len);
    v->u.str.len = len;
    if (!v->u.str.s) {
        p->err = JT_ENOMEM;
        return 0;
    }
    return attach(p, v);
}

static int cb_null(void *ctx)
{
    parser *p = ctx;
    jt_json *v = new_node(p, JT_JSON_NULL);
    return v && attach(p, v);
}

static int cb_bool(void *ctx, int b)
{
    parser *p = ctx;
    jt_json *v = new_node(p, JT_JSON_BOOL);
    if (!v)
        return 0;
    v->u.b = b != 0;
    return attach(p, v);
}

static int cb_number(void *ctx, const char *s, size_t len)
{
    return scalar_text(ctx, JT_JSON_NUMBER, (const unsigned char *)s, len);
}

/* Keys and strings are handed out as C strings, so one holding U+0000
 * would be read shorter than it is ("command\u0000x" as "command"): such a
 * document is refused. */
static bool has_nul(parser *p, const unsigned char *s, size_t len)
{
    if (!memchr(s, 0, len))
        return false;
    p->err = JT_EJSON;
    p->nul = true;
    return true;
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
    if (has_nul(ctx, s, len))
        return 0;
    return scalar_text(ctx, JT_JSON_STRING, s, len);
}

static int open_container(parser *p, jt_json_kind kind)
{
    if (p->depth >= p->lim.max_depth) {
        p->err = JT_EJSON_DEPTH;
        return 0;
    }
    jt_json *v = new_node(p, kind);
    if (!v)
        return 0;
    if (p->depth == p->stack_cap) { /* deeper than ever: twice the room */
        int cap = p->stack_cap * 2;
        if (cap > p->lim.max_depth)
            cap = p->lim.max_depth;
        frame *ns = jt__arena_alloc(&p->doc->arena, (size_t)cap * sizeof *ns);
        if (!ns) {
            p->err = JT_ENOMEM;
            return 0;
        }
        memcpy(ns, p->stack, (size_t)p->depth * sizeof *ns);
        p->stack = ns;
        p->stack_cap = cap;
    }
    frame *f = &p->stack[p->depth++];
    memset(f, 0, sizeof *f);
    f->node = v;
    return 1;
}

static int close_container(parser *p)
{
    frame *f = &p->stack[p->depth - 1];
    jt_json *v = f->node;
    jt__arena *a = &p->doc->arena;
    size_t n = f->n;
    if (v->kind == JT_JSON_ARRAY) {
        v->u.arr.items = jt__arena_alloc(a, (n ? n : 1) * sizeof(jt_json *));
        if (!v->u.arr.items)
            goto nomem;
        size_t i = 0;
        for (link *l = f->head; l; l = l->next)
            v->u.arr.items[i++] = l->val;
        v->u.arr.n = n;
    } else {
        v->u.obj.keys = jt__arena_alloc(a, (n ? n : 1) * sizeof(char *));
        v->u.obj.vals = jt__arena_alloc(a, (n ? n : 1) * sizeof(jt_json *));
        if (!v->u.obj.keys || !v->u.obj.vals)
            goto nomem;
        size_t i = 0;
        for (link *l = f->head; l; l = l->next) {
            v->u.obj.keys[i] = l->key;
            v->u.obj.vals[i++] = l->val;
        }
        v->u.obj.n = n;
    }
    p->depth--;
    return attach(p, v);
nomem:
    p->err = JT_ENOMEM;
    return 0;
}

static int cb_start_map(void *ctx)
{
    return open_container(ctx, JT_JSON_OBJECT);
}

static int set_key(parser *p, const unsigned char *s, size_t len)
{
    frame *f = &p->stack[p->depth - 1];
    f->pending_key = jt__arena_strndup(&p->doc->arena, (const char *)s, len);
    if (!f->pending_key) {
        p->err = JT_ENOMEM;
        return 0;
    }
    return 1;
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
    return !has_nul(ctx, s, len) && set_key(ctx, s, len);
}

static int cb_end(void *ctx)
{
    return close_container(ctx);
}

static int cb_start_array(void *ctx)
{
    return open_container(ctx, JT_JSON_ARRAY);
}

static const yajl_callbacks callbacks = {
    cb_null,      cb_bool,    NULL,   NULL,           cb_number, cb_string,
    cb_start_map, cb_map_key, cb_end, cb_start_array, cb_end,
};

/* ---- plain documents without yajl ----
 * Most texts a node or gateway parses are plain: objects and arrays whose
 * strings are printable ASCII without escapes and whose numbers are
 * integers (requests, a node's replies and stream messages, the gateway's
 * request bodies). Such a text is recognized by a strict scan (those
 * strings, integers without fraction or exponent, whitespace yajl also
 * allows) and fed, as it goes, to the same callbacks yajl would call, in the
 * same order, so the document is the same. Anything else, and any limit or
 * memory error, goes to yajl, which is then also what reports errors. */
enum { FLAT_STRING, FLAT_NUMBER, FLAT_TRUE, FLAT_FALSE, FLAT_NULL };

static bool flat_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t flat_skip(const char *s, size_t n, size_t i)
{
    while (i < n && flat_ws(s[i]))
        i++;
    return i;
}

/* The end of a value: whitespace, ',', '}' or ']' (or the end, which the
 * caller then refuses). */
static bool flat_delim(const char *s, size_t n, size_t i)
{
    return i == n || flat_ws(s[i]) || s[i] == ',' || s[i] == '}' || s[i] == ']';
}

/* s[i] is '"': the index after the closing quote, or 0 when a byte before it
 * is not printable ASCII or is a backslash. Eight bytes at a time: a word
 * holding none of '"', '\\', a byte below 0x20 or above 0x7E is passed at
 * once; the word that holds one is looked at byte by byte. */
static size_t flat_string(const char *s, size_t n, size_t i)
{
    const unsigned char *u = (const unsigned char *)s;
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t k = i + 1;
    for (; k + 8 <= n; k += 8) {
        uint64_t x;
        memcpy(&x, u + k, 8);
        uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
        uint64_t stop = ((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x) |
                        (x + ones * (0x7F - 0x7E)) | x;
        if (stop & highs)
            break;
    }
    for (; k < n; k++) {
        if (u[k] == '"')
            return k + 1;
        if (u[k] < 0x20 || u[k] > 0x7E || u[k] == '\\')
            return 0;
    }
    return 0;
}

static size_t flat_value(const char *s, size_t n, size_t i, int *kind)
{
    if (s[i] == '"') {
        *kind = FLAT_STRING;
        return flat_string(s, n, i);
    }
    if (s[i] == '-' || (s[i] >= '0' && s[i] <= '9')) {
        size_t j = i + (s[i] == '-');
        if (j < n && s[j] == '0')
            j++;
        else if (j < n && s[j] >= '1' && s[j] <= '9')
            while (j < n && s[j] >= '0' && s[j] <= '9')
                j++;
        else
            return 0;
        *kind = FLAT_NUMBER;
        return flat_delim(s, n, j) ? j : 0;
    }
    static const struct {
        const char *word;
        size_t len;
        int kind;
    } words[] = {{"true", 4, FLAT_TRUE}, {"false", 5, FLAT_FALSE}, {"null", 4, FLAT_NULL}};
    for (size_t k = 0; k < 3; k++)
        if (n - i >= words[k].len && !memcmp(s + i, words[k].word, words[k].len) &&
            flat_delim(s, n, i + words[k].len)) {
            *kind = words[k].kind;
            return i + words[k].len;
        }
    return 0;
}

/* A scalar at s[i]: handed to its callback (a string straight to the
 * builder: the scan refused control bytes, so it holds no U+0000). The index
 * after it, or 0. */
static size_t flat_scalar(const char *s, size_t n, size_t i, parser *p)
{
    const unsigned char *u = (const unsigned char *)s;
    int kind = 0;
    size_t ve = flat_value(s, n, i, &kind);
    if (!ve)
        return 0;
    int ok = kind == FLAT_STRING   ? scalar_text(p, JT_JSON_STRING, u + i + 1, ve - i - 2)
             : kind == FLAT_NUMBER ? cb_number(p, s + i, ve - i)
             : kind == FLAT_NULL   ? cb_null(p)
                                   : cb_bool(p, kind == FLAT_TRUE);
    return ok ? ve : 0;
}

/* A key and its colon at s[i]: the index of the value after them, or 0. */
static size_t flat_key(const char *s, size_t n, size_t i, parser *p)
{
    size_t ke = i < n && s[i] == '"' ? flat_string(s, n, i) : 0;
    if (!ke || !set_key(p, (const unsigned char *)s + i + 1, ke - i - 2))
        return 0;
    i = flat_skip(s, n, ke);
    if (i >= n || s[i] != ':')
        return 0;
    return flat_skip(s, n, i + 1);
}

/* Scans `s` (an object or an array at the top) and builds the document as it
 * goes; the open containers are the parser's own stack, so the depth limit
 * holds as with yajl. False: not a plain document (it is then half built and
 * thrown away) or a callback failed. */
static bool flat_walk(const char *s, size_t n, parser *p)
{
    size_t i = flat_skip(s, n, 0);
    if (i >= n || (s[i] != '{' && s[i] != '['))
        return false;
    for (;;) {
        /* A value starts at s[i]. */
        if (i >= n)
            return false;
        if (s[i] == '{' || s[i] == '[') {
            bool obj = s[i] == '{';
            if (!(obj ? cb_start_map(p) : cb_start_array(p)))
                return false;
            i = flat_skip(s, n, i + 1);
            if (i < n && s[i] == (obj ? '}' : ']')) {
                if (!cb_end(p))
                    return false;
                i++;
            } else {
                if (obj && !(i = flat_key(s, n, i, p)))
                    return false;
                continue;
            }
        } else if (!(i = flat_scalar(s, n, i, p))) {
            return false;
        }
        /* After a value: the next member or item, or the ends of the
         * containers it closes. */
        for (;;) {
            if (p->depth == 0)
                return flat_skip(s, n, i) == n;
            bool obj = p->stack[p->depth - 1].node->kind == JT_JSON_OBJECT;
            i = flat_skip(s, n, i);
            if (i < n && s[i] == ',') {
                i = flat_skip(s, n, i + 1);
                if (obj && !(i = flat_key(s, n, i, p)))
                    return false;
                break;
            }
            if (i >= n || s[i] != (obj ? '}' : ']') || !cb_end(p))
                return false;
            i++;
        }
    }
}

/* yajl's own memory (handle, lexer, buffers) comes from the document's
 * arena too: a parse then costs one allocation for the document and one for
 * its arena instead of a dozen. Each block records its size for realloc;
 * free is a no-op, the arena goes with the document (or at once on error). */
static void *ya_malloc(void *ctx, size_t n)
{
    parser *p = ctx;
    if (n > SIZE_MAX - 16)
        return NULL;
    size_t *h = jt__arena_alloc(&p->doc->arena, n + 16);
    if (!h)
        return NULL;
    h[0] = n;
    return (uint8_t *)h + 16;
}

static void *ya_realloc(void *ctx, void *ptr, size_t n)
{
    if (!ptr)
        return ya_malloc(ctx, n);
    size_t old = *(size_t *)(void *)((uint8_t *)ptr - 16);
    if (n <= old)
        return ptr;
    void *q = ya_malloc(ctx, n);
    if (q)
        memcpy(q, ptr, old);
    return q;
}

static void ya_free(void *ctx, void *ptr)
{
    (void)ctx;
    (void)ptr;
}

static jt_err parse_doc(const char *text, size_t len, const jt_json_limits *limits,
                        jt_json_doc **out, jt_errinfo *ei, bool allow_flat);

jt_err jt_json_parse(const char *text, size_t len, const jt_json_limits *limits, jt_json_doc **out,
                     jt_errinfo *ei)
{
    return parse_doc(text, len, limits, out, ei, true);
}

jt_err jt__json_parse_general(const char *text, size_t len, const jt_json_limits *limits,
                              jt_json_doc **out, jt_errinfo *ei)
{
    return parse_doc(text, len, limits, out, ei, false);
}

static jt_err parse_doc(const char *text, size_t len, const jt_json_limits *limits,
                        jt_json_doc **out, jt_errinfo *ei, bool allow_flat)
{
    *out = NULL;
    parser p = {0};
    p.lim.max_bytes = 1u << 20;
    p.lim.max_depth = 32;
    p.lim.max_items = 100000;
    if (limits) {
        if (limits->max_bytes)
            p.lim.max_bytes = limits->max_bytes;
        if (limits->max_depth > 0)
            p.lim.max_depth = limits->max_depth;
        if (limits->max_items)
            p.lim.max_items = limits->max_items;
    }
    if (len > p.lim.max_bytes)
        return jt__err(ei, JT_ETOOBIG, NULL, -1, "JSON text is %zu bytes, over the %zu-byte limit",
                       len, p.lim.max_bytes);
    p.doc = calloc(1, sizeof *p.doc);
    if (!p.doc)
        return jt__err(ei, JT_ENOMEM, NULL, -1, NULL);
    /* Strings take at most the text, nodes a little more; yajl's handle,
     * lexer and stack about 600 bytes; 8 levels of our own stack. */
    p.stack_cap = p.lim.max_depth < 8 ? p.lim.max_depth : 8;
    size_t stack_bytes = (size_t)p.stack_cap * sizeof *p.stack;
    size_t first = len + len / 2 + 768 + stack_bytes;
    jt__arena_init_first(&p.doc->arena, 0, first < ((size_t)4 << 20) ? first : 0);
    p.stack = jt__arena_alloc(&p.doc->arena, stack_bytes);
    if (allow_flat && p.stack) {
        if (flat_walk(text, len, &p) && !p.err && p.doc->root) {
            *out = p.doc;
            return JT_OK;
        }
        /* Not a plain document (found out as soon as it is not), or a limit
         * or no memory: yajl parses it afresh and says which. */
        jt_json_doc_free(p.doc);
        return parse_doc(text, len, limits, out, ei, false);
    }
    yajl_alloc_funcs af = {ya_malloc, ya_realloc, ya_free, &p};
    yajl_handle h = p.stack ? yajl_alloc(&callbacks, &af, &p) : NULL;
    if (!h) {
        jt_json_doc_free(p.doc);
        return jt__err(ei, JT_ENOMEM, NULL, -1, NULL);
    }
    yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(h);
    jt_err rc = JT_OK;
    if (st != yajl_status_ok) {
        long off = (long)yajl_get_bytes_consumed(h);
        if (p.err == JT_EJSON_DEPTH)
            rc = jt__err(ei, JT_EJSON_DEPTH, NULL, off, "JSON nested deeper than %d levels",
                         p.lim.max_depth);
        else if (p.nul)
            rc = jt__err(ei, JT_EJSON, NULL, off,
                         "malformed JSON at byte %ld: a key or string contains U+0000", off);
        else if (p.err == JT_ETOOBIG)
            rc = jt__err(ei, JT_ETOOBIG, NULL, off, "JSON has more than %zu values",
                         p.lim.max_items);
        else if (p.err)
            rc = jt__err(ei, p.err, NULL, off, NULL);
        else {
            unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)text, len);
            rc = jt__err(ei, JT_EJSON, NULL, off, "malformed JSON at byte %ld: %s", off,
                         msg ? (const char *)msg : "parse error");
            if (msg)
                yajl_free_error(h, msg);
        }
    } else if (!p.doc->root) {
        rc = jt__err(ei, JT_EJSON, NULL, 0, "empty JSON text");
    }
    yajl_free(h);
    if (rc) {
        jt_json_doc_free(p.doc);
        return rc;
    }
    *out = p.doc;
    return JT_OK;
}

const jt_json *jt_json_root(const jt_json_doc *doc)
{
    return doc ? doc->root : NULL;
}

void jt_json_prefetch(const jt_json *v)
{
    if (!v)
        return;
    __builtin_prefetch(v);
    if (v->kind == JT_JSON_OBJECT) {
        __builtin_prefetch(v->u.obj.keys);
        __builtin_prefetch(v->u.obj.vals);
    }
}

void jt_json_doc_free(jt_json_doc *doc)
{
    if (!doc)
        return;
    jt__arena_clear(&doc->arena);
    free(doc);
}

const jt_json *jt_json_get(const jt_json *obj, const char *key)
{
    if (!obj || obj->kind != JT_JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->u.obj.n; i++)
        if (strcmp(obj->u.obj.keys[i], key) == 0)
            return obj->u.obj.vals[i];
    return NULL;
}

const char *jt_json_string(const jt_json *v)
{
    return v && v->kind == JT_JSON_STRING ? v->u.str.s : NULL;
}

/* Parses an optional '-' and decimal digits, nothing else. */
static bool parse_integer(const char *s, size_t len, bool *neg, uint64_t *mag)
{
    size_t i = 0;
    *neg = false;
    if (i < len && s[i] == '-') {
        *neg = true;
        i++;
    }
    if (i == len)
        return false;
    uint64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *mag = v;
    return true;
}

static bool integer_text(const jt_json *v, bool allow_string, bool *neg, uint64_t *mag)
{
    if (!v)
        return false;
    if (v->kind != JT_JSON_NUMBER && !(allow_string && v->kind == JT_JSON_STRING))
        return false;
    return parse_integer(v->u.str.s, v->u.str.len, neg, mag);
}

bool jt_json_int64(const jt_json *v, bool allow_string, int64_t *out)
{
    bool neg;
    uint64_t mag;
    if (!integer_text(v, allow_string, &neg, &mag))
        return false;
    if (neg) {
        if (mag > (uint64_t)INT64_MAX + 1)
            return false;
        *out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    } else {
        if (mag > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)mag;
    }
    return true;
}

bool jt_json_uint64(const jt_json *v, bool allow_string, uint64_t *out)
{
    bool neg;
    uint64_t mag;
    if (!integer_text(v, allow_string, &neg, &mag) || (neg && mag != 0))
        return false;
    *out = mag;
    return true;
}

/* ---- writer ---- */

void jt_jw_init(jt_jw *w, jt_buf *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
}

static void put(jt_jw *w, const void *p, size_t n)
{
    if (w->err || n == 0)
        return;
    jt_buf *b = w->out;
    if (b->cap - b->len >= n) { /* the usual case: no call, no checks */
        memcpy(b->data + b->len, p, n);
        b->len += n;
        return;
    }
    w->err = jt_buf_append(b, p, n);
}

/* Room for n bytes at the end of the output, or NULL (w->err set). */
static uint8_t *room(jt_jw *w, size_t n)
{
    if (w->err)
        return NULL;
    jt_err e = jt_buf_reserve(w->out, n);
    if (e) {
        w->err = e;
        return NULL;
    }
    return w->out->data + w->out->len;
}

/* Commas between values; nothing after a key. */
static void before_value(jt_jw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0 && w->need_comma[w->depth - 1])
        put(w, ",", 1);
    if (w->depth > 0)
        w->need_comma[w->depth - 1] = 1;
}

void jt_jw_members(jt_jw *w, const char *obj, size_t n)
{
    /* The text between the outer braces, if any. */
    if (n < 2 || obj[0] != '{' || obj[n - 1] != '}') {
        if (!w->err)
            w->err = JT_EINVAL;
        return;
    }
    size_t i = 1, end = n - 1;
    while (i < end && (obj[i] == ' ' || obj[i] == '\n' || obj[i] == '\t' || obj[i] == '\r'))
        i++;
    if (i == end)
        return;
    if (w->after_key || w->depth <= 0) {
        if (!w->err)
            w->err = JT_EINVAL;
        return;
    }
    before_value(w);
    put(w, obj + i, end - i);
}

static void open_c(jt_jw *w, char c)
{
    before_value(w);
    if ((size_t)w->depth >= sizeof w->need_comma) {
        if (!w->err)
            w->err = JT_EINVAL;
        return;
    }
    put(w, &c, 1);
    w->need_comma[w->depth++] = 0;
}

static void close_c(jt_jw *w, char c)
{
    if (w->depth <= 0) {
        if (!w->err)
            w->err = JT_EINVAL;
        return;
    }
    w->depth--;
    put(w, &c, 1);
}

void jt_jw_object_begin(jt_jw *w)
{
    open_c(w, '{');
}
void jt_jw_object_end(jt_jw *w)
{
    close_c(w, '}');
}
void jt_jw_array_begin(jt_jw *w)
{
    open_c(w, '[');
}
void jt_jw_array_end(jt_jw *w)
{
    close_c(w, ']');
}

/* The length of the well-formed UTF-8 sequence at s[i] (lead byte >= 0x80),
 * or 0 when it is not one (a stray continuation byte, a bad lead byte, a
 * sequence cut short). */
static size_t utf8_seq(const unsigned char *s, size_t i, size_t n)
{
    unsigned char c = s[i];
    size_t len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (!len || len > n - i)
        return 0;
    for (size_t k = 1; k < len; k++)
        if ((s[i + k] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* Writes a JSON string. Bytes that are not UTF-8 (text cut in the middle of
 * a character, binary junk from a peer) become U+FFFD, so the output is
 * always valid JSON. */
static void put_escaped(jt_jw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    /* Most text (keys, addresses, hex, tokens) is plain ASCII: one copy. */
    size_t plain = 0;
    while (plain < n) {
        unsigned char c = (unsigned char)s[plain];
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
            break;
        plain++;
    }
    if (plain == n) {
        uint8_t *d = room(w, n + 2);
        if (!d)
            return;
        d[0] = '"';
        memcpy(d + 1, s, n);
        d[n + 1] = '"';
        w->out->len += n + 2;
        return;
    }
    put(w, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t len = utf8_seq((const unsigned char *)s, i, n);
            if (len) {
                i += len - 1;
                continue;
            }
            put(w, s + run, i - run);
            run = i + 1;
            put(w, "\\ufffd", 6);
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(w, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 0};
        switch (c) {
        case '"':
            esc[1] = '"';
            put(w, esc, 2);
            break;
        case '\\':
            esc[1] = '\\';
            put(w, esc, 2);
            break;
        case '\n':
            esc[1] = 'n';
            put(w, esc, 2);
            break;
        case '\r':
            esc[1] = 'r';
            put(w, esc, 2);
            break;
        case '\t':
            esc[1] = 't';
            put(w, esc, 2);
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            put(w, esc, 6);
        }
    }
    put(w, s + run, n - run);
    put(w, "\"", 1);
}

void jt_jw_key(jt_jw *w, const char *key)
{
    before_value(w);
    put_escaped(w, key, strlen(key));
    put(w, ":", 1);
    w->after_key = true;
}

void jt_jw_string_n(jt_jw *w, const char *s, size_t n)
{
    before_value(w);
    put_escaped(w, s, n);
}

void jt_jw_string(jt_jw *w, const char *s)
{
    jt_jw_string_n(w, s, strlen(s));
}

/* Decimal digits of v at the end of b[24]; returns where they start. */
static char *digits(char b[24], uint64_t v)
{
    char *p = b + 24;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

void jt_jw_int(jt_jw *w, int64_t v)
{
    char b[24];
    char *p = digits(b, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
    if (v < 0)
        *--p = '-';
    before_value(w);
    put(w, p, (size_t)(b + 24 - p));
}

void jt_jw_uint(jt_jw *w, uint64_t v)
{
    char b[24];
    char *p = digits(b, v);
    before_value(w);
    put(w, p, (size_t)(b + 24 - p));
}

void jt_jw_hex(jt_jw *w, const uint8_t *p, size_t n)
{
    static const char hexdig[] = "0123456789ABCDEF";
    if (n > (JT_BUF_MAX - 2) / 2) {
        if (!w->err)
            w->err = JT_ETOOBIG;
        return;
    }
    before_value(w);
    uint8_t *d = room(w, 2 * n + 2);
    if (!d)
        return;
    *d++ = '"';
    for (size_t i = 0; i < n; i++) {
        *d++ = (uint8_t)hexdig[p[i] >> 4];
        *d++ = (uint8_t)hexdig[p[i] & 15];
    }
    *d = '"';
    w->out->len += 2 * n + 2;
}

void jt_jw_bool(jt_jw *w, bool v)
{
    before_value(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void jt_jw_null(jt_jw *w)
{
    before_value(w);
    put(w, "null", 4);
}

void jt_jw_raw(jt_jw *w, const char *json, size_t n)
{
    before_value(w);
    put(w, json, n);
}

void jt_jw_value(jt_jw *w, const jt_json *v)
{
    if (!v) {
        jt_jw_null(w);
        return;
    }
    switch (v->kind) {
    case JT_JSON_NULL: jt_jw_null(w); break;
    case JT_JSON_BOOL: jt_jw_bool(w, v->u.b); break;
    case JT_JSON_NUMBER: jt_jw_raw(w, v->u.str.s, v->u.str.len); break;
    case JT_JSON_STRING: jt_jw_string_n(w, v->u.str.s, v->u.str.len); break;
    case JT_JSON_ARRAY:
        jt_jw_array_begin(w);
        for (size_t i = 0; i < v->u.arr.n; i++)
            jt_jw_value(w, v->u.arr.items[i]);
        jt_jw_array_end(w);
        break;
    case JT_JSON_OBJECT:
        jt_jw_object_begin(w);
        for (size_t i = 0; i < v->u.obj.n; i++) {
            jt_jw_key(w, v->u.obj.keys[i]);
            jt_jw_value(w, v->u.obj.vals[i]);
        }
        jt_jw_object_end(w);
        break;
    }
}

jt_err jt_jw_finish(jt_jw *w)
{
    if (!w->err && w->depth != 0)
        w->err = JT_EINVAL;
    if (!w->err) {
        w->err = jt_buf_append(w->out, "", 1);
        if (!w->err)
            w->out->len--;
    }
    return w->err;
}
