/*
 * directory.h — owner and book directories in pages, as skywelld keeps them.
 *
 * A directory is a chain of DirectoryNode pages. Page 0 is the root, whose
 * ID names the directory (an owner directory's jn_id_owner_dir, a book
 * directory's base‖quality); page n > 0 has the ID SHA-512Half('d', root,
 * n). Each page lists up to 32 entry IDs in Indexes. The root's
 * IndexPrevious names the last page; every page's IndexNext names the next
 * one (absent or 0 on the last) and IndexPrevious the one before (absent
 * for page 1, whose previous is the root). Entries are appended to the last
 * page; a full last page gets a new page after it. An entry remembers the
 * page it went into (OwnerNode, BookNode, LowNode, HighNode), so removal
 * finds it without a search. Empty pages are unlinked and deleted as
 * skywelld's dirDelete does; a directory that becomes empty is deleted.
 *
 * All functions work in a view (a transaction's sandbox) and follow its
 * overlay. Not thread-safe (as views).
 */
#ifndef JN_DIRECTORY_H
#define JN_DIRECTORY_H

#include <stdbool.h>
#include <stdint.h>

#include <jt/jt.h>

#include "state.h"

#define JN_DIR_PAGE_MAX 32 /* entries in one page */

/* What a new page of a directory says about itself: an owner directory
 * names its Owner; a book directory its two currencies and issuers and its
 * ExchangeRate (quality). Exactly one of owner / pays is set. */
typedef struct jn_dir_desc {
    const jt_account_id *owner;
    const jt_amount *pays, *gets;
    uint64_t quality;
} jn_dir_desc;

/* The ID of page `page` of the directory rooted at `root` (root itself for
 * page 0). */
void jn_id_dir_page(const uint8_t root[32], uint64_t page, uint8_t out[32]);

/* Appends `item` to the directory at `root`, creating the root or a new
 * last page as needed; *page gets the page it went into. Returns 0; -1 on
 * ENOMEM; tecDIR_FULL when the page numbers are exhausted. The view may be
 * partly changed on failure: callers discard the sandbox. */
int jn_dir_add(jn_view *v, const uint8_t root[32], const uint8_t item[32], const jn_dir_desc *d,
               uint64_t *page);

/* Removes `item` from page `page` of the directory at `root`. `stable`
 * keeps the order of the page's other entries (book directories, where
 * order is time priority); otherwise the page's last entry takes the
 * removed one's place (owner directories). `soft`: the page is only a hint
 * (an entry written without one); pages from it up to page 20 are tried,
 * as skywelld does. Returns 0; -1 on ENOMEM; tefBAD_LEDGER when the entry
 * is not where it should be (a damaged ledger). */
int jn_dir_remove(jn_view *v, const uint8_t root[32], uint64_t page, const uint8_t item[32],
                  bool stable, bool soft);

/* Reading a directory in order: page by page, each page's Indexes in
 * order. Zero the cursor to start. */
typedef struct jn_dir_cursor {
    uint64_t page;  /* the page being read */
    uint32_t pos;   /* the next entry in it */
    bool started, done;
} jn_dir_cursor;

/* The next entry ID into item; false at the end (or when the directory
 * does not exist). */
bool jn_dir_next(const jn_view *v, const uint8_t root[32], jn_dir_cursor *c, uint8_t item[32]);

#endif
