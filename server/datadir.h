/*
 * datadir.h — a daemon's ownership of its data directory (jt-node's and
 * jt-gateway's).
 *
 * Every command that opens the store holds DIR/PROGRAM.lock for as long as it
 * runs: an exclusive flock(2) on that file, which the kernel drops when the
 * process ends however it ends (kill -9 included), so a lock file left behind
 * never blocks anyone. What the file says (pid, command, start time) is only
 * information for the message a second process prints; the lock is the
 * flock. The file itself stays: removing it would let a process that opened
 * the old file and one that created a new one both hold "the" lock.
 *
 * The directory must be private: created 0700; an existing one that the
 * group or others may read, write or search is tightened to 0700 when this
 * user owns it, and refused when another user owns it and others may write
 * it (they could replace the key or the store).
 *
 * Files that must appear whole (jt-node's jt-node.conf, and node.key through
 * jt_jtp_identity_save; the gateway's config) are written to NAME.tmp-XXXXXX, synced, linked into
 * place and the directory synced. Temporary files a crash left behind are
 * removed when the lock is taken (nobody else can be writing them then).
 *
 * Not thread-safe; one handle per process.
 */
#ifndef SRV_DATADIR_H
#define SRV_DATADIR_H

#include <stdbool.h>
#include <stddef.h>

typedef struct srv_datadir srv_datadir;

/* Checks (creating it when `create`) the directory `dir`, its permissions,
 * then takes its lock DIR/`program`.lock for `command` ("run", "init", ...)
 * and removes the temporary files of the NULL-terminated `whole_files` names
 * that a crash left. A note about tightened permissions, if any, is printed
 * to stderr. On failure returns -1 with a message in err: among others
 * "data directory DIR is in use by PROGRAM pid N (run, since TIME)". The
 * handle is freed (and the lock released) by srv_datadir_close. */
int srv_datadir_open(const char *dir, const char *program, const char *command,
                     const char *const *whole_files, bool create, srv_datadir **out, char *err,
                     size_t errcap);
/* Releases the lock and frees the handle; NULL is fine. */
void srv_datadir_close(srv_datadir *d);
const char *srv_datadir_path(const srv_datadir *d);

/* Checks that `path`, a directory, is private to this user, tightening it to
 * 0700 when this user owns it (then *tightened is set and *old_mode is the
 * mode it had). -1 with a message when it is not a directory or another user
 * owns it and the group or others may write it. */
int srv_datadir_check_private(const char *path, bool *tightened, unsigned *old_mode, char *err,
                             size_t errcap);

/* Writes `len` bytes as the new file DIR/`name` (mode 0600), whole or not at
 * all; fails (errno EEXIST in the message) if the file exists. A failure for
 * want of space says "disk full" (see srv_datadir_write_error). */
int srv_datadir_write_new(srv_datadir *d, const char *name, const void *data, size_t len, char *err,
                         size_t errcap);

/* The text for a write under directory `dir` that failed with errno `err`,
 * into out (cap bytes). When the file system is full it is
 * "disk full (N bytes free on DIR: <strerror>)" and true is returned: for
 * ENOSPC and EDQUOT, and for EIO when the file system has (almost) no space
 * left, since a full disk can surface as EIO from fsync or writeback. An EIO
 * with space left says how much ("...; N bytes free on DIR, so the disk is
 * not full"); anything else is strerror(err). Thread-safe. */
bool srv_datadir_write_error(const char *dir, int err, char *out, size_t cap);

#endif
