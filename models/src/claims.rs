//! What a scenario says about its own figures: the expectations of its source
//! document (each to be judged against the run's results) and the inputs it
//! assumed where the source gives no number (each with the reason for the
//! value). Built by the scenario crate, judged and reported by the output
//! crate; the engine never reads them.

/// A figure the source document expects, as a bound on one result.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// What the document says, in its words or close to them.
    pub claim: String,
    /// Where it says it (document and section).
    pub source: String,
    /// The result that stands for the claim: a path of keys (and list
    /// indices) into `summary.json`, or `windows.json` for a run in windows.
    pub metric: Vec<String>,
    pub bound: Bound,
    /// Judged only in these runs: variant names (`--variant NAME`), `base`
    /// for the scenario without one; empty: every run.
    pub runs: Vec<String>,
    /// How the result reads the claim, where that is not plain.
    pub note: Option<String>,
    /// Where the expectation's `metric` is written (`file:line:column`), for
    /// a message about a path the results turn out not to have.
    pub located: String,
}

/// The bound an expectation puts on its result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    /// Inclusive bounds; at least one is given.
    Range {
        at_least: Option<f64>,
        at_most: Option<f64>,
    },
    /// The result's confidence interval contains the value.
    Equals(f64),
    /// A yes/no result (an objective's `met`).
    Is(bool),
}

/// An input the source document does not give.
#[derive(Clone, Debug, PartialEq)]
pub struct Assumption {
    /// The input's field path, as `--set` writes it.
    pub input: String,
    /// Its value in this run (after the variant and `--set`), as TOML text.
    pub value: String,
    /// Why this value.
    pub why: String,
}
