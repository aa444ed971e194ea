/* codec.c — field tables, the STObject tree, and the binary format (§4). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "codec_obj.h"
#include "jt/amount.h"
#include "jt/util.h"
#include "tables.h"

/* ---------------------------------------------------------------- lookups */

#define MAX_TYPE   20
#define NAME_SLOTS 512                     /* power of two, over twice the number of fields */
static int16_t by_code_idx[MAX_TYPE][256]; /* index+1 into jt__fields, 0 = none */
static int16_t by_name[NAME_SLOTS];        /* open addressing on the name: index+1, 0 = empty */
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

/* FNV-1a: field names are short, and lookups by name are on every hot
 * path of code that reads objects by field name. */
static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static void build_index(void)
{
    for (size_t i = 0; i < jt__field_count && i < NAME_SLOTS / 2; i++) {
        const jt_field *f = &jt__fields[i];
        if (f->type < MAX_TYPE)
            by_code_idx[f->type][f->code] = (int16_t)(i + 1);
        uint32_t k = name_hash(f->name) & (NAME_SLOTS - 1);
        while (by_name[k])
            k = (k + 1) & (NAME_SLOTS - 1);
        by_name[k] = (int16_t)(i + 1);
    }
}

const jt_field *jt_field_by_code(unsigned type, unsigned code)
{
    pthread_once(&index_once, build_index);
    if (type >= MAX_TYPE || code > 255)
        return NULL;
    int i = by_code_idx[type][code];
    return i ? &jt__fields[i - 1] : NULL;
}

const jt_field *jt_field_by_name(const char *name)
{
    pthread_once(&index_once, build_index);
    for (uint32_t k = name_hash(name) & (NAME_SLOTS - 1); by_name[k];
         k = (k + 1) & (NAME_SLOTS - 1)) {
        const jt_field *f = &jt__fields[by_name[k] - 1];
        if (!strcmp(f->name, name))
            return f;
    }
    return NULL;
}

/* The table's own entry for f: members always point into jt__fields, whose
 * order is the canonical order, so member search compares pointers. */
static const jt_field *table_field(const jt_field *f)
{
    if (f >= jt__fields && f < jt__fields + jt__field_count)
        return f;
    return jt_field_by_code(f->type, f->code);
}

size_t jt_field_count(void)
{
    return jt__field_count;
}

const jt_field *jt_field_at(size_t i)
{
    return i < jt__field_count ? &jt__fields[i] : NULL;
}

static int named_by_name(const jt__named_code *t, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return t[i].code;
    return -1;
}

static const char *named_by_code(const jt__named_code *t, size_t n, unsigned code)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned)t[i].code == code)
            return t[i].name;
    return NULL;
}

int jt_tx_type_by_name(const char *name)
{
    return named_by_name(jt__tx_types, jt__tx_type_count, name);
}
const char *jt_tx_type_name(unsigned code)
{
    return named_by_code(jt__tx_types, jt__tx_type_count, code);
}
int jt_ledger_type_by_name(const char *name)
{
    return named_by_name(jt__ledger_types, jt__ledger_type_count, name);
}
const char *jt_ledger_type_name(unsigned code)
{
    return named_by_code(jt__ledger_types, jt__ledger_type_count, code);
}

/* ---------------------------------------------------------------- tree */

static int field_cmp(const jt_field *a, const jt_field *b)
{
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    if (a->code != b->code)
        return a->code < b->code ? -1 : 1;
    return 0;
}

jt_obj *jt_obj_new(void)
{
    jt_obj *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    jt__arena_init(&o->own, 0);
    o->arena = &o->own;
    return o;
}

jt_obj *jt_obj_new_sized(size_t bytes)
{
    jt_obj *o = jt_obj_new();
    if (o && bytes < ((size_t)1 << 20))
        jt__arena_init_first(&o->own, 0, bytes);
    return o;
}

void jt_obj_free(jt_obj *o)
{
    if (!o)
        return;
    jt__arena_clear(&o->own);
    free(o);
}

jt_obj *jt__obj_child(jt__arena *arena)
{
    jt_obj *o = jt__arena_alloc(arena, sizeof *o);
    if (o)
        o->arena = arena;
    return o;
}

void jt_obj_prefetch(const jt_obj *o, bool members)
{
    if (!members) {
        __builtin_prefetch(o);
        return;
    }
    /* The member array and what the arena put after it, up to 1 KB. */
    size_t bytes = o->n * sizeof *o->m + 256;
    if (bytes > 1024)
        bytes = 1024;
    for (size_t off = 0; off < bytes; off += 64)
        __builtin_prefetch((const char *)o->m + off);
}

const jt__member *jt__obj_find(const jt_obj *o, const jt_field *f)
{
    if (!(f = table_field(f)))
        return NULL;
    /* Objects are small (a transaction has ~10 fields): binary search is
     * cheap and keeps canonical order as the only invariant. */
    size_t lo = 0, hi = o->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const jt_field *g = o->m[mid].f;
        if (g == f)
            return &o->m[mid];
        if (f < g)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

jt__member *jt__obj_slot(jt_obj *o, const jt_field *f)
{
    if (!(f = table_field(f)))
        return NULL;
    size_t pos = 0;
    while (pos < o->n) {
        int c = field_cmp(f, o->m[pos].f);
        if (c == 0)
            return &o->m[pos];
        if (c < 0)
            break;
        pos++;
    }
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 8;
        jt__member *m = jt__arena_alloc(o->arena, cap * sizeof *m);
        if (!m)
            return NULL;
        if (o->n)
            memcpy(m, o->m, o->n * sizeof *m);
        o->m = m;
        o->cap = cap;
    }
    memmove(&o->m[pos + 1], &o->m[pos], (o->n - pos) * sizeof *o->m);
    memset(&o->m[pos], 0, sizeof o->m[pos]);
    o->m[pos].f = f;
    o->n++;
    return &o->m[pos];
}

static jt_err copy_member(jt__arena *a, jt__member *dst, const jt__member *src)
{
    *dst = *src;
    switch (src->f->type) {
    case JT_T_HASH128:
    case JT_T_HASH160:
    case JT_T_HASH256:
    case JT_T_BLOB:
    case JT_T_VECTOR256:
        dst->v.bytes.p = jt__arena_memdup(a, src->v.bytes.p, src->v.bytes.n);
        return dst->v.bytes.p ? JT_OK : JT_ENOMEM;
    case JT_T_AMOUNT:
        dst->v.amt = jt__arena_memdup(a, src->v.amt, sizeof *src->v.amt);
        return dst->v.amt ? JT_OK : JT_ENOMEM;
    case JT_T_OBJECT:
        dst->v.obj = jt__obj_copy(a, src->v.obj);
        return dst->v.obj ? JT_OK : JT_ENOMEM;
    case JT_T_ARRAY: {
        size_t n = src->v.arr.n;
        dst->v.arr.items = jt__arena_alloc(a, (n ? n : 1) * sizeof(jt_obj *));
        if (!dst->v.arr.items)
            return JT_ENOMEM;
        dst->v.arr.cap = n ? n : 1;
        for (size_t i = 0; i < n; i++)
            if (!(dst->v.arr.items[i] = jt__obj_copy(a, src->v.arr.items[i])))
                return JT_ENOMEM;
        return JT_OK;
    }
    case JT_T_PATHSET: {
        const jt__pathset *s = src->v.paths;
        jt__pathset *d = jt__arena_alloc(a, sizeof *d);
        if (!d || !(d->paths = jt__arena_alloc(a, (s->n ? s->n : 1) * sizeof *d->paths)))
            return JT_ENOMEM;
        d->n = s->n;
        for (size_t i = 0; i < s->n; i++) {
            d->paths[i].n = s->paths[i].n;
            d->paths[i].steps =
                jt__arena_memdup(a, s->paths[i].steps, s->paths[i].n * sizeof(jt__path_step));
            if (!d->paths[i].steps)
                return JT_ENOMEM;
        }
        dst->v.paths = d;
        return JT_OK;
    }
    default: return JT_OK;
    }
}

jt_obj *jt__obj_copy(jt__arena *a, const jt_obj *src)
{
    jt_obj *o = jt__obj_child(a);
    if (!o)
        return NULL;
    o->wrapper = src->wrapper;
    if (src->n) {
        o->m = jt__arena_alloc(a, src->n * sizeof *o->m);
        if (!o->m)
            return NULL;
        o->cap = src->n;
    }
    for (size_t i = 0; i < src->n; i++)
        if (copy_member(a, &o->m[i], &src->m[i]))
            return NULL;
    o->n = src->n;
    return o;
}

jt_obj *jt_obj_clone(const jt_obj *src)
{
    jt_obj *o = jt_obj_new();
    if (!o)
        return NULL;
    /* A root's copy fits in what the root's contents take (its arena may
     * also hold values since replaced), plus room for a few edits. */
    if (src->arena == &src->own) {
        size_t used = jt__arena_used(&src->own);
        if (used < 32768)
            jt__arena_init_first(&o->own, 0, used + 256);
    }
    jt_obj *c = jt__obj_copy(o->arena, src);
    if (!c) {
        jt_obj_free(o);
        return NULL;
    }
    o->m = c->m;
    o->n = c->n;
    o->cap = c->cap;
    o->wrapper = c->wrapper;
    return o;
}

/* ---------------------------------------------------------------- accessors */

static jt_err check_field(const jt_field *f, jt_type want)
{
    if (!f)
        return JT_EFIELD_UNKNOWN;
    if (want && f->type != want)
        return JT_EFIELD_TYPE;
    return JT_OK;
}

/* The member for field f, checked to be of `type`. */
static jt_err find_typed(const jt_obj *o, const jt_field *f, jt_type type, const jt__member **m)
{
    jt_err e = check_field(f, type);
    if (e)
        return e;
    *m = jt__obj_find(o, f);
    return *m ? JT_OK : JT_EFIELD_MISSING;
}

bool jt_obj_has_f(const jt_obj *o, const jt_field *f)
{
    return f && jt__obj_find(o, f);
}

jt_err jt_obj_remove(jt_obj *o, const char *field)
{
    const jt_field *f = jt_field_by_name(field);
    if (!f)
        return JT_EFIELD_UNKNOWN;
    const jt__member *m = jt__obj_find(o, f);
    if (!m)
        return JT_OK;
    size_t i = (size_t)(m - o->m);
    memmove(&o->m[i], &o->m[i + 1], (o->n - i - 1) * sizeof *o->m);
    o->n--;
    return JT_OK;
}

static uint64_t uint_max(unsigned type)
{
    switch (type) {
    case JT_T_UINT8: return 0xFF;
    case JT_T_UINT16: return 0xFFFF;
    case JT_T_UINT32: return 0xFFFFFFFFu;
    default: return UINT64_MAX;
    }
}

static size_t uint_width(unsigned type)
{
    switch (type) {
    case JT_T_UINT8: return 1;
    case JT_T_UINT16: return 2;
    case JT_T_UINT32: return 4;
    default: return 8;
    }
}

static bool is_uint(unsigned type)
{
    return type == JT_T_UINT8 || type == JT_T_UINT16 || type == JT_T_UINT32 || type == JT_T_UINT64;
}

jt_err jt_obj_set_uint_f(jt_obj *o, const jt_field *f, uint64_t v)
{
    if (!f)
        return JT_EFIELD_UNKNOWN;
    if (!is_uint(f->type))
        return JT_EFIELD_TYPE;
    if (v > uint_max(f->type))
        return JT_EFIELD_TYPE;
    jt__member *m = jt__obj_slot(o, f);
    if (!m)
        return JT_ENOMEM;
    m->v.u = v;
    return JT_OK;
}

jt_err jt_obj_get_uint_f(const jt_obj *o, const jt_field *f, uint64_t *v)
{
    if (!f)
        return JT_EFIELD_UNKNOWN;
    if (!is_uint(f->type))
        return JT_EFIELD_TYPE;
    const jt__member *m = jt__obj_find(o, f);
    if (!m)
        return JT_EFIELD_MISSING;
    *v = m->v.u;
    return JT_OK;
}

jt_err jt_obj_set_amount_f(jt_obj *o, const jt_field *f, const jt_amount *a)
{
    jt_err e = check_field(f, JT_T_AMOUNT);
    if (e)
        return e;
    uint8_t tmp[48];
    size_t n;
    if ((e = jt_amount_encode(a, tmp, &n)))
        return e;
    jt__member *m = jt__obj_slot(o, f);
    if (!m)
        return JT_ENOMEM;
    if (!m->v.amt && !(m->v.amt = jt__arena_alloc(o->arena, sizeof *m->v.amt)))
        return JT_ENOMEM;
    *m->v.amt = *a;
    return JT_OK;
}

jt_err jt_obj_get_amount_f(const jt_obj *o, const jt_field *f, jt_amount *a)
{
    const jt__member *m;
    jt_err e = find_typed(o, f, JT_T_AMOUNT, &m);
    if (!e)
        *a = *m->v.amt;
    return e;
}

jt_err jt_obj_set_account_f(jt_obj *o, const jt_field *f, const jt_account_id *id)
{
    jt_err e = check_field(f, JT_T_ACCOUNT);
    if (e)
        return e;
    jt__member *m = jt__obj_slot(o, f);
    if (!m)
        return JT_ENOMEM;
    m->v.acct = *id;
    return JT_OK;
}

jt_err jt_obj_get_account_f(const jt_obj *o, const jt_field *f, jt_account_id *id)
{
    const jt__member *m;
    jt_err e = find_typed(o, f, JT_T_ACCOUNT, &m);
    if (!e)
        *id = m->v.acct;
    return e;
}

static size_t hash_len(unsigned type)
{
    switch (type) {
    case JT_T_HASH128: return 16;
    case JT_T_HASH160: return 20;
    case JT_T_HASH256: return 32;
    default: return 0;
    }
}

/* Checks a byte length for a bytes-typed field. */
static jt_err check_bytes_len(const jt_field *f, size_t n)
{
    switch (f->type) {
    case JT_T_HASH128:
    case JT_T_HASH160:
    case JT_T_HASH256: return n == hash_len(f->type) ? JT_OK : JT_EFIELD_TYPE;
    case JT_T_BLOB: return n <= 918744 ? JT_OK : JT_ETOOBIG;
    case JT_T_VECTOR256: return n % 32 == 0 && n <= 918720 ? JT_OK : JT_EFIELD_TYPE;
    default: return JT_EFIELD_TYPE;
    }
}

jt_err jt__obj_set_bytes_f(jt_obj *o, const jt_field *f, const uint8_t *p, size_t n)
{
    jt_err e = check_bytes_len(f, n);
    if (e)
        return e;
    jt__member *m = jt__obj_slot(o, f);
    if (!m)
        return JT_ENOMEM;
    /* Reuse the old storage when it is big enough: a transaction re-signed
     * many times does not grow its arena. */
    if (!m->v.bytes.p || m->v.bytes.n < n) {
        uint8_t *d = jt__arena_alloc(o->arena, n ? n : 1);
        if (!d)
            return JT_ENOMEM;
        m->v.bytes.p = d;
    }
    if (n)
        memmove(m->v.bytes.p, p, n);
    m->v.bytes.n = n;
    return JT_OK;
}

jt_err jt_obj_set_bytes_f(jt_obj *o, const jt_field *f, const uint8_t *p, size_t n)
{
    if (!f)
        return JT_EFIELD_UNKNOWN;
    return jt__obj_set_bytes_f(o, f, p, n);
}

jt_err jt_obj_get_bytes_f(const jt_obj *o, const jt_field *f, const uint8_t **p, size_t *n)
{
    if (!f)
        return JT_EFIELD_UNKNOWN;
    if (check_bytes_len(f, 0) == JT_EFIELD_TYPE && !hash_len(f->type))
        return JT_EFIELD_TYPE;
    const jt__member *m = jt__obj_find(o, f);
    if (!m)
        return JT_EFIELD_MISSING;
    *p = m->v.bytes.p;
    *n = m->v.bytes.n;
    return JT_OK;
}

jt_err jt_obj_set_object_f(jt_obj *o, const jt_field *f, const jt_obj *child)
{
    jt_err e = check_field(f, JT_T_OBJECT);
    if (e)
        return e;
    jt_obj *c = jt__obj_copy(o->arena, child);
    if (!c)
        return JT_ENOMEM;
    c->wrapper = NULL;
    jt__member *m = jt__obj_slot(o, f);
    if (!m)
        return JT_ENOMEM;
    m->v.obj = c;
    return JT_OK;
}

jt_err jt_obj_get_object_f(const jt_obj *o, const jt_field *f, const jt_obj **child)
{
    const jt__member *m;
    jt_err e = find_typed(o, f, JT_T_OBJECT, &m);
    if (!e)
        *child = m->v.obj;
    return e;
}

/* By name: the same, after jt_field_by_name. */
bool jt_obj_has(const jt_obj *o, const char *field)
{
    return jt_obj_has_f(o, jt_field_by_name(field));
}

jt_err jt_obj_set_uint(jt_obj *o, const char *field, uint64_t v)
{
    return jt_obj_set_uint_f(o, jt_field_by_name(field), v);
}

jt_err jt_obj_get_uint(const jt_obj *o, const char *field, uint64_t *v)
{
    return jt_obj_get_uint_f(o, jt_field_by_name(field), v);
}

jt_err jt_obj_set_amount(jt_obj *o, const char *field, const jt_amount *a)
{
    return jt_obj_set_amount_f(o, jt_field_by_name(field), a);
}

jt_err jt_obj_get_amount(const jt_obj *o, const char *field, jt_amount *a)
{
    return jt_obj_get_amount_f(o, jt_field_by_name(field), a);
}

jt_err jt_obj_set_account(jt_obj *o, const char *field, const jt_account_id *id)
{
    return jt_obj_set_account_f(o, jt_field_by_name(field), id);
}

jt_err jt_obj_get_account(const jt_obj *o, const char *field, jt_account_id *id)
{
    return jt_obj_get_account_f(o, jt_field_by_name(field), id);
}

jt_err jt_obj_set_bytes(jt_obj *o, const char *field, const uint8_t *p, size_t n)
{
    return jt_obj_set_bytes_f(o, jt_field_by_name(field), p, n);
}

jt_err jt_obj_get_bytes(const jt_obj *o, const char *field, const uint8_t **p, size_t *n)
{
    return jt_obj_get_bytes_f(o, jt_field_by_name(field), p, n);
}

jt_err jt_obj_set_object(jt_obj *o, const char *field, const jt_obj *child)
{
    return jt_obj_set_object_f(o, jt_field_by_name(field), child);
}

jt_err jt_obj_get_object(const jt_obj *o, const char *field, const jt_obj **child)
{
    return jt_obj_get_object_f(o, jt_field_by_name(field), child);
}

jt_err jt__arr_push(jt_obj *o, jt__member *m, jt_obj *item)
{
    if (m->v.arr.n == m->v.arr.cap) {
        size_t cap = m->v.arr.cap ? m->v.arr.cap * 2 : 4;
        jt_obj **items = jt__arena_alloc(o->arena, cap * sizeof *items);
        if (!items)
            return JT_ENOMEM;
        if (m->v.arr.n)
            memcpy(items, m->v.arr.items, m->v.arr.n * sizeof *items);
        m->v.arr.items = items;
        m->v.arr.cap = cap;
    }
    m->v.arr.items[m->v.arr.n++] = item;
    return JT_OK;
}

jt_err jt_obj_array_append_f(jt_obj *o, const jt_field *f, const jt_field *ef, const jt_obj *elem)
{
    jt_err e = check_field(f, JT_T_ARRAY);
    if (e || (e = check_field(ef, JT_T_OBJECT)))
        return e;
    jt_obj *c = jt__obj_copy(o->arena, elem);
    if (!c)
        return JT_ENOMEM;
    c->wrapper = ef;
    jt__member *m = jt__obj_slot(o, f);
    if (!m)
        return JT_ENOMEM;
    return jt__arr_push(o, m, c);
}

jt_err jt_obj_array_append(jt_obj *o, const char *field, const char *elem_field, const jt_obj *elem)
{
    return jt_obj_array_append_f(o, jt_field_by_name(field), jt_field_by_name(elem_field), elem);
}

jt_obj *jt_obj_array_add_f(jt_obj *o, const jt_field *f, const jt_field *ef)
{
    if (check_field(f, JT_T_ARRAY) || check_field(ef, JT_T_OBJECT))
        return NULL;
    jt_obj *c = jt__obj_child(o->arena);
    jt__member *m = c ? jt__obj_slot(o, f) : NULL;
    if (!m)
        return NULL;
    c->wrapper = ef;
    return jt__arr_push(o, m, c) ? NULL : c;
}

jt_obj *jt_obj_object_add_f(jt_obj *o, const jt_field *f)
{
    if (check_field(f, JT_T_OBJECT))
        return NULL;
    jt_obj *c = jt__obj_child(o->arena);
    jt__member *m = c ? jt__obj_slot(o, f) : NULL;
    if (!m)
        return NULL;
    m->v.obj = c;
    return c;
}

size_t jt_obj_array_len(const jt_obj *o, const char *field)
{
    const jt_field *f = jt_field_by_name(field);
    if (!f || f->type != JT_T_ARRAY)
        return 0;
    const jt__member *m = jt__obj_find(o, f);
    return m ? m->v.arr.n : 0;
}

const jt_obj *jt_obj_array_at(const jt_obj *o, const char *field, size_t i,
                              const jt_field **elem_field)
{
    const jt_field *f = jt_field_by_name(field);
    if (!f || f->type != JT_T_ARRAY)
        return NULL;
    const jt__member *m = jt__obj_find(o, f);
    if (!m || i >= m->v.arr.n)
        return NULL;
    if (elem_field)
        *elem_field = m->v.arr.items[i]->wrapper;
    return m->v.arr.items[i];
}

size_t jt_obj_field_count(const jt_obj *o)
{
    return o->n;
}

const jt_field *jt_obj_field_at(const jt_obj *o, size_t i)
{
    return i < o->n ? o->m[i].f : NULL;
}

/* ---------------------------------------------------------------- encoding */

static jt_err put_header(jt_buf *out, unsigned type, unsigned code)
{
    uint8_t h[3];
    size_t n;
    if (type < 16 && code < 16) {
        h[0] = (uint8_t)(type << 4 | code);
        n = 1;
    } else if (type < 16) {
        h[0] = (uint8_t)(type << 4);
        h[1] = (uint8_t)code;
        n = 2;
    } else if (code < 16) {
        h[0] = (uint8_t)code;
        h[1] = (uint8_t)type;
        n = 2;
    } else {
        h[0] = 0;
        h[1] = (uint8_t)type;
        h[2] = (uint8_t)code;
        n = 3;
    }
    return jt_buf_append(out, h, n);
}

static jt_err put_vl(jt_buf *out, size_t len)
{
    uint8_t h[3];
    size_t n;
    if (len <= 192) {
        h[0] = (uint8_t)len;
        n = 1;
    } else if (len <= 12480) {
        len -= 193;
        h[0] = (uint8_t)(193 + (len >> 8));
        h[1] = (uint8_t)len;
        n = 2;
    } else if (len <= 918744) {
        len -= 12481;
        h[0] = (uint8_t)(241 + (len >> 16));
        h[1] = (uint8_t)(len >> 8);
        h[2] = (uint8_t)len;
        n = 3;
    } else {
        return JT_ETOOBIG;
    }
    return jt_buf_append(out, h, n);
}

static jt_err encode_fields(const jt_obj *o, unsigned flags, jt_buf *out);

static jt_err encode_pathset(const jt__pathset *ps, jt_buf *out)
{
    jt_err e = JT_OK;
    for (size_t i = 0; i < ps->n && !e; i++) {
        if (i > 0) {
            uint8_t sep = 0xFF;
            e = jt_buf_append(out, &sep, 1);
        }
        for (size_t j = 0; j < ps->paths[i].n && !e; j++) {
            const jt__path_step *s = &ps->paths[i].steps[j];
            e = jt_buf_append(out, &s->type, 1);
            if (!e && (s->type & 0x01))
                e = jt_buf_append(out, s->account.bytes, 20);
            if (!e && (s->type & 0x10))
                e = jt_buf_append(out, s->currency.bytes, 20);
            if (!e && (s->type & 0x20))
                e = jt_buf_append(out, s->issuer.bytes, 20);
        }
    }
    if (!e) {
        uint8_t end = 0x00;
        e = jt_buf_append(out, &end, 1);
    }
    return e;
}

static jt_err encode_member(const jt__member *m, unsigned flags, jt_buf *out)
{
    const jt_field *f = m->f;
    uint8_t b[48];
    jt_err e = put_header(out, f->type, f->code);
    if (e)
        return e;
    switch (f->type) {
    case JT_T_UINT8: b[0] = (uint8_t)m->v.u; return jt_buf_append(out, b, 1);
    case JT_T_UINT16: jt__put_u16(b, (uint16_t)m->v.u); return jt_buf_append(out, b, 2);
    case JT_T_UINT32: jt__put_u32(b, (uint32_t)m->v.u); return jt_buf_append(out, b, 4);
    case JT_T_UINT64: jt__put_u64(b, m->v.u); return jt_buf_append(out, b, 8);
    case JT_T_HASH128:
    case JT_T_HASH160:
    case JT_T_HASH256: return jt_buf_append(out, m->v.bytes.p, m->v.bytes.n);
    case JT_T_BLOB:
    case JT_T_VECTOR256:
        if ((e = put_vl(out, m->v.bytes.n)))
            return e;
        return jt_buf_append(out, m->v.bytes.p, m->v.bytes.n);
    case JT_T_ACCOUNT:
        b[0] = 20;
        memcpy(b + 1, m->v.acct.bytes, 20);
        return jt_buf_append(out, b, 21);
    case JT_T_AMOUNT: {
        size_t n;
        if ((e = jt_amount_encode(m->v.amt, b, &n)))
            return e;
        return jt_buf_append(out, b, n);
    }
    case JT_T_OBJECT:
        if ((e = encode_fields(m->v.obj, flags, out)))
            return e;
        b[0] = 0xE1;
        return jt_buf_append(out, b, 1);
    case JT_T_ARRAY:
        for (size_t i = 0; i < m->v.arr.n; i++) {
            const jt_obj *it = m->v.arr.items[i];
            if ((e = put_header(out, it->wrapper->type, it->wrapper->code)) ||
                (e = encode_fields(it, flags, out)))
                return e;
            b[0] = 0xE1;
            if ((e = jt_buf_append(out, b, 1)))
                return e;
        }
        b[0] = 0xF1;
        return jt_buf_append(out, b, 1);
    case JT_T_PATHSET: return encode_pathset(m->v.paths, out);
    default: return JT_EFIELD_TYPE;
    }
}

static jt_err encode_fields(const jt_obj *o, unsigned flags, jt_buf *out)
{
    for (size_t i = 0; i < o->n; i++) {
        if ((flags & JT_SER_SIGNING) && (o->m[i].f->flags & JT_FIELD_NOT_SIGNING))
            continue;
        jt_err e = encode_member(&o->m[i], flags, out);
        if (e)
            return e;
    }
    return JT_OK;
}

/* Field equality by serialized form: exact, and cheap for the small members
 * ledger entries carry. A member that fails to encode never compares equal. */
bool jt_obj_field_equal(const jt_obj *a, const jt_obj *b, const jt_field *f)
{
    const jt__member *ma = a ? jt__obj_find(a, f) : NULL;
    const jt__member *mb = b ? jt__obj_find(b, f) : NULL;
    if (!ma || !mb)
        return !ma && !mb;
    if (f->type <= JT_T_UINT64 || f->type == JT_T_UINT8)
        return ma->v.u == mb->v.u;
    if (f->type == JT_T_ACCOUNT)
        return memcmp(&ma->v.acct, &mb->v.acct, sizeof ma->v.acct) == 0;
    if (f->type == JT_T_HASH128 || f->type == JT_T_HASH160 || f->type == JT_T_HASH256 ||
        f->type == JT_T_BLOB || f->type == JT_T_VECTOR256)
        return ma->v.bytes.n == mb->v.bytes.n &&
               (!ma->v.bytes.n || memcmp(ma->v.bytes.p, mb->v.bytes.p, ma->v.bytes.n) == 0);
    if (f->type == JT_T_AMOUNT) {
        uint8_t x[48], y[48];
        size_t nx, ny;
        return jt_amount_encode(ma->v.amt, x, &nx) == JT_OK && jt_amount_encode(mb->v.amt, y, &ny) == JT_OK &&
               nx == ny && memcmp(x, y, nx) == 0;
    }
    jt_buf x, y;
    jt_buf_init(&x);
    jt_buf_init(&y);
    bool eq = encode_member(ma, 0, &x) == JT_OK && encode_member(mb, 0, &y) == JT_OK &&
              x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
    jt_buf_clear(&x);
    jt_buf_clear(&y);
    return eq;
}

jt_err jt_obj_copy_field(jt_obj *dst, const jt_obj *src, const jt_field *f)
{
    const jt__member *m = jt__obj_find(src, f);
    if (!m)
        return JT_EFIELD_MISSING;
    jt__member tmp;
    jt_err e = copy_member(dst->arena, &tmp, m);
    if (e)
        return e;
    jt__member *slot = jt__obj_slot(dst, f);
    if (!slot)
        return JT_ENOMEM;
    *slot = tmp;
    return JT_OK;
}

jt_err jt_field_header_to_binary(const jt_field *f, jt_buf *out)
{
    if (!(f = table_field(f)))
        return JT_EFIELD_UNKNOWN;
    return put_header(out, f->type, f->code);
}

jt_err jt_obj_member_to_binary(const jt_obj *o, size_t i, jt_buf *out)
{
    if (i >= o->n)
        return JT_EINVAL;
    return encode_member(&o->m[i], 0, out);
}

jt_err jt_obj_to_binary(const jt_obj *o, unsigned flags, jt_buf *out)
{
    return encode_fields(o, flags, out);
}

/* ---------------------------------------------------------------- decoding */

typedef struct dec {
    const uint8_t *p;
    size_t len, pos;
    jt__arena *arena;
    jt_errinfo *ei;
} dec;

static jt_err need(dec *d, size_t n, const char *field)
{
    if (d->len - d->pos < n)
        return jt__err(d->ei, JT_ETRUNCATED, field, (long)d->pos,
                       "input ends inside %s at offset %zu (%zu more bytes needed)",
                       field ? field : "a field header", d->pos, n - (d->len - d->pos));
    return JT_OK;
}

/* Reads a field header; *type and *code are both non-zero on success. */
static jt_err read_header(dec *d, unsigned *type, unsigned *code)
{
    size_t start = d->pos;
    jt_err e = need(d, 1, NULL);
    if (e)
        return e;
    uint8_t h = d->p[d->pos++];
    unsigned t = h >> 4, c = h & 15;
    if (t == 0) {
        if ((e = need(d, 1, NULL)))
            return e;
        t = d->p[d->pos++];
        if (t < 16)
            return jt__err(d->ei, JT_EFIELD_CODE, NULL, (long)start,
                           "non-canonical field header at offset %zu (type %u in an extra byte)",
                           start, t);
    }
    if (c == 0) {
        if ((e = need(d, 1, NULL)))
            return e;
        c = d->p[d->pos++];
        if (c < 16)
            return jt__err(d->ei, JT_EFIELD_CODE, NULL, (long)start,
                           "non-canonical field header at offset %zu (field %u in an extra byte)",
                           start, c);
    }
    *type = t;
    *code = c;
    return JT_OK;
}

static jt_err read_vl(dec *d, const char *field, size_t *len)
{
    size_t start = d->pos;
    jt_err e = need(d, 1, field);
    if (e)
        return e;
    unsigned b1 = d->p[d->pos++];
    if (b1 <= 192) {
        *len = b1;
    } else if (b1 <= 240) {
        if ((e = need(d, 1, field)))
            return e;
        *len = 193 + (b1 - 193) * 256 + d->p[d->pos++];
    } else if (b1 <= 254) {
        if ((e = need(d, 2, field)))
            return e;
        *len = 12481 + (b1 - 241) * 65536 + d->p[d->pos] * 256u + d->p[d->pos + 1];
        d->pos += 2;
    } else {
        return jt__err(d->ei, JT_EVL, field, (long)start,
                       "%s: invalid length prefix byte 0xFF at offset %zu", field, start);
    }
    return need(d, *len, field);
}

static jt_err decode_fields(dec *d, jt_obj *o, int depth, bool nested);

static jt_err decode_pathset(dec *d, const char *name, jt__pathset **out)
{
    jt__pathset *ps = jt__arena_alloc(d->arena, sizeof *ps);
    if (!ps)
        return JT_ENOMEM;
    /* Steps are at least 21 bytes; count them first to size arrays. */
    size_t cap_paths = 4, cap_steps = 0;
    jt__path cur = {0};
    ps->paths = jt__arena_alloc(d->arena, cap_paths * sizeof *ps->paths);
    if (!ps->paths)
        return JT_ENOMEM;
    for (;;) {
        size_t at = d->pos;
        jt_err e = need(d, 1, name);
        if (e)
            return e;
        uint8_t t = d->p[d->pos++];
        if (t == 0x00 || t == 0xFF) {
            if (cur.n == 0)
                return jt__err(d->ei, JT_EPATH, name, (long)at, "%s: empty path at offset %zu",
                               name, at);
            if (ps->n == cap_paths) {
                jt__path *np = jt__arena_alloc(d->arena, 2 * cap_paths * sizeof *np);
                if (!np)
                    return JT_ENOMEM;
                memcpy(np, ps->paths, ps->n * sizeof *np);
                ps->paths = np;
                cap_paths *= 2;
            }
            ps->paths[ps->n++] = cur;
            memset(&cur, 0, sizeof cur);
            cap_steps = 0;
            if (t == 0x00)
                break;
            continue;
        }
        if (t & ~0x31u)
            return jt__err(d->ei, JT_EPATH, name, (long)at,
                           "%s: invalid path step type 0x%02X at offset %zu", name, t, at);
        if (cur.n == cap_steps) {
            size_t nc = cap_steps ? cap_steps * 2 : 4;
            jt__path_step *ns = jt__arena_alloc(d->arena, nc * sizeof *ns);
            if (!ns)
                return JT_ENOMEM;
            if (cur.n)
                memcpy(ns, cur.steps, cur.n * sizeof *ns);
            cur.steps = ns;
            cap_steps = nc;
        }
        jt__path_step *s = &cur.steps[cur.n++];
        s->type = t;
        if (t & 0x01) {
            if ((e = need(d, 20, name)))
                return e;
            memcpy(s->account.bytes, d->p + d->pos, 20);
            d->pos += 20;
        }
        if (t & 0x10) {
            if ((e = need(d, 20, name)))
                return e;
            memcpy(s->currency.bytes, d->p + d->pos, 20);
            d->pos += 20;
        }
        if (t & 0x20) {
            if ((e = need(d, 20, name)))
                return e;
            memcpy(s->issuer.bytes, d->p + d->pos, 20);
            d->pos += 20;
        }
    }
    *out = ps;
    return JT_OK;
}

static jt_err decode_value(dec *d, jt_obj *o, jt__member *m, int depth)
{
    const jt_field *f = m->f;
    const char *name = f->name;
    size_t start = d->pos, n;
    jt_err e;
    switch (f->type) {
    case JT_T_UINT8:
    case JT_T_UINT16:
    case JT_T_UINT32:
    case JT_T_UINT64: {
        size_t w = uint_width(f->type);
        if ((e = need(d, w, name)))
            return e;
        uint64_t v = 0;
        for (size_t i = 0; i < w; i++)
            v = v << 8 | d->p[d->pos + i];
        m->v.u = v;
        d->pos += w;
        return JT_OK;
    }
    case JT_T_HASH128:
    case JT_T_HASH160:
    case JT_T_HASH256:
        n = hash_len(f->type);
        if ((e = need(d, n, name)))
            return e;
        break;
    case JT_T_BLOB:
        if ((e = read_vl(d, name, &n)))
            return e;
        start = d->pos;
        break;
    case JT_T_VECTOR256:
        if ((e = read_vl(d, name, &n)))
            return e;
        if (n % 32)
            return jt__err(d->ei, JT_EVL, name, (long)start,
                           "%s: length %zu is not a multiple of 32", name, n);
        start = d->pos;
        break;
    case JT_T_ACCOUNT:
        if ((e = read_vl(d, name, &n)))
            return e;
        if (n != 20)
            return jt__err(d->ei, JT_EVL, name, (long)start,
                           "%s: an account ID is 20 bytes, not %zu", name, n);
        memcpy(m->v.acct.bytes, d->p + d->pos, 20);
        d->pos += 20;
        return JT_OK;
    case JT_T_AMOUNT: {
        jt_amount *a = jt__arena_alloc(d->arena, sizeof *a);
        if (!a)
            return JT_ENOMEM;
        size_t used = 0;
        jt_errinfo sub;
        jt_errinfo_clear(&sub);
        if ((e = jt_amount_decode(d->p + d->pos, d->len - d->pos, a, &used, &sub)))
            return jt__err(d->ei, e, name, (long)start, "%s at offset %zu: %s", name, start,
                           sub.msg);
        d->pos += used;
        m->v.amt = a;
        return JT_OK;
    }
    case JT_T_OBJECT: {
        jt_obj *c = jt__obj_child(d->arena);
        if (!c)
            return JT_ENOMEM;
        if ((e = decode_fields(d, c, depth + 1, true)))
            return e;
        m->v.obj = c;
        return JT_OK;
    }
    case JT_T_ARRAY:
        if (depth + 1 > JT_CODEC_MAX_DEPTH)
            return jt__err(d->ei, JT_EDEPTH, name, (long)start, "%s: nested deeper than %d levels",
                           name, JT_CODEC_MAX_DEPTH);
        for (;;) {
            size_t at = d->pos;
            unsigned t, c;
            if ((e = read_header(d, &t, &c)))
                return e;
            if (t == JT_T_ARRAY && c == 1)
                return JT_OK; /* F1: end of array */
            const jt_field *ef = jt_field_by_code(t, c);
            if (t != JT_T_OBJECT || !ef)
                return jt__err(d->ei, JT_EFIELD_CODE, name, (long)at,
                               "%s: array element at offset %zu is not a known object field "
                               "(type %u, field %u)",
                               name, at, t, c);
            jt_obj *item = jt__obj_child(d->arena);
            if (!item)
                return JT_ENOMEM;
            item->wrapper = ef;
            if ((e = decode_fields(d, item, depth + 2, true)) || (e = jt__arr_push(o, m, item)))
                return e;
        }
    case JT_T_PATHSET: return decode_pathset(d, name, &m->v.paths);
    default:
        return jt__err(d->ei, JT_EFIELD_CODE, name, (long)start, "%s: unsupported type %u", name,
                       f->type);
    }
    /* Allocate at least one byte so an empty blob has a valid pointer, but
     * copy only what the input holds. */
    m->v.bytes.p = jt__arena_alloc(d->arena, n ? n : 1);
    if (!m->v.bytes.p)
        return JT_ENOMEM;
    if (n)
        memcpy(m->v.bytes.p, d->p + start, n);
    m->v.bytes.n = n;
    d->pos = start + n;
    return JT_OK;
}

static jt_err decode_fields(dec *d, jt_obj *o, int depth, bool nested)
{
    if (depth > JT_CODEC_MAX_DEPTH)
        return jt__err(d->ei, JT_EDEPTH, NULL, (long)d->pos,
                       "objects nested deeper than %d levels at offset %zu", JT_CODEC_MAX_DEPTH,
                       d->pos);
    const jt_field *prev = NULL;
    for (;;) {
        if (d->pos == d->len) {
            if (nested)
                return jt__err(d->ei, JT_ETRUNCATED, NULL, (long)d->pos,
                               "input ends inside an object at offset %zu (no end marker)", d->pos);
            return JT_OK;
        }
        size_t at = d->pos;
        unsigned t, c;
        jt_err e = read_header(d, &t, &c);
        if (e)
            return e;
        if (t == JT_T_OBJECT && c == 1) {
            if (nested)
                return JT_OK;
            return jt__err(d->ei, JT_EMARKER, NULL, (long)at,
                           "object end marker E1 at offset %zu where no object is open", at);
        }
        if (t == JT_T_ARRAY && c == 1)
            return jt__err(d->ei, JT_EMARKER, NULL, (long)at,
                           "array end marker F1 at offset %zu where no array is open", at);
        const jt_field *f = jt_field_by_code(t, c);
        if (!f)
            return jt__err(d->ei, JT_EFIELD_CODE, NULL, (long)at,
                           "unknown field (type %u, field %u) at offset %zu", t, c, at);
        if (prev) {
            int cmp = field_cmp(prev, f);
            if (cmp == 0)
                return jt__err(d->ei, JT_EFIELD_DUP, f->name, (long)at,
                               "%s appears twice (second at offset %zu)", f->name, at);
            if (cmp > 0)
                return jt__err(d->ei, JT_EFIELD_ORDER, f->name, (long)at,
                               "%s at offset %zu comes after %s: fields are not in canonical "
                               "order",
                               f->name, at, prev->name);
        }
        prev = f;
        /* Fields arrive in order, so appending keeps the object sorted. */
        if (o->n == o->cap) {
            size_t cap = o->cap ? o->cap * 2 : 16;
            jt__member *nm = jt__arena_alloc(d->arena, cap * sizeof *nm);
            if (!nm)
                return JT_ENOMEM;
            if (o->n)
                memcpy(nm, o->m, o->n * sizeof *nm);
            o->m = nm;
            o->cap = cap;
        }
        jt__member *m = &o->m[o->n];
        memset(m, 0, sizeof *m);
        m->f = f;
        if ((e = decode_value(d, o, m, depth)))
            return e;
        o->n++;
    }
}

jt_err jt_obj_from_binary(const uint8_t *p, size_t len, jt_obj **out, jt_errinfo *ei)
{
    *out = NULL;
    if (len > JT_CODEC_MAX_BYTES)
        return jt__err(ei, JT_ETOOBIG, NULL, -1, "object is %zu bytes, over the %u-byte limit", len,
                       JT_CODEC_MAX_BYTES);
    jt_obj *o = jt_obj_new();
    if (!o)
        return jt__err(ei, JT_ENOMEM, NULL, -1, NULL);
    /* Room for the members (32 bytes each; 16 at first) and the values
     * copied out: one chunk for a transaction or an entry, and for a
     * payment one small enough for malloc's per-thread cache. */
    jt__arena_init_first(&o->own, 0, len < 32768 ? 512 + 2 * len : 0);
    dec d = {p, len, 0, o->arena, ei};
    jt_err e = decode_fields(&d, o, 0, false);
    if (e) {
        if (e == JT_ENOMEM)
            jt__err(ei, e, NULL, (long)d.pos, NULL);
        jt_obj_free(o);
        return e;
    }
    *out = o;
    return JT_OK;
}

jt_err jt_obj_from_hex(const char *hex, size_t hexlen, jt_obj **out, jt_errinfo *ei)
{
    *out = NULL;
    if (hexlen / 2 > JT_CODEC_MAX_BYTES)
        return jt__err(ei, JT_ETOOBIG, NULL, -1, "hex is over the %u-byte object limit",
                       JT_CODEC_MAX_BYTES);
    uint8_t *buf = malloc(hexlen / 2 + 1);
    if (!buf)
        return jt__err(ei, JT_ENOMEM, NULL, -1, NULL);
    size_t n = 0;
    jt_err e = jt_hex_decode(hex, hexlen, buf, hexlen / 2 + 1, &n);
    if (e) {
        free(buf);
        return jt__err(ei, JT_EHEX, NULL, -1, "not a hex string (%s)",
                       hexlen % 2 ? "odd number of digits" : "a character is not a hex digit");
    }
    e = jt_obj_from_binary(buf, n, out, ei);
    free(buf);
    return e;
}
