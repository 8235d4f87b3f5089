/*
 * quorumctl_flw.c - one four-letter word (srvr, mntr, conf, ...) sent to a
 * server: connect, send the word, read until the server closes. Used by
 * `status` and by `members` (to find the leader).
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "quorumctl.h"

int ctl_four_letter(const char *hostport, const char *word, int timeout_s, size_t max,
		    char **out)
{
	struct addrinfo hints, *res = NULL;
	struct timeval tv = {timeout_s, 0};
	char host[300], *colon, *h, *s = NULL;
	size_t len = 0;
	ssize_t n;
	int fd = -1, rc;

	*out = NULL;
	if (snprintf(host, sizeof(host), "%s", hostport) >= (int)sizeof(host))
		return -EINVAL;
	colon = strrchr(host, ':');
	if (!colon)
		return -EINVAL;
	*colon = 0;
	h = host;
	/* [v6]:port: getaddrinfo takes the address without its brackets. */
	if (h[0] == '[' && colon > h + 1 && colon[-1] == ']') {
		colon[-1] = 0;
		h++;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(h, colon + 1, &hints, &res))
		return -EHOSTUNREACH;
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd < 0) {
		rc = -errno;
		goto out_free_addr;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, res->ai_addr, res->ai_addrlen) || write(fd, word, 4) != 4) {
		rc = -errno;
		goto out_close;
	}
	s = malloc(max + 1);
	if (!s) {
		rc = -ENOMEM;
		goto out_close;
	}
	while (len < max && (n = read(fd, s + len, max - len)) > 0)
		len += (size_t)n;
	s[len] = 0;
	*out = s;
	rc = 0;
out_close:
	close(fd);
out_free_addr:
	freeaddrinfo(res);
	return rc;
}
