//! Models and guides written by hand take part: a hand-written guide implements `GuideFor`;
//! `#[guide]` of a hand-written model, and `call!` of one, are checked at run time; autoguides
//! guide any model.

use pyro::prelude::*;
use pyro::infer::{GuideFor, WrittenGuide};

#[model]
fn m(x: f64) {
    let z = sample!("z", Normal::new(0.0, 1.0));
    sample!("x", Normal::new(z, 1.0), obs = x);
}

struct HandGuide;

impl Model for HandGuide {
    type Args<'a> = f64;
    type Output = ();
    const NAME: &'static str = "hand_guide";
    fn call<'a>(&self, ctx: &mut Context, _x: f64) {
        ctx.sample("z", Normal::new(0.0, 1.0), None);
    }
}

impl GuideFor<m> for HandGuide {}
impl WrittenGuide for HandGuide {}

struct HandModel;

impl Model for HandModel {
    type Args<'a> = f64;
    type Output = ();
    const NAME: &'static str = "hand_model";
    fn call<'a>(&self, ctx: &mut Context, x: f64) {
        let z = ctx.sample("w", Normal::new(0.0, 1.0), None);
        ctx.sample("x", Normal::new(z, 1.0), Some(x.into()));
    }
}

#[guide(model = HandModel)]
fn hand_model_guide(_x: f64) {
    sample!("w", Normal::new(0.0, 1.0));
}

#[model]
fn calls_hand(x: f64) {
    call!(HandModel, x);
}

#[guide(model = calls_hand)]
fn calls_hand_guide(_x: f64) {
    sample!("w", Normal::new(0.0, 1.0));
}

fn main() {
    let adam = || Adam::new(AdamConfig::default());
    let mut svi = Svi::new(m, HandGuide, adam(), TraceElbo::default());
    assert!(svi.step(1.0).unwrap().is_finite());
    let mut svi = Svi::new(HandModel, hand_model_guide, adam(), TraceElbo::default());
    assert!(svi.step(1.0).unwrap().is_finite());
    let mut svi = Svi::new(calls_hand, calls_hand_guide, adam(), TraceElbo::default());
    assert!(svi.step(1.0).unwrap().is_finite());
    let mut svi = Svi::new(m, AutoNormal::new(m), adam(), TraceElbo::default());
    assert!(svi.step(1.0).unwrap().is_finite());
    let p = Predictive::new(m, HandGuide, svi.params(), 2);
    assert!(p.run(1.0).is_ok());
}
