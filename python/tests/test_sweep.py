"""capsim.sweep against `capsim sweep`: the same tables, in memory or in a
directory."""

from __future__ import annotations

import json
import tomllib

import pandas as pd

import capsim

PARAMS = {"tiers.app.scaling.policies[0].above": [0.5, 0.7], "tiers.app.scaling.max": [6, 10]}
SETS = {"simulation.duration": "70m"}


def cli_sweep(cli, out, *extra):
    params = [f"--param={p}={','.join(map(str, v))}" for p, v in PARAMS.items()]
    sets = [f"--set={p}={v}" for p, v in SETS.items()]
    cli("sweep", "step-policy", *params, *sets, "--replications", 2, *extra, "--quiet", "--out", out)


def test_a_sweep_is_the_clis_in_memory_and_in_a_directory(cli, tmp_path):
    cli_sweep(cli, tmp_path / "cli")
    s = capsim.sweep("step-policy", PARAMS, set=SETS, replications=2)
    for name in ("sweep.csv", "pareto.csv", "sweep.json"):
        assert s.file(name) == (tmp_path / "cli" / name).read_bytes(), name
    pd.testing.assert_frame_equal(s.table, pd.read_csv(tmp_path / "cli" / "sweep.csv"))
    pd.testing.assert_frame_equal(s.pareto, pd.read_csv(tmp_path / "cli" / "pareto.csv"))
    assert len(s.table) == 5 and s.table.baseline.dtype == bool
    assert s.summary == json.loads((tmp_path / "cli" / "sweep.json").read_text())
    assert s.cheapest == s.summary["cheapest_meeting_slos"]
    assert s.met == (s.cheapest is not None)
    assert s.verdict in s.text
    assert s.written == [] and not (tmp_path / "py").exists()

    # In a directory: every file the CLI writes, and a directory the CLI resumes.
    d = capsim.sweep("step-policy", PARAMS, set=SETS, replications=2, out=tmp_path / "py")
    assert (tmp_path / "py" / "sweep.csv") in d.written
    cli_files = sorted(p.relative_to(tmp_path / "cli") for p in (tmp_path / "cli").rglob("*") if p.is_file())
    py_files = sorted(p.relative_to(tmp_path / "py") for p in (tmp_path / "py").rglob("*") if p.is_file())
    assert py_files == cli_files
    for rel in cli_files:
        if rel.suffix in (".csv", ".json"):
            assert (tmp_path / "py" / rel).read_bytes() == (tmp_path / "cli" / rel).read_bytes(), rel
    proc = cli("sweep", "step-policy", *[f"--param={p}={','.join(map(str, v))}" for p, v in PARAMS.items()],
               *[f"--set={p}={v}" for p, v in SETS.items()], "--replications", 2, "--out", tmp_path / "py")
    assert "0 points run (5 resumed)" in proc.stdout


def test_a_dict_and_a_variant_sweep_as_a_name():
    grid = {"tiers.host.workers": [4, 8]}
    sets = {"simulation.duration": "20m", "simulation.warmup": "5m"}
    named = capsim.sweep("greenstack", grid, variant="phase1", set=sets, replications=2)
    as_dict = capsim.sweep(tomllib.loads(capsim.show("greenstack")), grid, variant="phase1", set=sets,
                           replications=2)
    assert as_dict.file("sweep.csv") == named.file("sweep.csv")
    # The variant applies: phase 1's 150 users, not the baseline's 75.
    plain = capsim.sweep("greenstack", grid, set=sets, replications=2)
    assert (named.table.arrived > 1.5 * plain.table.arrived).all()


def test_latin_hypercube_ranges():
    s = capsim.sweep("step-policy", {"tiers.app.scaling.max": "6..20"}, sample="latin:3", set=SETS,
                     replications=2)
    assert len(s.table) == 4
    assert s.table["tiers.app.scaling.max"].iloc[1:].between(6, 20).all()


def test_a_sweep_of_a_scenario_in_windows_runs_its_chains(cli, tmp_path):
    short = {"windows.count": 2, "simulation.duration": "6m", "simulation.warmup": "1m"}
    grid = {"tiers.pg.replicas": [1, 2]}
    cli("sweep", "ten-x-growth", "--param=tiers.pg.replicas=1,2", *[f"--set={p}={v}" for p, v in short.items()],
        "--replications", 2, "--quiet", "--out", tmp_path / "cli")
    s = capsim.sweep("ten-x-growth", grid, set=short, replications=2)
    assert s.file("sweep.csv") == (tmp_path / "cli" / "sweep.csv").read_bytes()
    assert s.summary["windows"]["count"] == 2
    assert {"breaching_windows", "window:1:cost_per_hour_usd"} <= set(s.table.columns)
