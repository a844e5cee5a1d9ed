//! The one error type of pyro-rs. Every message names the site, parameter, distribution or file
//! it is about, so that a user can find the offending line without a debugger.

use std::fmt;
use std::path::PathBuf;

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in pyro-rs.
///
/// `Debug` prints the same human message as `Display`, so that `fn main() -> pyro::Result<()>`
/// reports "site `obs_3` in `coin`: ..." rather than a struct dump; match on the variants to
/// inspect the parts.
#[derive(Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A distribution was constructed with an invalid parameter.
    #[error("invalid parameter `{param}` of {dist}: {reason}")]
    InvalidParameter {
        /// The distribution, e.g. `Normal`.
        dist: &'static str,
        /// The parameter, e.g. `scale`.
        param: &'static str,
        /// What is wrong, e.g. `must be positive, got -1`.
        reason: String,
    },
    /// Shapes that cannot be combined.
    #[error("shape mismatch in {op}: {detail}")]
    Shape {
        /// The operation or site where the mismatch happened.
        op: String,
        /// Both shapes and why they do not fit.
        detail: String,
    },
    /// An error that happened while processing a named sample or param site.
    #[error("site `{site}`{}: {source}", in_function(.function))]
    Site {
        /// The site name, exactly as the model wrote it.
        site: String,
        /// The model or guide that ran the site, where known.
        function: Option<String>,
        /// What went wrong there.
        source: Box<Error>,
    },
    /// The same site name was used twice in one run of a model or guide.
    #[error("site `{0}` appears twice in one execution; site names must be unique")]
    DuplicateSite(String),
    /// A latent site of the model has no counterpart in the guide (checked at run time for
    /// site names built at run time; literal names are checked at compile time).
    #[error(
        "the model samples latent site `{site}`{} but the guide `{guide}` does not",
        if *.obs_none { " (latent because its `obs` is `None`)" } else { "" }
    )]
    MissingGuideSite {
        /// Site name.
        site: String,
        /// Name of the guide function.
        guide: String,
        /// The site is observed on other runs: its `obs` is an `Option`, `None` in this one.
        obs_none: bool,
    },
    /// A guide site that the model does not have.
    #[error("the guide samples site `{site}` that the model `{model}` does not have")]
    UnknownGuideSite {
        /// Site name.
        site: String,
        /// Name of the model function.
        model: String,
    },
    /// A site or parameter name that is not known where it was looked up.
    #[error("unknown {kind} `{name}`")]
    Unknown {
        /// What was looked up: `parameter`, `site`, ...
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// A loss, gradient, updated parameter value or optimiser state that is NaN or infinite; the
    /// step was refused and nothing changed.
    #[error("non-finite {what} at `{name}`; the step was refused and no parameter was changed")]
    NonFinite {
        /// `loss`, `gradient`, `log-density`, `updated value`, `optimiser state`.
        what: &'static str,
        /// The site or parameter.
        name: String,
    },
    /// A file could not be read or written, or its content is not what was expected.
    #[error("file {path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// An observed value outside the support of its distribution (sample sites check observed
    /// values unless validation is switched off: `Svi::validate(false)`,
    /// `Context::set_validation(false)`).
    #[error("observed value {value} is outside the support of {dist} ({support})")]
    OutOfSupport {
        /// The distribution, e.g. `Bernoulli`.
        dist: &'static str,
        /// The first offending value (for a simplex, the sum of a row that is not 1).
        value: f64,
        /// The support, in words.
        support: String,
    },
    /// Anything else that a caller did wrong, with an explanation.
    #[error("{0}")]
    Invalid(String),
}

/// The " in `f`" part of a site error's message (empty when the function is unknown).
fn in_function(function: &Option<String>) -> String {
    match function {
        Some(f) => format!(" in `{f}`"),
        None => String::new(),
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Error {
    /// Wrap this error with the name of the site where it happened (idempotent).
    pub fn at_site(self, site: &str) -> Error {
        match self {
            Error::Site { .. } => self,
            other => Error::Site {
                site: site.to_string(),
                function: None,
                source: Box::new(other),
            },
        }
    }

    /// Name the model or guide in which a site error happened (a site error
    /// already named keeps its name).
    pub fn in_function(self, name: &str) -> Error {
        match self {
            Error::Site {
                site,
                function: None,
                source,
            } => Error::Site {
                site,
                function: Some(name.to_string()),
                source,
            },
            other => other,
        }
    }

    /// A file error.
    pub fn file(path: impl Into<PathBuf>, reason: impl Into<String>) -> Error {
        Error::File {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// A shape error.
    pub fn shape(op: impl Into<String>, detail: impl Into<String>) -> Error {
        Error::Shape {
            op: op.into(),
            detail: detail.into(),
        }
    }
}
