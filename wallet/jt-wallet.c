/*
 * jt-wallet — the command-line wallet. This file holds the offline tools:
 * keys, addresses, encoding, signing, hashing and verification. Secrets are
 * read only from standard input, kept in locked memory and wiped after use.
 *
 * Exit status: 0 success; 1 the operation failed (for `verify`: the
 * signature is not valid); 2 bad usage or malformed input.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "jt/jt.h"

#define EXIT_FAIL       1
#define EXIT_USAGE      2
#define MAX_STDIN       (1u << 20) /* largest transaction JSON or blob accepted */
#define MAX_SECRET_LINE 128

typedef int (*cmd_fn)(int argc, char **argv);

typedef struct command {
    const char *name;
    cmd_fn fn;
    const char *args;
    const char *help;
} command;

static const char *prog = "jt-wallet";

static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s %s: ", prog, cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see '%s %s --help')\n", prog, cmd);
    return EXIT_USAGE;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

/* Reads all of stdin into a malloc()ed, NUL-terminated buffer. */
static char *read_stdin(size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        return NULL;
    for (;;) {
        size_t r = fread(buf + n, 1, cap - n, stdin);
        n += r;
        if (r == 0)
            break;
        if (n == cap) {
            if (cap >= MAX_STDIN) {
                free(buf);
                errno = EFBIG;
                return NULL;
            }
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
        }
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Reads the first line of stdin into locked memory (the secret). Returns a
 * sodium_malloc()ed string the caller frees with sodium_free, or NULL. */
static char *read_secret_line(void)
{
    char *s = sodium_malloc(MAX_SECRET_LINE + 1);
    if (!s)
        return NULL;
    size_t n = 0;
    int c;
    while ((c = getchar()) != EOF && c != '\n') {
        if (n == MAX_SECRET_LINE) {
            sodium_free(s);
            return NULL;
        }
        s[n++] = (char)c;
    }
    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    size_t start = 0;
    while (start < n && (s[start] == ' ' || s[start] == '\t'))
        start++;
    memmove(s, s + start, n - start);
    s[n - start] = '\0';
    return s;
}

/* Trims white space around hex text in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* The HEX argument, or stdin when it is absent or "-". *owned is set to
 * memory to free. */
static char *hex_arg(int argc, char **argv, char **owned)
{
    *owned = NULL;
    if (argc >= 2 && strcmp(argv[1], "-") != 0)
        return trim(argv[1]);
    size_t len;
    *owned = read_stdin(&len);
    return *owned ? trim(*owned) : NULL;
}

static void print_errinfo(const char *cmd, const jt_errinfo *ei, jt_err e)
{
    fprintf(stderr, "%s %s: %s\n", prog, cmd, ei->msg[0] ? ei->msg : jt_strerror(e));
}

/* Decodes a HEX transaction; prints the error and returns NULL on failure. */
static jt_obj *decode_tx(const char *cmd, const char *hex)
{
    jt_obj *tx = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_err e = jt_obj_from_hex(hex, strlen(hex), &tx, &ei);
    if (e) {
        print_errinfo(cmd, &ei, e);
        return NULL;
    }
    return tx;
}

/* ---------------------------------------------------------------- commands */

static int cmd_keygen(int argc, char **argv)
{
    jt_key_type type = JT_KEY_SECP256K1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ed25519") == 0)
            type = JT_KEY_ED25519;
        else if (strcmp(argv[i], "--secp256k1") == 0)
            type = JT_KEY_SECP256K1;
        else if (strcmp(argv[i], "--json") != 0)
            return usage_error("keygen", "unknown option %s", argv[i]);
    }
    jt_seed *seed = sodium_malloc(sizeof *seed);
    jt_keypair *kp = sodium_malloc(sizeof *kp);
    char *secret = sodium_malloc(JT_SECRET_MAX);
    int rc = EXIT_FAIL;
    jt_account_id id;
    char addr[JT_ADDRESS_MAX], pub[67];
    if (!seed || !kp || !secret) {
        fprintf(stderr, "%s keygen: out of locked memory\n", prog);
        goto out;
    }
    if (jt_seed_generate(type, seed) || jt_keypair_from_seed(seed, kp) ||
        jt_secret_encode(seed, secret, JT_SECRET_MAX) ||
        jt_account_id_from_pubkey(kp->pub, 33, &id) || jt_address_encode(&id, addr) ||
        jt_hex_encode(kp->pub, 33, pub, sizeof pub)) {
        fprintf(stderr, "%s keygen: key generation failed\n", prog);
        goto out;
    }
    printf("{\"secret\":\"%s\",\"address\":\"%s\",\"public_key\":\"%s\"}\n", secret, addr, pub);
    rc = fflush(stdout) == 0 ? 0 : EXIT_FAIL;
out:
    sodium_free(seed);
    sodium_free(kp);
    sodium_free(secret);
    return rc;
}

/* Decodes the secret on the first stdin line into locked memory. */
static jt_keypair *keypair_from_stdin(const char *cmd)
{
    char *line = read_secret_line();
    if (!line) {
        fprintf(stderr, "%s %s: expected a secret on the first line of standard input\n", prog,
                cmd);
        return NULL;
    }
    jt_keypair *kp = sodium_malloc(sizeof *kp);
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_err e = kp ? jt_keypair_from_secret(line, kp, &ei) : JT_ENOMEM;
    sodium_free(line);
    if (e) {
        fprintf(stderr, "%s %s: %s\n", prog, cmd, ei.msg[0] ? ei.msg : jt_strerror(e));
        sodium_free(kp);
        return NULL;
    }
    return kp;
}

static int cmd_address(int argc, char **argv)
{
    if (argc > 1)
        return usage_error("address", "takes no arguments; the secret comes on stdin");
    jt_keypair *kp = keypair_from_stdin("address");
    if (!kp)
        return EXIT_USAGE;
    jt_account_id id;
    char addr[JT_ADDRESS_MAX];
    int rc = EXIT_FAIL;
    if (jt_account_id_from_pubkey(kp->pub, 33, &id) == JT_OK &&
        jt_address_encode(&id, addr) == JT_OK) {
        printf("%s\n", addr);
        rc = 0;
    }
    sodium_free(kp);
    return rc;
}

/* Parses transaction JSON into an object; prints errors. */
static jt_obj *tx_from_json_text(const char *cmd, const char *json, size_t len)
{
    jt_obj *tx = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_err e = jt_obj_from_json(json, len, &tx, &ei);
    if (e) {
        print_errinfo(cmd, &ei, e);
        return NULL;
    }
    return tx;
}

static int print_blob(jt_obj *tx, unsigned flags)
{
    jt_buf b;
    jt_buf_init(&b);
    char *hex = NULL;
    int rc = EXIT_FAIL;
    if (jt_obj_to_binary(tx, flags, &b) == JT_OK && (hex = malloc(2 * b.len + 1)) &&
        jt_hex_encode(b.data, b.len, hex, 2 * b.len + 1) == JT_OK) {
        printf("%s\n", hex);
        rc = 0;
    }
    free(hex);
    jt_buf_clear(&b);
    return rc;
}

static int cmd_sign(int argc, char **argv)
{
    if (argc > 1)
        return usage_error("sign",
                           "takes no arguments; give the secret on the first line of stdin and "
                           "the transaction JSON after it");
    jt_keypair *kp = keypair_from_stdin("sign");
    if (!kp)
        return EXIT_USAGE;
    size_t len;
    char *json = read_stdin(&len);
    int rc = EXIT_USAGE;
    jt_obj *tx = NULL;
    if (!json) {
        fprintf(stderr, "%s sign: cannot read the transaction JSON from stdin\n", prog);
        goto out;
    }
    if (!(tx = tx_from_json_text("sign", json, len)))
        goto out;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_err e = jt_tx_sign(tx, kp, &ei);
    if (e) {
        print_errinfo("sign", &ei, e);
        rc = EXIT_FAIL;
        goto out;
    }
    jt_buf b;
    jt_buf_init(&b);
    uint8_t id[32];
    char idhex[65];
    char *hex = NULL;
    rc = EXIT_FAIL;
    if (jt_obj_to_binary(tx, 0, &b) == JT_OK && (hex = malloc(2 * b.len + 1)) &&
        jt_hex_encode(b.data, b.len, hex, 2 * b.len + 1) == JT_OK) {
        jt_tx_blob_id(b.data, b.len, id);
        (void)jt_hex_encode(id, 32, idhex, sizeof idhex);
        printf("{\"tx_blob\":\"%s\",\"hash\":\"%s\"}\n", hex, idhex);
        rc = 0;
    }
    free(hex);
    jt_buf_clear(&b);
out:
    jt_obj_free(tx);
    free(json);
    sodium_free(kp);
    return rc;
}

static int cmd_encode(int argc, char **argv)
{
    bool signing = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--signing") == 0)
            signing = true;
        else
            return usage_error("encode", "unknown option %s", argv[i]);
    }
    size_t len;
    char *json = read_stdin(&len);
    if (!json) {
        fprintf(stderr, "%s encode: cannot read JSON from stdin\n", prog);
        return EXIT_USAGE;
    }
    jt_obj *tx = tx_from_json_text("encode", json, len);
    free(json);
    if (!tx)
        return EXIT_USAGE;
    int rc = print_blob(tx, signing ? JT_SER_SIGNING : 0);
    jt_obj_free(tx);
    return rc;
}

static int cmd_decode(int argc, char **argv)
{
    char *owned;
    char *hex = hex_arg(argc, argv, &owned);
    if (!hex)
        return usage_error("decode", "give the transaction as HEX");
    jt_obj *tx = decode_tx("decode", hex);
    free(owned);
    if (!tx)
        return EXIT_USAGE;
    jt_buf b;
    jt_buf_init(&b);
    int rc = EXIT_FAIL;
    if (jt_obj_to_json(tx, &b) == JT_OK) {
        printf("%s\n", (char *)b.data);
        rc = 0;
    }
    jt_buf_clear(&b);
    jt_obj_free(tx);
    return rc;
}

static int cmd_hash(int argc, char **argv)
{
    char *owned;
    char *hex = hex_arg(argc, argv, &owned);
    if (!hex)
        return usage_error("hash", "give the transaction as HEX");
    /* Decode first: a hash of something that is not a transaction would be
     * a silent mistake. */
    jt_obj *tx = decode_tx("hash", hex);
    free(owned);
    if (!tx)
        return EXIT_USAGE;
    uint8_t id[32];
    char idhex[65];
    int rc = EXIT_FAIL;
    if (jt_tx_id(tx, id) == JT_OK && jt_hex_encode(id, 32, idhex, sizeof idhex) == JT_OK) {
        printf("%s\n", idhex);
        rc = 0;
    }
    jt_obj_free(tx);
    return rc;
}

static int cmd_verify(int argc, char **argv)
{
    char *owned;
    char *hex = hex_arg(argc, argv, &owned);
    if (!hex)
        return usage_error("verify", "give the transaction as HEX");
    jt_obj *tx = decode_tx("verify", hex);
    free(owned);
    if (!tx)
        return EXIT_USAGE;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_err e = jt_tx_verify(tx, &ei);
    jt_obj_free(tx);
    if (e) {
        fprintf(stderr, "%s verify: invalid: %s\n", prog, ei.msg[0] ? ei.msg : jt_strerror(e));
        return EXIT_FAIL;
    }
    fprintf(stderr, "%s verify: signature valid\n", prog);
    return 0;
}

static int cmd_help(int argc, char **argv);

static const command commands[] = {
    {"keygen", cmd_keygen, "[--ed25519]",
     "make a new key; prints {\"secret\",\"address\",\"public_key\"} (secp256k1 unless "
     "--ed25519)"},
    {"address", cmd_address, "", "read a secret on stdin; print its address"},
    {"sign", cmd_sign, "",
     "read a secret (first stdin line) and tx JSON (the rest, amounts in drops); print "
     "{\"tx_blob\",\"hash\"}. Fills in nothing but SigningPubKey and TxnSignature"},
    {"encode", cmd_encode, "[--signing]",
     "read tx JSON on stdin; print the hex blob (--signing: without the signature fields)"},
    {"decode", cmd_decode, "HEX", "print a transaction blob as JSON in skywelld's form"},
    {"hash", cmd_hash, "HEX", "print the transaction ID of a blob"},
    {"verify", cmd_verify, "HEX",
     "exit 0 if the blob's signature is valid, 1 if not, 2 if the blob is malformed"},
    {"help", cmd_help, "[COMMAND]", "show this help, or one command's"},
};

static void print_command_help(const command *c)
{
    printf("usage: %s %s %s\n\n  %s\n", prog, c->name, c->args, c->help);
    if (strcmp(c->args, "HEX") == 0)
        printf("\n  HEX may be omitted or '-' to read it from standard input.\n");
}

static int cmd_help(int argc, char **argv)
{
    if (argc > 1) {
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (strcmp(commands[i].name, argv[1]) == 0) {
                print_command_help(&commands[i]);
                return 0;
            }
        return usage_error("help", "no command named %s", argv[1]);
    }
    printf("usage: %s COMMAND [ARGS]\n\njtkit wallet %s — offline tools:\n\n", prog,
           JT_VERSION_STRING);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        printf("  %-8s %-12s %s\n", commands[i].name, commands[i].args, commands[i].help);
    printf("\nSecrets are read from standard input only, never from the command line.\n"
           "Exit status: 0 success, 1 failure (verify: invalid signature), 2 bad usage or "
           "input.\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "%s: cannot initialise libsodium\n", prog);
        return EXIT_FAIL;
    }
    if (argc < 2) {
        cmd_help(1, argv);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(1, argv);
    if (strcmp(argv[1], "--version") == 0) {
        printf("jt-wallet %s\n", JT_VERSION_STRING);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(commands[i].name, argv[1]) != 0)
            continue;
        if (commands[i].fn != cmd_help && wants_help(argc - 1, argv + 1)) {
            print_command_help(&commands[i]);
            return 0;
        }
        return commands[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "%s: unknown command '%s' (see '%s --help')\n", prog, argv[1], prog);
    return EXIT_USAGE;
}
