//! A seeded property test over every distribution: parameters and values drawn from the awkward
//! corners of `f64` (0, -0, negatives, ±inf, NaN, subnormals, 1e-308, 1e308, `f64::MAX`, the
//! boundaries of the supports) and ordinary values. For every combination:
//!
//! - nothing panics: construction either errors or succeeds, and a NaN parameter is an error;
//! - draws (`sample`, and `rsample` with the parameters on a tape) are finite and inside the
//!   support;
//! - `log_prob` of a value inside the support is never NaN (a typed error is allowed), of a draw
//!   is finite, and of a value outside the support is `-inf`;
//! - the gradient of `log_prob(rsample)` is never NaN where the log-density is finite.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyro::distributions::*;
use pyro::rng::{rng_from_seed, Rng};
use pyro::tensor::{Tape, Tensor};
use rand::Rng as _;

/// The awkward values, then ordinary ones.
const POOL: [f64; 27] = [
    0.0,
    -0.0,
    -1.0,
    -0.5,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    5e-324,
    1e-308,
    f64::MIN_POSITIVE,
    1e-300,
    1e-3,
    0.3,
    0.5,
    1.0 - f64::EPSILON / 2.0,
    1.0,
    2.0,
    3.7,
    10.0,
    1e3,
    1e15,
    1e17,
    9007199254740992.0,
    1e300,
    1e308,
    f64::MAX,
    -1e308,
];

/// A distribution built from scalar parameters, or `None` for a constructor error.
type Build = fn(&[Tensor]) -> Option<Box<dyn Distribution>>;

fn boxed<D: Distribution + 'static>(d: pyro::Result<D>) -> Option<Box<dyn Distribution>> {
    d.ok().map(|d| Box::new(d) as Box<dyn Distribution>)
}

fn families() -> Vec<(&'static str, usize, Build)> {
    vec![
        ("Normal", 2, |p| boxed(Normal::new(&p[0], &p[1]))),
        ("LogNormal", 2, |p| boxed(LogNormal::new(&p[0], &p[1]))),
        ("Laplace", 2, |p| boxed(Laplace::new(&p[0], &p[1]))),
        ("Cauchy", 2, |p| boxed(Cauchy::new(&p[0], &p[1]))),
        ("HalfNormal", 1, |p| boxed(HalfNormal::new(&p[0]))),
        ("HalfCauchy", 1, |p| boxed(HalfCauchy::new(&p[0]))),
        ("Exponential", 1, |p| boxed(Exponential::new(&p[0]))),
        ("Poisson", 1, |p| boxed(Poisson::new(&p[0]))),
        ("Bernoulli", 1, |p| boxed(Bernoulli::new(&p[0]))),
        ("BernoulliLogits", 1, |p| {
            boxed(Bernoulli::from_logits(&p[0]))
        }),
        ("Gamma", 2, |p| boxed(Gamma::new(&p[0], &p[1]))),
        ("InverseGamma", 2, |p| {
            boxed(InverseGamma::new(&p[0], &p[1]))
        }),
        ("Beta", 2, |p| boxed(Beta::new(&p[0], &p[1]))),
        ("Uniform", 2, |p| boxed(Uniform::new(&p[0], &p[1]))),
        ("Binomial", 2, |p| boxed(Binomial::new(&p[0], &p[1]))),
        ("BinomialLogits", 2, |p| {
            boxed(Binomial::from_logits(&p[0], &p[1]))
        }),
        ("StudentT", 3, |p| boxed(StudentT::new(&p[0], &p[1], &p[2]))),
        ("Delta", 1, |p| boxed(Delta::new(&p[0]))),
        ("Categorical", 2, |p| boxed(Categorical::new(stack(p)))),
        ("CategoricalLogits", 2, |p| {
            boxed(Categorical::from_logits(stack(p)))
        }),
        ("OneHotCategorical", 2, |p| {
            boxed(OneHotCategorical::new(stack(p)))
        }),
        ("Dirichlet2", 2, |p| boxed(Dirichlet::new(stack(p)))),
        ("Dirichlet3", 3, |p| boxed(Dirichlet::new(stack(p)))),
        ("NegativeBinomial", 2, |p| {
            boxed(NegativeBinomial::new(&p[0], &p[1]))
        }),
        ("NegativeBinomialLogits", 2, |p| {
            boxed(NegativeBinomial::from_logits(&p[0], &p[1]))
        }),
        ("GammaPoisson", 2, |p| {
            boxed(GammaPoisson::new(&p[0], &p[1]))
        }),
        ("ZeroInflatedPoisson", 2, |p| {
            boxed(ZeroInflatedPoisson::new(&p[0], &p[1]))
        }),
        ("ZeroInflatedPoissonLogits", 2, |p| {
            boxed(ZeroInflatedPoisson::from_logits(&p[0], &p[1]))
        }),
        ("TruncatedNormal", 4, |p| {
            boxed(TruncatedNormal::new(&p[0], &p[1], &p[2], &p[3]))
        }),
        ("VonMises", 2, |p| boxed(VonMises::new(&p[0], &p[1]))),
        ("Multinomial", 2, |p| boxed(Multinomial::new(10, stack(p)))),
        ("MultinomialLogits", 2, |p| {
            boxed(Multinomial::from_logits(10, stack(p)))
        }),
        ("LKJCholesky", 1, |p| boxed(LKJCholesky::new(3, &p[0]))),
        ("MixtureSameFamily", 3, |p| {
            let mixing =
                Categorical::from_logits(stack(&[Tensor::from(0.0), p[0].clone()])).ok()?;
            let comps = Normal::new(
                stack(&[p[1].clone(), p[1].clone()]),
                stack(&[p[2].clone(), p[2].clone()]),
            )
            .ok()?;
            boxed(MixtureSameFamily::new(mixing, comps))
        }),
        ("MultivariateNormal", 3, |p| {
            let tril = Tensor::concat(
                &[
                    stack(&[p[1].clone(), Tensor::from(0.0)]).reshape(&[1, 2]),
                    stack(&[p[2].clone(), p[1].clone()]).reshape(&[1, 2]),
                ],
                0,
            );
            boxed(MultivariateNormal::new(
                stack(&[p[0].clone(), p[0].clone()]),
                tril,
            ))
        }),
    ]
}

/// Scalars `[a, b, ...]` as a vector (differentiable).
fn stack(p: &[Tensor]) -> Tensor {
    Tensor::concat(&p.iter().map(|t| t.reshape(&[1])).collect::<Vec<_>>(), 0)
}

/// Values to score: the pool (as events of the distribution's event shape: a scalar repeated,
/// or one-hot / simplex corners for the multivariate ones), and a draw.
fn values(d: &dyn Distribution) -> Vec<Tensor> {
    let ev = d.event_shape();
    let k: usize = ev.iter().product();
    let mut out: Vec<Tensor> = POOL
        .iter()
        .map(|&v| {
            if ev.is_empty() {
                Tensor::from(v)
            } else {
                Tensor::new(vec![v; k], &ev).unwrap()
            }
        })
        .collect();
    if k > 1 {
        let mut corner = vec![0.0; k];
        corner[0] = 1.0;
        out.push(Tensor::new(corner, &ev).unwrap());
        let mut half = vec![0.0; k];
        half[0] = 0.5;
        half[1] = 0.5;
        out.push(Tensor::new(half, &ev).unwrap());
    }
    out
}

fn describe(name: &str, params: &[f64]) -> String {
    format!("{name}{params:?}")
}

/// Checks one parameter combination; returns the failures found.
fn check(name: &str, build: Build, params: &[f64], rng: &mut Rng) -> Vec<String> {
    let mut fails = Vec::new();
    let what = describe(name, params);
    let consts: Vec<Tensor> = params.iter().map(|&v| Tensor::from(v)).collect();
    let Some(d) = build(&consts) else {
        return fails;
    };
    if params.iter().any(|v| v.is_nan()) {
        fails.push(format!("{what}: accepted a NaN parameter"));
    }
    let support = d.support();
    // The distribution's own check (per element where the support varies across the batch, as
    // Binomial's total_count or TruncatedNormal's bounds), the one observations meet.
    let in_support = |t: &Tensor| t.values().is_ok() && d.check_support(t).is_ok();
    let finite = |t: &Tensor| t.values().is_ok_and(|v| v.iter().all(|x| x.is_finite()));
    // Draws.
    let s = d.sample(rng);
    match s.values() {
        Err(e) => fails.push(format!("{what}: sample is an error: {e}")),
        Ok(v) => {
            if !finite(&s) || !in_support(&s) {
                fails.push(format!(
                    "{what}: sample {v:?} outside the support {support:?}"
                ));
            } else {
                // -inf is allowed: at extreme scales the density of a draw rounded to f64 can
                // underflow (LogNormal(0.3, 1e-300): ln x - 0.3 is one ulp, over 1e-300).
                let lp = d.log_prob(&s);
                if let Ok(l) = lp.values() {
                    if l.iter().any(|x| x.is_nan() || *x == f64::INFINITY) {
                        fails.push(format!("{what}: log_prob of the draw {v:?} is {l:?}"));
                    }
                }
            }
        }
    }
    // Scores at the pool values.
    for v in values(d.as_ref()) {
        let lp = d.log_prob(&v);
        let Ok(l) = lp.values() else { continue };
        let has_nan_value = v.values().unwrap().iter().any(|x| x.is_nan());
        let soft = name.starts_with("Bernoulli");
        if in_support(&v) && finite(&v) && l.iter().any(|x| x.is_nan()) {
            fails.push(format!(
                "{what}: log_prob({:?}) = NaN inside the support",
                v.to_vec()
            ));
        }
        if !in_support(&v) && !has_nan_value && !soft && l.iter().any(|&x| x != f64::NEG_INFINITY) {
            fails.push(format!(
                "{what}: log_prob({:?}) = {l:?} outside the support {support:?}",
                v.to_vec()
            ));
        }
    }
    // Reparameterised draws and their gradients, with the parameters on a tape. Gradients are
    // checked only where they are representable: with a scale of 5e-324 the score's terms
    // (1/scale, z^2/scale) overflow to inf and their difference is NaN in any f64 program.
    let moderate = params
        .iter()
        .all(|&p| p == 0.0 || (p.is_finite() && (1e-100..=1e100).contains(&p.abs())));
    if d.has_rsample() {
        let tape = Tape::new();
        let leaves: Vec<Tensor> = consts.iter().map(|c| tape.leaf(c.clone())).collect();
        if let Some(d) = build(&leaves) {
            match d.rsample(rng) {
                Err(e) => fails.push(format!("{what}: rsample is an error: {e}")),
                Ok(x) => {
                    if !finite(&x) || !in_support(&x) {
                        fails.push(format!(
                            "{what}: rsample {:?} outside the support {support:?}",
                            x.to_vec()
                        ));
                    }
                    let lp = d.log_prob(&x).sum();
                    if let (Ok(l), Ok(grads)) = (lp.item(), tape.backward(&lp)) {
                        for leaf in &leaves {
                            let g = grads.get(leaf).and_then(|g| g.to_vec().ok());
                            if l.is_finite()
                                && moderate
                                && g.is_some_and(|g| g.iter().any(|x| x.is_nan()))
                            {
                                fails.push(format!("{what}: NaN gradient of log_prob(rsample)"));
                            }
                        }
                    }
                }
            }
        }
    }
    // Moments, entropy and enumeration must not panic (their values may be errors or NaN
    // where undefined).
    let _ = (d.mean(), d.variance(), d.entropy());
    if d.is_discrete() {
        let _ = d.enumerate_support(true);
        let _ = d.enumerate_support(false);
    }
    fails
}

#[test]
fn every_distribution_at_awkward_parameters_and_values() {
    let mut rng = rng_from_seed(2024);
    let mut fails = Vec::new();
    let mut cases = 0;
    for (name, arity, build) in families() {
        // All pairs (or singles); a seeded sample of the triples.
        let combos: Vec<Vec<f64>> = match arity {
            1 => POOL.iter().map(|&a| vec![a]).collect(),
            2 => POOL
                .iter()
                .flat_map(|&a| POOL.iter().map(move |&b| vec![a, b]))
                .collect(),
            _ => (0..2000)
                .map(|_| {
                    (0..arity)
                        .map(|_| POOL[rng.random_range(0..POOL.len())])
                        .collect()
                })
                .collect(),
        };
        for params in combos {
            cases += 1;
            let mut case_rng = rng_from_seed(cases);
            match catch_unwind(AssertUnwindSafe(|| {
                check(name, build, &params, &mut case_rng)
            })) {
                Ok(f) => fails.extend(f),
                Err(_) => fails.push(format!("{}: panicked", describe(name, &params))),
            }
        }
    }
    assert!(cases > 10_000);
    assert!(
        fails.is_empty(),
        "{} failures in {cases} cases, the first ones:\n{}",
        fails.len(),
        fails
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// `log_prob_sum` (the fused kernels sum in blocks, without a buffer; Bernoulli with logits of
/// the value's shape has its own one-pass kernel) agrees with the elementwise `log_prob` at the
/// awkward parameters, for scalar parameters broadcast against the values and for parameters of
/// the values' shape, over more than one block of values.
#[test]
fn summed_log_densities_agree_with_the_elementwise_ones() {
    let mut rng = rng_from_seed(7);
    let mut fails = Vec::new();
    let mut checked = 0;
    for (name, arity, build) in families() {
        let combos: Vec<Vec<f64>> = match arity {
            1 => POOL.iter().map(|&a| vec![a]).collect(),
            2 => POOL
                .iter()
                .flat_map(|&a| POOL.iter().map(move |&b| vec![a, b]))
                .collect(),
            _ => (0..300)
                .map(|_| {
                    (0..arity)
                        .map(|_| POOL[rng.random_range(0..POOL.len())])
                        .collect()
                })
                .collect(),
        };
        for params in combos {
            let consts: Vec<Tensor> = params.iter().map(|&v| Tensor::from(v)).collect();
            let Some(d) = build(&consts) else { continue };
            if !d.event_shape().is_empty() || !d.batch_shape().is_empty() {
                continue;
            }
            let what = describe(name, &params);
            // Finite in-support pool values, each scored alone; then 1100 of them cyclically.
            let mut base = Vec::new();
            for &v in &POOL {
                let t = Tensor::from(v);
                if !v.is_finite() || d.check_support(&t).is_err() {
                    continue;
                }
                if let Ok(l) = d.log_prob(&t).item() {
                    base.push((v, l));
                }
            }
            if base.is_empty() {
                continue;
            }
            let m = 1100;
            let vals: Vec<f64> = (0..m).map(|i| base[i % base.len()].0).collect();
            let terms: Vec<f64> = (0..m).map(|i| base[i % base.len()].1).collect();
            if terms.iter().any(|l| l.is_nan() || *l == f64::INFINITY) {
                continue; // reported by the fuzz above
            }
            let exact: f64 = terms.iter().sum();
            let scale: f64 = terms.iter().map(|l| l.abs()).sum();
            let x = Tensor::new(vals, &[m]).unwrap();
            let agree = |got: f64| {
                if exact == f64::NEG_INFINITY || !scale.is_finite() {
                    got == exact || (!scale.is_finite() && got.is_infinite() == exact.is_infinite())
                } else {
                    (got - exact).abs() <= 1e-12 * scale
                }
            };
            // Elementwise over the vector, and summed: scalar parameters broadcast.
            match d.log_prob(&x).to_vec() {
                Ok(l) if l == terms => {}
                Ok(_) => fails.push(format!("{what}: log_prob of a vector differs from scalars")),
                Err(e) => fails.push(format!("{what}: log_prob of a vector: {e}")),
            }
            match d.log_prob_sum(&x).item() {
                Ok(s) if agree(s) => {}
                other => fails.push(format!(
                    "{what}: log_prob_sum (broadcast) {other:?}, elementwise sum {exact}"
                )),
            }
            // Parameters of the values' shape.
            let full: Vec<Tensor> = params
                .iter()
                .map(|&p| Tensor::new(vec![p; m], &[m]).unwrap())
                .collect();
            if let Some(dv) = build(&full) {
                match dv.log_prob_sum(&x).item() {
                    Ok(s) if agree(s) => {}
                    other => fails.push(format!(
                        "{what}: log_prob_sum (full) {other:?}, elementwise sum {exact}"
                    )),
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 5_000, "{checked}");
    assert!(
        fails.is_empty(),
        "{} failures, the first ones:\n{}",
        fails.len(),
        fails
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
