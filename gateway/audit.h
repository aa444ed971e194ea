/*
 * audit.h — jt-gateway's append-only audit log of every signing
 * (DIR/audit.log, 0600).
 *
 * One JSON object per line, written and synced before the signed
 * transaction leaves the gateway:
 *
 *   {"n":7,"time":"2026-12-04T10:00:00Z","api_key":"<key id>","account":"j…",
 *    "signing_key":"<public key hex>","type":"Payment","hash":"<tx hash>",
 *    "client_id":"…","prev":"<64 hex>"}
 *
 * `n` counts lines from 1; `prev` is SHA-256 of the previous line's bytes
 * (without its newline), 64 zeros on line 1. Editing, inserting or removing a
 * line breaks the chain at the line after it; removing lines at the end is
 * found by comparing with the tail (count and last line's hash) that the
 * gateway also records in its store with each batch of submissions.
 */
#ifndef GW_AUDIT_H
#define GW_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gw_audit gw_audit;

/* An append whose sync takes this long is logged (slow_sync): the
 * signed transactions waiting on it waited as long. */
#define GW_AUDIT_SLOW_MS 50

typedef struct gw_audit_entry {
    const char *api_key;     /* key id, or "cli" for the command line */
    const char *account;
    const char *signing_key; /* public key hex */
    const char *type;        /* TransactionType */
    const char *hash;        /* transaction hash hex */
    const char *client_id;   /* may be NULL */
} gw_audit_entry;

/* Opens (creating) DIR/audit.log and finds its tail. A log whose last line
 * is damaged or cut short is refused: -1 with a message. */
int gw_audit_open(const char *dir, gw_audit **out, char *err, size_t errcap);
void gw_audit_close(gw_audit *a); /* NULL is fine */

/* Appends n lines with one write and one fdatasync. Thread-safe. -1 with a
 * message (then nothing may be sent: a full disk says so); the log's tail is
 * then re-read so a partly written line is not chained onto. */
int gw_audit_append(gw_audit *a, const gw_audit_entry *e, size_t n, char *err, size_t errcap);

/* The number of lines and the hash of the last one (zeros when empty). */
void gw_audit_tail(gw_audit *a, uint64_t *n, uint8_t hash[32]);

/* Checks the chain of the log at `path`. When `expect_n` > 0 the log must
 * reach line expect_n and that line must hash to expect_hash. 0 when intact
 * (report says how many lines), 1 when not (report names the first bad
 * line and what is wrong), -1 when the file cannot be read. */
int gw_audit_verify(const char *path, uint64_t expect_n, const uint8_t expect_hash[32],
                    char *report, size_t cap);

#endif
