#!/usr/bin/python3
# tests/soak/oracle.py RUNDIR MAILDIR SINKDIR REPORT: the soak's verdict.
#
# Reads what tests/soak/run left in RUNDIR (inj/*.log from the injectors,
# samples, kills, recover, events, checks, info, qscheduler.log), the
# messages in MAILDIR (local deliveries) and in SINKDIR (smtp-sink -d dumps:
# remote deliveries), and writes the summary to REPORT (Markdown) and to
# standard output. Exit 0 when every check passed, 1 otherwise.
#
# The unit of the oracle is a delivery: a (token, recipient) pair. A token
# is accepted when an injector saw 250 to its final dot or qmail-inject exit
# 0; each of its recipients must then get it at least once (else: lost).
# Copies beyond one are duplicates (at-least-once allows them after kills).
# A token refused for good (5xx, exit 100) must never be delivered.
import collections
import glob
import os
import re
import sys

TOKEN = re.compile(rb"^X-Token: (\S+)\s*$", re.M | re.I)
DELIVERED_TO = re.compile(rb"^Delivered-To: (\S+)\s*$", re.M | re.I)
RCPT_ARGS = re.compile(rb"^X-Rcpt-Args: <([^>]*)>", re.M | re.I)
BOUNCE_BOX = "soak-bounces@soak.example"


def header(path):
    """The header of a message file (up to the first empty line)."""
    with open(path, "rb") as f:
        data = f.read(65536)
    end = data.find(b"\n\n")
    return data if end < 0 else data[:end + 1]


def read_kv(path):
    out = {}
    if os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                out[k] = v
    return out


def lines(path):
    return [l.split() for l in open(path)] if os.path.exists(path) else []


def main():
    run, maildir, sinkdir, report = sys.argv[1:5]
    info = read_kv(os.path.join(run, "info"))
    t_start = float(info.get("start", 0))
    t_stop = float(info.get("inject_end", 0)) or t_start
    t_drained = float(info.get("drained", 0)) or t_stop
    checks = []  # (ok, name, detail)

    def check(ok, name, detail=""):
        checks.append((bool(ok), name, detail))

    # --- what the injectors did -------------------------------------------------
    sent, accepted, refused, given_up, tries = {}, {}, {}, {}, {}
    temps, temp_codes = [], collections.Counter()
    kinds = collections.Counter()
    for log in sorted(glob.glob(os.path.join(run, "inj", "*.log"))):
        kind = "smtp" if os.path.basename(log).startswith("s") else "qmail-inject"
        for w in lines(log):
            if not w:
                continue
            tag, tok = w[0], w[1]
            if tag == "S":
                sent[tok] = w[3].split(",")
                kinds[kind] += 1
            elif tag == "A":
                accepted[tok] = (float(w[2]), w[3].split(","))
                tries[tok] = int(w[4])
            elif tag == "R":
                refused[tok] = w[4]
            elif tag == "G":
                given_up[tok] = w[3].split(",")
            elif tag == "T":
                temps.append(float(w[2]))
                temp_codes[w[3]] += 1
    unresolved = [t for t in sent if t not in accepted and t not in refused and t not in given_up]

    # --- what arrived ---------------------------------------------------------------
    copies = collections.Counter()     # (token, rcpt) -> copies
    strays, bounces, untokened = [], 0, 0
    local_files = 0
    for d in ("new", "cur"):
        for f in glob.glob(os.path.join(maildir, d, "*")):
            local_files += 1
            h = header(f)
            dt = DELIVERED_TO.search(h)
            rcpt = dt.group(1).decode(errors="replace").lower() if dt else "?"
            if rcpt == BOUNCE_BOX:
                bounces += 1
                continue
            tok = TOKEN.search(h)
            if not tok:
                untokened += 1
                continue
            copies[(tok.group(1).decode(errors="replace"), rcpt)] += 1
    remote_files = 0
    for f in glob.glob(os.path.join(sinkdir, "**", "*"), recursive=True):
        if not os.path.isfile(f):
            continue
        remote_files += 1
        h = header(f)
        tok = TOKEN.search(h)
        if not tok:
            untokened += 1
            continue
        for r in RCPT_ARGS.findall(h):
            copies[(tok.group(1).decode(errors="replace"), r.decode(errors="replace").lower())] += 1

    delivered_tokens = {t for (t, _) in copies}
    for (t, r) in copies:
        if t not in sent or r not in sent[t]:
            strays.append("%s to %s" % (t, r))

    # --- the oracle -----------------------------------------------------------------
    pairs = [(t, r) for t, (_, rs) in accepted.items() for r in rs]
    lost = sorted("%s to %s" % p for p in pairs if copies[p] == 0)
    dups = sum(copies[p] - 1 for p in pairs if copies[p] > 1)
    dup_pairs = sum(1 for p in pairs if copies[p] > 1)
    refused_delivered = sorted(t for t in refused if t in delivered_tokens)
    gaveup_delivered = sorted(t for t in list(given_up) + unresolved if t in delivered_tokens)
    local_pairs = sum(1 for (_, r) in pairs if r.endswith("@soak.example"))

    check(len(accepted) > 0, "messages accepted", "%d" % len(accepted))
    check(not lost, "lost (accepted, never delivered) = 0",
          "%d: %s" % (len(lost), " ".join(lost[:50])) if lost else "0")
    check(not refused_delivered, "refused but delivered = 0",
          "%d: %s" % (len(refused_delivered), " ".join(refused_delivered[:50])) if refused_delivered else "0")
    check(not refused, "refused for good (5xx, exit 100) = 0",
          "%d: %s" % (len(refused), " ".join("%s(%s)" % kv for kv in list(refused.items())[:20])) if refused else "0")
    check(not strays, "deliveries of unknown tokens or to recipients not asked for = 0",
          "%d: %s" % (len(strays), " ".join(strays[:20])) if strays else "0")
    check(untokened == 0, "delivered messages without an X-Token = 0", "%d" % untokened)
    check(bounces == 0, "bounces = 0", "%d" % bounces)

    # --- kills, restarts, disk full --------------------------------------------------
    kills = lines(os.path.join(run, "kills"))          # K time queue prog pid
    recov = lines(os.path.join(run, "recover"))        # ok|FAIL time queue prog pid secs text
    events = read_kv(os.path.join(run, "events"))
    by_prog = collections.Counter(k[3] for k in kills)
    not_rec = [" ".join(r[2:]) for r in recov if r[0] != "ok"]
    # At-least-once allows a second copy only of what was in flight when a
    # daemon died: per kill at most a queue's deliveries in flight, local
    # (concurrencylocal, 10) plus remote (concurrencyremote, each delivery up
    # to 3 recipients of one message here).
    m = re.search(r"concurrencyremote (\d+)", info.get("mode", ""))
    per_kill = 10 + 3 * (int(m.group(1)) if m else 20)
    check(dups <= per_kill * len(kills), "duplicates <= what was in flight at the kills",
          "%d copies beyond one; bound %d (%d kills x %d)" % (dups, per_kill * len(kills), len(kills), per_kill))
    check(len(recov) == len(kills), "every kill followed up", "%d kills, %d follow-ups" % (len(kills), len(recov)))
    check(not not_rec, "every killed queue had all its daemons back",
          "; ".join(not_rec) if not_rec else "%d of %d" % (len(recov), len(kills)))
    rec_secs = sorted(float(r[5]) for r in recov if r[0] == "ok" and r[5] != "-")
    qlog = os.path.join(run, "qscheduler.log")
    restarts, crashes, adds, removes, alerts = [], [], [], [], collections.Counter()
    if os.path.exists(qlog):
        for line in open(qlog, errors="replace"):
            m = re.search(r"queue (\d+): qmail-start pid (\d+) (killed by signal (\d+)|exited (\d+)) after", line)
            if m:
                restarts.append(line.strip())
                if m.group(4) and m.group(4) != "9":
                    crashes.append(line.strip())
            if "adding it" in line:
                adds.append(line.strip())
            if "removed from service" in line:
                removes.append(line.strip())
            m = re.match(r"(alert|warning): (.{0,60})", line)
            if m:
                alerts[re.sub(r"\d+", "N", m.group(0))] += 1
    check(not crashes, "no daemon died of a signal we did not send",
          "; ".join(crashes[:10]) if crashes else "0")
    check(len(restarts) <= len(kills), "queue restarts <= kills",
          "%d restarts, %d kills" % (len(restarts), len(kills)))
    full = events.get("full_start")
    in_full = 0
    if full:
        fs, fe = float(full), float(events.get("full_end", full))
        in_full = sum(1 for t in temps if fs <= t <= fe + 5)

    # --- queues over time, resources ----------------------------------------------
    samples = lines(os.path.join(run, "samples"))
    qs = [(float(w[1]), int(w[2]), int(w[3]), int(w[4])) for w in samples if w[0] == "Q"]
    qin = [a + d for (t, a, d, s) in qs if t <= t_stop]
    qall = [a + d for (t, a, d, s) in qs]
    adds_in = sum(1 for _ in adds)  # qscheduler's log has no times: counted over the run
    prog = {}
    for w in samples:
        if w[0] != "P":
            continue
        t, name, n, hwm, rss, nfd = float(w[1]), w[2], int(w[3]), int(w[4]), int(w[5]), int(w[6])
        p = prog.setdefault(name, {"n": 0, "hwm": 0, "rss": 0, "fds": 0, "first": None, "last": None})
        p["n"], p["hwm"], p["rss"], p["fds"] = max(p["n"], n), max(p["hwm"], hwm), max(p["rss"], rss), max(p["fds"], nfd)
        if t >= t_start + 10 and p["first"] is None:
            p["first"] = (rss, nfd)
        if t <= t_drained:
            p["last"] = (rss, nfd)

    for c in lines(os.path.join(run, "checks")):      # from tests/soak/run: ok|FAIL name... -- detail
        text = " ".join(c[1:])
        name, _, detail = text.partition(" -- ")
        check(c[0] == "ok", name, detail)

    # --- the report ------------------------------------------------------------------
    inj_secs = max(t_stop - t_start, 1)
    total_deliveries = sum(copies.values())
    out = []
    w = out.append
    w("# qfleet soak report")
    w("")
    w("%s, %s, commit %s, %s" % (info.get("date", "?"), info.get("host", "?"), info.get("commit", "?"), info.get("mode", "")))
    w("")
    w("Injection %d s (SOAK_SECONDS), %d injectors (%s), drain %.0f s; machine load average at the end: %s." %
      (inj_secs, int(info.get("injectors", 16)), info.get("injector_mix", ""), t_drained - t_stop, info.get("loadavg", "?")))
    w("")
    w("| figure | value |")
    w("| --- | --- |")
    w("| messages attempted | %d (%s) |" % (len(sent), ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))
    w("| **accepted** | **%d** (%d deliveries asked for: %d local, %d remote) |" % (len(accepted), len(pairs), local_pairs, len(pairs) - local_pairs))
    w("| **delivered** (distinct token, recipient) | **%d** (%d distinct tokens; %d Maildir files, %d sink dumps) |" %
      (sum(1 for p in pairs if copies[p] > 0), len(delivered_tokens), local_files, remote_files))
    w("| **lost** | **%d** |" % len(lost))
    w("| **duplicated** (copies beyond one) | **%d** (on %d deliveries) |" % (dups, dup_pairs))
    w("| refused for good / refused but delivered | %d / %d |" % (len(refused), len(refused_delivered)))
    w("| given up at the stop, or cut off / of them delivered | %d / %d |" % (len(given_up) + len(unresolved), len(gaveup_delivered)))
    w("| temporary failures, retried | %d (%d in the disk-full window; by code: %s) |" %
      (len(temps), in_full, ", ".join("%s %d" % kv for kv in temp_codes.most_common(8)) or "-"))
    w("| messages accepted after a retry | %d |" % sum(1 for t in tries.values() if t > 1))
    w("| bounces, stray deliveries | %d, %d |" % (bounces, len(strays)))
    w("| throughput | %.1f accepted msg/s over the injection; %.1f deliveries/s until drained |" %
      (len(accepted) / inj_secs, total_deliveries / max(t_drained - t_start, 1)))
    w("| kills (kill -9, every %s s) | %d: %s |" % (info.get("kill_every", "30"), len(kills), ", ".join("%s %d" % kv for kv in sorted(by_prog.items())) or "-"))
    if rec_secs:
        w("| daemons all back after a kill | %d of %d; median %.1f s, max %.1f s |" %
          (len(rec_secs), len(kills), rec_secs[len(rec_secs) // 2], rec_secs[-1]))
    w("| queue restarts (qscheduler) | %d |" % len(restarts))
    w("| disk-full episode | %s |" % (("%.0f s from t=%.0f s, %s bytes filled; %s" %
                                         (float(events.get("full_end", 0)) - float(full), float(full) - t_start,
                                          events.get("full_bytes", "?"), events.get("full_df", ""))) if full else "none"))
    w("| queues running (active + draining) | during injection: min %s, max %s; whole run: min %s, max %s |" %
      (min(qin) if qin else "-", max(qin) if qin else "-", min(qall) if qall else "-", max(qall) if qall else "-"))
    w("| queues added / removed by qscheduler -d | %d / %d (injection phase: %s / %s) |" %
      (len(adds), len(removes), info.get("adds_during", "?"), info.get("removes_during", "?")))
    w("")
    w("Peak per program (every process of that name sampled once a second; RSS and VmHWM in kB):")
    w("")
    w("| program | most at once | peak VmHWM | peak VmRSS | peak fds | RSS, fds at t+10 s | RSS, fds when drained |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in sorted(prog):
        p = prog[name]
        f = "%d, %d" % p["first"] if p["first"] else "-"
        l = "%d, %d" % p["last"] if p["last"] else "-"
        w("| %s | %d | %d | %d | %d | %s | %s |" % (name, p["n"], p["hwm"], p["rss"], p["fds"], f, l))
    w("")
    if alerts:
        w("qmail-send alerts and warnings (numbers as N):")
        w("")
        for k, v in alerts.most_common(15):
            w("- %d x `%s`" % (v, k))
        w("")
    w("Checks:")
    w("")
    for ok, name, detail in checks:
        w("- %s %s%s" % ("ok  " if ok else "FAIL", name, (": " + detail) if detail else ""))
    failed = [c for c in checks if not c[0]]
    w("")
    w("Verdict: %s" % ("PASS" if not failed else "FAIL (%d checks)" % len(failed)))
    text = "\n".join(out) + "\n"
    with open(report, "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
