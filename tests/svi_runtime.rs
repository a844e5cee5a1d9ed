//! SVI with `Model` implemented by hand, exactly as `#[model]` expands it: tests the runtime
//! independently of the macros.

use pyro::handlers::{Context, TraceMessenger};
use pyro::prelude::*;

struct NormalModel;
impl Model for NormalModel {
    type Args<'a> = &'a [f64];
    type Output = ();
    const NAME: &'static str = "normal_model";
    fn call(&self, ctx: &mut Context, data: &[f64]) {
        let z = ctx.sample("z", Normal::new(0.0, 1.0), None);
        for (i, &x) in data.iter().enumerate() {
            ctx.sample(format!("x_{i}"), Normal::new(&z, 1.0), Some(x.into()));
        }
    }
}

struct NormalGuide;
impl pyro::infer::GuideFor<NormalModel> for NormalGuide {}

impl Model for NormalGuide {
    type Args<'a> = &'a [f64];
    type Output = ();
    const NAME: &'static str = "normal_guide";
    fn call(&self, ctx: &mut Context, _data: &[f64]) {
        let loc = ctx.param("loc", || 0.0, constraints::real());
        let scale = ctx.param("scale", || 1.0, constraints::positive());
        ctx.sample("z", Normal::new(loc, scale), None);
    }
}

struct EmptyGuide;
// Guides every model of this file (they have no latent site outside enumeration).
impl<Mo: Model> pyro::infer::GuideFor<Mo> for EmptyGuide {}

impl Model for EmptyGuide {
    type Args<'a> = &'a [f64];
    type Output = ();
    const NAME: &'static str = "empty_guide";
    fn call(&self, _ctx: &mut Context, _data: &[f64]) {}
}

#[test]
fn normal_normal_converges_to_the_exact_posterior() {
    // z ~ N(0, 1), x_i ~ N(z, 1): the posterior is N(sum x / (n + 1), 1 / (n + 1)).
    let data = [0.5, 1.5, 1.0, 2.0];
    let n = data.len() as f64;
    let exact_loc = data.iter().sum::<f64>() / (n + 1.0);
    let exact_scale = (1.0 / (n + 1.0)).sqrt();
    let adam = Adam::new(AdamConfig {
        lr: 0.01,
        ..Default::default()
    });
    let mut svi = Svi::new(NormalModel, NormalGuide, adam, TraceElbo::new(4)).seed(1);
    for _ in 0..3000 {
        svi.step(&data).unwrap();
    }
    // Average the last iterates to remove most of the SGD noise.
    let (mut loc, mut scale) = (0.0, 0.0);
    for _ in 0..500 {
        svi.step(&data).unwrap();
        loc += svi.params().scalar("loc").unwrap() / 500.0;
        scale += svi.params().scalar("scale").unwrap() / 500.0;
    }
    assert!((loc - exact_loc).abs() < 0.03, "loc {loc} vs {exact_loc}");
    assert!(
        (scale - exact_scale).abs() < 0.03,
        "scale {scale} vs {exact_scale}"
    );
}

#[test]
fn missing_dynamic_guide_site_is_an_error_naming_site_and_guide() {
    let mut svi = Svi::new(
        NormalModel,
        EmptyGuide,
        Adam::new(AdamConfig::default()),
        TraceElbo::default(),
    );
    let err = svi.step(&[1.0][..]).unwrap_err();
    assert_eq!(
        err,
        Error::MissingGuideSite {
            site: "z".into(),
            guide: "empty_guide".into()
        }
    );
}

#[test]
fn trace_records_sites_in_order() {
    let mut ctx = Context::new(3);
    let ((), tr) = ctx.with_handler(TraceMessenger::new(), |ctx| {
        NormalModel.call(ctx, &[1.0, 2.0])
    });
    let names: Vec<&str> = tr.trace().sites().iter().map(|s| s.name.as_ref()).collect();
    assert_eq!(names, ["z", "x_0", "x_1"]);
    assert!(tr.trace().site("x_1").unwrap().is_observed);
    assert!(ctx.take_error().is_none());
}

#[test]
fn invalid_parameter_is_reported_at_its_site() {
    let mut ctx = Context::new(0);
    let v = ctx.sample("bad", Normal::new(0.0, -1.0), None);
    assert!(v.error().is_some());
    let err = ctx.take_error().unwrap();
    let msg = err.to_string();
    assert!(
        msg.contains("bad") && msg.contains("Normal") && msg.contains("scale"),
        "{msg}"
    );
}

#[test]
fn duplicate_site_is_an_error() {
    let mut ctx = Context::new(0);
    let _ = ctx.with_handler(TraceMessenger::new(), |ctx| {
        ctx.sample("z", Normal::new(0.0, 1.0), None);
        ctx.sample("z", Normal::new(0.0, 1.0), None);
    });
    assert!(
        matches!(ctx.take_error(), Some(Error::Site { source, .. }) if *source == Error::DuplicateSite("z".into()))
    );
}

fn fit(data: &[f64], seed: u64, steps: usize) -> (f64, f64) {
    let mut svi = Svi::new(
        NormalModel,
        NormalGuide,
        Adam::new(AdamConfig {
            lr: 0.01,
            ..Default::default()
        }),
        TraceElbo::default(),
    )
    .seed(seed);
    for _ in 0..steps {
        svi.step(data).unwrap();
    }
    (
        svi.params().scalar("loc").unwrap(),
        svi.params().scalar("scale").unwrap(),
    )
}

#[test]
fn two_svis_on_two_threads_are_independent() {
    // The same fits run sequentially and concurrently give bit-identical results: no hidden
    // shared state (parameter store, generator, tape) between them.
    let (a, b) = (vec![1.0, 2.0, 3.0], vec![-1.0, -2.0]);
    let seq = (fit(&a, 7, 300), fit(&b, 8, 300));
    let (ta, tb) = (a.clone(), b.clone());
    let h1 = std::thread::spawn(move || fit(&ta, 7, 300));
    let h2 = std::thread::spawn(move || fit(&tb, 8, 300));
    let par = (h1.join().unwrap(), h2.join().unwrap());
    assert_eq!(seq, par);
    assert_ne!(seq.0, seq.1);
}

#[test]
fn svi_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let svi = Svi::new(
        NormalModel,
        NormalGuide,
        Adam::new(AdamConfig::default()),
        TraceElbo::default(),
    );
    assert_send(&svi);
}

#[test]
fn checkpoint_round_trip_and_errors() {
    let dir = std::env::temp_dir().join(format!("pyro-rs-ck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ck.json");
    let data = [1.0, 2.0];
    let mut svi = Svi::new(
        NormalModel,
        NormalGuide,
        Adam::new(AdamConfig::default()),
        TraceElbo::default(),
    )
    .seed(2);
    for _ in 0..20 {
        svi.step(&data).unwrap();
    }
    svi.save(&path).unwrap();
    let mut other = Svi::new(
        NormalModel,
        NormalGuide,
        Adam::new(AdamConfig::default()),
        TraceElbo::default(),
    );
    other.load(&path).unwrap();
    for name in ["loc", "scale"] {
        assert_eq!(
            other
                .params()
                .unconstrained(name)
                .unwrap()
                .to_vec()
                .unwrap(),
            svi.params().unconstrained(name).unwrap().to_vec().unwrap()
        );
    }
    // Saving the loaded state again gives the same bytes (parameters and optimiser state).
    let path2 = dir.join("ck2.json");
    other.save(&path2).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(&path2).unwrap()
    );
    // The loaded Svi keeps training.
    other.step(&data).unwrap();

    // A corrupt file is an error naming the file, and the store is untouched.
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        b"{\"format\": \"pyro-rs-checkpoint\", \"version\": 1, \"params\": [{\"name\": \"loc\"",
    )
    .unwrap();
    let before = other
        .params()
        .unconstrained("loc")
        .unwrap()
        .to_vec()
        .unwrap();
    let err = other.load(&bad).unwrap_err();
    assert!(
        matches!(&err, Error::File { path, .. } if path == &bad),
        "{err}"
    );
    assert_eq!(
        other
            .params()
            .unconstrained("loc")
            .unwrap()
            .to_vec()
            .unwrap(),
        before
    );

    // Values that do not fill their shape: an error naming the parameter.
    std::fs::write(&bad, br#"{"format":"pyro-rs-checkpoint","version":1,"params":[{"name":"loc","constraint":"Real","shape":[2],"unconstrained":[1.0]}],"optimizer":null}"#).unwrap();
    let err = other.load(&bad).unwrap_err().to_string();
    assert!(err.contains("loc") && err.contains("bad.json"), "{err}");

    // A stored shape that differs from the model's initial value: an error naming the parameter.
    std::fs::write(&bad, br#"{"format":"pyro-rs-checkpoint","version":1,"params":[{"name":"loc","constraint":"Real","shape":[2],"unconstrained":[1.0,2.0]}],"optimizer":null}"#).unwrap();
    let mut fresh = Svi::new(
        NormalModel,
        NormalGuide,
        Adam::new(AdamConfig::default()),
        TraceElbo::default(),
    );
    fresh.load(&bad).unwrap();
    let err = fresh.step(&data).unwrap_err().to_string();
    assert!(err.contains("`loc`") && err.contains("[2]"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn predictive_draws_latents_from_the_guide_and_observations_afresh() {
    // Guide q(z) = N(0.7, 0.5); model x ~ N(z, 1): the predictive x has mean 0.7 and variance
    // 0.5² + 1 = 1.25, and z has mean 0.7 and variance 0.25.
    let mut store = ParamStore::new();
    store
        .insert("loc", 0.7.into(), constraints::real())
        .unwrap();
    store
        .insert("scale", 0.5.into(), constraints::positive())
        .unwrap();
    let n = 4000;
    let data = [0.0];
    let run = |seed| {
        pyro::infer::Predictive::new(NormalModel, NormalGuide, &store, n)
            .seed(seed)
            .run(&data[..])
            .unwrap()
    };
    let s = run(5);
    let z = s.get("z").unwrap();
    let x = s.get("x_0").unwrap();
    assert_eq!(z.shape(), &[n]);
    for (t, mean, var) in [(z, 0.7, 0.25), (x, 0.7, 1.25)] {
        let v = t.to_vec().unwrap();
        let m = v.iter().sum::<f64>() / n as f64;
        let s2 = v.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (n - 1) as f64;
        assert!(
            (m - mean).abs() < 5.0 * (var / n as f64).sqrt(),
            "mean {m} vs {mean}"
        );
        // Var of the sample variance of a normal: 2 var² / (n - 1).
        assert!(
            (s2 - var).abs() < 5.0 * (2.0 * var * var / (n - 1) as f64).sqrt(),
            "var {s2} vs {var}"
        );
    }
    // Observed values are not returned as they were given (0.0) but drawn.
    assert!(x.to_vec().unwrap().iter().any(|&v| v != 0.0));
    // Same seed, same samples.
    assert_eq!(
        run(5).get("x_0").unwrap().to_vec().unwrap(),
        x.to_vec().unwrap()
    );
    assert!(s.get("nope").is_err());
}
