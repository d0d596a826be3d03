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

impl SourceDoc<'_> {
    /// The field whose value is written at byte `offset`, the deepest one
    /// (`None` outside any value): names the field of an error the TOML
    /// decoder reports only by position, such as a number out of range.
    pub fn path_at(&self, offset: usize) -> Option<FieldPath> {
        let mut path = FieldPath::root();
        find_in_table(self.root.get_ref(), offset, &mut path).then_some(path)
    }
}

fn find_in_table(table: &DeTable<'_>, offset: usize, path: &mut FieldPath) -> bool {
    for (key, value) in table.iter() {
        path.0.push(Segment::Key(key.get_ref().to_string()));
        if find_in_value(value, offset, path) {
            return true;
        }
        path.0.pop();
    }
    false
}

fn find_in_value(value: &toml::Spanned<DeValue<'_>>, offset: usize, path: &mut FieldPath) -> bool {
    let span = value.span();
    let inside = span.contains(&offset);
    match value.get_ref() {
        // A `[header]` table's span may be empty: look inside anyway.
        DeValue::Table(t) => find_in_table(t, offset, path) || inside,
        DeValue::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                path.0.push(Segment::Index(i));
                if find_in_value(v, offset, path) {
                    return true;
                }
                path.0.pop();
            }
            inside
        }
        _ => inside,
    }
}

/// A TOML decoding error (after the syntax was checked) as a located
/// diagnostic: its position, the field written there, and the message in
/// a scenario author's words for numbers TOML cannot hold.
pub fn decode_error(doc: &SourceDoc<'_>, e: &toml::de::Error) -> crate::Diagnostic {
    let text = doc.text;
    let start = e.span().map(|s| s.start);
    let origin = start
        .map(|s| {
            let (line, column) = line_col(text, s);
            crate::Origin::File { line, column }
        })
        .unwrap_or(crate::Origin::Unknown);
    let field = start.and_then(|s| doc.path_at(s)).unwrap_or_default();
    let written = e
        .span()
        .and_then(|s| text.get(s))
        .map(str::trim)
        .unwrap_or_default();
    let message = e.message().trim();
    let message = match message {
        "u64 value was too large" | "i64 value was too large" | "integer number overflowed" => {
            format!("{written} is too large: a whole number in TOML is at most 9223372036854775807")
        }
        "floating-point number overflowed" => {
            format!("{written} is too large: a number in TOML is at most about 1.8e308")
        }
        m => m.to_string(),
    };
    crate::Diagnostic {
        origin,
        field,
        message,
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
    fn the_field_at_a_position_is_the_deepest_value_there() {
        let doc = SourceDoc::parse(TEXT).unwrap();
        let at = |needle: &str| {
            doc.path_at(TEXT.find(needle).unwrap())
                .map(|p| p.to_string())
        };
        assert_eq!(at("\"1h\"").as_deref(), Some("simulation.duration"));
        assert_eq!(at("\"10ms\"").as_deref(), Some("tiers.api.service.mean"));
        assert_eq!(at("\"db\"").as_deref(), Some("classes.web.route[1].tier"));
        assert_eq!(at("[simulation]").as_deref(), Some("simulation"));
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
