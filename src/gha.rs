//! `--check` under GitHub Actions (`GITHUB_ACTIONS=true`): an `::error::`
//! workflow command per breached objective (a `::warning::` per objective
//! a passing sweep's baseline breaches), which the runner shows as
//! annotations on the run and the pull request, and a markdown verdict
//! table appended to the file `$GITHUB_STEP_SUMMARY` names. Elsewhere
//! nothing of this is written.
//!
//! The commands go to stdout, or to stderr when stdout carries `--json`
//! (the runner reads workflow commands on both).

use std::fmt::Write as _;
use std::io::Write as _;

use capsim_models::SweepPlan;
use capsim_output::sweep::SweepReport;
use capsim_output::table::fmt_num;
use capsim_runner::Outcome;
use capsim_runner::run::Results;

use crate::Failure;

/// Whether the command runs as a GitHub Actions step.
pub fn active() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

#[derive(Clone, Copy)]
enum Level {
    Error,
    Warning,
}

/// A workflow command line. Messages escape `%`, CR and LF; properties
/// (the title) also `:` and `,`, which end a property.
fn command(level: Level, title: &str, message: &str) -> String {
    let data = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let property = |s: &str| data(s).replace(':', "%3A").replace(',', "%2C");
    let level = match level {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    format!("::{level} title={}::{}\n", property(title), data(message))
}

/// Writes the commands, then appends `summary` to `$GITHUB_STEP_SUMMARY`
/// (if set). A summary that cannot be written is a warning, not a failed
/// gate: the exit code still says what the check found.
fn publish(commands: &str, summary: &str, json: bool) -> Result<(), Failure> {
    if json {
        for l in commands.lines() {
            crate::out::warn(l);
        }
    } else if !commands.is_empty() {
        crate::out::print(commands)?;
    }
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(summary.as_bytes()));
    if let Err(e) = appended {
        crate::out::warn(&format!(
            "warning: cannot append the verdict to $GITHUB_STEP_SUMMARY ({}): {e}",
            std::path::Path::new(&path).display()
        ));
    }
    Ok(())
}

/// Markdown cell text: a `|` would end the cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// `run --check`: an error per breached objective, and the verdict table.
pub fn run_check(outcome: &Outcome, json: bool) -> Result<(), Failure> {
    let mut commands = String::new();
    let mut md = String::new();
    match &outcome.results {
        Results::Run { summary, .. } => {
            let n = summary.replications;
            let breached = summary.slos.values().filter(|s| !s.met).count();
            let _ = writeln!(
                md,
                "### capsim run `{}`: {}\n\nseed {}, {n} replications\n\n| objective | in words | verdict | replications breached | breach minutes | error budget used |\n|---|---|---|--:|--:|--:|",
                cell(&summary.scenario),
                if breached == 0 {
                    "every objective met".to_string()
                } else {
                    format!("{breached} of {} objectives breached", summary.slos.len())
                },
                summary.seed,
            );
            for (name, s) in &summary.slos {
                let minutes = &s.breach_minutes;
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {}/{n} | {} ± {} | {}% |",
                    cell(name),
                    cell(&s.objective),
                    if s.met { "✅ met" } else { "❌ breached" },
                    s.replications_breached,
                    fmt_num(minutes.estimate),
                    fmt_num(minutes.half_width()),
                    fmt_num(s.budget_consumed.estimate * 100.0)
                );
                if !s.met {
                    let first = s
                        .first_breach_s
                        .as_ref()
                        .map(|f| format!(", first at {} s", fmt_num(f.earliest)))
                        .unwrap_or_default();
                    commands.push_str(&command(
                        Level::Error,
                        &format!("capsim: objective {name} breached"),
                        &format!(
                            "{}: {} breached in {} of {n} replications ({} breach minutes per replication{first})",
                            summary.scenario,
                            s.objective,
                            s.replications_breached,
                            fmt_num(minutes.estimate)
                        ),
                    ));
                }
            }
        }
        Results::Windows(_) => {
            let breached = outcome.breached();
            let _ = writeln!(
                md,
                "### capsim run: {}\n",
                if breached.is_empty() {
                    "every objective met in every window"
                } else {
                    "objectives breached"
                }
            );
            for b in &breached {
                let _ = writeln!(md, "- ❌ {}", cell(b));
                commands.push_str(&command(Level::Error, "capsim: objective breached", b));
            }
        }
    }
    md.push('\n');
    let judged = outcome.expectations();
    if !judged.is_empty() {
        use capsim_output::claims::{Verdict, expected_text, found_text};
        md.push_str("| the seed says | figure | expected | capsim finds | verdict |\n|---|---|--:|--:|---|\n");
        for j in judged {
            let _ = writeln!(
                md,
                "| {} | `{}` | {} | {} | {} |",
                cell(&j.claim),
                cell(&j.metric),
                cell(&expected_text(&j.expected)),
                cell(&found_text(&j.found)),
                match j.verdict {
                    Verdict::Agrees => "✅ agrees".to_string(),
                    Verdict::Disagrees => "❌ disagrees".to_string(),
                    other => other.label().to_string(),
                }
            );
        }
        md.push('\n');
        for c in capsim_output::claims::contradicted(judged) {
            commands.push_str(&command(
                Level::Error,
                "capsim: the run contradicts an expectation",
                &c,
            ));
        }
    }
    publish(&commands, &md, json)
}

/// `sweep --check`: with no point meeting every objective, an error per
/// objective some point breaches; else a warning per objective the
/// baseline breaches. The verdict table lists each objective.
pub fn sweep_check(report: &SweepReport, plan: &SweepPlan, json: bool) -> Result<(), Failure> {
    let points = report.points.len();
    let base = &report.points[0];
    let n = report.replications;
    let base_breaches = |o: &str| -> u64 {
        base.figures
            .get(&format!("slo:{o}:breached"))
            .map_or(0, |e| (e.estimate * n as f64).round() as u64)
    };
    let pass = report.cheapest_meeting_slos.is_some();
    let mut commands = String::new();
    let mut md = format!(
        "### capsim sweep `{}`: {}\n\n{points} points × {n} replications, seed {}\n\n| objective | points meeting it | baseline |\n|---|--:|---|\n",
        cell(&report.scenario),
        if pass {
            "a point meets every objective"
        } else {
            "no point meets every objective"
        },
        report.seed
    );
    for o in &report.objectives {
        let at = breaching_points(report, o);
        let b = base_breaches(o);
        let _ = writeln!(
            md,
            "| {} | {} of {points} | {} |",
            cell(o),
            points - at,
            if b == 0 {
                "✅ met".to_string()
            } else {
                format!("❌ breached {b}/{n}")
            }
        );
        if !pass && at > 0 {
            commands.push_str(&command(
                Level::Error,
                &format!("capsim sweep: objective {o} breached"),
                &format!(
                    "{}: {o} breached at {at} of {points} points; no point meets every objective",
                    report.scenario
                ),
            ));
        } else if pass && b > 0 {
            let cheapest = report.cheapest_meeting_slos.unwrap_or(0);
            commands.push_str(&command(
                Level::Warning,
                &format!("capsim sweep: the baseline breaches {o}"),
                &format!(
                    "{}: the scenario as written breaches {o} in {b} of {n} replications; point {cheapest} meets every objective ({})",
                    report.scenario,
                    plan.run_command(cheapest)
                ),
            ));
        }
    }
    let _ = writeln!(md, "\n```\n{}```\n", report.verdict(plan));
    publish(&commands, &md, json)
}

/// The objectives that keep a sweep from passing its check, each with the
/// points that breach it.
pub fn sweep_breaches(report: &SweepReport) -> Vec<String> {
    let points = report.points.len();
    report
        .objectives
        .iter()
        .filter_map(|o| {
            let at = breaching_points(report, o);
            (at > 0).then(|| format!("{o} (at {at} of {points} points)"))
        })
        .collect()
}

/// How many points breach objective `o` in some replication.
fn breaching_points(report: &SweepReport, o: &str) -> usize {
    let key = format!("slo:{o}:breached");
    report
        .points
        .iter()
        .filter(|p| p.figures.get(&key).is_some_and(|e| e.estimate > 0.0))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_escape_what_ends_a_property_or_a_line() {
        assert_eq!(
            command(Level::Error, "a: b, c", "50% of\nrequests"),
            "::error title=a%3A b%2C c::50%25 of%0Arequests\n"
        );
        assert_eq!(
            command(Level::Warning, "t", "p99: 1, 2"),
            "::warning title=t::p99: 1, 2\n"
        );
    }
}
