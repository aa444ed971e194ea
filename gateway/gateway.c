/*
 * gateway.c — records shared by jt-gateway's modules (gateway.h).
 */
#include "gateway.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jt/util.h>

#define TAIL_KEY "audit_tail"

int gw_tail_load(gw_store *s, uint64_t *n, uint8_t hash[32], char *err, size_t errcap)
{
    *n = 0;
    memset(hash, 0, 32);
    jt_buf v;
    jt_buf_init(&v);
    int found = gw_store_get(s, GW_META, TAIL_KEY, strlen(TAIL_KEY), &v, err, errcap);
    int rc = found < 0 ? -1 : 0;
    if (found == 1) {
        char text[128];
        size_t len = v.len < sizeof text - 1 ? v.len : sizeof text - 1;
        memcpy(text, v.data, len);
        text[len] = 0;
        char hex[65];
        size_t hl = 0;
        if (sscanf(text, "%" SCNu64 " %64s", n, hex) != 2 ||
            jt_hex_decode(hex, strlen(hex), hash, 32, &hl) != JT_OK || hl != 32) {
            snprintf(err, errcap, "the store's record of the audit log's tail is damaged");
            rc = -1;
        }
    }
    jt_buf_clear(&v);
    return rc;
}

int gw_tail_put(gw_batch *b, uint64_t n, const uint8_t hash[32])
{
    char hex[65], text[96];
    jt_hex_encode(hash, 32, hex, sizeof hex);
    int len = snprintf(text, sizeof text, "%" PRIu64 " %s", n, hex);
    return gw_batch_put(b, GW_META, TAIL_KEY, strlen(TAIL_KEY), text, (size_t)len);
}
