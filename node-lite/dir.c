/*
 * dir.c — owner and book directories (see engine.h).
 *
 * A directory is one DirectoryNode page whose Indexes are kept sorted (not
 * skywelld's pages of 32): adding an item inserts it in order, removing the
 * last one deletes the page.
 */
#include "engine.h"

#include <stdlib.h>

static int dir_add(jn_txctx *c, const uint8_t dir[32], const uint8_t item[32],
                   const jt_account_id *owner, const jt_amount *pays, const jt_amount *gets,
                   uint64_t quality)
{
    bool oom;
    jt_obj *d = jn_view_peek(c->sb, dir, &oom);
    if (oom)
        return -1;
    const uint8_t *p = NULL;
    size_t n = 0;
    if (!d) {
        if (!(d = jn_new_entry(c, "DirectoryNode")))
            return -1;
        set_bytes(c, d, FLD("RootIndex"), dir, 32);
        set_u(c, d, FLD("Flags"), 0);
        if (owner)
            set_acct(c, d, FLD("Owner"), owner);
        if (pays) {
            set_bytes(c, d, FLD("TakerPaysCurrency"), pays->currency.bytes, 20);
            set_bytes(c, d, FLD("TakerPaysIssuer"), pays->issuer.bytes, 20);
            set_bytes(c, d, FLD("TakerGetsCurrency"), gets->currency.bytes, 20);
            set_bytes(c, d, FLD("TakerGetsIssuer"), gets->issuer.bytes, 20);
            set_u(c, d, FLD("ExchangeRate"), quality);
        }
        if (jn_view_insert(c->sb, dir, d))
            return -1;
    } else if (jt_obj_get_bytes_f(d, FLD("Indexes"), &p, &n) != JT_OK) {
        p = NULL;
        n = 0;
    }
    size_t count = n / 32, pos = 0;
    while (pos < count && memcmp(p + pos * 32, item, 32) < 0)
        pos++;
    if (pos < count && memcmp(p + pos * 32, item, 32) == 0)
        return 0;
    uint8_t *nb = malloc((count + 1) * 32);
    if (!nb)
        return -1;
    if (pos)
        memcpy(nb, p, pos * 32);
    memcpy(nb + pos * 32, item, 32);
    if (count > pos)
        memcpy(nb + (pos + 1) * 32, p + pos * 32, (count - pos) * 32);
    set_bytes(c, d, FLD("Indexes"), nb, (count + 1) * 32);
    free(nb);
    return c->oom ? -1 : 0;
}

static int dir_remove(jn_txctx *c, const uint8_t dir[32], const uint8_t item[32])
{
    bool oom;
    jt_obj *d = jn_view_peek(c->sb, dir, &oom);
    if (!d)
        return oom ? -1 : 0;
    const uint8_t *p;
    size_t n;
    if (jt_obj_get_bytes_f(d, FLD("Indexes"), &p, &n) != JT_OK)
        return 0;
    size_t count = n / 32;
    for (size_t i = 0; i < count; i++) {
        if (memcmp(p + i * 32, item, 32) != 0)
            continue;
        if (count == 1)
            return jn_view_erase(c->sb, dir);
        uint8_t *nb = malloc((count - 1) * 32);
        if (!nb)
            return -1;
        memcpy(nb, p, i * 32);
        memcpy(nb + i * 32, p + (i + 1) * 32, (count - i - 1) * 32);
        set_bytes(c, d, FLD("Indexes"), nb, (count - 1) * 32);
        free(nb);
        return c->oom ? -1 : 0;
    }
    return 0;
}

int jn_owner_dir_add(jn_txctx *c, const jt_account_id *owner, const uint8_t item[32])
{
    uint8_t dir[32];
    jn_id_owner_dir(owner, dir);
    return dir_add(c, dir, item, owner, NULL, NULL, 0);
}

int jn_owner_dir_remove(jn_txctx *c, const jt_account_id *owner, const uint8_t item[32])
{
    uint8_t dir[32];
    jn_id_owner_dir(owner, dir);
    return dir_remove(c, dir, item);
}

int jn_book_dir_add(jn_txctx *c, const uint8_t book[32], const uint8_t item[32],
                    const jt_amount *pays, const jt_amount *gets, uint64_t quality)
{
    return dir_add(c, book, item, NULL, pays, gets, quality);
}

int jn_book_dir_remove(jn_txctx *c, const uint8_t book[32], const uint8_t item[32])
{
    return dir_remove(c, book, item);
}
