/*
 * nodewire.h — what the two node clients share (the threaded jt_node and the
 * loop-driven jt_session): URL parsing, request building, the routing of
 * pushed messages to subscriptions, and reading a response's status.
 * Private to libjt.
 */
#ifndef JT_NODEWIRE_H
#define JT_NODEWIRE_H

#include "jt/common.h"
#include "jt/error.h"
#include "jt/json.h"

typedef enum jt__nodewire_transport {
    JT__NW_WS,
    JT__NW_WSS,
    JT__NW_JTP,
    JT__NW_JTP_PLAIN,
} jt__nodewire_transport;

typedef struct jt__nodewire_url {
    jt__nodewire_transport tr;
    char host[256]; /* without brackets */
    uint16_t port;
    char path[512];  /* ws/wss: "/..." */
    uint8_t key[32]; /* jtp: the pinned node key */
} jt__nodewire_url;

/* ws://, wss://, jtp://, jtp+plain:// (node.h has the forms). Errors:
 * JT_EURL, JT_EKEY. */
jt_err jt__nodewire_url_parse(const char *url, jt__nodewire_url *out, jt_errinfo *ei);

/* "ws", "wss", "jtp" or "jtp+plain". */
const char *jt__nodewire_transport_name(jt__nodewire_transport tr);

/* {"id":id,"command":command?, ...members of obj but "id" (and "command"
 * when given)} as a new NUL-terminated string (*out, malloc'ed). Errors:
 * JT_ETOOBIG (over max), JT_ENOMEM, JT_EJSON. */
jt_err jt__nodewire_request(const jt_json *obj, uint64_t id, const char *command, size_t max,
                            char **out, size_t *outlen, jt_errinfo *ei);

/* Limits for parsing a node's message: only the size should refuse one (a
 * response that cannot be parsed cannot be matched to its call). */
jt_json_limits jt__nodewire_json_limits(size_t max_message);

/* Push types as bits, so that a subscription says which it wants. */
/* The bit of a pushed message's "type" (0: a type no stream names). */
unsigned jt__nodewire_push_bit(const char *type);
/* The bits a subscribe request's parameters ask for. */
unsigned jt__nodewire_sub_types(const jt_json *params);
/* Whether a subscription of `types` receives a push of `bit`. */
static inline bool jt__nodewire_wants(unsigned types, unsigned bit)
{
    return bit == 0 || (types & bit) != 0;
}

/* A response: JT_OK for status "success", or JT_ERPC with ei->field the
 * error token and ei->msg "node error TOKEN: message". */
jt_err jt__nodewire_status(const jt_json *root, jt_errinfo *ei);

#endif
