#!/usr/bin/env python3
"""thread_slices.py [--set US] NAME=PID...: the scheduling slice (Linux 6.12
and later: sched_attr.sched_runtime of a fair-policy thread) of every thread
of each process, one line per process: NAME comm=slice_us ...

With --set US every thread of those processes is given that slice first,
as causeway-proxy's workers ask for one (--worker-slice-us): so a run can
show what the slice of the processes on the tunnel path does to its latency.
Python's os module has no sched_getattr/sched_setattr, hence ctypes.
"""
import argparse
import ctypes
import os
import platform
import sys

SYSCALLS = {"x86_64": (315, 314), "aarch64": (275, 274)}  # getattr, setattr


class SchedAttr(ctypes.Structure):
    _fields_ = [("size", ctypes.c_uint32), ("sched_policy", ctypes.c_uint32),
                ("sched_flags", ctypes.c_uint64), ("sched_nice", ctypes.c_int32),
                ("sched_priority", ctypes.c_uint32), ("sched_runtime", ctypes.c_uint64),
                ("sched_deadline", ctypes.c_uint64), ("sched_period", ctypes.c_uint64)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", type=int, metavar="US")
    ap.add_argument("procs", nargs="+", metavar="NAME=PID")
    o = ap.parse_args()
    if platform.machine() not in SYSCALLS:
        sys.exit(f"thread_slices.py: no sched_getattr number for {platform.machine()}")
    get_nr, set_nr = SYSCALLS[platform.machine()]
    libc = ctypes.CDLL(None, use_errno=True)
    for proc in o.procs:
        name, pid = proc.split("=")
        cells = []
        for tid in sorted(os.listdir(f"/proc/{pid}/task"), key=int):
            attr = SchedAttr()
            if libc.syscall(get_nr, int(tid), ctypes.byref(attr), ctypes.sizeof(attr), 0) != 0:
                continue  # the thread is gone
            if o.set is not None and attr.sched_policy in (0, 3) and attr.sched_runtime:
                attr.size, attr.sched_flags = ctypes.sizeof(attr), 0
                attr.sched_runtime = o.set * 1000
                if libc.syscall(set_nr, int(tid), ctypes.byref(attr), 0) != 0:
                    sys.exit(f"thread_slices.py: sched_setattr {tid}: {os.strerror(ctypes.get_errno())}")
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                comm = f.read().strip().replace(" ", "_")
            cells.append(f"{comm}={attr.sched_runtime // 1000}")
        print(name, " ".join(cells))


if __name__ == "__main__":
    main()
