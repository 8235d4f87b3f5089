/* test_config.c - zoo.cfg parsing, -o overrides and validation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "tap.h"

static char cfg_path[64];

static void write_cfg(const char *text)
{
	int fd;

	strcpy(cfg_path, "/tmp/qfs-cfg.XXXXXX");
	fd = mkstemp(cfg_path);
	TAP_ASSERT(fd >= 0);
	TAP_ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

static void test_zoo_cfg(void)
{
	struct qfs_config c;
	char err[256] = "";

	write_cfg("# comment\n\ntickTime = 500\ndataDir=/tmp/x\nclientPort=2999\n"
		  "server.1=10.0.0.1:2888:3888\nserver.2=h2:2889:3889:observer;127.0.0.1:2182\n"
		  "autopurge.snapRetainCount=5\n4lw.commands.whitelist=ruok, srvr\n");
	config_init(&c);
	TAP_EQ(config_load_file(&c, cfg_path, err, sizeof(err)), 0);
	TAP_EQ(c.tick_ms, 500);
	TAP_STREQ(c.data_dir, "/tmp/x");
	TAP_EQ(c.client_port, 2999);
	TAP_EQ(c.n_servers, 2);
	TAP_EQ(c.servers[0].id, 1);
	TAP_STREQ(c.servers[0].host, "10.0.0.1");
	TAP_EQ(c.servers[0].peer_port, 2888);
	TAP_EQ(c.servers[0].election_port, 3888);
	TAP_EQ(c.servers[1].observer, 1);
	TAP_EQ(c.servers[1].client_port, 2182);
	TAP_STREQ(c.servers[1].client_host, "127.0.0.1");
	TAP_EQ(c.snap_retain_count, 5);
	TAP_STREQ(config_get(&c, "4lw.commands.whitelist"), "ruok, srvr");
	/* IPv6 in brackets, as ZooKeeper writes it; the brackets are not part
	 * of the address getaddrinfo and bind are given. */
	TAP_EQ(config_apply_opts(&c, "server.3=[fd00::3]:2890:3890:participant;[::1]:2183",
				 err, sizeof(err)),
	       0);
	TAP_EQ(c.n_servers, 3);
	TAP_STREQ(c.servers[2].host, "fd00::3");
	TAP_EQ(c.servers[2].peer_port, 2890);
	TAP_EQ(c.servers[2].election_port, 3890);
	TAP_EQ(c.servers[2].observer, 0);
	TAP_STREQ(c.servers[2].client_host, "::1");
	TAP_EQ(c.servers[2].client_port, 2183);
	TAP_EQ(config_apply_opts(&c, "myid=1", err, sizeof(err)), 0);
	TAP_EQ(config_finish(&c, err, sizeof(err)), 0);
	/* session bounds derive from tickTime */
	TAP_EQ(c.min_session_timeout_ms, 1000);
	TAP_EQ(c.max_session_timeout_ms, 10000);
	config_free(&c);
	unlink(cfg_path);
}

/* The client address in this server's own server.N line, as ZooKeeper 3.5
 * takes it: the port when clientPort is not given, the host when
 * clientPortAddress is not; where both are given they must agree. */
static void test_own_client_address(void)
{
	static const char servers[] = "dataDir=/tmp/x\n"
				      "server.1=h1:1:2;127.0.0.1:3181\n"
				      "server.2=h2:1:2:participant;[::1]:3182\n"
				      "server.3=h3:1:2\n";
	static const struct {
		const char *opts;
		int rc, port;
		const char *addr, *says;
	} cases[] = {
	    {"myid=1", 0, 3181, "127.0.0.1", NULL},
	    {"myid=2", 0, 3182, "::1", NULL},
	    {"myid=3", 0, 2181, NULL, NULL}, /* no client part: the default */
	    {"myid=1,clientPort=3181,clientPortAddress=127.0.0.1", 0, 3181, "127.0.0.1",
	     NULL},
	    {"myid=1,clientPort=0", 0, 0, "127.0.0.1", NULL}, /* no clients stands */
	    {"myid=1,clientPort=2999", -EINVAL, 0, NULL,
	     "clientPort=2999, but this server's line server.1 gives client port 3181"},
	    {"myid=2,clientPortAddress=0.0.0.0", -EINVAL, 0, NULL,
	     "clientPortAddress=0.0.0.0, but this server's line server.2 gives client "
	     "address ::1"},
	};
	struct qfs_config c;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_cfg(servers);
		config_init(&c);
		err[0] = 0;
		TAP_EQ(config_load_file(&c, cfg_path, err, sizeof(err)), 0);
		TAP_EQ(config_apply_opts(&c, cases[i].opts, err, sizeof(err)), 0);
		TAP_EQ(config_finish(&c, err, sizeof(err)), cases[i].rc);
		if (cases[i].says) {
			printf("# %s: %s\n", cases[i].opts, err);
			TAP_ASSERT(strstr(err, cases[i].says) != NULL);
		} else {
			TAP_EQ(c.client_port, cases[i].port);
			if (cases[i].addr)
				TAP_STREQ(c.client_port_address, cases[i].addr);
			else
				TAP_ASSERT(c.client_port_address == NULL);
		}
		config_free(&c);
		unlink(cfg_path);
	}
}

static void test_overrides_and_fuse_opts(void)
{
	struct qfs_config c;
	char err[256] = "";

	write_cfg("dataDir=/a\nclientPort=1\n");
	config_init(&c);
	TAP_EQ(config_load_file(&c, cfg_path, err, sizeof(err)), 0);
	TAP_EQ(config_apply_opts(&c, "clientPort=0,allow_other,defaults,_netdev,"
				     "fsname=coord,dataDir=/b",
				 err, sizeof(err)),
	       0);
	TAP_EQ(c.client_port, 0);
	TAP_STREQ(c.data_dir, "/b");
	TAP_STREQ(c.fuse_opts, "allow_other,fsname=coord");
	TAP_STREQ(config_get(&c, "dataDir"), "/b");
	TAP_EQ(config_apply_opts(&c, "clientMaxWatches=5,clientMaxOutstanding=7", err,
				 sizeof(err)),
	       0);
	TAP_EQ(c.client_max_watches, 5);
	TAP_EQ(c.client_max_outstanding, 7);
	TAP_EQ(config_apply_opts(&c, "clientMaxOutstanding=0", err, sizeof(err)), -EINVAL);
	/* The continuous archive (quorumfs.conf(5)): 5000 ms unless set. */
	TAP_EQ(c.archive_interval_ms, 5000);
	TAP_ASSERT(c.archive_dir == NULL);
	TAP_EQ(config_apply_opts(&c, "archiveDir=/arch,archiveInterval=250", err,
				 sizeof(err)),
	       0);
	TAP_STREQ(c.archive_dir, "/arch");
	TAP_EQ(c.archive_interval_ms, 250);
	TAP_EQ(config_apply_opts(&c, "archiveInterval=5", err, sizeof(err)), -EINVAL);
	config_free(&c);
	unlink(cfg_path);
}

static void test_errors_name_the_line(void)
{
	struct qfs_config c;
	char err[256] = "";

	write_cfg("dataDir=/a\n\nclientPort=99999\n");
	config_init(&c);
	TAP_EQ(config_load_file(&c, cfg_path, err, sizeof(err)), -EINVAL);
	TAP_ASSERT(strstr(err, ":3:") && strstr(err, "clientPort"));
	config_free(&c);
	unlink(cfg_path);

	write_cfg("dataDir\n");
	config_init(&c);
	TAP_EQ(config_load_file(&c, cfg_path, err, sizeof(err)), -EINVAL);
	TAP_ASSERT(strstr(err, ":1:") && strstr(err, "KEY=VALUE"));
	config_free(&c);
	unlink(cfg_path);

	write_cfg("server.1=host:notaport:3888\n");
	config_init(&c);
	TAP_EQ(config_load_file(&c, cfg_path, err, sizeof(err)), -EINVAL);
	printf("# %s\n", err);
	TAP_ASSERT(strstr(err, ":1:") &&
		   strstr(err, "peer port 'notaport' is not a number from 1 to 65535"));
	config_free(&c);
	unlink(cfg_path);

	/* Each mistake named, not "bad port" for all of them. */
	{
		static const struct {
			const char *line, *says;
		} bad[] = {
		    {"server.1=::1:2888:3888\n", "IPv6 address goes in brackets"},
		    {"server.1=[::1:2888:3888\n", "'[' without its ']'"},
		    {"server.1=h:2888:3888:leader\n", "role 'leader'"},
		    {"server.1=h:2888\n", "expected host:peerPort:electionPort"},
		    {"server.1=h:2888:0\n", "election port '0'"},
		    {"server.1=h:1:2;::1:2181\n", "IPv6 address goes in brackets"},
		    {"server.1=h:1:2;h:70000\n", "client port '70000'"},
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			write_cfg(bad[i].line);
			config_init(&c);
			TAP_EQ(config_load_file(&c, cfg_path, err, sizeof(err)), -EINVAL);
			printf("# %s\n", err);
			TAP_ASSERT(strstr(err, bad[i].says) != NULL);
			config_free(&c);
			unlink(cfg_path);
		}
	}

	config_init(&c);
	TAP_EQ(config_apply_opts(&c, "bogus", err, sizeof(err)), -EINVAL);
	TAP_EQ(config_finish(&c, err, sizeof(err)), -EINVAL); /* no dataDir */
	TAP_ASSERT(strstr(err, "dataDir"));
	TAP_EQ(config_apply_opts(&c, "dataDir=/x,minSessionTimeout=5000,"
				     "maxSessionTimeout=4000",
				 err, sizeof(err)),
	       0);
	TAP_EQ(config_finish(&c, err, sizeof(err)), -EINVAL);
	config_free(&c);
}

static void test_unknown_key_is_kept(void)
{
	struct qfs_config c;
	char err[256] = "";

	config_init(&c);
	TAP_EQ(config_apply_opts(&c, "dataDir=/x,fancyNewKey=1", err, sizeof(err)), 0);
	TAP_STREQ(config_get(&c, "fancyNewKey"), "1");
	TAP_EQ(config_finish(&c, err, sizeof(err)), 0);
	config_free(&c);
}

/* Secret keys are marked once (config.c's table); unknown keys named like a
 * password count too; a malformed secret is not echoed in the message. */
static void test_secrets(void)
{
	static const char *const secret[] = {"mountAuth", "superDigest", "saslUsers",
					     "ssl.keyStore.password",
					     "ssl.quorum.trustStore.password", "mySecretKey"};
	static const char *const plain[] = {"dataDir", "clientPort", "tickTime",
					    "4lw.commands.whitelist", "clientPortAddress"};
	struct qfs_config c;
	char err[256] = "";

	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		TAP_ASSERT(config_key_is_secret(secret[i]));
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		TAP_ASSERT(!config_key_is_secret(plain[i]));
	config_init(&c);
	TAP_EQ(config_apply_opts(&c, "mountAuth=digest:u:pw-XYZZY", err, sizeof(err)), 0);
	TAP_STREQ(c.mount_auth, "digest:u:pw-XYZZY"); /* kept for use, not shown */
	config_free(&c);
}

static void test_myid_file(void)
{
	struct qfs_config c;
	char err[256] = "", dir[] = "/tmp/qfs-myid.XXXXXX", path[64], opt[96];
	FILE *f;

	TAP_ASSERT(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/myid", dir);
	config_init(&c);
	snprintf(opt, sizeof(opt), "dataDir=%s,server.3=a:1:2", dir);
	TAP_EQ(config_apply_opts(&c, opt, err, sizeof(err)), 0);
	TAP_EQ(config_finish(&c, err, sizeof(err)), -EINVAL);
	TAP_ASSERT(strstr(err, "myid"));
	f = fopen(path, "w");
	TAP_ASSERT(f);
	fputs("3\n", f);
	fclose(f);
	TAP_EQ(config_finish(&c, err, sizeof(err)), 0);
	TAP_EQ(c.myid, 3);
	config_free(&c);
	unlink(path);
	rmdir(dir);
}

/* dataDir/zoo.cfg.dynamic (written by a reconfig) replaces zoo.cfg's
 * server lines at start; dynamicConfigFile does before it exists. */
static void test_dynamic(void)
{
	struct qfs_config c;
	char err[256] = "", dir[] = "/tmp/qfs-dyn.XXXXXX", path[96], side[96], opt[256];
	FILE *f;

	TAP_ASSERT(mkdtemp(dir));
	snprintf(side, sizeof(side), "%s/side.cfg", dir);
	f = fopen(side, "w");
	TAP_ASSERT(f);
	fputs("server.1=a:1:2;3\nserver.2=b:1:2:observer;3\nversion=0\n", f);
	fclose(f);
	config_init(&c);
	snprintf(opt, sizeof(opt),
		 "dataDir=%s,myid=1,server.1=x:1:2,reconfigEnabled=true,dynamicConfigFile=%s",
		 dir, side);
	TAP_EQ(config_apply_opts(&c, opt, err, sizeof(err)), 0);
	TAP_EQ(c.reconfig_enabled, 1);
	TAP_EQ(config_finish(&c, err, sizeof(err)), 0);
	TAP_EQ(c.n_servers, 2); /* dynamicConfigFile's */
	TAP_STREQ(c.servers[0].host, "a");
	TAP_EQ(c.servers[1].observer, 1);
	config_free(&c);

	snprintf(path, sizeof(path), "%s/zoo.cfg.dynamic", dir);
	f = fopen(path, "w");
	TAP_ASSERT(f);
	fputs("server.1=a:1:2:participant;127.0.0.1:3\nserver.2=b:1:2:participant;3\n"
	      "server.4=d:5:6:participant;127.0.0.1:7\nversion=100000004\n",
	      f);
	fclose(f);
	config_init(&c);
	TAP_EQ(config_apply_opts(&c, opt, err, sizeof(err)), 0);
	TAP_EQ(config_finish(&c, err, sizeof(err)), 0);
	TAP_EQ(c.n_servers, 3); /* zoo.cfg.dynamic wins */
	TAP_EQ(c.servers[1].observer, 0);
	TAP_EQ(c.servers[2].id, 4);
	TAP_EQ(c.servers[2].peer_port, 5);
	TAP_STREQ(c.servers_from, path);
	config_free(&c);

	/* A bad line there stops the start, naming the file and line. */
	f = fopen(path, "w");
	TAP_ASSERT(f);
	fputs("server.1=a:1:2\nserver.2=b:x:2\n", f);
	fclose(f);
	config_init(&c);
	TAP_EQ(config_apply_opts(&c, opt, err, sizeof(err)), 0);
	TAP_EQ(config_finish(&c, err, sizeof(err)), -EINVAL);
	TAP_ASSERT(strstr(err, "zoo.cfg.dynamic:2"));
	config_free(&c);
	unlink(path);
	unlink(side);
	rmdir(dir);
}

/* zoo.cfg.dynamic's group/weight lines replace zoo.cfg's (a reconfig may
 * have moved the groups, or named servers zoo.cfg's groups do not). */
static void test_dynamic_groups(void)
{
	struct qfs_config c;
	char err[256] = "", dir[] = "/tmp/qfs-dyn.XXXXXX", path[96], opt[256];
	FILE *f;

	TAP_ASSERT(mkdtemp(dir));
	snprintf(opt, sizeof(opt),
		 "dataDir=%s,myid=1,server.1=a:1:2,server.2=b:1:2,server.3=c:1:2,"
		 "group.1=1:2,group.2=3",
		 dir);
	config_init(&c);
	TAP_EQ(config_apply_opts(&c, opt, err, sizeof(err)), 0);
	TAP_EQ(config_finish(&c, err, sizeof(err)), 0);
	TAP_EQ(c.quorum_kind, 2);
	TAP_EQ(c.servers[2].group, 2);
	config_free(&c);

	snprintf(path, sizeof(path), "%s/zoo.cfg.dynamic", dir);
	f = fopen(path, "w");
	TAP_ASSERT(f);
	fputs("server.1=a:1:2:participant;3\nserver.2=b:1:2:participant;3\n"
	      "server.4=d:1:2:participant;3\ngroup.1=1\ngroup.2=2:4\n"
	      "weight.1=1\nweight.2=1\nweight.4=3\nversion=100000004\n",
	      f);
	fclose(f);
	config_init(&c);
	TAP_EQ(config_apply_opts(&c, opt, err, sizeof(err)), 0);
	TAP_EQ(config_finish(&c, err, sizeof(err)), 0);
	TAP_EQ(c.quorum_kind, 2);
	TAP_EQ(c.n_servers, 3);
	TAP_EQ(c.servers[0].group, 1);
	TAP_EQ(c.servers[1].group, 2);
	TAP_EQ(c.servers[2].id, 4);
	TAP_EQ(c.servers[2].group, 2);
	TAP_EQ(c.servers[2].weight, 3);
	config_free(&c);

	/* None there: a majority, whatever zoo.cfg's groups said. */
	f = fopen(path, "w");
	TAP_ASSERT(f);
	fputs("server.1=a:1:2\nserver.2=b:1:2\nserver.4=d:1:2\nversion=100000005\n", f);
	fclose(f);
	config_init(&c);
	TAP_EQ(config_apply_opts(&c, opt, err, sizeof(err)), 0);
	TAP_EQ(config_finish(&c, err, sizeof(err)), 0);
	TAP_EQ(c.quorum_kind, 0);
	config_free(&c);
	unlink(path);
	rmdir(dir);
}

/* The AdminServer opens only when asked: enableServer=true, or a port
 * given without enableServer; enableServer=false wins over a port. */
static void test_admin_server(void)
{
	static const struct {
		const char *opts;
		int enabled, port;
	} t[] = {
	    {"dataDir=/tmp/x", 0, 8080},
	    {"dataDir=/tmp/x,admin.enableServer=true", 1, 8080},
	    {"dataDir=/tmp/x,admin.serverPort=9090", 1, 9090},
	    {"dataDir=/tmp/x,admin.serverPort=9090,admin.enableServer=false", 0, 9090},
	    {"dataDir=/tmp/x,admin.enableServer=no,admin.serverPort=9090", 0, 9090},
	};
	struct qfs_config c;
	char err[256] = "";

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		config_init(&c);
		TAP_EQ(config_apply_opts(&c, t[i].opts, err, sizeof(err)), 0);
		TAP_EQ(config_finish(&c, err, sizeof(err)), 0);
		TAP_EQ(c.admin_enabled, t[i].enabled);
		TAP_EQ(c.admin_port, t[i].port);
		config_free(&c);
	}
	config_init(&c);
	TAP_EQ(config_apply_opts(&c, "dataDir=/tmp/x,admin.commandURL=commands", err,
				 sizeof(err)),
	       0);
	TAP_EQ(config_finish(&c, err, sizeof(err)), -EINVAL);
	TAP_ASSERT(strstr(err, "admin.commandURL=commands") != NULL);
	config_free(&c);
	config_init(&c);
	TAP_EQ(config_apply_opts(&c, "admin.serverPort=0", err, sizeof(err)), -EINVAL);
	config_free(&c);
}

static const struct tap_case cases[] = {
	{"admin_server", test_admin_server},
	{"zoo_cfg", test_zoo_cfg},
	{"own_client_address", test_own_client_address},
	{"overrides_and_fuse_opts", test_overrides_and_fuse_opts},
	{"errors_name_the_line", test_errors_name_the_line},
	{"unknown_key_is_kept", test_unknown_key_is_kept},
	{"myid_file", test_myid_file},
	{"secrets", test_secrets},
	{"dynamic", test_dynamic},
	{"dynamic_groups", test_dynamic_groups},
};

TAP_MAIN(cases)
