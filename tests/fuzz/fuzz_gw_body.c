/*
 * fuzz_gw_body.c — jt-gateway's request bodies: any bytes parsed as JSON
 * (with the gateway's limits) and given to every transaction builder and
 * the amount parser. A builder either builds a transaction that encodes, or
 * refuses naming a field and saying why; nothing crashes or leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jt/jt.h>

#include "txbuild.h"

typedef int (*builder)(const jt_json *v, jt_obj *tx, gw_txerr *e);

static int rel_post(const jt_json *v, jt_obj *tx, gw_txerr *e)
{
    return gw_tx_relation(v, false, tx, e);
}

static int rel_del(const jt_json *v, jt_obj *tx, gw_txerr *e)
{
    return gw_tx_relation(v, true, tx, e);
}

static int settings_plain(const jt_json *v, jt_obj *tx, gw_txerr *e)
{
    return gw_tx_settings(v, NULL, tx, e);
}

static int amount_swt(const jt_json *v, jt_obj *tx, gw_txerr *e)
{
    jt_amount a;
    if (gw_amount_parse(v, "amount", true, &a, e))
        return -1;
    return jt_obj_set_amount(tx, "Amount", &a) == JT_OK ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jt_json_doc *doc;
    jt_errinfo ei;
    jt_json_limits lim = {.max_bytes = 1 << 20, .max_depth = 16, .max_items = 10000};
    if (jt_json_parse((const char *)data, size, &lim, &doc, &ei) != JT_OK)
        return 0;
    static const builder builders[] = {gw_tx_payment, gw_tx_order, settings_plain, rel_post,
                                       rel_del, amount_swt};
    for (size_t i = 0; i < sizeof builders / sizeof *builders; i++) {
        jt_obj *tx = jt_obj_new();
        gw_txerr e;
        memset(&e, 0, sizeof e);
        if (builders[i](jt_json_root(doc), tx, &e) == 0) {
            jt_buf b;
            jt_buf_init(&b);
            if (i < 5 && jt_obj_to_binary(tx, 0, &b) != JT_OK)
                abort(); /* built but not encodable */
            jt_buf_clear(&b);
        } else if (!e.msg[0]) {
            abort(); /* a refusal must say why */
        }
        jt_obj_free(tx);
    }
    jt_json_doc_free(doc);
    return 0;
}
