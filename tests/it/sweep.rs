//! End-to-end tests of `capsim sweep` and `capsim merge`: the files a sweep
//! writes, that they do not depend on threads, shards or interruptions, and
//! that bad input is refused with exit code 2 before anything runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::{capsim, input_error, ok, read_json};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// step-policy cut to its first 90 minutes (the ramp and half the peak), 2
/// replications per point, a 2 × 2 grid of scale-out threshold and initial
/// instances.
fn grid_args(out: &Path) -> Vec<String> {
    [
        "sweep",
        "step-policy",
        "--param",
        "tiers.app.scaling.policies[0].above=0.5,0.7",
        "--param",
        "tiers.app.instances=3,5",
        "--set",
        "simulation.duration=90m",
        "--replications",
        "2",
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([out.display().to_string()])
    .collect()
}

fn run_args(args: &[String], extra: &[&str]) -> Output {
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend_from_slice(extra);
    capsim(&all)
}

/// Every file under `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

#[track_caller]
fn assert_same_tree(a: &Path, b: &Path) {
    let (ta, tb) = (tree(a), tree(b));
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (k, v) in &ta {
        assert!(*v == tb[k], "{} differs", k.display());
    }
}

#[test]
fn a_grid_sweep_writes_its_files_and_names_the_cheapest_point_meeting_the_objectives() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("grid");
    let stdout = ok(&run_args(&grid_args(&out), &["--threads", "2"]));
    for needle in [
        "step-policy: 5 points × 2 replications (grid)",
        "0 (baseline)",
        "Pareto front",
        "reproduce: capsim run step-policy --set simulation.duration=90m",
        "wrote ",
        "sweep.csv",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in\n{stdout}");
    }

    // sweep.csv: the baseline and four points, parameters as columns.
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    for col in [
        "point",
        "tiers.app.scaling.policies[0].above",
        "tiers.app.instances",
        "meets_slos",
        "pareto",
        "vs_baseline_latency_p99_ms",
        "vs_baseline_latency_p99_ms_lo",
        "vs_baseline_cost_usd_hi",
        "latency_p99_ms",
        "cost_usd",
        "breach_minutes",
        "slo:availability:breached",
        "peak:app",
    ] {
        assert!(header.contains(&col), "no column {col} in {header:?}");
    }
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 5);
    assert_eq!(
        &rows[0][..3],
        ["0", "0.7", "3"],
        "the baseline shows the file's values"
    );
    assert_eq!(&rows[4][..3], ["4", "0.7", "5"]);

    // pareto.csv: a non-empty subset of the rows, cheapest first.
    let pareto = std::fs::read_to_string(out.join("pareto.csv")).unwrap();
    let front: Vec<&str> = pareto.lines().skip(1).collect();
    assert!(!front.is_empty());
    for row in &front {
        assert!(csv.contains(row));
        assert!(row.contains(",true,"), "{row}");
    }

    // sweep.json names the cheapest point meeting every objective, and
    // `capsim run` with the printed overrides reproduces its figures.
    let report = read_json(&out.join("sweep.json"));
    let cheapest = report["cheapest_meeting_slos"]
        .as_u64()
        .expect("a point meets the SLOs") as usize;
    let point = &report["points"][cheapest];
    assert_eq!(point["meets_slos"], true);
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("reproduce: "))
        .unwrap();
    let cmd: Vec<&str> = line
        .trim_start()
        .trim_start_matches("reproduce: capsim ")
        .split(' ')
        .collect();
    let mut args = cmd.clone();
    args.push("--json");
    let summary: Value = serde_json::from_str(&ok(&capsim(&args))).unwrap();
    assert_eq!(
        summary["latency_ms"]["p99"]["estimate"],
        point["figures"]["latency_p99_ms"]["estimate"]
    );
    assert_eq!(
        summary["cost_usd"]["total"]["estimate"],
        point["figures"]["cost_usd"]["estimate"]
    );

    // Plots: the scatter always, the heatmap for a two-parameter grid.
    for f in [
        "sweep_pareto.png",
        "sweep_pareto.svg",
        "sweep_heatmap.png",
        "sweep_heatmap.svg",
    ] {
        let bytes = std::fs::read(out.join("plots").join(f)).unwrap();
        if f.ends_with(".png") {
            assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{f}");
        } else {
            let svg = text(&bytes);
            assert!(
                svg.contains("step-policy") && svg.trim_end().ends_with("</svg>"),
                "{f}"
            );
        }
    }
}

#[test]
fn a_variant_is_the_same_sweep_as_its_settings_typed_out() {
    // recete's flash-sale variant is one --set; the sweep from the variant and
    // the sweep with that --set write the same files (measured over the
    // first 3 minutes of the spike, where the variant differs).
    let dir = tempfile::tempdir().unwrap();
    let common = [
        "--param",
        "tiers.api.discipline=fcfs,ps",
        "--set",
        "simulation.duration=33m",
        "--set",
        "simulation.warmup=28m",
        "--replications",
        "2",
        "--quiet",
    ];
    let (a, b) = (dir.path().join("variant"), dir.path().join("typed"));
    let mut args = vec!["sweep", "recete", "--variant", "flash-sale", "--out"];
    args.push(a.to_str().unwrap());
    args.extend(common);
    ok(&capsim(&args));
    let spike = "workload.profile={ kind = \"spike\", start = \"30m\", rise = \"5m\", plateau = \"20m\", decay = \"15m\", multiplier = 20 }";
    let mut args = vec!["sweep", "recete", "--set", spike, "--out"];
    args.push(b.to_str().unwrap());
    args.extend(common);
    ok(&capsim(&args));
    assert_same_tree(&a, &b);
    let o = capsim(&[
        "sweep",
        "recete",
        "--variant",
        "nope",
        "--param",
        "tiers.api.instances=2,3",
        "--out",
        dir.path().join("c").to_str().unwrap(),
    ]);
    let err = input_error(&o);
    assert!(
        err.contains(
            "--variant nope: no such variant (it has: current, flash-sale, cpu-bound-jobs)"
        ),
        "{err}"
    );
}

#[test]
fn threads_shards_and_resumes_all_give_the_same_files() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    ok(&run_args(&grid_args(&one), &["--threads", "1", "--quiet"]));
    ok(&run_args(&grid_args(&two), &["--threads", "2", "--quiet"]));
    assert_same_tree(&one, &two);

    // Interrupted: a point and the aggregates lost. Re-running resumes.
    std::fs::remove_file(two.join("points/00002.json")).unwrap();
    std::fs::remove_file(two.join("sweep.csv")).unwrap();
    std::fs::write(two.join("points/00003.json"), "{ truncated").unwrap();
    let o = run_args(&grid_args(&two), &[]);
    ok(&o);
    let err = text(&o.stderr);
    assert!(err.contains("3 of 5 points already done"), "{err}");
    assert!(
        text(&o.stdout).contains("2 points run (3 resumed)"),
        "{}",
        text(&o.stdout)
    );
    assert_same_tree(&one, &two);

    // Shards: each writes its points only; merged, they are the unsharded sweep.
    let (s1, s2, merged) = (
        tmp.path().join("s1"),
        tmp.path().join("s2"),
        tmp.path().join("merged"),
    );
    let o = run_args(&grid_args(&s1), &["--shard", "1/2"]);
    assert!(ok(&o).contains("capsim merge"));
    ok(&run_args(&grid_args(&s2), &["--shard", "2/2", "--quiet"]));
    assert!(!s1.join("sweep.csv").exists());
    let n1 = std::fs::read_dir(s1.join("points")).unwrap().count();
    let n2 = std::fs::read_dir(s2.join("points")).unwrap().count();
    assert_eq!((n1, n2), (3, 2));
    // A shard missing: refused, naming the points.
    let err = input_error(&capsim(&[
        "merge",
        s1.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]));
    assert!(
        err.contains("2 of 5 points are missing") && err.contains("1, 3"),
        "{err}"
    );
    ok(&capsim(&[
        "merge",
        s1.to_str().unwrap(),
        s2.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
        "--quiet",
    ]));
    assert_same_tree(&one, &merged);

    // Another sweep in the same directory is refused, not mixed in.
    let mut other = grid_args(&one);
    other[3] = "tiers.app.scaling.policies[0].above=0.6,0.8".into();
    let err = input_error(&run_args(&other, &[]));
    assert!(err.contains("holds another sweep"), "{err}");
}

#[test]
fn a_sweep_file_with_latin_hypercube_sampling() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("policy.toml");
    std::fs::write(
        &file,
        r#"
[sweep]
scenario = "step-policy"
replications = 2
sample = "latin:4"
metric = "p95"
set = ["simulation.duration=80m"]

[sweep.params]
"tiers.app.scaling.policies[0].above" = "0.5..0.8"
"tiers.app.scaling.policies[0].cooldown" = "1m..6m"
"#,
    )
    .unwrap();
    let out = tmp.path().join("out");
    let stdout = ok(&capsim(&[
        "sweep",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(
        stdout.contains("5 points × 2 replications (latin:4)"),
        "{stdout}"
    );
    assert!(stdout.contains("p95 ms"), "{stdout}");
    let plan = read_json(&out.join("sweep-plan.json"));
    let points = plan["points"].as_array().unwrap();
    assert_eq!(points.len(), 5);
    // One point per quarter of each range.
    let mut quarters: Vec<usize> = points[1..]
        .iter()
        .map(|p| ((p[0].as_str().unwrap().parse::<f64>().unwrap() - 0.5) / 0.075) as usize)
        .collect();
    quarters.sort();
    assert_eq!(quarters, [0, 1, 2, 3]);
    assert!(out.join("plots/sweep_pareto.png").exists());
    assert!(
        !out.join("plots/sweep_heatmap.png").exists(),
        "no heatmap for a latin sample"
    );
}

#[test]
fn bad_sweeps_are_refused_with_exit_code_2_before_running() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (&["sweep", "step-policy", "--out", o], &["nothing to sweep"]),
        (
            &[
                "sweep",
                "step-policy",
                "--param",
                "tiers.app.instances=2..6",
                "--out",
                o,
            ],
            &["tiers.app.instances", "--sample latin:N"],
        ),
        (
            &[
                "sweep",
                "step-policy",
                "--param",
                "tiers.app.instances=2,3",
                "--shard",
                "3/2",
                "--out",
                o,
            ],
            &["--shard 3/2", "between 1 and 2"],
        ),
        (
            &[
                "sweep",
                "step-policy",
                "--param",
                "tiers.app.instances=2,3",
                "--metric",
                "p42",
                "--out",
                o,
            ],
            &["--metric", "p42"],
        ),
        (
            &[
                "sweep",
                "step-policy",
                "--param",
                "tiers.app.instances=2,0",
                "--out",
                o,
            ],
            &[
                "point 2",
                "tiers.app.instances",
                "from --param tiers.app.instances=0",
            ],
        ),
        (
            // The table both overrides wrote into is at fault: both are named.
            &[
                "sweep",
                "step-policy",
                "--param",
                "tiers.app.scaling.min=2..8",
                "--param",
                "tiers.app.scaling.policies[0].above=0.5..0.9",
                "--sample",
                "latin:4",
                "--out",
                o,
            ],
            &[
                "from --param tiers.app.scaling.min=",
                "and --param tiers.app.scaling.policies[0].above=",
                "outside min",
            ],
        ),
        (
            &[
                "sweep",
                "step-policy",
                "--param",
                "tiers.app.instancs=2,3",
                "--out",
                o,
            ],
            &["instancs"],
        ),
        (
            &[
                "sweep",
                "step-policy",
                "--param",
                "simulation.seed=1,2",
                "--out",
                o,
            ],
            &["simulation.seed", "same traffic"],
        ),
        (
            &[
                "sweep",
                "step-policy",
                "--param",
                "tiers.app.instances=2,3",
                "--sample",
                "sobol:8",
                "--out",
                o,
            ],
            &["--sample sobol:8"],
        ),
        (
            &[
                "sweep",
                "step-policy",
                "--param",
                "tiers.app.instances=2,3",
                "--replications",
                "1",
                "--out",
                o,
            ],
            &["at least 2 replications"],
        ),
    ];
    for (args, needles) in cases {
        let err = input_error(&capsim(args));
        for n in *needles {
            assert!(err.contains(n), "{args:?}: {n:?} not in\n{err}");
        }
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(!out.exists(), "a refused sweep writes nothing");

    // A sweep file's mistakes name the file, line and field.
    let file = tmp.path().join("bad.toml");
    std::fs::write(
        &file,
        "[sweep]\nscenario = \"step-policy\"\nreplication = 3\n\n[sweep.params]\n\"tiers.app.instances\" = [2, 3]\n",
    )
    .unwrap();
    let err = input_error(&capsim(&["sweep", file.to_str().unwrap(), "--out", o]));
    assert!(
        err.contains("bad.toml:3:1") && err.contains("sweep.replication"),
        "{err}"
    );
    std::fs::write(&file, "[sweep]\nscenario = \"step-policy\"\n\n[sweep.params]\n\"tiers.app.instances\" = \"9..2\"\n").unwrap();
    let err = input_error(&capsim(&["sweep", file.to_str().unwrap(), "--out", o]));
    assert!(
        err.contains("bad.toml:5:") && err.contains("LOW must be below HIGH"),
        "{err}"
    );

    // merge of a directory that is not a sweep.
    std::fs::create_dir_all(tmp.path().join("empty")).unwrap();
    let err = input_error(&capsim(&[
        "merge",
        tmp.path().join("empty").to_str().unwrap(),
        "--out",
        o,
    ]));
    assert!(err.contains("sweep-plan.json"), "{err}");
}

/// A sweep file with several mistakes reports them all, in file order, in
/// one pass (it used to stop at the first).
#[test]
fn a_sweep_file_reports_every_problem_in_one_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("sweep.toml");
    std::fs::write(
        &file,
        "[sweep]\nscenario = \"tandem\"\nreplicatons = 3\nseed = \"x\"\nsample = \"grid:3\"\n\n\
         [sweep.params]\n\"tiers.backend.servers\" = []\n\"tiers.frontend.servers\" = \"9..1\"\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let err = input_error(&capsim(&[
        "sweep",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    let expected = [
        ("sweep.toml:3:", "sweep.replicatons"),
        ("sweep.toml:4:", "sweep.seed"),
        ("sweep.toml:5:", "sweep.sample"),
        ("sweep.toml:8:", "sweep.params.tiers.backend.servers"),
        ("sweep.toml:9:", "sweep.params.tiers.frontend.servers"),
    ];
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{err}");
    for (line, (at, field)) in lines.iter().zip(expected) {
        assert!(line.contains(at) && line.contains(field), "{line}\n{err}");
    }
    assert!(!out.exists(), "nothing written");
}
