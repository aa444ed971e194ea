/* gateway_client.c — the blocking client for jt-gateway's REST API
 * (jt/gateway.h) over libcurl's easy interface.
 *
 * A handle keeps a small pool of easy handles: a call takes an idle one
 * (each keeps its connection alive between transfers), or makes one when
 * all are busy, so calls on one handle may run on several threads at once.
 * libcurl's share interface is not used for connections: it does not
 * support sharing them between threads.
 *
 * What the gateway sent is read apart from the transfer (reply_finish and
 * the *_from functions, declared in gateway_client.h) so that the fuzz
 * target reaches it without a network. */
#include <curl/curl.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway_client.h"
#include "internal.h"
#include "jt/gateway.h"
#include "jt/hash.h"
#include "jt/json.h"
#include "jt/util.h"

#if LIBCURL_VERSION_NUM < 0x074d00
#error "the gateway client needs libcurl 7.77 or later (CURLOPT_CAINFO_BLOB)"
#endif

#define POOL_MAX      4
#define API_KEY_MAX   512
#define PEM_MAX       ((size_t)64 << 10)
#define PATH_MAX_LEN  8192
#define CLIENT_ID_MAX 128
#define MEMOS_MAX     8
#define CTYPE_MAX     128

struct jt_gw {
    char *base;        /* as given, without trailing '/' */
    jt_gw_options opt; /* scalars; the strings below are the handle's copies */
    char *ca_file;
    char *user_agent;
    char *proxy;
    uint8_t *pinned_pem; /* the certificate file, for CURLOPT_CAINFO_BLOB */
    size_t pinned_len;
    char pin[64];                 /* "sha256//<base64 of the SPKI's SHA-256>" */
    struct curl_slist *hdr_plain; /* Accept (and the API key) */
    struct curl_slist *hdr_body;  /* the same, plus Content-Type and no Expect */

    pthread_mutex_t mu;
    CURL *idle[POOL_MAX];
    size_t n_idle;
    unsigned connections;
};

/* ---------------------------------------------------------------- text helpers */

/* Copies `src` (n bytes) into dst (cap > 0) with every control character
 * replaced by '?', cut to fit without leaving half a UTF-8 sequence. */
static void clean_copy(char *dst, size_t cap, const char *src, size_t n)
{
    size_t k = n < cap - 1 ? n : cap - 1;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (k < n) {
        while (k > 0 && ((unsigned char)dst[k - 1] & 0xC0) == 0x80)
            k--;
        if (k > 0 && ((unsigned char)dst[k - 1] & 0x80))
            k--;
    }
    dst[k] = '\0';
}

/* After a snprintf into ei->msg that may have been cut: no half UTF-8
 * sequence at the end. */
static void msg_tidy(char *msg, size_t cap, int written)
{
    if (written < 0 || (size_t)written < cap)
        return;
    size_t k = strlen(msg);
    while (k > 0 && ((unsigned char)msg[k - 1] & 0xC0) == 0x80)
        k--;
    if (k > 0 && ((unsigned char)msg[k - 1] & 0x80))
        k--;
    msg[k] = '\0';
}

static jt_err gw_err(jt_errinfo *ei, jt_err code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static jt_err gw_err(jt_errinfo *ei, jt_err code, const char *field, const char *fmt, ...)
{
    if (!ei)
        return code;
    jt_errinfo_clear(ei);
    ei->code = code;
    if (field)
        clean_copy(ei->field, sizeof ei->field, field, strlen(field));
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(ei->msg, sizeof ei->msg, fmt, ap);
    va_end(ap);
    msg_tidy(ei->msg, sizeof ei->msg, n);
    return code;
}

static bool printable_ascii(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f || n >= max)
            return false;
    return n > 0;
}

/* Printable ASCII, spaces allowed, 1 to max-1 characters. */
static bool header_text(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] >= 0x7f || n + 1 >= max)
            return false;
    return n > 0;
}

/* Percent-encodes everything but RFC 3986's unreserved characters. */
static jt_err append_escaped(jt_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~';
        char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
        jt_err e = plain ? jt_buf_append(b, s, 1) : jt_buf_append(b, enc, 3);
        if (e)
            return e;
    }
    return JT_OK;
}

static jt_err append_str(jt_buf *b, const char *s)
{
    return jt_buf_append(b, s, strlen(s));
}

/* ---------------------------------------------------------------- reading answers */

static jt_err status_err(int status)
{
    switch (status) {
    case 401: return JT_EAUTH;
    case 403: return JT_EFORBIDDEN;
    case 404: return JT_ENOTFOUND;
    case 409: return JT_ECONFLICT;
    case 422: return JT_EREJECTED;
    case 429: return JT_ERATELIMIT;
    case 502:
    case 503:
    case 504: return JT_EUNAVAILABLE;
    default: return status >= 400 && status < 500 ? JT_EBADREQUEST : JT_EGATEWAY;
    }
}

static bool is_json_type(const char *ct)
{
    if (!ct || !ct[0])
        return true;
    size_t n = strcspn(ct, "; \t");
    if (n == 16 && !strncasecmp(ct, "application/json", 16))
        return true;
    return n > 5 && !strncasecmp(ct + n - 5, "+json", 5);
}

jt_err jt__gw_reply_finish(jt_gw_reply *r, const char *content_type, size_t max_body,
                           jt_errinfo *ei)
{
    jt_errinfo_clear(ei);
    r->doc = NULL;
    jt_errinfo pei;
    jt_errinfo_clear(&pei);
    jt_err perr = JT_OK;
    const jt_json *root = NULL;
    if (r->body && r->body_len && is_json_type(content_type)) {
        /* Every value takes at least a byte: only the size should refuse a
         * body (a history page nests a transaction's metadata deep). */
        jt_json_limits lim = {.max_bytes = max_body, .max_depth = 128, .max_items = max_body};
        perr = jt_json_parse(r->body, r->body_len, &lim, &r->doc, &pei);
        if (perr)
            r->doc = NULL;
        else
            root = jt_json_root(r->doc);
    }
    const jt_json *success = jt_json_get(root, "success");
    bool refused = success && success->kind == JT_JSON_BOOL && !success->u.b;
    bool ok = r->status >= 200 && r->status < 300;
    if (ok && !refused) {
        if (perr) {
            char why[160];
            clean_copy(why, sizeof why, pei.msg, strlen(pei.msg));
            return gw_err(ei, JT_EBADRESPONSE, NULL,
                          "gateway: HTTP %d with a body that is not JSON (%s)", r->status, why);
        }
        return JT_OK;
    }
    jt_err code = ok ? JT_EGATEWAY : status_err(r->status);
    const char *token = jt_json_string(jt_json_get(root, "error"));
    const char *message = jt_json_string(jt_json_get(root, "message"));
    const char *field = jt_json_string(jt_json_get(root, "field"));
    if (!token && !message)
        return gw_err(ei, code, "", "gateway: HTTP %d (%s)", r->status,
                      root          ? "without the gateway's error envelope"
                      : r->body_len ? "the body is not the gateway's JSON envelope"
                                    : "no body");
    char tok[48], msg[256], fld[64];
    clean_copy(tok, sizeof tok, token ? token : "", token ? strlen(token) : 0);
    clean_copy(msg, sizeof msg, message ? message : "", message ? strlen(message) : 0);
    clean_copy(fld, sizeof fld, field ? field : "", field ? strlen(field) : 0);
    /* The gateway's messages about a field mostly begin with its name. */
    bool name_field = fld[0] && strncmp(msg, fld, strlen(fld)) != 0;
    return gw_err(ei, code, tok, "gateway: HTTP %d %s%s%s%s: %s", r->status, tok[0] ? tok : "error",
                  name_field ? " (" : "", name_field ? fld : "", name_field ? ")" : "", msg);
}

static jt_err bad_answer(jt_errinfo *ei, const char *what)
{
    return gw_err(ei, JT_EBADRESPONSE, NULL, "gateway: the answer has no valid %s", what);
}

/* Copies an optional string member; false when present but not a string or
 * too long for dst. */
static bool opt_text(const jt_json *obj, const char *key, char *dst, size_t cap)
{
    const jt_json *v = jt_json_get(obj, key);
    dst[0] = '\0';
    if (!v || v->kind == JT_JSON_NULL)
        return true;
    if (v->kind != JT_JSON_STRING || v->u.str.len >= cap)
        return false;
    clean_copy(dst, cap, v->u.str.s, v->u.str.len);
    return true;
}

/* Like opt_text, but cut to fit (informative strings). */
static void cut_text(const jt_json *obj, const char *key, char *dst, size_t cap)
{
    const jt_json *v = jt_json_get(obj, key);
    if (v && v->kind == JT_JSON_STRING)
        clean_copy(dst, cap, v->u.str.s, v->u.str.len);
    else
        dst[0] = '\0';
}

/* An optional unsigned member (number or numeric string) up to `max`;
 * false when present and not one. */
static bool opt_uint(const jt_json *obj, const char *key, uint64_t max, uint64_t *out)
{
    const jt_json *v = jt_json_get(obj, key);
    *out = 0;
    if (!v || v->kind == JT_JSON_NULL)
        return true;
    return jt_json_uint64(v, true, out) && *out <= max;
}

static bool opt_u32(const jt_json *obj, const char *key, uint32_t *out)
{
    uint64_t v;
    if (!opt_uint(obj, key, UINT32_MAX, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

/* An optional string member: its text (NULL when absent); false when present
 * and not a string, or holding a control character (what the typed helpers
 * hand out is safe to print). */
static bool opt_str(const jt_json *obj, const char *key, const char **out)
{
    const jt_json *v = jt_json_get(obj, key);
    *out = NULL;
    if (!v || v->kind == JT_JSON_NULL)
        return true;
    if (v->kind != JT_JSON_STRING)
        return false;
    for (size_t i = 0; i < v->u.str.len; i++)
        if ((unsigned char)v->u.str.s[i] < 0x20 || v->u.str.s[i] == 0x7f)
            return false;
    *out = v->u.str.s;
    return true;
}

static bool is_hash_text(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (jt__hex_value(s[i]) < 0)
            return false;
    return true;
}

jt_err jt__gw_health_from(const jt_json *root, jt_gw_health *out, jt_errinfo *ei)
{
    memset(out, 0, sizeof *out);
    out->validated_age_s = -1;
    if (!root || root->kind != JT_JSON_OBJECT)
        return bad_answer(ei, "health object");
    if (!opt_text(root, "status", out->status, sizeof out->status) || !out->status[0])
        return bad_answer(ei, "status");
    out->ok = !strcmp(out->status, "ok");
    const jt_json *node = jt_json_get(root, "node");
    cut_text(node, "url", out->node_url, sizeof out->node_url);
    cut_text(node, "state", out->node_state, sizeof out->node_state);
    cut_text(node, "last_error", out->node_error, sizeof out->node_error);
    uint64_t rc;
    if (!opt_uint(node, "reconnects", UINT32_MAX, &rc))
        return bad_answer(ei, "node.reconnects");
    out->reconnects = (unsigned)rc;
    if (!opt_u32(root, "validated_ledger", &out->validated_ledger))
        return bad_answer(ei, "validated_ledger");
    if (!opt_uint(root, "pending", UINT64_MAX, &out->pending) ||
        !opt_uint(root, "uptime_s", UINT64_MAX, &out->uptime_s))
        return bad_answer(ei, "pending or uptime_s");
    const jt_json *age = jt_json_get(root, "validated_ledger_age_s");
    if (age && age->kind == JT_JSON_NUMBER) {
        char *end;
        double d = strtod(age->u.str.s, &end);
        if (*end == '\0' && d >= 0 && d < 1e12)
            out->validated_age_s = d;
    }
    return JT_OK;
}

static jt_gw_tx_state state_of(const char *status)
{
    if (!strcmp(status, "pending"))
        return JT_GW_TX_PENDING;
    if (!strcmp(status, "validated"))
        return JT_GW_TX_VALIDATED;
    if (!strcmp(status, "failed"))
        return JT_GW_TX_FAILED;
    if (!strcmp(status, "expired"))
        return JT_GW_TX_EXPIRED;
    return JT_GW_TX_UNKNOWN;
}

/* Keeps out->client_id when the answer names none (the caller's). */
jt_err jt__gw_tx_status_from(const jt_json *root, jt_gw_tx_status *out, jt_errinfo *ei)
{
    if (!root || root->kind != JT_JSON_OBJECT)
        return bad_answer(ei, "transaction status object");
    char cid[sizeof out->client_id];
    if (!opt_text(root, "client_id", cid, sizeof cid))
        return bad_answer(ei, "client_id");
    if (cid[0])
        memcpy(out->client_id, cid, sizeof cid);
    const char *hash = jt_json_string(jt_json_get(root, "hash"));
    if (!hash || !is_hash_text(hash))
        return bad_answer(ei, "hash");
    for (size_t i = 0; i < 64; i++)
        out->hash[i] = (char)(hash[i] >= 'a' && hash[i] <= 'f' ? hash[i] - 'a' + 'A' : hash[i]);
    out->hash[64] = '\0';
    if (!opt_text(root, "status", out->status, sizeof out->status) || !out->status[0])
        return bad_answer(ei, "status");
    out->state = state_of(out->status);
    if (!opt_text(root, "result", out->result, sizeof out->result))
        return bad_answer(ei, "result");
    /* Validated payments come from the node: the numbers are the
     * transaction's own. */
    const jt_json *tx = jt_json_get(root, "transaction");
    if (!opt_u32(root, "sequence", &out->sequence) ||
        (!out->sequence && !opt_u32(tx, "Sequence", &out->sequence)))
        return bad_answer(ei, "sequence");
    if (!opt_u32(root, "ledger_index", &out->ledger_index))
        return bad_answer(ei, "ledger_index");
    if (!opt_u32(root, "last_ledger_sequence", &out->last_ledger_sequence) ||
        (!out->last_ledger_sequence &&
         !opt_u32(tx, "LastLedgerSequence", &out->last_ledger_sequence)))
        return bad_answer(ei, "last_ledger_sequence");
    return JT_OK;
}

/* An amount object ({value, currency, issuer}); false when malformed. */
static bool read_amount(const jt_json *v, jt_gw_amount *a)
{
    memset(a, 0, sizeof *a);
    if (!v || v->kind != JT_JSON_OBJECT)
        return false;
    return opt_str(v, "value", &a->value) && a->value && opt_str(v, "currency", &a->currency) &&
           a->currency && opt_str(v, "issuer", &a->issuer);
}

jt_err jt__gw_balances_from(jt_gw_balances *b, jt_errinfo *ei)
{
    const jt_json *root = jt_gw_reply_json(&b->reply);
    const jt_json *list = jt_json_get(root, "balances");
    if (!list || list->kind != JT_JSON_ARRAY)
        return bad_answer(ei, "balances array");
    uint64_t seq;
    if (!opt_uint(root, "sequence", UINT32_MAX, &seq) ||
        !opt_u32(root, "ledger_index", &b->ledger_index))
        return bad_answer(ei, "sequence or ledger_index");
    b->sequence = (uint32_t)seq;
    if (list->u.arr.n && !(b->items = calloc(list->u.arr.n, sizeof *b->items)))
        return gw_err(ei, JT_ENOMEM, NULL, "out of memory for %zu balances", list->u.arr.n);
    for (size_t i = 0; i < list->u.arr.n; i++) {
        const jt_json *v = list->u.arr.items[i];
        jt_gw_balance *it = &b->items[i];
        if (!read_amount(v, &it->amount) || !opt_str(v, "freezed", &it->freezed))
            return gw_err(ei, JT_EBADRESPONSE, NULL,
                          "gateway: the answer has no valid balances[%zu]", i);
        if (!it->amount.issuer)
            it->amount.issuer = "";
        b->n++;
    }
    return JT_OK;
}

jt_err jt__gw_history_from(jt_gw_history *h, jt_errinfo *ei)
{
    const jt_json *root = jt_gw_reply_json(&h->reply);
    const jt_json *list = jt_json_get(root, "transactions");
    if (!list)
        list = jt_json_get(root, "payments");
    if (!list || list->kind != JT_JSON_ARRAY)
        return bad_answer(ei, "transactions or payments array");
    if (!opt_text(root, "marker", h->marker, sizeof h->marker))
        return bad_answer(ei, "marker");
    if (list->u.arr.n && !(h->items = calloc(list->u.arr.n, sizeof *h->items)))
        return gw_err(ei, JT_ENOMEM, NULL, "out of memory for %zu entries", list->u.arr.n);
    for (size_t i = 0; i < list->u.arr.n; i++) {
        const jt_json *v = list->u.arr.items[i];
        jt_gw_history_entry *it = &h->items[i];
        const jt_json *amt = jt_json_get(v, "amount");
        bool ok = v->kind == JT_JSON_OBJECT && opt_str(v, "type", &it->type) &&
                  opt_str(v, "hash", &it->hash) && opt_str(v, "result", &it->result) &&
                  opt_str(v, "account", &it->account) &&
                  opt_str(v, "counterparty", &it->counterparty) && opt_str(v, "fee", &it->fee) &&
                  opt_u32(v, "ledger_index", &it->ledger_index) && opt_u32(v, "date", &it->date) &&
                  (!amt || read_amount(amt, &it->amount));
        if (!ok)
            return gw_err(ei, JT_EBADRESPONSE, NULL, "gateway: the answer has no valid entry [%zu]",
                          i);
        it->entry = v;
        h->n++;
    }
    return JT_OK;
}

/* ---------------------------------------------------------------- libcurl */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
    /* Never cleaned up: other parts of the program may use libcurl too,
     * and curl_global_cleanup is not thread-safe. */
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* One transfer's state. */
typedef struct xfer {
    jt_buf body;
    size_t max;
    bool overflow, nomem;
    char ctype[CTYPE_MAX];
    unsigned retry_after;
} xfer;

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    size_t len = size * n;
    if (len > x->max - x->body.len) {
        x->overflow = true;
        return 0; /* CURLE_WRITE_ERROR: the transfer stops here */
    }
    if (jt_buf_append(&x->body, p, len) != JT_OK) {
        x->nomem = true;
        return 0;
    }
    return len;
}

/* Header lines, one per call, with their CRLF. */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    size_t len = size * n;
    if (len >= 5 && !memcmp(p, "HTTP/", 5)) {
        /* A new answer (after a 1xx, or a retried request): its own headers. */
        x->ctype[0] = '\0';
        x->retry_after = 0;
        return len;
    }
    size_t colon = 0;
    while (colon < len && p[colon] != ':')
        colon++;
    if (colon == len)
        return len;
    size_t v = colon + 1, e = len;
    while (v < e && (p[v] == ' ' || p[v] == '\t'))
        v++;
    while (e > v && (p[e - 1] == '\r' || p[e - 1] == '\n' || p[e - 1] == ' ' || p[e - 1] == '\t'))
        e--;
    if (colon == 12 && !strncasecmp(p, "Content-Type", 12)) {
        clean_copy(x->ctype, sizeof x->ctype, p + v, e - v);
    } else if (colon == 11 && !strncasecmp(p, "Retry-After", 11)) {
        /* Seconds; the HTTP-date form (never the gateway's) counts as absent. */
        unsigned s = 0;
        size_t i = v;
        for (; i < e && p[i] >= '0' && p[i] <= '9'; i++)
            s = s > 86400 ? 86401 : s * 10 + (unsigned)(p[i] - '0');
        x->retry_after = i == e && i > v ? (s > 86400 ? 86400 : s) : 0;
    }
    return len;
}

static CURL *take_easy(jt_gw *g)
{
    CURL *e = NULL;
    pthread_mutex_lock(&g->mu);
    if (g->n_idle)
        e = g->idle[--g->n_idle];
    pthread_mutex_unlock(&g->mu);
    return e ? e : curl_easy_init();
}

static void give_easy(jt_gw *g, CURL *e, long connects)
{
    pthread_mutex_lock(&g->mu);
    g->connections += connects > 0 ? (unsigned)connects : 0;
    if (g->n_idle < POOL_MAX) {
        g->idle[g->n_idle++] = e;
        e = NULL;
    }
    pthread_mutex_unlock(&g->mu);
    if (e)
        curl_easy_cleanup(e);
}

/* A failed transfer in the terms of the table in gateway.h. `sent`: the
 * request left (some of it was written to a connection). */
static jt_err transport_err(jt_gw *g, CURLcode rc, const xfer *x, bool sent, const char *method,
                            const char *path, int timeout_ms, const char *errbuf, jt_errinfo *ei)
{
    char why[CURL_ERROR_SIZE];
    clean_copy(why, sizeof why, errbuf[0] ? errbuf : curl_easy_strerror(rc),
               strlen(errbuf[0] ? errbuf : curl_easy_strerror(rc)));
    const char *base = g->base;
    switch (rc) {
    case CURLE_WRITE_ERROR:
        if (x->overflow)
            return gw_err(ei, JT_ETOOBIG, NULL, "%s %.40s: the answer is larger than %zu bytes",
                          method, path, x->max);
        if (x->nomem)
            return gw_err(ei, JT_ENOMEM, NULL, "out of memory for the answer to %s %.40s", method,
                          path);
        break;
    case CURLE_FILESIZE_EXCEEDED:
        return gw_err(ei, JT_ETOOBIG, NULL, "%s %.40s: the answer is larger than %zu bytes", method,
                      path, x->max);
    case CURLE_OUT_OF_MEMORY: return gw_err(ei, JT_ENOMEM, NULL, "out of memory (libcurl)");
    case CURLE_URL_MALFORMAT: return gw_err(ei, JT_EURL, NULL, "%.80s%.60s: %s", base, path, why);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return gw_err(ei, JT_ECONNECT, NULL, "cannot connect to %.100s: %s", base, why);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
        return gw_err(ei, JT_ETLS, NULL, "TLS with %.100s failed (nothing was sent): %s", base,
                      why);
    case CURLE_OPERATION_TIMEDOUT:
        if (!sent)
            return gw_err(ei, JT_ECONNECT, NULL, "cannot connect to %.100s: %s", base, why);
        return gw_err(ei, JT_ETIMEDOUT, NULL,
                      "%s %.60s: no whole answer within %d ms; the request was sent, its outcome "
                      "is unknown",
                      method, path, timeout_ms);
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
        if (!sent)
            return gw_err(ei, JT_ECONNECT, NULL, "cannot connect to %.100s: %s", base, why);
        return gw_err(ei, JT_ELOST, NULL,
                      "%s %.60s: connection lost after the request was sent (%s); its outcome is "
                      "unknown",
                      method, path, why);
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL: /* HTTP/0.9: not an HTTP answer */
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return gw_err(ei, JT_EBADRESPONSE, NULL, "%.100s answered %s %.40s with no valid HTTP: %s",
                      base, method, path, why);
    default: break;
    }
    return gw_err(ei, sent ? JT_ELOST : JT_ECONNECT, NULL, "%s %.60s on %.80s failed: %s%s", method,
                  path, base, why, sent ? "; the request was sent, its outcome is unknown" : "");
}

static void set_common(jt_gw *g, CURL *e, int timeout_ms, xfer *x, char *errbuf)
{
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_PROXY, g->proxy ? g->proxy : "");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)g->opt.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)g->opt.max_body);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(e, CURLOPT_USERAGENT, g->user_agent);
    if (g->ca_file) {
        curl_easy_setopt(e, CURLOPT_CAINFO, g->ca_file);
        curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    } else if (g->pinned_pem) {
        struct curl_blob blob = {g->pinned_pem, g->pinned_len, CURL_BLOB_NOCOPY};
        curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
        curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L); /* the key identifies it */
        curl_easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, g->pin);
    }
}

/* The transfer: `reply` gets status and body (and is finished, mapped). */
static jt_err do_call(jt_gw *g, const char *method, const char *path, const char *body,
                      size_t body_len, int timeout_ms, jt_gw_reply *reply, jt_errinfo *ei)
{
    memset(reply, 0, sizeof *reply);
    jt_buf url;
    jt_buf_init(&url);
    if (append_str(&url, g->base) || append_str(&url, path) || jt_buf_append(&url, "", 1)) {
        jt_buf_clear(&url);
        return gw_err(ei, JT_ENOMEM, NULL, "out of memory");
    }
    CURL *e = take_easy(g);
    if (!e) {
        jt_buf_clear(&url);
        return gw_err(ei, JT_ENOMEM, NULL, "cannot make a libcurl handle");
    }
    curl_easy_reset(e); /* keeps its live connection */
    xfer x = {.max = g->opt.max_body};
    jt_buf_init(&x.body);
    char errbuf[CURL_ERROR_SIZE];
    errbuf[0] = '\0';
    set_common(g, e, timeout_ms, &x, errbuf);
    curl_easy_setopt(e, CURLOPT_URL, (const char *)url.data);
    if (!strcmp(method, "GET")) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        if (strcmp(method, "POST"))
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        /* A POST always has a body (Content-Length: 0 when empty); other
         * methods only when given one. The gateway takes no chunked bodies. */
        if (body || !strcmp(method, "POST")) {
            curl_easy_setopt(e, CURLOPT_POST, 1L);
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
        }
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, body ? g->hdr_body : g->hdr_plain);
    CURLcode rc = curl_easy_perform(e);
    long status = 0, connects = 0, req_size = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
    curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &req_size);
    /* Nothing of the caller's (a secret being imported) stays pointed at. */
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
    give_easy(g, e, connects);
    jt_buf_clear(&url);
    jt_err err;
    if (rc != CURLE_OK) {
        err = transport_err(g, rc, &x, req_size > 0, method, path, timeout_ms, errbuf, ei);
        jt_buf_clear(&x.body);
        return err;
    }
    reply->status = (int)status;
    reply->retry_after_s = x.retry_after;
    if (x.body.len) {
        if (jt_buf_append(&x.body, "", 1) != JT_OK) {
            jt_buf_clear(&x.body);
            memset(reply, 0, sizeof *reply);
            return gw_err(ei, JT_ENOMEM, NULL, "out of memory for the answer");
        }
        reply->body = (char *)x.body.data; /* the reply owns it now */
        reply->body_len = x.body.len - 1;
    }
    return jt__gw_reply_finish(reply, x.ctype, g->opt.max_body, ei);
}

/* ---------------------------------------------------------------- handle */

void jt_gw_options_init(jt_gw_options *o)
{
    memset(o, 0, sizeof *o);
    o->connect_timeout_ms = 5000;
    o->timeout_ms = 30000;
    o->wait_timeout_ms = 60000;
    o->max_body = (size_t)8 << 20;
}

static void wipe_list(struct curl_slist *l)
{
    for (struct curl_slist *p = l; p; p = p->next)
        sodium_memzero(p->data, strlen(p->data));
    curl_slist_free_all(l);
}

void jt_gw_free(jt_gw *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_idle; i++)
        curl_easy_cleanup(g->idle[i]);
    wipe_list(g->hdr_plain);
    wipe_list(g->hdr_body);
    free(g->base);
    free(g->ca_file);
    free(g->user_agent);
    free(g->proxy);
    free(g->pinned_pem);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

static jt_err check_url(const char *url, bool *https, jt_errinfo *ei)
{
    CURLU *u = curl_url();
    if (!u)
        return gw_err(ei, JT_ENOMEM, NULL, "out of memory");
    char *scheme = NULL, *host = NULL, *part = NULL;
    jt_err e = JT_OK;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        e = gw_err(ei, JT_EURL, NULL, "gateway URL \"%.100s\": %s", url, curl_url_strerror(uc));
    } else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
               (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
        e = gw_err(ei, JT_EURL, NULL, "gateway URL \"%.100s\": not http:// or https://", url);
    } else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0]) {
        e = gw_err(ei, JT_EURL, NULL, "gateway URL \"%.100s\": no host", url);
    } else if (curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
               curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK ||
               curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK) {
        e = gw_err(ei, JT_EURL, NULL,
                   "gateway URL \"%.100s\": a base URL takes no query, fragment or user name", url);
    } else {
        *https = !strcmp(scheme, "https");
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(part);
    curl_url_cleanup(u);
    return e;
}

static jt_err read_small_file(const char *path, uint8_t **out, size_t *len, jt_errinfo *ei)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return gw_err(ei, JT_EIO, NULL, "cannot read %.200s", path);
    uint8_t *buf = malloc(PEM_MAX + 1);
    size_t n = buf ? fread(buf, 1, PEM_MAX + 1, f) : 0;
    bool bad = buf && ferror(f);
    fclose(f);
    if (!buf)
        return gw_err(ei, JT_ENOMEM, NULL, "out of memory");
    if (bad || n > PEM_MAX) {
        free(buf);
        return gw_err(ei, bad ? JT_EIO : JT_EINVAL, NULL,
                      bad ? "cannot read %.200s" : "%.200s is too large for a certificate", path);
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return JT_OK;
}

/* The pin of the first certificate in `pem`: libcurl's
 * "sha256//<base64 of the SHA-256 of its SubjectPublicKeyInfo>". */
static jt_err make_pin(const uint8_t *pem, size_t len, const char *path, char *pin, size_t cap,
                       jt_errinfo *ei)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!cert)
        return gw_err(ei, JT_EINVAL, NULL, "pinned_cert %.200s: not a PEM certificate", path);
    unsigned char *der = NULL;
    int dl = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    X509_free(cert);
    if (dl <= 0)
        return gw_err(ei, JT_EINVAL, NULL, "pinned_cert %.200s: no usable public key", path);
    uint8_t h[32];
    jt_sha256(der, (size_t)dl, h);
    OPENSSL_free(der);
    memcpy(pin, "sha256//", 8);
    sodium_bin2base64(pin + 8, cap - 8, h, sizeof h, sodium_base64_VARIANT_ORIGINAL);
    return JT_OK;
}

static struct curl_slist *headers(const char *auth, bool body)
{
    struct curl_slist *l = curl_slist_append(NULL, "Accept: application/json");
    if (l && auth && !curl_slist_append(l, auth))
        goto fail;
    if (l && body &&
        (!curl_slist_append(l, "Content-Type: application/json") ||
         !curl_slist_append(l, "Expect:")))
        goto fail;
    return l;
fail:
    wipe_list(l);
    return NULL;
}

jt_err jt_gw_new(const char *base_url, const jt_gw_options *opt, jt_gw **out, jt_errinfo *ei)
{
    if (out)
        *out = NULL;
    if (!base_url || !out)
        return gw_err(ei, JT_EINVAL, NULL, "jt_gw_new: NULL argument");
    jt_gw_options d;
    jt_gw_options_init(&d);
    const jt_gw_options *o = opt ? opt : &d;
    if (o->api_key && !printable_ascii(o->api_key, API_KEY_MAX))
        return gw_err(ei, JT_EINVAL, "api_key",
                      "the API key must be 1 to %d printable characters without spaces",
                      API_KEY_MAX);
    if (o->user_agent && !header_text(o->user_agent, 256))
        return gw_err(ei, JT_EINVAL, "user_agent",
                      "the user agent must be 1 to 255 printable characters");
    if (o->proxy && !header_text(o->proxy, 1024))
        return gw_err(ei, JT_EINVAL, "proxy", "the proxy URL must be printable text");
    if (o->ca_file && o->pinned_cert)
        return gw_err(ei, JT_EINVAL, NULL, "ca_file and pinned_cert are exclusive");
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK)
        return gw_err(ei, JT_ENOMEM, NULL, "libcurl cannot start: %s",
                      curl_easy_strerror(curl_init_rc));
    bool https = false;
    jt_err e = check_url(base_url, &https, ei);
    if (e)
        return e;
    if (!https && (o->ca_file || o->pinned_cert))
        return gw_err(ei, JT_EINVAL, NULL,
                      "%s is given but \"%.100s\" is not https://: nothing would be checked",
                      o->ca_file ? "ca_file" : "pinned_cert", base_url);

    jt_gw *g = calloc(1, sizeof *g);
    if (!g)
        return gw_err(ei, JT_ENOMEM, NULL, "out of memory");
    pthread_mutex_init(&g->mu, NULL);
    g->opt = *o;
    g->opt.api_key = g->opt.ca_file = g->opt.pinned_cert = g->opt.user_agent = NULL;
    g->opt.proxy = NULL;
    if (g->opt.connect_timeout_ms <= 0)
        g->opt.connect_timeout_ms = d.connect_timeout_ms;
    if (g->opt.timeout_ms <= 0)
        g->opt.timeout_ms = d.timeout_ms;
    if (g->opt.wait_timeout_ms <= 0)
        g->opt.wait_timeout_ms = d.wait_timeout_ms;
    if (g->opt.max_body == 0)
        g->opt.max_body = d.max_body;
    if (g->opt.max_body > JT_BUF_MAX - 1)
        g->opt.max_body = JT_BUF_MAX - 1;

    size_t bl = strlen(base_url);
    while (bl > 0 && base_url[bl - 1] == '/')
        bl--;
    char ua[64];
    snprintf(ua, sizeof ua, "libjt/%s", JT_VERSION_STRING);
    if (!(g->base = strndup(base_url, bl)) ||
        !(g->user_agent = strdup(o->user_agent ? o->user_agent : ua)) ||
        (o->ca_file && !(g->ca_file = strdup(o->ca_file))) ||
        (o->proxy && !(g->proxy = strdup(o->proxy)))) {
        e = gw_err(ei, JT_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    if (o->ca_file) {
        FILE *f = fopen(o->ca_file, "rb");
        if (!f) {
            e = gw_err(ei, JT_EIO, NULL, "cannot read ca_file %.200s", o->ca_file);
            goto fail;
        }
        fclose(f);
    }
    if (o->pinned_cert) {
        if ((e = read_small_file(o->pinned_cert, &g->pinned_pem, &g->pinned_len, ei)) ||
            (e = make_pin(g->pinned_pem, g->pinned_len, o->pinned_cert, g->pin, sizeof g->pin, ei)))
            goto fail;
    }
    char auth[API_KEY_MAX + 32] = "";
    if (o->api_key)
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->api_key);
    g->hdr_plain = headers(o->api_key ? auth : NULL, false);
    g->hdr_body = headers(o->api_key ? auth : NULL, true);
    sodium_memzero(auth, sizeof auth);
    if (!g->hdr_plain || !g->hdr_body) {
        e = gw_err(ei, JT_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    *out = g;
    return JT_OK;
fail:
    jt_gw_free(g);
    return e;
}

const char *jt_gw_url(const jt_gw *g)
{
    return g->base;
}

unsigned jt_gw_connection_count(jt_gw *g)
{
    pthread_mutex_lock(&g->mu);
    unsigned n = g->connections;
    pthread_mutex_unlock(&g->mu);
    return n;
}

/* ---------------------------------------------------------------- generic */

void jt_gw_reply_clear(jt_gw_reply *r)
{
    if (!r)
        return;
    jt_json_doc_free(r->doc);
    free(r->body);
    memset(r, 0, sizeof *r);
}

static bool valid_method(const char *m)
{
    size_t n = 0;
    for (; m[n]; n++)
        if (m[n] < 'A' || m[n] > 'Z' || n >= 16)
            return false;
    return n > 0;
}

static bool valid_path(const char *p)
{
    if (p[0] != '/')
        return false;
    size_t n = 0;
    for (; p[n]; n++)
        if ((unsigned char)p[n] <= 0x20 || (unsigned char)p[n] == 0x7f || n >= PATH_MAX_LEN)
            return false;
    return true;
}

jt_err jt_gw_call(jt_gw *g, const char *method, const char *path, const char *body_json,
                  int timeout_ms, jt_gw_reply *reply, jt_errinfo *ei)
{
    jt_gw_reply local;
    jt_gw_reply *r = reply ? reply : &local;
    memset(r, 0, sizeof *r);
    if (!g || !method || !path)
        return gw_err(ei, JT_EINVAL, NULL, "jt_gw_call: NULL argument");
    if (!valid_method(method))
        return gw_err(ei, JT_EINVAL, NULL, "method \"%.20s\" is not an upper-case word", method);
    if (body_json && (!strcmp(method, "GET") || !strcmp(method, "HEAD")))
        return gw_err(ei, JT_EINVAL, NULL, "a %s takes no body", method);
    if (!valid_path(path))
        return gw_err(ei, JT_EINVAL, NULL,
                      "path \"%.60s\" must start with '/' and hold no space or control character",
                      path);
    jt_err e = do_call(g, method, path, body_json, body_json ? strlen(body_json) : 0,
                       timeout_ms > 0 ? timeout_ms : g->opt.timeout_ms, r, ei);
    if (!reply)
        jt_gw_reply_clear(&local);
    return e;
}

/* ---------------------------------------------------------------- typed helpers */

/* Whether `s` can only ever be one path segment: a server that decodes
 * %2F and %2E before it resolves dot segments (libwebsockets does) must not
 * be led by an address or id to another route. */
static bool one_segment(const char *s)
{
    return s[0] && strcmp(s, ".") && strcmp(s, "..") && !strpbrk(s, "/\\");
}

static jt_err segment_err(jt_errinfo *ei, const char *what, const char *s)
{
    return gw_err(ei, JT_EINVAL, what, "%s \"%.60s\" is empty, a dot segment or holds a slash",
                  what, s);
}

/* "/v2/accounts/{address}" + rest into b (not yet NUL-terminated). */
static jt_err account_path(jt_buf *b, const char *address, const char *rest, jt_errinfo *ei)
{
    jt_buf_init(b);
    if (!one_segment(address))
        return segment_err(ei, "address", address);
    if (append_str(b, "/v2/accounts/") || append_escaped(b, address) || append_str(b, rest))
        return gw_err(ei, JT_ENOMEM, NULL, "out of memory");
    return JT_OK;
}

static jt_err path_end(jt_buf *b, jt_errinfo *ei)
{
    if (jt_buf_append(b, "", 1))
        return gw_err(ei, JT_ENOMEM, NULL, "out of memory");
    return JT_OK;
}

/* Appends "?name=value" or "&name=value" (value escaped). */
static jt_err query_arg(jt_buf *b, bool *first, const char *name, const char *value)
{
    jt_err e = jt_buf_append(b, *first ? "?" : "&", 1);
    *first = false;
    if (!e)
        e = append_str(b, name);
    if (!e)
        e = jt_buf_append(b, "=", 1);
    if (!e)
        e = append_escaped(b, value);
    return e;
}

jt_err jt_gw_health_get(jt_gw *g, jt_gw_health *out, jt_errinfo *ei)
{
    if (!g || !out)
        return gw_err(ei, JT_EINVAL, NULL, "jt_gw_health_get: NULL argument");
    memset(out, 0, sizeof *out);
    out->validated_age_s = -1;
    jt_gw_reply r;
    jt_err e = do_call(g, "GET", "/v2/health", NULL, 0, g->opt.timeout_ms, &r, ei);
    /* Degraded is 503 with the health document in the success envelope. */
    const jt_json *root = jt_gw_reply_json(&r);
    const jt_json *success = jt_json_get(root, "success");
    bool health_doc =
        success && success->kind == JT_JSON_BOOL && success->u.b && jt_json_get(root, "status");
    if (e == JT_OK || (e == JT_EUNAVAILABLE && r.status == 503 && health_doc)) {
        jt_errinfo_clear(ei);
        e = jt__gw_health_from(root, out, ei);
    }
    jt_gw_reply_clear(&r);
    return e;
}

jt_err jt_gw_balances_get(jt_gw *g, const char *address, const char *currency, const char *issuer,
                          jt_gw_balances *out, jt_errinfo *ei)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!g || !address || !out)
        return gw_err(ei, JT_EINVAL, NULL, "jt_gw_balances_get: NULL argument");
    jt_buf p;
    jt_err e = account_path(&p, address, "/balances", ei);
    bool first = true;
    if (!e && currency && currency[0] && query_arg(&p, &first, "currency", currency))
        e = gw_err(ei, JT_ENOMEM, NULL, "out of memory");
    if (!e && issuer && issuer[0] && query_arg(&p, &first, "issuer", issuer))
        e = gw_err(ei, JT_ENOMEM, NULL, "out of memory");
    if (!e)
        e = path_end(&p, ei);
    if (!e)
        e = do_call(g, "GET", (const char *)p.data, NULL, 0, g->opt.timeout_ms, &out->reply, ei);
    jt_buf_clear(&p);
    if (!e)
        e = jt__gw_balances_from(out, ei);
    return e;
}

void jt_gw_balances_clear(jt_gw_balances *b)
{
    if (!b)
        return;
    free(b->items);
    jt_gw_reply_clear(&b->reply);
    memset(b, 0, sizeof *b);
}

bool jt_gw_tx_succeeded(const jt_gw_tx_status *st)
{
    return st && st->state == JT_GW_TX_VALIDATED && !strcmp(st->result, "tesSUCCESS");
}

void jt_gw_payment_init(jt_gw_payment *p)
{
    memset(p, 0, sizeof *p);
}

static void write_amount(jt_jw *w, const jt_gw_amount *a)
{
    jt_jw_object_begin(w);
    jt_jw_key(w, "value");
    jt_jw_string(w, a->value);
    jt_jw_key(w, "currency");
    jt_jw_string(w, a->currency);
    if (a->issuer) {
        jt_jw_key(w, "issuer");
        jt_jw_string(w, a->issuer);
    }
    jt_jw_object_end(w);
}

static bool amount_given(const jt_gw_amount *a)
{
    return a->value && a->currency;
}

/* The body of a payment; the same for the same `p` and client_id, as the
 * gateway's idempotency compares bodies. */
static jt_err payment_body(const jt_gw_payment *p, const char *cid, jt_buf *b)
{
    jt_jw w;
    jt_jw_init(&w, b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "client_id");
    jt_jw_string(&w, cid);
    jt_jw_key(&w, "payment");
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "destination");
    jt_jw_string(&w, p->destination);
    jt_jw_key(&w, "amount");
    write_amount(&w, &p->amount);
    if (p->send_max) {
        jt_jw_key(&w, "send_max");
        write_amount(&w, p->send_max);
    }
    if (p->n_memos) {
        jt_jw_key(&w, "memos");
        jt_jw_array_begin(&w);
        for (size_t i = 0; i < p->n_memos; i++) {
            const jt_gw_memo *m = &p->memos[i];
            jt_jw_object_begin(&w);
            const char *const parts[3][2] = {
                {"type", m->type}, {"format", m->format}, {"data", m->data}};
            for (size_t k = 0; k < 3; k++) {
                if (!parts[k][1])
                    continue;
                jt_jw_key(&w, parts[k][0]);
                jt_jw_string(&w, parts[k][1]);
            }
            jt_jw_object_end(&w);
        }
        jt_jw_array_end(&w);
    }
    if (p->encrypt_memos) {
        jt_jw_key(&w, "encrypt_memos");
        jt_jw_bool(&w, true);
    }
    if (p->has_destination_tag) {
        jt_jw_key(&w, "destination_tag");
        jt_jw_uint(&w, p->destination_tag);
    }
    if (p->invoice_id) {
        jt_jw_key(&w, "invoice_id");
        jt_jw_string(&w, p->invoice_id);
    }
    jt_jw_object_end(&w);
    jt_jw_object_end(&w);
    return jt_jw_finish(&w);
}

static jt_err new_client_id(char out[33], jt_errinfo *ei)
{
    if (jt__sodium_ready() != 0)
        return gw_err(ei, JT_ERANDOM, NULL, "libsodium cannot start: no client_id");
    uint8_t r[16];
    randombytes_buf(r, sizeof r);
    jt_hex_encode(r, sizeof r, out, 33);
    return JT_OK;
}

jt_err jt_gw_pay(jt_gw *g, const jt_gw_payment *p, jt_gw_tx_status *out, jt_errinfo *ei)
{
    if (!g || !p || !out)
        return gw_err(ei, JT_EINVAL, NULL, "jt_gw_pay: NULL argument");
    /* p->client_id may be out->client_id: copied before out is touched. */
    char cid[CLIENT_ID_MAX + 1];
    jt_err e = JT_OK;
    if (p->client_id && p->client_id[0]) {
        size_t n = strlen(p->client_id);
        if (n > CLIENT_ID_MAX)
            return gw_err(ei, JT_EINVAL, "client_id", "client_id: 1 to %d characters",
                          CLIENT_ID_MAX);
        memcpy(cid, p->client_id, n + 1);
    } else if ((e = new_client_id(cid, ei)) != JT_OK) {
        return e;
    }
    memset(out, 0, sizeof *out);
    memcpy(out->client_id, cid, strlen(cid) + 1);
    if (!p->source || !p->destination || !amount_given(&p->amount) ||
        (p->send_max && !amount_given(p->send_max)))
        return gw_err(ei, JT_EINVAL, NULL,
                      "jt_gw_pay: source, destination, amount value and currency are required");
    if (p->n_memos > MEMOS_MAX || (p->n_memos && !p->memos))
        return gw_err(ei, JT_EINVAL, "memos", "at most %d memos, given in p->memos", MEMOS_MAX);
    jt_buf body, path;
    jt_buf_init(&body);
    if (payment_body(p, cid, &body) != JT_OK) {
        jt_buf_clear(&body);
        return gw_err(ei, JT_ENOMEM, NULL, "out of memory for the payment");
    }
    e = account_path(&path, p->source, p->wait_validated ? "/payments?wait=validated" : "/payments",
                     ei);
    if (!e)
        e = path_end(&path, ei);
    int timeout = p->timeout_ms > 0   ? p->timeout_ms
                  : p->wait_validated ? g->opt.wait_timeout_ms
                                      : g->opt.timeout_ms;
    jt_gw_reply r;
    memset(&r, 0, sizeof r);
    if (!e)
        e = do_call(g, "POST", (const char *)path.data, (const char *)body.data, body.len, timeout,
                    &r, ei);
    jt_buf_clear(&path);
    jt_buf_clear(&body);
    const jt_json *root = jt_gw_reply_json(&r);
    if (e == JT_OK) {
        e = jt__gw_tx_status_from(root, out, ei);
    } else if (e == JT_EREJECTED && jt_json_get(root, "hash")) {
        /* failed: the envelope carries the transaction; the outcome (and
         * ei, naming the node's result) stays the rejection. */
        jt_errinfo tmp;
        if (jt__gw_tx_status_from(root, out, &tmp) != JT_OK)
            memcpy(out->client_id, cid, strlen(cid) + 1);
    }
    jt_gw_reply_clear(&r);
    return e;
}

jt_err jt_gw_payment_status(jt_gw *g, const char *account, const char *id, jt_gw_tx_status *out,
                            jt_errinfo *ei)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!g || !account || !id || !out)
        return gw_err(ei, JT_EINVAL, NULL, "jt_gw_payment_status: NULL argument");
    jt_buf p;
    jt_err e = account_path(&p, account, "/payments/", ei);
    if (!e && !one_segment(id))
        e = segment_err(ei, "id", id);
    if (!e && append_escaped(&p, id))
        e = gw_err(ei, JT_ENOMEM, NULL, "out of memory");
    if (!e)
        e = path_end(&p, ei);
    jt_gw_reply r;
    memset(&r, 0, sizeof r);
    if (!e)
        e = do_call(g, "GET", (const char *)p.data, NULL, 0, g->opt.timeout_ms, &r, ei);
    jt_buf_clear(&p);
    if (!e) {
        e = jt__gw_tx_status_from(jt_gw_reply_json(&r), out, ei);
        if (!e && !out->client_id[0] && strcasecmp(id, out->hash) &&
            strlen(id) < sizeof out->client_id)
            clean_copy(out->client_id, sizeof out->client_id, id, strlen(id));
    }
    jt_gw_reply_clear(&r);
    return e;
}

jt_err jt_gw_history_get(jt_gw *g, const char *address, const jt_gw_history_query *q,
                         jt_gw_history *out, jt_errinfo *ei)
{
    if (!g || !address || !out) {
        if (out)
            memset(out, 0, sizeof *out);
        return gw_err(ei, JT_EINVAL, NULL, "jt_gw_history_get: NULL argument");
    }
    jt_gw_history_query dq = {0};
    if (!q)
        q = &dq;
    jt_buf p;
    /* Before *out is touched: q->marker may point into it. */
    jt_err e = account_path(&p, address, q->payments_only ? "/payments" : "/transactions", ei);
    bool first = true;
    char lim[16];
    snprintf(lim, sizeof lim, "%u", q->limit);
    if (!e && q->marker && strlen(q->marker) >= JT_GW_MARKER_MAX)
        e = gw_err(ei, JT_EINVAL, "marker", "marker over %d characters", JT_GW_MARKER_MAX - 1);
    else if (!e && ((q->limit && query_arg(&p, &first, "limit", lim)) ||
                    (q->marker && q->marker[0] && query_arg(&p, &first, "marker", q->marker)) ||
                    (q->forward && query_arg(&p, &first, "forward", "true"))))
        e = gw_err(ei, JT_ENOMEM, NULL, "out of memory");
    if (!e)
        e = path_end(&p, ei);
    memset(out, 0, sizeof *out);
    if (!e)
        e = do_call(g, "GET", (const char *)p.data, NULL, 0, g->opt.timeout_ms, &out->reply, ei);
    jt_buf_clear(&p);
    if (!e)
        e = jt__gw_history_from(out, ei);
    return e;
}

void jt_gw_history_clear(jt_gw_history *h)
{
    if (!h)
        return;
    free(h->items);
    jt_gw_reply_clear(&h->reply);
    memset(h, 0, sizeof *h);
}
