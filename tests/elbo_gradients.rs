//! The Trace ELBO gradient estimator is unbiased: its average over many draws matches the
//! analytic gradient, through a reparameterised guide (pathwise) and through a guide without
//! `rsample` (score function).
//!
//! Model: z ~ N(0, 1), x ~ N(z, 1) with x observed. Guide: z ~ N(m, s). Then
//!   ELBO(m, s) = -(m² + s²)/2 - ((x - m)² + s²)/2 - ln 2π + ln s + 1/2 + ln √(2π),
//!   dLoss/dm = 2m - x,  dLoss/ds = 2s - 1/s,  and for u = ln s: dLoss/du = s (2s - 1/s).

use pyro::constraints::Constraint;
use pyro::handlers::Context;
use pyro::prelude::*;
use pyro::rng::Rng;
use pyro::tensor::Shape;

/// A normal distribution that hides its reparameterised sampler, forcing the score-function
/// estimator.
#[derive(Clone, Debug)]
struct OpaqueNormal(Normal);

impl Distribution for OpaqueNormal {
    fn name(&self) -> &'static str {
        "OpaqueNormal"
    }
    fn batch_shape(&self) -> Shape {
        self.0.batch_shape()
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        self.0.sample(rng)
    }
    fn log_prob(&self, value: &Tensor) -> Tensor {
        self.0.log_prob(value)
    }
    fn support(&self) -> Constraint {
        self.0.support()
    }
    fn box_clone(&self) -> Box<dyn Distribution> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

struct M;
impl Model for M {
    type Args<'a> = f64;
    type Output = ();
    const NAME: &'static str = "m";
    fn call<'a>(&self, ctx: &mut Context, x: f64) {
        let z = ctx.sample("z", Normal::new(0.0, 1.0), None);
        ctx.sample("x", Normal::new(z, 1.0), Some(x.into()));
    }
}

struct G {
    reparam: bool,
}
impl pyro::infer::GuideFor<M> for G {}

impl Model for G {
    type Args<'a> = f64;
    type Output = ();
    const NAME: &'static str = "g";
    fn call<'a>(&self, ctx: &mut Context, _x: f64) {
        let m = ctx.param("m", || 0.3, constraints::real());
        let s = ctx.param("s", || 0.8, constraints::positive());
        let d = Normal::new(m, s);
        if self.reparam {
            ctx.sample("z", d, None);
        } else {
            ctx.sample("z", d.map(OpaqueNormal), None);
        }
    }
}

fn check(reparam: bool, n: usize) {
    let x = 1.0;
    let (m, s): (f64, f64) = (0.3, 0.8);
    let exact_m = 2.0 * m - x;
    let exact_u = s * (2.0 * s - 1.0 / s);
    let mut svi = Svi::new(
        M,
        G { reparam },
        Adam::new(AdamConfig::default()),
        TraceElbo::default(),
    )
    .seed(11);
    let (mut gm, mut gu) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let (_, grads) = svi.loss_and_grads(x).unwrap();
        for (name, g) in grads {
            let v = g.item().unwrap();
            if name == "m" {
                gm.push(v)
            } else {
                gu.push(v)
            }
        }
    }
    for (name, draws, exact) in [("m", &gm, exact_m), ("ln s", &gu, exact_u)] {
        let mean = draws.iter().sum::<f64>() / n as f64;
        let var = draws.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let se = (var / n as f64).sqrt();
        // 5 standard errors: a false alarm has probability below 1e-6.
        assert!(
            (mean - exact).abs() < 5.0 * se + 1e-12,
            "{name} (reparam={reparam}): {mean} vs {exact}, se {se}"
        );
    }
}

#[test]
fn pathwise_gradient_is_unbiased() {
    check(true, 20_000);
}

#[test]
fn score_function_gradient_is_unbiased() {
    check(false, 20_000);
}
