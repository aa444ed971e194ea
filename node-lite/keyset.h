/*
 * keyset.h — an ordered set of 32-byte keys (object IDs), compared as
 * big-endian numbers, with successor queries.
 *
 * The state maps are hash tables, which answer "is this ID there" but not
 * "which ID comes next". Order books need the second: the directories of a
 * book are the IDs base‖quality, best quality first. A jn_keyset holds such
 * IDs in sorted blocks of up to 64 keys under one sorted array of blocks (a
 * B+tree two levels deep), so an insert or a removal moves at most one
 * block's keys and the block pointers, and a successor query is two binary
 * searches. Not thread-safe; concurrent readers are fine while nobody
 * writes.
 */
#ifndef JN_KEYSET_H
#define JN_KEYSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct jn_keyset jn_keyset;

jn_keyset *jn_keyset_new(void);
void jn_keyset_free(jn_keyset *s); /* accepts NULL */
size_t jn_keyset_count(const jn_keyset *s);
/* 1 added, 0 already there, -1 ENOMEM (set unchanged). */
int jn_keyset_add(jn_keyset *s, const uint8_t key[32]);
/* true when it was there. */
bool jn_keyset_remove(jn_keyset *s, const uint8_t key[32]);
bool jn_keyset_has(const jn_keyset *s, const uint8_t key[32]);
/* The smallest key >= from, or NULL. The pointer is valid until the next
 * change to the set. */
const uint8_t *jn_keyset_ceil(const jn_keyset *s, const uint8_t from[32]);
/* Iteration in order: i from 0; NULL at the end. */
const uint8_t *jn_keyset_next(const jn_keyset *s, size_t *block, size_t *pos);

#endif
