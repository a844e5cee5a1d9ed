//! Plates through the runtime API (the macros expand `plate!` into these calls).

use pyro::handlers::{Context, PlateOpts, TraceMessenger};
use pyro::prelude::*;

fn trace_of(seed: u64, f: impl FnOnce(&mut Context)) -> (pyro::trace::Trace, Option<Error>) {
    let mut ctx = Context::new(seed);
    let ((), tr) = ctx.with_handler(TraceMessenger::new(), f);
    (tr.into_trace(), ctx.take_error())
}

#[test]
fn nested_plates_own_dims_from_the_right() {
    let (tr, err) = trace_of(0, |ctx| {
        ctx.plate("outer", 3, PlateOpts::default(), |ctx, _| {
            ctx.plate("inner", 2, PlateOpts::default(), |ctx, _| {
                ctx.sample("x", Normal::new(Tensor::zeros(&[2, 3]), 1.0), None);
            });
        });
    });
    assert!(err.is_none(), "{err:?}");
    let site = tr.site("x").unwrap();
    assert_eq!(site.value.shape(), &[2, 3]);
    let dims: Vec<_> = site
        .plates
        .iter()
        .map(|p| (p.name.as_ref(), p.dim))
        .collect();
    assert_eq!(
        dims,
        [("outer", Some(-1)), ("inner", Some(-2))].map(|(n, d)| (n, d))
    );
}

#[test]
fn batch_size_that_differs_from_the_plate_is_an_error_naming_site_plate_and_shapes() {
    let (_, err) = trace_of(0, |ctx| {
        ctx.plate("data", 100, PlateOpts::default(), |ctx, _| {
            ctx.sample("obs", Normal::new(Tensor::zeros(&[50]), 1.0), None);
        });
    });
    let msg = err.unwrap().to_string();
    for part in ["obs", "data", "[50]", "100"] {
        assert!(msg.contains(part), "`{part}` missing from: {msg}");
    }
}

#[test]
fn observation_of_shape_n_by_1_against_a_batch_of_n_is_an_error() {
    let n = 5;
    let (_, err) = trace_of(0, |ctx| {
        ctx.plate("data", n, PlateOpts::default(), |ctx, _| {
            let obs = Tensor::zeros(&[n, 1]);
            ctx.sample("obs", Normal::new(Tensor::zeros(&[n]), 1.0), Some(obs));
        });
    });
    let msg = err
        .expect("an (N, 1) observation must not broadcast silently")
        .to_string();
    for part in ["obs", "[5, 1]", "[5]", "data"] {
        assert!(msg.contains(part), "`{part}` missing from: {msg}");
    }
}

#[test]
fn subsampled_plate_scales_the_log_likelihood_without_bias() {
    // Full log-likelihood of N points vs the scaled subsample estimate: exact scale factor, and
    // the average over many subsamples converges to the full value.
    let data: Vec<f64> = (0..10).map(|i| i as f64 * 0.3 - 1.0).collect();
    let full_lp: f64 = data
        .iter()
        .map(|x| -0.5 * x * x - 0.918_938_533_204_672_8)
        .sum();
    let run = |seed: u64| {
        let d = data.clone();
        let (tr, err) = trace_of(seed, move |ctx| {
            ctx.plate(
                "data",
                10,
                PlateOpts {
                    subsample_size: Some(3),
                    dim: None,
                },
                |ctx, idx| {
                    assert_eq!(idx.len(), 3);
                    let x: Vec<f64> = idx.iter().map(|&i| d[i]).collect();
                    ctx.sample(
                        "obs",
                        Normal::new(Tensor::zeros(&[3]), 1.0),
                        Some(Tensor::from(x)),
                    );
                },
            );
        });
        assert!(err.is_none(), "{err:?}");
        let site = tr.site("obs").unwrap();
        assert!((site.scale - 10.0 / 3.0).abs() < 1e-15);
        site.log_prob_sum().unwrap().item().unwrap()
    };
    let n = 4000;
    let draws: Vec<f64> = (0..n).map(run).collect();
    let mean = draws.iter().sum::<f64>() / n as f64;
    let sd = (draws.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    assert!(
        (mean - full_lp).abs() < 5.0 * sd / (n as f64).sqrt(),
        "{mean} vs {full_lp}"
    );
}

#[test]
fn guide_and_model_share_the_subsample_of_a_step() {
    struct M;
    impl Model for M {
        type Args<'a> = ();
        type Output = ();
        const NAME: &'static str = "m";
        fn call<'a>(&self, ctx: &mut Context, _: ()) {
            ctx.plate(
                "data",
                20,
                PlateOpts {
                    subsample_size: Some(4),
                    dim: None,
                },
                |ctx, idx| {
                    let loc = Tensor::from(idx.iter().map(|&i| i as f64).collect::<Vec<_>>());
                    ctx.sample("z", Normal::new(loc, 1.0), None);
                },
            );
        }
    }
    struct G;
    impl pyro::infer::GuideFor<M> for G {}

    impl Model for G {
        type Args<'a> = ();
        type Output = ();
        const NAME: &'static str = "g";
        fn call<'a>(&self, ctx: &mut Context, _: ()) {
            let s = ctx.param("s", || 1.0, constraints::positive());
            ctx.plate(
                "data",
                20,
                PlateOpts {
                    subsample_size: Some(4),
                    dim: None,
                },
                |ctx, idx| {
                    // The guide centres each z on its index: if the model saw other indices, the
                    // ELBO would be far from its exact value below.
                    let loc = Tensor::from(idx.iter().map(|&i| i as f64).collect::<Vec<_>>());
                    ctx.sample("z", Normal::new(loc, &s), None);
                },
            );
        }
    }
    // With q = p the ELBO is exactly 0 whatever the draw (log p - log q = 0 pointwise).
    let mut svi = Svi::new(M, G, Adam::new(AdamConfig::default()), TraceElbo::default());
    for _ in 0..20 {
        assert!(svi.evaluate_loss(()).unwrap().abs() < 1e-9);
    }
}
