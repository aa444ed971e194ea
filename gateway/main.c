/*
 * jt-gateway — the on-premises gateway: keys held locally, a REST API over
 * the node protocol.
 *
 *   jt-gateway init   --data DIR [--node URL] [--tls] [--tls-names NAME,...]
 *   jt-gateway run    --data DIR [--config FILE]
 *   jt-gateway apikey create --data DIR --scopes read,sign[,issue,admin] [--accounts jA,jB|*] [--label TEXT]
 *   jt-gateway apikey list   --data DIR
 *   jt-gateway apikey revoke --data DIR ID
 *   jt-gateway key create|import|list|export|remove --data DIR [--ed25519] [--label TEXT] [ADDRESS]
 *   jt-gateway audit verify  --data DIR
 *
 * DIR (0700) holds jt-gateway.conf (INI, written by init), jt-gateway.lock
 * (held by init and run: server/datadir.h), the LMDB store (db/: API keys,
 * submissions, cursors) and the audit log (audit.log). The apikey and audit
 * commands do not take the lock: they may run beside a running gateway (LMDB
 * serializes writers across processes; API keys are read on each request).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>
#include <jt/jt.h>

#include "apikey.h"
#include "audit.h"
#include "config.h"
#include "datadir.h"
#include "gateway.h"
#include "http.h"
#include "pass.h"
#include "tls.h"
#include "store.h"

#define VERSION "0.1.0"
#define CONF_NAME "jt-gateway.conf"

static const char *const whole_files[] = {CONF_NAME, NULL};

typedef struct opts {
    const char *data;
    const char *config;
    const char *node;
    const char *scopes;
    const char *accounts;
    const char *label;
    bool ed25519;
    bool tls;
    const char *tls_names;
    const char *arg; /* the one positional argument */
} opts;

static int parse_opts(int argc, char **argv, int first, opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = first; i < argc; i++) {
        const char **slot = NULL;
        if (!strcmp(argv[i], "--data"))
            slot = &o->data;
        else if (!strcmp(argv[i], "--config"))
            slot = &o->config;
        else if (!strcmp(argv[i], "--node"))
            slot = &o->node;
        else if (!strcmp(argv[i], "--scopes"))
            slot = &o->scopes;
        else if (!strcmp(argv[i], "--accounts"))
            slot = &o->accounts;
        else if (!strcmp(argv[i], "--label"))
            slot = &o->label;
        if (!strcmp(argv[i], "--ed25519")) {
            o->ed25519 = true;
            continue;
        }
        if (!strcmp(argv[i], "--tls")) {
            o->tls = true;
            continue;
        }
        if (!strcmp(argv[i], "--tls-names"))
            slot = &o->tls_names;
        if (slot) {
            if (i + 1 >= argc) {
                fprintf(stderr, "jt-gateway: %s needs a value\n", argv[i]);
                return -1;
            }
            *slot = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "jt-gateway: unknown option %s\n", argv[i]);
            return -1;
        } else if (!o->arg) {
            o->arg = argv[i];
        } else {
            fprintf(stderr, "jt-gateway: unexpected argument %s\n", argv[i]);
            return -1;
        }
    }
    if (!o->data) {
        fprintf(stderr, "jt-gateway: --data DIR is required\n");
        return -1;
    }
    return 0;
}

static void path_in(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* The store of an initialized directory (without its lock). */
static gw_store *open_store(const char *dir)
{
    char conf[4200], err[640];
    path_in(conf, sizeof conf, dir, CONF_NAME);
    struct stat st;
    if (stat(conf, &st) != 0) {
        fprintf(stderr, "jt-gateway: %s is not a gateway data directory (no %s); run `jt-gateway init --data %s` first\n",
                dir, CONF_NAME, dir);
        return NULL;
    }
    gw_config c;
    gw_config_init(&c);
    if (gw_config_load(&c, conf, err, sizeof err)) {
        fprintf(stderr, "jt-gateway: %s\n", err);
        return NULL;
    }
    gw_store *s;
    if (gw_store_open(dir, c.map_size, &s, err, sizeof err)) {
        fprintf(stderr, "jt-gateway: %s\n", err);
        return NULL;
    }
    return s;
}

static int cmd_init(int argc, char **argv)
{
    opts o;
    if (parse_opts(argc, argv, 2, &o))
        return 2;
    const char *node = o.node ? o.node : "ws://127.0.0.1:5020";
    char err[640];
    srv_datadir *dd;
    if (srv_datadir_open(o.data, "jt-gateway", "init", whole_files, true, &dd, err, sizeof err)) {
        fprintf(stderr, "jt-gateway: %s\n", err);
        return 1;
    }
    int rc = 1;
    char cert[4200] = "", key[4200] = "";
    err[0] = 0;
    if (o.tls || o.tls_names) {
        /* Absolute paths: the config is read from wherever run starts. */
        char abs[4096];
        if (!realpath(o.data, abs)) {
            fprintf(stderr, "jt-gateway: %s: %s\n", o.data, strerror(errno));
            srv_datadir_close(dd);
            return 1;
        }
        char tdir[4110];
        path_in(tdir, sizeof tdir, abs, "tls");
        path_in(cert, sizeof cert, tdir, "cert.pem");
        path_in(key, sizeof key, tdir, "key.pem");
        if ((mkdir(tdir, 0700) != 0 && errno != EEXIST) ||
            gw_tls_make_self_signed(cert, key, o.tls_names, err, sizeof err)) {
            if (!err[0])
                fprintf(stderr, "jt-gateway: %s: %s\n", tdir, strerror(errno));
            else
                fprintf(stderr, "jt-gateway: %s\n", err);
            srv_datadir_close(dd);
            return 1;
        }
    }
    char *text = gw_config_default_text(node, cert[0] ? cert : NULL, key[0] ? key : NULL);
    gw_store *s = NULL;
    gw_audit *a = NULL;
    if (!text) {
        fprintf(stderr, "jt-gateway: out of memory\n");
        goto out;
    }
    char conf[4200];
    path_in(conf, sizeof conf, o.data, CONF_NAME);
    struct stat st;
    if (stat(conf, &st) == 0) {
        fprintf(stderr, "jt-gateway: %s is already initialized (%s exists)\n", o.data, conf);
        goto out;
    }
    /* The store and the audit log first: the config is what marks the
     * directory initialized, so it comes last. */
    if (gw_store_open(o.data, 0, &s, err, sizeof err) || gw_audit_open(o.data, &a, err, sizeof err) ||
        srv_datadir_write_new(dd, CONF_NAME, text, strlen(text), err, sizeof err)) {
        fprintf(stderr, "jt-gateway: %s\n", err);
        goto out;
    }
    if (cert[0])
        printf("TLS: a self-signed certificate, %s (clients: curl --cacert %s https://…)\n", cert,
               cert);
    printf("initialized %s\n  config: %s\n  node:   %s\n"
           "next: jt-gateway apikey create --data %s --scopes read,sign,issue,admin --accounts '*'\n"
           "      jt-gateway run --data %s\n",
           o.data, conf, node, o.data, o.data);
    rc = 0;
out:
    free(text);
    gw_audit_close(a);
    gw_store_close(s);
    srv_datadir_close(dd);
    return rc;
}

static int cmd_apikey_create(const opts *o)
{
    if (!o->scopes) {
        fprintf(stderr, "jt-gateway: apikey create needs --scopes (read, sign, issue, admin)\n");
        return 2;
    }
    char err[640];
    unsigned mask;
    if (gw_apikey_parse_scopes(o->scopes, &mask, err, sizeof err)) {
        fprintf(stderr, "jt-gateway: --scopes: %s\n", err);
        return 2;
    }
    gw_store *s = open_store(o->data);
    if (!s)
        return 1;
    char text[GW_APIKEY_TEXT_MAX];
    gw_apikey k;
    int rc = gw_apikey_create(s, mask, o->accounts, o->label, text, &k, err, sizeof err);
    gw_store_close(s);
    if (rc) {
        fprintf(stderr, "jt-gateway: %s\n", err);
        return strstr(err, "account") || strstr(err, "label") ? 2 : 1;
    }
    char scopes[64];
    gw_apikey_scopes_text(k.scopes, scopes, sizeof scopes);
    /* The key itself on stdout (once; only its hash is kept), the rest on
     * stderr, so `KEY=$(jt-gateway apikey create ...)` works. */
    printf("%s\n", text);
    fprintf(stderr, "created API key %s (scopes %s, accounts %s); it is shown only now\n", k.id,
            scopes, k.any_account ? "*" : k.n_accounts ? "listed" : "none");
    sodium_memzero(text, sizeof text);
    gw_apikey_clear(&k);
    return 0;
}

static void list_one(void *ctx, const gw_apikey *k)
{
    char scopes[64];
    gw_apikey_scopes_text(k->scopes, scopes, sizeof scopes);
    printf("%s  %-7s  %-22s  ", k->id, k->revoked ? "revoked" : "active", scopes);
    if (k->any_account)
        printf("*");
    for (size_t i = 0; i < k->n_accounts; i++)
        printf("%s%s", i ? "," : "", k->accounts[i]);
    if (k->label[0])
        printf("  %s", k->label);
    printf("\n");
}

static int cmd_apikey(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: jt-gateway apikey create|list|revoke --data DIR ...\n");
        return 2;
    }
    opts o;
    if (parse_opts(argc, argv, 3, &o))
        return 2;
    const char *sub = argv[2];
    if (!strcmp(sub, "create"))
        return cmd_apikey_create(&o);
    char err[640];
    if (!strcmp(sub, "list")) {
        gw_store *s = open_store(o.data);
        if (!s)
            return 1;
        int rc = gw_apikey_list(s, list_one, NULL, err, sizeof err);
        gw_store_close(s);
        if (rc)
            fprintf(stderr, "jt-gateway: %s\n", err);
        return rc ? 1 : 0;
    }
    if (!strcmp(sub, "revoke")) {
        if (!o.arg) {
            fprintf(stderr, "jt-gateway: apikey revoke needs the key's ID\n");
            return 2;
        }
        gw_store *s = open_store(o.data);
        if (!s)
            return 1;
        int rc = gw_apikey_revoke(s, o.arg, err, sizeof err);
        gw_store_close(s);
        if (rc == 1) {
            fprintf(stderr, "jt-gateway: no API key %s\n", o.arg);
            return 1;
        }
        if (rc) {
            fprintf(stderr, "jt-gateway: %s\n", err);
            return 1;
        }
        fprintf(stderr, "revoked API key %s\n", o.arg);
        return 0;
    }
    fprintf(stderr, "jt-gateway: unknown apikey command %s (create, list, revoke)\n", sub);
    return 2;
}

static int cmd_audit(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[2], "verify")) {
        fprintf(stderr, "usage: jt-gateway audit verify --data DIR\n");
        return 2;
    }
    opts o;
    if (parse_opts(argc, argv, 3, &o))
        return 2;
    gw_store *s = open_store(o.data);
    if (!s)
        return 1;
    uint64_t n = 0;
    uint8_t hash[32] = {0};
    char err[640];
    if (gw_tail_load(s, &n, hash, err, sizeof err)) {
        fprintf(stderr, "jt-gateway: %s\n", err);
        gw_store_close(s);
        return 1;
    }
    gw_store_close(s);
    char path[4200], report[512];
    path_in(path, sizeof path, o.data, "audit.log");
    int rc = gw_audit_verify(path, n, hash, report, sizeof report);
    if (rc == 0) {
        printf("%s: %s\n", path, report);
        return 0;
    }
    fprintf(stderr, "jt-gateway: %s: %s\n", path, report);
    return 1;
}

/* The OpenAPI document of the routes served (the same as GET
 * /v2/openapi.json; docs/openapi.json is this output). */
static int cmd_openapi(int argc, char **argv)
{
    jt_buf b;
    jt_buf_init(&b);
    if (gw_openapi(&b)) {
        jt_buf_clear(&b);
        fprintf(stderr, "jt-gateway: out of memory\n");
        return 1;
    }
    fwrite(b.data, 1, b.len, stdout);
    putchar('\n');
    jt_buf_clear(&b);
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    opts o;
    if (parse_opts(argc, argv, 2, &o))
        return 2;
    return gw_run(o.data, o.config);
}

/* ------------------------------------------------------------ keys */

#define KEYSTORE_NAME "keystore.json"

/* The keystore of DIR under its lock (a running gateway holds its own copy
 * of the keys, so the command line may not change the file beneath it). */
static jt_keystore *open_keys(const opts *o, const char *command, srv_datadir **dd, bool create)
{
    char conf[4200], err[1024];
    path_in(conf, sizeof conf, o->data, CONF_NAME);
    gw_config c;
    gw_config_init(&c);
    struct stat st;
    if (stat(conf, &st) != 0) {
        fprintf(stderr, "jt-gateway: %s is not a gateway data directory; run `jt-gateway init --data %s` first\n",
                o->data, o->data);
        return NULL;
    }
    if (gw_config_load(&c, conf, err, sizeof err)) {
        fprintf(stderr, "jt-gateway: %s\n", err);
        return NULL;
    }
    static const char *const wf[] = {CONF_NAME, KEYSTORE_NAME, NULL};
    if (srv_datadir_open(o->data, "jt-gateway", command, wf, false, dd, err, sizeof err)) {
        fprintf(stderr, "jt-gateway: %s (while the gateway runs, manage keys through POST /v2/wallet/new and /v2/wallet/import)\n",
                err);
        return NULL;
    }
    char path[4200];
    path_in(path, sizeof path, o->data, KEYSTORE_NAME);
    bool exists = stat(path, &st) == 0;
    if (!exists && !create) {
        fprintf(stderr, "jt-gateway: %s has no keystore yet (jt-gateway key create makes one)\n",
                o->data);
        srv_datadir_close(*dd);
        return NULL;
    }
    char *pass = NULL;
    if (gw_passphrase_get(&c, exists ? "to open the keystore" : "for a new keystore", !exists,
                          &pass, err, sizeof err)) {
        fprintf(stderr, "jt-gateway: %s\n", err);
        srv_datadir_close(*dd);
        return NULL;
    }
    jt_keystore *ks = NULL;
    jt_keystore_params kp;
    jt_keystore_params_preset((jt_keystore_cost)c.kdf_cost, &kp);
    jt_errinfo ei = {0};
    jt_err rc = exists ? jt_keystore_open(path, pass, &ks, &ei)
                       : jt_keystore_create(path, pass, &kp, &ks, &ei);
    gw_passphrase_free(pass);
    if (rc != JT_OK) {
        fprintf(stderr, "jt-gateway: %s\n", ei.msg[0] ? ei.msg : jt_strerror(rc));
        srv_datadir_close(*dd);
        return NULL;
    }
    return ks;
}

static void print_entry(const jt_keystore_entry *e)
{
    char pk[67];
    jt_hex_encode(e->public_key, 33, pk, sizeof pk);
    printf("{\"address\":\"%s\",\"public_key\":\"%s\",\"key_type\":\"%s\",\"watch_only\":%s,"
           "\"label\":\"",
           e->address, e->watch_only ? "" : pk,
           e->watch_only ? "" : e->type == JT_KEY_ED25519 ? "ed25519" : "secp256k1",
           e->watch_only ? "true" : "false");
    for (const char *p = e->label; *p; p++)
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else
            putchar(*p);
    printf("\"}\n");
}

static int key_saved(jt_keystore *ks, srv_datadir *dd, const jt_keystore_entry *e, jt_err rc,
                     jt_errinfo *ei)
{
    if (rc == JT_OK)
        rc = jt_keystore_save(ks, ei);
    if (rc != JT_OK)
        fprintf(stderr, "jt-gateway: %s\n", ei->msg[0] ? ei->msg : jt_strerror(rc));
    else if (e)
        print_entry(e);
    jt_keystore_free(ks);
    srv_datadir_close(dd);
    return rc == JT_OK ? 0 : 1;
}

/* The first line of stdin into guarded memory (a secret is never an
 * argument: argv is visible to every user of the machine). */
static char *read_secret_line(void)
{
    char *buf = sodium_malloc(256);
    if (!buf)
        return NULL;
    size_t n = 0;
    int ch;
    while (n < 255 && (ch = getchar()) != EOF && ch != '\n')
        buf[n++] = (char)ch;
    while (n && (buf[n - 1] == '\r' || buf[n - 1] == ' '))
        n--;
    buf[n] = 0;
    return buf;
}

static int cmd_key(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: jt-gateway key create|import|list|export|remove --data DIR ...\n");
        return 2;
    }
    opts o;
    if (parse_opts(argc, argv, 3, &o))
        return 2;
    const char *sub = argv[2];
    srv_datadir *dd = NULL;
    jt_errinfo ei = {0};
    jt_keystore_entry e;
    if (!strcmp(sub, "create")) {
        jt_keystore *ks = open_keys(&o, "key create", &dd, true);
        if (!ks)
            return 1;
        jt_err rc = jt_keystore_generate(ks, o.ed25519 ? JT_KEY_ED25519 : JT_KEY_SECP256K1, o.label,
                                         &e, &ei);
        return key_saved(ks, dd, &e, rc, &ei);
    }
    if (!strcmp(sub, "import")) {
        char *secret = read_secret_line();
        if (!secret || !secret[0]) {
            fprintf(stderr, "jt-gateway: key import reads the secret from the first line of stdin\n");
            if (secret)
                sodium_free(secret);
            return 2;
        }
        jt_keystore *ks = open_keys(&o, "key import", &dd, true);
        if (!ks) {
            sodium_free(secret);
            return 1;
        }
        jt_err rc = jt_keystore_import(ks, secret, o.label, &e, &ei);
        sodium_free(secret);
        return key_saved(ks, dd, &e, rc, &ei);
    }
    if (!strcmp(sub, "list")) {
        jt_keystore *ks = open_keys(&o, "key list", &dd, false);
        if (!ks)
            return 1;
        size_t n = jt_keystore_count(ks);
        for (size_t i = 0; i < n; i++)
            if (jt_keystore_entry_at(ks, i, &e) == JT_OK)
                print_entry(&e);
        jt_keystore_free(ks);
        srv_datadir_close(dd);
        return 0;
    }
    if (!strcmp(sub, "export") || !strcmp(sub, "remove")) {
        if (!o.arg || !jt_address_is_valid(o.arg)) {
            fprintf(stderr, "jt-gateway: key %s needs the account's address\n", sub);
            return 2;
        }
        jt_keystore *ks = open_keys(&o, !strcmp(sub, "export") ? "key export" : "key remove", &dd,
                                    false);
        if (!ks)
            return 1;
        if (!strcmp(sub, "remove")) {
            jt_err rc = jt_keystore_remove(ks, o.arg, &ei);
            int r = key_saved(ks, dd, NULL, rc, &ei);
            if (!r)
                fprintf(stderr, "removed %s from the keystore\n", o.arg);
            return r;
        }
        /* Export asks for the passphrase again: opening proved it once, a
         * secret leaving the gateway needs it said again. */
        char conf[4200], err[512];
        path_in(conf, sizeof conf, o.data, CONF_NAME);
        gw_config c;
        gw_config_init(&c);
        char *pass = NULL;
        int rc = 1;
        char *out = sodium_malloc(JT_SECRET_MAX);
        if (out && gw_config_load(&c, conf, err, sizeof err) == 0 &&
            gw_passphrase_get(&c, "again, to export a secret", false, &pass, err, sizeof err) == 0) {
            if (jt_keystore_export(ks, o.arg, pass, out, JT_SECRET_MAX, &ei) == JT_OK) {
                printf("%s\n", out);
                rc = 0;
            } else {
                fprintf(stderr, "jt-gateway: %s\n", ei.msg);
            }
        } else {
            fprintf(stderr, "jt-gateway: %s\n", out ? err : "out of memory");
        }
        gw_passphrase_free(pass);
        if (out)
            sodium_free(out);
        jt_keystore_free(ks);
        srv_datadir_close(dd);
        return rc;
    }
    fprintf(stderr, "jt-gateway: unknown key command %s (create, import, list, export, remove)\n",
            sub);
    return 2;
}

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *args;
    const char *help;
} command;

static const command commands[] = {
    {"init", cmd_init, "--data DIR [--node URL] [--tls] [--tls-names NAME,...]",
     "create the data directory, its config (with the node's URL), store and audit log"},
    {"run", cmd_run, "--data DIR [--config FILE]",
     "serve the REST API (the keystore passphrase from [keystore] or a prompt)"},
    {"apikey", cmd_apikey,
     "create|list|revoke --data DIR [--scopes read,sign,issue,admin] [--accounts jA,jB|*] [--label TEXT] [ID]",
     "manage API keys (create prints the key once; only its hash is kept)"},
    {"key", cmd_key,
     "create|import|list|export|remove --data DIR [--ed25519] [--label TEXT] [ADDRESS]",
     "manage the keystore (import reads the secret from stdin; export asks for the passphrase again)"},
    {"openapi", cmd_openapi, "", "print the API's OpenAPI 3 document (as GET /v2/openapi.json)"},
    {"audit", cmd_audit, "verify --data DIR", "check the audit log's hash chain and its tail"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: jt-gateway COMMAND [options]\n\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  jt-gateway %s %s\n      %s\n", commands[i].name, commands[i].args,
                commands[i].help);
    fprintf(f, "\nDefaults: HTTP on 127.0.0.1:5080; settings in DIR/%s (INI), written by init.\n",
            CONF_NAME);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("jt-gateway %s\n", VERSION);
        return 0;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "jt-gateway: libsodium failed to initialize\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc, argv);
    fprintf(stderr, "jt-gateway: unknown command %s\n\n", argv[1]);
    usage(stderr);
    return 2;
}
