/*
 * serverspec.h - the right-hand side of ZooKeeper's server.N= line, the
 * one parser for it: zoo.cfg (config.c) and a reconfig's member list
 * (members_text.c) take the same text and must agree on it.
 *
 *   host:peerPort:electionPort[:participant|:observer][;[clientHost:]clientPort]
 *
 * A host that is an IPv6 address is written in brackets, as ZooKeeper
 * requires ([2001:db8::1]:2888:3888;[::]:2181); the brackets are dropped
 * from the parsed host, which is what getaddrinfo and inet_pton take, and
 * put back by serverspec_host when a spec is written out again.
 *
 * Pure functions over caller-owned buffers: no allocation, no I/O.
 */
#ifndef QFS_SERVERSPEC_H
#define QFS_SERVERSPEC_H

#include <stddef.h>

#define SERVERSPEC_HOST_MAX 256 /* with the terminating NUL */

struct serverspec {
	char host[SERVERSPEC_HOST_MAX];	       /* no brackets; never empty */
	int peer_port, election_port;	       /* 1..65535 */
	int observer;			       /* the role was "observer" */
	int has_client;			       /* a ";..." part was given */
	char client_host[SERVERSPEC_HOST_MAX]; /* no brackets; "" when absent */
	int client_port;		       /* 0..65535 (0: any, as ZooKeeper) */
};

/*
 * Parses value (the text after "server.N=", surrounding blanks allowed)
 * into *out. Returns 0, or -EINVAL with why (whylen bytes) saying what is
 * wrong, in words an operator can act on: a missing field, a port that is
 * not a number from 1 to 65535, an unknown role, an unclosed bracket, a
 * host too long.
 */
int serverspec_parse(const char *value, struct serverspec *out, char *why, size_t whylen);

/* host as a spec writes it: in brackets when it holds a ':' (IPv6), else
 * as it is. Returns buf. */
const char *serverspec_host(const char *host, char *buf, size_t len);

#endif
