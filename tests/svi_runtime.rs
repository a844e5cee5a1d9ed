//! SVI with `Model` implemented by hand, exactly as `#[model]` expands it: tests the runtime
//! independently of the macros.

use pyro::handlers::{Context, TraceMessenger};
use pyro::prelude::*;

struct NormalModel;
impl Model for NormalModel {
    type Args<'a> = &'a [f64];
    type Output = ();
    const NAME: &'static str = "normal_model";
    fn call<'a>(&self, ctx: &mut Context, data: &'a [f64]) {
        let z = ctx.sample("z", Normal::new(0.0, 1.0), None);
        for (i, &x) in data.iter().enumerate() {
            ctx.sample(format!("x_{i}"), Normal::new(&z, 1.0), Some(x.into()));
        }
    }
}

struct NormalGuide;
impl Model for NormalGuide {
    type Args<'a> = &'a [f64];
    type Output = ();
    const NAME: &'static str = "normal_guide";
    fn call<'a>(&self, ctx: &mut Context, _data: &'a [f64]) {
        let loc = ctx.param("loc", || 0.0, constraints::real());
        let scale = ctx.param("scale", || 1.0, constraints::positive());
        ctx.sample("z", Normal::new(loc, scale), None);
    }
}

struct EmptyGuide;
impl Model for EmptyGuide {
    type Args<'a> = &'a [f64];
    type Output = ();
    const NAME: &'static str = "empty_guide";
    fn call<'a>(&self, _ctx: &mut Context, _data: &'a [f64]) {}
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
