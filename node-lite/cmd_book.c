/*
 * cmd_book.c — the command that reads an order book, book_offers, and the
 * book page the books stream's snapshot shares with it. What each offer's
 * owner can deliver is the read model's (jn_book_page_next); this file
 * writes it as skywelld does and pages through the book with a marker.
 */
#include "rpc_int.h"

/* The marker: a jn_book_mark as hex, quality (8 bytes) ‖ page (8) ‖ one
 * 4-byte tag per entry of that page up to the last offer returned (1 to
 * 32). Opaque to clients. */
#define MARK_FIXED 16
#define MARK_MAX   (MARK_FIXED + 4 * JN_BOOK_MARK_TAGS)

static void jw_marker(jt_jw *w, const jn_book_mark *m)
{
    uint8_t b[MARK_MAX];
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(m->quality >> (56 - 8 * i));
        b[8 + i] = (uint8_t)(m->page >> (56 - 8 * i));
    }
    for (uint32_t k = 0; k < m->n; k++)
        for (int i = 0; i < 4; i++)
            b[MARK_FIXED + 4 * k + i] = (uint8_t)(m->tags[k] >> (24 - 8 * i));
    jt_jw_hex(w, b, MARK_FIXED + 4 * (size_t)m->n);
}

static bool parse_marker(const char *t, jn_book_mark *m)
{
    uint8_t b[MARK_MAX];
    size_t n, len = strlen(t);
    if (len > 2 * MARK_MAX || jt_hex_decode(t, len, b, sizeof b, &n) != JT_OK ||
        n < MARK_FIXED + 4 || (n - MARK_FIXED) % 4)
        return false;
    m->quality = m->page = 0;
    for (int i = 0; i < 8; i++) {
        m->quality = m->quality << 8 | b[i];
        m->page = m->page << 8 | b[8 + i];
    }
    m->n = (uint32_t)((n - MARK_FIXED) / 4);
    for (uint32_t k = 0; k < m->n; k++) {
        const uint8_t *p = b + MARK_FIXED + 4 * k;
        m->tags[k] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    }
    return true;
}

static void jw_book_offer(jt_jw *w, const jn_book_offer *o)
{
    extra e;
    extra_begin(&e);
    if (o->first) {
        jt_jw_key(&e.w, "owner_funds");
        jw_value_text(&e.w, &o->owner_funds);
    }
    char qt[JT_AMOUNT_TEXT_MAX];
    (void)jt_amount_quality_text(o->quality, qt, sizeof qt);
    jt_jw_key(&e.w, "quality");
    jt_jw_string(&e.w, qt);
    if (!o->funded) {
        jt_jw_key(&e.w, "taker_gets_funded");
        jw_amount(&e.w, &o->gets_funded);
        jt_jw_key(&e.w, "taker_pays_funded");
        jw_amount(&e.w, &o->pays_funded);
    }
    jt_jw_key(&e.w, "index");
    jt_jw_hex(&e.w, o->id, 32);
    jw_obj_plus(w, o->offer, extra_end(&e));
    extra_free(&e);
}

unsigned rpc_jw_book_page(jt_jw *w, const jn_view *v, const jn_env *env, jn_book_page *p,
                          unsigned limit, jn_book_mark *next)
{
    unsigned n = 0;
    jn_book_offer o;
    while (n < limit && jn_book_page_next(v, env, p, &o)) {
        jw_book_offer(w, &o);
        n++;
    }
    if (!next || n < limit)
        return n;
    /* Is there an offer after the last one? */
    jn_book_cursor peek = p->c;
    uint8_t id[32];
    const jt_obj *off = NULL;
    uint64_t q;
    while (jn_book_next(v, &peek, id, &off, &q) && !off)
        ;
    if (!off || !jn_book_mark_get(v, &p->c, next))
        return n;
    return n + 1; /* limit + 1: a marker follows */
}

int cmd_book_offers(req *q)
{
    jt_amount pays, gets;
    jt_account_id taker;
    lsel s;
    if (rpc_param_book(q, q->p, &pays, &gets, &taker, "invalidParams"))
        return -1;
    jn_book_mark mark;
    const jt_json *mv = jt_json_get(q->p, "marker");
    bool has_marker = mv && mv->kind != JT_JSON_NULL;
    if (has_marker && (!jt_json_string(mv) || !parse_marker(jt_json_string(mv), &mark)))
        return rpc_fail(q, "invalidParams", "Invalid field 'marker'.");
    if (rpc_select_ledger(q, &s, true) || need_state(q, &s))
        return -1;
    /* skywelld: 0 or none is 300, and 300 at most (for admins too here:
     * each request's reply stays bounded). */
    unsigned limit = rpc_param_limit(q, BOOK_PAGE_MAX, 0, BOOK_PAGE_MAX);
    if (!limit)
        limit = BOOK_PAGE_MAX;
    const jn_params *prm = jn_ledger_params(q->rpc->L);
    const jn_env env = {.reserve_base = prm->reserve_base, .reserve_inc = prm->reserve_inc};
    jn_book_owner owners[BOOK_PAGE_MAX];
    jn_book_page page;
    jn_book_page_init(&page, s.v, &pays, &gets, &taker, owners, BOOK_PAGE_MAX);
    if (has_marker)
        jn_book_seek(s.v, &page.c, &mark);
    jt_jw *w = q->w;
    rpc_jw_ledger_fields(w, &s, q->rpc->L);
    jt_jw_key(w, "offers");
    jt_jw_array_begin(w);
    unsigned n = rpc_jw_book_page(w, s.v, &env, &page, limit, &mark);
    jt_jw_array_end(w);
    if (n > limit) {
        jt_jw_key(w, "limit");
        jt_jw_uint(w, limit);
        jt_jw_key(w, "marker");
        jw_marker(w, &mark);
    }
    return 0;
}
