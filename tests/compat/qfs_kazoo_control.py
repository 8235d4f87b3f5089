"""pytest plugin: kazoo's cluster-control tests against a quorumfs ensemble.

kazoo's own harness stops and restarts members of the Java ensemble it runs
(ManagedZooKeeper.stop sends SIGTERM; run starts the server again and waits
for it). ../shared/compat/kazoo's external mode cannot, so it skips the
tests that need to: a client failing over when its server stops
(test_update_host_list), requests queued while the only server is down and
answered by the same session after it comes back
(test_request_queuing_session_recovered, ..._expired), and read-only mode
when the other two members stop (test_read_only). Those are what an
application leans on an ensemble for, so tests/compat/kazoo-ensemble.sh
runs them: it sets KAZOO_RUN_CLUSTER_CONTROL=1 (the shared plugin then does
not skip them up front) and loads this plugin (PYTEST_PLUGINS), which gives
the shared plugin's stand-in servers a real stop and run.

QFS_KAZOO_CONTROL is a command; "COMMAND stop N" and "COMMAND run N" stop
and start member N (kazoo's cluster[N - 1]) and return once it is stopped,
or serving as part of the ensemble. Nothing is patched without it.
"""
import os
import shlex
import subprocess

_CTL = shlex.split(os.environ.get("QFS_KAZOO_CONTROL", ""))


def _control(verb, server):
    r = subprocess.run(_CTL + [verb, str(server.server_id)], capture_output=True,
                       text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("%s of member %d failed: %s" % (
            verb, server.server_id, (r.stdout + r.stderr).strip()[-500:]))


def _stop(self):
    _control("stop", self)
    self.running = False


def _run(self):
    _control("run", self)
    self.running = True


def pytest_configure(config):
    if not _CTL:
        return
    import kazoo_external_plugin as ext
    ext.ExternalServer.stop = _stop
    ext.ExternalServer.run = _run
