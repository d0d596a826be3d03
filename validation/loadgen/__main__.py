"""Open-loop load generator for the validation stack.

    python -m loadgen --rate 50 --duration 30 --mix read=0.7,write=0.2,enqueue=0.1 --out DIR --seed 1
    python -m loadgen --profile step:0=50,10=100,20=150 --duration 30 --out DIR
    python -m loadgen --profile spike:base=60,mult=3,at=10,len=5 --duration 30 --out DIR

Arrivals are Poisson (piecewise-constant rate), drawn in advance from a seeded RNG as absolute send
times; a request is sent at its time whether or not earlier ones have answered (open loop). Every
request is recorded (requests.csv.gz: scheduled and actual send time, latency, status, class), and
summary.json holds the achieved vs asked rate, send lateness and per-class latency statistics.
Timing: the event loop (uvloop) wakes with millisecond timer resolution; what is due is sent at
once, so send lateness is typically < 1-2 ms: it is measured and reported, not assumed.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import gzip
import json
import math
import os
import random
import sys
import time

import aiohttp

CLASSES = {
    # name: (method, route template, path maker)
    "read": ("GET", "/items/{id}"),
    "write": ("POST", "/items"),
    "enqueue": ("POST", "/jobs"),
    # no work and no spans: the round trip of the HTTP path alone
    "noop": ("GET", "/noop"),
}


def parse_mix(s: str) -> dict[str, float]:
    mix = {}
    for part in s.split(","):
        k, v = part.split("=")
        k = k.strip()
        if k not in CLASSES:
            raise SystemExit(f"loadgen: unknown class {k!r} in --mix (known: {', '.join(CLASSES)})")
        mix[k] = float(v)
    tot = sum(mix.values())
    if tot <= 0:
        raise SystemExit("loadgen: --mix sums to 0")
    return {k: v / tot for k, v in mix.items()}


def parse_profile(spec: str | None, rate: float | None, duration: float) -> list[tuple[float, float]]:
    """-> [(start_s, rate)] piecewise-constant, sorted, starting at 0."""
    if not spec or spec == "constant":
        if rate is None:
            raise SystemExit("loadgen: give --rate or --profile")
        return [(0.0, rate)]
    kind, _, args = spec.partition(":")
    kv = {}
    for part in filter(None, args.split(",")):
        k, _, v = part.partition("=")
        kv[k.strip()] = float(v)
    if kind == "step":
        steps = sorted(kv.items(), key=lambda p: float(p[0]))
        prof = [(float(t), r) for t, r in steps]
        if not prof or prof[0][0] > 0:
            prof.insert(0, (0.0, rate or 0.0))
        return prof
    if kind == "spike":
        base, mult = kv.get("base", rate or 0.0), kv.get("mult", 2.0)
        at, ln = kv.get("at", duration / 3), kv.get("len", duration / 6)
        return [(0.0, base), (at, base * mult), (at + ln, base)]
    raise SystemExit(f"loadgen: unknown profile {spec!r} (constant | step:T=R,... | spike:base=,mult=,at=,len=)")


def draw_arrivals(profile, duration, mix, seed, items, hot, hot_ratio):
    """Absolute send times (s from start), class and item id of every request, in advance."""
    rng = random.Random(seed)
    names = list(mix)
    cum = []
    c = 0.0
    for n in names:
        c += mix[n]
        cum.append(c)
    out = []
    bounds = [t for t, _ in profile[1:]] + [duration]
    for (t0, r), t1 in zip(profile, bounds):
        t1 = min(t1, duration)
        if r <= 0 or t1 <= t0:
            continue
        t = t0
        while True:
            t += rng.expovariate(r)
            if t >= t1:
                break
            u = rng.random()
            cls = names[next(i for i, x in enumerate(cum) if u <= x or i == len(cum) - 1)]
            if cls == "read" and rng.random() < hot_ratio:
                item = rng.randint(1, hot)
            else:
                item = rng.randint(hot + 1, items)
            out.append((t, cls, item))
    return out


def asked_count(profile, duration):
    bounds = [t for t, _ in profile[1:]] + [duration]
    return sum(r * max(0.0, min(t1, duration) - t0) for (t0, r), t1 in zip(profile, bounds))


def pct(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    f = math.floor(k)
    c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)


def stats(xs):
    if not xs:
        return {"n": 0}
    return {
        "n": len(xs),
        "mean_ms": sum(xs) / len(xs),
        "p50_ms": pct(xs, 0.5),
        "p95_ms": pct(xs, 0.95),
        "p99_ms": pct(xs, 0.99),
        "max_ms": max(xs),
    }


async def run(args):
    mix = parse_mix(args.mix)
    profile = parse_profile(args.profile, args.rate, args.duration)
    arrivals = draw_arrivals(profile, args.duration, mix, args.seed, args.items, args.hot, args.hot_ratio)
    n = len(arrivals)
    sent = [0.0] * n
    lat = [None] * n
    status = [0] * n
    err = [""] * n
    base = args.url.rstrip("/")
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    conn = aiohttp.TCPConnector(limit=0, force_close=False, keepalive_timeout=60)
    pc = time.perf_counter
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as session:

        async def one(i, cls, item):
            method, _ = CLASSES[cls]
            if cls == "read":
                url, body = f"{base}/items/{item}", None
            elif cls == "write":
                url, body = f"{base}/items", {"id": item, "price": (item % 97) + 0.5}
            elif cls == "noop":
                url, body = f"{base}/noop", None
            else:
                url, body = f"{base}/jobs", {"id": item}
            t = pc()
            sent[i] = t
            try:
                async with session.request(method, url, json=body) as resp:
                    await resp.read()
                    status[i] = resp.status
            except asyncio.TimeoutError:
                status[i] = -1
                err[i] = "timeout"
            except Exception as e:  # noqa: BLE001
                status[i] = -2
                err[i] = type(e).__name__
            lat[i] = (pc() - t) * 1000.0

        # a warm-up request so the first scheduled one does not pay connection set-up alone
        try:
            async with session.get(f"{base}/health") as r:
                await r.read()
        except Exception as e:  # noqa: BLE001
            raise SystemExit(f"loadgen: {base}/health unreachable: {e}")
        tasks = []
        wall0_ns = time.time_ns()
        t0 = pc()
        sleep = asyncio.sleep
        i = 0
        while i < n:
            now = pc() - t0
            due = arrivals[i][0]
            if due > now:
                await sleep(due - now)
                continue
            while i < n and arrivals[i][0] <= pc() - t0:
                _, cls, item = arrivals[i]
                tasks.append(asyncio.ensure_future(one(i, cls, item)))
                i += 1
            await sleep(0)  # let the new tasks write their requests now
        send_end = pc() - t0
        if tasks:
            await asyncio.wait(tasks, timeout=args.timeout + 5)
        wall1_ns = time.time_ns()

    # ---- write records and summary ----
    os.makedirs(args.out, exist_ok=True)
    with gzip.open(os.path.join(args.out, "requests.csv.gz"), "wt", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["i", "class", "item", "sched_s", "sent_s", "lateness_ms", "latency_ms", "status", "error"])
        for k, (ts, cls, item) in enumerate(arrivals):
            s = sent[k] - t0 if sent[k] else None
            w.writerow([
                k, cls, item, f"{ts:.6f}", "" if s is None else f"{s:.6f}",
                "" if s is None else f"{(s - ts) * 1000:.3f}",
                "" if lat[k] is None else f"{lat[k]:.3f}", status[k], err[k],
            ])
    late = [((sent[k] - t0) - arrivals[k][0]) * 1000 for k in range(n) if sent[k]]
    in_window = [k for k in range(n) if arrivals[k][0] >= args.warmup]
    per_class = {}
    for cls in mix:
        ok = [lat[k] for k in in_window if arrivals[k][1] == cls and 200 <= status[k] < 300 and lat[k] is not None]
        st = stats(ok)
        st["method"], st["route"] = CLASSES[cls]
        st["errors"] = sum(1 for k in in_window if arrivals[k][1] == cls and not (200 <= status[k] < 300))
        per_class[cls] = st
    all_ok = [lat[k] for k in in_window if 200 <= status[k] < 300 and lat[k] is not None]
    errors = {}
    for k in range(n):
        if not (200 <= status[k] < 300):
            key = err[k] or f"http_{status[k]}"
            errors[key] = errors.get(key, 0) + 1
    dur = args.duration
    summary = {
        "url": base,
        "seed": args.seed,
        "profile": [{"t_s": t, "rate_per_s": r} for t, r in profile],
        "duration_s": dur,
        "warmup_s": args.warmup,
        "mix": mix,
        "hot_ratio": args.hot_ratio,
        "hot_items": args.hot,
        "items": args.items,
        "timeout_s": args.timeout,
        "wall_start_unix_ns": wall0_ns,
        "wall_end_unix_ns": wall1_ns,
        "asked_rate_per_s": asked_count(profile, dur) / dur,
        "scheduled_rate_per_s": n / dur,
        "achieved_rate_per_s": sum(1 for k in range(n) if sent[k]) / max(send_end, 1e-9),
        "requests": n,
        "completed_ok": sum(1 for k in range(n) if 200 <= status[k] < 300),
        "errors": errors,
        "error_count": sum(errors.values()),
        "lateness_ms": {"p50": pct(late, 0.5), "p99": pct(late, 0.99), "max": max(late) if late else None,
                        "mean": sum(late) / len(late) if late else None},
        "overall": stats(all_ok),
        "classes": per_class,
    }
    with open(os.path.join(args.out, "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=2)
    if not args.quiet:
        print(
            f"loadgen: asked {summary['asked_rate_per_s']:.1f}/s, sent {summary['achieved_rate_per_s']:.1f}/s, "
            f"lateness p50 {summary['lateness_ms']['p50']:.2f} p99 {summary['lateness_ms']['p99']:.2f} ms, "
            f"errors {summary['error_count']}"
        )
        for cls, st in per_class.items():
            if st["n"]:
                print(f"  {cls:8s} n={st['n']:6d} mean {st['mean_ms']:7.2f} p50 {st['p50_ms']:7.2f} "
                      f"p95 {st['p95_ms']:7.2f} p99 {st['p99_ms']:7.2f} ms  errors {st['errors']}")
    return summary


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m loadgen", description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('CAPSIM_STACK_API_PORT', '28000')}")
    ap.add_argument("--rate", type=float, help="constant arrival rate (req/s); base rate of a spike")
    ap.add_argument("--profile", help="constant | step:T=R,T=R,... | spike:base=R,mult=M,at=T,len=L")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of arrivals")
    ap.add_argument("--warmup", type=float, default=0.0, help="seconds excluded from the latency statistics")
    ap.add_argument("--mix", default="read=0.7,write=0.2,enqueue=0.1")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--items", type=int, default=int(os.environ.get("CAPSIM_STACK_ITEMS", "100000")))
    ap.add_argument("--hot", type=int, default=int(os.environ.get("CAPSIM_STACK_HOT", "1000")))
    ap.add_argument("--hot-ratio", type=float, default=0.8, help="share of reads that go to the pre-warmed hot ids")
    ap.add_argument("--timeout", type=float, default=10.0, help="request timeout (s); a timeout is an error")
    ap.add_argument("--out", required=True)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        asyncio.run(run(args))
    else:
        uvloop.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
