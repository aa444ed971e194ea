/*
 * shamap.h — the radix-16 Merkle tree over 256-bit keys that gives a ledger
 * its state hash and transaction-set hash (PROTOCOL.md §5.5, rippled's
 * SHAMap): a leaf sits at the shallowest depth where its key is unique;
 * an inner node hashes SHA-512Half(MIN\0 ‖ 16 child hashes), zeros for an
 * empty child; the empty tree hashes to zero.
 *
 * The caller supplies each leaf's hash (state leaf: MLN\0 ‖ blob ‖ key; tx
 * leaf: SND\0 ‖ VL(tx) ‖ VL(meta) ‖ key). Inner hashes are cached and only
 * the paths touched since the last jn_shamap_root are recomputed.
 * Not thread-safe.
 */
#ifndef JN_SHAMAP_H
#define JN_SHAMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct jn_shamap jn_shamap;

jn_shamap *jn_shamap_new(void); /* NULL on allocation failure */
void jn_shamap_free(jn_shamap *m);
/* Inserts or replaces the leaf for key. 0, or -1 on allocation failure. */
int jn_shamap_set(jn_shamap *m, const uint8_t key[32], const uint8_t leaf_hash[32]);
/* Removes the leaf for key; 1 when it was not there. */
int jn_shamap_del(jn_shamap *m, const uint8_t key[32]);
/* The root hash (recomputing what changed). */
void jn_shamap_root(jn_shamap *m, uint8_t out[32]);
size_t jn_shamap_count(const jn_shamap *m);

/* Leaf hashes as skywelld computes them. */
void jn_shamap_state_leaf(const uint8_t *blob, size_t len, const uint8_t key[32], uint8_t out[32]);
void jn_shamap_tx_leaf(const uint8_t *tx, size_t txlen, const uint8_t *meta, size_t metalen,
                       const uint8_t key[32], uint8_t out[32]);

#endif
