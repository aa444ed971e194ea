/*
 * dir.c — the engine's owner and book directories (see engine.h), in pages
 * as skywelld keeps them (directory.h). Every entry listed in a directory
 * remembers the page it went into (OwnerNode, BookNode, LowNode,
 * HighNode), and removal starts there.
 */
#include "engine.h"

#include "directory.h"

static int dir_result(jn_txctx *c, int rc)
{
    if (rc < 0)
        c->oom = true;
    return rc;
}

int jn_owner_dir_add(jn_txctx *c, const jt_account_id *owner, const uint8_t item[32], uint64_t *page)
{
    uint8_t dir[32];
    jn_id_owner_dir(owner, dir);
    jn_dir_desc d = {.owner = owner};
    return dir_result(c, jn_dir_add(c->sb, dir, item, &d, page));
}

int jn_owner_dir_remove(jn_txctx *c, const jt_account_id *owner, const uint8_t item[32],
                        const jt_obj *entry, const jt_field *hint)
{
    uint8_t dir[32];
    uint64_t page = 0;
    /* An entry without its page (none written by this node) is looked for
     * from the root on, as skywelld does for such entries. */
    bool soft = jt_obj_get_uint_f(entry, hint, &page) != JT_OK;
    jn_id_owner_dir(owner, dir);
    return dir_result(c, jn_dir_remove(c->sb, dir, page, item, false, soft));
}

int jn_book_dir_add(jn_txctx *c, const uint8_t book[32], const uint8_t item[32],
                    const jt_amount *pays, const jt_amount *gets, uint64_t quality, uint64_t *page)
{
    jn_dir_desc d = {.pays = pays, .gets = gets, .quality = quality};
    return dir_result(c, jn_dir_add(c->sb, book, item, &d, page));
}

int jn_book_dir_remove(jn_txctx *c, const uint8_t book[32], const uint8_t item[32], uint64_t page)
{
    /* Stable: within a quality, offers keep their time priority. */
    return dir_result(c, jn_dir_remove(c->sb, book, page, item, true, false));
}

int jn_offer_delete(jn_txctx *c, const uint8_t key[32])
{
    const jt_obj *o = jn_view_read(c->sb, key);
    if (!o)
        return 0;
    jt_account_id owner;
    const uint8_t *p;
    size_t n;
    uint8_t book[32];
    if (jt_obj_get_account_f(o, FLD("Account"), &owner) != JT_OK ||
        jt_obj_get_bytes_f(o, FLD("BookDirectory"), &p, &n) != JT_OK || n != 32)
        return -1;
    memcpy(book, p, 32);
    if (jn_owner_dir_remove(c, &owner, key, o, FLD("OwnerNode")) ||
        jn_book_dir_remove(c, book, key, get_u(o, FLD("BookNode"), 0)) || jn_view_erase(c->sb, key))
        return -1;
    jn_adjust_owner_count(c, &owner, -1);
    return c->oom ? -1 : 0;
}
