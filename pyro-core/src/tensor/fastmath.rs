//! Branch-free `exp`, `log1p`, softplus and sigmoid for the activation loops of the fused
//! layers, accurate to a few ulp (checked against `std` in the tests below), written so that the
//! loops vectorise; with AVX2 where the CPU has it (detected at run time).
//!
//! `libm`'s `log1p` and `expm1` took 40% of a VAE step before these.

const LOG2E: f64 = std::f64::consts::LOG2_E;
const LN2_HI: f64 = 6.931_471_803_691_238e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// 1.5 * 2^52: adding it rounds to an integer held in the low mantissa bits.
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;

/// `e^x` over the whole `f64` range: `inf` above ~709.78 (`+inf` included), subnormal results
/// between ~-708.4 and ~-745.13, 0 below (`-inf` included), NaN for NaN. Relative error below
/// 4e-16 for normal results; subnormal ones are rounded once, to the nearest subnormal.
///
/// The input is clamped to `[-746, 710]` (beyond which the result is 0 or `inf` anyway) and the
/// power of two `2^n`, `n` in `[-1077, 1025]`, is applied as two normal factors `2^h 2^(n-h)`
/// with `h` the nearest integer to `n / 2`: one factor alone would overflow or underflow at the
/// ends. The product `p 2^h` is exact and the second multiplication rounds once, to `inf` on
/// overflow and to a subnormal where the result is one. Branch-free and without `floor` or a
/// 64-bit arithmetic shift (neither is an instruction on baseline x86-64 / AVX2), so that the
/// loops vectorise.
#[inline(always)]
pub(crate) fn exp(x: f64) -> f64 {
    exp_with::<false>(x)
}

/// `1/13!, 1/12!, ..., 1/2!, 1, 1`: the Taylor polynomial of `e^r` (highest power first).
const EXP_TAYLOR: [f64; 14] = [
    1.0 / 6_227_020_800.0,
    1.0 / 479_001_600.0,
    1.0 / 39_916_800.0,
    1.0 / 3_628_800.0,
    1.0 / 362_880.0,
    1.0 / 40_320.0,
    1.0 / 5_040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
    1.0,
    1.0,
];

/// `1/21, 1/19, ..., 1/3, 1`: `atanh(s) / s` as a polynomial in `s^2` (highest power first).
const ATANH_SERIES: [f64; 11] = [
    1.0 / 21.0,
    1.0 / 19.0,
    1.0 / 17.0,
    1.0 / 15.0,
    1.0 / 13.0,
    1.0 / 11.0,
    1.0 / 9.0,
    1.0 / 7.0,
    1.0 / 5.0,
    1.0 / 3.0,
    1.0,
];

/// `c[0] x^(n-1) + ... + c[n-1]` by Horner's rule (unrolled: the coefficients are constants).
#[inline(always)]
fn horner<const FMA: bool, const N: usize>(x: f64, c: &[f64; N]) -> f64 {
    let mut p = c[0];
    for &ci in &c[1..] {
        p = madd::<FMA>(p, x, ci);
    }
    p
}

/// `a * b + c`, as one fused multiply-add when `FMA` (only inside functions compiled with the
/// `fma` target feature: elsewhere `mul_add` is a slow library call), else a multiply and an add.
#[inline(always)]
fn madd<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// [`exp`], with its polynomial in fused multiply-adds when `FMA` (half the instructions and
/// the latency of the Horner chain; the result differs by at most an ulp or so).
#[inline(always)]
pub(crate) fn exp_with<const FMA: bool>(x: f64) -> f64 {
    let x = x.clamp(-746.0, 710.0);
    let m = x * LOG2E + ROUND_MAGIC;
    let n = m - ROUND_MAGIC;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    // Taylor polynomial of degree 13 on |r| <= ln2/2: truncation below 1e-17.
    let p = horner::<FMA, 14>(r, &EXP_TAYLOR);
    // n and h = n/2 rounded, as integers read from the low mantissa bits.
    let magic = ROUND_MAGIC.to_bits() as i64;
    let ni = (m.to_bits() as i64).wrapping_sub(magic);
    let hi = ((n * 0.5 + ROUND_MAGIC).to_bits() as i64).wrapping_sub(magic);
    p * pow2(hi) * pow2(ni.wrapping_sub(hi))
}

/// `2^k` for `k` in `[-1022, 1023]`, by writing the exponent bits.
#[inline(always)]
fn pow2(k: i64) -> f64 {
    f64::from_bits((k.wrapping_add(1023) as u64) << 52)
}

/// `ln(1 + u)` for `u` in `[0, 1]`.
#[inline(always)]
pub(crate) fn log1p_unit(u: f64) -> f64 {
    log1p_unit_with::<false>(u)
}

/// [`log1p_unit`], with fused multiply-adds when `FMA` (see [`exp_with`]).
#[inline(always)]
pub(crate) fn log1p_unit_with<const FMA: bool>(u: f64) -> f64 {
    // Reduce 1 + u to [sqrt(2)/2, sqrt(2)]: for u > sqrt(2) - 1 use (1 + u) / 2 and add ln 2.
    let big = u > std::f64::consts::SQRT_2 - 1.0;
    let f = if big { (u - 1.0) * 0.5 } else { u };
    let k = if big { 1.0 } else { 0.0 };
    // ln(1 + f) = 2 atanh(s), s = f / (2 + f), |s| <= 0.1716: series to s^21.
    let s = f / (2.0 + f);
    let z = s * s;
    let p = horner::<FMA, 11>(z, &ATANH_SERIES);
    k * std::f64::consts::LN_2 + 2.0 * s * p
}

/// `ln(1 + e^x)`.
#[inline(always)]
pub(crate) fn softplus(x: f64) -> f64 {
    x.max(0.0) + log1p_unit(exp(-x.abs()))
}

/// `1 / (1 + e^-x)`.
#[inline(always)]
pub(crate) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + exp(-x))
}

/// Whether the CPU has AVX2 and FMA (the matrix-vector kernels use fused multiply-adds).
#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx2_fma() -> bool {
    use std::sync::OnceLock;
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
}

#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx2() -> bool {
    use std::sync::OnceLock;
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| is_x86_feature_detected!("avx2"))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn map_avx2<F: Fn(f64) -> f64>(xs: &mut [f64], f: F) {
    for x in xs {
        *x = f(*x);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn zip_avx2<F: Fn(f64, f64) -> f64>(out: &mut [f64], a: &[f64], b: &[f64], f: F) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = f(x, y);
    }
}

/// Applies `f` to every element in place.
#[inline]
pub(crate) fn map_inplace<F: Fn(f64) -> f64>(xs: &mut [f64], f: F) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 (checked above).
        unsafe { map_avx2(xs, f) };
        return;
    }
    for x in xs {
        *x = f(*x);
    }
}

/// `out[i] = f(a[i], b[i])`.
#[inline]
pub(crate) fn zip_into<F: Fn(f64, f64) -> f64>(out: &mut [f64], a: &[f64], b: &[f64], f: F) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 (checked above).
        unsafe { zip_avx2(out, a, b, f) };
        return;
    }
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = f(x, y);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn acc_exp_avx2(acc: &mut [f64], x: &[f64], shift: &[f64]) {
    for ((a, &v), &m) in acc.iter_mut().zip(x).zip(shift) {
        *a += exp(v - m);
    }
}

/// `acc[i] += e^(x[i] - shift[i])`.
#[inline]
pub(crate) fn acc_exp(acc: &mut [f64], x: &[f64], shift: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 (checked above).
        unsafe { acc_exp_avx2(acc, x, shift) };
        return;
    }
    for ((a, &v), &m) in acc.iter_mut().zip(x).zip(shift) {
        *a += exp(v - m);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn grad_exp_avx2(out: &mut [f64], g: &[f64], x: &[f64], y: &[f64]) {
    for (((o, &gi), &xi), &yi) in out.iter_mut().zip(g).zip(x).zip(y) {
        *o = if gi == 0.0 { 0.0 } else { gi * exp(xi - yi) };
    }
}

/// `out[i] = g[i] e^(x[i] - y[i])` (0 where `g[i]` is 0): the gradient of a logsumexp.
#[inline]
pub(crate) fn grad_exp(out: &mut [f64], g: &[f64], x: &[f64], y: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 (checked above).
        unsafe { grad_exp_avx2(out, g, x, y) };
        return;
    }
    for (((o, &gi), &xi), &yi) in out.iter_mut().zip(g).zip(x).zip(y) {
        *o = if gi == 0.0 { 0.0 } else { gi * exp(xi - yi) };
    }
}

/// Sum with four accumulators (vectorises; the order differs from a plain left fold).
#[inline]
pub(crate) fn sum(xs: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let chunks = xs.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..4 {
            acc[k] += c[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + rest.iter().sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(1e-300)
    }

    #[test]
    fn exp_matches_std() {
        let mut worst: f64 = 0.0;
        for i in -70_000..=70_000 {
            let x = i as f64 * 0.01;
            worst = worst.max(rel(exp(x), x.exp()));
        }
        assert!(worst < 4e-16, "exp worst relative error {worst}");
    }

    #[test]
    fn exp_covers_the_overflow_and_subnormal_ranges() {
        // Normal results up to the overflow threshold ln(f64::MAX) = 709.782712893384.
        let mut worst: f64 = 0.0;
        let mut x = 700.0;
        while x < 709.78 {
            worst = worst.max(rel(exp(x), x.exp()));
            x += 0.001;
        }
        assert!(
            worst < 4e-16,
            "exp worst relative error near overflow {worst}"
        );
        assert!(rel(exp(709.5), 1.354_986_319_314_632_8e308) < 4e-16);
        assert_eq!(exp(709.79), f64::INFINITY);
        assert_eq!(exp(1e300), f64::INFINITY);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        // Subnormal results: at most one subnormal step (4.9e-324) from the correctly rounded one.
        let step = f64::from_bits(1);
        let mut x = -708.5;
        while x > -745.5 {
            let (got, want) = (exp(x), x.exp());
            assert!(
                (got - want).abs() <= step,
                "exp({x}) = {got:e}, want {want:e}"
            );
            x -= 0.0007;
        }
        assert!((exp(-740.0) - 4.2e-322).abs() <= step);
        assert_eq!(exp(-745.2), 0.0);
        assert_eq!(exp(-1e300), 0.0);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert!(exp(f64::NAN).is_nan());
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn log1p_and_softplus_match_std() {
        let mut worst: f64 = 0.0;
        for i in 0..=100_000 {
            let u = i as f64 * 1e-5;
            worst = worst.max(rel(log1p_unit(u), u.ln_1p()));
        }
        for u in [1e-300, 1e-20, 1e-10, 1e-5] {
            worst = worst.max(rel(log1p_unit(u), u.ln_1p()));
        }
        assert!(worst < 1e-15, "log1p worst relative error {worst}");
        for i in -4000..=4000 {
            let x = i as f64 * 0.01;
            let want = if x > 0.0 {
                x + (-x).exp().ln_1p()
            } else {
                x.exp().ln_1p()
            };
            assert!(rel(softplus(x), want) < 1e-15, "softplus({x})");
            assert!(
                rel(sigmoid(x), 1.0 / (1.0 + (-x).exp())) < 1e-15,
                "sigmoid({x})"
            );
        }
    }

    /// The fused-multiply-add forms (used inside the AVX2/FMA kernels; here `mul_add` runs in
    /// software) keep the accuracy of the plain ones and agree with them to a few ulp.
    #[test]
    fn fma_forms_match_std_and_the_plain_forms() {
        let (mut worst_exp, mut worst_log): (f64, f64) = (0.0, 0.0);
        for i in -70_000..=70_000 {
            let x = i as f64 * 0.01;
            worst_exp = worst_exp.max(rel(exp_with::<true>(x), x.exp()));
            assert!(rel(exp_with::<true>(x), exp(x)) < 8e-16, "exp({x})");
        }
        for i in 0..=100_000 {
            let u = i as f64 * 1e-5;
            worst_log = worst_log.max(rel(log1p_unit_with::<true>(u), u.ln_1p()));
        }
        assert!(worst_exp < 4e-16, "exp worst relative error {worst_exp}");
        assert!(worst_log < 1e-15, "log1p worst relative error {worst_log}");
        assert_eq!(exp_with::<true>(709.79), f64::INFINITY);
        assert_eq!(exp_with::<true>(-745.2), 0.0);
        assert!(exp_with::<true>(f64::NAN).is_nan());
    }
}
