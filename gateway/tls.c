/*
 * tls.c — the self-signed certificate of `init --tls` (tls.h).
 */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static int ossl_fail(const char *what, char *err, size_t errcap)
{
    char why[256];
    ERR_error_string_n(ERR_get_error(), why, sizeof why);
    snprintf(err, errcap, "%s: %s", what, why);
    return -1;
}

static int add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ex)
        return -1;
    int ok = X509_add_ext(cert, ex, -1);
    X509_EXTENSION_free(ex);
    return ok ? 0 : -1;
}

/* "localhost,127.0.0.1,::1" plus the extra names as subjectAltName. */
static int alt_names(const char *names, char *out, size_t cap)
{
    int n = snprintf(out, cap, "DNS:localhost,IP:127.0.0.1,IP:::1");
    const char *p = names ? names : "";
    while (*p) {
        size_t len = strcspn(p, ", ");
        if (len) {
            char one[256];
            unsigned char bin[16];
            snprintf(one, sizeof one, "%.*s", (int)(len < 255 ? len : 255), p);
            bool ip = inet_pton(AF_INET, one, bin) == 1 || inet_pton(AF_INET6, one, bin) == 1;
            int w = snprintf(out + n, cap - (size_t)n, ",%s:%.*s", ip ? "IP" : "DNS", (int)len, p);
            if (w < 0 || (size_t)w >= cap - (size_t)n)
                return -1;
            n += w;
        }
        p += len;
        p += strspn(p, ", ");
    }
    return 0;
}

int gw_tls_make_self_signed(const char *cert_path, const char *key_path, const char *names,
                            char *err, size_t errcap)
{
    int rc = -1;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    FILE *kf = NULL, *cf = NULL;
    char san[1024];
    if (!key || !cert)
        return ossl_fail("cannot make a key", err, errcap);
    if (alt_names(names, san, sizeof san)) {
        snprintf(err, errcap, "too many TLS names");
        goto out;
    }
    X509_set_version(cert, 2);
    unsigned char serial[16];
    FILE *ur = fopen("/dev/urandom", "rb");
    if (!ur || fread(serial, 1, sizeof serial, ur) != sizeof serial) {
        if (ur)
            fclose(ur);
        snprintf(err, errcap, "cannot read /dev/urandom");
        goto out;
    }
    fclose(ur);
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    ASN1_INTEGER *sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    BN_free(bn);
    if (!sn || !X509_set_serialNumber(cert, sn)) {
        ASN1_INTEGER_free(sn);
        ossl_fail("cannot set the serial number", err, errcap);
        goto out;
    }
    ASN1_INTEGER_free(sn);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 24 * 3600);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"jt-gateway", -1,
                               -1, 0);
    X509_set_issuer_name(cert, name);
    if (!X509_set_pubkey(cert, key) || add_ext(cert, NID_subject_alt_name, san) ||
        add_ext(cert, NID_basic_constraints, "critical,CA:TRUE") ||
        add_ext(cert, NID_key_usage, "critical,digitalSignature,keyCertSign") ||
        add_ext(cert, NID_ext_key_usage, "serverAuth") || !X509_sign(cert, key, EVP_sha256())) {
        ossl_fail("cannot make the certificate", err, errcap);
        goto out;
    }
    int kfd = open(key_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (kfd < 0 || !(kf = fdopen(kfd, "w"))) {
        snprintf(err, errcap, "cannot create %s: %s", key_path, strerror(errno));
        if (kfd >= 0)
            close(kfd);
        goto out;
    }
    if (!PEM_write_PrivateKey(kf, key, NULL, NULL, 0, NULL, NULL) || fflush(kf) ||
        fsync(fileno(kf))) {
        ossl_fail("cannot write the key", err, errcap);
        goto out;
    }
    int cfd = open(cert_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (cfd < 0 || !(cf = fdopen(cfd, "w"))) {
        snprintf(err, errcap, "cannot create %s: %s", cert_path, strerror(errno));
        if (cfd >= 0)
            close(cfd);
        goto out;
    }
    if (!PEM_write_X509(cf, cert) || fflush(cf) || fsync(fileno(cf))) {
        ossl_fail("cannot write the certificate", err, errcap);
        goto out;
    }
    rc = 0;
out:
    if (kf)
        fclose(kf);
    if (cf)
        fclose(cf);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}
