#!/usr/bin/env python3
# bench/admin/fill.py base queues count: count pre-processed messages with
# content, straight on disk, over base/queue1..queueN made by queue-fix:
# mess/S/N (named by its inode, ~1 KB), info/S/N, remote/S/N with 1-3
# recipients over 50 domains and a retry time an hour ahead, and for every
# other message a defer/S/N status record (queue/status.h). No fsync: setup.
import os, sys, time
base, nq, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
split = int(os.environ.get("CONFSPLIT", "151"))
body = b"Subject: bench\n\n" + b"x" * 1000 + b"\n"
now = int(time.time())
later = now + 3600
for i in range(count):
    q = "%s/queue%d" % (base, i % nq + 1)
    tmp = "%s/pid/fill.%d" % (q, i)
    with open(tmp, "wb") as f:
        f.write(body)
        ino = os.fstat(f.fileno()).st_ino
    s = ino % split
    mess = "%s/mess/%d/%d" % (q, s, ino)
    os.rename(tmp, mess)
    born = now - (i * 7) % 90000
    os.utime(mess, (born, born))
    with open("%s/info/%d/%d" % (q, s, ino), "wb") as f:
        f.write(b"Fsender%d@src%d.example\0" % (i, i % 20))
    rc = [b"user%d@dom%d.example" % (i, (i + k) % 50) for k in range(1 + i % 3)]
    r = "%s/remote/%d/%d" % (q, s, ino)
    with open(r, "wb") as f:
        f.write(b"".join(b"T" + a + b"\0" for a in rc))
    os.utime(r, (later, later))
    if i % 2 == 0:
        with open("%s/defer/%d/%d" % (q, s, ino), "wb") as f:
            for a in rc:
                f.write(b"R%d %s\0Remote host said: 451 4.7.1 try again later\n\0" % (now - 60, a))
