/*
 * members_text.h - the quorum system in ZooKeeper's dynamic configuration
 * text: group.X=a:b:c and weight.N=W beside the server.N= lines, in a
 * reconfig's new member list (zkCli's `reconfig -members` / `-file`) and in
 * /zookeeper/config and dataDir/zoo.cfg.dynamic.
 *
 * As ZooKeeper (QuorumPeerConfig.parseDynamicConfig): entries are separated
 * by commas or newlines; a list with group lines makes a hierarchical
 * quorum; with weight lines only, a weighted one (as zoo.cfg does here,
 * config.c); with neither, a majority. version= is taken and ignored; any
 * other key is refused.
 *
 * Pure functions over struct cons_membership: no I/O but the log line the
 * caller prints from `why`.
 */
#ifndef QFS_MEMBERS_TEXT_H
#define QFS_MEMBERS_TEXT_H

#include <stddef.h>

#include "cons.h"

/*
 * One server entry, "server.N=host:peer:election[:role][;[host:]port]"
 * (ZooKeeper's; "N=..." is taken too), with N from 1 to max_id and the
 * rest as serverspec.h parses it (zoo.cfg's parser): an IPv6 host in
 * brackets, ports from 1 to 65535 (a client port from 0), role
 * participant (the default) or observer. Returns 0, or -EINVAL with the
 * reason in why.
 */
struct mt_server {
	uint32_t id;
	char host[256];	  /* without brackets: what getaddrinfo takes */
	int peer_port, election_port;
	char client[300]; /* "[host:]port" as a spec writes it, or "" */
	int observer;
};
int members_text_server(const char *s, struct mt_server *out, long max_id, char *why,
			size_t whylen);

/* What an entry of the list is. */
enum mt_kind { MT_SERVER, MT_GROUP, MT_WEIGHT, MT_VERSION, MT_UNKNOWN };

/* The kind of one entry ("server.1=...", "group.2=1:2", "3=..." is a
 * server, as parse_spec takes it). Leading blanks are skipped. */
enum mt_kind members_text_kind(const char *entry);

/*
 * Set the quorum system of `to` (its members already listed, each with
 * weight 1 and no group, from the server entries) from the group.X and
 * weight.N entries of list, and check it: a group names only participants
 * of the list, each at most once and in one group; with groups every
 * participant is in one; weights are integers from 0 to 1000000 of
 * participants; some participant has a positive weight (so some group
 * does: ZooKeeper discards groups of weight 0); no other keys.
 * Returns 0, or -EINVAL with the reason in why.
 */
int members_text_quorum(struct cons_membership *to, const char *list, char *why,
			size_t whylen);

/*
 * Append the group.X and weight.N lines of m (non-joint) to buf at *off
 * (ZooKeeper's QuorumHierarchical order: after the servers, groups
 * ascending, then weights in member order; nothing for a majority).
 * Returns 0 or -ENOSPC.
 */
int members_text_render(const struct cons_membership *m, char *buf, size_t len,
			size_t *off);

#endif
