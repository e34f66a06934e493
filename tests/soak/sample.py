#!/usr/bin/python3
# tests/soak/sample.py BIN MARKER OUT STOPFILE QSCHEDULER-ENV...
#
# Once a second, until STOPFILE exists: every process whose executable is in
# BIN and whose environment mentions MARKER (the soak's scratch directory),
# by program name: how many run, and the largest VmHWM, VmRSS (kB) and
# number of open fds among them; and the queues qscheduler -l lists, by
# state. Appends to OUT, one line per sample and program:
#   P time program count max-vmhwm max-vmrss max-fds
#   Q time active draining starting stopped
# (run as root: other users' /proc/PID/environ and fd are not readable else).
import os
import subprocess
import sys
import time


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def status_kb(text, field):
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def sample(bindir, marker):
    progs = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            exe = os.readlink("/proc/%s/exe" % pid)
        except OSError:
            continue
        if os.path.dirname(exe) != bindir:
            continue
        env = read("/proc/%s/environ" % pid)
        if env is None or marker not in env:
            continue
        st = read("/proc/%s/status" % pid)
        if st is None:
            continue
        st = st.decode(errors="replace")
        if "State:\tZ" in st:
            continue
        try:
            fds = len(os.listdir("/proc/%s/fd" % pid))
        except OSError:
            continue
        name = os.path.basename(exe)
        n, hwm, rss, nfd = progs.get(name, (0, 0, 0, 0))
        progs[name] = (n + 1, max(hwm, status_kb(st, "VmHWM")), max(rss, status_kb(st, "VmRSS")), max(nfd, fds))
    return progs


def queues(bindir, env):
    counts = {"active": 0, "draining": 0, "starting": 0, "stopped": 0}
    try:
        out = subprocess.run([os.path.join(bindir, "qscheduler"), "-l"], env=env, capture_output=True,
                             timeout=5).stdout.decode(errors="replace")
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        w = line.split()
        if len(w) > 1 and w[0].isdigit() and w[1] in counts:
            counts[w[1]] += 1
    return counts


def main():
    bindir, marker, out, stopfile = sys.argv[1:5]
    bindir = os.path.realpath(bindir)
    env = dict(os.environ)
    for kv in sys.argv[5:]:
        k, v = kv.split("=", 1)
        env[k] = v
    marker = marker.encode()
    with open(out, "a", buffering=1) as f:
        nxt = time.monotonic()
        while not os.path.exists(stopfile):
            t = "%.0f" % time.time()
            for name, (n, hwm, rss, nfd) in sorted(sample(bindir, marker).items()):
                f.write("P %s %s %d %d %d %d\n" % (t, name, n, hwm, rss, nfd))
            q = queues(bindir, env)
            if q is not None:
                f.write("Q %s %d %d %d %d\n" % (t, q["active"], q["draining"], q["starting"], q["stopped"]))
            nxt += 1.0
            time.sleep(max(0.05, nxt - time.monotonic()))


if __name__ == "__main__":
    main()
