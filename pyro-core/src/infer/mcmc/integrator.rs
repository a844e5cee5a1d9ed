//! The leapfrog (velocity Verlet) integrator of Hamilton's equations, the symplectic,
//! time-reversible integrator that HMC needs for its Metropolis correction to be exact.

use super::mass_matrix::MassMatrix;
use crate::error::Result;

/// Something with a potential energy and its gradient: the model's
/// [`Potential`](super::potential::Potential), or a closed-form density in tests.
pub(crate) trait EnergyFn {
    /// `U(z)`, with `∇U(z)` written into `grad`; `+inf` where the density is zero or the model
    /// cannot be evaluated.
    fn energy(&mut self, z: &[f64], grad: &mut [f64]) -> Result<f64>;
}

/// A point of phase space: position, momentum, and the potential energy and its gradient at the
/// position (kept so that each leapfrog step evaluates the model once).
#[derive(Clone, Debug)]
pub(crate) struct PhasePoint {
    pub(crate) z: Vec<f64>,
    pub(crate) p: Vec<f64>,
    pub(crate) grad: Vec<f64>,
    pub(crate) potential: f64,
}

impl PhasePoint {
    pub(crate) fn zeros(d: usize) -> PhasePoint {
        PhasePoint {
            z: vec![0.0; d],
            p: vec![0.0; d],
            grad: vec![0.0; d],
            potential: 0.0,
        }
    }

    /// Copies `other` into `self` without allocating.
    pub(crate) fn assign(&mut self, other: &PhasePoint) {
        self.z.copy_from_slice(&other.z);
        self.p.copy_from_slice(&other.p);
        self.grad.copy_from_slice(&other.grad);
        self.potential = other.potential;
    }

    /// The Hamiltonian `H = U(z) + K(p)`.
    pub(crate) fn hamiltonian(&self, mass: &MassMatrix) -> f64 {
        self.potential + mass.kinetic(&self.p)
    }

    /// The energy error `H(self) - h0` of a point that the integrator reached from one of
    /// Hamiltonian `h0`: 0 under exact integration, above the kernel's `max_delta_energy` for a
    /// divergent trajectory. NaN (the model could not be evaluated) counts as `+inf`, a
    /// divergence.
    pub(crate) fn energy_error(&self, mass: &MassMatrix, h0: f64) -> f64 {
        let delta = self.hamiltonian(mass) - h0;
        if delta.is_nan() {
            f64::INFINITY
        } else {
            delta
        }
    }
}

/// The Metropolis acceptance probability `min(1, exp(-delta))` of a move with energy error
/// `delta` (0 for `delta = +inf`).
pub(crate) fn metropolis_prob(delta: f64) -> f64 {
    (-delta).exp().min(1.0)
}

/// One leapfrog step of size `eps` (negative: backwards in time), in place. `v` is scratch space
/// of the dimension.
pub(crate) fn leapfrog<E: EnergyFn + ?Sized>(
    pt: &mut PhasePoint,
    eps: f64,
    mass: &MassMatrix,
    energy: &mut E,
    v: &mut [f64],
) -> Result<()> {
    let half = 0.5 * eps;
    for (p, g) in pt.p.iter_mut().zip(&pt.grad) {
        *p -= half * g;
    }
    mass.velocity(&pt.p, v);
    for (z, vi) in pt.z.iter_mut().zip(v.iter()) {
        *z += eps * vi;
    }
    pt.potential = energy.energy(&pt.z, &mut pt.grad)?;
    if pt.potential.is_finite() {
        for (p, g) in pt.p.iter_mut().zip(&pt.grad) {
            *p -= half * g;
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A Gaussian `N(mean, cov)` with a given precision matrix, for testing the kernels without a
    /// model: `U(z) = ½ (z - m)ᵀ P (z - m)`.
    pub(crate) struct Gaussian {
        pub(crate) mean: Vec<f64>,
        pub(crate) precision: Vec<f64>,
        pub(crate) evals: usize,
    }

    impl EnergyFn for Gaussian {
        fn energy(&mut self, z: &[f64], grad: &mut [f64]) -> Result<f64> {
            self.evals += 1;
            let d = self.mean.len();
            let r: Vec<f64> = z.iter().zip(&self.mean).map(|(a, b)| a - b).collect();
            let mut u = 0.0;
            for i in 0..d {
                let g: f64 = (0..d).map(|j| self.precision[i * d + j] * r[j]).sum();
                grad[i] = g;
                u += 0.5 * r[i] * g;
            }
            Ok(u)
        }
    }

    #[test]
    fn leapfrog_is_reversible_and_nearly_conserves_energy() {
        let mut g = Gaussian {
            mean: vec![1.0, -1.0],
            precision: vec![2.0, 0.5, 0.5, 1.0],
            evals: 0,
        };
        let mass = MassMatrix::Diagonal(vec![0.7, 1.3]);
        let mut pt = PhasePoint::zeros(2);
        pt.z = vec![0.3, 0.2];
        pt.p = vec![1.0, -0.5];
        pt.potential = g.energy(&pt.z.clone(), &mut pt.grad).unwrap();
        let start = pt.clone();
        let h0 = pt.hamiltonian(&mass);
        let mut v = [0.0; 2];
        for _ in 0..50 {
            leapfrog(&mut pt, 0.05, &mass, &mut g, &mut v).unwrap();
        }
        // Energy error of a second-order integrator: O(eps²).
        assert!((pt.hamiltonian(&mass) - h0).abs() < 5e-3);
        for _ in 0..50 {
            leapfrog(&mut pt, -0.05, &mass, &mut g, &mut v).unwrap();
        }
        for (a, b) in pt.z.iter().zip(&start.z) {
            assert!((a - b).abs() < 1e-12);
        }
        for (a, b) in pt.p.iter().zip(&start.p) {
            assert!((a - b).abs() < 1e-12);
        }
    }
}
