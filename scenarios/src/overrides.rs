//! `--set PATH=VALUE`: changes one field of a scenario before validation, so
//! an override goes through exactly the checks a value in the file does.

use toml::{Table, Value};

use crate::error::{FieldPath, Segment};

/// One `--set` argument.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// The argument as written, for messages.
    pub raw: String,
    pub path: FieldPath,
    pub value: Value,
}

impl Override {
    /// Parses `PATH=VALUE`. VALUE is read as a TOML value (`12`, `0.5`,
    /// `true`, `"text"`, `["a", "b"]`, `{ dist = "exponential", mean = "5ms" }`);
    /// anything that is not valid TOML is taken as a plain string, so
    /// `simulation.duration=2h` needs no quotes.
    pub fn parse(arg: &str) -> Result<Override, String> {
        let (path, value) = arg
            .split_once('=')
            .ok_or_else(|| format!("`{arg}` is not PATH=VALUE (e.g. tiers.api.servers=4)"))?;
        let path_str = path.trim();
        let path = FieldPath::parse(path_str)
            .ok_or_else(|| format!("`{path_str}` is not a field path (e.g. tiers.api.servers)"))?;
        let value = parse_value(value.trim());
        Ok(Override {
            raw: arg.to_string(),
            path,
            value,
        })
    }

    /// Writes the value into `root`, creating missing tables on the way (a
    /// misspelt key then fails validation as an unknown field, naming this
    /// override).
    pub fn apply(&self, root: &mut Table) -> Result<(), String> {
        let (first, rest) = self.path.0.split_first().expect("paths are non-empty");
        let Segment::Key(first) = first else {
            return Err("a path starts with a field name, not an index".into());
        };
        let Some((last, middle)) = rest.split_last() else {
            root.insert(first.clone(), self.value.clone());
            return Ok(());
        };
        let mut walked = FieldPath::root().key(first);
        let mut cur = root
            .entry(first.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        for seg in middle {
            cur = match (seg, cur) {
                (Segment::Key(k), Value::Table(t)) => {
                    walked = walked.key(k);
                    t.entry(k.clone())
                        .or_insert_with(|| Value::Table(Table::new()))
                }
                (Segment::Index(i), Value::Array(a)) => {
                    let len = a.len();
                    a.get_mut(*i).ok_or_else(|| {
                        format!("`{walked}` has {len} entries, so [{i}] does not exist")
                    })?
                }
                // A list of named tables (scaling policies, objectives,
                // scheduled actions) is also addressed by an entry's name.
                (Segment::Key(k), Value::Array(a)) => {
                    let names: Vec<String> = a.iter().filter_map(name_of).collect();
                    let found = a
                        .iter_mut()
                        .find(|e| name_of(e).as_deref() == Some(k.as_str()));
                    match found {
                        Some(e) => {
                            walked = walked.key(k);
                            e
                        }
                        None if names.is_empty() => {
                            return Err(format!(
                                "`{walked}` is a list whose entries have no `name`: address one by its position, [0] for the first"
                            ));
                        }
                        None => {
                            return Err(format!(
                                "`{walked}` has no entry named `{k}` (named: {})",
                                names.join(", ")
                            ));
                        }
                    }
                }
                (seg, other) => {
                    return Err(format!(
                        "`{walked}` is {}, so it has no field {}",
                        describe(other),
                        seg_name(seg)
                    ));
                }
            };
            if let Segment::Index(i) = seg {
                walked = walked.index(*i);
            }
        }
        match (last, cur) {
            (Segment::Key(k), Value::Table(t)) => {
                t.insert(k.clone(), self.value.clone());
                Ok(())
            }
            (Segment::Index(i), Value::Array(a)) if *i < a.len() => {
                a[*i] = self.value.clone();
                Ok(())
            }
            (Segment::Index(i), Value::Array(a)) => Err(format!(
                "`{walked}` has {} entries, so [{i}] does not exist",
                a.len()
            )),
            (seg, other) => Err(format!(
                "`{walked}` is {}, so it has no field {}",
                describe(other),
                seg_name(seg)
            )),
        }
    }
}

/// The value at `path` in `root`, addressed as [`Override::apply`] does
/// (a list of named tables also by an entry's name); an error says where
/// the path leaves the document.
pub fn lookup<'a>(root: &'a Table, path: &FieldPath) -> Result<&'a Value, String> {
    let mut walked = FieldPath::root();
    let mut cur: Option<&Value> = None;
    for seg in &path.0 {
        let next = match (seg, cur) {
            (Segment::Key(k), None) => root.get(k),
            (Segment::Key(k), Some(Value::Table(t))) => t.get(k),
            (Segment::Index(i), Some(Value::Array(a))) => a.get(*i),
            (Segment::Key(k), Some(Value::Array(a))) => {
                a.iter().find(|e| name_of(e).as_deref() == Some(k.as_str()))
            }
            (seg, Some(other)) => {
                return Err(format!(
                    "`{walked}` is {}, so it has no field {}",
                    describe(other),
                    seg_name(seg)
                ));
            }
            (Segment::Index(_), None) => None,
        };
        walked = match seg {
            Segment::Key(k) => walked.key(k),
            Segment::Index(i) => walked.index(*i),
        };
        cur = Some(next.ok_or_else(|| {
            format!("`{walked}` is not in the scenario (a default value is no assumption)")
        })?);
    }
    cur.ok_or_else(|| "an empty path".to_string())
}

/// The `name` of a list entry that is a table with one.
fn name_of(v: &Value) -> Option<String> {
    v.as_table()?.get("name")?.as_str().map(str::to_string)
}

fn seg_name(seg: &Segment) -> String {
    match seg {
        Segment::Key(k) => format!("`{k}`"),
        Segment::Index(i) => format!("[{i}]"),
    }
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a number",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    }
}

fn parse_value(s: &str) -> Value {
    let doc = format!("v = {s}");
    match toml::from_str::<Table>(&doc) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| Value::String(s.to_string())),
        Err(_) => Value::String(s.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(s: &str) -> Table {
        toml::from_str(s).unwrap()
    }

    #[test]
    fn named_entries_of_a_list_are_addressed_by_name() {
        let mut t =
            table("[[p]]\nname = \"up\"\nabove = 0.7\n[[p]]\nname = \"down\"\nbelow = 0.3\n");
        Override::parse("p.down.below=0.2")
            .unwrap()
            .apply(&mut t)
            .unwrap();
        assert_eq!(t["p"][1]["below"], Value::Float(0.2));
        assert_eq!(t["p"][0]["above"], Value::Float(0.7));
        let e = Override::parse("p.sideways.below=0.2")
            .unwrap()
            .apply(&mut t)
            .unwrap_err();
        assert_eq!(e, "`p` has no entry named `sideways` (named: up, down)");
        let mut t = table("[[q]]\nx = 1\n");
        let e = Override::parse("q.a.x=2")
            .unwrap()
            .apply(&mut t)
            .unwrap_err();
        assert!(e.contains("entries have no `name`"), "{e}");
    }

    #[test]
    fn values_are_toml_or_plain_strings() {
        assert_eq!(Override::parse("a.b=12").unwrap().value, Value::Integer(12));
        assert_eq!(Override::parse("a=0.5").unwrap().value, Value::Float(0.5));
        assert_eq!(
            Override::parse("a=2h").unwrap().value,
            Value::String("2h".into())
        );
        assert_eq!(
            Override::parse("a=\"2h\"").unwrap().value,
            Value::String("2h".into())
        );
        assert!(matches!(
            Override::parse("a=[\"x\", \"y\"]").unwrap().value,
            Value::Array(_)
        ));
        assert!(Override::parse("no-equals-sign").is_err());
        assert!(Override::parse("a..b=1").is_err());
    }

    #[test]
    fn applies_into_nested_tables_and_lists() {
        let mut t = table("[tiers.api]\nservers = 2\n[classes.web]\nroute = [\"a\", \"b\"]\n");
        Override::parse("tiers.api.servers=4")
            .unwrap()
            .apply(&mut t)
            .unwrap();
        Override::parse("classes.web.route[1]=c")
            .unwrap()
            .apply(&mut t)
            .unwrap();
        Override::parse("tiers.db.servers=1")
            .unwrap()
            .apply(&mut t)
            .unwrap();
        Override::parse("top=1").unwrap().apply(&mut t).unwrap();
        assert_eq!(t["tiers"]["api"]["servers"], Value::Integer(4));
        assert_eq!(t["classes"]["web"]["route"][1], Value::String("c".into()));
        assert_eq!(t["tiers"]["db"]["servers"], Value::Integer(1));
        assert_eq!(t["top"], Value::Integer(1));
    }

    #[test]
    fn explains_impossible_paths() {
        let mut t = table("[tiers.api]\nservers = 2\nroute = [\"a\"]\n");
        let err = Override::parse("tiers.api.servers.x=1")
            .unwrap()
            .apply(&mut t)
            .unwrap_err();
        assert!(
            err.contains("tiers.api.servers") && err.contains("integer"),
            "{err}"
        );
        let err = Override::parse("tiers.api.route[3]=b")
            .unwrap()
            .apply(&mut t)
            .unwrap_err();
        assert!(err.contains("1 entries"), "{err}");
    }
}
