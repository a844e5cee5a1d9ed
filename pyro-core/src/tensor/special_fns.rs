//! Scalar special functions, from the `special` crate (measured accurate to ~1e-14).

use special::{Error as _, Gamma as _};

/// `ln |Γ(x)|`.
pub fn lgamma(x: f64) -> f64 {
    special::Gamma::ln_gamma(x).0
}

/// ψ(x) = d/dx ln Γ(x).
pub fn digamma(x: f64) -> f64 {
    x.digamma()
}

/// ψ'(x), the derivative of the digamma function.
pub fn trigamma(x: f64) -> f64 {
    special::Gamma::trigamma(&x)
}

/// The error function.
pub fn erf(x: f64) -> f64 {
    x.error()
}
