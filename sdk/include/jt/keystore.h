/*
 * jt/keystore.h — several keys in one file, each encrypted at rest.
 *
 * The file (format in docs/keystore.md) is JSON text. A key is derived from
 * the passphrase with Argon2id (crypto_pwhash; salt and cost recorded in the
 * file); each secret is sealed with XChaCha20-Poly1305 with the entry's
 * public facts (address, key type, public key, label, creation time) as
 * associated data, so an entry's metadata cannot be changed or swapped with
 * another's; and a keyed BLAKE2b MAC over the whole file catches entries
 * added, removed, reordered or edited, watch-only ones included. A wrong
 * passphrase is told apart from an altered file.
 *
 * Files are created with mode 0600 and replaced atomically (a temporary file
 * in the same directory, fsync, rename, fsync of the directory). A file that
 * group or others can access, or one in a directory that group or others
 * can write (without the sticky bit), is refused with JT_EPERM and a message
 * naming the mode.
 *
 * The passphrase is never kept: the keys derived from it live in libsodium
 * guarded memory, inaccessible outside calls that need them, and are wiped
 * when the keystore is freed. Secrets are decrypted only into guarded
 * memory (jt_keystore_get_key), and leave the library only through
 * jt_keystore_export, which asks for the passphrase again.
 *
 * Changes (generate, import, add watch-only, remove, change passphrase) are
 * made in memory and written by jt_keystore_save. Two processes editing one
 * file at once are not coordinated: the last save wins.
 *
 * Thread safety: a jt_keystore may be used from several threads; each call
 * holds the keystore's mutex (calls that run Argon2id — open, create,
 * export, change passphrase — hold it for as long as that takes). The
 * jt_secret_key handles it returns are independent of it (see
 * jt/secret_key.h) and outlive it.
 */
#ifndef JT_KEYSTORE_H
#define JT_KEYSTORE_H

#include "jt/base58.h"
#include "jt/common.h"
#include "jt/error.h"
#include "jt/keys.h"
#include "jt/secret_key.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jt_keystore jt_keystore;

/* Argon2id cost. memlimit in bytes. */
typedef struct jt_keystore_params {
    uint64_t opslimit;
    uint64_t memlimit;
} jt_keystore_params;

/* libsodium's presets (crypto_pwhash_*_INTERACTIVE etc.). MIN is for tests
 * only: it protects a weak passphrase hardly at all. */
typedef enum jt_keystore_cost {
    JT_KEYSTORE_COST_MIN = 0,         /* ops 1, 8 KiB */
    JT_KEYSTORE_COST_INTERACTIVE = 1, /* ops 2, 64 MiB */
    JT_KEYSTORE_COST_MODERATE = 2,    /* ops 3, 256 MiB: the default */
    JT_KEYSTORE_COST_SENSITIVE = 3,   /* ops 4, 1 GiB */
} jt_keystore_cost;

/* Fills *p with a preset. */
JT_API void jt_keystore_params_preset(jt_keystore_cost cost, jt_keystore_params *p);

/* Limits that a file (or the caller) may ask for. */
#define JT_KEYSTORE_OPSLIMIT_MAX 64u
#define JT_KEYSTORE_MEMLIMIT_MAX ((uint64_t)4 << 30)
#define JT_KEYSTORE_LABEL_MAX    128 /* bytes of UTF-8, no control characters */
#define JT_KEYSTORE_ENTRIES_MAX  4096
#define JT_KEYSTORE_PASS_MAX     4096 /* bytes; the empty passphrase is refused */

/* One entry as the caller sees it (a copy: it stays valid after the
 * keystore changes or is freed). */
typedef struct jt_keystore_entry {
    char address[JT_ADDRESS_MAX];
    bool watch_only;                       /* an address only: no secret, no key */
    jt_key_type type;                      /* meaningless when watch_only */
    uint8_t public_key[33];                /* zeros when watch_only */
    char label[JT_KEYSTORE_LABEL_MAX + 1]; /* "" when none */
    int64_t created;                       /* Unix time, seconds */
} jt_keystore_entry;

/* Creates a new, empty keystore file at `path` (refusing to replace an
 * existing file: JT_EEXIST) and opens it. `params` NULL means MODERATE.
 * *out is freed with jt_keystore_free(). Errors: JT_EINVAL (empty or too
 * long passphrase, parameters out of range), JT_EEXIST, JT_EPERM (the
 * directory is writable by others), JT_EIO, JT_ENOMEM, JT_ECRYPTO. */
JT_API jt_err jt_keystore_create(const char *path, const char *passphrase,
                                 const jt_keystore_params *params, jt_keystore **out,
                                 jt_errinfo *ei) JT_MUST_CHECK;

/* Opens an existing keystore. Errors: JT_EIO (cannot read; the message has
 * the system's reason), JT_EPERM (file or directory too open; the message
 * names the mode), JT_EKEYSTORE (not a keystore or malformed: the message
 * names the member and what is wrong), JT_EPASSPHRASE (wrong passphrase,
 * or the file's key-derivation header was altered), JT_EKEYSTORE_AUTH (the
 * passphrase is right but the contents were altered), JT_ENOMEM. Nothing is
 * returned on error. */
JT_API jt_err jt_keystore_open(const char *path, const char *passphrase, jt_keystore **out,
                               jt_errinfo *ei) JT_MUST_CHECK;

/* Wipes and frees. Unsaved changes are lost. NULL is fine. */
JT_API void jt_keystore_free(jt_keystore *ks);

/* The file's path (owned by the keystore) and its current Argon2id cost. */
JT_API const char *jt_keystore_path(const jt_keystore *ks);
JT_API void jt_keystore_get_params(jt_keystore *ks, jt_keystore_params *p);

/* Number of entries and a copy of entry `i` (file order: the order added).
 * Errors: JT_ENOTFOUND when i is past the end. */
JT_API size_t jt_keystore_count(jt_keystore *ks);
JT_API jt_err jt_keystore_entry_at(jt_keystore *ks, size_t i, jt_keystore_entry *out);
/* The entry for `address`. Errors: JT_ENOTFOUND. */
JT_API jt_err jt_keystore_find(jt_keystore *ks, const char *address, jt_keystore_entry *out);

/* Adds a fresh random key of `type` with `label` (NULL for none). `out`
 * (may be NULL) gets the new entry. Errors: JT_EINVAL (label too long, not
 * UTF-8 or with control characters), JT_ETOOBIG (JT_KEYSTORE_ENTRIES_MAX),
 * JT_ERANDOM, JT_ENOMEM, JT_ECRYPTO. */
JT_API jt_err jt_keystore_generate(jt_keystore *ks, jt_key_type type, const char *label,
                                   jt_keystore_entry *out, jt_errinfo *ei) JT_MUST_CHECK;

/* Adds the key of a secret string ("s…" or "sEd…"). Errors as
 * jt_keystore_generate, those of jt_secret_decode, and JT_EEXIST when the
 * address is already in the keystore (a watch-only entry for it must be
 * removed first). */
JT_API jt_err jt_keystore_import(jt_keystore *ks, const char *secret, const char *label,
                                 jt_keystore_entry *out, jt_errinfo *ei) JT_MUST_CHECK;

/* Adds a watch-only entry: an address with a label and no secret. Errors:
 * JT_EINVAL (not an address, bad label), JT_EEXIST, JT_ETOOBIG. */
JT_API jt_err jt_keystore_add_watch(jt_keystore *ks, const char *address, const char *label,
                                    jt_keystore_entry *out, jt_errinfo *ei) JT_MUST_CHECK;

/* Removes the entry for `address` (its ciphertext is wiped from memory; the
 * file changes at the next save). Errors: JT_ENOTFOUND. */
JT_API jt_err jt_keystore_remove(jt_keystore *ks, const char *address,
                                 jt_errinfo *ei) JT_MUST_CHECK;

/* Decrypts the key for `address` into a new guarded handle, freed by the
 * caller with jt_secret_key_free(). The handle signs but refuses
 * jt_secret_key_export (see jt_keystore_export). Errors: JT_ENOTFOUND, JT_EWATCHONLY,
 * JT_EKEYSTORE_AUTH (the entry does not decrypt or its key does not match
 * its address and public key), JT_ENOMEM, JT_ECRYPTO. */
JT_API jt_err jt_keystore_get_key(jt_keystore *ks, const char *address, jt_secret_key **out,
                                  jt_errinfo *ei) JT_MUST_CHECK;

/* Writes the secret string of `address` and a NUL into `out` (the caller
 * wipes it; JT_SECRET_MAX bytes are enough). The passphrase is asked again
 * and checked by deriving the key anew, so a program that only holds an
 * open keystore cannot read secrets out of it. Errors: JT_EPASSPHRASE, those
 * of jt_keystore_get_key, JT_EBUFSIZE. */
JT_API jt_err jt_keystore_export(jt_keystore *ks, const char *address, const char *passphrase,
                                 char *out, size_t cap, jt_errinfo *ei) JT_MUST_CHECK;

/* Re-encrypts every entry under `new_passphrase` with a fresh salt and
 * `params` (NULL: keep the current cost), after checking `old_passphrase`.
 * In memory only until jt_keystore_save. Errors: JT_EPASSPHRASE, JT_EINVAL,
 * JT_EKEYSTORE_AUTH, JT_ENOMEM, JT_ECRYPTO; nothing changes on error. */
JT_API jt_err jt_keystore_change_passphrase(jt_keystore *ks, const char *old_passphrase,
                                            const char *new_passphrase,
                                            const jt_keystore_params *params,
                                            jt_errinfo *ei) JT_MUST_CHECK;

/* Writes the keystore to its file atomically, mode 0600: the old file stays
 * whole if anything fails. Errors: JT_EIO (with the system's reason),
 * JT_EPERM, JT_ENOMEM. */
JT_API jt_err jt_keystore_save(jt_keystore *ks, jt_errinfo *ei) JT_MUST_CHECK;

#ifdef __cplusplus
}
#endif
#endif
