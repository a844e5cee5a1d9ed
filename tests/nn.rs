//! Layers: the fused linear op against the same computation from elementary ops, parameter
//! naming and seeded initialisation, and a finite-difference check of the VAE's ELBO gradient with
//! respect to network weights (fixed RNG: the loss is run twice with the same seed).

use pyro::handlers::Context;
use pyro::nn::vae::{Vae, VaeConfig};
use pyro::nn::{bernoulli_logits_log_prob_sum, linear, Activation, Linear, Mlp, Module};
use pyro::prelude::*;
use pyro::tensor::Tape;

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
    let net = Mlp::new(
        "decoder",
        &[3, 5, 2],
        Activation::Softplus,
        Activation::Identity,
    );
    assert_eq!(
        net.param_names(),
        [
            "decoder.0.weight",
            "decoder.0.bias",
            "decoder.1.weight",
            "decoder.1.bias"
        ]
    );
    let mut c1 = Context::new(0);
    let mut c2 = Context::new(99);
    let x = Tensor::ones(&[4, 3]);
    let y1 = net.forward(&mut c1, &x);
    let y2 = net.forward(&mut c2, &x);
    assert_eq!(y1.shape(), [4, 2]);
    // Initialisation depends on the name and module seed, not on the context's generator.
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
    let other = net.clone().seed(5).forward(&mut Context::new(0), &x);
    assert_ne!(other.to_vec().unwrap(), y1.to_vec().unwrap());
    // forward_with reads the store without a tape and agrees with forward.
    let y3 = net.forward_with(c1.params(), &x).unwrap();
    assert_eq!(y3.to_vec().unwrap(), y1.to_vec().unwrap());
    let lin = Linear::new("l", 3, 2).without_bias();
    assert_eq!(lin.param_names(), ["l.weight"]);
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
            vae.model.clone(),
            vae.guide.clone(),
            Adam::new(AdamConfig::default()),
            TraceElbo::new(2),
        )
    };
    let mut svi = new_svi().seed(11);
    let (loss, grads) = svi.loss_and_grads(&x).unwrap();
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
            s.evaluate_loss(&x).unwrap()
        };
        let fd = (at(h) - at(-h)) / (2.0 * h);
        assert!(
            (fd - g).abs() < 1e-6 * (1.0 + g.abs()),
            "{name}[{k}]: autodiff {g} vs finite differences {fd}"
        );
    }
}
