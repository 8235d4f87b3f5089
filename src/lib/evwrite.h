/*
 * evwrite.h - write a socket bufferevent's output at once, not after the
 * next poll.
 *
 * Why: a libevent socket bufferevent sends its output only from its write
 * event, so every burst of output costs an epoll_ctl to arm that event, a
 * trip through epoll_wait, and another epoll_ctl to disarm it. The peer
 * transport and the ZooKeeper server instead gather a loop round's output
 * and call this once per socket at the end of the round; the write event
 * is armed only when the socket is full.
 */
#ifndef QFS_EVWRITE_H
#define QFS_EVWRITE_H

#include <event2/bufferevent.h>

/*
 * Writes what bev's output holds to its socket. Returns 1 when all of it
 * went out, 0 when some is left: the socket was full, or it failed, or a
 * write event was already armed (it is finishing earlier bytes, and these
 * follow them). Whatever is left goes out by bev's own write event, which
 * this arms, so an error is reported as any write error is, through bev's
 * event callback. The caller's write callback should disarm EV_WRITE once
 * the output is empty, so that the next burst comes back here.
 */
int ev_write_now(struct bufferevent *bev);

#endif
