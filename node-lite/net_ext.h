/*
 * net_ext.h — additions to net.h's interface, kept apart while net.h is
 * shared by several people; they belong in net.h when it is next edited.
 */
#ifndef JN_NET_EXT_H
#define JN_NET_EXT_H

#include "net.h"

/* The port a listener is bound to: "ws" or "jtp". Useful when the
 * configured address asks for port 0 (the kernel picks a free one), which is
 * how tests and scripts avoid port clashes. Returns -1 when that listener is
 * disabled or `transport` is neither name. Any thread, once jn_net_new has
 * returned. */
int jn_net_listen_port(const jn_net *n, const char *transport);

/* Closes the connection once what is already queued has been written (for
 * a WebSocket, with a normal close frame); later jn_conn_send calls fail.
 * A peer that does not read is cut off after a few seconds. on_close follows
 * as for any close. Loop thread only. */
void jn_conn_close(jn_conn *c);

/* Queues a reply to one of c's requests. Unlike jn_conn_send (for stream
 * messages, which the peer did not just ask for), a reply is never refused
 * because of what c has queued: once c's queue passes half of max_outbuf
 * the node stops reading c's requests until c has read enough, so replies
 * cannot pile up without c asking for more. A single reply larger than
 * max_outbuf (jtp: max_message), or one that max_out_total has no room for
 * after closing slower readers, still closes the connection. Returns -1
 * when the message was not queued. Loop thread only. */
int jn_conn_reply(jn_conn *c, const char *msg, size_t len);

#endif
