//! Optimisers: first steps against hand-computed values, convergence, per-parameter settings,
//! schedules, clipping, validation and state save/restore.

use pyro::optim::*;

/// Gradient of `0.5 * Σ c_i x_i²`.
fn grad(x: &[f64], c: &[f64]) -> Vec<f64> {
    x.iter().zip(c).map(|(x, c)| x * c).collect()
}

/// Runs `steps` steps on the quadratic, parameter 0 named `name`.
fn run(opt: &mut dyn Optimizer, name: &str, x: &mut [f64], c: &[f64], steps: usize) {
    for _ in 0..steps {
        opt.begin_step();
        opt.check_param(0, name).unwrap();
        let g = grad(x, c);
        opt.update(0, name, x, &g);
    }
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12 * (1.0 + b.abs()), "got {a}, want {b}");
}

#[test]
fn adam_first_steps() {
    let mut opt = Adam::new(AdamConfig {
        lr: 0.1,
        ..Default::default()
    });
    let mut x = [1.0];
    run(&mut opt, "x", &mut x, &[1.0], 1);
    // m̂ = g, v̂ = g²: the first step is lr * g / (|g| + eps).
    close(x[0], 1.0 - 0.1 / (1.0 + 1e-8));
    let x1 = x[0];
    run(&mut opt, "x", &mut x, &[1.0], 1);
    let m = 0.9 * 0.1 * 1.0 + 0.1 * x1;
    let v = 0.999 * 0.001 * 1.0 + 0.001 * x1 * x1;
    let mhat = m / (1.0 - 0.81);
    let vhat = v / (1.0 - 0.999f64.powi(2));
    close(x[0], x1 - 0.1 * mhat / (vhat.sqrt() + 1e-8));
}

#[test]
fn clipped_adam_clips_and_decays() {
    let cfg = ClippedAdamConfig {
        lr: 0.1,
        clip_norm: 0.5,
        lrd: 0.5,
        ..Default::default()
    };
    let mut opt = ClippedAdam::new(cfg);
    let mut x = [4.0];
    run(&mut opt, "x", &mut x, &[1.0], 1);
    // g = 4 clamped to 0.5; step = lr * sqrt(1 - b2) / (1 - b1) * m / (sqrt(v) + eps).
    let (m, v): (f64, f64) = (0.1 * 0.5, 0.001 * 0.25);
    let step = 0.1 * 0.001f64.sqrt() / 0.1;
    close(x[0], 4.0 - step * m / (v.sqrt() + 1e-8));
    let x1 = x[0];
    run(&mut opt, "x", &mut x, &[1.0], 1);
    let (m, v): (f64, f64) = (0.9 * m + 0.1 * 0.5, 0.999 * v + 0.001 * 0.25);
    let step = 0.05 * (1.0 - 0.999f64.powi(2)).sqrt() / (1.0 - 0.81);
    close(x[0], x1 - step * m / (v.sqrt() + 1e-8));
}

#[test]
fn sgd_momentum_and_nesterov_first_steps() {
    let mut opt = Sgd::new(SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..Default::default()
    });
    let mut x = [1.0];
    run(&mut opt, "x", &mut x, &[2.0], 2);
    let x1 = 1.0 - 0.1 * 2.0;
    let buf = 0.9 * 2.0 + 2.0 * x1;
    close(x[0], x1 - 0.1 * buf);

    let mut opt = Sgd::new(SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        nesterov: true,
        ..Default::default()
    });
    let mut x = [1.0];
    run(&mut opt, "x", &mut x, &[2.0], 2);
    let x1 = 1.0 - 0.1 * (2.0 + 0.9 * 2.0);
    let g1 = 2.0 * x1;
    let buf = 0.9 * 2.0 + g1;
    close(x[0], x1 - 0.1 * (g1 + 0.9 * buf));
}

#[test]
fn adagrad_and_rmsprop_first_steps() {
    let mut opt = Adagrad::new(AdagradConfig {
        lr: 0.5,
        ..Default::default()
    });
    let mut x = [1.0];
    run(&mut opt, "x", &mut x, &[3.0], 2);
    let x1 = 1.0 - 0.5 * 3.0 / (3.0 + 1e-10);
    let g1 = 3.0 * x1;
    let s: f64 = 9.0 + g1 * g1;
    close(x[0], x1 - 0.5 * g1 / (s.sqrt() + 1e-10));

    let mut opt = RmsProp::new(RmsPropConfig {
        lr: 0.01,
        ..Default::default()
    });
    let mut x = [1.0];
    run(&mut opt, "x", &mut x, &[3.0], 2);
    let v: f64 = 0.01 * 9.0;
    let x1 = 1.0 - 0.01 * 3.0 / (v.sqrt() + 1e-8);
    let g1 = 3.0 * x1;
    let v: f64 = 0.99 * v + 0.01 * g1 * g1;
    close(x[0], x1 - 0.01 * g1 / (v.sqrt() + 1e-8));
}

#[test]
fn every_optimiser_converges_on_a_quadratic() {
    let c = [1.0, 4.0, 0.25];
    let opts: Vec<(&str, Box<dyn Optimizer>)> = vec![
        (
            "adam",
            Box::new(Adam::new(AdamConfig {
                lr: 0.05,
                ..Default::default()
            })),
        ),
        (
            "clipped",
            Box::new(ClippedAdam::new(ClippedAdamConfig {
                lr: 0.05,
                lrd: 0.9995,
                ..Default::default()
            })),
        ),
        (
            "sgd",
            Box::new(Sgd::new(SgdConfig {
                lr: 0.1,
                momentum: 0.9,
                ..Default::default()
            })),
        ),
        (
            "adagrad",
            Box::new(Adagrad::new(AdagradConfig {
                lr: 0.5,
                ..Default::default()
            })),
        ),
        (
            "rmsprop",
            Box::new(RmsProp::new(RmsPropConfig {
                lr: 0.01,
                ..Default::default()
            })),
        ),
    ];
    for (name, mut opt) in opts {
        let mut x = [2.0, -1.5, 3.0];
        run(opt.as_mut(), "x", &mut x, &c, 3000);
        assert!(
            x.iter().all(|v| v.abs() < 1e-2),
            "{name} did not converge: {x:?}"
        );
    }
}

#[test]
fn per_param_learning_rate_takes_effect() {
    let cfg = AdamConfig {
        lr: 0.1,
        ..Default::default()
    };
    let mut opt = Adam::new(cfg).with_per_param(move |name| {
        if name.starts_with("decoder") {
            AdamConfig { lr: 1e-4, ..cfg }
        } else {
            cfg
        }
    });
    let (mut a, mut b) = ([1.0], [1.0]);
    opt.begin_step();
    opt.update(0, "encoder.w", &mut a, &[1.0]);
    opt.update(1, "decoder.w", &mut b, &[1.0]);
    assert!((1.0 - a[0] - 0.1).abs() < 1e-6, "{a:?}");
    assert!((1.0 - b[0] - 1e-4).abs() < 1e-9, "{b:?}");
}

#[test]
fn schedules_and_clipping() {
    // Exponential decay: the t-th SGD step uses lr * gamma^(t-1).
    let mut opt = Sgd::new(SgdConfig {
        lr: 1.0,
        ..Default::default()
    })
    .with_schedule(LrSchedule::Exponential { gamma: 0.5 });
    let mut x = [0.0];
    for t in 0..3 {
        opt.begin_step();
        let before = x[0];
        opt.update(0, "x", &mut x, &[1.0]);
        close(before - x[0], 0.5f64.powi(t));
    }
    // Step decay every 2 steps.
    let mut opt = Sgd::new(SgdConfig {
        lr: 1.0,
        ..Default::default()
    })
    .with_schedule(LrSchedule::Step {
        step_size: 2,
        gamma: 0.1,
    });
    let mut x = [0.0];
    let mut deltas = Vec::new();
    for _ in 0..4 {
        opt.begin_step();
        let before = x[0];
        opt.update(0, "x", &mut x, &[1.0]);
        deltas.push(before - x[0]);
    }
    for (d, w) in deltas.iter().zip([1.0, 1.0, 0.1, 0.1]) {
        close(*d, w);
    }
    // Clipping by norm and by value.
    let mut opt = Sgd::new(SgdConfig {
        lr: 1.0,
        ..Default::default()
    })
    .with_clip(Clip::Norm(1.0));
    let mut x = [0.0, 0.0];
    opt.begin_step();
    opt.update(0, "x", &mut x, &[3.0, 4.0]);
    close(x[0], -0.6);
    close(x[1], -0.8);
    let mut opt = Sgd::new(SgdConfig {
        lr: 1.0,
        ..Default::default()
    })
    .with_clip(Clip::Value(1.0));
    let mut x = [0.0, 0.0];
    opt.begin_step();
    opt.update(0, "x", &mut x, &[3.0, -0.5]);
    assert_eq!(x, [-1.0, 0.5]);
}

#[test]
fn invalid_configs_are_errors_naming_optimiser_and_field() {
    let msg = |r: pyro::Result<()>| r.unwrap_err().to_string();
    let e = msg(Adam::try_new(AdamConfig {
        lr: -1.0,
        ..Default::default()
    })
    .map(|_| ()));
    assert!(e.contains("Adam") && e.contains("lr"), "{e}");
    let e = msg(Adam::try_new(AdamConfig {
        betas: (0.9, 1.0),
        ..Default::default()
    })
    .map(|_| ()));
    assert!(e.contains("betas.1"), "{e}");
    let e = msg(Adam::try_new(AdamConfig {
        eps: 0.0,
        ..Default::default()
    })
    .map(|_| ()));
    assert!(e.contains("eps"), "{e}");
    let e = msg(Adam::try_new(AdamConfig {
        lr: f64::NAN,
        ..Default::default()
    })
    .map(|_| ()));
    assert!(e.contains("lr"), "{e}");
    let e = msg(ClippedAdam::try_new(ClippedAdamConfig {
        clip_norm: 0.0,
        ..Default::default()
    })
    .map(|_| ()));
    assert!(e.contains("ClippedAdam") && e.contains("clip_norm"), "{e}");
    let e = msg(Sgd::try_new(SgdConfig {
        nesterov: true,
        ..Default::default()
    })
    .map(|_| ()));
    assert!(e.contains("Sgd") && e.contains("nesterov"), "{e}");
    let e = msg(Adagrad::try_new(AdagradConfig {
        lr_decay: -1.0,
        ..Default::default()
    })
    .map(|_| ()));
    assert!(e.contains("Adagrad") && e.contains("lr_decay"), "{e}");
    let e = msg(RmsProp::try_new(RmsPropConfig {
        alpha: 1.5,
        ..Default::default()
    })
    .map(|_| ()));
    assert!(e.contains("RmsProp") && e.contains("alpha"), "{e}");
    // An invalid per-parameter config is reported by check_param (before any update), naming
    // the parameter.
    let mut opt = Adam::new(AdamConfig::default()).with_per_param(|_| AdamConfig {
        lr: 0.0,
        ..Default::default()
    });
    let e = msg(opt.check_param(0, "w"));
    assert!(e.contains("`w`") && e.contains("lr"), "{e}");
    let mut opt = Sgd::new(SgdConfig::default()).with_schedule(LrSchedule::Step {
        step_size: 0,
        gamma: 0.5,
    });
    assert!(opt.check_param(0, "w").is_err());
}

#[test]
fn state_save_restore_continues_identically() {
    fn make() -> Vec<Box<dyn Optimizer>> {
        vec![
            Box::new(Adam::new(AdamConfig {
                lr: 0.05,
                ..Default::default()
            })),
            Box::new(ClippedAdam::new(ClippedAdamConfig {
                lr: 0.05,
                lrd: 0.99,
                ..Default::default()
            })),
            Box::new(
                Sgd::new(SgdConfig {
                    lr: 0.05,
                    momentum: 0.9,
                    ..Default::default()
                })
                .with_schedule(LrSchedule::Exponential { gamma: 0.99 }),
            ),
            Box::new(Adagrad::new(AdagradConfig {
                lr: 0.1,
                ..Default::default()
            })),
            Box::new(RmsProp::new(RmsPropConfig {
                lr: 0.01,
                momentum: 0.5,
                ..Default::default()
            })),
        ]
    }
    let c = [1.0, 3.0];
    for (mut a, mut b) in make().into_iter().zip(make()) {
        let mut xa = [1.0, -2.0];
        run(a.as_mut(), "x", &mut xa, &c, 5);
        // Through JSON text, as a checkpoint stores it.
        let text = a.state().to_string();
        b.load_state(&text.parse().unwrap()).unwrap();
        let mut xb = xa;
        run(a.as_mut(), "x", &mut xa, &c, 5);
        run(b.as_mut(), "x", &mut xb, &c, 5);
        assert_eq!(xa, xb);
    }
    // A state of another optimiser is refused; null resets.
    let mut adam = Adam::new(AdamConfig::default());
    let sgd = Sgd::new(SgdConfig::default());
    assert!(adam.load_state(&sgd.state()).is_err());
    assert!(adam
        .load_state(&r#"{"bogus": 1}"#.parse().unwrap())
        .is_err());
    adam.load_state(&Default::default()).unwrap();
    assert_eq!(adam.steps(), 0);
}
