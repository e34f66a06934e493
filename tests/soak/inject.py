#!/usr/bin/python3
# tests/soak/inject.py: one soak injector (tests/soak/run starts 16).
#
#   inject.py smtp|inject ID LOG RATEFILE STOPFILE [PORT]
#
# Sends messages one after the other, each carrying a unique X-Token header
# (ID-SEQ), to 1 to 3 distinct recipients, each local (soak-K@soak.example)
# or remote (rK@sink.example) at random. "smtp" talks SMTP to 127.0.0.1:PORT
# (several messages per session); "inject" runs qmail-inject (from $SOAK_BIN)
# per message. RATEFILE holds the messages per second this injector aims at
# (re-read before every message; 0 pauses). A message that meets a temporary
# failure (SMTP 4xx, a broken connection, qmail-inject exit other than 0 and
# 100) is retried with the same token until it is accepted; once STOPFILE
# exists, the message in hand is still retried for up to 60 s, then given up.
#
# LOG gets one line per event, written and flushed as it happens:
#   A token time rcpt,rcpt,... tries   accepted (250 to the dot, or exit 0)
#   R token time rcpt,... code         refused for good (5xx, exit 100)
#   T token time code                  a temporary failure (retried)
#   G token time rcpt,...              given up after STOPFILE
#   S token time rcpt,...              about to be sent (first try)
import os
import random
import smtplib
import socket
import subprocess
import sys
import time

LOCAL, REMOTE, SENDER = "soak.example", "sink.example", "soak-bounces@soak.example"


def size_of(rng):
    r = rng.random()
    if r < 0.90:
        return rng.randint(500, 3000)
    if r < 0.99:
        return rng.randint(20000, 100000)
    return rng.randint(300000, 1000000)


def message(token, rcpts, size):
    head = ("From: soak injector <%s>\nTo: %s\nSubject: soak %s\nX-Token: %s\n\n"
            % (SENDER, ", ".join(rcpts), token, token))
    line = ("%s " % token) * 8
    body, n = [], 0
    while n < size:
        body.append(line)
        n += len(line) + 1
    return head + "\n".join(body) + "\n"


def recipients(rng):
    out = set()
    for _ in range(rng.randint(1, 3)):
        k = rng.randint(0, 9)
        out.add("soak-%d@%s" % (k, LOCAL) if rng.random() < 0.5 else "r%d@%s" % (k, REMOTE))
    return sorted(out)


class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1)

    def __call__(self, *words):
        self.f.write(" ".join(str(w) for w in words) + "\n")


class Smtp:
    """One SMTP session at a time; reconnects after any trouble."""

    def __init__(self, port):
        self.port, self.s, self.sent = port, None, 0

    def close(self):
        if self.s is not None:
            try:
                self.s.close()
            except Exception:
                pass
        self.s = None

    def send(self, rcpts, data):
        """(True, code) accepted, (False, code) refused for good, (None, code) retry."""
        try:
            if self.s is None or self.sent >= 20:
                if self.s is not None:
                    try:
                        self.s.quit()
                    except Exception:
                        pass
                self.close()
                self.s = smtplib.SMTP("127.0.0.1", self.port, local_hostname="injector.soak", timeout=120)
                self.s.ehlo("injector.soak")
                self.sent = 0
            code, _ = self.s.mail(SENDER)
            if code != 250:
                return self.failed(code)
            for r in rcpts:
                code, _ = self.s.rcpt(r)
                if code != 250:
                    return self.failed(code)
            code, _ = self.s.data(data.replace("\n", "\r\n").encode())
            self.sent += 1
            if code == 250:
                return True, code
            return self.failed(code)
        except (smtplib.SMTPException, OSError, socket.timeout) as e:
            self.close()
            return None, "conn:" + type(e).__name__

    def failed(self, code):
        try:
            self.s.rset()
        except Exception:
            self.close()
        if 500 <= code < 600:
            return False, code
        if code == 421:
            self.close()
        return None, code


def inject(binary, rcpts, data):
    try:
        p = subprocess.run([binary, "-f", SENDER] + rcpts, input=data.encode(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=180)
    except subprocess.TimeoutExpired:
        return None, "timeout"
    if p.returncode == 0:
        return True, 0
    if p.returncode == 100:
        return False, 100
    return None, p.returncode


def rate(path):
    try:
        with open(path) as f:
            return float(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0.0


def main():
    mode, ident, logpath, ratefile, stopfile = sys.argv[1:6]
    port = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    rng = random.Random("%s-%s-%s" % (ident, os.getpid(), time.time()))
    log = Log(logpath)
    smtp = Smtp(port) if mode == "smtp" else None
    qinject = os.path.join(os.environ.get("SOAK_BIN", "bin"), "qmail-inject")
    seq = 0
    next_at = time.monotonic()
    while not os.path.exists(stopfile):
        r = rate(ratefile)
        if r <= 0:
            time.sleep(0.2)
            next_at = time.monotonic()
            continue
        now = time.monotonic()
        if now < next_at:
            time.sleep(min(next_at - now, 0.5))
            continue
        next_at = max(next_at + 1.0 / r, now - 2.0)
        seq += 1
        token = "%s-%06d" % (ident, seq)
        rcpts = recipients(rng)
        data = message(token, rcpts, size_of(rng))
        log("S", token, "%.3f" % time.time(), ",".join(rcpts))
        tries, stop_seen = 0, None
        while True:
            tries += 1
            ok, code = smtp.send(rcpts, data) if smtp else inject(qinject, rcpts, data)
            if ok is True:
                log("A", token, "%.3f" % time.time(), ",".join(rcpts), tries)
                break
            if ok is False:
                log("R", token, "%.3f" % time.time(), ",".join(rcpts), code)
                break
            log("T", token, "%.3f" % time.time(), code)
            if os.path.exists(stopfile):
                stop_seen = stop_seen or time.monotonic()
                if time.monotonic() - stop_seen > 60:
                    log("G", token, "%.3f" % time.time(), ",".join(rcpts))
                    break
            time.sleep(0.5)
    if smtp and smtp.s is not None:
        try:
            smtp.s.quit()
        except Exception:
            pass
        smtp.close()


if __name__ == "__main__":
    main()
