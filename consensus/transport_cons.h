/*
 * transport_cons.h - the peer transport (transport.h) as the consensus
 * core's struct cons_transport (cons.h).
 *
 * The core's frames travel as the transport's opaque messages: send copies
 * the frame at once (so the core may reuse it as soon as send returns) and
 * runs cb, if any, later from the loop; a frame for a server without an
 * authenticated connection is refused with -ENOTCONN and dropped, which
 * the core treats as loss. Received messages go to the core's recv
 * function with the sender's server id.
 */
#ifndef QFS_TRANSPORT_CONS_H
#define QFS_TRANSPORT_CONS_H

#include "cons.h"
#include "transport.h"

/* Wraps t; the vtable's close() frees t and the wrapper. 0 or -ENOMEM. */
int transport_cons_new(struct transport *t, struct cons_transport **out);

#endif
