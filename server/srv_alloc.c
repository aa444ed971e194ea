/* srv_alloc.c — see srv_alloc.h.
 *
 * A daemon under load frees and allocates again the same amount of memory
 * all the time (jt-node a ledger's worth of transactions and metadata every
 * close, jt-gateway every request's), and memory given back to the system
 * comes back through page faults, each page cleared by the kernel on the
 * loop's time.
 *
 * The C library's malloc trims its heaps whenever their top is free and
 * unmaps a thread's heap whenever it empties; KEEP_FREE_HEAP keeps the main
 * heap from shrinking, but the other threads' heaps still come and go (in
 * jt-node the writer faulted fresh pages in every ledger: a fifth of its
 * time; in jt-gateway the signer's and the store's threads, with an
 * mprotect each time). Hence jemalloc, where it is installed.
 *
 * jemalloc's decay (even at 30 s: it gives back a share of the freed pages
 * at once and the rest over the period) cost a node crossing offers about
 * 6 000 page faults in 5 s, and the kernel's page clearing was 18 % of its
 * loop. So decay is off (malloc_conf) and free pages go back in one purge,
 * and only rarely: a purge costs far more than its few milliseconds on the
 * loop. The live data stay where they are, spread over the heap, so most
 * of its 2 MiB ranges keep a page in use; what the daemon then allocates
 * again in those ranges comes back as 4 KiB pages, not huge ones, one fault
 * each. After a purge, jt-node's offers load took 20 000-35 000 page faults
 * in 3 s (against 400-500 without one) and each transaction about a third
 * more CPU (loop 23-26 us against 31-39, writer 11-13 against 17-24), and
 * the heap stayed that way: two rounds later it had not recovered. With a
 * purge between the offers benchmark's rounds (the earlier rules: past
 * 256 MiB, or after five empty ledgers) rounds 2 and 3 gave 0.29-0.35 of
 * the verify ceiling after 0.36-0.41 in round 1; without, as much as round
 * 1 (0.405 and 0.389 against 0.387).
 *
 * So: blocks of opt.oversize_threshold (8 MiB) and more, which jemalloc
 * keeps in an arena of their own (a large reply; a ledger with every
 * transaction expanded), go back as soon as they are freed (srv_alloc_setup):
 * they come rarely, and kept they counted towards the limit. Of the other
 * arenas the free pages go back when more than srv_alloc_keep() of them
 * have piled up, and when the daemon has become idle.
 *
 * The heap is also backed by transparent huge pages where the kernel allows
 * them (its "madvise" mode, Debian's default): jt-node reads the ledger's
 * maps and the open ledger's entries at random all over a heap of hundreds
 * of megabytes, and with 4 KiB pages most of those reads missed the TLB
 * (dear under a hypervisor, and the misses evicted the verify workers'
 * cache too). Payments/s over the verify ceiling: 0.516 and 0.523 against
 * 0.497 and 0.480; crossing offers 0.298 against 0.269 (mean of three),
 * runs alternating on one machine. MALLOC_CONF=thp:default turns it off. */
#include "srv_alloc.h"

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

/* jemalloc reads this at start when the program is linked with it (the C
 * library's malloc ignores it; MALLOC_CONF in the environment still
 * overrides it). */
const char *malloc_conf = "dirty_decay_ms:-1,muzzy_decay_ms:-1,thp:always,metadata_thp:always";

/* jemalloc, when the program is linked with it, defines mallctl. */
extern int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
    __attribute__((weak));

/* With the C library's malloc: how much free memory the main heap keeps. */
#define KEEP_FREE_HEAP ((size_t)256 << 20)

/* The most free memory kept while busy (the offers benchmark piles up about
 * 350 MB between its rounds), an eighth of the machine's memory when that
 * is less, and never under KEEP_LEAST. */
#ifndef KEEP_DIRTY
#define KEEP_DIRTY ((size_t)1 << 30)
#endif
#define KEEP_LEAST ((size_t)64 << 20)

const char *srv_alloc_name(void)
{
    return mallctl ? "jemalloc" : "libc";
}

size_t srv_alloc_keep(void)
{
    static size_t keep; /* the machine's memory does not change: read once */
    if (keep)
        return keep;
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    size_t k = KEEP_DIRTY;
    if (pages > 0 && size > 0) {
        uint64_t eighth = (uint64_t)pages * (uint64_t)size / 8;
        if (eighth < k)
            k = (size_t)eighth;
    }
    keep = k < KEEP_LEAST ? KEEP_LEAST : k;
    return keep;
}

void srv_alloc_setup(void)
{
    if (!mallctl) {
        (void)mallopt(M_TRIM_THRESHOLD, (int)KEEP_FREE_HEAP);
        (void)mallopt(M_MMAP_THRESHOLD, 4 << 20); /* fixed: large maps come and go with mmap */
        return;
    }
    /* The arena of large blocks is made by the first one: make it, find
     * it, and set its decay to 0 (jemalloc does that by itself only when
     * decay is on). */
    size_t big = 0, sz = sizeof big;
    if (mallctl("opt.oversize_threshold", &big, &sz, NULL, 0) || !big)
        return;
    void *p = malloc(big);
    if (!p)
        return;
    unsigned ind = 0;
    sz = sizeof ind;
    if (!mallctl("arenas.lookup", &ind, &sz, &p, sizeof p)) {
        char name[64];
        ssize_t zero = 0;
        snprintf(name, sizeof name, "arena.%u.dirty_decay_ms", ind);
        (void)mallctl(name, NULL, NULL, &zero, sizeof zero);
        snprintf(name, sizeof name, "arena.%u.muzzy_decay_ms", ind);
        (void)mallctl(name, NULL, NULL, &zero, sizeof zero);
    }
    free(p);
}

static void purge_all(void)
{
    if (mallctl)
        (void)mallctl("arena.4096.purge", NULL, NULL, NULL, 0); /* MALLCTL_ARENAS_ALL */
    else
        (void)malloc_trim(0);
}

void srv_alloc_release(bool idle)
{
    if (idle) {
        purge_all();
        return;
    }
    if (!mallctl)
        return; /* the main heap keeps KEEP_FREE_HEAP by itself */
    uint64_t epoch = 1;
    size_t pdirty = 0, page = 0, sz = sizeof epoch;
    if (mallctl("epoch", &epoch, &sz, &epoch, sz))
        return;
    sz = sizeof pdirty;
    if (mallctl("stats.arenas.4096.pdirty", &pdirty, &sz, NULL, 0))
        return;
    sz = sizeof page;
    if (mallctl("arenas.page", &page, &sz, NULL, 0))
        return;
    if (pdirty * page > srv_alloc_keep())
        purge_all();
}
