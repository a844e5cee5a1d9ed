//! `Svi::run` and `Svi::run_with`: the loop every program writes, with its history and a hook.

use std::ops::ControlFlow;

use pyro::prelude::*;

#[model]
fn model(x: f64) {
    let z = sample!("z", Normal::new(0.0, 1.0));
    sample!("x", Normal::new(z, 1.0), obs = x);
}

#[guide(model = model)]
fn guide(_x: f64) {
    let loc = param!("loc", 0.0);
    let scale = param!("scale", 1.0, constraint = positive);
    sample!("z", Normal::new(loc, scale));
}

fn svi(seed: u64) -> Svi<model, guide, Adam, TraceElbo> {
    let adam = Adam::new(AdamConfig {
        lr: 0.02,
        ..Default::default()
    });
    Svi::new(model, guide, adam, TraceElbo::default()).seed(seed)
}

#[test]
fn run_is_the_step_loop_and_returns_every_loss() {
    let mut looped = svi(3);
    let by_hand: Vec<f64> = (0..200).map(|_| looped.step(2.0).unwrap()).collect();
    let mut run = svi(3).progress_bar(false);
    let history = run.run(200, 2.0).unwrap();
    // Same seed, same steps: bit-identical losses and parameters.
    assert_eq!(history, by_hand);
    for name in ["loc", "scale"] {
        assert_eq!(
            run.params().scalar(name).unwrap(),
            looped.params().scalar(name).unwrap()
        );
    }
}

#[test]
fn the_callback_sees_each_step_and_can_stop_early() {
    let mut s = svi(0);
    let mut seen = Vec::new();
    let history = s
        .run_with(1000, 2.0, |info| {
            seen.push((info.step, info.loss, info.params.scalar("loc").unwrap()));
            if info.step == 9 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(history.len(), 10);
    assert_eq!(seen.len(), 10);
    for (i, (step, loss, _)) in seen.iter().enumerate() {
        assert_eq!(*step, i);
        assert_eq!(*loss, history[i]);
    }
    // The callback saw the parameters after the step: the last value is the store's.
    assert_eq!(seen[9].2, s.params().scalar("loc").unwrap());
    assert_ne!(seen[0].2, 0.0);
}

#[model]
fn bad_model(x: f64) {
    let z = sample!("z", Normal::new(0.0, 1.0));
    sample!("x", Normal::new(z, x), obs = 0.0);
}

#[guide(model = bad_model)]
fn bad_guide(_x: f64) {
    let loc = param!("loc", 0.0);
    sample!("z", Normal::new(loc, 1.0));
}

#[test]
fn a_failing_step_ends_the_run_with_its_error() {
    let mut s = Svi::new(
        bad_model,
        bad_guide,
        Adam::new(AdamConfig::default()),
        TraceElbo::default(),
    );
    let err = s.run(10, -1.0).unwrap_err();
    assert!(
        matches!(&err, Error::Site { site, .. } if site == "x"),
        "{err}"
    );
}
