#!/usr/bin/python3
"""chaos.py - real members, real clients, real faults, and a checker.

Starts an ensemble (quorumfs, or Apache ZooKeeper 3.8 for comparison), one
member per network namespace (netns.py), runs the workload (workload.py:
registers and appends through the ZooKeeper protocol) while a seeded nemesis
kills, pauses and partitions members (the leader alone, a minority, one way,
a bridge) and, through the LD_PRELOAD shim faultfs.so, slows or fails one
member's fsync or fills its disk; then heals everything, waits for the
members to agree and checks the history:

  linearizability of the registers (lincheck.py; reads after sync),
  the session guarantees for plain reads (checkers.sessions),
  no acknowledged append lost or duplicated (checkers.appends),
  convergence: every member's /chaos subtree identical.

With --mounts, mountload.py also runs on every member's FUSE mount under
the same nemeses (whole-file writes and synced or plain reads, mkdir locks
with a ledger, inotify streams), checked after healing by checkers.files,
mount_locks, ledger and inotify, and the mounts' views compared. --no-zk
leaves the ZooKeeper-protocol workload out; --mount-readonly-leader gives
the first leader's mount a reader only, --zk-readonly-leader its ZooKeeper
port the pinned reader only (the other clients connect elsewhere).

The schedule is printed as it runs; the same --seed replays it. Everything
started is stopped, and the namespaces are removed, whatever happens. Every
wait is bounded.

Usage: chaos.py --system quorumfs|zookeeper [--members 3] [--observers 0]
                [--seconds 60] [--minutes M] [--seed N] [--readers N]
                [--nemesis kill,pause,partition,isolate-leader,pause-leader,
                           oneway,bridge,slow-fsync,fail-fsync,full-disk,
                           members,transfer]
                [--out DIR] [--quorumfs PATH] [--mutant N]
                [--zk-readonly-leader]
                [--mounts [--no-zk] [--mount-readonly-leader]]
Each run ends with its summary and the anomalies found, each with the seed
that replays it; the last line is `chaos: N runs, N ops, N faults,
N anomalies`. --minutes M keeps starting runs (seed, seed+1, ...) for M
minutes.
Exit status: 0 no anomaly, 1 anomalies (listed), 2 a run itself failed
(an ensemble that did not recover, a workload that failed): its history is
still checked for what can be checked without the members.
"""
import argparse
import base64
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkers  # noqa: E402
import lincheck  # noqa: E402
import netns  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# The disk nemeses (quorumfs only: they need faultfs.so preloaded).
DISK = {"slow-fsync", "fail-fsync", "full-disk"}
ZK_JAR = "/usr/share/java/zookeeper.jar"
CLIENT_PORT = 2181
MOUNT_SESSION_MS = 4000
# The membership nemeses (quorumfs only: quorumctl against the ensemble):
# a voter demoted to observer and promoted back; the leadership handed on.
MEMBERSHIP = {"members", "transfer"}
SUPER = "super:qfs-chaos"
T0 = time.monotonic()


def say(msg):
    print("[%7.2f] %s" % (time.monotonic() - T0, msg), flush=True)


def four(ip, port, word, timeout=1.0):
    try:
        with socket.create_connection((ip, port), timeout=timeout) as s:
            s.sendall(word.encode())
            out = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                out += b
            return out.decode(errors="replace")
    except OSError:
        return ""


def wait_until(pred, seconds, step=0.1):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()



_ASAN_RT = {}


def asan_runtime(binary):
    """[path of the ASan runtime BINARY links], or [] (not a sanitizer build)."""
    if binary not in _ASAN_RT:
        _ASAN_RT[binary] = []
        try:
            out = subprocess.run(["ldd", binary], capture_output=True, text=True,
                                 timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        for line in out.splitlines():
            if "libasan" in line and "=>" in line:
                _ASAN_RT[binary] = [line.split("=>")[1].split()[0]]
    return _ASAN_RT[binary]


class Member:
    def __init__(self, run, i, observer):
        self.run = run
        self.i = i
        self.id = i + 1
        self.observer = observer
        self.ip = run.net.ips[i]
        self.dir = os.path.join(run.out, "m%d" % self.id)
        self.proc = None
        self.paused = False
        os.makedirs(self.dir, exist_ok=True)
        self.ctl = os.path.join(self.dir, "fault")
        self.disk_fault("")

    def disk_fault(self, what):
        """Start (slow-fsync MS, fail-fsync, enospc) or end ("") a disk
        fault on this member (faultfs.c reads the file on each write)."""
        with open(self.ctl + ".tmp", "w") as f:
            f.write(what)
        os.rename(self.ctl + ".tmp", self.ctl)

    def mode(self):
        for line in four(self.ip, CLIENT_PORT, "srvr").splitlines():
            if line.startswith("Mode:"):
                return line.split(":", 1)[1].strip()
        return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        log = open(os.path.join(self.dir, "server.log"), "a")
        cmd = self.run.net.prefix(self.i) + self.run.system.command(self)
        env = dict(os.environ)
        if self.run.faultfs:
            # The disk nemeses: faults switched through self.ctl (faultfs.c).
            # A sanitizer build refuses to start unless its runtime comes
            # first in the preload list.
            env["LD_PRELOAD"] = " ".join(
                asan_runtime(self.run.system.command(self)[0]) + [self.run.faultfs])
            env["QFS_FAULT_DIR"] = os.path.join(self.dir, "data")
            env["QFS_FAULT_CTL"] = self.ctl
        if self.run.args.mutant:
            # Honoured only by tests/chaos/quorumfs_mutant, a test build.
            env["QUORUMFS_MUTANT"] = str(self.run.args.mutant)
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=env)
        log.close()
        self.paused = False

    def kill(self):
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.run.system.after_kill(self)

    def stop(self):
        if not self.alive():
            return
        if self.paused:
            self.proc.send_signal(signal.SIGCONT)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=20)
        self.run.system.after_kill(self)

    def pause(self):
        if self.alive():
            self.proc.send_signal(signal.SIGSTOP)
            self.paused = True

    def resume(self):
        if self.alive() and self.paused:
            self.proc.send_signal(signal.SIGCONT)
        self.paused = False


class ZooKeeper:
    """Apache ZooKeeper 3.8 (Debian's package) as the system under test."""
    name = "zookeeper"

    def prepare(self, run):
        if not os.path.exists(ZK_JAR) or not shutil.which("java"):
            raise RuntimeError("Apache ZooKeeper (Debian package zookeeper) or java missing")
        for m in run.members:
            os.makedirs(os.path.join(m.dir, "data"), exist_ok=True)
            with open(os.path.join(m.dir, "data", "myid"), "w") as f:
                f.write("%d\n" % m.id)
            lines = ["tickTime=%d" % run.tick_ms, "initLimit=10", "syncLimit=5",
                     "dataDir=%s/data" % m.dir, "clientPort=%d" % CLIENT_PORT,
                     "clientPortAddress=%s" % m.ip, "maxClientCnxns=0",
                     "admin.enableServer=false", "4lw.commands.whitelist=*",
                     "standaloneEnabled=false", "reconfigEnabled=false"]
            for o in run.members:
                lines.append("server.%d=%s:2888:3888%s" % (
                    o.id, o.ip, ":observer" if o.observer else ""))
            if m.observer:
                lines.append("peerType=observer")
            with open(os.path.join(m.dir, "zoo.cfg"), "w") as f:
                f.write("\n".join(lines) + "\n")
            if os.path.exists("/etc/zookeeper/conf/log4j.properties"):
                shutil.copy("/etc/zookeeper/conf/log4j.properties", m.dir)

    def command(self, m):
        return ["java", "-Xmx256m", "-cp", "%s:%s:/usr/share/java/*" % (m.dir, ZK_JAR),
                "-Dzookeeper.log.dir=" + m.dir, "-Dzookeeper.root.logger=INFO,CONSOLE",
                "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                os.path.join(m.dir, "zoo.cfg")]

    def after_kill(self, m):
        pass


class Quorumfs:
    """quorumfs: each member mounts its tree under its directory."""
    name = "quorumfs"

    def __init__(self, binary):
        self.binary = binary

    def prepare(self, run):
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError("%s is not an executable" % self.binary)
        secret = os.path.join(run.out, "cluster.secret")
        with open(secret, "wb") as f:
            f.write(os.urandom(32).hex().encode())
        os.chmod(secret, 0o600)
        lines = ["tickTime=%d" % run.tick_ms, "initLimit=10", "syncLimit=5",
                 "clientPort=%d" % CLIENT_PORT, "4lw.commands.whitelist=*",
                 "clusterName=chaos", "clusterSecretFile=%s" % secret]
        if MEMBERSHIP & set(run.args.nemesis.split(",")):
            # quorumctl's reconfig needs the super user (ZooKeeper's rule).
            user, pw = SUPER.split(":")
            lines.append("reconfigEnabled=true")
            lines.append("superDigest=%s:%s" % (user, base64.b64encode(
                hashlib.sha1(SUPER.encode()).digest()).decode()))
        if run.args.mounts:
            # Short enough that a paused or cut-off lock holder loses its
            # mkdir lock within the nemesis's 2-8 s (checkers.mount_locks).
            lines.append("mountSessionTimeout=%d" % MOUNT_SESSION_MS)
        for o in run.members:
            lines.append("server.%d=%s:2888:3888:%s;%s:%d" % (
                o.id, o.ip, "observer" if o.observer else "participant", o.ip, CLIENT_PORT))
        for m in run.members:
            os.makedirs(os.path.join(m.dir, "data"), exist_ok=True)
            os.makedirs(os.path.join(m.dir, "mnt"), exist_ok=True)
            with open(os.path.join(m.dir, "zoo.cfg"), "w") as f:
                f.write("\n".join(lines) + "\n")

    def command(self, m):
        return [self.binary, "-f", "-o", "myid=%d,dataDir=%s/data" % (m.id, m.dir),
                os.path.join(m.dir, "zoo.cfg"), os.path.join(m.dir, "mnt")]

    def after_kill(self, m):
        # A killed daemon leaves its mount behind; the next start takes it
        # over, but the end of the run must not leave one.
        mnt = os.path.join(m.dir, "mnt")
        if is_mounted(mnt):
            subprocess.run(["fusermount3", "-u", "-z", mnt], capture_output=True)


def is_mounted(path):
    with open("/proc/mounts") as f:
        return any(line.split()[1] == path for line in f)


class Run:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.out = args.out or tempfile.mkdtemp(prefix="qfs-chaos.")
        self.tick_ms = 200 if args.system == "quorumfs" else 500
        n = args.members + args.observers
        self.net = netns.Net(n)
        self.members = []
        self.system = (ZooKeeper() if args.system == "zookeeper"
                       else Quorumfs(args.quorumfs))
        self.faults = []
        self.hits = []
        self.demoted = set()
        self.anomalies = []
        self.unchecked = 0
        self.faultfs = None
        if args.system == "quorumfs" and DISK & set(args.nemesis.split(",")):
            self.faultfs = os.path.abspath(args.faultfs)
            if not os.path.exists(self.faultfs):
                raise RuntimeError("%s is missing (make tests/chaos/faultfs.so)" %
                                   self.faultfs)

    def hosts(self, only=None):
        ms = self.members if only is None else [only]
        return ",".join("%s:%d" % (m.ip, CLIENT_PORT) for m in ms)

    def leader(self):
        for m in self.members:
            if m.alive() and not m.paused and m.mode() == "leader":
                return m
        return None

    def serving(self):
        return all(m.mode() in ("leader", "follower", "observer") for m in self.members)

    def setup(self):
        self.net.setup()
        n = self.args.members + self.args.observers
        self.members = [Member(self, i, i >= self.args.members) for i in range(n)]
        self.system.prepare(self)
        for m in self.members:
            m.start()
        if not wait_until(lambda: self.leader() is not None and self.serving(), 90, 0.25):
            raise RuntimeError("no leader with every member serving within 90 s")
        say("ensemble up: leader is member %d" % self.leader().id)

    def fault(self, desc, kind=None, members=()):
        """Record a fault; kind and members (ids) mark what it did to whom,
        for the lock checker (a holder whose member was hit may lose its
        lock)."""
        self.faults.append((time.monotonic() - T0, desc))
        for mid in members:
            self.hits.append({"start": time.monotonic(), "member": mid, "kind": kind})
        say("nemesis: " + desc)

    def nemesis_step(self, kinds):
        kind = self.rng.choice(kinds)
        voters = [m for m in self.members if not m.observer]
        if kind == "kill":
            lead = self.leader()
            m = lead if (lead and self.rng.random() < 0.5) else self.rng.choice(self.members)
            self.fault("kill -9 member %d%s" % (m.id, " (leader)" if m is lead else ""),
                       "kill", [m.id])
            m.kill()
            time.sleep(self.rng.uniform(1, 4))
            self.fault("restart member %d" % m.id)
            m.start()
        elif kind in ("pause", "pause-leader"):
            lead = self.leader()
            m = lead if (lead and (kind == "pause-leader" or self.rng.random() < 0.6)) \
                else self.rng.choice(self.members)
            secs = self.rng.uniform(2, 8)
            self.fault("SIGSTOP member %d%s for %.1f s" % (m.id, " (leader)" if m is lead else "",
                                                          secs), "pause", [m.id])
            m.pause()
            time.sleep(secs)
            self.fault("SIGCONT member %d" % m.id)
            m.resume()
        elif kind == "members":
            lead = self.leader()
            cands = [m for m in voters if m is not lead and m.alive()]
            if not lead or not cands:
                return
            m = self.rng.choice(cands)
            secs = self.rng.uniform(2, 6)
            rc, out = self.quorumctl("members", "demote", str(m.id))
            self.fault("members demote %d (%s) for %.1f s" % (m.id, out or rc, secs),
                       "members", [m.id])
            self.demoted.add(m)
            time.sleep(secs)
            self.promote(m)
        elif kind == "transfer":
            rc, out = self.quorumctl("leader", "transfer", "0")
            self.fault("leader transfer 0 (%s)" % (out or rc), "transfer",
                       [m.id for m in voters])
        elif kind in DISK:
            m = self.rng.choice(self.members)
            what = {"slow-fsync": "slow-fsync %d" % self.rng.choice([200, 1000, 3000]),
                    "fail-fsync": "fail-fsync", "full-disk": "enospc"}[kind]
            secs = self.rng.uniform(2, 6)
            self.fault("%s on member %d for %.1f s" % (what, m.id, secs), "disk", [m.id])
            m.disk_fault(what)
            time.sleep(secs)
            self.fault("disk of member %d healed" % m.id)
            m.disk_fault("")
        elif kind in ("partition", "isolate-leader", "oneway", "bridge"):
            lead = self.leader()
            shape = ("leader" if kind == "isolate-leader" else
                     kind if kind in ("oneway", "bridge") else
                     self.rng.choice(["minority", "leader", "bridge", "oneway"]))
            idx = list(range(len(self.members)))
            if shape == "leader" and lead:
                groups = [[lead.i], [i for i in idx if i != lead.i]]
                self.net.partition(groups)
            elif shape == "bridge" and len(voters) >= 3:
                # Two halves that each hear one member in the middle.
                self.rng.shuffle(idx)
                mid, a, b = idx[0], idx[1:1 + len(idx) // 2], idx[1 + len(idx) // 2:]
                self.net.heal()
                for i in a:
                    for j in b:
                        self.net.block(i, j)
                        self.net.block(j, i)
                groups = [a + [mid], [mid] + b]
            elif shape == "oneway":
                i, j = self.rng.sample(idx, 2)
                self.net.heal()
                self.net.block(i, j, both=False)
                groups = ["%d hears nothing from %d" % (i + 1, j + 1)]
            else:
                self.rng.shuffle(idx)
                k = (len(voters) - 1) // 2 or 1
                groups = [idx[:k], idx[k:]]
                self.net.partition(groups)
            # Whom it cut off: the smaller side; with a bridge or one way
            # cut, anyone (the lock checker may then excuse any holder).
            hit = ([i + 1 for i in groups[0]] if shape in ("leader", "minority")
                   else [m.id for m in self.members])
            self.fault("partition (%s): %s" % (shape, json.dumps(
                [[i + 1 for i in g] if isinstance(g, list) else g for g in groups])),
                "partition", hit)
            time.sleep(self.rng.uniform(3, 8))
            self.fault("heal")
            self.net.heal()

    def quorumctl(self, *args):
        """quorumctl against every member, bounded: (status, last line)."""
        env = dict(os.environ, QUORUMCTL_AUTH="digest:" + SUPER)
        try:
            p = subprocess.run([self.args.quorumctl, "-s", self.hosts()] + list(args),
                               capture_output=True, text=True, timeout=30, env=env)
        except subprocess.TimeoutExpired:
            return -1, "timed out"
        lines = (p.stdout + p.stderr).strip().splitlines()
        return p.returncode, (lines[-1][:80] if lines else "")

    def promote(self, m):
        rc, out = self.quorumctl("members", "promote", str(m.id))
        self.fault("members promote %d (%s)" % (m.id, out or rc))
        if rc == 0:
            self.demoted.discard(m)

    def heal_all(self):
        self.net.heal()
        for m in list(self.demoted):
            wait_until(lambda: self.leader() is not None, 60, 0.25)
            self.promote(m)
        for m in self.members:
            m.disk_fault("")
            m.resume()
            if not m.alive():
                self.fault("restart member %d (final heal)" % m.id, "kill", [m.id])
                m.start()
        if not wait_until(lambda: self.leader() is not None and self.serving(), 120, 0.25):
            self.diagnose()
            raise RuntimeError("the ensemble did not recover within 120 s of healing")

    def diagnose(self):
        """What each member says, and the stacks of those not serving."""
        for m in self.members:
            mode = m.mode()
            say("member %d: %s, pid %s, mode %r" % (
                m.id, "alive" if m.alive() else "dead", m.proc.pid if m.proc else "-",
                mode or "(no answer to srvr)"))
            if m.alive() and mode not in ("leader", "follower", "observer") and \
                    shutil.which("gdb"):
                path = os.path.join(m.dir, "stacks.txt")
                with open(path, "w") as f:
                    subprocess.run(["gdb", "-batch", "-p", str(m.proc.pid), "-ex",
                                    "thread apply all bt"], stdout=f,
                                   stderr=subprocess.STDOUT, timeout=60)
                say("member %d: stacks in %s" % (m.id, path))

    def tree(self, m):
        """/chaos on member m alone, after sync: {path: data}."""
        from kazoo.client import KazooClient
        zk = KazooClient(hosts=self.hosts(m), timeout=10)
        zk.start(timeout=30)
        try:
            zk.sync("/chaos")
            out = {}
            stack = ["/chaos"]
            while stack:
                p = stack.pop()
                data, st = zk.get(p)
                out[p] = (data.decode(errors="replace"), st.version)
                for c in zk.get_children(p):
                    stack.append(p + "/" + c)
            return out
        finally:
            zk.stop()
            zk.close()

    def check_history(self, history_path, seconds=None):
        """The checks that need only the history: linearizability of the
        registers (each searched at most `seconds`) and the session
        guarantees."""
        with open(history_path) as f:
            history = [json.loads(line) for line in f if line.strip()]
        with open(history_path) as f:
            ops = lincheck.load(f)
        t = time.monotonic()
        # The workload creates every register empty (version 0).
        for key, ok, info in lincheck.check(ops, "", seconds):
            if ok is None:
                self.unchecked += 1
                say("linearizability of %s not checked: %s" % (key, info))
            elif not ok:
                self.anomalies.append("not linearizable: %s\n%s" % (key, info))
        say("linearizability checked: %d operations in %.1f s" % (len(ops),
                                                                 time.monotonic() - t))
        self.anomalies += checkers.sessions(history)
        return history

    def check(self, history_path, seconds=None):
        history = self.check_history(history_path, seconds)
        trees = []
        for m in self.members:
            trees.append(self.tree(m))
        digests = [hashlib.sha256(json.dumps(t, sort_keys=True).encode()).hexdigest()[:16]
                   for t in trees]
        if len(set(digests)) != 1:
            self.anomalies.append("members disagree after healing: " + ", ".join(
                "member %d %s (%d nodes)" % (m.id, d, len(t))
                for m, d, t in zip(self.members, digests, trees)))
        found = {}
        for p, (data, _) in trees[0].items():
            if p.startswith("/chaos/q/"):
                found[data] = found.get(data, 0) + 1
        self.anomalies += checkers.appends(history, found)
        return history

    def mnt(self, m):
        return os.path.join(m.dir, "mnt")

    def check_mounts(self, mhist, ml):
        """After healing: the mount workload's history (mountload.py) and,
        through every member's mount caught up with fsync, the ledger and
        the files' versions; then every inotify watcher's stream."""
        if not wait_until(lambda: os.path.exists(mhist), 90 + self.args.seconds, 0.2):
            raise RuntimeError("the mount workload wrote no history")
        with open(mhist) as f:
            lines = [json.loads(ln) for ln in f if ln.strip()]
        meta, ops = lines[0], lines[1:]
        self.mount_ops = len(ops)
        self.anomalies += checkers.files(ops)
        anomalies, excused = checkers.mount_locks(ops, self.hits, MOUNT_SESSION_MS / 1000.0)
        self.anomalies += anomalies
        root = os.path.join(self.mnt(self.members[0]), "chaosfs")
        views = []
        for m in self.members:
            r = os.path.join(self.mnt(m), "chaosfs")
            fd = os.open(os.path.join(r, "ledger"), os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
            with open(os.path.join(r, "ledger")) as f:
                led = f.read()
            vers = {k: int(os.getxattr(os.path.join(r, "f", str(k)), "user.quorumfs.version"))
                    for k in range(meta["files"])}
            views.append((led, vers))
        if len(set(json.dumps(v, sort_keys=True) for v in views)) != 1:
            self.anomalies.append("the mounts disagree after healing: " + "; ".join(
                "member %d: %d ledger lines, versions %s" % (m.id, len(v[0].splitlines()),
                                                             v[1])
                for m, v in zip(self.members, views)))
        led, vers = views[0]
        with open(os.path.join(self.out, "ledger.final"), "w") as f:
            f.write(led)
        self.anomalies += checkers.ledger(ops, led.splitlines(), excused)
        committed = {k: vers[k] - meta["versions"][str(k)] for k in vers}
        killed = {h["member"] for h in self.hits if h["kind"] == "kill"}

        def counts(path):
            c = {}
            with open(path) as f:
                for ln in f:
                    ev, _, name = ln.strip().partition(" ")
                    if ev == "CLOSE_WRITE,CLOSE" and name.isdigit():
                        c[int(name)] = c.get(int(name), 0) + 1
            return c

        watched = []
        for m, path in zip(self.members, meta["watchers"]):
            if m.id in killed:
                continue  # its mount, and so its watcher, died with it
            notok, local = {}, {}
            for d in ops:
                if d["kind"] == "fwrite" and d["member"] == m.id:
                    local[d["key"]] = local.get(d["key"], 0) + 1
                    if d["status"] != "ok":
                        notok[d["key"]] = notok.get(d["key"], 0) + 1
            watched.append((m, path, notok, local))
        # Wait (bounded) until every watcher has what it must, then a little
        # longer so that an extra or late event shows too.
        wait_until(lambda: all(not checkers.inotify(counts(p), committed, n, lo)
                               for _, p, n, lo in watched), 30, 0.2)
        time.sleep(1)
        with open(mhist + ".stop", "w"):
            pass
        ml.wait(timeout=60)
        for m, path, notok, local in watched:
            self.anomalies += ["inotify on member %d: %s" % (m.id, a) for a in
                               checkers.inotify(counts(path), committed, notok, local)]
        say("mount workload checked: %d operations, %d files (%s changes), ledger of %d "
            "lines, %d watchers compared (%d died with their member)" % (
                len(ops), meta["files"], sum(committed.values()), len(led.splitlines()),
                len(watched), len(killed)))
        return ops

    def close(self):
        for m in self.members:
            try:
                m.stop()
            except Exception as e:  # noqa: BLE001 - keep cleaning up
                say("stopping member %d: %r" % (m.id, e))
        self.net.close()


def one_run(args, seed, out):
    """One seeded run: (status, operations, faults, anomalies). status is 0,
    1 (anomalies) or 2 (the run itself failed; anomalies already in the
    history are still reported: a member that aborts on a broken invariant
    must not hide what its clients saw)."""
    say("chaos: system %s, %d members + %d observers, %g s, seed %d (--seed %d replays "
        "the schedule), nemesis %s" % (args.system, args.members, args.observers,
                                       args.seconds, seed, seed, args.nemesis))
    args.seed = seed
    args.out = out
    run = Run(args)
    say("output in %s" % run.out)
    hist = os.path.join(run.out, "history.jsonl")
    readers = args.members + args.observers if args.readers < 0 else args.readers
    mhist = os.path.join(run.out, "mount-history.jsonl")
    ml = None
    rc = 0
    history = []
    try:
        run.setup()
        wl = None
        if not args.no_zk:
            cmd = ["/usr/bin/python3", os.path.join(HERE, "workload.py"),
                   run.hosts(), hist, "--clients", str(args.clients),
                   "--readers", str(readers),
                   "--seconds", str(args.seconds), "--seed", str(seed),
                   "--timeout-ms", str(run.tick_ms * 20)]
            if args.zk_readonly_leader:
                # As for the mounts below: a write pending on a cut-off
                # leader holds every later sync there back, so the first
                # leader serves its pinned reader alone.
                cmd += ["--avoid", str(run.members.index(run.leader()))]
            wl = subprocess.Popen(cmd)
        if args.mounts:
            cmd = ["/usr/bin/python3", os.path.join(HERE, "mountload.py"),
                   ",".join(run.mnt(m) for m in run.members), mhist,
                   "--seconds", str(args.seconds), "--seed", str(seed)]
            if args.mount_readonly_leader:
                # A mount whose member has a write pending answers fsync only
                # after it (one queue per member), so a cut-off member with
                # writers on its mount never serves a synced read: the
                # first leader's mount only reads, so that what it serves
                # when cut off is in the history.
                cmd += ["--readonly", str(run.leader().i)]
            ml = subprocess.Popen(cmd, start_new_session=True)
            # The nemesis starts once the watchers are in place.
            if not wait_until(lambda: os.path.exists(mhist + ".ready") or
                              ml.poll() is not None, 60, 0.1) or ml.poll() is not None:
                raise RuntimeError("the mount workload did not start")
        kinds = [k for k in args.nemesis.split(",") if k]
        end = time.monotonic() + args.seconds - 3
        time.sleep(2)
        while kinds and time.monotonic() < end and (wl or ml).poll() is None:
            run.nemesis_step(kinds)
            time.sleep(run.rng.uniform(1, 3))
        try:
            run.heal_all()
        finally:
            try:
                if wl:
                    wl.wait(timeout=args.seconds + 120)
            except subprocess.TimeoutExpired:
                wl.kill()
                wl.wait()
        if wl and wl.returncode != 0:
            raise RuntimeError("the workload failed (status %d)" % wl.returncode)
        if wl:
            history = run.check(hist, args.check_seconds)
        if ml:
            history += run.check_mounts(mhist, ml)
    except Exception as e:  # noqa: BLE001 - report, clean up, exit 2
        say("run failed: %r" % e)
        rc = 2
        if os.path.exists(hist) and not history:
            say("checking the history alone (no convergence or append checks)")
            try:
                history = run.check_history(hist, args.check_seconds)
            except Exception as e2:  # noqa: BLE001
                say("the history cannot be checked: %r" % e2)
    finally:
        if ml and ml.poll() is None:
            os.killpg(ml.pid, signal.SIGKILL)  # with its inotifywait watchers
            try:
                ml.wait(timeout=10)
            except subprocess.TimeoutExpired:
                # A thread in a request its mount never answers cannot
                # die before that mount's daemon does (once: three fsyncs
                # held for good, and this run with them until its timeout,
                # leaving the members running).
                say("the mount workload is stuck in a request to a mount; "
                    "stopping the members first")
        run.close()
        if ml and ml.poll() is None:
            try:
                ml.wait(timeout=30)
            except subprocess.TimeoutExpired:
                say("the mount workload (pid %d) outlived the members" % ml.pid)
        say("schedule was: " + "; ".join("%.1f %s" % f for f in run.faults))
    n_ok = sum(1 for d in history if d.get("status") == "ok")
    n_unk = sum(1 for d in history if d.get("status") == "unknown")
    say("summary (seed %d): %d operations (%d ok, %d unknown outcome), %d faults, "
        "%d anomalies%s" % (seed, len(history), n_ok, n_unk, len(run.faults),
                            len(run.anomalies),
                            ", %d keys not checked" % run.unchecked if run.unchecked else ""))
    for a in run.anomalies:
        print("ANOMALY (seed %d; --seed %d replays): %s" % (seed, seed, a))
    if run.anomalies:
        rc = 1
    return rc, len(history), len(run.faults), len(run.anomalies)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--system", choices=["quorumfs", "zookeeper"], default="quorumfs")
    ap.add_argument("--members", type=int, default=3)
    ap.add_argument("--observers", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=60,
                    help="workload seconds of each run")
    ap.add_argument("--minutes", type=float, default=0,
                    help="keep starting runs (seeds SEED, SEED+1, ...) until this "
                    "many minutes have passed; 0: one run")
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    ap.add_argument("--nemesis", default="kill,pause,partition")
    ap.add_argument("--clients", type=int, default=6)
    ap.add_argument("--readers", type=int, default=-1,
                    help="sync-then-read clients pinned to one member each "
                    "(default: one per member)")
    ap.add_argument("--check-seconds", type=float, default=300,
                    help="give up the linearizability search of one register after "
                    "this long (not an anomaly: reported as not checked)")
    ap.add_argument("--mounts", action="store_true",
                    help="also run the mount workload (mountload.py) on every "
                    "member's mount (quorumfs only)")
    ap.add_argument("--mount-readonly-leader", action="store_true",
                    help="the first leader's mount only reads (see one_run)")
    ap.add_argument("--zk-readonly-leader", action="store_true",
                    help="only the pinned reader uses the first leader's "
                    "ZooKeeper port (see one_run)")
    ap.add_argument("--no-zk", action="store_true",
                    help="no ZooKeeper-protocol workload (with --mounts: the mounts alone)")
    ap.add_argument("--out")
    ap.add_argument("--mutant", type=int, default=0,
                    help="plant engine bug N (cons.h) in a quorumfs_mutant build")
    ap.add_argument("--faultfs", default=os.path.join(
        os.environ.get("QFS_BUILDDIR", os.path.join(HERE, "..", "..", "build")),
        "tests", "chaos", "faultfs.so"), help="the disk nemeses' shim")
    ap.add_argument("--quorumctl", default=os.path.join(
        os.environ.get("QFS_BUILDDIR", os.path.join(HERE, "..", "..", "build")), "quorumctl"))
    ap.add_argument("--quorumfs", default=os.path.join(
        os.environ.get("QFS_BUILDDIR", os.path.join(HERE, "..", "..", "build")), "quorumfs"))
    args = ap.parse_args()
    base = args.out
    first = args.seed
    start = time.monotonic()
    runs = ops = faults = anomalies = 0
    worst = 0
    while True:
        seed = first + runs
        out = None
        if base:
            out = base if not args.minutes else os.path.join(base, "seed-%d" % seed)
            os.makedirs(out, exist_ok=True)
        rc, n_ops, n_faults, n_anom = one_run(args, seed, out)
        runs += 1
        ops += n_ops
        faults += n_faults
        anomalies += n_anom
        worst = 1 if (rc == 1 or worst == 1) else max(worst, rc)
        if time.monotonic() - start >= args.minutes * 60:
            break
    print("chaos: %d runs, %d ops, %d faults, %d anomalies" % (runs, ops, faults, anomalies),
          flush=True)
    return worst


def _stopped(signum, _frame):
    # A SIGTERM (timeout(1), a test runner) unwinds like an exception, so
    # the finally blocks stop the daemons, unmount and delete the
    # namespaces this run made, instead of leaving them behind.
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stopped)
    signal.signal(signal.SIGHUP, _stopped)
    sys.exit(main())
