/*
 * zks_reconfig.c - ZooKeeper's reconfig request (opcode 16) and
 * quorumfs's leadership transfer, which rides on it.
 *
 * As ZooKeeper 3.5.3+ (ZooKeeperAdmin.reconfigure, PrepRequestProcessor):
 *   - reconfigEnabled must be true, else ZRECONFIGDISABLED;
 *   - the session needs WRITE on /zookeeper/config (world:anyone:r by
 *     default, so the superuser of superDigest), else ZNOAUTH;
 *   - joiningServers/leavingServers change the current list (incremental),
 *     newMembers replaces it (non-incremental); curConfigId (-1: none) must
 *     be the version in force, else ZBADVERSION;
 *   - the reply is a GetDataResponse: /zookeeper/config's new data and stat.
 * Any member takes it: the core runs it on the leader, forwarding it there
 * from a follower or observer, and makes the checks above there
 * (qcore_reconfig); the reply is built here from this member's tree, which
 * shows the change when the core says it is done.
 *
 * Extension: newMembers "quorumfs:leader.transfer=N" (N = 0: the most up
 * to date voter) hands the leadership over (quorumctl leader transfer),
 * under the same checks; the reply is the same GetDataResponse.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core.h"
#include "log.h"
#include "zerr.h"
#include "zks_int.h"

/* GetDataResponse of /zookeeper/config into r->body. */
static void put_config(struct zks_req *r)
{
	const struct znode *n =
	    tree_lookup(qcore_tree(r->conn->srv->core), "/zookeeper/config");

	if (!n) {
		r->err = ZNONODE;
		return;
	}
	if (n->stat.data_length == 0)
		buf_put_u32(&r->body, 0);
	else
		buf_put_bytes(&r->body, n->data, n->stat.data_length);
	jute_put_stat(&r->body, &n->stat);
}

static void reconfig_done(void *arg, const struct zresult *res)
{
	struct zks_req *r = arg;
	struct zks_conn *c = r->conn;

	if (!c->dead) {
		r->err = res->err;
		r->zxid = (int64_t)tree_last_zxid(qcore_tree(c->srv->core));
		if (res->err == ZOK)
			put_config(r);
		else
			log_warnx("zk: %s: reconfig: %s", c->peer, zerr_str(res->err));
	}
	zks_req_finish(r);
}

int zks_op_reconfig(struct zks_req *r)
{
	const struct jute_reconfig_request *q = &r->jr.body.reconfig_request;
	struct zks_conn *c = r->conn;
	int rc;

	log_info("zk: %s: reconfig joining '%s' leaving '%s' members '%s' from 0x%llx",
		 c->peer, q->joining_servers ? q->joining_servers : "",
		 q->leaving_servers ? q->leaving_servers : "",
		 q->new_members ? q->new_members : "",
		 (unsigned long long)q->cur_config_id);
	rc = qcore_reconfig(c->srv->core, q->joining_servers, q->leaving_servers,
			    q->new_members, q->cur_config_id, &c->auth, reconfig_done, r);
	if (rc != ZOK) {
		if (rc == ZNOAUTH)
			log_warnx("zk: %s: reconfig refused: the session may not write "
				  "/zookeeper/config (authenticate as the superuser)",
				  c->peer);
		r->err = rc;
		return ZKS_DONE;
	}
	return ZKS_PENDING;
}
