/*
 * threads.h — a process's CPU time by thread, from /proc (the per-thread
 * splits bench_node and bench_gateway print). Header-only: each benchmark
 * is built from its own sources.
 */
#ifndef BENCH_THREADS_H
#define BENCH_THREADS_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* One thread's name and CPU seconds (user + system) from
 * /proc/PID/task/TID/stat. */
static inline bool bench_thread_stat(const char *path, char name[32], double *secs)
{
    char buf[1024];
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
    if (!open || !close || close < open)
        return false;
    size_t nl = (size_t)(close - open - 1);
    if (nl > 31)
        nl = 31;
    memcpy(name, open + 1, nl);
    name[nl] = 0;
    unsigned long ut = 0, st = 0;
    if (sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return false;
    *secs = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    return true;
}

/* Adds the CPU seconds of each thread of process `pid` to
 * out[classify(main, name)], where `main` says the thread is the process's
 * first (its loop: its name is the program's, whatever the binary is
 * called). out has room for every class classify returns. */
static inline void bench_threads_cpu(pid_t pid, int (*classify)(bool main, const char *name),
                                     double *out)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[600], name[32];
        double secs;
        snprintf(path, sizeof path, "%s/%s/stat", dir, e->d_name);
        if (bench_thread_stat(path, name, &secs))
            out[classify(atoi(e->d_name) == (int)pid, name)] += secs;
    }
    closedir(d);
}

#endif
