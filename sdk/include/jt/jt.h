/*
 * jt/jt.h — libjt, the C SDK of jtkit: keys, addresses, the Jingtum binary
 * codec, signing, and clients for jt-gateway and Jingtum nodes.
 *
 *     #include <jt/jt.h>        cc app.c $(pkg-config --cflags --libs jt)
 */
#ifndef JT_JT_H
#define JT_JT_H

#include "jt/amount.h"
#include "jt/amount_math.h"
#include "jt/base58.h"
#include "jt/codec.h"
#include "jt/common.h"
#include "jt/error.h"
#include "jt/flags.h"
#include "jt/gateway.h"
#include "jt/hash.h"
#include "jt/json.h"
#include "jt/jtp.h"
#include "jt/keys.h"
#include "jt/keystore.h"
#include "jt/memo.h"
#include "jt/node.h"
#include "jt/secret_key.h"
#include "jt/session.h"
#include "jt/sign.h"
#include "jt/ter.h"
#include "jt/tx.h"
#include "jt/util.h"

#endif
