//! Observations are checked against the support of their distribution by default (as Pyro's
//! `validate_args`), with a switch on the context and on `Svi`; constructors refuse the
//! parameters that used to be accepted and give NaN; bounded enumeration; the positive
//! bijection at the ends of the range.

use pyro::distributions::*;
use pyro::handlers::Context;
use pyro::prelude::*;
use pyro::rng::rng_from_seed;
use pyro::Error;

/// The error of observing `value` at a site with distribution `d`, if any.
fn observe<D: IntoDistribution>(d: D, value: Tensor) -> Option<Error> {
    let mut ctx = Context::new(0);
    ctx.sample("y", d, Some(value));
    ctx.take_error()
}

fn is_out_of_support(e: Option<Error>, dist: &str) {
    match e {
        Some(Error::Site { site, source, .. }) => match *source {
            Error::OutOfSupport { dist: d, .. } => {
                assert_eq!(site, "y");
                assert_eq!(d, dist);
            }
            other => panic!("expected OutOfSupport for {dist}, got {other}"),
        },
        other => panic!("expected a site error for {dist}, got {other:?}"),
    }
}

#[test]
fn observations_outside_the_support_are_errors_naming_site_and_distribution() {
    is_out_of_support(observe(Bernoulli::new(0.3), 2.0.into()), "Bernoulli");
    is_out_of_support(observe(Bernoulli::new(0.3), 0.5.into()), "Bernoulli");
    is_out_of_support(
        observe(Bernoulli::from_logits(0.3), (-1.0).into()),
        "Bernoulli",
    );
    is_out_of_support(observe(Poisson::new(2.0), (-1.0).into()), "Poisson");
    is_out_of_support(observe(Poisson::new(2.0), 1.5.into()), "Poisson");
    is_out_of_support(observe(Binomial::new(3.0, 0.5), 4.0.into()), "Binomial");
    is_out_of_support(observe(Binomial::new(3.0, 0.5), 1.5.into()), "Binomial");
    // Each count against its own total_count: 5 is fine for n = 10, not for n = 3.
    let d = Binomial::new(Tensor::from(vec![10.0, 3.0]), 0.5);
    assert!(observe(d.clone(), Tensor::from(vec![5.0, 3.0])).is_none());
    is_out_of_support(observe(d, Tensor::from(vec![3.0, 5.0])), "Binomial");
    is_out_of_support(
        observe(NegativeBinomial::new(2.0, 0.5), (-2.0).into()),
        "NegativeBinomial",
    );
    is_out_of_support(observe(Beta::new(2.0, 2.0), 1.5.into()), "Beta");
    is_out_of_support(observe(Gamma::new(2.0, 2.0), (-1.0).into()), "Gamma");
    is_out_of_support(observe(LogNormal::new(0.0, 1.0), 0.0.into()), "LogNormal");
    is_out_of_support(
        observe(Categorical::new([0.2, 0.8]), 2.0.into()),
        "Categorical",
    );
    is_out_of_support(
        observe(Dirichlet::new([1.0, 2.0]), Tensor::from(vec![0.5, 0.6])),
        "Dirichlet",
    );
    is_out_of_support(observe(Uniform::new(0.0, 2.0), 3.0.into()), "Uniform");
    is_out_of_support(observe(Normal::new(0.0, 1.0), f64::NAN.into()), "Normal");
    // Through the wrappers too.
    is_out_of_support(
        observe(
            Poisson::new(2.0).expand(&[2]).to_event(1),
            Tensor::from(vec![1.0, -1.0]),
        ),
        "Poisson",
    );
    // In-support values pass, Gamma and Exponential at 0 included (their support is x >= 0).
    assert!(observe(Gamma::new(1.0, 2.0), 0.0.into()).is_none());
    assert!(observe(Exponential::new(2.0), 0.0.into()).is_none());
    assert!(observe(Beta::new(2.0, 2.0), 0.0.into()).is_none());
    assert!(observe(Dirichlet::new([1.0, 2.0]), Tensor::from(vec![0.25, 0.75])).is_none());
    // The message says what and where.
    let e = observe(Bernoulli::new(0.3), 2.0.into())
        .unwrap()
        .to_string();
    assert!(
        e.contains("`y`") && e.contains("Bernoulli") && e.contains('2') && e.contains("{0, 1}"),
        "{e}"
    );
}

#[test]
fn validation_can_be_switched_off_on_the_context() {
    let mut ctx = Context::new(0);
    assert!(ctx.validation());
    ctx.set_validation(false);
    let v = ctx.sample("y", Bernoulli::new(0.25), Some(Tensor::from(0.5)));
    assert!(ctx.take_error().is_none());
    assert_eq!(v.item().unwrap(), 0.5);
    // Latent sites are never checked against the support (their values are draws).
    ctx.set_validation(true);
    ctx.sample("z", Bernoulli::new(0.25), None);
    assert!(ctx.take_error().is_none());
}

#[model]
fn soft(data: &[f64]) {
    let p = sample!("p", Beta::new(2.0, 2.0));
    for (i, &x) in data.iter().enumerate() {
        sample!(format!("x{i}"), Bernoulli::new(p.clone()), obs = x);
    }
}

#[guide(model = soft)]
fn soft_guide(_data: &[f64]) {
    let a = param!("a", 2.0, constraint = positive);
    let b = param!("b", 2.0, constraint = positive);
    sample!("p", Beta::new(a, b));
}

#[test]
fn svi_refuses_a_step_with_an_invalid_observation_unless_told_not_to_check() {
    // Soft targets: not Bernoulli observations, but a cross-entropy Pyro users score with
    // `validate_args=False`.
    let data = [0.5, 0.9, 0.1];
    let adam = || Adam::new(AdamConfig::default());
    let mut svi = Svi::new(soft, soft_guide, adam(), TraceElbo::default());
    let e = svi.step(&data).unwrap_err().to_string();
    assert!(e.contains("x0") && e.contains("Bernoulli"), "{e}");
    let before = svi.params().scalar("a").ok();
    assert!(
        before.is_none() || before == Some(2.0),
        "a refused step changes nothing"
    );
    let mut svi = Svi::new(soft, soft_guide, adam(), TraceElbo::default()).validate(false);
    for _ in 0..5 {
        assert!(svi.step(&data).unwrap().is_finite());
    }
}

#[test]
fn parameters_that_gave_nan_are_refused() {
    assert!(Categorical::from_logits([f64::NEG_INFINITY, f64::NEG_INFINITY]).is_err());
    assert!(Categorical::from_logits([f64::NEG_INFINITY, 0.0]).is_ok());
    assert!(Exponential::new(f64::INFINITY).is_err());
    assert!(Gamma::new(f64::INFINITY, 1.0).is_err());
    assert!(Normal::new(f64::INFINITY, 1.0).is_err());
    assert!(Normal::new(0.0, f64::INFINITY).is_err());
    assert!(
        Beta::new(1e308, 1e308).is_err(),
        "concentration1 + concentration0 overflows"
    );
    assert!(Delta::new(f64::NAN).is_err());
    // Accepted parameters at the ends give numbers.
    let lp = |d: &dyn Distribution, x: f64| d.log_prob(&x.into()).item().unwrap();
    assert_eq!(lp(&Binomial::new(10.0, 1.0).unwrap(), 10.0), 0.0);
    assert_eq!(lp(&Binomial::new(10.0, 0.0).unwrap(), 0.0), 0.0);
    assert_eq!(
        lp(&Bernoulli::from_logits(f64::NEG_INFINITY).unwrap(), 0.0),
        0.0
    );
    let mut rng = rng_from_seed(3);
    let x = Poisson::new(1e20).unwrap().sample(&mut rng).item().unwrap();
    assert!(x.is_finite() && (x - 1e20).abs() < 1e12, "{x}");
    for _ in 0..100 {
        let u = Uniform::new(-1e308, 1e308)
            .unwrap()
            .sample(&mut rng)
            .item()
            .unwrap();
        assert!(u.is_finite() && (-1e308..1e308).contains(&u), "{u}");
    }
}

#[test]
fn binomial_enumeration_is_bounded() {
    let d = Binomial::new(Tensor::zeros(&[0]), 0.5).unwrap();
    assert!(d.enumerate_support(true).is_err());
    assert!(d.enumerate_support(false).is_err());
    let d = Binomial::new(1e15, 0.5).unwrap();
    let e = d.enumerate_support(false).unwrap_err().to_string();
    assert!(e.contains("1000000000000000"), "{e}");
    let d = Binomial::new(Tensor::from(vec![4.0, 4.0]), 0.5).unwrap();
    assert_eq!(d.enumerate_support(true).unwrap().shape(), &[5, 2]);
}

#[test]
fn positive_parameters_round_trip_at_the_ends_of_the_range() {
    let mut store = pyro::params::ParamStore::new();
    for (i, &v) in [f64::MAX, 1e308, 1e-308, 5e-324, 1.0].iter().enumerate() {
        let name = format!("p{i}");
        store
            .insert(&name, Tensor::from(v), constraints::positive())
            .unwrap();
        let back = store.get(&name).unwrap().item().unwrap();
        assert!(back.is_finite() && back > 0.0, "{v} read back as {back}");
        // exp(ln v) is within |ln v| ulps: 2.4e-14 relative at f64::MAX; subnormals keep
        // their own precision.
        let tol = if v < f64::MIN_POSITIVE { 1.0 } else { 1e-13 };
        assert!(((back - v) / v).abs() <= tol, "{v} read back as {back}");
    }
}

/// Soft targets as shard data (for `ParallelSvi`, whose model takes its data by reference).
struct Soft(Vec<f64>);

#[model]
fn soft_rows(d: &Soft) {
    let p = sample!("p", Beta::new(2.0, 2.0));
    for (i, &x) in d.0.iter().enumerate() {
        sample!(format!("x{i}"), Bernoulli::new(p.clone()), obs = x);
    }
}

#[guide(model = soft_rows)]
fn soft_rows_guide(_d: &Soft) {
    let a = param!("a", 2.0, constraint = positive);
    let b = param!("b", 2.0, constraint = positive);
    sample!("p", Beta::new(a, b));
}

#[test]
fn parallel_svi_checks_observations_with_the_svi_setting() {
    use pyro::infer::Shards;
    let shards = || Shards::whole(|| Ok(Soft(vec![1.0, 0.5])));
    let adam = || Adam::new(AdamConfig::default());
    let mut svi = Svi::new(soft_rows, soft_rows_guide, adam(), TraceElbo::default())
        .seed(1)
        .parallel(shards())
        .threads(2);
    let e = svi.step().unwrap_err().to_string();
    assert!(e.contains("x1") && e.contains("Bernoulli"), "{e}");
    // Off on the `Svi`: every worker scores the soft target.
    let mut svi = Svi::new(soft_rows, soft_rows_guide, adam(), TraceElbo::default())
        .seed(1)
        .validate(false)
        .parallel(shards())
        .threads(2);
    for _ in 0..3 {
        assert!(svi.step().unwrap().is_finite());
    }
}

#[test]
fn mcmc_checks_observations_unless_told_not_to() {
    let data = [1.0, 0.5, 0.0];
    let run = |validate: bool| {
        Mcmc::new(Nuts::new(soft))
            .warmup(20)
            .samples(20)
            .seed(4)
            .progress(false)
            .validate(validate)
            .run(&data[..])
    };
    let e = run(true).unwrap_err().to_string();
    assert!(e.contains("x1") && e.contains("Bernoulli"), "{e}");
    let s = run(false).unwrap();
    let p = s.get("p").unwrap().to_vec().unwrap();
    assert_eq!(p.len(), 20);
    assert!(p.iter().all(|&v| v > 0.0 && v < 1.0));
}
