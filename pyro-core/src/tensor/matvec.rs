//! Matrix-vector products with a row-major matrix in `f64` or `f32`, accumulated in `f64`.
//!
//! A regression's likelihood is `X w` forward and `Xᵀ g` backward, with `X` tall and narrow
//! (10,000 x 20): memory-bound, so a blocked matrix kernel's packing only costs. These kernels
//! stream `X` once per product, four rows at a time (forward) or one row at a time into a
//! register-resident accumulator (backward), with AVX2/FMA where the CPU has it. An `f32` matrix
//! halves the bytes streamed; its values are widened in registers and the sums kept in `f64`.

/// A matrix element type: `f64`, or `f32` widened on load.
pub(crate) trait Elem: Copy {
    fn wide(self) -> f64;
}

impl Elem for f64 {
    #[inline(always)]
    fn wide(self) -> f64 {
        self
    }
}

impl Elem for f32 {
    #[inline(always)]
    fn wide(self) -> f64 {
        f64::from(self)
    }
}

/// `c[i] = sum_l a[i k + l] x[l] + beta c[i]` for the `m = c.len()` rows of a row-major `m x k`
/// matrix `a`.
pub(crate) fn rows_dot<T: Elem>(a: &[T], k: usize, x: &[f64], c: &mut [f64], beta: f64) {
    let m = c.len();
    // The kernels index without bounds checks in their inner loops only through slices cut
    // here: these are the lengths they rely on.
    assert!(
        a.len() >= m * k && x.len() >= k,
        "rows_dot: a {} x {} matrix needs {} values (got {}) and a vector of {k} (got {})",
        m,
        k,
        m * k,
        a.len(),
        x.len()
    );
    #[cfg(target_arch = "x86_64")]
    if super::fastmath::has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA (checked above); the kernel only indexes
        // through checked slices.
        unsafe { rows_dot_avx2(a, k, x, c, beta) };
        return;
    }
    rows_dot_generic(a, k, x, c, beta)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn rows_dot_avx2<T: Elem>(a: &[T], k: usize, x: &[f64], c: &mut [f64], beta: f64) {
    rows_dot_generic(a, k, x, c, beta)
}

#[inline(always)]
fn rows_dot_generic<T: Elem>(a: &[T], k: usize, x: &[f64], c: &mut [f64], beta: f64) {
    let x = &x[..k];
    let k4 = k - k % 4;
    let mut blocks = c.chunks_exact_mut(4);
    let mut i = 0;
    for cb in &mut blocks {
        let rows: [&[T]; 4] = std::array::from_fn(|r| &a[(i + r) * k..(i + r + 1) * k]);
        let mut acc = [[0.0f64; 4]; 4];
        let mut l = 0;
        while l < k4 {
            for (r, row) in rows.iter().enumerate() {
                for j in 0..4 {
                    acc[r][j] = row[l + j].wide().mul_add(x[l + j], acc[r][j]);
                }
            }
            l += 4;
        }
        for (r, row) in rows.iter().enumerate() {
            let mut s = (acc[r][0] + acc[r][1]) + (acc[r][2] + acc[r][3]);
            for j in k4..k {
                s = row[j].wide().mul_add(x[j], s);
            }
            cb[r] = if beta == 0.0 { s } else { s + beta * cb[r] };
        }
        i += 4;
    }
    for (r, ci) in blocks.into_remainder().iter_mut().enumerate() {
        let row = &a[(i + r) * k..(i + r + 1) * k];
        let mut s = 0.0;
        for (v, xv) in row.iter().zip(x) {
            s = v.wide().mul_add(*xv, s);
        }
        *ci = if beta == 0.0 { s } else { s + beta * *ci };
    }
}

/// `c[j] = sum_i a[i k + j] g[i] + beta c[j]` (the product `aᵀ g`) for a row-major `m x k`
/// matrix `a` with `m = g.len()` and `k = c.len()`.
pub(crate) fn cols_axpy<T: Elem>(a: &[T], g: &[f64], c: &mut [f64], beta: f64) {
    let (m, k) = (g.len(), c.len());
    assert!(
        a.len() >= m * k,
        "cols_axpy: a {m} x {k} matrix needs {} values, got {}",
        m * k,
        a.len()
    );
    #[cfg(target_arch = "x86_64")]
    if super::fastmath::has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA (checked above); the kernel only indexes
        // through checked slices.
        unsafe { cols_axpy_avx2(a, g, c, beta) };
        return;
    }
    cols_axpy_generic(a, g, c, beta)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn cols_axpy_avx2<T: Elem>(a: &[T], g: &[f64], c: &mut [f64], beta: f64) {
    cols_axpy_generic(a, g, c, beta)
}

/// Widest row kept in a fixed-size accumulator (registers or L1).
const ACC: usize = 64;

#[inline(always)]
fn cols_axpy_generic<T: Elem>(a: &[T], g: &[f64], c: &mut [f64], beta: f64) {
    let k = c.len();
    if k == 0 {
        return;
    }
    for cj in c.iter_mut() {
        *cj = if beta == 0.0 { 0.0 } else { beta * *cj };
    }
    // Columns [start, start + w) of every row into a fixed-size accumulator.
    let mut start = 0;
    while start < k {
        let w = (k - start).min(ACC);
        let mut acc = [0.0f64; ACC];
        let acc = &mut acc[..w];
        for (row, &gi) in a.chunks_exact(k).zip(g) {
            let row = &row[start..start + w];
            for (s, v) in acc.iter_mut().zip(row) {
                *s = v.wide().mul_add(gi, *s);
            }
        }
        for (cj, s) in c[start..start + w].iter_mut().zip(acc.iter()) {
            *cj += s;
        }
        start += w;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f64], m: usize, k: usize, x: &[f64]) -> Vec<f64> {
        (0..m)
            .map(|i| (0..k).map(|l| a[i * k + l] * x[l]).sum())
            .collect()
    }

    #[test]
    fn kernels_match_plain_loops_in_f64_and_f32() {
        for (m, k) in [(1, 1), (5, 3), (9, 20), (13, 70), (4, 4)] {
            let a: Vec<f64> = (0..m * k)
                .map(|i| ((i * 37 % 11) as f64 - 5.0) * 0.25)
                .collect();
            let x: Vec<f64> = (0..k).map(|i| (i as f64 - 1.5) * 0.5).collect();
            let g: Vec<f64> = (0..m).map(|i| (i as f64 * 0.75) - 2.0).collect();
            let want = naive(&a, m, k, &x);
            let mut c = vec![1.0; m];
            rows_dot(&a, k, &x, &mut c, 0.0);
            assert_eq!(c, want, "rows_dot {m}x{k}");
            // The values are exact in f32 too (multiples of 1/4 and 1/2).
            let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
            let mut c = vec![1.0; m];
            rows_dot(&a32, k, &x, &mut c, 2.0);
            let want2: Vec<f64> = want.iter().map(|w| w + 2.0).collect();
            assert_eq!(c, want2, "rows_dot f32 {m}x{k}");
            // aᵀ g
            let at: Vec<f64> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect();
            let want = naive(&at, k, m, &g);
            let mut c = vec![3.0; k];
            cols_axpy(&a32, &g, &mut c, 0.0);
            assert_eq!(c, want, "cols_axpy {m}x{k}");
        }
    }
}
