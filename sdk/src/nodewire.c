/* nodewire.c — what the threaded node client and the loop-driven session
 * share: URLs, requests, push routing, response status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "jt/jtp.h"
#include "jt/util.h"
#include "nodewire.h"

enum {
    PT_LEDGER = 1u << 0,
    PT_SERVER = 1u << 1,
    PT_TX = 1u << 2,
    PT_VALIDATION = 1u << 3,
    PT_PEER = 1u << 4,
};

static const struct {
    const char *stream;
    unsigned bit;
} stream_types[] = {
    {"ledger", PT_LEDGER},      {"server", PT_SERVER},
    {"transactions", PT_TX},    {"transactions_proposed", PT_TX},
    {"rt_transactions", PT_TX}, {"validations", PT_VALIDATION},
    {"peer_status", PT_PEER},
};

static const struct {
    const char *type;
    unsigned bit;
} push_types[] = {
    {"ledgerClosed", PT_LEDGER},           {"serverStatus", PT_SERVER},   {"transaction", PT_TX},
    {"validationReceived", PT_VALIDATION}, {"peerStatusChange", PT_PEER},
};

unsigned jt__nodewire_push_bit(const char *type)
{
    for (size_t i = 0; type && i < JT__ARRAY_LEN(push_types); i++)
        if (strcmp(type, push_types[i].type) == 0)
            return push_types[i].bit;
    return 0;
}

unsigned jt__nodewire_sub_types(const jt_json *params)
{
    unsigned t = 0;
    const jt_json *streams = jt_json_get(params, "streams");
    if (streams && streams->kind == JT_JSON_ARRAY) {
        for (size_t i = 0; i < streams->u.arr.n; i++) {
            const char *s = jt_json_string(streams->u.arr.items[i]);
            for (size_t k = 0; s && k < JT__ARRAY_LEN(stream_types); k++)
                if (strcmp(s, stream_types[k].stream) == 0)
                    t |= stream_types[k].bit;
        }
    }
    static const char *const tx_keys[] = {"accounts", "accounts_proposed", "rt_accounts", "books"};
    for (size_t k = 0; k < JT__ARRAY_LEN(tx_keys); k++)
        if (jt_json_get(params, tx_keys[k]))
            t |= PT_TX;
    return t;
}

const char *jt__nodewire_transport_name(jt__nodewire_transport tr)
{
    switch (tr) {
    case JT__NW_WS: return "ws";
    case JT__NW_WSS: return "wss";
    case JT__NW_JTP: return "jtp";
    default: return "jtp+plain";
    }
}

static jt_err parse_ws_url(const char *url, jt__nodewire_url *u, jt_errinfo *ei)
{
    const char *p;
    if (strncasecmp(url, "ws://", 5) == 0) {
        u->tr = JT__NW_WS;
        p = url + 5;
        u->port = 80;
    } else {
        u->tr = JT__NW_WSS;
        p = url + 6;
        u->port = 443;
    }
    size_t hl;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (!close || close == p + 1)
            return jt__err(ei, JT_EURL, NULL, -1, "bad [IPv6] host in %s", url);
        hl = (size_t)(close - p - 1);
        if (hl >= sizeof u->host)
            return jt__err(ei, JT_EURL, NULL, -1, "host too long in URL");
        memcpy(u->host, p + 1, hl);
        u->host[hl] = '\0';
        p = close + 1;
    } else {
        hl = strcspn(p, ":/?#");
        if (hl == 0 || hl >= sizeof u->host)
            return jt__err(ei, JT_EURL, NULL, -1, "URL %s has no usable host", url);
        memcpy(u->host, p, hl);
        u->host[hl] = '\0';
        for (size_t i = 0; i < hl; i++) {
            char ch = u->host[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_'))
                return jt__err(ei, JT_EURL, NULL, -1, "bad character in the host of %s", url);
        }
        p += hl;
    }
    if (*p == ':') {
        p++;
        unsigned long port = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 6) {
            port = port * 10 + (unsigned long)(*p++ - '0');
            digits++;
        }
        if (digits == 0 || port == 0 || port > 65535)
            return jt__err(ei, JT_EURL, NULL, -1, "bad port in %s", url);
        u->port = (uint16_t)port;
    }
    if (*p == '#' || (*p && *p != '/' && *p != '?'))
        return jt__err(ei, JT_EURL, NULL, -1, "unexpected \"%.20s\" in %s", p, url);
    const char *path = *p ? p : "/";
    size_t pl = strcspn(path, "#");
    if (pl >= sizeof u->path)
        return jt__err(ei, JT_EURL, NULL, -1, "URL path too long");
    if (*path == '?') { /* "ws://h:1?x" → "/?x" */
        if (pl + 1 >= sizeof u->path)
            return jt__err(ei, JT_EURL, NULL, -1, "URL path too long");
        u->path[0] = '/';
        memcpy(u->path + 1, path, pl);
        u->path[pl + 1] = '\0';
    } else {
        memcpy(u->path, path, pl);
        u->path[pl] = '\0';
    }
    for (const char *q = u->path; *q; q++)
        if ((unsigned char)*q <= 0x20 || *q == 0x7F)
            return jt__err(ei, JT_EURL, NULL, -1, "URL path contains a space or control character");
    return JT_OK;
}

jt_err jt__nodewire_url_parse(const char *url, jt__nodewire_url *u, jt_errinfo *ei)
{
    memset(u, 0, sizeof *u);
    if (strncasecmp(url, "ws://", 5) == 0 || strncasecmp(url, "wss://", 6) == 0)
        return parse_ws_url(url, u, ei);
    if (strncasecmp(url, "jtp://", 6) == 0 || strncasecmp(url, "jtp+plain://", 12) == 0) {
        jt_jtp_url j;
        jt_err e = jt_jtp_url_parse(url, &j, ei);
        if (e)
            return e;
        u->tr = j.plaintext ? JT__NW_JTP_PLAIN : JT__NW_JTP;
        memcpy(u->host, j.host, sizeof u->host);
        u->port = j.port;
        memcpy(u->key, j.key, 32);
        return JT_OK;
    }
    return jt__err(ei, JT_EURL, NULL, -1,
                   "unsupported URL \"%.60s\" (expected ws://, wss://, jtp:// or jtp+plain://)",
                   url);
}

jt_err jt__nodewire_request(const jt_json *obj, uint64_t id, const char *command, size_t max,
                            char **out, size_t *outlen, jt_errinfo *ei)
{
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "id");
    jt_jw_uint(&w, id);
    if (command) {
        jt_jw_key(&w, "command");
        jt_jw_string(&w, command);
    }
    for (size_t i = 0; i < obj->u.obj.n; i++) {
        const char *k = obj->u.obj.keys[i];
        if (strcmp(k, "id") == 0 || (command && strcmp(k, "command") == 0))
            continue;
        jt_jw_key(&w, k);
        jt_jw_value(&w, obj->u.obj.vals[i]);
    }
    jt_jw_object_end(&w);
    jt_err e = jt_jw_finish(&w);
    if (e) {
        jt_buf_clear(&b);
        return jt__err(ei, e, NULL, -1, "cannot build the request: %s", jt_strerror(e));
    }
    if (b.len > max) {
        size_t len = b.len;
        jt_buf_clear(&b);
        return jt__err(ei, JT_ETOOBIG, NULL, -1, "request of %zu bytes exceeds the limit of %zu",
                       len, max);
    }
    *out = (char *)b.data;
    *outlen = b.len;
    return JT_OK;
}

jt_json_limits jt__nodewire_json_limits(size_t max_message)
{
    /* Every JSON value takes at least one byte; the protocol nests a few
     * levels deep. */
    jt_json_limits lim = {.max_bytes = max_message, .max_depth = 128, .max_items = max_message};
    return lim;
}

jt_err jt__nodewire_status(const jt_json *root, jt_errinfo *ei)
{
    jt_errinfo_clear(ei);
    const char *status = jt_json_string(jt_json_get(root, "status"));
    const char *etok = jt_json_string(jt_json_get(root, "error"));
    if (!(status && strcmp(status, "error") == 0) && !etok)
        return JT_OK;
    const char *emsg = jt_json_string(jt_json_get(root, "error_message"));
    if (!emsg)
        emsg = jt_json_string(jt_json_get(root, "error_exception"));
    jt__err(ei, JT_ERPC, NULL, -1, "node error %s%s%s", etok ? etok : "(no error token)",
            emsg ? ": " : "", emsg ? emsg : "");
    snprintf(ei->field, sizeof ei->field, "%s", etok ? etok : "");
    return JT_ERPC;
}
