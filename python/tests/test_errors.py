"""Errors raise capsim's exceptions with the message the CLI prints."""

from __future__ import annotations

import tomllib

import pytest

import capsim

BROKEN = """\
[scenario]
name = "broken"
description = "a negative server count, and a misspelt field after it"

[simulation]
duration = "1h"
warmup = "10m"
replications = 2

[classes.web]
rate_per_s = 5.0
route = ["api"]

[tiers.api]
kind = "station"
servers = -1
sevice = { dist = "exponential", mean = "20ms" }
"""


def cli_message(proc) -> str:
    """What the CLI printed after `error: ` on each line."""
    lines = proc.stderr.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), proc.stderr
    return "\n".join(line.removeprefix("error: ") for line in lines)


def test_a_broken_file_raises_the_clis_located_message(cli, tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN)
    proc = cli("run", path, "--quiet", ok=(2,))
    with pytest.raises(capsim.ScenarioError) as caught:
        capsim.run(path)
    e = caught.value
    assert str(e) == cli_message(proc)
    assert str(e).startswith(f"{path}:")
    assert isinstance(e, ValueError) and isinstance(e, capsim.CapsimError)
    assert e.source == str(path)
    assert e.diagnostics and all(d["line"] and d["message"] for d in e.diagnostics)
    assert any(d["field"] and "tiers.api" in d["field"] for d in e.diagnostics)


def test_a_bad_override_names_the_set(cli):
    proc = cli("run", "tandem", "--set", "tiers.frontend.servers=many", "--quiet", ok=(2,))
    with pytest.raises(capsim.ScenarioError) as caught:
        capsim.run("tandem", set={"tiers.frontend.servers": "many"})
    assert str(caught.value) == cli_message(proc)
    assert "(--set tiers.frontend.servers=many)" in str(caught.value)
    (d,) = caught.value.diagnostics
    assert d["set"] == "tiers.frontend.servers=many" and d["field"] == "tiers.frontend.servers"


def test_other_input_errors_are_the_clis(cli):
    for args, call in [
        (["run", "no-such-scenario"], lambda: capsim.run("no-such-scenario")),
        (["run", "tandem", "--variant", "nope"], lambda: capsim.run("tandem", variant="nope")),
        (["run", "tandem", "--threads", 100000], lambda: capsim.run("tandem", threads=100000)),
        (["sweep", "tandem", "--param", "tiers.frontend.servers=1,2", "--replications", 1, "--out", "unused"],
         lambda: capsim.sweep("tandem", {"tiers.frontend.servers": [1, 2]}, replications=1)),
    ]:
        proc = cli(*args, "--quiet", ok=(2,))
        with pytest.raises(capsim.ScenarioError) as caught:
            call()
        assert str(caught.value) == cli_message(proc), args
    with pytest.raises(capsim.ScenarioError, match='no bundled scenario "nope"'):
        capsim.show("nope")


def test_a_dict_names_its_fields_not_lines():
    scenario = tomllib.loads(capsim.show("tandem"))
    scenario["simulation"].update(duration="1h", warmup="2h")
    with pytest.raises(capsim.ScenarioError) as caught:
        capsim.run(scenario)
    e = caught.value
    assert e.source == "<dict>"
    assert str(e).startswith("<dict>: field `simulation.warmup`: "), str(e)
    assert all(d["line"] is None for d in e.diagnostics)

    scenario = tomllib.loads(capsim.show("tandem"))
    scenario["tiers"]["backend"]["servers"] = None
    with pytest.raises(capsim.ScenarioError, match="field `tiers.backend.servers`: None has no TOML value"):
        capsim.run(scenario)


def test_set_takes_only_a_dict_of_paths():
    with pytest.raises(TypeError):
        capsim.run("tandem", set=["tiers.frontend.servers=2"])
    with pytest.raises(TypeError):
        capsim.run(42)


def test_over_the_budget(monkeypatch):
    monkeypatch.setenv("CAPSIM_MAX_EVENTS", "1000")
    with pytest.raises(capsim.BudgetError, match="CAPSIM_MAX_EVENTS"):
        capsim.run("tandem", replications=2)
