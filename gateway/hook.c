/*
 * hook.c — webhook signing, retry schedule and records (hook.h).
 */
#include "hook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <jt/json.h>

void gw_hook_sign(const char *secret, const void *body, size_t len, char out[GW_HOOK_SIG_LEN])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, GW_HOOK_SIG_LEN - 7, mac, sizeof mac);
    sodium_memzero(&st, sizeof st);
}

uint64_t gw_hook_backoff_ms(unsigned failures, uint64_t base_ms, uint64_t max_ms)
{
    if (failures == 0)
        return 0;
    uint64_t d = base_ms ? base_ms : 1;
    for (unsigned i = 1; i < failures && d < max_ms; i++)
        d *= 2;
    return d < max_ms ? d : max_ms;
}

bool gw_hook_url_ok(const char *url)
{
    size_t n = strlen(url);
    if (n >= GW_HOOK_URL_MAX)
        return false;
    const char *host;
    if (!strncmp(url, "http://", 7))
        host = url + 7;
    else if (!strncmp(url, "https://", 8))
        host = url + 8;
    else
        return false;
    if (!*host || *host == '/' || *host == ':' || *host == '?' || *host == '#')
        return false;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* ------------------------------------------------------------ webhooks */

int gw_webhook_encode(const gw_webhook *w, jt_buf *out)
{
    jt_jw jw;
    jt_jw_init(&jw, out);
    jt_jw_object_begin(&jw);
    jt_jw_key(&jw, "id");
    jt_jw_string(&jw, w->id);
    jt_jw_key(&jw, "url");
    jt_jw_string(&jw, w->url);
    jt_jw_key(&jw, "accounts");
    jt_jw_array_begin(&jw);
    for (size_t i = 0; i < w->n_accounts; i++)
        jt_jw_string(&jw, w->accounts[i]);
    jt_jw_array_end(&jw);
    jt_jw_key(&jw, "secret");
    jt_jw_string(&jw, w->secret);
    jt_jw_key(&jw, "created");
    jt_jw_int(&jw, w->created);
    jt_jw_object_end(&jw);
    return jt_jw_finish(&jw) == JT_OK ? 0 : -1;
}

static bool copy_str(const jt_json *v, char *dst, size_t cap, bool required)
{
    const char *s = jt_json_string(v);
    if (!s)
        return !required;
    if (strlen(s) >= cap)
        return false;
    memcpy(dst, s, strlen(s) + 1);
    return true;
}

int gw_webhook_decode(const void *v, size_t len, gw_webhook *w)
{
    memset(w, 0, sizeof *w);
    jt_json_doc *doc;
    jt_errinfo ei;
    if (jt_json_parse(v, len, NULL, &doc, &ei) != JT_OK)
        return -1;
    const jt_json *r = jt_json_root(doc);
    int rc = -1;
    const jt_json *acc = jt_json_get(r, "accounts");
    int64_t created = 0;
    if (!copy_str(jt_json_get(r, "id"), w->id, sizeof w->id, true) ||
        !copy_str(jt_json_get(r, "url"), w->url, sizeof w->url, true) ||
        !copy_str(jt_json_get(r, "secret"), w->secret, sizeof w->secret, true) || !acc ||
        acc->kind != JT_JSON_ARRAY || acc->u.arr.n > GW_HOOK_MAX_ACCOUNTS ||
        !jt_json_int64(jt_json_get(r, "created"), false, &created))
        goto out;
    w->created = created;
    if (acc->u.arr.n && !(w->accounts = calloc(acc->u.arr.n, sizeof *w->accounts)))
        goto out;
    for (size_t i = 0; i < acc->u.arr.n; i++) {
        if (!copy_str(acc->u.arr.items[i], w->accounts[i], sizeof w->accounts[i], true))
            goto out;
        w->n_accounts++;
    }
    rc = 0;
out:
    jt_json_doc_free(doc);
    if (rc)
        gw_webhook_clear(w);
    return rc;
}

void gw_webhook_clear(gw_webhook *w)
{
    free(w->accounts);
    w->accounts = NULL;
    w->n_accounts = 0;
    sodium_memzero(w->secret, sizeof w->secret);
}

bool gw_webhook_has(const gw_webhook *w, const char *account)
{
    for (size_t i = 0; i < w->n_accounts; i++)
        if (!strcmp(w->accounts[i], account))
            return true;
    return false;
}

/* ------------------------------------------------------------ deliveries */

size_t gw_delivery_key(const char *hook, const char *event_id, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", hook, event_id);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

int gw_delivery_encode(const gw_delivery *d, jt_buf *out)
{
    jt_jw jw;
    jt_jw_init(&jw, out);
    jt_jw_object_begin(&jw);
    jt_jw_key(&jw, "hook");
    jt_jw_string(&jw, d->hook);
    jt_jw_key(&jw, "id");
    jt_jw_string(&jw, d->event_id);
    jt_jw_key(&jw, "attempts");
    jt_jw_uint(&jw, d->attempts);
    jt_jw_key(&jw, "next_ms");
    jt_jw_uint(&jw, d->next_ms);
    jt_jw_key(&jw, "created_ms");
    jt_jw_uint(&jw, d->created_ms);
    jt_jw_key(&jw, "last_ms");
    jt_jw_uint(&jw, d->last_ms);
    jt_jw_key(&jw, "last_status");
    jt_jw_int(&jw, d->last_status);
    jt_jw_key(&jw, "last_error");
    jt_jw_string(&jw, d->last_error);
    /* The body as a string: the bytes signed and sent must not depend on
     * how a parser and writer would round-trip them. */
    jt_jw_key(&jw, "body");
    jt_jw_string_n(&jw, d->body ? d->body : "", d->body ? d->body_len : 0);
    jt_jw_object_end(&jw);
    return jt_jw_finish(&jw) == JT_OK ? 0 : -1;
}

int gw_delivery_decode(const void *v, size_t len, gw_delivery *d)
{
    memset(d, 0, sizeof *d);
    jt_json_doc *doc;
    jt_errinfo ei;
    jt_json_limits lim = {.max_bytes = 64u << 20, .max_depth = 4, .max_items = 100};
    if (jt_json_parse(v, len, &lim, &doc, &ei) != JT_OK)
        return -1;
    const jt_json *r = jt_json_root(doc);
    const jt_json *body = jt_json_get(r, "body");
    uint64_t attempts = 0;
    int64_t st = 0;
    int rc = -1;
    if (!copy_str(jt_json_get(r, "hook"), d->hook, sizeof d->hook, true) ||
        !copy_str(jt_json_get(r, "id"), d->event_id, sizeof d->event_id, true) ||
        !copy_str(jt_json_get(r, "last_error"), d->last_error, sizeof d->last_error, false) ||
        !jt_json_uint64(jt_json_get(r, "attempts"), false, &attempts) || attempts > UINT32_MAX ||
        !jt_json_uint64(jt_json_get(r, "next_ms"), false, &d->next_ms) ||
        !jt_json_uint64(jt_json_get(r, "created_ms"), false, &d->created_ms) ||
        !jt_json_uint64(jt_json_get(r, "last_ms"), false, &d->last_ms) ||
        !jt_json_int64(jt_json_get(r, "last_status"), false, &st) || st < 0 || st > 999 || !body ||
        body->kind != JT_JSON_STRING)
        goto out;
    d->attempts = (uint32_t)attempts;
    d->last_status = (int)st;
    if (!(d->body = malloc(body->u.str.len + 1)))
        goto out;
    memcpy(d->body, body->u.str.s, body->u.str.len);
    d->body[body->u.str.len] = 0;
    d->body_len = body->u.str.len;
    rc = 0;
out:
    jt_json_doc_free(doc);
    return rc;
}

void gw_delivery_clear(gw_delivery *d)
{
    free(d->body);
    d->body = NULL;
    d->body_len = 0;
}
