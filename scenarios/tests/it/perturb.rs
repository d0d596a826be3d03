//! Random perturbations of the bundled scenarios either load or fail with a
//! message; the loader never panics (issue 9).
//!
//! Every case starts from a bundled scenario's text and breaks it:
//!
//! - at the text level (a deleted byte range, a duplicated or swapped line,
//!   an inserted character or token, a truncation), which mostly reaches the
//!   TOML parser and the unknown-key checks;
//! - at the value level, which reaches the semantic checks: a value is
//!   replaced (a negative, zero, huge or non-finite number, an empty string,
//!   the wrong type, an odd duration, an empty list or table), a key is
//!   removed, an unknown key is added. Each such edit is applied both as a
//!   `--set` override on the unchanged text and, written into the parsed
//!   table, as a rewritten file, so both ways a value reaches validation are
//!   exercised.
//!
//! When a perturbed scenario loads, its variants are checked too
//! (`Source::check_variants`, what `capsim validate` does), since a perturbed
//! `variants.*.set` entry is itself an override.
//!
//! A systematic sweep sets every scalar of every bundled scenario to each of
//! a few troublesome values (among them the overflows this test found).
//!
//! On an error, every diagnostic must have a message and a place: a
//! `line:column` inside the text it was given, the `--set` argument, or at
//! least a field path (a missing top-level table has none of these, and its
//! message names it: "missing field `scenario`"); the rendered error starts
//! with the source name and shows each of them. The RNG seed is fixed, so a
//! run is reproducible; a failure prints the shrunk input and a description
//! of the edits.

use capsim_scenarios::{FieldPath, Origin, Override, ScenarioError, Source, library, load_str};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use toml::{Table, Value};

use crate::common::proptest_config as config;

/// Cases per property. A load takes about a millisecond with the test
/// profile (capsim-scenarios is compiled at opt-level 0 there, see
/// Cargo.toml); a value case loads twice, and a case that loads checks its
/// variants too. About 6 s for the text cases and 14 to 17 s for the value cases.
const TEXT_CASES: u32 = 5000;
const VALUE_CASES: u32 = 4000;

fn bundled_name() -> impl Strategy<Value = &'static str> {
    select(library::all().iter().map(|b| b.name).collect::<Vec<_>>())
}

fn text_of(name: &str) -> &'static str {
    library::find(name).expect("a bundled name").text
}

// ---------------------------------------------------------------------------
// The property.

/// Loads `text` with `overrides` and checks the outcome: `Ok`, or an error
/// whose every diagnostic has a message and a place. `what` describes the
/// perturbation, for the failure message.
fn check_load(
    source: &str,
    text: &str,
    overrides: &[Override],
    what: &str,
) -> Result<(), TestCaseError> {
    match load_str(source, text, overrides) {
        Ok(scenario) => {
            let src = Source {
                name: source.to_string(),
                text: text.to_string(),
                dir: None,
            };
            if overrides.is_empty()
                && let Err(e) = src.check_variants(&scenario)
            {
                check_error(&e, source, text, &format!("{what} (check_variants)"))?;
            }
            Ok(())
        }
        Err(e) => check_error(&e, source, text, what),
    }
}

fn check_error(
    e: &ScenarioError,
    source: &str,
    text: &str,
    what: &str,
) -> Result<(), TestCaseError> {
    let shown = e.to_string();
    prop_assert_eq!(&e.source, source, "{}\n{}", what, shown);
    prop_assert!(
        !e.diagnostics.is_empty(),
        "an error without diagnostics\n{what}"
    );
    prop_assert!(
        shown.starts_with(source),
        "the message does not start with the source name\n{what}\n{shown}"
    );
    // Positions count lines by '\n' and columns in characters (doc::line_col).
    let lines: Vec<&str> = text.split('\n').collect();
    for d in &e.diagnostics {
        prop_assert!(
            !d.message.trim().is_empty(),
            "an empty message: {d:?}\n{what}\n{shown}"
        );
        match &d.origin {
            Origin::File { line, column } => {
                prop_assert!(
                    (1..=lines.len()).contains(line),
                    "line {line} is outside the text ({} lines): {d:?}\n{what}\n{shown}",
                    lines.len()
                );
                let width = lines[line - 1].chars().count();
                prop_assert!(
                    (1..=width + 1).contains(column),
                    "column {column} is outside line {line} ({width} characters): {d:?}\n{what}\n{shown}"
                );
                let at = format!("{source}:{line}:{column}: ");
                prop_assert!(shown.contains(&at), "`{at}` is not shown\n{what}\n{shown}");
            }
            Origin::Override(arg) => {
                prop_assert!(!arg.is_empty(), "an empty override origin: {d:?}\n{what}");
                prop_assert!(
                    shown.contains(arg.as_str()),
                    "the override `{arg}` is not shown\n{what}\n{shown}"
                );
            }
            // Nothing in the file to point at (a missing top-level table):
            // the message must then name the field itself.
            Origin::Unknown => prop_assert!(
                !d.field.is_empty() || names_a_field(&d.message),
                "neither a position nor a field: {d:?}\n{what}\n{shown}"
            ),
        }
        if !d.field.is_empty() {
            let field = format!("field `{}`", d.field);
            prop_assert!(
                shown.contains(&field),
                "{field} is not shown\n{what}\n{shown}"
            );
        }
    }
    Ok(())
}

/// True if `message` names a field in backquotes (serde's "missing field
/// `scenario`").
fn names_a_field(message: &str) -> bool {
    let mut parts = message.split('`');
    parts.next();
    matches!((parts.next(), parts.next()), (Some(name), Some(_)) if !name.is_empty())
}

// ---------------------------------------------------------------------------
// Text-level perturbations.

/// Characters and tokens that matter to TOML and to capsim's value syntax.
const TOKENS: &[&str] = &[
    "\"",
    "'",
    "\"\"\"",
    "'''",
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    "=",
    ",",
    ".",
    "#",
    "\n",
    "\r",
    "\t",
    "\\",
    "\\u",
    "\0",
    "-",
    "+",
    "0",
    "9",
    "e",
    "_",
    "%",
    "nan",
    "inf",
    "1e400",
    "µ",
    "ms",
    "é",
    "\u{feff}",
    "\u{10ffff}",
    " = 1\n",
    "\n[x]\n",
    "\n[[slos]]\n",
];

#[derive(Clone, Debug)]
enum TextEdit {
    /// Deletes up to `len` bytes from a position.
    Delete {
        at: Index,
        len: usize,
    },
    DuplicateLine {
        line: Index,
    },
    SwapLines {
        a: Index,
        b: Index,
    },
    Insert {
        at: Index,
        what: String,
    },
    Truncate {
        at: Index,
    },
}

fn text_edit() -> impl Strategy<Value = TextEdit> {
    let insert = prop_oneof![
        select(TOKENS).prop_map(str::to_string),
        any::<char>().prop_map(String::from),
    ];
    prop_oneof![
        (any::<Index>(), 1..64usize).prop_map(|(at, len)| TextEdit::Delete { at, len }),
        (any::<Index>(), 64..2048usize).prop_map(|(at, len)| TextEdit::Delete { at, len }),
        any::<Index>().prop_map(|line| TextEdit::DuplicateLine { line }),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| TextEdit::SwapLines { a, b }),
        (any::<Index>(), insert).prop_map(|(at, what)| TextEdit::Insert { at, what }),
        any::<Index>().prop_map(|at| TextEdit::Truncate { at }),
    ]
}

/// The largest character boundary at or before `i`.
fn boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A position in `s` (0..=len) on a character boundary.
fn position(s: &str, at: &Index) -> usize {
    boundary(s, at.index(s.len() + 1))
}

/// Applies `edit` and says what it did, with the line it touched.
fn apply_text(text: &mut String, edit: &TextEdit) -> String {
    let line_of = |s: &str, pos: usize| s[..pos].matches('\n').count() + 1;
    match edit {
        TextEdit::Delete { at, len } => {
            let start = position(text, at);
            let end = boundary(text, start + len);
            let gone: String = text.drain(start..end).collect();
            format!("deleted {gone:?} at line {}", line_of(text, start))
        }
        TextEdit::DuplicateLine { line } => {
            let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
            let i = line.index(lines.len());
            let copy = lines[i].clone();
            lines.insert(i, copy.clone());
            *text = lines.join("\n");
            format!("duplicated line {}: {copy:?}", i + 1)
        }
        TextEdit::SwapLines { a, b } => {
            let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
            let (i, j) = (a.index(lines.len()), b.index(lines.len()));
            lines.swap(i, j);
            *text = lines.join("\n");
            format!("swapped lines {} and {}", i + 1, j + 1)
        }
        TextEdit::Insert { at, what } => {
            let pos = position(text, at);
            text.insert_str(pos, what);
            format!("inserted {what:?} at line {}", line_of(text, pos))
        }
        TextEdit::Truncate { at } => {
            let pos = position(text, at);
            text.truncate(pos);
            format!("truncated at line {} (byte {pos})", line_of(text, pos))
        }
    }
}

proptest! {
    #![proptest_config(config(TEXT_CASES, 0x5eed_0009))]

    #[test]
    fn text_perturbations_load_or_explain(
        name in bundled_name(),
        edits in prop::collection::vec(text_edit(), 1..=3),
    ) {
        let mut text = text_of(name).to_string();
        let what: Vec<String> = edits.iter().map(|e| apply_text(&mut text, e)).collect();
        let what = format!("{name}: {}", what.join("; "));
        check_load(&format!("perturbed {name}.toml"), &text, &[], &what)?;
    }
}

// ---------------------------------------------------------------------------
// Value-level perturbations.

/// Replacement values, as TOML (what follows `=` in `--set PATH=VALUE`).
const VALUES: &[&str] = &[
    // Numbers.
    "-1",
    "-0.5",
    "0",
    "0.0",
    "-0.0",
    "1",
    "0.5",
    "1e300",
    "-1e300",
    "5e-324",
    "9223372036854775807",
    "-9223372036854775808",
    "4294967296",
    "65536",
    "nan",
    "inf",
    "-inf",
    // Other types.
    "true",
    "\"\"",
    "\" \"",
    "\"abc\"",
    "1979-05-27T07:32:00Z",
    "07:32:00",
    // Durations.
    "\"-5s\"",
    "\"0s\"",
    "\"0ns\"",
    "\"1ns\"",
    "\"99999999999999999d\"",
    "\"1e400h\"",
    "\"1e-400s\"",
    "\"nan s\"",
    "\"inf ms\"",
    "\"18446744073709551616ns\"",
    "\"18446744073709551615ns\"",
    "\"213503d\"",
    "\"36500d\"",
    "\"36501d\"",
    "\"30000w\"",
    "\"5\"",
    "\"5 parsecs\"",
    "\"1.5.2ms\"",
    "\"µs\"",
    // Percentages, sizes, dates.
    "\"0%\"",
    "\"-50%\"",
    "\"1e999%\"",
    "\"%\"",
    "\"0B\"",
    "\"-1KB\"",
    "\"1e400GB\"",
    "\"99999999999999999999TB\"",
    "\"2026-02-30T00:00:00Z\"",
    "\"2026-11-27T00:00:00-25:00\"",
    "\"9999-12-31T23:59:59+14:00\"",
    "\"0000-01-01T00:00:00Z\"",
    // Override strings (for `variants.*.set`).
    "\"=\"",
    "\"a..b=1\"",
    "\"[0]=1\"",
    "\"tiers=1\"",
    "\"simulation.duration=-1s\"",
    // Lists and tables.
    "[]",
    "[0]",
    "[-1, 1e300]",
    "[\"a\", 1]",
    "[[]]",
    "{}",
    "{ dist = \"exponential\" }",
    "{ dist = \"exponential\", mean = \"0s\" }",
    "{ kind = \"nope\" }",
    "{ type = \"target\" }",
];

#[derive(Clone, Debug)]
enum ValueEdit {
    /// Replaces a scalar (or, with `node`, any value: a table or a list
    /// too) with a value from [`VALUES`].
    Replace {
        target: Index,
        node: bool,
        value: &'static str,
    },
    /// A string becomes a number and a number a string.
    FlipType { target: Index },
    /// Removes a key (a scalar or a whole table). Written into the file only:
    /// an override cannot remove.
    Remove { target: Index },
    /// Adds a key no table accepts.
    AddUnknown { table: Index },
    /// Writes a field under a scalar (`PATH.extra=1`).
    Descend { target: Index },
    /// Writes past the end of a list.
    PastEnd { list: Index },
}

fn value_edit() -> impl Strategy<Value = ValueEdit> {
    prop_oneof![
        6 => (any::<Index>(), select(VALUES)).prop_map(|(target, value)| ValueEdit::Replace {
            target,
            node: false,
            value,
        }),
        1 => (any::<Index>(), select(VALUES)).prop_map(|(target, value)| ValueEdit::Replace {
            target,
            node: true,
            value,
        }),
        2 => any::<Index>().prop_map(|target| ValueEdit::FlipType { target }),
        2 => any::<Index>().prop_map(|target| ValueEdit::Remove { target }),
        1 => any::<Index>().prop_map(|table| ValueEdit::AddUnknown { table }),
        1 => any::<Index>().prop_map(|target| ValueEdit::Descend { target }),
        1 => any::<Index>().prop_map(|list| ValueEdit::PastEnd { list }),
    ]
}

/// The paths of a scenario's values, as `--set` writes them
/// (`tiers.api.scaling.policies[0].target`).
#[derive(Default)]
struct Paths {
    /// Strings, numbers, booleans and dates, with their values.
    scalars: Vec<(FieldPath, Value)>,
    /// Every value but the root.
    nodes: Vec<FieldPath>,
    /// Tables, the root included.
    tables: Vec<FieldPath>,
    /// Lists, with their lengths.
    lists: Vec<(FieldPath, usize)>,
}

impl Paths {
    fn of(table: &Table) -> Paths {
        let mut paths = Paths::default();
        paths.tables.push(FieldPath::root());
        paths.walk_table(&FieldPath::root(), table);
        paths
    }

    fn walk_table(&mut self, at: &FieldPath, table: &Table) {
        for (k, v) in table {
            let path = at.key(k);
            // Only keys an override can name (`--set` reads `a.0` as an
            // index, and has no quoting).
            if FieldPath::parse(&path.to_string()).as_ref() == Some(&path) {
                self.walk(path, v);
            }
        }
    }

    fn walk(&mut self, path: FieldPath, v: &Value) {
        self.nodes.push(path.clone());
        match v {
            Value::Table(t) => {
                self.tables.push(path.clone());
                self.walk_table(&path, t);
            }
            Value::Array(a) => {
                self.lists.push((path.clone(), a.len()));
                for (i, item) in a.iter().enumerate() {
                    self.walk(path.index(i), item);
                }
            }
            scalar => self.scalars.push((path, scalar.clone())),
        }
    }
}

fn pick<'a, T>(items: &'a [T], i: &Index) -> Option<&'a T> {
    (!items.is_empty()).then(|| &items[i.index(items.len())])
}

/// What an edit does: an override, or the removal of a key.
enum Resolved {
    Set(String),
    Remove(FieldPath),
}

fn resolve(edit: &ValueEdit, paths: &Paths) -> Option<Resolved> {
    let set = |path: &FieldPath, value: &str| {
        let sep = if path.is_empty() { "" } else { "." };
        Resolved::Set(format!("{path}{sep}{value}"))
    };
    Some(match edit {
        ValueEdit::Replace {
            target,
            node: false,
            value,
        } => {
            let (path, _) = pick(&paths.scalars, target)?;
            Resolved::Set(format!("{path}={value}"))
        }
        ValueEdit::Replace {
            target,
            node: true,
            value,
        } => Resolved::Set(format!("{}={value}", pick(&paths.nodes, target)?)),
        ValueEdit::FlipType { target } => {
            let (path, old) = pick(&paths.scalars, target)?;
            let new = match old {
                Value::String(s) => {
                    // "25ms" → 25, "80%" → 80, else 1.
                    let digits: String = s
                        .chars()
                        .take_while(|c| c.is_ascii_digit() || *c == '.')
                        .collect();
                    match digits.parse::<f64>() {
                        Ok(_) => digits,
                        Err(_) => "1".to_string(),
                    }
                }
                Value::Boolean(_) => "1".to_string(),
                other => format!("\"{other}\""),
            };
            Resolved::Set(format!("{path}={new}"))
        }
        ValueEdit::Remove { target } => Resolved::Remove(pick(&paths.nodes, target)?.clone()),
        ValueEdit::AddUnknown { table } => set(pick(&paths.tables, table)?, "zz_unknown=1"),
        ValueEdit::Descend { target } => {
            let (path, _) = pick(&paths.scalars, target)?;
            Resolved::Set(format!("{path}.extra=1"))
        }
        ValueEdit::PastEnd { list } => {
            let (path, len) = pick(&paths.lists, list)?;
            Resolved::Set(format!("{path}[{}]=1", len + 3))
        }
    })
}

/// Removes the value at `path`, if it is there.
fn remove(table: &mut Table, path: &FieldPath) {
    use capsim_scenarios::Segment;
    let Some((last, parents)) = path.0.split_last() else {
        return;
    };
    let mut cur: &mut Value = match parents.first() {
        None => {
            if let Segment::Key(k) = last {
                table.remove(k.as_str());
            }
            return;
        }
        Some(Segment::Key(k)) => match table.get_mut(k.as_str()) {
            Some(v) => v,
            None => return,
        },
        Some(Segment::Index(_)) => return,
    };
    for seg in &parents[1..] {
        let next = match (seg, cur) {
            (Segment::Key(k), Value::Table(t)) => t.get_mut(k.as_str()),
            (Segment::Index(i), Value::Array(a)) => a.get_mut(*i),
            _ => None,
        };
        match next {
            Some(v) => cur = v,
            None => return,
        }
    }
    match (last, cur) {
        (Segment::Key(k), Value::Table(t)) => {
            t.remove(k.as_str());
        }
        (Segment::Index(i), Value::Array(a)) if *i < a.len() => {
            a.remove(*i);
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(config(VALUE_CASES, 0x5eed_0109))]

    #[test]
    fn value_perturbations_load_or_explain(
        name in bundled_name(),
        edits in prop::collection::vec(value_edit(), 1..=3),
    ) {
        let text = text_of(name);
        let mut table: Table = toml::from_str(text).expect("a bundled scenario is TOML");
        let paths = Paths::of(&table);
        let resolved: Vec<Resolved> = edits.iter().filter_map(|e| resolve(e, &paths)).collect();

        // As `--set` overrides on the unchanged file.
        let overrides: Vec<Override> = resolved
            .iter()
            .filter_map(|r| match r {
                Resolved::Set(arg) => Some(
                    Override::parse(arg)
                        .unwrap_or_else(|e| panic!("`{arg}` does not parse as an override: {e}")),
                ),
                Resolved::Remove(_) => None,
            })
            .collect();
        if !overrides.is_empty() {
            let what: Vec<String> = overrides.iter().map(|o| format!("--set {}", o.raw)).collect();
            let what = format!("{name}: {}", what.join(" "));
            check_load(&format!("bundled scenario \"{name}\""), text, &overrides, &what)?;
        }

        // Written into the file (edits an override cannot make are skipped).
        let mut done = Vec::new();
        for r in &resolved {
            match r {
                Resolved::Set(arg) => {
                    let ov = Override::parse(arg).expect("parsed above");
                    if ov.apply(&mut table).is_ok() {
                        done.push(format!("set {arg}"));
                    }
                }
                Resolved::Remove(path) => {
                    remove(&mut table, path);
                    done.push(format!("removed {path}"));
                }
            }
        }
        let rewritten = toml::to_string(&table)
            .unwrap_or_else(|e| panic!("{name}: the edited table does not serialise: {e}"));
        let what = format!("{name} rewritten: {}", done.join("; "));
        check_load(&format!("perturbed {name}.toml"), &rewritten, &[], &what)?;
    }
}

/// The values the systematic sweep ([`sweep`]) tries: one of each kind of
/// trouble (the random cases try all of [`VALUES`]).
const SWEEP: &[&str] = &[
    "-1",
    "0",
    "1e300",
    "9223372036854775807",
    "nan",
    "-inf",
    "\"\"",
    "\"abc\"",
    "true",
    "\"-5s\"",
    "\"0s\"",
    "\"1e400h\"",
    "\"-50%\"",
    "[]",
    "{}",
    // Found by this test (they made the loader panic on integer overflow):
    // i64::MIN as a scaling `change` (its absolute value overflowed), and
    // durations near u64::MAX nanoseconds added to others (windows' offset
    // + duration, a region's user rtt + the rtt between regions). Durations
    // in a file are now at most 100 years.
    "-9223372036854775808",
    "\"18446744073709551615ns\"",
    "\"213503d\"",
];

/// Every scalar of every bundled scenario, replaced by every value of
/// [`SWEEP`] in turn through `--set`: the systematic sweep behind the random
/// cases above. In two tests, each with every other scalar of every
/// scenario, so that the test threads share its ~30 s evenly.
#[test]
fn every_scalar_takes_every_value_first_half() {
    sweep(SWEEP, 0);
}

#[test]
fn every_scalar_takes_every_value_second_half() {
    sweep(SWEEP, 1);
}

/// Sets every other scalar of each bundled scenario (those at even indices
/// for `half` 0, odd for 1) to each of `values`; reports every failing
/// override, not just the first.
fn sweep(values: &[&str], half: usize) {
    let mut loads = 0usize;
    let mut failures = Vec::new();
    for b in library::all() {
        let table: Table = toml::from_str(b.text).unwrap();
        let paths = Paths::of(&table);
        let source = format!("bundled scenario \"{}\"", b.name);
        for (path, _) in paths.scalars.iter().skip(half).step_by(2) {
            for value in values {
                let arg = format!("{path}={value}");
                let ov = Override::parse(&arg).unwrap();
                let what = format!("{}: --set {arg}", b.name);
                let outcome = std::panic::catch_unwind(|| {
                    check_load(&source, b.text, std::slice::from_ref(&ov), &what)
                });
                match outcome {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => failures.push(format!("{e}")),
                    Err(panic) => {
                        failures.push(format!("{what}: panicked: {}", panic_message(&*panic)))
                    }
                }
                loads += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {loads} loads failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(loads > 5000, "only {loads} loads");
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(not a string)".to_string()
    }
}
