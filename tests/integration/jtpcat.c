/*
 * jtpcat — a line-oriented jtp client for the integration tests.
 *
 *   jtpcat URL [--identity FILE]
 *   jtpcat --make-identity FILE SEEDHEX   (writes an identity, prints its key)
 *
 * URL is jtp://HOST:PORT?key=<node key> or jtp+plain://HOST:PORT. Each line
 * on stdin is sent as one message; each message received is printed on one
 * line of stdout. Exits 0 when stdin ends (after the replies stop for
 * 300 ms), 1 when the node closes or the session fails (reason on stderr).
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jt/jt.h>
#include <jt/jtp.h>

static int dial(const char *host, unsigned port)
{
    char ps[16];
    snprintf(ps, sizeof ps, "%u", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, ps, &hints, &res))
        return -1;
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int flush_out(jt_jtp *j, int fd)
{
    const uint8_t *p;
    size_t n;
    jt_jtp_pending_output(j, &p, &n);
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        jt_jtp_consume_output(j, (size_t)w);
        jt_jtp_pending_output(j, &p, &n);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: jtpcat URL [--identity FILE]\n");
        return 2;
    }
    jt_jtp_url u;
    jt_errinfo ei;
    if (!strcmp(argv[1], "--make-identity")) {
        uint8_t seed[32];
        size_t n;
        jt_jtp_identity *mk = NULL;
        char hex[JT_JTP_KEY_HEX_MAX];
        if (argc < 4 || jt_hex_decode(argv[3], strlen(argv[3]), seed, 32, &n) != JT_OK || n != 32 ||
            jt_jtp_identity_from_seed(seed, &mk) != JT_OK || jt_jtp_identity_save(mk, argv[2], &ei) != JT_OK) {
            fprintf(stderr, "jtpcat: cannot make an identity in %s\n", argc > 2 ? argv[2] : "?");
            jt_jtp_identity_free(mk);
            return 2;
        }
        jt_jtp_key_to_hex(jt_jtp_identity_public(mk), hex);
        printf("%s\n", hex);
        jt_jtp_identity_free(mk);
        return 0;
    }
    if (jt_jtp_url_parse(argv[1], &u, &ei) != JT_OK) {
        fprintf(stderr, "jtpcat: %s\n", ei.msg);
        return 2;
    }
    jt_jtp_identity *id = NULL;
    if (argc >= 4 && !strcmp(argv[2], "--identity") && jt_jtp_identity_load(argv[3], &id, &ei) != JT_OK) {
        fprintf(stderr, "jtpcat: %s\n", ei.msg);
        return 2;
    }
    jt_jtp *j = NULL;
    jt_err e = u.plaintext ? jt_jtp_new_client_plaintext(NULL, &j, &ei)
                           : jt_jtp_new_client(u.key, id ? jt_jtp_identity_public(id) : NULL,
                                               id ? jt_jtp_identity_secret(id) : NULL, NULL, &j, &ei);
    jt_jtp_identity_free(id);
    if (e) {
        fprintf(stderr, "jtpcat: %s\n", ei.msg);
        return 2;
    }
    int fd = dial(u.host, u.port);
    if (fd < 0) {
        fprintf(stderr, "jtpcat: cannot connect to %s:%u\n", u.host, u.port);
        jt_jtp_free(j);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    FILE *in = stdin;
    bool in_open = true;
    int rc = 0;
    size_t queued = 0; /* lines read before the session opened */
    char **backlog = NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* poll() watches fd 0, so no line may wait in a stdio buffer: with
     * pipelined requests several lines arrive at once. */
    setvbuf(stdin, NULL, _IONBF, 0);
    for (;;) {
        if (flush_out(j, fd)) {
            fprintf(stderr, "jtpcat: write failed\n");
            rc = 1;
            break;
        }
        if (jt_jtp_get_state(j) == JT_JTP_OPEN && backlog) {
            for (size_t i = 0; i < queued; i++) {
                if (jt_jtp_send(j, backlog[i], strlen(backlog[i]), &ei) != JT_OK)
                    fprintf(stderr, "jtpcat: send: %s\n", ei.msg);
                free(backlog[i]);
            }
            free(backlog);
            backlog = NULL;
            queued = 0;
            continue;
        }
        struct pollfd pf[2] = {{.fd = fd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
        int np = in_open ? 2 : 1;
        int r = poll(pf, (nfds_t)np, in_open ? -1 : 300);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            break; /* stdin done and the node is quiet */
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            uint8_t buf[65536];
            ssize_t n = read(fd, buf, sizeof buf);
            if (n <= 0) {
                fprintf(stderr, "jtpcat: connection closed by the node\n");
                rc = 1;
                break;
            }
            if (jt_jtp_feed(j, buf, (size_t)n, &ei) != JT_OK) {
                const char *m;
                size_t ml;
                while (jt_jtp_next_message(j, &m, &ml))
                    printf("%.*s\n", (int)ml, m);
                fprintf(stderr, "jtpcat: %s\n", ei.msg);
                rc = 1;
                break;
            }
            const char *m;
            size_t ml;
            while (jt_jtp_next_message(j, &m, &ml))
                printf("%.*s\n", (int)ml, m);
        }
        if (in_open && (pf[1].revents & (POLLIN | POLLHUP))) {
            ssize_t n = getline(&line, &cap, in);
            if (n < 0) {
                in_open = false;
                continue;
            }
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = 0;
            if (n == 0)
                continue;
            if (jt_jtp_get_state(j) != JT_JTP_OPEN) {
                char **nb = realloc(backlog, (queued + 1) * sizeof *nb);
                if (!nb)
                    break;
                backlog = nb;
                backlog[queued++] = strdup(line);
            } else if (jt_jtp_send(j, line, (size_t)n, &ei) != JT_OK) {
                fprintf(stderr, "jtpcat: send: %s\n", ei.msg);
            }
        }
    }
    for (size_t i = 0; i < queued; i++)
        free(backlog[i]);
    free(backlog);
    free(line);
    close(fd);
    jt_jtp_free(j);
    return rc;
}
