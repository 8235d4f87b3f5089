/*
 * quorumctl_status.c - `status`: a readable summary of each server from the
 * srvr and mntr four-letter words (each is a plain TCP exchange: send the
 * word, read until the server closes).
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

#define FLW_MAX	    (256 * 1024)
#define FLW_TIMEOUT 5

/* Send word to host:port and read the answer into a malloc'd string.
 * Returns 0, or a negative errno with *out NULL. */
static int four_letter(const char *hostport, const char *word, char **out)
{
	struct addrinfo hints, *res = NULL;
	struct timeval tv = {FLW_TIMEOUT, 0};
	char host[256], *colon, *s = NULL;
	size_t len = 0;
	ssize_t n;
	int fd = -1, rc;

	*out = NULL;
	snprintf(host, sizeof(host), "%s", hostport);
	colon = strrchr(host, ':');
	if (!colon)
		return -EINVAL;
	*colon = 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, colon + 1, &hints, &res))
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
	s = malloc(FLW_MAX + 1);
	if (!s) {
		rc = -ENOMEM;
		goto out_close;
	}
	while (len < FLW_MAX && (n = read(fd, s + len, FLW_MAX - len)) > 0)
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

/* The value after "key" and a ':' or tab in a 4lw answer, up to the line's
 * end, into val; 0 when found. */
static int field(const char *text, const char *key, char *val, size_t len)
{
	size_t k = strlen(key);
	const char *p = text, *e;

	while (p && *p) {
		if (!strncmp(p, key, k) && (p[k] == ':' || p[k] == '\t')) {
			p += k + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			e = strchr(p, '\n');
			snprintf(val, len, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

static void show(const char *label, const char *text, const char *key)
{
	char v[256];

	if (text && !field(text, key, v, sizeof(v)))
		printf("  %-18s %s\n", label, v);
}

static int status_one(const char *hostport)
{
	char *srvr = NULL, *mntr = NULL;
	int rc;

	rc = four_letter(hostport, "srvr", &srvr);
	if (rc) {
		printf("%s: unreachable (%s)\n", hostport, strerror(-rc));
		return CTL_EXIT_CONNECT;
	}
	printf("%s:\n", hostport);
	if (!strstr(srvr, "Mode:")) {
		printf("  %s\n", srvr[0] ? srvr : "(no answer to srvr)");
		free(srvr);
		return CTL_EXIT_CONNECT;
	}
	show("version", srvr, "Zookeeper version");
	show("mode", srvr, "Mode");
	show("zxid", srvr, "Zxid");
	show("nodes", srvr, "Node count");
	show("connections", srvr, "Connections");
	show("outstanding", srvr, "Outstanding");
	show("latency min/avg/max", srvr, "Latency min/avg/max");
	show("received", srvr, "Received");
	show("sent", srvr, "Sent");
	if (!four_letter(hostport, "mntr", &mntr) && strstr(mntr, "zk_")) {
		show("watches", mntr, "zk_watch_count");
		show("ephemerals", mntr, "zk_ephemerals_count");
		show("data size", mntr, "zk_approximate_data_size");
		show("open fds", mntr, "zk_open_file_descriptor_count");
		show("followers", mntr, "zk_followers");
		show("synced followers", mntr, "zk_synced_followers");
	} else {
		printf("  (mntr not answered: allow it in 4lw.commands.whitelist)\n");
	}
	free(srvr);
	free(mntr);
	return CTL_EXIT_OK;
}

int ctl_cmd_status(struct ctl *x, int argc, char **argv)
{
	char *hosts, *h, *save;
	int rc = CTL_EXIT_OK, one;

	if (argc - optind != 0) {
		fprintf(stderr, "quorumctl status: takes no arguments\n");
		return CTL_EXIT_USAGE;
	}
	hosts = strdup(x->hosts);
	if (!hosts)
		return CTL_EXIT_CONNECT;
	for (h = strtok_r(hosts, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
		one = status_one(h);
		if (one)
			rc = one;
	}
	free(hosts);
	return rc;
}
