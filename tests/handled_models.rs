//! Models as values with handlers applied (`handlers::condition(model, data)`, ...): each is a
//! `Model`, usable with `Svi`, `Predictive` and the autoguides, and a model runs on its own with
//! `handlers::run`.

use pyro::handlers::{self, Blocked};
use pyro::prelude::*;

/// a ~ N(0, 1), b ~ N(a, 1), x ~ N(b, 1) observed; returns `a + b`.
#[model]
fn chain(x: f64) -> Tensor {
    let a = sample!("a", Normal::new(0.0, 1.0));
    let b = sample!("b", Normal::new(a.clone(), 1.0));
    sample!("x", Normal::new(b.clone(), 1.0), obs = x);
    a + b
}

#[guide(model = chain)]
fn chain_guide(_x: f64) {
    let a = param!("a_loc", 0.0);
    let b = param!("b_loc", 0.0);
    sample!("a", Normal::new(a, 1.0));
    sample!("b", Normal::new(b, 1.0));
}

#[test]
fn run_returns_output_and_trace_reproducibly() {
    let (out, trace) = handlers::run(&chain, 0.5, 7).unwrap();
    let a = trace.site("a").unwrap().value.item().unwrap();
    let b = trace.site("b").unwrap().value.item().unwrap();
    assert_eq!(out.item().unwrap(), a + b);
    assert!(trace.site("x").unwrap().is_observed);
    let (again, _) = handlers::run(&chain, 0.5, 7).unwrap();
    assert_eq!(again.item().unwrap(), out.item().unwrap());
    let (other, _) = handlers::run(&chain, 0.5, 8).unwrap();
    assert_ne!(other.item().unwrap(), out.item().unwrap());
}

/// A model whose scale is its argument.
#[model]
fn scaled_noise(s: f64) {
    sample!("noise", Normal::new(0.0, s));
}

#[test]
fn run_names_the_site_and_model_of_an_error() {
    let err = handlers::run(&scaled_noise, -1.0, 0).unwrap_err();
    assert!(
        matches!(&err, Error::Site { site, function: Some(f), .. } if site == "noise" && f == "scaled_noise"),
        "{err}"
    );
}

#[test]
fn condition_observes_and_an_autoguide_fits_the_rest() {
    // Given a = 1 and x = 3, b's posterior is N((a + x) / 2, 1/2): its MAP is 2. The AutoDelta
    // loss is deterministic, so Adam converges to it (1e-3: far below the step size's scale).
    let conditioned = handlers::condition(chain, [("a", 1.0)]);
    let (_, trace) = handlers::run(&conditioned, 3.0, 0).unwrap();
    assert!(trace.site("a").unwrap().is_observed);
    assert_eq!(trace.site("a").unwrap().value.item().unwrap(), 1.0);
    let guide = AutoDelta::new(conditioned.clone());
    let adam = Adam::new(AdamConfig {
        lr: 0.05,
        ..Default::default()
    });
    let mut svi = Svi::new(conditioned, guide, adam, TraceElbo::default()).seed(0);
    svi.run(2000, 3.0).unwrap();
    assert_eq!(svi.guide().sites().unwrap().len(), 1);
    let b = svi.params().scalar("AutoDelta.b").unwrap();
    assert!((b - 2.0).abs() < 1e-3, "MAP of b {b}");
}

#[test]
fn a_written_guide_guides_the_scaled_model_and_the_scale_reaches_every_site() {
    let scaled = handlers::scale(chain, 3.0);
    let (_, trace) = handlers::run(&scaled, 1.0, 0).unwrap();
    for s in trace.sample_sites() {
        assert_eq!(s.scale, 3.0, "{}", s.name);
    }
    // loss(s) = -s log p + log q at the same draws (same seed) is affine in s: the losses at
    // s = 1, 2, 3 lie on one line.
    let loss = |s: f64| {
        Svi::new(
            handlers::scale(chain, s),
            chain_guide,
            Adam::new(AdamConfig::default()),
            TraceElbo::default(),
        )
        .seed(4)
        .evaluate_loss(1.0)
        .unwrap()
    };
    let (l1, l2, l3) = (loss(1.0), loss(2.0), loss(3.0));
    assert!(((l3 - l2) - (l2 - l1)).abs() < 1e-9, "{l1} {l2} {l3}");
    assert!((l2 - l1).abs() > 1e-3);
    let mut svi = Svi::new(
        scaled,
        chain_guide,
        Adam::new(AdamConfig::default()),
        TraceElbo::default(),
    );
    svi.step(1.0).unwrap();
}

#[test]
fn mask_seed_do_and_block() {
    let masked = handlers::mask(chain, 0.0);
    let (_, trace) = handlers::run(&masked, 1.0, 0).unwrap();
    assert_eq!(trace.log_prob_sum().unwrap().item().unwrap(), 0.0);

    // A seeded model draws the same values whatever the caller's seed.
    let seeded = handlers::seed(chain, 11);
    let (a, _) = handlers::run(&seeded, 1.0, 1).unwrap();
    let (b, _) = handlers::run(&seeded, 1.0, 2).unwrap();
    assert_eq!(a.item().unwrap(), b.item().unwrap());

    // An intervention fixes the value without scoring it.
    let intervened = handlers::do_(chain, [("a", 5.0)]);
    let (_, trace) = handlers::run(&intervened, 1.0, 0).unwrap();
    let a = trace.site("a").unwrap();
    assert_eq!(a.value.item().unwrap(), 5.0);
    assert_eq!(a.log_prob_sum().unwrap().item().unwrap(), 0.0);

    // Blocked sites are hidden from the trace outside.
    let hidden: Blocked<chain> = handlers::block(chain).hide(["a"]);
    let (_, trace) = handlers::run(&hidden, 1.0, 0).unwrap();
    assert!(!trace.contains("a") && trace.contains("b"));
    let (_, trace) = handlers::run(&handlers::block(chain).expose(["a"]), 1.0, 0).unwrap();
    assert!(trace.contains("a") && !trace.contains("b") && !trace.contains("x"));
    let (_, trace) = handlers::run(&handlers::block(chain), 1.0, 0).unwrap();
    assert!(trace.is_empty());
}

#[test]
fn traced_models_return_their_trace_and_compose() {
    let traced = handlers::trace(handlers::condition(chain, [("b", 2.0)]));
    let trace = traced.get_trace(1.0, 0).unwrap();
    assert!(trace.site("b").unwrap().is_observed);
    let ((out, inner), outer) = handlers::run(&traced, 1.0, 3).unwrap();
    assert_eq!(inner.len(), outer.len());
    assert_eq!(
        out.item().unwrap(),
        inner.site("a").unwrap().value.item().unwrap() + 2.0
    );
}

#[test]
fn predictive_runs_a_handled_model_with_a_written_guide() {
    let scaled = handlers::scale(chain, 1.0);
    let mut params = ParamStore::new();
    params
        .insert("a_loc", Tensor::scalar(1.0), constraints::real())
        .unwrap();
    params
        .insert("b_loc", Tensor::scalar(-1.0), constraints::real())
        .unwrap();
    let samples = Predictive::new(scaled, chain_guide, &params, 2000)
        .seed(0)
        .run(0.0)
        .unwrap();
    // a ~ N(1, 1) from the guide: the mean of 2000 draws is within 4 / sqrt(2000) = 0.09.
    let a = samples.get("a").unwrap().to_vec().unwrap();
    let mean = a.iter().sum::<f64>() / a.len() as f64;
    assert!((mean - 1.0).abs() < 0.09, "{mean}");
}
