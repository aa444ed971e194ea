/*
 * pass.h — where the keystore's passphrase comes from: a file only its
 * owner may read ([keystore] passphrase_file), an environment variable
 * ([keystore] passphrase_env, JT_GATEWAY_PASSPHRASE by default), or a
 * prompt on the terminal without echo. Never the config, never argv.
 */
#ifndef GW_PASS_H
#define GW_PASS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* *out is in guarded memory (sodium_malloc): free it with gw_passphrase_free.
 * `confirm` asks twice at a prompt (a new keystore). -1 with a message:
 * a file others may read, an empty passphrase, no terminal to ask on. */
int gw_passphrase_get(const gw_config *c, const char *purpose, bool confirm, char **out, char *err,
                      size_t errcap);
void gw_passphrase_free(char *p);

#endif
