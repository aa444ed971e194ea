/*
 * dlist.h — an intrusive doubly linked list for the gateway's bounded
 * in-memory queues (keys kept most recently used first, webhook deliveries
 * owed and dead letters oldest first): a gw_dnode inside each element, O(1)
 * push and unlink. Not thread-safe.
 */
#ifndef GW_DLIST_H
#define GW_DLIST_H

#include <stddef.h>

typedef struct gw_dnode {
    struct gw_dnode *prev, *next;
} gw_dnode;

typedef struct gw_dlist {
    gw_dnode *head, *tail;
} gw_dlist;

/* The element holding node `n` (its member `member`). */
#define GW_DLIST_ENTRY(n, type, member) ((type *)(void *)((char *)(n) - offsetof(type, member)))

static inline void gw_dlist_push_back(gw_dlist *l, gw_dnode *n)
{
    n->next = NULL;
    n->prev = l->tail;
    if (l->tail)
        l->tail->next = n;
    else
        l->head = n;
    l->tail = n;
}

static inline void gw_dlist_push_front(gw_dlist *l, gw_dnode *n)
{
    n->prev = NULL;
    n->next = l->head;
    if (l->head)
        l->head->prev = n;
    else
        l->tail = n;
    l->head = n;
}

static inline void gw_dlist_unlink(gw_dlist *l, gw_dnode *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
    n->prev = n->next = NULL;
}

/* Moves n (in l) to the front. */
static inline void gw_dlist_to_front(gw_dlist *l, gw_dnode *n)
{
    if (l->head != n) {
        gw_dlist_unlink(l, n);
        gw_dlist_push_front(l, n);
    }
}

#endif
