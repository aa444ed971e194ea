/*
 * tls.h — a self-signed certificate for the gateway's HTTPS listener, made
 * by `jt-gateway init --tls` when no certificate is at hand: an ECDSA P-256
 * key and a certificate for localhost and 127.0.0.1 (and any extra names),
 * valid ten years. Clients pin it (curl --cacert DIR/tls/cert.pem).
 */
#ifndef GW_TLS_H
#define GW_TLS_H

#include <stddef.h>

/* Writes cert_path (0644) and key_path (0600, created new). `names` is a
 * comma-separated list of extra DNS names or IP addresses (may be NULL).
 * -1 with a message. */
int gw_tls_make_self_signed(const char *cert_path, const char *key_path, const char *names,
                            char *err, size_t errcap);

#endif
