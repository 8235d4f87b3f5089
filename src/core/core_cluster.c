/*
 * core_cluster.c - the cluster a data directory belongs to.
 *
 * quorumadm restore and import-zk write dataDir/CLUSTER (src/adm/adm.h):
 *
 *   quorumfs-cluster 1
 *   name NAME
 *   id UUID              random, new for each restore
 *   zxid 0x...  created UNIXTIME  origin WHAT
 *
 * A server opening such a directory must be configured for that cluster
 * (clusterName, default "quorumfs"); otherwise it refuses to start. Peers
 * of another clusterName are already refused by the transport's handshake
 * (consensus/peer_wire.h), so data restored for one cluster is never served
 * in, or replicated into, another by accident. A directory without CLUSTER
 * (made by the daemon itself) belongs to whatever cluster opens it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core_int.h"

int core_cluster_check(const char *dir, const char *cluster_name, char *errbuf,
		       size_t errlen)
{
	const char *want = cluster_name && *cluster_name ? cluster_name : "quorumfs";
	char path[4200], line[512], name[300] = "", id[64] = "?", origin[300] = "?";
	FILE *f;
	int first = 1, ok = 0;

	snprintf(path, sizeof(path), "%s/CLUSTER", dir);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (first) {
			ok = strcmp(line, "quorumfs-cluster 1") == 0;
			first = 0;
		} else if (strncmp(line, "name ", 5) == 0) {
			snprintf(name, sizeof(name), "%.299s", line + 5);
		} else if (strncmp(line, "id ", 3) == 0) {
			snprintf(id, sizeof(id), "%.63s", line + 3);
		} else if (strncmp(line, "origin ", 7) == 0) {
			snprintf(origin, sizeof(origin), "%.299s", line + 7);
		}
	}
	fclose(f);
	if (!ok || !name[0]) {
		snprintf(errbuf, errlen,
			 "%s: not a cluster identity file (\"quorumfs-cluster 1\" and a "
			 "name line expected); refusing to guess which cluster %s "
			 "belongs to",
			 path, dir);
		return -EBADMSG;
	}
	if (strcmp(name, want) != 0) {
		snprintf(
		    errbuf, errlen,
		    "dataDir %s belongs to cluster \"%s\" (id %s, from %s), but this "
		    "server is configured for cluster \"%s\" (clusterName): refusing "
		    "to mix two clusters. Set clusterName=%s if the data is meant for "
		    "this server, or give it another dataDir",
		    dir, name, id, origin, want, name);
		return -EINVAL;
	}
	return 0;
}
