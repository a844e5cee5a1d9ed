//! What the site macros of the model language (`sample!`, `param!`, `factor!`, ...) expand to,
//! beside the methods of [`Context`](crate::handlers::Context): small conversions whose trait
//! bounds carry the compile errors a user should see, spanned on the user's own tokens
//! (`sample!(42, ..)`: "`{integer}` is not a site name").

use std::borrow::Cow;

use crate::distributions::Discrete;
use crate::tensor::Tensor;
use crate::trace::{InferConfig, SiteName};

/// What a site name may be: a string literal or other `&'static str`, a `String` (from
/// `format!`), or a [`SiteName`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a site name",
    label = "expected a string",
    note = "a site name is a string literal (`\"z\"`), a `const` or `concat!` of them, or a `String` built at run time (`format!(\"x_{{i}}\")`)"
)]
pub trait IntoSiteName {
    /// The name.
    fn into_site_name(self) -> SiteName;
}

impl IntoSiteName for &'static str {
    fn into_site_name(self) -> SiteName {
        Cow::Borrowed(self)
    }
}

impl IntoSiteName for String {
    fn into_site_name(self) -> SiteName {
        Cow::Owned(self)
    }
}

impl IntoSiteName for SiteName {
    fn into_site_name(self) -> SiteName {
        self
    }
}

/// The name of a site (the first argument of every site macro).
#[inline]
pub fn site_name<N: IntoSiteName>(name: N) -> SiteName {
    name.into_site_name()
}

/// The value of `obs = value`, `factor!(name, value)` or `deterministic!(name, value)`: anything
/// that converts into a tensor (a number, a `Vec` or slice of numbers, a `Tensor`).
#[inline]
pub fn value<T: Into<Tensor>>(value: T) -> Tensor {
    value.into()
}

/// The distribution of `sample!(.., enumerate)`, which must be discrete: what makes enumerating
/// a continuous distribution a compile error.
#[inline]
pub fn discrete<D: Discrete>(d: D) -> D {
    d
}

/// The inference settings of `sample!(.., enumerate)`.
#[inline]
pub fn enumerated() -> InferConfig {
    InferConfig {
        enumerate: true,
        ..InferConfig::default()
    }
}
