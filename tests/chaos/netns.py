"""netns.py - the chaos harness's network: one namespace per member, joined
by veth pairs to a bridge that lives in a namespace of its own, plus one veth
from the harness's namespace so clients reach every member.

    harness ns --veth-- [switch ns: bridge] --veth-- member ns 1 (eth0 10.R.0.1)
                                          \\--veth-- member ns 2 (eth0 10.R.0.2) ...

R is chosen per run, so nothing outside 10.R.0.0/24 is touched, and the
addresses are ours. Faults are iptables rules inside a member's namespace
(this kernel has no netem): a partition drops a peer's packets both ways, a
one-way partition only inbound. Everything created is listed and removed by
close(), also after a failure (the harness calls it from a finally block).

Processes run in a member's network namespace through nsenter --net, which
keeps the mount namespace, so a FUSE mount made there is visible here.
"""
import os
import subprocess


def sh(*args, check=True):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(args), r.stderr.strip()))
    return r


class Net:
    def __init__(self, n):
        self.r = 100 + os.getpid() % 100
        self.tag = "qc%d" % os.getpid()
        self.switch = self.tag + "s"
        self.names = []
        self.links = []
        self.n = n
        self.ips = ["10.%d.0.%d" % (self.r, i + 1) for i in range(n)]
        self.harness_ip = "10.%d.0.254" % self.r
        self.rules = {}

    def ns(self, i):
        return "%s-%d" % (self.tag, i)

    def setup(self):
        if sh("iptables", "--version", check=False).returncode != 0:
            raise RuntimeError("iptables is missing (apt-get install iptables)")
        sh("ip", "netns", "add", self.switch)
        self.names.append(self.switch)
        sh("ip", "-n", self.switch, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.switch, "link", "set", "br0", "up")
        # The harness's own leg.
        h_out, h_in = "%sh" % self.tag, "%sH" % self.tag
        sh("ip", "link", "add", h_out, "type", "veth", "peer", "name", h_in)
        self.links.append(h_out)
        sh("ip", "link", "set", h_in, "netns", self.switch)
        sh("ip", "-n", self.switch, "link", "set", h_in, "master", "br0", "up")
        sh("ip", "addr", "add", self.harness_ip + "/24", "dev", h_out)
        sh("ip", "link", "set", h_out, "up")
        for i in range(self.n):
            ns = self.ns(i)
            sh("ip", "netns", "add", ns)
            self.names.append(ns)
            a, b = "%sa%d" % (self.tag, i), "%sb%d" % (self.tag, i)
            sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
            sh("ip", "link", "set", a, "netns", self.switch)
            sh("ip", "-n", self.switch, "link", "set", a, "master", "br0", "up")
            sh("ip", "link", "set", b, "netns", ns)
            sh("ip", "-n", ns, "link", "set", b, "name", "eth0")
            sh("ip", "-n", ns, "addr", "add", self.ips[i] + "/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            self.rules[i] = set()

    def prefix(self, i):
        """The command prefix that runs a program in member i's network."""
        return ["nsenter", "--net=/run/netns/" + self.ns(i), "--"]

    def _ipt(self, i, *args):
        sh("ip", "netns", "exec", self.ns(i), "iptables", *args)

    def block(self, i, j, both=True):
        """Member i stops hearing from j (and, with both, sending to it)."""
        if (j, both) in self.rules[i]:
            return
        self._ipt(i, "-A", "INPUT", "-s", self.ips[j], "-j", "DROP")
        if both:
            self._ipt(i, "-A", "OUTPUT", "-d", self.ips[j], "-j", "DROP")
        self.rules[i].add((j, both))

    def partition(self, groups):
        """Cut the members into groups that hear only each other."""
        self.heal()
        for g in groups:
            for h in groups:
                if g is h:
                    continue
                for i in g:
                    for j in h:
                        self.block(i, j)

    def heal(self):
        for i in range(self.n):
            if self.rules.get(i):
                self._ipt(i, "-F", "INPUT")
                self._ipt(i, "-F", "OUTPUT")
                self.rules[i] = set()

    def close(self):
        for link in self.links:
            sh("ip", "link", "del", link, check=False)
        for ns in reversed(self.names):
            sh("ip", "netns", "del", ns, check=False)
        self.names = []
        self.links = []
