"""Check span files against the contract, summarise them, and measure span overhead.

    python -m tools.spans check DIR_OR_FILES...   # exit 1 with a list of problems if any
    python -m tools.spans stats DIR_OR_FILES...   # per route: counts, durations, self time, hit ratio
    python -m tools.spans bench                   # µs of span recording per request
"""
from __future__ import annotations

import glob
import json
import os
import re
import sys
import time

HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")
DEC = re.compile(r"^[0-9]+$")
KINDS = {1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


def files_of(args):
    out = []
    for a in args:
        if os.path.isdir(a):
            out += sorted(glob.glob(os.path.join(a, "*.jsonl")))
        else:
            out.append(a)
    return out


def attr_value(v):
    if not isinstance(v, dict) or len(v) != 1:
        raise ValueError(f"attribute value must have exactly one typed field: {v!r}")
    (t, x), = v.items()
    if t == "stringValue":
        if not isinstance(x, str):
            raise ValueError("stringValue not a string")
        return x
    if t == "intValue":
        if isinstance(x, str) and re.match(r"^-?[0-9]+$", x):
            return int(x)
        raise ValueError(f"intValue must be a decimal string: {x!r}")
    if t == "boolValue":
        if not isinstance(x, bool):
            raise ValueError("boolValue not a bool")
        return x
    if t == "doubleValue":
        return float(x)
    raise ValueError(f"unknown attribute value type {t}")


def attrs_of(lst):
    if not isinstance(lst, list):
        raise ValueError("attributes must be a list")
    return {a["key"]: attr_value(a["value"]) for a in lst}


def load(paths, problems):
    """-> list of span dicts (with 'service', 'attrs', 'start', 'end', 'file')"""
    spans = []
    for p in paths:
        with open(p, encoding="utf-8") as fh:
            for ln, line in enumerate(fh, 1):
                where = f"{os.path.basename(p)}:{ln}"
                if not line.endswith("\n"):
                    problems.append(f"{where}: last line not terminated (truncated file?)")
                try:
                    obj = json.loads(line)
                    rs_list = obj["resourceSpans"]
                    for rs in rs_list:
                        ra = attrs_of(rs["resource"]["attributes"])
                        svc = ra.get("service.name")
                        if svc not in ("api", "worker"):
                            problems.append(f"{where}: service.name {svc!r} not api/worker")
                        exp = os.path.basename(p).split("-")[0]
                        if svc != exp:
                            problems.append(f"{where}: service.name {svc!r} but file is {exp}-<pid>.jsonl")
                        for ss in rs["scopeSpans"]:
                            for s in ss["spans"]:
                                spans.append(check_span(s, svc, where, problems))
                except (KeyError, TypeError, ValueError) as e:
                    problems.append(f"{where}: not an OTLP ExportTraceServiceRequest line: {type(e).__name__}: {e}")
    return [s for s in spans if s is not None]


def check_span(s, svc, where, problems):
    try:
        tid, sid = s["traceId"], s["spanId"]
        if not HEX32.match(tid):
            problems.append(f"{where}: traceId {tid!r} not 32 lowercase hex")
        if not HEX16.match(sid):
            problems.append(f"{where}: spanId {sid!r} not 16 lowercase hex")
        par = s.get("parentSpanId") or None
        if par is not None and not HEX16.match(par):
            problems.append(f"{where}: parentSpanId {par!r} not 16 lowercase hex")
        if s["kind"] not in KINDS:
            problems.append(f"{where}: kind {s['kind']!r} not an integer 1..5")
        for f in ("startTimeUnixNano", "endTimeUnixNano"):
            if not isinstance(s[f], str) or not DEC.match(s[f]):
                problems.append(f"{where}: {f} must be a decimal string")
        st, en = int(s["startTimeUnixNano"]), int(s["endTimeUnixNano"])
        if en < st:
            problems.append(f"{where}: span {sid} ends before it starts")
        return {"trace": tid, "id": sid, "parent": par, "name": s["name"], "kind": s["kind"],
                "start": st, "end": en, "attrs": attrs_of(s.get("attributes", [])), "service": svc, "where": where}
    except (KeyError, TypeError, ValueError) as e:
        problems.append(f"{where}: bad span: {type(e).__name__}: {e}")
        return None


REQ = {
    # (kind, name predicate) -> required attributes {key: type or value}
    "server": {"http.request.method": str, "http.route": str, "http.response.status_code": int},
    "pool": {"db.system.name": "postgresql", "capsim.pool.name": str, "capsim.pool.size": int},
    "redis": {"db.system.name": "redis", "db.operation.name": str},
    "pg": {"db.system.name": "postgresql", "db.operation.name": str, "db.collection.name": str,
           "capsim.db.node": "primary"},
    "producer": {"messaging.system": "arq", "messaging.destination.name": str, "messaging.operation.type": "send"},
    "consumer": {"messaging.system": "arq", "messaging.operation.type": "process",
                 "capsim.job.enqueue_time_unix_nano": int, "capsim.worker.concurrency": int},
}


def role(s):
    k, n = s["kind"], s["name"]
    if k == 2:
        return "server"
    if k == 1 and n == "pool.acquire":
        return "pool"
    if k == 1 and n == "render":
        return "render"
    if k == 3 and n.startswith("redis "):
        return "redis"
    if k == 3 and n.startswith("postgresql "):
        return "pg"
    if k == 4 and n.startswith("arq enqueue "):
        return "producer"
    if k == 5 and n.startswith("arq process "):
        return "consumer"
    return None


def check(paths):
    problems = []
    if not paths:
        return ["no *.jsonl span files"], {}
    spans = load(paths, problems)
    by_id = {}
    for s in spans:
        if s["id"] in by_id:
            problems.append(f"{s['where']}: duplicate spanId {s['id']}")
        by_id[s["id"]] = s
    counts = {}
    for s in spans:
        r = role(s)
        counts[r or s["name"]] = counts.get(r or s["name"], 0) + 1
        w = f"{s['where']}: {s['name']!r}"
        if r is None:
            problems.append(f"{w}: kind {s['kind']} / name not in the contract")
            continue
        for k, t in REQ.get(r, {}).items():
            v = s["attrs"].get(k)
            if v is None:
                problems.append(f"{w}: missing attribute {k}")
            elif isinstance(t, type):
                if not isinstance(v, t) or (t is int and isinstance(v, bool)):
                    problems.append(f"{w}: attribute {k}={v!r} is not {t.__name__}")
            elif v != t:
                problems.append(f"{w}: attribute {k}={v!r}, expected {t!r}")
        if r == "server":
            if s["parent"]:
                problems.append(f"{w}: SERVER span has a parent")
            exp = f"{s['attrs'].get('http.request.method')} {s['attrs'].get('http.route')}"
            if s["name"] != exp:
                problems.append(f"{w}: SERVER span name should be {exp!r}")
            if s["service"] != "api":
                problems.append(f"{w}: SERVER span outside service api")
            continue
        if r == "redis" and s["attrs"].get("db.operation.name") == "GET" and not isinstance(
                s["attrs"].get("capsim.cache.hit"), bool):
            problems.append(f"{w}: redis GET without bool capsim.cache.hit")
        p = by_id.get(s["parent"]) if s["parent"] else None
        if p is None:
            problems.append(f"{w}: parent {s['parent']} not found")
            continue
        if p["trace"] != s["trace"]:
            problems.append(f"{w}: traceId differs from its parent's")
        if r == "consumer":
            if p["kind"] != 4:
                problems.append(f"{w}: CONSUMER parent is not a PRODUCER span")
            if s["service"] != "worker":
                problems.append(f"{w}: CONSUMER span outside service worker")
        elif s["service"] == "api" and p["kind"] != 2:
            problems.append(f"{w}: api child span's parent is not the SERVER span")
        elif s["service"] == "worker" and p["kind"] != 5:
            problems.append(f"{w}: worker child span's parent is not the CONSUMER span")
        if r != "consumer" and (s["start"] < p["start"] or s["end"] > p["end"]):
            problems.append(f"{w}: outside its parent's interval")
    if counts.get("server", 0) == 0:
        problems.append("no SERVER spans")
    return problems, counts


def union_len(iv):
    iv = sorted(iv)
    tot, cur_s, cur_e = 0, None, None
    for s, e in iv:
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                tot += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        tot += cur_e - cur_s
    return tot


def q(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * (len(xs) - 1) + 0.5))]


def stats(paths):
    problems = []
    spans = load(paths, problems)
    kids = {}
    for s in spans:
        if s["parent"]:
            kids.setdefault(s["parent"], []).append(s)
    out = {}
    for s in spans:
        if s["kind"] == 2:
            key = s["name"]
            d = out.setdefault(key, {"n": 0, "dur": [], "self": [], "render": [], "hits": 0, "gets": 0})
            d["n"] += 1
            d["dur"].append((s["end"] - s["start"]) / 1e6)
            ch = kids.get(s["id"], [])
            io = [(c["start"], c["end"]) for c in ch if c["name"] != "render"]
            d["self"].append(((s["end"] - s["start"]) - union_len(io)) / 1e6)
            for c in ch:
                if c["name"] == "render":
                    d["render"].append((c["end"] - c["start"]) / 1e6)
                if c["name"] == "redis GET":
                    d["gets"] += 1
                    d["hits"] += bool(c["attrs"].get("capsim.cache.hit"))
        if s["kind"] == 5:
            d = out.setdefault(s["name"], {"n": 0, "dur": [], "wait": []})
            d["n"] += 1
            d["dur"].append((s["end"] - s["start"]) / 1e6)
            d["wait"].append((s["start"] - s["attrs"].get("capsim.job.enqueue_time_unix_nano", s["start"])) / 1e6)
    res = {}
    for k, d in out.items():
        r = {"n": d["n"], "mean_ms": sum(d["dur"]) / d["n"], "p50_ms": q(d["dur"], .5), "p99_ms": q(d["dur"], .99)}
        if "self" in d:
            r["self_mean_ms"] = sum(d["self"]) / d["n"]
            r["render_mean_ms"] = sum(d["render"]) / max(1, len(d["render"]))
            if d["gets"]:
                r["hit_ratio"] = d["hits"] / d["gets"]
        if "wait" in d:
            r["queue_wait_mean_ms"] = sum(d["wait"]) / d["n"]
        res[k] = r
    return res


def bench(n=20000):
    """Cost of the spans of one cached-read request (SERVER, redis GET, render) and of one write
    (SERVER, pool.acquire, postgresql UPDATE, render), creation + finish + JSON + write, in µs."""
    import tempfile

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from app.telemetry import CLIENT, INTERNAL, SERVER, Tracer

    with tempfile.TemporaryDirectory() as d:
        tr = Tracer("api", d)
        t0 = time.perf_counter()
        for _ in range(n):
            s = tr.start_span("", SERVER, attrs={"http.request.method": "GET"})
            c = s.child("redis GET", CLIENT, {"db.system.name": "redis", "db.operation.name": "GET"})
            c.attrs["capsim.cache.hit"] = True
            c.finish()
            with s.child("render", INTERNAL):
                pass
            s.name = "GET /items/{id}"
            s.attrs["http.route"] = "/items/{id}"
            s.attrs["http.response.status_code"] = 200
            s.finish()
        tr.flush()
        read_us = (time.perf_counter() - t0) / n * 1e6
        t0 = time.perf_counter()
        for _ in range(n):
            s = tr.start_span("", SERVER, attrs={"http.request.method": "POST"})
            with s.child("pool.acquire", INTERNAL, {"db.system.name": "postgresql", "capsim.pool.name": "primary",
                                                    "capsim.pool.size": 8}):
                pass
            with s.child("postgresql UPDATE items", CLIENT, {"db.system.name": "postgresql",
                                                             "db.operation.name": "UPDATE",
                                                             "db.collection.name": "items",
                                                             "capsim.db.node": "primary"}):
                pass
            with s.child("render", INTERNAL):
                pass
            s.name = "POST /items"
            s.attrs["http.route"] = "/items"
            s.attrs["http.response.status_code"] = 200
            s.finish()
        tr.close()
        write_us = (time.perf_counter() - t0) / n * 1e6
    return {"read_request_us": read_us, "write_request_us": write_us}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in ("check", "stats", "bench"):
        print(__doc__, file=sys.stderr)
        return 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "bench":
        print(json.dumps(bench(), indent=2))
        return 0
    paths = files_of(rest)
    if cmd == "check":
        problems, counts = check(paths)
        print(f"spans: {len(paths)} files, " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
        if problems:
            for p in problems[:50]:
                print("  PROBLEM", p)
            if len(problems) > 50:
                print(f"  ... and {len(problems) - 50} more")
            print(f"spans check: FAILED ({len(problems)} problems)")
            return 1
        print("spans check: OK")
        return 0
    print(json.dumps(stats(paths), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
