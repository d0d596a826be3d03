//! The scenario text with its spans: maps a field path to the line and column
//! where it is written, so errors found after parsing still point into the file.

use toml::de::{DeTable, DeValue};

use crate::error::{FieldPath, Segment};

pub struct SourceDoc<'t> {
    text: &'t str,
    root: toml::Spanned<DeTable<'t>>,
}

impl<'t> SourceDoc<'t> {
    /// Parses `text`; on a syntax error returns the message and its position.
    pub fn parse(text: &'t str) -> Result<Self, (String, Option<(usize, usize)>)> {
        match DeTable::parse(text) {
            Ok(root) => Ok(SourceDoc { text, root }),
            Err(e) => {
                let pos = e.span().map(|s| line_col(text, s.start));
                Err((e.message().trim().to_string(), pos))
            }
        }
    }

    /// Line and column (1-based) of the deepest part of `path` written in the
    /// file: the value itself if present, else the nearest enclosing table.
    pub fn locate(&self, path: &FieldPath) -> Option<(usize, usize)> {
        let mut segs = path.0.iter();
        let Some(Segment::Key(first)) = segs.next() else {
            return None;
        };
        let (key, mut value) = self.root.get_ref().get_key_value(first.as_str())?;
        let mut span = anchor(key, value);
        for seg in segs {
            let next = match (seg, value.get_ref()) {
                (Segment::Key(k), DeValue::Table(t)) => t
                    .get_key_value(k.as_str())
                    .map(|(key, v)| (anchor(key, v), v)),
                (Segment::Index(i), DeValue::Array(a)) => a.get(*i).map(|v| (v.span(), v)),
                _ => None,
            };
            let Some((s, v)) = next else { break };
            span = s;
            value = v;
        }
        Some(line_col(self.text, span.start))
    }
}

/// Prefer the value's span; tables created by a `[header]` have a span that
/// may be empty, in which case the key is the best anchor.
fn anchor(
    key: &toml::Spanned<std::borrow::Cow<'_, str>>,
    value: &toml::Spanned<DeValue<'_>>,
) -> std::ops::Range<usize> {
    let v = value.span();
    if v.start < v.end { v } else { key.span() }
}

/// 1-based line and column (in characters) of byte offset `pos`.
pub fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(text.len());
    let before = &text[..pos];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = text[line_start..pos].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
[simulation]
duration = \"1h\"

[tiers.api]
kind = \"station\"
service = { dist = \"exponential\", mean = \"10ms\" }

[classes.web]
route = [\"api\", { tier = \"db\" }]
";

    #[test]
    fn locates_values_tables_and_array_items() {
        let doc = SourceDoc::parse(TEXT).unwrap();
        let at = |p: &str| doc.locate(&FieldPath::parse(p).unwrap());
        assert_eq!(at("simulation.duration"), Some((2, 12)));
        assert_eq!(at("tiers.api.service.mean"), Some((6, 42)));
        assert_eq!(at("classes.web.route[1].tier"), Some((9, 26)));
        assert_eq!(at("classes.web.route[0]"), Some((9, 10)));
        // A missing leaf falls back to the nearest enclosing item.
        assert_eq!(at("tiers.api.servers").map(|p| p.0), Some(4));
        assert_eq!(at("nothing.here"), None);
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = SourceDoc::parse("[a]\nx = = 1\n").err().unwrap();
        assert_eq!(err.1.map(|p| p.0), Some(2));
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncµd", 6), (2, 3));
    }
}
