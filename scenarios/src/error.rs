//! Scenario errors: every problem names where it is (file, line, column) and
//! which field (a dotted path), so a user can go straight to it.

use std::fmt;

/// A path to a field: `tiers.api.service.mean`, `classes.web.route[1]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Segment>);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

impl FieldPath {
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }

    pub fn key(&self, k: &str) -> FieldPath {
        let mut v = self.0.clone();
        v.push(Segment::Key(k.to_string()));
        FieldPath(v)
    }

    pub fn index(&self, i: usize) -> FieldPath {
        let mut v = self.0.clone();
        v.push(Segment::Index(i));
        FieldPath(v)
    }

    pub fn join(&self, rest: &FieldPath) -> FieldPath {
        let mut v = self.0.clone();
        v.extend(rest.0.iter().cloned());
        FieldPath(v)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True if `self` equals `prefix` or lies beneath it.
    pub fn starts_with(&self, prefix: &FieldPath) -> bool {
        self.0.len() >= prefix.0.len() && self.0[..prefix.0.len()] == prefix.0[..]
    }

    /// Parses a dotted path as written on the command line: `a.b.0.c` or
    /// `a.b[0].c`.
    pub fn parse(s: &str) -> Option<FieldPath> {
        let mut segs = Vec::new();
        for part in s.split('.') {
            let (name, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if name.is_empty() && rest.is_empty() {
                return None;
            }
            if !name.is_empty() {
                match name.parse::<usize>() {
                    Ok(i) if segs.last().is_some() => segs.push(Segment::Index(i)),
                    _ => segs.push(Segment::Key(name.to_string())),
                }
            }
            while let Some(stripped) = rest.strip_prefix('[') {
                let end = stripped.find(']')?;
                segs.push(Segment::Index(stripped[..end].parse().ok()?));
                rest = &stripped[end + 1..];
            }
            if !rest.is_empty() {
                return None;
            }
        }
        if segs.is_empty() {
            None
        } else {
            Some(FieldPath(segs))
        }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                Segment::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Segment::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

/// Where a problem is: a position in the scenario file, or a `--set` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    File { line: usize, column: usize },
    Override(String),
    Unknown,
}

/// One problem with a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub origin: Origin,
    /// The field at fault; empty for whole-file problems such as bad syntax.
    pub field: FieldPath,
    pub message: String,
}

/// Why a scenario could not be loaded. Always bad input (exit code 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file path, or `bundled scenario "NAME"`.
    pub source: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl ScenarioError {
    pub fn io(source: &str, message: String) -> Self {
        ScenarioError {
            source: source.to_string(),
            diagnostics: vec![Diagnostic {
                origin: Origin::Unknown,
                field: FieldPath::root(),
                message,
            }],
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            match &d.origin {
                Origin::File { line, column } => write!(f, "{}:{line}:{column}: ", self.source)?,
                Origin::Override(arg) if arg.starts_with("from ") => {
                    write!(f, "{} ({arg}): ", self.source)?
                }
                Origin::Override(arg) => write!(f, "{} (--set {arg}): ", self.source)?,
                Origin::Unknown => write!(f, "{}: ", self.source)?,
            }
            if !d.field.is_empty() {
                write!(f, "field `{}`: ", d.field)?;
            }
            f.write_str(&d.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_display() {
        let p = FieldPath::parse("classes.web.route[1].tier").unwrap();
        assert_eq!(p.to_string(), "classes.web.route[1].tier");
        let q = FieldPath::parse("classes.web.route.1.tier").unwrap();
        assert_eq!(p, q);
        assert!(FieldPath::parse("").is_none());
        assert!(FieldPath::parse("a..b").is_none());
        assert!(FieldPath::parse("a[x]").is_none());
        assert!(p.starts_with(&FieldPath::parse("classes.web").unwrap()));
    }
}
