/*
 * members_text.c - group.X and weight.N in ZooKeeper's dynamic
 * configuration text (see members_text.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "members_text.h"
#include "serverspec.h"

#define MT_MAX_GROUP  1000000L /* as zoo.cfg's group.X (config.c) */
#define MT_MAX_WEIGHT 1000000L /* as zoo.cfg's weight.N */

static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

enum mt_kind members_text_kind(const char *entry)
{
	const char *s = skip_blanks(entry);

	if (!strncmp(s, "server.", 7) || (*s >= '0' && *s <= '9'))
		return MT_SERVER;
	if (!strncmp(s, "group.", 6))
		return MT_GROUP;
	if (!strncmp(s, "weight.", 7))
		return MT_WEIGHT;
	if (!strncmp(s, "version=", 8) || !strncmp(s, "version ", 8))
		return MT_VERSION;
	return MT_UNKNOWN;
}

/* A decimal in [lo, hi] that is the whole of s (blanks around it taken). */
static int parse_num(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	s = skip_blanks(s);
	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtol(s, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\r')
		end++;
	if (*end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static struct cons_member *find(struct cons_membership *m, long id)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->m[i].id == (uint32_t)id)
			return &m->m[i];
	return NULL;
}

/* "group.X=a:b:c": its members join group X. */
static int take_group(struct cons_membership *to, char *key, char *value, char *why,
		      size_t wl)
{
	long gid, id;
	char *save = NULL, *tok;

	if (parse_num(key + 6, 1, MT_MAX_GROUP, &gid)) {
		snprintf(why, wl, "'%s': the group id is not a number from 1 to %ld", key,
			 MT_MAX_GROUP);
		return -EINVAL;
	}
	for (unsigned i = 0; i < to->n; i++)
		if (to->m[i].group == (uint32_t)gid) {
			snprintf(why, wl, "group.%ld is given twice", gid);
			return -EINVAL;
		}
	if (!*skip_blanks(value)) {
		snprintf(why, wl, "group.%ld is empty", gid);
		return -EINVAL;
	}
	for (tok = strtok_r(value, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		struct cons_member *x;

		if (parse_num(tok, 1, 255, &id) || !(x = find(to, id))) {
			snprintf(why, wl,
				 "group.%ld: '%s' is not a server of the new list", gid,
				 tok);
			return -EINVAL;
		}
		if (x->observer) {
			snprintf(why, wl,
				 "group.%ld: server.%ld is an observer (observers "
				 "are in no group)",
				 gid, id);
			return -EINVAL;
		}
		if (x->group) {
			snprintf(why, wl, "server.%ld is in two groups (%u and %ld)", id,
				 x->group == (uint32_t)gid ? (unsigned)gid : x->group,
				 gid);
			return -EINVAL;
		}
		x->group = (uint32_t)gid;
	}
	return 0;
}

/* "weight.N=W". */
static int take_weight(struct cons_membership *to, char *key, char *value, uint8_t *seen,
		       char *why, size_t wl)
{
	struct cons_member *x;
	long id, w;

	if (parse_num(key + 7, 1, 255, &id) || !(x = find(to, id))) {
		snprintf(why, wl, "'%s' names no server of the new list", key);
		return -EINVAL;
	}
	if (x->observer) {
		snprintf(why, wl,
			 "weight.%ld: server.%ld is an observer (observers "
			 "never vote)",
			 id, id);
		return -EINVAL;
	}
	if (parse_num(value, 0, MT_MAX_WEIGHT, &w)) {
		snprintf(why, wl, "weight.%ld=%s: a weight is a number from 0 to %ld", id,
			 value, MT_MAX_WEIGHT);
		return -EINVAL;
	}
	if (seen[x - to->m]++) {
		snprintf(why, wl, "weight.%ld is given twice", id);
		return -EINVAL;
	}
	x->weight = (uint32_t)w;
	return 0;
}

int members_text_quorum(struct cons_membership *to, const char *list, char *why,
			size_t wl)
{
	uint8_t seen[CONS_MAX_MEMBERS] = {0};
	char *copy, *save = NULL, *tok;
	unsigned groups = 0, weights = 0;
	uint64_t total = 0;
	int rc = 0;

	why[0] = 0;
	for (unsigned i = 0; i < to->n; i++) {
		to->m[i].group = 0;
		to->m[i].weight = 1;
	}
	copy = strdup(list ? list : "");
	if (!copy) {
		snprintf(why, wl, "out of memory");
		return -EINVAL;
	}
	for (tok = strtok_r(copy, ",\n", &save); tok && !rc;
	     tok = strtok_r(NULL, ",\n", &save)) {
		enum mt_kind k = members_text_kind(tok);
		char *key = (char *)skip_blanks(tok), *eq = strchr(key, '=');

		if (!*key || k == MT_SERVER || k == MT_VERSION)
			continue;
		if (k == MT_UNKNOWN || !eq) {
			snprintf(why, wl,
				 "unrecognised entry '%s' (server.N=, group.X=, "
				 "weight.N= or version=)",
				 key);
			rc = -EINVAL;
			break;
		}
		*eq = 0;
		for (char *p = eq; p > key && (p[-1] == ' ' || p[-1] == '\t');)
			*--p = 0;
		if (k == MT_GROUP) {
			rc = take_group(to, key, eq + 1, why, wl);
			groups++;
		} else {
			rc = take_weight(to, key, eq + 1, seen, why, wl);
			weights++;
		}
	}
	free(copy);
	if (rc)
		return rc;
	to->quorum = groups    ? QUORUM_HIERARCHICAL
		     : weights ? QUORUM_WEIGHTED
			       : QUORUM_MAJORITY;
	for (unsigned i = 0; i < to->n; i++) {
		if (to->m[i].observer)
			continue;
		if (groups && !to->m[i].group) {
			snprintf(why, wl,
				 "server.%u is in no group (with group.X lines "
				 "every participant must be in one)",
				 to->m[i].id);
			return -EINVAL;
		}
		total += to->m[i].weight;
	}
	if (!total) {
		/* The engine would count every one as 1 (quorum.h): refuse,
		 * as ZooKeeper's quorum of zero weight could never form. */
		snprintf(why, wl,
			 "every participant has weight 0: no group carries "
			 "weight, no quorum could form");
		return -EINVAL;
	}
	return 0;
}

__attribute__((format(printf, 4, 5))) static int put(char *buf, size_t len, size_t *off,
						     const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= len - *off)
		return -ENOSPC;
	*off += (size_t)k;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int members_text_render(const struct cons_membership *m, char *buf, size_t len,
			size_t *off)
{
	uint32_t gid[CONS_MAX_MEMBERS];
	unsigned ng = 0;

	if (m->quorum == QUORUM_MAJORITY)
		return 0;
	if (m->quorum == QUORUM_HIERARCHICAL) {
		for (unsigned i = 0; i < m->n; i++) {
			unsigned j;

			if (m->m[i].observer || !m->m[i].group)
				continue;
			for (j = 0; j < ng && gid[j] != m->m[i].group; j++)
				;
			if (j == ng)
				gid[ng++] = m->m[i].group;
		}
		qsort(gid, ng, sizeof(gid[0]), cmp_u32);
		for (unsigned g = 0; g < ng; g++) {
			const char *sep = "";

			if (put(buf, len, off, "group.%u=", gid[g]))
				return -ENOSPC;
			for (unsigned i = 0; i < m->n; i++) {
				if (m->m[i].observer || m->m[i].group != gid[g])
					continue;
				if (put(buf, len, off, "%s%u", sep, m->m[i].id))
					return -ENOSPC;
				sep = ":";
			}
			if (put(buf, len, off, "\n"))
				return -ENOSPC;
		}
	}
	for (unsigned i = 0; i < m->n; i++)
		if (!m->m[i].observer &&
		    put(buf, len, off, "weight.%u=%u\n", m->m[i].id, m->m[i].weight))
			return -ENOSPC;
	return 0;
}

int members_text_server(const char *s, struct mt_server *out, long max_id, char *why,
			size_t whylen)
{
	struct serverspec spec;
	char key[32], host[SERVERSPEC_HOST_MAX + 2];
	const char *eq, *p;
	size_t n;
	long v;

	while (*s == ' ' || *s == '\t')
		s++;
	eq = strchr(s, '=');
	if (!eq) {
		snprintf(why, whylen, "'%.60s': expected server.N=host:peerPort:electionPort", s);
		return -EINVAL;
	}
	n = (size_t)(eq - s);
	p = n > 7 && !strncmp(s, "server.", 7) ? s + 7 : s;
	n = (size_t)(eq - p);
	if (n == 0 || n >= sizeof(key)) {
		snprintf(why, whylen, "'%.*s': not a server id", (int)(eq - s), s);
		return -EINVAL;
	}
	memcpy(key, p, n);
	key[n] = 0;
	v = strtol(key, (char **)&p, 10);
	if (*p || key[0] < '0' || key[0] > '9' || v < 1 || v > max_id) {
		snprintf(why, whylen, "server id '%s' is not a number from 1 to %ld", key,
			 max_id);
		return -EINVAL;
	}
	if (serverspec_parse(eq + 1, &spec, why, whylen))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->id = (uint32_t)v;
	snprintf(out->host, sizeof(out->host), "%s", spec.host);
	out->peer_port = spec.peer_port;
	out->election_port = spec.election_port;
	out->observer = spec.observer;
	if (spec.has_client) {
		if (spec.client_host[0])
			snprintf(out->client, sizeof(out->client), "%s:%d",
				 serverspec_host(spec.client_host, host, sizeof(host)),
				 spec.client_port);
		else
			snprintf(out->client, sizeof(out->client), "%d", spec.client_port);
	}
	return 0;
}
