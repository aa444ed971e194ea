/*
 * map.h — a small string-keyed hash map (chained, grows by doubling) for
 * the gateway's in-memory indexes: pending transactions by hash and by
 * client id, accounts, API keys' rate buckets. Keys are copied; values are
 * the caller's. Not thread-safe.
 */
#ifndef GW_MAP_H
#define GW_MAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gw_map gw_map;

gw_map *gw_map_new(void);
/* Frees the map (not the values); NULL is fine. */
void gw_map_free(gw_map *m);
void *gw_map_get(const gw_map *m, const char *key, size_t klen);
/* Sets key to val (replacing). -1 when out of memory. */
int gw_map_put(gw_map *m, const char *key, size_t klen, void *val);
/* Removes key; returns its value or NULL. */
void *gw_map_del(gw_map *m, const char *key, size_t klen);
size_t gw_map_count(const gw_map *m);
/* Calls fn for every entry until it returns false. The map must not change
 * during the walk, except that fn may delete the entry it is given. */
void gw_map_each(gw_map *m, bool (*fn)(void *ctx, const char *key, size_t klen, void *val),
                 void *ctx);

#endif
