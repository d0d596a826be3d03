//! How running a scenario fails. The variants say what kind of failure it
//! is, so that a caller decides what to do (the CLI's exit code, a
//! notebook's exception) by the variant, never by the text.

use std::path::PathBuf;

use capsim_scenarios::ScenarioError;
use sim_engine::RunnerError;

use crate::budget::OverBudget;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input or usage (a flag, a sweep, an output directory).
    #[error("{0}")]
    Input(String),
    /// The scenario file, a variant or an override is wrong.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// Over the event or memory budget; `force` runs it anyway.
    #[error("{0}")]
    OverBudget(Box<OverBudget>),
    /// Reading or writing files.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A plot (or another derived file) could not be made; every other file
    /// was written to `dir`.
    #[error("{message} (the other results were written to {})", dir.display())]
    Export { message: String, dir: PathBuf },
    /// The worker threads could not start.
    #[error(transparent)]
    Threads(#[from] RunnerError),
    /// Stopped through its `RunControl`: what had finished was written, and
    /// the message says what that covers and how to complete it.
    #[error("{0}")]
    Interrupted(String),
    /// Stopped by its budget while it ran (events or memory): what had
    /// finished was written, as for an interruption; the message says why.
    #[error("{0}")]
    Overrun(String),
}

impl Error {
    /// The user's input is at fault (as opposed to the machine or a stop).
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            Error::Input(_) | Error::Scenario(_) | Error::OverBudget(_) | Error::Overrun(_)
        )
    }

    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }
}
