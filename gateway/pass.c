/*
 * pass.c — the keystore passphrase's sources (pass.h).
 */
#include "pass.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#define PASS_MAX 4096

static char *guarded(void)
{
    char *p = sodium_malloc(PASS_MAX + 1);
    if (p)
        memset(p, 0, PASS_MAX + 1);
    return p;
}

void gw_passphrase_free(char *p)
{
    if (p)
        sodium_free(p); /* wipes */
}

static void chomp(char *p)
{
    size_t n = strlen(p);
    while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
        p[--n] = 0;
}

static int from_file(const char *path, char *p, char *err, size_t errcap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(err, errcap, "passphrase_file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errcap, "passphrase_file %s is not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_uid != geteuid() || (st.st_mode & 077)) {
        snprintf(err, errcap,
                 "passphrase_file %s may be read by others (mode %04o, owner uid %u); it must "
                 "belong to this user (uid %u) with mode 0600 or 0400: chmod 600 %s",
                 path, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)geteuid(),
                 path);
        close(fd);
        return -1;
    }
    ssize_t n = read(fd, p, PASS_MAX);
    close(fd);
    if (n < 0) {
        snprintf(err, errcap, "passphrase_file %s: %s", path, strerror(errno));
        return -1;
    }
    p[n] = 0;
    chomp(p);
    return 0;
}

static int prompt(const char *text, char *p, char *err, size_t errcap)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errcap,
                 "no passphrase: set [keystore] passphrase_file or the passphrase_env variable, or "
                 "run on a terminal");
        return -1;
    }
    struct termios old, quiet;
    bool tty = tcgetattr(fd, &old) == 0;
    if (tty) {
        quiet = old;
        quiet.c_lflag &= (tcflag_t)~(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    if (write(fd, text, strlen(text)) < 0) {
        /* nothing to do: the read below still works */
    }
    size_t n = 0;
    while (n < PASS_MAX) {
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r <= 0 || ch == '\n' || ch == '\r')
            break;
        p[n++] = ch;
    }
    p[n] = 0;
    if (write(fd, "\n", 1) < 0) {
        /* as above */
    }
    if (tty)
        tcsetattr(fd, TCSAFLUSH, &old);
    close(fd);
    return 0;
}

int gw_passphrase_get(const gw_config *c, const char *purpose, bool confirm, char **out, char *err,
                      size_t errcap)
{
    *out = NULL;
    char *p = guarded();
    if (!p) {
        snprintf(err, errcap, "cannot allocate guarded memory for the passphrase");
        return -1;
    }
    int rc;
    const char *env = c->passphrase_env[0] ? getenv(c->passphrase_env) : NULL;
    if (c->passphrase_file[0]) {
        rc = from_file(c->passphrase_file, p, err, errcap);
    } else if (env) {
        snprintf(p, PASS_MAX + 1, "%s", env);
        rc = 0;
    } else {
        char text[160];
        snprintf(text, sizeof text, "keystore passphrase (%s): ", purpose);
        rc = prompt(text, p, err, errcap);
        if (!rc && confirm && p[0]) {
            char *again = guarded();
            if (!again) {
                snprintf(err, errcap, "cannot allocate guarded memory for the passphrase");
                rc = -1;
            } else if (prompt("again: ", again, err, errcap)) {
                rc = -1;
            } else if (strcmp(p, again)) {
                snprintf(err, errcap, "the passphrases differ");
                rc = -1;
            }
            gw_passphrase_free(again);
        }
    }
    if (!rc && !p[0]) {
        snprintf(err, errcap, "the keystore passphrase is empty");
        rc = -1;
    }
    if (rc) {
        gw_passphrase_free(p);
        return -1;
    }
    *out = p;
    return 0;
}
