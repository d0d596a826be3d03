"""Predicted vs measured: calibrate capsim from the stack's own spans, then hold its predictions
against the stack at higher loads.

    validation/.venv/bin/python validation/experiment.py            # the full experiment (~25 min)
    validation/.venv/bin/python validation/experiment.py --short    # the test suite's short form

1. Start the stack (validation/start.sh; the SCHED_IDLE spinner on by default, see README).
2. Calibration runs: --cal-rate req/s of open-loop Poisson load for --cal-duration, one before
   each repeat's levels (so a slow spell of the host weighs on one of them, not on all), each with
   its own spans directory.
3. `capsim calibrate SPANS --out calibrated.toml` on the spans of every calibration run, pooled:
   no hand edits after this point.
   The HTTP path's own round trip (`GET /noop`, no work, no spans) is measured at a low rate and
   added as each route's first step (predicted.toml): the load generator times what the spans miss.
4. Capacity of the bottleneck (the API's one core) = 1 / (API process CPU seconds per request)
   measured in the first calibration run (the levels are set before the others run); the load
   levels are fractions of it.
5. For every repeat, its calibration run and then every level in turn (interleaved, so host drift
   hits all levels alike): the stack is restarted with a fresh spans directory and driven at the
   level. Then, per level, one `capsim run predicted.toml` with every class's rate scaled to the
   level (the calibrated mix).
6. One spike run (base 50% of capacity, x1.6 for a sixth of the run) against capsim with the same
   profile on every class.
7. results.json, a markdown report (--doc) and the predicted-vs-measured plot (PNG and SVG).

With --check BOUNDS.json the command fails (exit 1) if an error leaves its bound (the short form in
the tests). Measured latency is the load generator's (client side), over the run after --warmup.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import tomllib

V = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(V)
PY = os.path.join(V, ".venv", "bin", "python")
FONT = os.path.join(ROOT, "output", "assets", "fonts", "DejaVuSans.ttf")
STATS = ("mean", "p50", "p95", "p99")
DRIFT = 0.10  # a run's API CPU per request this far from the calibration's is flagged


def log(msg):
    print(f"experiment: {msg}", flush=True)


def sh(cmd, env=None, check=True, **kw):
    return subprocess.run(cmd, env=env, check=check, **kw)


def stack_env(spans_dir):
    e = dict(os.environ)
    e["CAPSIM_SPANS_DIR"] = spans_dir
    return e


def read_cpu(path):
    rows = [r for r in csv.DictReader(open(path)) if r.get("api_cpu_s")]
    return rows


def cpu_between(rows, t0, t1):
    """API CPU seconds, host steal and load between wall times t0 and t1 (sampler rows, 1 s)."""
    inside = [r for r in rows if t0 <= float(r["t_unix"]) <= t1]
    if len(inside) < 2:
        return None
    a, b = inside[0], inside[-1]
    dt = float(b["t_unix"]) - float(a["t_unix"])
    steal = [float(r[k]) for r in inside[1:] for k in r if k.endswith("_steal") and r[k]]
    return {
        "t0": float(a["t_unix"]),
        "t1": float(b["t_unix"]),
        "api_cpu_s": float(b["api_cpu_s"]) - float(a["api_cpu_s"]),
        "api_utilisation": (float(b["api_cpu_s"]) - float(a["api_cpu_s"])) / dt if dt > 0 else None,
        "steal_mean": statistics.mean(steal) if steal else 0.0,
        "load1_max": max(float(r["load1"]) for r in inside),
    }


def measured_run(run_dir, args, seed, rate=None, profile=None, warmup=None):
    """One run of the real stack: restart API + worker with a fresh spans dir, sample CPU, drive load."""
    os.makedirs(run_dir, exist_ok=True)
    spans = os.path.join(run_dir, "spans")
    env = stack_env(spans)
    sh([os.path.join(V, "stop.sh"), "--app"], env=env)
    sh([os.path.join(V, "start.sh")], env=env, stdout=subprocess.DEVNULL)
    sampler = subprocess.Popen([PY, "-m", "tools.cpusampler", "--out", os.path.join(run_dir, "cpu.csv")],
                               cwd=V, env=env)
    warmup = args.warmup if warmup is None else warmup
    cmd = ["taskset", "-c", os.environ.get("CAPSIM_STACK_AUX_CPUS", "0"), PY, "-m", "loadgen",
           "--duration", str(args.duration), "--warmup", str(warmup), "--out", os.path.join(run_dir, "load"),
           "--seed", str(seed), "--mix", args.mix, "--quiet"]
    cmd += ["--profile", profile] if profile else ["--rate", f"{rate:.3f}"]
    try:
        sh(cmd, cwd=V, env=env)
    finally:
        time.sleep(1.2)  # one more sampler row after the last response
        sampler.send_signal(signal.SIGTERM)
        sampler.wait(10)
    sh([os.path.join(V, "stop.sh"), "--app"], env=env)  # SIGTERM flushes the span files
    load = json.load(open(os.path.join(run_dir, "load", "summary.json")))
    t0 = load["wall_start_unix_ns"] / 1e9
    t1 = load["wall_end_unix_ns"] / 1e9
    rows = read_cpu(os.path.join(run_dir, "cpu.csv"))
    whole = cpu_between(rows, t0 - 1.5, t1 + 1.5) or {}
    window = cpu_between(rows, t0 + warmup, t0 + args.duration) or {}
    n_all = load["completed_ok"] + load["error_count"]
    cpu = {
        "api_cpu_s": whole.get("api_cpu_s", float("nan")),
        "requests": n_all,
        "api_cpu_ms_per_request": 1000 * whole.get("api_cpu_s", float("nan")) / max(1, n_all),
        "api_utilisation": window.get("api_utilisation"),
        "steal_mean": window.get("steal_mean"),
        "load1_max": window.get("load1_max"),
    }
    m = {"dir": os.path.relpath(run_dir, args.out), "seed": seed, "rate": rate, "profile": profile,
         "achieved_rate": load["achieved_rate_per_s"], "lateness_ms": load["lateness_ms"],
         "errors": load["error_count"], "overall": load["overall"], "classes": load["classes"], "cpu": cpu}
    o = load["overall"]
    log(f"  measured {os.path.basename(run_dir)}: sent {m['achieved_rate']:.1f}/s, mean {o['mean_ms']:.2f} "
        f"p50 {o['p50_ms']:.2f} p95 {o['p95_ms']:.2f} p99 {o['p99_ms']:.2f} ms, API util "
        f"{fmt(cpu['api_utilisation'], 3)}, CPU/req {cpu['api_cpu_ms_per_request']:.3f} ms, "
        f"steal {fmt(cpu['steal_mean'], 3)}, errors {m['errors']}")
    return m


def pooled_calibration(runs, cap, scenario):
    """The calibration runs as one: what `capsim calibrate` saw is their spans pooled, so its CPU per
    request is all their API CPU over all their requests. The capacity is the first run's."""
    cpu_s = sum(r["cpu"]["api_cpu_s"] for r in runs)
    n = sum(r["cpu"]["requests"] for r in runs)
    return {"runs": runs, "scenario": scenario, "capacity_per_s": cap,
            "achieved_rate": statistics.mean(r["achieved_rate"] for r in runs),
            "cpu": {"api_cpu_ms_per_request": 1000 * cpu_s / max(1, n)}}


def client_path(args):
    """The HTTP path's own round trip (load generator, loopback, uvicorn; no app work, no spans),
    measured on `GET /noop` at a low rate: 99 quantiles for capsim's empirical `delay` step."""
    run_dir = os.path.join(args.out, "client-path")
    env = stack_env(os.path.join(run_dir, "spans"))
    cmd = ["taskset", "-c", os.environ.get("CAPSIM_STACK_AUX_CPUS", "0"), PY, "-m", "loadgen",
           "--rate", "30", "--duration", "15", "--warmup", "2", "--mix", "noop=1", "--seed", "9",
           "--out", run_dir, "--quiet"]
    sh([os.path.join(V, "start.sh")], env=env, stdout=subprocess.DEVNULL)
    try:
        sh(cmd, cwd=V, env=env)
    finally:
        sh([os.path.join(V, "stop.sh"), "--app"], env=env)
    lat = []
    with gzip.open(os.path.join(run_dir, "requests.csv.gz"), "rt") as fh:
        for r in csv.DictReader(fh):
            if r["status"] == "200" and float(r["sched_s"]) >= 2:
                lat.append(float(r["latency_ms"]))
    lat.sort()
    qs = [lat[min(len(lat) - 1, int(round(q / 100 * (len(lat) - 1))))] for q in range(1, 100)]
    summary = json.load(open(os.path.join(run_dir, "summary.json")))["overall"]
    log(f"client path (GET /noop, {len(lat)} requests): p50 {summary['p50_ms']:.3f} p95 {summary['p95_ms']:.3f} "
        f"p99 {summary['p99_ms']:.3f} ms")
    return {"n": len(lat), "quantiles_ms": qs, "stats": summary}


def with_client_path(scenario, path, out):
    """The calibrated scenario with the measured client path as each route's first step (a pure delay:
    the spans start inside the server, the load generator's clock outside it)."""
    samples = ", ".join(f'"{q:.4f}ms"' for q in path["quantiles_ms"])
    step = (f"  # client path: round trip of GET /noop measured by the load generator "
            f"(n = {path['n']}, p50 {path['stats']['p50_ms']:.3f} ms)\n"
            f'  {{ delay = {{ dist = "empirical", samples = [{samples}] }} }},\n')
    text = open(scenario).read().replace("route = [\n", "route = [\n" + step)
    with open(out, "w") as fh:
        fh.write(text)
    return out


def class_rates(scenario):
    sc = tomllib.load(open(scenario, "rb"))
    return {k: v["rate_per_s"] for k, v in sc["classes"].items()}


def predict(args, scenario, rate, out_dir, profile=None):
    """capsim run with every class's rate scaled so they sum to `rate` (the calibrated mix)."""
    rates = class_rates(scenario)
    tot = sum(rates.values())
    cmd = [args.capsim, "run", scenario, "--out", out_dir, "--force", "--quiet",
           "--replications", str(args.replications)]
    for k, v in rates.items():
        cmd += ["--set", f"classes.{k}.rate_per_s={v * rate / tot:.6f}"]
        if profile:
            cmd += ["--set", f"classes.{k}.profile={profile}"]
    if profile:
        cmd += ["--set", f"simulation.duration={args.duration:g}s", "--set", "simulation.warmup=0s"]
    else:
        cmd += ["--set", f"simulation.duration={args.sim_duration}", "--set", "simulation.warmup=1m"]
    sh(cmd)
    s = json.load(open(os.path.join(out_dir, "summary.json")))
    lat = s["latency_ms"]
    api = s["tiers"]["api"]["utilization"]
    return {
        "rate": rate,
        **{k: {"estimate": lat[k]["estimate"], "ci95": lat[k]["ci95"]} for k in STATS},
        "api_utilisation": {"estimate": api["estimate"], "ci95": api["ci95"]},
    }


def fmt(x, nd=2):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def summarise_level(runs, pred):
    """Median of repeats, spread, and the prediction's error against the median (in %)."""
    out = {}
    for k in STATS:
        vals = [r["overall"][f"{k}_ms"] for r in runs]
        m = med(vals)
        p = pred[k]["estimate"]
        lo, hi = pred[k]["ci95"]
        out[k] = {"measured_median": m, "measured_min": min(vals), "measured_max": max(vals),
                  "predicted": p, "ci95": [lo, hi], "error_pct": 100 * (p - m) / m,
                  "inside_spread": hi >= min(vals) and lo <= max(vals)}
    out["api_utilisation"] = {"measured_median": med([r["cpu"]["api_utilisation"] for r in runs]),
                              "predicted": pred["api_utilisation"]["estimate"]}
    out["api_cpu_ms_per_request"] = [r["cpu"]["api_cpu_ms_per_request"] for r in runs]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--short", action="store_true",
                    help="the tests' form: levels 0.3,0.6 of capacity, 2 repeats of 25 s, 2 calibration runs of 20 s, no spike")
    ap.add_argument("--cal-rate", type=float, default=70.0, help="calibration load (req/s)")
    ap.add_argument("--cal-duration", type=float, default=30.0, help="seconds of each calibration run")
    ap.add_argument("--levels", default="0.3,0.45,0.6,0.75,0.9", help="fractions of the measured capacity")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load per measured run")
    ap.add_argument("--warmup", type=float, default=10.0, help="seconds excluded from measured statistics")
    ap.add_argument("--mix", default="read=0.7,write=0.2,enqueue=0.1")
    ap.add_argument("--no-spike", action="store_true")
    ap.add_argument("--replications", type=int, default=10, help="capsim replications per prediction")
    ap.add_argument("--sim-duration", default="10m", help="simulated length of a steady-level prediction")
    ap.add_argument("--out", default=os.path.join(V, "out"))
    ap.add_argument("--doc", default=os.path.join(ROOT, "docs", "validation.md"))
    ap.add_argument("--check", help="JSON bounds {stat: max |error| %%} the short form asserts")
    ap.add_argument("--from-results", metavar="RESULTS_JSON",
                    help="only rewrite --doc and its plots from an earlier run's results.json")
    ap.add_argument("--capsim", default=os.environ.get("CAPSIM_BIN", os.path.join(ROOT, "target", "release", "capsim")))
    args = ap.parse_args()
    if args.from_results:
        args.results = args.from_results
        write_doc(json.load(open(args.from_results)), args)
        log(f"wrote {args.doc}")
        return 0
    if args.short:
        args.levels, args.repeats, args.duration, args.warmup, args.no_spike = "0.3,0.6", 2, 25.0, 5.0, True
        args.cal_duration = 20.0
    if not os.access(args.capsim, os.X_OK):
        sys.exit(f"experiment: no capsim binary at {args.capsim} (build it, or set CAPSIM_BIN / --capsim)")
    levels = [float(x) for x in args.levels.split(",")]
    os.environ.setdefault("CAPSIM_STACK_SPINNER", "1")
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    sh([os.path.join(V, "start.sh")], env=stack_env(os.path.join(args.out, "spans-start")))
    res = {"args": {k: v for k, v in vars(args).items()}, "machine": machine(), "levels": []}
    try:
        cal_args = argparse.Namespace(**{**vars(args), "duration": args.cal_duration})
        cal_runs, runs, cap = [], {lv: [] for lv in levels}, None
        for r in range(args.repeats):
            log(f"calibration run {r + 1} of {args.repeats}: {args.cal_rate:g} req/s for {args.cal_duration:g} s")
            cal_runs.append(measured_run(os.path.join(args.out, f"calibration-r{r}"), cal_args, seed=100 + r,
                                         rate=args.cal_rate, warmup=0))
            if cap is None:
                cap = 1000.0 / cal_runs[0]["cpu"]["api_cpu_ms_per_request"]
                log(f"capacity of the API core: {cap:.1f} req/s "
                    f"(1 / {cal_runs[0]['cpu']['api_cpu_ms_per_request']:.3f} ms of CPU per request)")
            for lv in levels:
                runs[lv].append(measured_run(os.path.join(args.out, f"level-{lv:.2f}-r{r}"), args,
                                             seed=1000 * (r + 1) + int(lv * 100), rate=lv * cap))
        spans = sorted(os.path.join(args.out, c["dir"], "spans", f) for c in cal_runs
                       for f in os.listdir(os.path.join(args.out, c["dir"], "spans")) if f.endswith(".jsonl"))
        scen = os.path.join(args.out, "calibrated.toml")
        sh([args.capsim, "calibrate", *spans, "--out", scen, "--force"])
        path = client_path(args)
        pred_scen = with_client_path(scen, path, os.path.join(args.out, "predicted.toml"))
        res["client_path"] = path
        res["calibration"] = pooled_calibration(cal_runs, cap, os.path.relpath(scen, args.out))
        for lv in levels:
            pred = predict(args, pred_scen, lv * cap, os.path.join(args.out, f"predicted-{lv:.2f}"))
            res["levels"].append({"fraction": lv, "rate": lv * cap, "measured": runs[lv], "predicted": pred,
                                  "summary": summarise_level(runs[lv], pred)})
        if not args.no_spike:
            base, mult, at, ln = 0.5 * cap, 1.6, args.duration / 3, args.duration / 6
            m = measured_run(os.path.join(args.out, "spike"), args, seed=5000,
                             profile=f"spike:base={base:.3f},mult={mult},at={at:g},len={ln:g}", warmup=0)
            prof = (f'{{ kind = "spike", start = "{at:g}s", rise = "0s", plateau = "{ln:g}s", '
                    f'decay = "0s", multiplier = {mult} }}')
            pred = predict(args, pred_scen, base, os.path.join(args.out, "predicted-spike"), profile=prof)
            res["spike"] = {"base": base, "multiplier": mult, "at_s": at, "length_s": ln, "measured": [m],
                            "predicted": pred, "summary": summarise_level([m], pred)}
    finally:
        sh([os.path.join(V, "stop.sh")], check=False)
    res["elapsed_s"] = time.time() - started
    tmp = os.path.join(args.out, "results.json.tmp")
    json.dump(res, open(tmp, "w"), indent=2)
    os.replace(tmp, os.path.join(args.out, "results.json"))
    args.results = os.path.join(args.out, "results.json")
    write_doc(res, args)
    log(f"wrote {args.doc} and {os.path.join(args.out, 'results.json')} in {res['elapsed_s'] / 60:.1f} min")
    for L in res["levels"]:
        s = L["summary"]
        log(f"  {L['fraction']:.2f} ({L['rate']:.1f}/s): " + ", ".join(
            f"{k} {s[k]['predicted']:.2f} vs {s[k]['measured_median']:.2f} ({s[k]['error_pct']:+.1f}%)" for k in STATS))
    if args.check:
        return check(res, json.load(open(args.check)))
    return 0


def check(res, bounds):
    """bounds: {"mean": 20, "p50": 15, ...}: |error %| of every level must stay within."""
    bad = []
    for L in res["levels"]:
        for k, b in bounds.items():
            if k.startswith("_"):  # notes: where the bounds come from
                continue
            e = L["summary"][k]["error_pct"]
            if abs(e) > b:
                bad.append(f"{L['fraction']:.2f} x capacity: {k} error {e:+.1f}% outside ±{b}%")
    for b in bad:
        log(f"CHECK FAILED: {b}")
    if not bad:
        log("check: every error within its bound")
    return 1 if bad else 0


def machine():
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version()}


def write_doc(res, args):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    import matplotlib.pyplot as plt

    if os.path.exists(FONT):
        font_manager.fontManager.addfont(FONT)
        matplotlib.rcParams["font.family"] = "DejaVu Sans"
    matplotlib.rcParams["svg.hashsalt"] = "capsim"
    doc_dir = os.path.dirname(os.path.abspath(args.doc))
    os.makedirs(doc_dir, exist_ok=True)
    base = os.path.join(doc_dir, "validation-plot")
    plot(res, base, plt)
    cal = res["calibration"]
    mc = res["machine"]
    a = res["args"]
    L = []
    w = L.append
    w("# Validation: capsim's predictions against a real web stack")
    w("")
    w("Generated by `validation/.venv/bin/python validation/experiment.py"
      + (" --short" if a["short"] else "") + "` (the stack and how to run it: "
      "[validation/README.md](../validation/README.md)); do not edit by hand.")
    w("")
    w("## Set-up")
    w("")
    w(f"- Machine: {mc['cores']} vCPUs ({mc['cpu']}), Linux {mc['kernel']}, Python {mc['python']}; a shared "
      "host whose speed drifts, so every level is repeated, repeats are interleaved, and each run's CPU "
      "per request and the host's steal are recorded next to its latency.")
    w("- Cores: the API (Starlette under uvicorn, one process, one event loop) alone on CPU 1, with a "
      "lowest-priority (SCHED_IDLE) spinner that keeps that vCPU from slowing down when idle; "
      "PostgreSQL, Redis, the arq worker and the open-loop load generator share CPU 0. capsim runs "
      "between measurements, never during one.")
    w(f"- Traffic: open-loop Poisson arrivals, mix {a['mix']}; {a['duration']:g} s per run, the first "
      f"{a['warmup']:g} s excluded; {a['repeats']} repeats per level; latency measured at the client.")
    cruns = cal["runs"]
    w(f"- Calibration: {len(cruns)} runs of {a['cal_duration']:g} s at {a['cal_rate']:g} req/s (`--cal-rate`; sent "
      + ", ".join(f"{r['achieved_rate']:.1f}" for r in cruns) + " req/s), one before each repeat's levels, "
      "so that a slow spell of the host weighs on one of them; their spans, pooled, turned into "
      "`calibrated.toml` by `capsim calibrate` with no edits. API CPU per request in each: "
      + ", ".join(f"{r['cpu']['api_cpu_ms_per_request']:.3f}" for r in cruns)
      + f" ms ({cal['cpu']['api_cpu_ms_per_request']:.3f} pooled). The API core's capacity, 1 / (API process "
      f"CPU per request) in the first = 1 / {cruns[0]['cpu']['api_cpu_ms_per_request']:.3f} ms = "
      f"**{cal['capacity_per_s']:.1f} req/s**; load levels are fractions of it.")
    cp = res["client_path"]["stats"]
    w(f"- Client path: the load generator's clock starts before the server's spans do. Its round trip "
      f"without the app (`GET /noop`, no work, no spans; 30 req/s) was p50 {cp['p50_ms']:.3f}, p95 "
      f"{cp['p95_ms']:.3f}, p99 {cp['p99_ms']:.3f} ms; it is the first step of every route in "
      "`predicted.toml` (an empirical delay of its percentiles), which is `calibrated.toml` otherwise unchanged.")
    w(f"- Predictions: `capsim run predicted.toml` with every class's rate scaled to the level, "
      f"{a['replications']} replications of {a['sim_duration']} (1 min warm-up); ranges are 95% CIs.")
    w("")
    verdict(res, w)
    w("## Predicted against measured")
    w("")
    w("Error = (predicted − median of measured repeats) / median of measured. \"in spread\": the "
      "prediction's CI meets the range of the repeats.")
    w("")
    w("| load | stat | measured median (min–max) ms | predicted ms (95% CI) | error | in spread |")
    w("|---|---|---|---|---|---|")
    for lv in res["levels"]:
        s = lv["summary"]
        for k in STATS:
            x = s[k]
            w(f"| {lv['fraction'] * 100:.0f}% ({lv['rate']:.1f}/s) | {k} | {x['measured_median']:.2f} "
              f"({x['measured_min']:.2f}–{x['measured_max']:.2f}) | {x['predicted']:.2f} "
              f"({x['ci95'][0]:.2f}–{x['ci95'][1]:.2f}) | {x['error_pct']:+.1f}% | "
              f"{'yes' if x['inside_spread'] else 'no'} |")
    w("")
    w("API utilisation and CPU per request, measured per run (the model's utilisation is its prediction):")
    w("")
    ref = cal["cpu"]["api_cpu_ms_per_request"]

    def cpu_cell(m):
        v = m["cpu"]["api_cpu_ms_per_request"]
        return f"{v:.3f}" + (" (drift)" if abs(v / ref - 1) > DRIFT else "")

    w(f"\"(drift)\": the run's API CPU per request differs from the calibration runs' pooled ({ref:.3f} ms) by "
      f"more than {DRIFT * 100:.0f}%: the host, not the model, changed.")
    w("")
    w("The load generator's own error, per run: the rate it sent (its Poisson draw, against the level's "
      "rate) and the p99 of its send lateness (actual minus scheduled send time).")
    w("")
    w("| load | API utilisation measured (median) | predicted | API CPU ms per request, each run | "
      "steal, each run | sent req/s, each run | lateness p99 ms, each run |")
    w("|---|---|---|---|---|---|---|")
    for lv in res["levels"]:
        s = lv["summary"]
        ms = lv["measured"]
        w(f"| {lv['fraction'] * 100:.0f}% | {fmt(s['api_utilisation']['measured_median'], 3)} | "
          f"{fmt(s['api_utilisation']['predicted'], 3)} | "
          + ", ".join(cpu_cell(m) for m in ms) + " | "
          + ", ".join(fmt(m["cpu"]["steal_mean"], 3) for m in ms) + " | "
          + ", ".join(fmt(m["achieved_rate"], 1) for m in ms) + " | "
          + ", ".join(fmt(m["lateness_ms"]["p99"], 2) for m in ms) + " |")
    if "spike" in res:
        sp = res["spike"]
        w("")
        w(f"## Spike: {sp['base']:.1f} req/s, x{sp['multiplier']} from {sp['at_s']:g} s for {sp['length_s']:g} s")
        w("")
        w("| stat | measured ms | predicted ms (95% CI) | error |")
        w("|---|---|---|---|")
        for k in STATS:
            x = sp["summary"][k]
            w(f"| {k} | {x['measured_median']:.2f} | {x['predicted']:.2f} ({x['ci95'][0]:.2f}–{x['ci95'][1]:.2f}) "
              f"| {x['error_pct']:+.1f}% |")
        m = sp["measured"][0]
        w("")
        w(f"One run (over the whole run, no warm-up excluded): API CPU per request "
          f"{cpu_cell(m)} ms against the calibration runs' {ref:.3f} ms, API utilisation "
          f"{fmt(m['cpu']['api_utilisation'], 3)} measured, {sp['predicted']['api_utilisation']['estimate']:.3f} predicted.")
    w("")
    w("![predicted against measured latency](validation-plot.svg)")
    w("")
    w(f"PNG: [validation-plot.png](validation-plot.png). Raw results: `{os.path.relpath(args.results, ROOT)}`; "
      "this page is rewritten from them by `experiment.py --from-results FILE`.")
    w("")
    tmp = args.doc + ".tmp"
    open(tmp, "w").write("\n".join(L))
    os.replace(tmp, args.doc)


TARGETS = {"mean": 10, "p50": 10, "p95": 15, "p99": 25}  # |error| % up to UP_TO utilisation
UP_TO = 0.75


def verdict(res, w):
    """The targets, judged from the results: errors up to UP_TO measured utilisation, spread above."""
    low = [L for L in res["levels"] if L["summary"]["api_utilisation"]["measured_median"] <= UP_TO + 0.005]
    high = [L for L in res["levels"] if L not in low]
    w("## Verdict")
    w("")
    if low:
        top = max(L["summary"]["api_utilisation"]["measured_median"] for L in low)
        parts = []
        for k, t in TARGETS.items():
            e = max(abs(L["summary"][k]["error_pct"]) for L in low)
            parts.append(f"{k} within {e:.1f}% (target {t}%: {'met' if e <= t else 'missed'})")
        w(f"- Up to {top * 100:.0f}% measured utilisation of the API core ({len(low)} levels): " + "; ".join(parts) + ".")
    for L in high:
        s = L["summary"]
        inside = [k for k in STATS if s[k]["inside_spread"]]
        outside = [k for k in STATS if not s[k]["inside_spread"]]
        w(f"- At {s['api_utilisation']['measured_median'] * 100:.0f}% measured utilisation: "
          + (f"{', '.join(inside)} inside the spread of the repeats" if inside else "nothing inside the spread")
          + (f"; {', '.join(outside)} outside it" if outside else "") + ".")
    cal = res["calibration"]["cpu"]["api_cpu_ms_per_request"]
    meds = [(L["fraction"], med(L["summary"]["api_cpu_ms_per_request"])) for L in res["levels"]]
    top = res["levels"][-1]
    su = top["summary"]
    pu, mu = su["api_utilisation"]["predicted"], su["api_utilisation"]["measured_median"]
    err = su["mean"]["error_pct"]
    w(f"- The model keeps the calibration runs' CPU per request ({cal:.3f} ms of API process CPU, of which the "
      "spans' self time is the part it sees). Measured, the median per level was "
      + ", ".join(f"{f * 100:.0f}%: {m:.3f}" for f, m in meds)
      + " ms: the host's speed and the work per turn of the event loop move it. At the highest level "
      f"({top['fraction'] * 100:.0f}% of capacity) the model's API utilisation is "
      f"{'above' if pu > mu else 'below'} the measured one ({pu:.3f} against {mu:.3f}); that close to "
      "saturation, latency moves steeply with utilisation, and the predicted mean is "
      f"{abs(err):.0f}% {'above' if err > 0 else 'below'} the measured median.")
    w("")


def plot(res, base, plt):
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    xs = [lv["summary"]["api_utilisation"]["measured_median"] * 100 for lv in res["levels"]]
    for ax, keys in zip(axes, (("mean", "p50"), ("p95", "p99"))):
        for k, c in zip(keys, ("tab:blue", "tab:orange")):
            s = [lv["summary"][k] for lv in res["levels"]]
            med_ = [x["measured_median"] for x in s]
            lo = [x["measured_median"] - x["measured_min"] for x in s]
            hi = [x["measured_max"] - x["measured_median"] for x in s]
            ax.errorbar(xs, med_, yerr=[lo, hi], fmt="o", color=c, capsize=3, label=f"{k} measured (range)")
            p = [x["predicted"] for x in s]
            plo = [x["predicted"] - x["ci95"][0] for x in s]
            phi = [x["ci95"][1] - x["predicted"] for x in s]
            ax.errorbar(xs, p, yerr=[plo, phi], fmt="--", color=c, capsize=2, label=f"{k} predicted (95% CI)")
        if max(x["measured_max"] for lv in res["levels"] for x in [lv["summary"][keys[-1]]]) > 60:
            ax.set_yscale("log")
            from matplotlib.ticker import NullFormatter, ScalarFormatter

            ax.yaxis.set_major_formatter(ScalarFormatter())
            ax.yaxis.set_minor_formatter(NullFormatter())
            ax.set_yticks([t for t in (5, 10, 20, 50, 100, 200, 500, 1000, 2000)
                           if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]])
        ax.set_xlabel("API utilisation, measured (%)")
        ax.set_ylabel("latency (ms)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("capsim's prediction from calibrated spans vs the real stack")
    fig.tight_layout()
    for ext in ("png", "svg"):
        tmp = f"{base}.tmp.{ext}"
        fig.savefig(tmp, dpi=120, metadata={"Date": None} if ext == "svg" else None)
        os.replace(tmp, f"{base}.{ext}")
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
