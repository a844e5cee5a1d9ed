//! Layers and modules: the fused linear op against the same computation from elementary ops,
//! parameter naming and seeded initialisation when a network is bound (`module!`, `bind`),
//! shape checks of stored weights, and a finite-difference check of the VAE's ELBO gradient with
//! respect to network weights (fixed RNG: the loss is run twice with the same seed).

use pyro::handlers::{Context, TraceMessenger};
use pyro::nn::{
    bernoulli_logits_log_prob_sum, bind, linear, Activation, Bound, Linear, Mlp, Module,
    Parameters, Weights,
};
use pyro::prelude::*;
use pyro::tensor::Tape;
use pyro::trace::SiteKind;

#[path = "../examples/common/vae_model.rs"]
mod vae_model;
use vae_model::{Vae, VaeConfig};

fn t(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::new(v.to_vec(), shape).unwrap()
}

#[test]
fn fused_linear_matches_elementary_ops_in_value_and_gradient() {
    let x0 = t(&[0.3, -1.2, 0.5, 2.0, -0.7, 0.1], &[2, 3]);
    let w0 = t(
        &[
            0.2, -0.4, 0.9, 1.1, 0.05, -0.6, -0.3, 0.8, 0.25, 0.7, -0.9, 0.4,
        ],
        &[4, 3],
    );
    let b0 = t(&[0.1, -0.2, 0.3, 0.05], &[4]);
    let acts = [
        Activation::Identity,
        Activation::Relu,
        Activation::Softplus,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Exp,
    ];
    for act in acts {
        let run = |fused: bool| {
            let tape = Tape::new();
            let (x, w, b) = (
                tape.leaf(x0.clone()),
                tape.leaf(w0.clone()),
                tape.leaf(b0.clone()),
            );
            let y = if fused {
                linear(&x, &w, Some(&b), act)
            } else {
                act.apply(&(x.matmul(&w.t()) + &b))
            };
            // A non-uniform downstream weighting so every output gradient differs.
            let loss = (&y * &t(&[1.0, -2.0, 0.5, 3.0, 0.25, 1.5, -1.0, 2.0], &[2, 4])).sum();
            let g = tape.backward(&loss).unwrap();
            let grads: Vec<Vec<f64>> = [&x, &w, &b]
                .iter()
                .map(|v| g.get(v).unwrap().to_vec().unwrap())
                .collect();
            (y.to_vec().unwrap(), grads)
        };
        let (yf, gf) = run(true);
        let (ye, ge) = run(false);
        for (a, b) in yf.iter().zip(&ye) {
            assert!(
                (a - b).abs() < 1e-13 * (1.0 + b.abs()),
                "{act:?}: {a} vs {b}"
            );
        }
        for (ga, gb) in gf.iter().zip(&ge) {
            for (a, b) in ga.iter().zip(gb) {
                assert!(
                    (a - b).abs() < 1e-12 * (1.0 + b.abs()),
                    "{act:?} grad: {a} vs {b}"
                );
            }
        }
    }
}

#[test]
fn fused_bernoulli_matches_the_distribution() {
    let l = t(&[-3.0, 0.0, 0.5, 40.0, -40.0, 2.0], &[2, 3]);
    let x = t(&[0.0, 1.0, 1.0, 1.0, 0.0, 0.0], &[2, 3]);
    let want = Bernoulli::from_logits(l.clone())
        .unwrap()
        .log_prob(&x)
        .sum()
        .item()
        .unwrap();
    let got = bernoulli_logits_log_prob_sum(&l, &x).item().unwrap();
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    let bad = bernoulli_logits_log_prob_sum(&l, &t(&[0.0, 1.0], &[2]));
    assert!(bad.error().unwrap().to_string().contains("[2, 3]"));
}

#[test]
fn shape_errors_name_the_shapes() {
    let e = linear(
        &Tensor::zeros(&[2, 3]),
        &Tensor::zeros(&[4, 5]),
        None,
        Activation::Identity,
    );
    let msg = e.error().unwrap().to_string();
    assert!(
        msg.contains("linear") && msg.contains("[2, 3]") && msg.contains("[4, 5]"),
        "{msg}"
    );
}

#[test]
fn modules_register_named_params_with_seeded_init() {
    let net = Mlp::new(&[3, 5, 2], Activation::Softplus, Activation::Identity);
    let mut c1 = Context::new(0);
    let mut c2 = Context::new(99);
    let x = Tensor::ones(&[4, 3]);
    let b1 = bind(&mut c1, "decoder", &net);
    assert_eq!(
        b1.param_names().collect::<Vec<_>>(),
        [
            "decoder.0.weight",
            "decoder.0.bias",
            "decoder.1.weight",
            "decoder.1.bias"
        ]
    );
    let y1 = b1.forward(&x);
    let y2 = bind(&mut c2, "decoder", &net).forward(&x);
    assert_eq!(y1.shape(), [4, 2]);
    // Initialisation depends on the parameter's name, not on the context's generator.
    assert_eq!(y1.to_vec().unwrap(), y2.to_vec().unwrap());
    assert_eq!(c1.params().get("decoder.0.weight").unwrap().shape(), [5, 3]);
    assert_eq!(c1.params().get("decoder.1.bias").unwrap().shape(), [2]);
    let w = c1
        .params()
        .get("decoder.0.weight")
        .unwrap()
        .to_vec()
        .unwrap();
    let bound = 1.0 / 3f64.sqrt();
    assert!(w.iter().all(|v| v.abs() <= bound));
    // The same network under another name starts elsewhere.
    let other = bind(&mut Context::new(0), "other", &net).forward(&x);
    assert_ne!(other.to_vec().unwrap(), y1.to_vec().unwrap());
    // Bound to the store (no tape) it computes the same values.
    let y3 = Bound::from_store(c1.params(), "decoder", &net)
        .unwrap()
        .forward(&x);
    assert_eq!(y3.to_vec().unwrap(), y1.to_vec().unwrap());
    let lin = Linear::new(3, 2).without_bias();
    let mut c = Context::new(0);
    assert_eq!(
        bind(&mut c, "l", &lin).param_names().collect::<Vec<_>>(),
        ["l.weight"]
    );
}

#[test]
fn a_bound_module_reads_its_parameters_as_param_sites() {
    let net = Mlp::new(&[2, 3, 1], Activation::Tanh, Activation::Identity);
    let mut ctx = Context::new(0);
    let (y, tr) = ctx.with_handler(TraceMessenger::new(), |ctx| {
        bind(ctx, "net", &net).forward(&Tensor::ones(&[1, 2]))
    });
    let tr = tr.into_trace();
    let params: Vec<&str> = tr
        .sites()
        .iter()
        .filter(|s| s.kind == SiteKind::Param)
        .map(|s| &*s.name)
        .collect();
    assert_eq!(
        params,
        ["net.0.weight", "net.0.bias", "net.1.weight", "net.1.bias"]
    );
    // The weights are tape leaves: the output depends on them through the tape.
    let g = ctx.tape().backward(&y.sum()).unwrap();
    let w = &tr.site("net.1.weight").unwrap().value;
    assert!(g.get(w).is_some());
}

/// A module whose `forward` reads a parameter it did not declare.
struct Undeclared;

impl Module for Undeclared {
    type Output = Tensor;
    fn parameters(&self, p: &mut Parameters<'_>) {
        p.param("weight", &[1], |_| Tensor::ones(&[1]));
    }
    fn forward(&self, w: &Weights<'_>, x: &Tensor) -> Tensor {
        x * &w.module("inner").get("bias")
    }
}

#[model]
fn one_net(net: &Mlp) -> Tensor {
    let net = module!("net", net);
    let y = net.forward(&Tensor::ones(&[1, 2]));
    sample!(
        "y",
        Normal::new(y.reshape(&[1]), 1.0),
        obs = Tensor::zeros(&[1])
    );
    y
}

#[guide(model = one_net)]
fn no_latents(_net: &Mlp) {}

#[test]
fn a_stored_weight_of_another_shape_is_an_error_naming_the_parameter() {
    let small = Mlp::new(&[2, 3, 1], Activation::Tanh, Activation::Identity);
    let wide = Mlp::new(&[2, 4, 1], Activation::Tanh, Activation::Identity);
    let adam = Adam::new(AdamConfig::default());
    let mut svi = Svi::new(one_net, no_latents, adam, TraceElbo::default());
    svi.step(&small).unwrap();
    let before = svi.params().clone();
    let msg = svi.step(&wide).unwrap_err().to_string();
    assert!(
        msg.contains("`net.0.weight`") && msg.contains("[3, 2]") && msg.contains("[4, 2]"),
        "{msg}"
    );
    // The refused step changed nothing.
    for name in before.names() {
        assert_eq!(
            svi.params().get(name).unwrap().to_vec().unwrap(),
            before.get(name).unwrap().to_vec().unwrap()
        );
    }
    // The same check when binding to trained weights outside inference.
    let e = Bound::from_store(svi.params(), "net", &wide).unwrap_err();
    assert!(e.to_string().contains("`net.0.weight`"), "{e}");
    let e = Bound::from_store(svi.params(), "nett", &small).unwrap_err();
    assert!(e.to_string().contains("`nett.0.weight`"), "{e}");
    // A parameter read but never declared is named too.
    let mut ctx = Context::new(0);
    let y = bind(&mut ctx, "u", &Undeclared).forward(&Tensor::ones(&[1]));
    let msg = y.error().unwrap().to_string();
    assert!(msg.contains("`u.inner.bias`"), "{msg}");
}

#[test]
fn module_weights_are_trained_through_module() {
    let net = Mlp::new(&[2, 3, 1], Activation::Tanh, Activation::Identity);
    let adam = Adam::new(AdamConfig {
        lr: 0.01,
        ..Default::default()
    });
    let mut svi = Svi::new(one_net, no_latents, adam, TraceElbo::default());
    let first = svi.step(&net).unwrap();
    for _ in 0..200 {
        svi.step(&net).unwrap();
    }
    // y ~ Normal(net(1, 1), 1) observed at 0: the loss falls to its floor ln(2 pi)/2 as the
    // network learns to output 0.
    let last = svi.evaluate_loss(&net).unwrap();
    let floor = 0.5 * (2.0 * std::f64::consts::PI).ln();
    assert!(
        last < first && last - floor < 1e-3,
        "{first} -> {last} (floor {floor})"
    );
}

#[test]
fn elbo_gradient_matches_finite_differences() {
    let vae = Vae::new(VaeConfig {
        x_dim: 6,
        hidden: 5,
        z_dim: 2,
    });
    let x = t(
        &[
            1., 0., 1., 1., 0., 0., 0., 1., 1., 0., 1., 0., 1., 1., 1., 0., 0., 1.,
        ],
        &[3, 6],
    );
    let new_svi = || {
        Svi::new(
            vae_model::model,
            vae_model::guide,
            Adam::new(AdamConfig::default()),
            TraceElbo::new(2),
        )
    };
    let mut svi = new_svi().seed(11);
    let (loss, grads) = svi.loss_and_grads((&vae, &x)).unwrap();
    assert!(loss.is_finite());
    let params = svi.params().clone();
    let checks = [
        ("encoder.fc1.weight", 7),
        ("encoder.fc21.bias", 1),
        ("encoder.fc22.weight", 3),
        ("decoder.0.weight", 4),
        ("decoder.1.weight", 20),
        ("decoder.1.bias", 5),
    ];
    let h = 1e-5;
    for (name, k) in checks {
        let g = grads
            .iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .to_vec()
            .unwrap()[k];
        let base = params.get(name).unwrap();
        let shape = base.shape().to_vec();
        let at = |delta: f64| {
            let mut v = base.to_vec().unwrap();
            v[k] += delta;
            let mut s = new_svi().seed(11);
            *s.params_mut() = params.clone();
            s.params_mut()
                .insert(name, Tensor::new(v, &shape).unwrap(), constraints::real())
                .unwrap();
            s.evaluate_loss((&vae, &x)).unwrap()
        };
        let fd = (at(h) - at(-h)) / (2.0 * h);
        assert!(
            (fd - g).abs() < 1e-6 * (1.0 + g.abs()),
            "{name}[{k}]: autodiff {g} vs finite differences {fd}"
        );
    }
}
