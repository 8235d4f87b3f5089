/*
 * evwrite.c - write a socket bufferevent's output at once (evwrite.h).
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "evwrite.h"

int ev_write_now(struct bufferevent *bev)
{
	struct evbuffer *out = bufferevent_get_output(bev);
	evutil_socket_t fd = bufferevent_getfd(bev);

	if (bufferevent_get_enabled(bev) & EV_WRITE)
		return 0;
	/* A socket bufferevent keeps the front of its output frozen, so that
	 * only its own write drains it; it thaws it around that write, and so
	 * does this one. */
	evbuffer_unfreeze(out, 1);
	while (evbuffer_get_length(out) > 0)
		if (evbuffer_write(out, fd) <= 0)
			break;
	evbuffer_freeze(out, 1);
	if (evbuffer_get_length(out) == 0)
		return 1;
	bufferevent_enable(bev, EV_WRITE);
	return 0;
}
