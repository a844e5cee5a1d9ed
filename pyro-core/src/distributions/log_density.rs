//! Scalar log-densities and their partial derivatives, accurate at the extremes: the numerically
//! careful formulas that the distributions' `log_prob` evaluate (through [`super::util::fused`])
//! and that any faster fused kernel must share.
//!
//! Where the textbook formula cancels (differences of `lgamma` at large arguments: Poisson,
//! binomial, beta and gamma near their modes, Student's t with a large `df`) they follow Loader
//! (2000) as R's `dpois_raw`/`dbinom_raw`/`dbeta`/`dgamma`/`dt` do, with [`stirlerr`] and
//! [`bd0`](crate::tensor::bd0); where it overflows (`ln(1 + z²)` of heavy tails, `x - loc`, `high -
//! low`) they rearrange the arithmetic. Each returns `-inf` where the density is 0 (outside the
//! support) and NaN only for a NaN argument. The derivative functions return the partial
//! derivatives of the log-density in the order of the arguments; their values are unspecified
//! where the log-density is not finite.
//!
//! References (50-digit mpmath) for every function here are in `tests/data/reference.csv`.

use std::f64::consts::LN_2;

use crate::tensor::{bd0, bd0_diff, digamma, lbeta, lgamma, lgamma1p, log1p_square, stirlerr};

/// `ln sqrt(2π)`.
pub(crate) const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;
const LN_2PI: f64 = 1.837_877_066_409_345_5;
const LN_PI: f64 = 1.144_729_885_849_400_2;

/// `x ln y`, 0 when `x = 0` (whatever `y`).
fn xlogy(x: f64, y: f64) -> f64 {
    if x == 0.0 && !y.is_nan() {
        0.0
    } else {
        x * y.ln()
    }
}

/// `x / y`, 0 when `x = 0`.
fn xdivy(x: f64, y: f64) -> f64 {
    if x == 0.0 && !y.is_nan() {
        0.0
    } else {
        x / y
    }
}

/// Whether `k` is a whole number in `[0, hi]`.
pub(crate) fn is_count(k: f64, hi: f64) -> bool {
    k >= 0.0 && k <= hi && k.fract() == 0.0
}

/// `n p` as an unevaluated sum `hi + lo` (exact, by a fused multiply-add).
fn two_prod(n: f64, p: f64) -> (f64, f64) {
    let hi = n * p;
    (hi, n.mul_add(p, -hi))
}

/// `(x - loc) / scale` and `ln |(x - loc) / scale|`, without the spurious overflow of `x - loc`
/// for finite arguments of opposite signs (the logarithm stays finite where `z` itself
/// overflows).
pub(crate) fn standardize(x: f64, loc: f64, scale: f64) -> (f64, f64) {
    let d = x - loc;
    if d.is_infinite() && x.is_finite() && loc.is_finite() {
        let half = 0.5 * x - 0.5 * loc;
        let z = 2.0 * (half / scale);
        return (z, half.abs().ln() + LN_2 - scale.ln());
    }
    let z = d / scale;
    let ln_abs = if z.is_finite() && z != 0.0 {
        z.abs().ln()
    } else {
        d.abs().ln() - scale.ln()
    };
    (z, ln_abs)
}

/// `ln(1 + z²)` from `z` and `ln |z|` (the latter used where `z` overflows).
fn log1p_square_of(z: f64, ln_abs_z: f64) -> f64 {
    if z.is_finite() {
        log1p_square(z)
    } else {
        2.0 * ln_abs_z
    }
}

// ----- Poisson, binomial ------------------------------------------------------------------------

/// `ln(λ^x e^(-λ) / Γ(x + 1))` for real `x >= 0` (R's `dpois_raw`): `-0.5 ln(2πx) -
/// stirlerr(x) - bd0(x, λ)`, with the direct formula where `x < 1` (the Stirling form cancels
/// there) or `λ` is negligible next to `x`.
pub(crate) fn poisson_raw(x: f64, lambda: f64) -> f64 {
    if x.is_nan() || lambda.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 || lambda.is_infinite() {
        return f64::NEG_INFINITY;
    }
    if lambda == 0.0 {
        return if x == 0.0 { 0.0 } else { f64::NEG_INFINITY };
    }
    if x <= lambda * f64::MIN_POSITIVE {
        return -lambda;
    }
    if x < 1.0 {
        return xlogy(x, lambda) - lambda - lgamma1p(x);
    }
    if lambda < x * f64::MIN_POSITIVE {
        if x.is_infinite() {
            return f64::NEG_INFINITY;
        }
        // ln Γ(x + 1) by Stirling with its error term, so that x ln λ and ln Γ(x + 1) do not
        // both overflow (to inf - inf) at x near f64::MAX; ln x - ln λ > 708 here: no cancellation.
        return -lambda - x * (x.ln() - lambda.ln() - 1.0) - 0.5 * (LN_2PI + x.ln()) - stirlerr(x);
    }
    -0.5 * (LN_2PI + x.ln()) - stirlerr(x) - bd0_diff(x, lambda, x - lambda)
}

/// Poisson(rate) log-mass at `k`; `-inf` unless `k` is a whole number `>= 0`.
pub(crate) fn poisson(k: f64, rate: f64) -> f64 {
    if k.is_nan() || rate.is_nan() {
        return f64::NAN;
    }
    if !is_count(k, f64::INFINITY) {
        return f64::NEG_INFINITY;
    }
    poisson_raw(k, rate)
}

/// `∂/∂rate` of [`poisson`].
pub(crate) fn poisson_d_rate(k: f64, rate: f64) -> f64 {
    xdivy(k, rate) - 1.0
}

/// `ln(Γ(x + y + 1) / (Γ(x + 1) Γ(y + 1)) p^x q^y)` for real `x, y >= 0` and `p + q = 1`, both
/// given so that the smaller is exact (R's `dbinom_raw`, with `n = x + y`): the Stirling form
/// with the deviance terms `bd0(x, np) + bd0(y, nq)`, whose common difference `x - np = nq - y`
/// is computed exactly from the smaller of `p` and `q`.
pub(crate) fn binomial_raw(x: f64, y: f64, p: f64, q: f64) -> f64 {
    if x.is_nan() || y.is_nan() || p.is_nan() || q.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 || y < 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 0.0 {
        return if x == 0.0 { 0.0 } else { f64::NEG_INFINITY };
    }
    if q == 0.0 {
        return if y == 0.0 { 0.0 } else { f64::NEG_INFINITY };
    }
    // ln p and ln q from the exact one of the two.
    let ln_p = || if q < 0.5 { (-q).ln_1p() } else { p.ln() };
    let ln_q = || if p < 0.5 { (-p).ln_1p() } else { q.ln() };
    if x == 0.0 {
        return y * ln_q();
    }
    if y == 0.0 {
        return x * ln_p();
    }
    let n = x + y;
    if n.is_infinite() {
        // Arguments near f64::MAX: the same Stirling form in halves, as bd0 is homogeneous
        // (bd0(x, np) = 2 bd0(x/2, (n/2) p)) and stirlerr(n) < 1e-309 is 0. (The direct
        // x ln p + y ln q - ln B(x + 1, y + 1) is inf - inf there.)
        let (xh, yh) = (0.5 * x, 0.5 * y);
        let nh = xh + yh;
        let lc = -stirlerr(x) - stirlerr(y) - 2.0 * (bd0(xh, nh * p) + bd0(yh, nh * q));
        let lf = LN_2PI + x.ln() + y.ln() - nh.ln() - LN_2;
        return lc - 0.5 * lf;
    }
    let d = if p <= q {
        let (hi, lo) = two_prod(n, p);
        (x - hi) - lo
    } else {
        let (hi, lo) = two_prod(n, q);
        (hi - y) + lo
    };
    let lc =
        stirlerr(n) - stirlerr(x) - stirlerr(y) - bd0_diff(x, n * p, d) - bd0_diff(y, n * q, -d);
    let lf = LN_2PI + x.ln() + y.ln() - n.ln();
    lc - 0.5 * lf
}

/// Binomial(n, p) log-mass at `k`, with `q = 1 - p` given too (see [`binomial_raw`]); `-inf`
/// unless `k` is a whole number in `[0, n]`.
pub(crate) fn binomial(k: f64, n: f64, p: f64, q: f64) -> f64 {
    if k.is_nan() || n.is_nan() {
        return f64::NAN;
    }
    if !is_count(k, n) {
        return f64::NEG_INFINITY;
    }
    binomial_raw(k, n - k, p, q)
}

/// Binomial log-mass at `k` from the logit `l` of the success probability: [`binomial_raw`]
/// with `p = sigmoid(l)`, `q = sigmoid(-l)` (each accurate), or from `ln p = -softplus(-l)`,
/// `ln q = -softplus(l)` where one of them underflows (`|l| > ~708`, infinite included).
pub(crate) fn binomial_logits(k: f64, n: f64, l: f64) -> f64 {
    use crate::tensor::fastmath::{sigmoid, softplus};
    if k.is_nan() || n.is_nan() || l.is_nan() {
        return f64::NAN;
    }
    if !is_count(k, n) {
        return f64::NEG_INFINITY;
    }
    let (p, q) = (sigmoid(l), sigmoid(-l));
    if p >= f64::MIN_POSITIVE && q >= f64::MIN_POSITIVE {
        return binomial_raw(k, n - k, p, q);
    }
    let success = if k == 0.0 { 0.0 } else { -k * softplus(-l) };
    let failure = if k == n { 0.0 } else { -(n - k) * softplus(l) };
    success + failure + ln_choose(n, k)
}

/// `ln C(n, k)` for whole `0 <= k <= n`, as `-ln(n + 1) - ln B(k + 1, n - k + 1)` (accurate
/// where the difference of `lgamma`s would cancel).
pub(crate) fn ln_choose(n: f64, k: f64) -> f64 {
    if k == 0.0 || k == n {
        0.0
    } else {
        -(n + 1.0).ln() - lbeta(k + 1.0, n - k + 1.0)
    }
}

/// `∂/∂l` of [`binomial_logits`]: `k - n sigmoid(l)`.
pub(crate) fn binomial_logits_d_logits(k: f64, n: f64, l: f64) -> f64 {
    k - n * crate::tensor::fastmath::sigmoid(l)
}

/// `∂/∂p` of [`binomial`] (for a distribution built from probabilities).
pub(crate) fn binomial_d_probs(k: f64, n: f64, p: f64, q: f64) -> f64 {
    xdivy(k, p) - xdivy(n - k, q)
}

/// The negative binomial log-mass `ln(Γ(r + k) / (Γ(r) k!) p^r q^k)` at `k` (R's `dnbinom`:
/// `ln(r / (r + k)) + binomial_raw(r, k, p, q)`, accurate for large `r` and `k`), with `p + q
/// = 1` and their logarithms given (so that it stays exact where `p` or `q` underflows: then
/// from the logarithms and `ln B(r, k)`). `-inf` unless `k` is a whole number `>= 0`.
pub(crate) fn negative_binomial_raw(k: f64, r: f64, p: f64, q: f64, ln_p: f64, ln_q: f64) -> f64 {
    if k.is_nan() || r.is_nan() || p.is_nan() || q.is_nan() {
        return f64::NAN;
    }
    if !is_count(k, f64::INFINITY) {
        return f64::NEG_INFINITY;
    }
    if k == 0.0 {
        return r * ln_p;
    }
    let n = r + k;
    if p >= f64::MIN_POSITIVE && q >= f64::MIN_POSITIVE {
        // ln(r / n), in halves where r + k overflows.
        let ln_r_n = if n.is_finite() {
            ln_ratio(r, n)
        } else {
            ln_ratio(0.5 * r, 0.5 * r + 0.5 * k)
        };
        return ln_r_n + binomial_raw(r, k, p, q);
    }
    if n.is_infinite() {
        // r + k overflows and p or q underflows: Stirling's form of ln(Γ(n) / (Γ(r) k!)) with
        // the sums and ratios in halves, -r ln(r / (n p)) - k ln(k / (n q)) - ln sqrt(2π)
        // + ½ ln(r / (n k)) - stirlerr(r) - stirlerr(k) (stirlerr(n) < 1e-309). A product that
        // overflows is one whose true value is below -f64::MAX (the positive parts are at
        // most n / 2e).
        let nh = 0.5 * r + 0.5 * k;
        let lead_r = 0.5 * r * (ln_p + ln_ratio(nh, 0.5 * r));
        let lead_k = 0.5 * k * (ln_q + ln_ratio(nh, 0.5 * k));
        return 2.0 * (lead_r + lead_k) - LN_SQRT_2PI + 0.5 * (ln_ratio(0.5 * r, nh) - k.ln())
            - stirlerr(r)
            - stirlerr(k);
    }
    r * ln_p + k * ln_q - k.ln() - lbeta(r, k)
}

/// NegativeBinomial(total_count r, logits l) log-mass at `k` (PyTorch's parameterisation:
/// `p = sigmoid(l)` is the weight of `k`): [`negative_binomial_raw`] with `sigmoid(-l)`,
/// `sigmoid(l)`.
pub(crate) fn negative_binomial(k: f64, r: f64, l: f64) -> f64 {
    use crate::tensor::fastmath::{sigmoid, softplus};
    negative_binomial_raw(k, r, sigmoid(-l), sigmoid(l), -softplus(l), -softplus(-l))
}

/// `(∂/∂r, ∂/∂l)` of [`negative_binomial`].
pub(crate) fn negative_binomial_grad(k: f64, r: f64, l: f64, need_r: bool) -> [f64; 2] {
    use crate::tensor::fastmath::{sigmoid, softplus};
    let dr = if need_r {
        digamma(r + k) - digamma(r) - softplus(l)
    } else {
        0.0
    };
    [dr, k - (r + k) * sigmoid(l)]
}

/// GammaPoisson(concentration a, rate b) log-mass at `k`: [`negative_binomial_raw`] with
/// `p = b / (1 + b)`, `q = 1 / (1 + b)`.
pub(crate) fn gamma_poisson(k: f64, a: f64, b: f64) -> f64 {
    negative_binomial_raw(
        k,
        a,
        b / (1.0 + b),
        1.0 / (1.0 + b),
        -(1.0 / b).ln_1p(),
        -b.ln_1p(),
    )
}

/// `(∂/∂a, ∂/∂b)` of [`gamma_poisson`].
pub(crate) fn gamma_poisson_grad(k: f64, a: f64, b: f64, need_a: bool) -> [f64; 2] {
    let da = if need_a {
        digamma(a + k) - digamma(a) - (1.0 / b).ln_1p()
    } else {
        0.0
    };
    [da, a / b - (a + k) / (1.0 + b)]
}

// ----- beta, gamma, inverse gamma ---------------------------------------------------------------

/// Beta(a, b) log-density at `x` (R's `dbeta`): the binomial form for `a, b > 2`, the direct
/// formula with an accurate `lbeta` otherwise. At the ends the limits: `+inf` where the
/// exponent is below 1, `ln b` (at 0) or `ln a` (at 1) where it is 1, `-inf` above.
pub(crate) fn beta(x: f64, a: f64, b: f64) -> f64 {
    if x.is_nan() || a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if !(0.0..=1.0).contains(&x) {
        return f64::NEG_INFINITY;
    }
    let end = |e: f64, other: f64| {
        if e < 1.0 {
            f64::INFINITY
        } else if e == 1.0 {
            other.ln()
        } else {
            f64::NEG_INFINITY
        }
    };
    if x == 0.0 {
        return end(a, b);
    }
    if x == 1.0 {
        return end(b, a);
    }
    if a <= 2.0 || b <= 2.0 {
        return xlogy(a - 1.0, x) + xlog1p(b - 1.0, -x) - lbeta(a, b);
    }
    let sum = a + b;
    let ln_sum_m1 = if sum.is_finite() {
        (sum - 1.0).ln()
    } else {
        (0.5 * a + 0.5 * b).ln() + LN_2
    };
    ln_sum_m1 + binomial_raw(a - 1.0, b - 1.0, x, 1.0 - x)
}

/// `x ln(1 + y)`, 0 when `x = 0`.
fn xlog1p(x: f64, y: f64) -> f64 {
    if x == 0.0 && !y.is_nan() {
        0.0
    } else {
        x * y.ln_1p()
    }
}

/// `(∂/∂x, ∂/∂a, ∂/∂b)` of [`beta`]; the digamma terms only where `need_ab`.
pub(crate) fn beta_grad(x: f64, a: f64, b: f64, need_ab: bool) -> [f64; 3] {
    let dx = xdivy(a - 1.0, x) - xdivy(b - 1.0, 1.0 - x);
    if !need_ab {
        return [dx, 0.0, 0.0];
    }
    let psi_sum = digamma(a + b);
    [
        dx,
        x.ln() - digamma(a) + psi_sum,
        (-x).ln_1p() - digamma(b) + psi_sum,
    ]
}

/// Gamma(a, rate) log-density at `x` (R's `dgamma`): through [`poisson_raw`] at `λ = rate x`,
/// `ln rate + poisson_raw(a - 1, λ)` (or `ln(a / x) + poisson_raw(a, λ)` for `a < 1`), which
/// does not cancel near the mode; the direct formula where `λ` under- or overflows. At 0:
/// `+inf`, `ln rate` or `-inf` for `a` below, at or above 1.
pub(crate) fn gamma(x: f64, a: f64, rate: f64) -> f64 {
    if x.is_nan() || a.is_nan() || rate.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 || x.is_infinite() {
        return f64::NEG_INFINITY;
    }
    if x == 0.0 {
        return if a < 1.0 {
            f64::INFINITY
        } else if a == 1.0 {
            rate.ln()
        } else {
            f64::NEG_INFINITY
        };
    }
    let lambda = x * rate;
    if lambda >= f64::MIN_POSITIVE && lambda.is_finite() {
        if a < 1.0 {
            poisson_raw(a, lambda) + ln_ratio(a, x)
        } else {
            poisson_raw(a - 1.0, lambda) + rate.ln()
        }
    } else if lambda.is_infinite() {
        rate.ln() + poisson_raw_overflow(a - 1.0, (a - 1.0) / x / rate, |g| x * g * rate)
    } else {
        // λ underflows: a ln λ from the logarithms (a ln rate and (a - 1) ln x may be infinite
        // with opposite signs).
        a * (rate.ln() + x.ln()) - x.ln() - lambda - lgamma(a)
    }
}

/// `poisson_raw(y, λ)` where `λ` overflows (a rate times a value): given `r = y / λ` and
/// `times_lambda(g) = g λ` evaluated without overflow where the product is finite. As `bd0` is
/// homogeneous, `bd0(y, λ) = λ bd0(r, 1)`. `-inf` for `y < 1` (then `λ - y ln λ` overflows).
fn poisson_raw_overflow(y: f64, r: f64, times_lambda: impl Fn(f64) -> f64) -> f64 {
    if y.is_nan() || r.is_nan() {
        return f64::NAN;
    }
    if y < 1.0 {
        return f64::NEG_INFINITY;
    }
    -0.5 * (LN_2PI + y.ln()) - stirlerr(y) - times_lambda(bd0_diff(r, 1.0, r - 1.0))
}

/// `ln(a / b)` for positive `a`, `b`: exactly 0 when they are equal, without over- or underflow
/// of the ratio.
fn ln_ratio(a: f64, b: f64) -> f64 {
    let r = a / b;
    if r.is_finite() && r >= f64::MIN_POSITIVE {
        r.ln()
    } else {
        a.ln() - b.ln()
    }
}

/// `(∂/∂x, ∂/∂a, ∂/∂rate)` of [`gamma`].
pub(crate) fn gamma_grad(x: f64, a: f64, rate: f64, need_a: bool) -> [f64; 3] {
    let da = if need_a {
        rate.ln() + x.ln() - digamma(a)
    } else {
        0.0
    };
    [xdivy(a - 1.0, x) - rate, da, a / rate - x]
}

/// InverseGamma(a, rate) log-density at `x`: [`gamma`]'s formula at `1/x` less `2 ln x`, with
/// `λ = rate / x` (not `rate · (1/x)`, which overflows first).
pub(crate) fn inverse_gamma(x: f64, a: f64, rate: f64) -> f64 {
    if x.is_nan() || a.is_nan() || rate.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 || x.is_infinite() {
        return f64::NEG_INFINITY;
    }
    let lambda = rate / x;
    if lambda >= f64::MIN_POSITIVE && lambda.is_finite() {
        if a < 1.0 {
            poisson_raw(a, lambda) + ln_ratio(a, x)
        } else {
            poisson_raw(a - 1.0, lambda) + rate.ln() - 2.0 * x.ln()
        }
    } else if lambda.is_infinite() {
        rate.ln() - 2.0 * x.ln()
            + poisson_raw_overflow(a - 1.0, (a - 1.0) / rate * x, |g| g * rate / x)
    } else {
        a * (rate.ln() - x.ln()) - x.ln() - lambda - lgamma(a)
    }
}

/// `(∂/∂x, ∂/∂a, ∂/∂rate)` of [`inverse_gamma`].
pub(crate) fn inverse_gamma_grad(x: f64, a: f64, rate: f64, need_a: bool) -> [f64; 3] {
    let da = if need_a {
        rate.ln() - x.ln() - digamma(a)
    } else {
        0.0
    };
    [(rate / x - a - 1.0) / x, da, a / rate - 1.0 / x]
}

/// Dirichlet(a) log-density at `x` (one event: `a` and `x` of the same length `K`): `-inf`
/// unless every `x_k` lies in `[0, 1]` and they sum to 1 within 1e-6 (the tolerance of the
/// simplex constraint).
///
/// `Σ (a_k - 1) ln x_k + ln Γ(A) - Σ ln Γ(a_k)` (`A = Σ a_k`) cancels for large concentrations;
/// with Stirling's formula for each `ln Γ` it is, exactly,
/// `-Σ bd0(a_k, A x_k) + A (Σ x_k - 1) + Σ (½ ln a_k - ln x_k - stirlerr(a_k)) - ½ ln A
/// + stirlerr(A) - (K - 1) ln sqrt(2π)`, whose deviance terms do not cancel (the multinomial
/// form of Loader's binomial; `Σ x_k - 1` is summed exactly). Entries at 0 use the direct
/// formula (the limits `±inf`; `-inf` where they conflict).
pub(crate) fn dirichlet(a: &[f64], x: &[f64]) -> f64 {
    if a.iter().chain(x).any(|v| v.is_nan()) {
        return f64::NAN;
    }
    if x.iter().any(|&v| !(0.0..=1.0).contains(&v)) {
        return f64::NEG_INFINITY;
    }
    let excess = sum_minus_one(x);
    if excess.abs() > 1e-6 {
        return f64::NEG_INFINITY;
    }
    let total: f64 = a.iter().sum();
    if x.contains(&0.0) {
        // -ln B(a) as a chain of two-argument lbetas (ln Γ(A) - Σ ln Γ(a_k) is inf - inf for
        // concentrations near f64::MAX).
        let mut lp = 0.0;
        let mut partial = a[0];
        for &ak in &a[1..] {
            lp -= lbeta(partial, ak);
            partial += ak;
        }
        let (mut pos, mut neg) = (false, false);
        for (&ak, &xk) in a.iter().zip(x) {
            let t = xlogy(ak - 1.0, xk);
            pos |= t == f64::INFINITY;
            neg |= t == f64::NEG_INFINITY;
            lp += t;
        }
        // An infinite term decides (the lgamma terms may be inf - inf at huge concentrations):
        // -inf where some x_k = 0 has a_k > 1, else +inf where some has a_k < 1.
        return if neg {
            f64::NEG_INFINITY
        } else if pos {
            f64::INFINITY
        } else {
            lp
        };
    }
    let mut lp =
        total * excess - 0.5 * total.ln() + stirlerr(total) - (a.len() as f64 - 1.0) * LN_SQRT_2PI;
    for (&ak, &xk) in a.iter().zip(x) {
        let (hi, lo) = two_prod(total, xk);
        let d = (ak - hi) - lo;
        lp += -bd0_diff(ak, hi, d) + 0.5 * ak.ln() - xk.ln() - stirlerr(ak);
    }
    lp
}

/// `Σ x_k - 1`, summed with compensation (Neumaier) so that it is exact to within rounding of
/// the result.
fn sum_minus_one(x: &[f64]) -> f64 {
    let (mut s, mut c) = (-1.0f64, 0.0f64);
    for &v in x {
        let t = s + v;
        c += if s.abs() >= v.abs() {
            (s - t) + v
        } else {
            (v - t) + s
        };
        s = t;
    }
    s + c
}

/// `∂/∂a_k` of [`dirichlet`] summed over the event (`ln x_k - ψ(a_k) + ψ(A)`) into `da`, and
/// `∂/∂x_k = (a_k - 1) / x_k` into `dx`.
pub(crate) fn dirichlet_grad(a: &[f64], x: &[f64], da: &mut [f64], dx: &mut [f64]) {
    let total: f64 = a.iter().sum();
    let psi_total = if da.is_empty() { 0.0 } else { digamma(total) };
    for k in 0..a.len() {
        if let Some(d) = da.get_mut(k) {
            *d = x[k].ln() - digamma(a[k]) + psi_total;
        }
        if let Some(d) = dx.get_mut(k) {
            *d = xdivy(a[k] - 1.0, x[k]);
        }
    }
}

// ----- location-scale families ------------------------------------------------------------------

/// Laplace(loc, scale) log-density.
pub(crate) fn laplace(x: f64, loc: f64, scale: f64) -> f64 {
    let (z, _) = standardize(x, loc, scale);
    -z.abs() - scale.ln() - LN_2
}

/// `(∂/∂x, ∂/∂loc, ∂/∂scale)` of [`laplace`] (0 at the kink).
pub(crate) fn laplace_grad(x: f64, loc: f64, scale: f64) -> [f64; 3] {
    let (z, _) = standardize(x, loc, scale);
    let s = if z > 0.0 {
        1.0
    } else if z < 0.0 {
        -1.0
    } else {
        0.0
    };
    [-s / scale, s / scale, (z.abs() - 1.0) / scale]
}

/// Cauchy(loc, scale) log-density: `-ln π - ln scale - ln(1 + z²)`, finite for every finite
/// argument (`-922.18` at `z = 1e200`).
pub(crate) fn cauchy(x: f64, loc: f64, scale: f64) -> f64 {
    let (z, lz) = standardize(x, loc, scale);
    -LN_PI - scale.ln() - log1p_square_of(z, lz)
}

/// `2z / (1 + z²)`, as `2 / (z + 1/z)` where `z²` would overflow.
fn two_z_over_1pz2(z: f64) -> f64 {
    if z.abs() > 1e8 {
        2.0 / (z + 1.0 / z)
    } else {
        2.0 * z / (1.0 + z * z)
    }
}

/// `z² / (1 + z²)`.
fn z2_over_1pz2(z: f64) -> f64 {
    if z.abs() > 1e8 {
        1.0 / (1.0 + 1.0 / (z * z))
    } else {
        z * z / (1.0 + z * z)
    }
}

/// `(∂/∂x, ∂/∂loc, ∂/∂scale)` of [`cauchy`].
pub(crate) fn cauchy_grad(x: f64, loc: f64, scale: f64) -> [f64; 3] {
    let (z, _) = standardize(x, loc, scale);
    let dloc = two_z_over_1pz2(z) / scale;
    [-dloc, dloc, (2.0 * z2_over_1pz2(z) - 1.0) / scale]
}

/// HalfCauchy(scale) log-density on `x >= 0`.
pub(crate) fn half_cauchy(x: f64, scale: f64) -> f64 {
    if x.is_nan() || scale.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return f64::NEG_INFINITY;
    }
    LN_2 + cauchy(x, 0.0, scale)
}

/// `(∂/∂x, ∂/∂scale)` of [`half_cauchy`].
pub(crate) fn half_cauchy_grad(x: f64, scale: f64) -> [f64; 2] {
    let [dx, _, ds] = cauchy_grad(x, 0.0, scale);
    [dx, ds]
}

/// Student's t(df, loc, scale) log-density (R's `dt`): the ratio of gamma functions as
/// `stirlerr` and `bd0` terms (no cancellation at a large `df`: `df = 1e17` gives the normal
/// limit), `ln(1 + z²/ν)` without overflow for heavy tails.
pub(crate) fn student_t(x: f64, df: f64, loc: f64, scale: f64) -> f64 {
    if x.is_nan() || df.is_nan() || loc.is_nan() || scale.is_nan() {
        return f64::NAN;
    }
    let n = df;
    let (z, lz) = standardize(x, loc, scale);
    let t = -bd0_diff(0.5 * n, 0.5 * n + 0.5, -0.5) + stirlerr(0.5 * n + 0.5) - stirlerr(0.5 * n);
    // ln(z²/ν) without overflow, then the three regimes of R's dt.
    let ln_x2n = 2.0 * lz - n.ln();
    let (l_x2n, u) = if ln_x2n > -f64::EPSILON.ln() {
        // z²/ν > 1/ε: ln(1 + z²/ν) = ln(z²/ν) to within rounding.
        let l = 0.5 * ln_x2n;
        (l, n * l)
    } else {
        let x2n = (z / n) * z;
        if x2n > 0.2 {
            let l = 0.5 * x2n.ln_1p();
            (l, n * l)
        } else {
            (
                0.5 * x2n.ln_1p(),
                -bd0_diff(0.5 * n, 0.5 * n + 0.5 * z * z, -0.5 * z * z) + 0.5 * z * z,
            )
        }
    };
    t - u - (LN_SQRT_2PI + l_x2n) - scale.ln()
}

/// `(∂/∂x, ∂/∂df, ∂/∂loc, ∂/∂scale)` of [`student_t`].
pub(crate) fn student_t_grad(x: f64, df: f64, loc: f64, scale: f64, need_df: bool) -> [f64; 4] {
    let n = df;
    let (z, _) = standardize(x, loc, scale);
    // (ν + 1) z / (ν + z²) and (ν + 1) z² / (ν + z²), without overflow.
    let (r1, r2) = if z.abs() > 1e8 {
        ((n + 1.0) / (z + n / z), (n + 1.0) / (1.0 + n / (z * z)))
    } else {
        ((n + 1.0) * z / (n + z * z), (n + 1.0) * z * z / (n + z * z))
    };
    let dloc = r1 / scale;
    let dscale = (r2 - 1.0) / scale;
    let ddf = if need_df {
        let ln1p_x2n = if z.abs() > 1e8 {
            2.0 * z.abs().ln() - n.ln() + (n / (z * z)).ln_1p()
        } else {
            (z * z / n).ln_1p()
        };
        0.5 * (digamma(0.5 * n + 0.5) - digamma(0.5 * n) - 1.0 / n - ln1p_x2n + r2 / n)
    } else {
        0.0
    };
    [-dloc, ddf, dloc, dscale]
}

/// Uniform(low, high) log-density: `-ln(high - low)` on `[low, high)`, the width taken without
/// overflow.
pub(crate) fn uniform(x: f64, low: f64, high: f64) -> f64 {
    if x.is_nan() || low.is_nan() || high.is_nan() {
        return f64::NAN;
    }
    if x < low || x >= high {
        return f64::NEG_INFINITY;
    }
    -ln_width(low, high)
}

/// `ln(high - low)` for finite bounds.
fn ln_width(low: f64, high: f64) -> f64 {
    let w = high - low;
    if w.is_finite() {
        w.ln()
    } else {
        (0.5 * high - 0.5 * low).ln() + LN_2
    }
}

/// `(∂/∂low, ∂/∂high)` of [`uniform`].
pub(crate) fn uniform_grad(low: f64, high: f64) -> [f64; 2] {
    let inv = (-ln_width(low, high)).exp();
    [inv, -inv]
}

// ----- Bernoulli --------------------------------------------------------------------------------

/// Bernoulli log-mass from the probability: `ln p` at 1, `ln(1 - p)` at 0 (exact, also at
/// `p = 0` or 1). Other values (outside the support, which sample sites refuse unless
/// validation is off) get the cross-entropy `x ln p + (1 - x) ln(1 - p)`, as Pyro computes
/// without validation (soft targets).
pub(crate) fn bernoulli_probs(p: f64, x: f64) -> f64 {
    if x == 1.0 {
        p.ln()
    } else if x == 0.0 {
        (-p).ln_1p()
    } else {
        xlogy(x, p) + xlog1p(1.0 - x, -p)
    }
}

/// `∂/∂p` of [`bernoulli_probs`].
pub(crate) fn bernoulli_probs_grad(p: f64, x: f64) -> f64 {
    xdivy(x, p) - xdivy(1.0 - x, 1.0 - p)
}

/// Bernoulli log-mass from the logit `l`: `-softplus(-l)` at 1, `-softplus(l)` at 0, exact for
/// infinite logits (`x l - softplus(l)` is NaN there); the cross-entropy
/// `-(x softplus(-l) + (1 - x) softplus(l))` elsewhere.
pub(crate) fn bernoulli_logits(l: f64, x: f64) -> f64 {
    use crate::tensor::fastmath::softplus;
    if x == 1.0 {
        -softplus(-l)
    } else if x == 0.0 {
        -softplus(l)
    } else {
        let term = |w: f64, s: f64| if w == 0.0 { 0.0 } else { w * softplus(s) };
        -(term(x, -l) + term(1.0 - x, l))
    }
}

/// `∂/∂l` of [`bernoulli_logits`]: `x - sigmoid(l)`.
pub(crate) fn bernoulli_logits_grad(l: f64, x: f64) -> f64 {
    x - crate::tensor::fastmath::sigmoid(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences of `f` in argument `i`, step relative to the argument.
    fn fd<const N: usize>(f: impl Fn([f64; N]) -> f64, at: [f64; N], i: usize) -> f64 {
        let h = 1e-6 * at[i].abs().max(1e-3);
        let (mut lo, mut hi) = (at, at);
        lo[i] -= h;
        hi[i] += h;
        (f(hi) - f(lo)) / (2.0 * h)
    }

    fn close(a: f64, b: f64, what: &str) {
        assert!(
            (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
            "{what}: analytic {a} vs finite differences {b}"
        );
    }

    #[test]
    fn partial_derivatives_match_finite_differences() {
        for at in [[0.3, 2.0, 3.0], [0.9, 0.5, 0.7], [0.5, 30.0, 40.0]] {
            let g = beta_grad(at[0], at[1], at[2], true);
            for (i, &gi) in g.iter().enumerate() {
                close(gi, fd(|v| beta(v[0], v[1], v[2]), at, i), "beta");
            }
        }
        for at in [[1.5, 2.0, 3.0], [0.2, 0.5, 0.7], [40.0, 30.0, 0.9]] {
            let g = gamma_grad(at[0], at[1], at[2], true);
            let h = inverse_gamma_grad(at[0], at[1], at[2], true);
            for i in 0..3 {
                close(g[i], fd(|v| gamma(v[0], v[1], v[2]), at, i), "gamma");
                close(
                    h[i],
                    fd(|v| inverse_gamma(v[0], v[1], v[2]), at, i),
                    "inverse gamma",
                );
            }
        }
        for at in [
            [1.5, 3.0, 0.5, 2.0],
            [-4.0, 0.7, 1.0, 0.5],
            [30.0, 50.0, 0.0, 1.0],
        ] {
            let g = student_t_grad(at[0], at[1], at[2], at[3], true);
            for (i, &gi) in g.iter().enumerate() {
                close(
                    gi,
                    fd(|v| student_t(v[0], v[1], v[2], v[3]), at, i),
                    "student t",
                );
            }
        }
        for at in [[1.5, 0.5, 2.0], [-40.0, 1.0, 0.5]] {
            let (c, l) = (
                cauchy_grad(at[0], at[1], at[2]),
                laplace_grad(at[0], at[1], at[2]),
            );
            for i in 0..3 {
                close(c[i], fd(|v| cauchy(v[0], v[1], v[2]), at, i), "cauchy");
                close(l[i], fd(|v| laplace(v[0], v[1], v[2]), at, i), "laplace");
            }
        }
        let g = uniform_grad(-1.0, 3.0);
        close(
            g[0],
            fd(|v| uniform(0.0, v[0], v[1]), [-1.0, 3.0], 0),
            "uniform",
        );
        close(
            g[1],
            fd(|v| uniform(0.0, v[0], v[1]), [-1.0, 3.0], 1),
            "uniform",
        );
        close(
            poisson_d_rate(3.0, 2.5),
            fd(|v| poisson(3.0, v[0]), [2.5], 0),
            "poisson",
        );
        close(
            binomial_d_probs(3.0, 10.0, 0.2, 0.8),
            fd(|v| binomial(3.0, 10.0, v[0], 1.0 - v[0]), [0.2], 0),
            "binomial",
        );
    }

    #[test]
    fn poisson_raw_is_continuous_at_its_branch_points() {
        // x = 1 (direct formula below, Stirling form above).
        let below = poisson_raw(1.0 - 1e-12, 2.5);
        let at = poisson_raw(1.0, 2.5);
        assert!((below - at).abs() < 1e-11, "{below} vs {at}");
    }
}
