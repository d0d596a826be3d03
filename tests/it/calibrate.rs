//! `capsim calibrate` end to end: synthetic spans -> a scenario that
//! validates and runs; every bad input -> exit 2, the file named, no
//! scenario written.

use std::fs::File;
use std::path::{Path, PathBuf};

use capsim_calibrate::synth::{self, SynthOptions};

use crate::common::{capsim, stderr, stdout};

fn synth_files(dir: &Path, requests: u64) -> (PathBuf, PathBuf) {
    let (a, w) = (dir.join("api-1.jsonl"), dir.join("worker-2.jsonl"));
    let mut fa = File::create(&a).unwrap();
    let mut fw = File::create(&w).unwrap();
    let opts = SynthOptions {
        requests,
        ..Default::default()
    };
    synth::write(&mut fa, &mut fw, &opts).unwrap();
    (a, w)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn calibrated_scenario_validates_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (api, worker) = synth_files(dir.path(), 3_000);
    let out = dir.path().join("stack.toml");
    let o = capsim(&["calibrate", s(&api), s(&worker), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("3 classes"), "{}", stdout(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("name = \"stack\""));
    assert!(text.contains("[classes.get_items_id]  # GET /items/{id}"));

    let o = capsim(&["validate", s(&out)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = capsim(&[
        "run",
        s(&out),
        "--replications",
        "2",
        "--set",
        "simulation.duration=1m",
        "--set",
        "simulation.warmup=5s",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(summary.get("classes").is_some() || summary.to_string().contains("get_items_id"));

    // An existing output is not replaced without --force.
    let o = capsim(&["calibrate", s(&api), s(&worker), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    let o = capsim(&[
        "calibrate",
        s(&api),
        s(&worker),
        "--out",
        s(&out),
        "--force",
        "--name",
        "again",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("name = \"again\"")
    );
}

/// Writes `content` as a span file, calibrates it (after the good API
/// file when `with_good`), and expects exit 2 naming the file, every
/// fragment, and no scenario.
fn bad(tag: &str, content: &[u8], with_good: bool, expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let (api, _) = synth_files(dir.path(), 400);
    let file = dir.path().join(format!("{tag}.jsonl"));
    std::fs::write(&file, content).unwrap();
    let out = dir.path().join("out.toml");
    let mut args = vec!["calibrate"];
    if with_good {
        args.push(s(&api));
    }
    args.extend([s(&file), "--out", s(&out)]);
    let o = capsim(&args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{tag}: {err}");
    assert!(err.contains(s(&file)), "{tag}: file not named: {err}");
    for e in expect {
        assert!(err.contains(e), "{tag}: no \"{e}\" in: {err}");
    }
    assert!(!out.exists(), "{tag}: a scenario was written");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".capsim"))
        .collect();
    assert!(left.is_empty(), "{tag}: temporary files left: {left:?}");
}

fn good_line() -> String {
    let dir = tempfile::tempdir().unwrap();
    let (api, _) = synth_files(dir.path(), 8);
    std::fs::read_to_string(api)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn empty_file() {
    bad("empty", b"", true, &["empty file"]);
    bad("blank", b"\n\n  \n", true, &["empty file"]);
}

#[test]
fn truncated_last_line() {
    let l = good_line();
    let content = format!("{l}\n{}", &l[..l.len() / 2]);
    bad(
        "truncated",
        content.as_bytes(),
        true,
        &["line 2", "truncated"],
    );
}

#[test]
fn not_json() {
    bad("garbage", b"hello world\n", true, &["line 1", "not JSON"]);
}

#[test]
fn json_but_not_otlp() {
    bad(
        "other",
        b"{\"foo\": 1}\n",
        true,
        &["line 1", "not an OTLP", "resourceSpans"],
    );
    bad(
        "nospans",
        b"{\"resourceSpans\": []}\n",
        true,
        &["no spans in 1 lines"],
    );
}

#[test]
fn end_before_start() {
    let l = good_line();
    // Swap one span's start and end: its end is then before its start.
    let start = l.find("\"startTimeUnixNano\":\"").unwrap() + 21;
    let end_key = l.find("\"endTimeUnixNano\":\"").unwrap() + 19;
    let sv: String = l[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let ev: String = l[end_key..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let swapped = format!(
        "{}{}{}{}{}",
        &l[..start],
        ev,
        &l[start + sv.len()..end_key],
        sv,
        &l[end_key + ev.len()..]
    );
    bad(
        "clock",
        format!("{swapped}\n").as_bytes(),
        true,
        &["line 1", "ends before it starts"],
    );
}

#[test]
fn mostly_orphans() {
    // Only the children of each request: their SERVER parents never appear.
    let dir = tempfile::tempdir().unwrap();
    let (api, _) = synth_files(dir.path(), 200);
    let text = std::fs::read_to_string(api).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let mut v = v.clone();
        let spans = v["resourceSpans"][0]["scopeSpans"][0]["spans"]
            .as_array_mut()
            .unwrap();
        spans.retain(|s| s["kind"] != serde_json::json!(2));
        out.push_str(&v.to_string());
        out.push('\n');
    }
    bad(
        "orphans",
        out.as_bytes(),
        true,
        &["parent that never appears"],
    );
}

#[test]
fn rare_route() {
    let dir = tempfile::tempdir().unwrap();
    let (api, worker) = synth_files(dir.path(), 300);
    let out = dir.path().join("out.toml");
    let o = capsim(&[
        "calibrate",
        s(&api),
        s(&worker),
        "--out",
        s(&out),
        "--min-samples",
        "100",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("route \"GET /health\""),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("--min-samples 100"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn no_server_spans_and_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_, worker) = synth_files(dir.path(), 300);
    let out = dir.path().join("out.toml");
    let o = capsim(&["calibrate", s(&worker), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no SERVER spans"), "{}", stderr(&o));
    let missing = dir.path().join("nope.jsonl");
    let o = capsim(&["calibrate", s(&missing), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(s(&missing)), "{}", stderr(&o));
    assert!(!out.exists());
}
