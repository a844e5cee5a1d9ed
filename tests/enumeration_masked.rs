//! Enumeration with two plates (sequences and tones), masks for sequence lengths and a
//! 2-D emission table, against brute force over every state path.

use pyro::handlers::Context;
use pyro::prelude::*;
use pyro::trace::InferConfig;

struct M {
    masked: bool,
    event: bool,
}
struct G;
const PX: [f64; 4] = [0.7, 0.3, 0.4, 0.6];
const PY: [f64; 6] = [0.1, 0.8, 0.3, 0.6, 0.2, 0.5];
// 2 sequences, 3 tones; lengths 3 and 2
const Y: [[[f64; 3]; 2]; 3] = [
    [[1., 0., 1.], [0., 1., 1.]],
    [[0., 0., 1.], [1., 1., 0.]],
    [[1., 1., 1.], [0., 0., 0.]],
];
const LEN: [usize; 2] = [3, 2];
impl Model for M {
    type Args<'a> = ();
    type Output = ();
    const NAME: &'static str = "m";
    fn call(&self, ctx: &mut Context, _: ()) {
        let px = Tensor::new(PX.to_vec(), &[2, 2]).unwrap();
        let py = Tensor::new(PY.to_vec(), &[2, 3]).unwrap();
        let en = InferConfig {
            enumerate: true,
            ..Default::default()
        };
        ctx.plate(
            "seq",
            2,
            PlateOpts {
                dim: Some(-2),
                ..Default::default()
            },
            |ctx, _| {
                let mut x = Tensor::scalar(0.0);
                ctx.markov(0..3, |ctx, t| {
                    let live = Tensor::new(
                        LEN.iter().map(|&l| if t < l { 1.0 } else { 0.0 }).collect(),
                        &[2, 1],
                    )
                    .unwrap();
                    let d = Categorical::new(px.index_by(&x));
                    x = if self.masked {
                        ctx.sample_with(format!("x_{t}"), d.mask(live.clone()), None, en.clone())
                    } else {
                        ctx.sample_with(format!("x_{t}"), d, None, en.clone())
                    };
                    let y = Tensor::new(Y[t].iter().flatten().cloned().collect(), &[2, 3]).unwrap();
                    if self.event {
                        let d = Bernoulli::new(py.index_by(&x.squeeze(-1))).to_event(1);
                        ctx.sample(format!("y_{t}"), d, Some(y));
                    } else {
                        ctx.plate(
                            "tones",
                            3,
                            PlateOpts {
                                dim: Some(-1),
                                ..Default::default()
                            },
                            |ctx, _| {
                                let d = Bernoulli::new(py.index_by(&x.squeeze(-1)));
                                if self.masked {
                                    ctx.sample(format!("y_{t}"), d.mask(live.clone()), Some(y));
                                } else {
                                    ctx.sample(format!("y_{t}"), d, Some(y));
                                }
                            },
                        );
                    }
                });
            },
        );
    }
}
impl pyro::infer::GuideFor<M> for G {}

impl Model for G {
    type Args<'a> = ();
    type Output = ();
    const NAME: &'static str = "g";
    fn call(&self, _c: &mut Context, _: ()) {}
}
use pyro::handlers::PlateOpts;

#[allow(clippy::needless_range_loop)] // t indexes the data and the path bits alike
fn brute(masked: bool) -> f64 {
    let mut total = 0.0;
    for s in 0..2 {
        let len = if masked { LEN[s] } else { 3 };
        let mut acc = Vec::new();
        for path in 0..(1 << len) {
            let mut lp = 0.0;
            let mut prev = 0;
            for t in 0..len {
                let k = (path >> t) & 1;
                lp += PX[prev * 2 + k].ln();
                for j in 0..3 {
                    let p = PY[k * 3 + j];
                    lp += if Y[t][s][j] == 1.0 {
                        p.ln()
                    } else {
                        (1.0 - p).ln()
                    };
                }
                prev = k;
            }
            acc.push(lp);
        }
        let m = acc.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        total += m + acc.iter().map(|a| (a - m).exp()).sum::<f64>().ln();
    }
    total
}

#[test]
fn masked_hmm_with_a_tones_plate_is_exact() {
    for (masked, event) in [(false, false), (true, false)] {
        let mut svi = Svi::new(
            M { masked, event },
            G,
            Adam::new(AdamConfig::default()),
            TraceEnumElbo::default().with_max_plate_nesting(2),
        );
        let loss = svi.evaluate_loss(()).unwrap();
        // A masked state contributes log-density 0 for each of its K values, so summing it out
        // adds ln K per masked step (one here: the second sequence is one step short).
        let offset = if masked { 2f64.ln() } else { 0.0 };
        let exact = brute(masked) + offset;
        assert!(
            (-loss - exact).abs() < 1e-12,
            "masked={masked}: {} vs {exact}",
            -loss
        );
    }
}
