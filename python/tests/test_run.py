"""capsim.run against `capsim run`: the same scenario, seed and overrides give
the same summary.json and the same files."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest

import capsim

# Wall-clock figures: the only ones two runs of the same scenario and seed
# may differ in.
TIMING = ("wall_seconds", "events_per_second")

# The spike starts at 1h: 75 minutes see it rise, at a fifth of the traffic.
SHORT_BLACK_FRIDAY = {"simulation.duration": "75m", "simulation.warmup": "10m", "workload.rate_per_s": 200}


def without_timing(summary: dict) -> dict:
    summary = json.loads(json.dumps(summary))
    for key in TIMING:
        summary["engine"].pop(key)
    return summary


def without_estimated_time(text: str) -> str:
    """`validate`'s text but for its estimate of the run's wall time (from
    a timed pilot run)."""
    return re.sub(r"about [^,]* on (\d+) threads?", r"about T on \1 threads", text)


def cli_run(cli, tmp_path: Path, scenario: str, *flags: object) -> Path:
    out = tmp_path / "cli"
    cli("run", scenario, *flags, "--threads", 2, "--quiet", "--out", out)
    return out


def test_summary_and_csv_files_are_the_clis(cli, tmp_path):
    flags = ["--seed", 11, "--replications", 2]
    for path, value in SHORT_BLACK_FRIDAY.items():
        flags += ["--set", f"{path}={value}"]
    out = cli_run(cli, tmp_path, "black-friday", *flags)

    r = capsim.run("black-friday", seed=11, replications=2, set=SHORT_BLACK_FRIDAY, threads=2)

    cli_summary = json.loads((out / "summary.json").read_text())
    assert without_timing(r.summary) == without_timing(cli_summary)
    assert r.seed == 11 and r.replications == 2 and r.scenario == "black-friday"
    for name in ("timeseries.csv", "latency.csv", "events.csv", "replications.csv", "report.md"):
        assert r.file(name) == (out / name).read_bytes(), name
    # The DataFrames are those files, as pandas reads them.
    pd.testing.assert_frame_equal(r.timeseries, pd.read_csv(out / "timeseries.csv"))
    pd.testing.assert_frame_equal(r.latency, pd.read_csv(out / "latency.csv"))
    pd.testing.assert_frame_equal(r.events, pd.read_csv(out / "events.csv"))
    pd.testing.assert_frame_equal(r.replications_table, pd.read_csv(out / "replications.csv"))
    assert set(r.timeseries.scope) == {"tier", "class", "all"}
    assert (r.events.kind == "scaling").any()
    assert r.event_count == cli_summary["engine"]["events"]


def test_write_makes_the_clis_files(cli, tmp_path):
    out = cli_run(cli, tmp_path, "tandem", "--seed", 3, "--replications", 2, "--set", "simulation.duration=20m")
    r = capsim.run("tandem", seed=3, replications=2, set={"simulation.duration": "20m"}, threads=2)
    written = r.write(tmp_path / "py")

    cli_files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert sorted(p.relative_to(tmp_path / "py") for p in written) == cli_files
    assert any(p.suffix == ".png" for p in cli_files)
    for rel in cli_files:
        if rel.name == "summary.json":
            assert without_timing(json.loads((tmp_path / "py" / rel).read_text())) == without_timing(
                json.loads((out / rel).read_text())
            )
        elif rel.suffix in (".csv", ".md"):
            assert (tmp_path / "py" / rel).read_bytes() == (out / rel).read_bytes(), rel


def test_slo_verdicts_are_the_checks(cli, tmp_path):
    # step-policy as written breaches its availability objective (its notes
    # say so): `--check` exits 1 and names it, as `breached` does.
    flags = ["--replications", 2, "--set", "simulation.duration=100m"]
    proc = cli("run", "step-policy", *flags, "--check", "--quiet", ok=(0, 1))
    r = capsim.run("step-policy", replications=2, set={"simulation.duration": "100m"})
    assert r.met == (proc.returncode == 0)
    assert len(r.slos) == 2
    for name in r.breached:
        assert name in proc.stderr
    assert {n.split(" (")[0] for n in r.breached} == {n for n, s in r.slos.items() if not s["met"]}


def test_a_dict_runs_as_its_file(tmp_path):
    scenario = tomllib.loads(capsim.show("tandem"))
    by_name = capsim.run("tandem", replications=2, set={"simulation.duration": "20m"})
    by_dict = capsim.run(scenario, replications=2, set={"simulation.duration": "20m"})
    assert without_timing(by_dict.summary) == without_timing(by_name.summary)

    path = tmp_path / "tandem.toml"
    path.write_text(capsim.show("tandem"))
    by_path = capsim.run(path, replications=2, set={"simulation.duration": "20m"})
    assert without_timing(by_path.summary) == without_timing(by_name.summary)


def test_set_reads_values_as_the_cli_does(cli):
    common = {"simulation.duration": "20m", "simulation.warmup": "5m"}
    typed = capsim.run("tandem", replications=2, set={**common, "tiers.backend.servers": 3})
    text = capsim.run("tandem", replications=2, set={**common, "tiers.backend.servers": "3"})
    proc = cli(
        "run", "tandem", "--replications", 2, "--json", "--quiet",
        *[f"--set={k}={v}" for k, v in common.items()], "--set", "tiers.backend.servers=3",
    )
    assert without_timing(typed.summary) == without_timing(text.summary)
    assert without_timing(typed.summary) == without_timing(json.loads(proc.stdout))


def test_a_windowed_scenario(cli, tmp_path):
    # The seed's expectations name windows up to 12: a chain of 3 leaves them out.
    flags = ["--replications", 2, "--set", "windows.count=3", "--set", "expectations=[]"]
    out = cli_run(cli, tmp_path, "ten-x-growth", *flags)
    r = capsim.run("ten-x-growth", replications=2, set={"windows.count": 3, "expectations": []}, threads=2)
    assert r.kind == "windows"
    assert r.file("windows.csv") == (out / "windows.csv").read_bytes()
    assert r.summary == json.loads((out / "windows.json").read_text())
    pd.testing.assert_frame_equal(r.windows, pd.read_csv(out / "windows.csv"))
    with pytest.raises(AttributeError):
        r.timeseries


def test_validate_scenarios_and_show_print_what_the_cli_prints(cli):
    ours = capsim.validate("black-friday", threads=2)
    assert without_estimated_time(ours) == without_estimated_time(cli("validate", "black-friday", "--threads", 2).stdout)
    assert "estimated cost" in ours and "capacity check" in ours
    assert capsim.show("step-policy") == cli("scenarios", "show", "step-policy").stdout
    listed = cli("scenarios", "list").stdout
    bundled = capsim.scenarios()
    assert "black-friday" in bundled and "unprepared" in bundled["black-friday"]["variants"]
    for name, s in bundled.items():
        assert f"{name}  " in listed and s["description"] in listed
        for variant, description in s["variants"].items():
            assert f"--variant {variant}: {description}" in listed


def test_file_names_a_missing_file():
    r = capsim.run("mmc-reference", replications=2, set={"simulation.duration": "2h"})
    with pytest.raises(ValueError, match="timeseries.csv"):
        r.file("windows.csv")
    assert r.files[0] == "summary.json"


def test_expectations_and_the_check_are_the_clis(cli, tmp_path):
    # The tandem judges its M/M/1 front end's closed forms; one expectation
    # more that no M/M/1 at ρ = 0.6 can meet makes the check fail.
    r = capsim.run("tandem", threads=2)
    assert [e["verdict"] for e in r.expectations] == ["agrees"] * 4
    assert r.check and r.met and not r.contradicted and r.assumptions == []

    text = capsim.show("tandem") + (
        '\n[[expectations]]\nclaim = "front end within 40 ms on average"\n'
        'source = "a hopeful design doc"\nmetric = "tiers.frontend.latency_ms.mean"\nat_most = 40\n'
        '\n[[assumptions]]\ninput = "tiers.backend.capacity"\nwhy = "room for 50"\n'
    )
    path = tmp_path / "tandem.toml"
    path.write_text(text)
    r = capsim.run(str(path), threads=2)
    assert not r.check and r.met
    assert [e["metric"] for e in r.contradicted] == ["tiers.frontend.latency_ms.mean"]
    assert r.assumptions == [{"input": "tiers.backend.capacity", "value": "50", "why": "room for 50"}]
    out = tmp_path / "cli"
    proc = cli("run", path, "--threads", 2, "--quiet", "--check", "--out", out, ok=(1,))
    assert "the run contradicts expectation" in proc.stderr
    assert without_timing(r.summary) == without_timing(json.loads((out / "summary.json").read_text()))
