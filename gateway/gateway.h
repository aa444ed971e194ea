/*
 * gateway.h — what jt-gateway's modules share: the records the store keeps
 * beside its tables' own (the audit log's tail).
 */
#ifndef GW_GATEWAY_H
#define GW_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* meta "audit_tail": "N HASHHEX", the audit log's record count and last
 * record's hash as of the last submissions the store recorded. */
int gw_tail_load(gw_store *s, uint64_t *n, uint8_t hash[32], char *err, size_t errcap);
int gw_tail_put(gw_batch *b, uint64_t n, const uint8_t hash[32]);

#endif
