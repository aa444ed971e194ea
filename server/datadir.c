/*
 * datadir.c — the lock, the permissions and the whole-file writes of a
 * daemon's data directory (see datadir.h).
 */
#include "datadir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

struct srv_datadir {
    char path[4096];
    char program[24];
    char lockname[40];
    int dirfd;
    int lockfd;
};

/* Below this much free space a file system counts as full when a write
 * fails with EIO: a hundredth of it, at least 64 KiB and at most 8 MiB (an
 * LMDB commit writes its pages and a meta page; writeback that finds no
 * space reports EIO from fsync). */
#define NEARLY_FULL_MIN ((uint64_t)64 << 10)
#define NEARLY_FULL_MAX ((uint64_t)8 << 20)

const char *srv_datadir_path(const srv_datadir *d)
{
    return d->path;
}

int srv_datadir_check_private(const char *path, bool *tightened, unsigned *old_mode, char *err,
                             size_t errcap)
{
    *tightened = false;
    *old_mode = 0;
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errcap, "%s is not a directory", path);
        return -1;
    }
    unsigned mode = (unsigned)(st.st_mode & 07777);
    if (!(mode & 077))
        return 0;
    if (st.st_uid == geteuid()) {
        if (chmod(path, 0700) != 0) {
            snprintf(err, errcap,
                     "%s is open to group or others (mode %04o) and cannot be made private: %s",
                     path, mode, strerror(errno));
            return -1;
        }
        *tightened = true;
        *old_mode = mode;
        return 0;
    }
    if (mode & 022) {
        snprintf(err, errcap,
                 "%s may be written by group or others (mode %04o) and belongs to uid %u, not to "
                 "this user (uid %u); as its owner run `chmod 700 %s`, or use another directory",
                 path, mode, (unsigned)st.st_uid, (unsigned)geteuid(), path);
        return -1;
    }
    /* Another user's directory that only they may write: their choice. */
    return 0;
}

/* What the holder wrote in the lock file: "pid N\ncommand C\nsince T\n". A
 * holder that has just taken the lock may not have written it yet, so an
 * empty file is read again for a short while. */
static void holder_text(const srv_datadir *d, char *out, size_t cap)
{
    char buf[256];
    for (int tries = 0; tries < 20; tries++) {
        ssize_t n = pread(d->lockfd, buf, sizeof buf - 1, 0);
        if (n > 0) {
            buf[n] = 0;
            long pid = 0;
            char cmd[32] = "", since[64] = "";
            char *p = strstr(buf, "pid ");
            if (p)
                pid = strtol(p + 4, NULL, 10);
            if ((p = strstr(buf, "command ")) != NULL)
                sscanf(p + 8, "%31[^\n]", cmd);
            if ((p = strstr(buf, "since ")) != NULL)
                sscanf(p + 6, "%63[^\n]", since);
            if (pid > 0) {
                snprintf(out, cap, "%s pid %ld (%s, since %s)", d->program, pid, cmd[0] ? cmd : "?",
                         since[0] ? since : "?");
                return;
            }
        }
        struct timespec ts = {0, 25 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    snprintf(out, cap, "another process (its lock file names no pid)");
}

/* Temporary files of whole-file writes that a crash left: nobody else holds
 * the lock, so nobody is writing them. */
static void remove_stray_temps(srv_datadir *d, const char *const *whole_files)
{
    int fd = dup(d->dirfd);
    if (fd < 0)
        return;
    DIR *dh = fdopendir(fd);
    if (!dh) {
        close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        for (size_t i = 0; whole_files && whole_files[i]; i++) {
            size_t n = strlen(whole_files[i]);
            if (!strncmp(e->d_name, whole_files[i], n) && !strncmp(e->d_name + n, ".tmp-", 5)) {
                if (unlinkat(d->dirfd, e->d_name, 0) == 0)
                    fprintf(stderr, "%s: removed %s/%s, left by an interrupted write\n",
                            d->program, d->path, e->d_name);
                break;
            }
        }
    }
    closedir(dh);
}

int srv_datadir_open(const char *dir, const char *program, const char *command,
                     const char *const *whole_files, bool create, srv_datadir **out, char *err,
                     size_t errcap)
{
    *out = NULL;
    if (strlen(dir) >= sizeof((srv_datadir *)0)->path) {
        snprintf(err, errcap, "data directory name too long");
        return -1;
    }
    if (create && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errcap, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    bool tightened;
    unsigned old_mode;
    if (srv_datadir_check_private(dir, &tightened, &old_mode, err, errcap))
        return -1;
    if (tightened)
        fprintf(stderr, "%s: %s was open to group or others (mode %04o); its mode is now 0700\n",
                program, dir, old_mode);
    srv_datadir *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    snprintf(d->path, sizeof d->path, "%s", dir);
    snprintf(d->program, sizeof d->program, "%s", program);
    snprintf(d->lockname, sizeof d->lockname, "%s.lock", d->program);
    d->lockfd = -1;
    d->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->dirfd < 0) {
        snprintf(err, errcap, "cannot open %s: %s", dir, strerror(errno));
        free(d);
        return -1;
    }
    d->lockfd =
        openat(d->dirfd, d->lockname, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (d->lockfd < 0) {
        char why[320];
        srv_datadir_write_error(dir, errno, why, sizeof why);
        snprintf(err, errcap, "cannot open the lock file %s/%s: %s", dir, d->lockname,
                 why);
        srv_datadir_close(d);
        return -1;
    }
    if (flock(d->lockfd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            char who[256];
            holder_text(d, who, sizeof who);
            snprintf(err, errcap,
                     "data directory %s is in use by %s; stop it first, or use another --data "
                     "directory",
                     dir, who);
        } else {
            snprintf(err, errcap, "cannot lock %s/%s: %s", dir, d->lockname,
                     strerror(errno));
        }
        close(d->lockfd);
        d->lockfd = -1; /* not ours: close must not truncate it */
        srv_datadir_close(d);
        return -1;
    }
    char since[32] = "?", info[128];
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int n = snprintf(info, sizeof info, "pid %ld\ncommand %s\nsince %s\n", (long)getpid(), command,
                     since);
    /* Information only: a failure here does not weaken the lock. A short
     * write is a full disk. */
    errno = ENOSPC;
    if (ftruncate(d->lockfd, 0) != 0 || pwrite(d->lockfd, info, (size_t)n, 0) != n) {
        char why[320];
        srv_datadir_write_error(dir, errno, why, sizeof why);
        fprintf(stderr, "%s: cannot record this process in %s/%s: %s\n", program, dir,
                d->lockname, why);
    }
    remove_stray_temps(d, whole_files);
    *out = d;
    return 0;
}

void srv_datadir_close(srv_datadir *d)
{
    if (!d)
        return;
    if (d->lockfd >= 0) {
        /* Emptied while still held: a stopped node leaves no pid behind. */
        (void)ftruncate(d->lockfd, 0);
        close(d->lockfd); /* releases the flock */
    }
    if (d->dirfd >= 0)
        close(d->dirfd);
    free(d);
}

bool srv_datadir_write_error(const char *dir, int err, char *out, size_t cap)
{
    struct statvfs fs;
    bool known = (err == ENOSPC || err == EDQUOT || err == EIO) && statvfs(dir, &fs) == 0;
    /* What this process may still write: root may use the blocks reserved
     * for it, others may not. */
    uint64_t avail = 0, size = 0;
    if (known) {
        avail = (uint64_t)(geteuid() == 0 ? fs.f_bfree : fs.f_bavail) * fs.f_frsize;
        size = (uint64_t)fs.f_blocks * fs.f_frsize;
    }
    uint64_t low = size / 100;
    low = low < NEARLY_FULL_MIN ? NEARLY_FULL_MIN : low > NEARLY_FULL_MAX ? NEARLY_FULL_MAX : low;
    bool full = err == ENOSPC || err == EDQUOT || (known && avail < low);
    if (full && known)
        snprintf(out, cap, "disk full (%" PRIu64 " bytes free on %s: %s)", avail, dir, strerror(err));
    else if (full)
        snprintf(out, cap, "disk full (on %s: %s)", dir, strerror(err));
    else if (known)
        snprintf(out, cap, "%s; %" PRIu64 " bytes free on %s, so the disk is not full", strerror(err),
                 avail, dir);
    else
        snprintf(out, cap, "%s", strerror(err));
    return full;
}

int srv_datadir_write_new(srv_datadir *d, const char *name, const void *data, size_t len, char *err,
                         size_t errcap)
{
    char tmp[256];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", name) >= (int)sizeof tmp) {
        snprintf(err, errcap, "file name too long: %s", name);
        return -1;
    }
    struct stat st;
    if (fstatat(d->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        snprintf(err, errcap, "cannot create %s/%s: %s", d->path, name, strerror(EEXIST));
        return -1;
    }
    /* mkstemp needs a path; the directory's own path names the same place
     * as dirfd while the lock is held. */
    char full[4096 + 256];
    snprintf(full, sizeof full, "%s/%s", d->path, tmp);
    char why[320];
    int fd = mkstemp(full); /* mode 0600 */
    if (fd < 0) {
        srv_datadir_write_error(d->path, errno, why, sizeof why);
        snprintf(err, errcap, "cannot create %s: %s", full, why);
        return -1;
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    const char *base = strrchr(full, '/') + 1;
    const char *p = data;
    size_t off = 0;
    int rc = 0;
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            /* write() returns 0 only when nothing fits: a full disk. */
            srv_datadir_write_error(d->path, w < 0 ? errno : ENOSPC, why, sizeof why);
            snprintf(err, errcap, "cannot write %s: %s", full, why);
            rc = -1;
            break;
        }
        off += (size_t)w;
    }
    if (rc == 0 && fsync(fd) != 0) {
        srv_datadir_write_error(d->path, errno, why, sizeof why);
        snprintf(err, errcap, "cannot sync %s: %s", full, why);
        rc = -1;
    }
    if (close(fd) != 0 && rc == 0) {
        srv_datadir_write_error(d->path, errno, why, sizeof why);
        snprintf(err, errcap, "cannot close %s: %s", full, why);
        rc = -1;
    }
    /* link, not rename: an existing file is never replaced. */
    if (rc == 0 && linkat(d->dirfd, base, d->dirfd, name, 0) != 0) {
        int er = errno;
        if ((er == EPERM || er == ENOTSUP || er == ENOSYS) &&
            fstatat(d->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 &&
            renameat(d->dirfd, base, d->dirfd, name) == 0)
            er = 0; /* no hard links here; we hold the lock, so nothing appeared meanwhile */
        if (er) {
            srv_datadir_write_error(d->path, er, why, sizeof why);
            snprintf(err, errcap, "cannot create %s/%s: %s", d->path, name, why);
            rc = -1;
        }
    }
    (void)unlinkat(d->dirfd, base, 0);
    if (rc == 0 && fsync(d->dirfd) != 0 && errno != EINVAL && errno != ENOTSUP) {
        srv_datadir_write_error(d->path, errno, why, sizeof why);
        snprintf(err, errcap, "cannot sync %s: %s", d->path, why);
        rc = -1;
    }
    return rc;
}
