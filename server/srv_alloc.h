/*
 * srv_alloc.h — how jt-node and jt-gateway use the memory allocator.
 *
 * Both daemons are linked with jemalloc where its development files are
 * installed (the Makefile's MALLOC_LIBS), else they run on the C library's
 * malloc. Either way the policy is the same (srv_alloc.c says why): free
 * memory is kept for reuse while the daemon is busy, up to a limit
 * (srv_alloc_keep), and given back to the system in one purge when the limit
 * is passed or when the daemon has been idle for a while. Blocks of 8 MiB
 * and more (with jemalloc) go back as soon as they are freed.
 *
 * Called from the daemon's loop thread only.
 */
#ifndef SRV_ALLOC_H
#define SRV_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

/* "jemalloc" or "libc", for the start line. */
const char *srv_alloc_name(void);

/* At start, before the daemon allocates much: the C library's trimming
 * thresholds, or jemalloc's arena of large blocks told to return its pages
 * at once. */
void srv_alloc_setup(void);

/* How much free memory is kept while busy: 1 GiB, or an eighth of the
 * machine's memory when that is less, and at least 64 MiB. */
size_t srv_alloc_keep(void);

/* The daemon's regular check (jt-node: after each close; jt-gateway: every
 * second). `idle`: the daemon has just become idle, and everything free
 * goes back; otherwise free memory goes back only past srv_alloc_keep.
 * A check costs ~20 us; a purge of ~300 MB 3-5 ms. */
void srv_alloc_release(bool idle);

#endif
