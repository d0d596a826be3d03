//! capsim's scenario format.
//!
//! ```text
//!   text ──parse (spans)──► toml table ──--set──► raw structs ──build──► Scenario
//!    │                                              (serde, no unknown keys)  (validated,
//!    └── every error is mapped back to file:line:column and a field path      PlatformConfig)
//! ```
//!
//! The format is documented in `docs/scenario-format.md`; the bundled
//! scenarios in `library/` are embedded in the binary.

pub mod build;
pub mod catalogue;
pub mod doc;
pub mod error;
pub mod library;
pub mod overrides;
pub mod raw;
pub mod sensitivity;
pub mod sweep;

use std::path::{Path, PathBuf};

pub use build::{Scenario, build_dist};
pub use error::{Diagnostic, FieldPath, Origin, ScenarioError, Segment};
pub use overrides::Override;
pub use raw::TIER_KINDS;
pub use raw::schema;

use crate::doc::SourceDoc;

/// Loads a scenario from `text`; `source` names it in messages (a file path,
/// or `bundled scenario "NAME"`). Overrides are applied in order before
/// validation. Relative paths inside (replayed traces) are resolved against
/// the working directory; see [`load_str_in`].
pub fn load_str(
    source: &str,
    text: &str,
    overrides: &[Override],
) -> Result<Scenario, ScenarioError> {
    load_str_in(source, text, None, overrides)
}

/// [`load_str`] for a scenario whose relative paths are resolved against
/// `dir` (its file's directory).
pub fn load_str_in(
    source: &str,
    text: &str,
    dir: Option<&Path>,
    overrides: &[Override],
) -> Result<Scenario, ScenarioError> {
    let fail = |diagnostics: Vec<Diagnostic>| ScenarioError {
        source: source.to_string(),
        diagnostics,
    };
    let doc = SourceDoc::parse(text).map_err(|(message, pos)| {
        fail(vec![Diagnostic {
            origin: pos
                .map(|(line, column)| Origin::File { line, column })
                .unwrap_or(Origin::Unknown),
            field: FieldPath::root(),
            message: format!("TOML syntax error: {message}"),
        }])
    })?;
    let mut table: toml::Table =
        toml::from_str(text).map_err(|e| fail(vec![doc::decode_error(&doc, &e)]))?;
    for ov in overrides {
        ov.apply(&mut table).map_err(|message| {
            fail(vec![Diagnostic {
                origin: Origin::Override(ov.raw.clone()),
                field: ov.path.clone(),
                message,
            }])
        })?;
    }
    let locate = |path: FieldPath, message: String| -> Diagnostic {
        // An override at or above the field is the cause; if the field is a
        // table that several overrides wrote into, any of them may be.
        let from_override: Vec<&Override> =
            match overrides.iter().rev().find(|ov| path.starts_with(&ov.path)) {
                Some(ov) => vec![ov],
                None if path.is_empty() => vec![],
                None => overrides
                    .iter()
                    .filter(|ov| ov.path.starts_with(&path))
                    .collect(),
            };
        let origin = match from_override.as_slice() {
            [ov] => Origin::Override(ov.raw.clone()),
            [_, ..] => Origin::Override(format!(
                "from {}",
                from_override
                    .iter()
                    .map(|ov| match ov.raw.strip_prefix("from ") {
                        Some(flag) => flag.to_string(),
                        None => format!("--set {}", ov.raw),
                    })
                    .collect::<Vec<_>>()
                    .join(" and ")
            )),
            [] => doc
                .locate(&path)
                .map(|(line, column)| Origin::File { line, column })
                .unwrap_or(Origin::Unknown),
        };
        Diagnostic {
            origin,
            field: path,
            message,
        }
    };
    // The assumptions show the inputs' values as this run has them.
    let written = table.contains_key("assumptions").then(|| table.clone());
    let raw: raw::RawScenario = serde_path_to_error::deserialize(toml::Value::Table(table))
        .map_err(|e| {
            let (path, message) = build::serde_problem(&FieldPath::root(), e);
            fail(vec![locate(path, message)])
        })?;
    let sort_fail = |problems: Vec<build::Problem>| {
        let mut diagnostics: Vec<Diagnostic> = problems
            .into_iter()
            .map(|(path, message)| locate(path, message))
            .collect();
        // In file order, overrides last; the sort is stable for ties.
        diagnostics.sort_by_key(|d| match d.origin {
            Origin::File { line, column } => (0, line, column),
            Origin::Override(_) => (1, 0, 0),
            Origin::Unknown => (2, 0, 0),
        });
        fail(diagnostics)
    };
    let mut scenario = build::build(raw, dir).map_err(sort_fail)?;
    let mut problems = Vec::new();
    if let Some(written) = &written {
        // An input the scenario has but a variant or `--set` took away is
        // not in this run; one the file itself lacks is a mistake.
        let as_written: Option<toml::Table> = toml::from_str(text).ok();
        for (i, a) in scenario.assumptions.iter_mut().enumerate() {
            let path = FieldPath::parse(&a.input).expect("checked when built");
            match overrides::lookup(written, &path) {
                Ok(v) => a.value = value_text(v),
                Err(_)
                    if as_written
                        .as_ref()
                        .is_some_and(|t| overrides::lookup(t, &path).is_ok()) =>
                {
                    a.value = "(not in this run)".to_string();
                }
                Err(m) => problems.push((
                    FieldPath::root().key("assumptions").index(i).key("input"),
                    m,
                )),
            }
        }
    }
    if !problems.is_empty() {
        return Err(sort_fail(problems));
    }
    for (i, e) in scenario.expectations.iter_mut().enumerate() {
        let field = FieldPath::root().key("expectations").index(i).key("metric");
        e.located = fail(vec![locate(field, String::new())]).to_string();
    }
    Ok(scenario)
}

/// A value as a scenario file writes it, on one line.
fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        // An inline table or list as TOML writes it inline.
        other => other.to_string(),
    }
}

/// Reads and loads a scenario file.
pub fn load_file(path: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    let source = path.display().to_string();
    let text = read_text(path)?;
    load_str_in(&source, &text, path.parent(), overrides)
}

fn read_text(path: &Path) -> Result<String, ScenarioError> {
    let source = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| ScenarioError::io(&source, format!("cannot read the scenario file: {e}")))?;
    String::from_utf8(bytes)
        .map_err(|e| ScenarioError::io(&source, format!("the file is not UTF-8 text: {e}")))
}

/// A scenario's text and the name messages use for it.
pub struct Source {
    pub name: String,
    pub text: String,
    /// The file's directory (`None` for a bundled scenario).
    pub dir: Option<PathBuf>,
}

impl Source {
    /// Loads this scenario with `overrides` applied.
    pub fn load(&self, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
        load_str_in(&self.name, &self.text, self.dir.as_deref(), overrides)
    }

    /// Loads this scenario with its `variant` applied, then `overrides`.
    /// Returns every override applied (the variant's first) and the
    /// scenario, which knows its variant.
    pub fn load_variant(
        &self,
        variant: Option<&str>,
        overrides: Vec<Override>,
    ) -> Result<(Vec<Override>, Scenario), ScenarioError> {
        let mut all = match variant {
            Some(v) => self.variant(v)?,
            None => Vec::new(),
        };
        all.extend(overrides);
        let mut scenario = self.load(&all)?;
        scenario.variant = variant.map(str::to_string);
        Ok((all, scenario))
    }

    /// The overrides of the scenario's `[variants.NAME]`, to apply before
    /// any given on the command line. Messages about a field one of them
    /// wrote name the variant.
    pub fn variant(&self, name: &str) -> Result<Vec<Override>, ScenarioError> {
        Ok(variant_overrides(&self.find_variant(name)?))
    }

    /// Variant `name`'s `set` entries as written (`PATH=VALUE`).
    pub fn variant_sets(&self, name: &str) -> Result<Vec<String>, ScenarioError> {
        Ok(self.find_variant(name)?.set)
    }

    fn find_variant(&self, name: &str) -> Result<build::Variant, ScenarioError> {
        // The scenario as written validates its variants (file:line:field).
        let scenario = self.load(&[])?;
        let Some(v) = scenario.variants.iter().find(|v| v.name == name) else {
            let names: Vec<&str> = scenario.variants.iter().map(|v| v.name.as_str()).collect();
            return Err(ScenarioError::io(
                &self.name,
                if names.is_empty() {
                    format!("--variant {name}: the scenario defines no variants")
                } else {
                    format!(
                        "--variant {name}: no such variant (it has: {})",
                        names.join(", ")
                    )
                },
            ));
        };
        Ok(v.clone())
    }

    /// Loads `scenario` (this source as written) with each of its variants
    /// applied, so that a variant setting a field that does not exist (or a
    /// value the field cannot take) is found before anyone runs it.
    /// Problems point at the variant's `set` entry.
    pub fn check_variants(&self, scenario: &Scenario) -> Result<(), ScenarioError> {
        let doc = SourceDoc::parse(&self.text).ok();
        let mut diagnostics = Vec::new();
        for v in &scenario.variants {
            let overrides = variant_overrides(v);
            let Err(e) = self.load(&overrides) else {
                continue;
            };
            for d in e.diagnostics {
                let entry = match &d.origin {
                    Origin::Override(raw) => overrides.iter().position(|ov| &ov.raw == raw),
                    _ => None,
                };
                let Some(i) = entry else {
                    // A problem the variant's fields cause elsewhere.
                    diagnostics.push(Diagnostic {
                        message: format!("with --variant {}: {}", v.name, d.message),
                        ..d
                    });
                    continue;
                };
                let field = FieldPath::root()
                    .key("variants")
                    .key(&v.name)
                    .key("set")
                    .index(i);
                let origin = doc
                    .as_ref()
                    .and_then(|doc| doc.locate(&field))
                    .map(|(line, column)| Origin::File { line, column })
                    .unwrap_or(Origin::Unknown);
                diagnostics.push(Diagnostic {
                    origin,
                    message: format!("`{}`: {}", d.field, d.message),
                    field,
                });
            }
        }
        if diagnostics.is_empty() {
            Ok(())
        } else {
            Err(ScenarioError {
                source: self.name.clone(),
                diagnostics,
            })
        }
    }
}

/// A variant's `set` entries as overrides; messages about a field one of
/// them wrote name the variant.
fn variant_overrides(v: &build::Variant) -> Vec<Override> {
    v.set
        .iter()
        .map(|s| {
            let mut ov = Override::parse(s).expect("validated when the scenario was built");
            ov.raw = format!("from --variant {}: {s}", v.name);
            ov
        })
        .collect()
}

/// Finds a scenario by file path or by bundled name. An existing file wins; a
/// directory never does (a `./greenstack` folder does not hide the bundled
/// `greenstack`); a name that is neither gets a message listing the bundled
/// scenarios.
pub fn resolve(name_or_path: &str) -> Result<Source, ScenarioError> {
    let path = Path::new(name_or_path);
    if path.is_dir() && library::find(name_or_path).is_none() {
        return Err(ScenarioError::io(
            name_or_path,
            "is a directory: give a scenario file (TOML) or a bundled scenario's name".to_string(),
        ));
    }
    if path.exists() && !path.is_dir() {
        return Ok(Source {
            name: name_or_path.to_string(),
            text: read_text(path)?,
            dir: path.parent().map(Path::to_path_buf),
        });
    }
    if let Some(b) = library::find(name_or_path) {
        return Ok(Source {
            name: format!("bundled scenario \"{}\"", b.name),
            text: b.text.to_string(),
            dir: None,
        });
    }
    let looks_like_path = name_or_path.contains('/') || name_or_path.ends_with(".toml");
    let names: Vec<&str> = library::all().iter().map(|b| b.name).collect();
    let message = if looks_like_path {
        "no such file".to_string()
    } else {
        format!(
            "no scenario file or bundled scenario of that name (bundled: {}; see `capsim scenarios list`)",
            names.join(", ")
        )
    };
    Err(ScenarioError::io(name_or_path, message))
}

/// Resolves and loads a scenario by file path or bundled name.
pub fn load(name_or_path: &str, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    resolve(name_or_path)?.load(overrides)
}
