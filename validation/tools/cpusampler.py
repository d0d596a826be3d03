"""Sample process CPU time and host CPU state from /proc once a second into a CSV.

    python -m tools.cpusampler --out cpu.csv [--interval 1] [--duration S] [--run-dir .state/run]

Processes: each name=pid given with --proc, plus, from the stack's pid files in --run-dir, api,
worker, redis, postgres. A process's CPU time is its utime+stime plus that of all its live
descendants plus its reaped children's (cutime+cstime), so the Postgres backends and uvicorn's
worker processes count with their parent. Columns:
  t_unix            wall clock (s)
  <name>_cpu_s      cumulative CPU seconds of the process tree
  cpuN_busy/steal/idle/iowait   share of the interval on CPU N (from /proc/stat)
  load1             1-minute load average
Stops on SIGTERM/SIGINT (the row being taken is finished) or after --duration.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time

TCK = os.sysconf("SC_CLK_TCK")


def read_stat(pid: int):
    """-> (ppid, utime+stime ticks, cutime+cstime ticks) or None."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            s = fh.read()
    except OSError:
        return None
    rest = s[s.rfind(")") + 2:].split()
    # rest[0] = state (field 3); utime = field 14 -> rest[11]
    return int(rest[1]), int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14])


def all_procs():
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = read_stat(int(d))
            if st:
                out[int(d)] = st
    return out


def tree_cpu(root: int, procs) -> float | None:
    if root not in procs:
        return None
    children = {}
    for pid, (ppid, _, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    total = procs[root][1] + procs[root][2]
    stack = list(children.get(root, []))
    while stack:
        p = stack.pop()
        total += procs[p][1]
        stack.extend(children.get(p, []))
    return total / TCK


def read_cpus():
    out = {}
    with open("/proc/stat") as fh:
        for line in fh:
            if line.startswith("cpu") and line[3].isdigit():
                f = line.split()
                v = [int(x) for x in f[1:9]]  # user nice system idle iowait irq softirq steal
                out[f[0]] = v
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.cpusampler")
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--duration", type=float, default=0.0, help="0 = until SIGTERM/SIGINT")
    ap.add_argument("--run-dir", default=os.path.join(os.environ.get("CAPSIM_STACK_STATE", ".state"), "run"))
    ap.add_argument("--proc", action="append", default=[], help="name=pid (repeatable)")
    args = ap.parse_args(argv)
    named = {}
    for name in ("api", "worker", "redis", "postgres"):
        f = os.path.join(args.run_dir, f"{name}.pid")
        try:
            named[name] = int(open(f).read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    for p in args.proc:
        k, _, v = p.partition("=")
        named[k] = int(v)
    stop = [False]

    def on_sig(*_):
        stop[0] = True

    signal.signal(signal.SIGTERM, on_sig)
    signal.signal(signal.SIGINT, on_sig)
    cpus0 = read_cpus()
    names = sorted(named)
    cpu_names = sorted(cpus0, key=lambda c: int(c[3:]))
    cols = ["t_unix"] + [f"{n}_cpu_s" for n in names]
    for c in cpu_names:
        cols += [f"{c}_busy", f"{c}_steal", f"{c}_idle", f"{c}_iowait"]
    cols.append("load1")
    t_end = time.time() + args.duration if args.duration > 0 else float("inf")
    with open(args.out, "w") as fh:
        fh.write(",".join(cols) + "\n")
        nxt = time.monotonic()
        while not stop[0] and time.time() < t_end:
            procs = all_procs()
            cpus = read_cpus()
            row = [f"{time.time():.3f}"]
            for n in names:
                v = tree_cpu(named[n], procs)
                row.append("" if v is None else f"{v:.2f}")
            for c in cpu_names:
                a, b = cpus0[c], cpus[c]
                d = [y - x for x, y in zip(a, b)]
                tot = sum(d)
                if tot == 0:  # first row: no interval yet
                    row += ["", "", "", ""]
                    continue
                busy = tot - d[3] - d[4] - d[7]
                row += [f"{busy / tot:.4f}", f"{d[7] / tot:.4f}", f"{d[3] / tot:.4f}", f"{d[4] / tot:.4f}"]
            row.append(open("/proc/loadavg").read().split()[0])
            fh.write(",".join(row) + "\n")
            fh.flush()
            cpus0 = cpus
            nxt += args.interval
            while not stop[0]:
                dt = nxt - time.monotonic()
                if dt <= 0:
                    break
                time.sleep(min(dt, 0.2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
