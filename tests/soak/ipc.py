#!/usr/bin/python3
# tests/soak/ipc.py list|remove BASE: the POSIX IPC objects of the qfleet
# instance whose queue base is BASE (multi-queue(7): /qfleet1.HASH, the
# shared memory, and /qfleet1.HASH.qN, the message queues, HASH the 64-bit
# FNV-1a of BASE's real path). "list" prints the names that exist, one a
# line; "remove" removes them and prints what it removed. Nothing of another
# instance is touched.
import ctypes
import ctypes.util
import os
import sys


def prefix(base):
    h = 14695981039346656037
    for c in os.path.realpath(base).encode():
        h ^= c
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return "/qfleet1.%016x" % h


def main():
    what, base = sys.argv[1:3]
    p = prefix(base)
    rt = ctypes.CDLL(ctypes.util.find_library("rt") or "librt.so.1", use_errno=True)
    rt.mq_open.restype = ctypes.c_int
    rt.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int]
    found = []
    if os.path.exists("/dev/shm" + p):
        found.append(("shm", p))
    for n in range(1, 65):
        name = "%s.q%d" % (p, n)
        fd = rt.mq_open(name.encode(), os.O_RDONLY)
        if fd >= 0:
            rt.mq_close(fd)
            found.append(("mq", name))
    for kind, name in found:
        if what == "remove":
            if kind == "shm":
                os.unlink("/dev/shm" + name)
            else:
                rt.mq_unlink(name.encode())
        print("%s %s" % (kind, name))


if __name__ == "__main__":
    main()
