//! Data-parallel SVI on threads (`ParallelSvi`): results that do not depend on the number of
//! threads, shards whose gradients sum to the whole data's, and errors that name the shard or
//! site.

use pyro::infer::Shards;
use pyro::prelude::*;

mod common;
use common::sharded_linreg::{adam, linreg, linreg_guide, row, rows, Rows};

/// The same regression with a local latent per row (a random intercept `u_i ~ N(0, 0.5)`,
/// guided by `N(0.1 * y_i * w, s)`), so that shards draw inside the plate.
#[model]
fn local(d: &Rows) {
    let b = sample!("b", Normal::new(0.0, 10.0));
    let n = d.y.shape()[0];
    plate!("data", n, |_idx| {
        let u = sample!("u", Normal::new(0.0, 0.5));
        sample!("y", Normal::new(&u + &b * &d.x, 1.0), obs = d.y.clone());
    });
}

#[guide(model = local)]
fn local_guide(d: &Rows) {
    let b_loc = param!("b_loc", 0.0);
    let b_scale = param!("b_scale", 1.0, constraint = positive);
    let w = param!("w", 0.0);
    let s = param!("s", 0.5, constraint = positive);
    sample!("b", Normal::new(b_loc, b_scale));
    let n = d.y.shape()[0];
    plate!("data", n, |_idx| {
        sample!("u", Normal::new(&d.y * &w * 0.1, s));
    });
}

fn values(store: &ParamStore) -> Vec<(String, Vec<f64>)> {
    store
        .entries()
        .iter()
        .map(|e| (e.name().to_string(), e.unconstrained().to_vec().unwrap()))
        .collect()
}

#[test]
fn parameters_are_bit_identical_for_any_number_of_threads() {
    // 3 particles on 5 shards (15 units) with local latents: every unit's draws and the order
    // of the sums are fixed by the seed and the unit, never by the thread that ran it.
    let run = |threads: usize| {
        let shards = Shards::new("data", 203, 5, rows);
        let mut svi = Svi::new(local, local_guide, adam(), TraceElbo::new(3))
            .seed(11)
            .parallel(shards)
            .threads(threads);
        let mut losses = Vec::new();
        for _ in 0..25 {
            losses.push(svi.step().unwrap());
        }
        (losses, values(svi.params()))
    };
    let one = run(1);
    for threads in [2, 3, 4] {
        let other = run(threads);
        assert_eq!(one.0, other.0, "losses differ on {threads} threads");
        assert_eq!(one.1, other.1, "parameters differ on {threads} threads");
    }
}

#[test]
fn shards_sum_to_the_whole_data() {
    // Global latents only: the global draws are the same on every shard, so 1 and 7 shards
    // compute the same ELBO and gradient up to the rounding of the sums over rows (about 1e-15
    // relative per step; Adam's normalised steps do not amplify it beyond 1e-12 in 40 steps).
    let run = |shards: usize| {
        let mut svi = Svi::new(linreg, linreg_guide, adam(), TraceElbo::default())
            .seed(3)
            .parallel(Shards::new("data", 1000, shards, rows))
            .threads(2);
        let losses: Vec<f64> = (0..40).map(|_| svi.step().unwrap()).collect();
        (losses, values(svi.params()))
    };
    let (l1, p1) = run(1);
    let (l7, p7) = run(7);
    for (a, b) in l1.iter().zip(&l7) {
        assert!((a - b).abs() <= 1e-11 * a.abs(), "loss {a} vs {b}");
    }
    for ((n, a), (_, b)) in p1.iter().zip(&p7) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-10, "{n}: {x} vs {y}");
        }
    }
}

#[test]
fn sharded_fit_reaches_the_exact_posterior() {
    // Conjugate Gaussian linear regression: the exact posterior of (a, b) under N(0, 10^2)
    // priors and unit noise. The mean-field guide's optimum has the exact posterior means
    // (for a Gaussian posterior, the mean-field KL optimum matches the means) and the
    // conditional standard deviations 1 / sqrt(precision_jj).
    let n = 1000;
    let (mut sxx, mut sx, mut sy, mut sxy) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..n {
        let (x, y) = row(i);
        sx += x;
        sxx += x * x;
        sy += y;
        sxy += x * y;
    }
    let prior_prec = 1.0 / 100.0;
    let p = [[n as f64 + prior_prec, sx], [sx, sxx + prior_prec]];
    let det = p[0][0] * p[1][1] - p[0][1] * p[1][0];
    let a_mean = (p[1][1] * sy - p[0][1] * sxy) / det;
    let b_mean = (p[0][0] * sxy - p[1][0] * sy) / det;
    let a_sd = 1.0 / p[0][0].sqrt();

    let adam = Adam::new(AdamConfig {
        lr: 0.02,
        ..Default::default()
    });
    let mut svi = Svi::new(linreg, linreg_guide, adam, TraceElbo::new(4))
        .seed(5)
        .parallel(Shards::new("data", n, 4, rows))
        .threads(2);
    for _ in 0..1500 {
        svi.step().unwrap();
    }
    let a = svi.params().scalar("a_loc").unwrap();
    let b = svi.params().scalar("b_loc").unwrap();
    // The stationary noise of Adam at lr 0.02 around the optimum: a few times the learning
    // rate times the posterior sd (0.03) at most.
    assert!((a - a_mean).abs() < 3.0 * a_sd, "a {a} vs exact {a_mean}");
    assert!((b - b_mean).abs() < 3.0 * a_sd, "b {b} vs exact {b_mean}");
}

#[test]
fn parallel_particles_of_the_whole_data() {
    // No data plate: 8 particles on 2 threads, each building its own copy of the data.
    let run = |threads: usize| {
        let mut svi = Svi::new(linreg, linreg_guide, adam(), TraceElbo::new(8))
            .seed(1)
            .parallel(Shards::whole(|| rows(0..100)))
            .threads(threads);
        let losses: Vec<f64> = (0..10).map(|_| svi.step().unwrap()).collect();
        (losses, values(svi.params()))
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn a_failing_shard_is_named() {
    let shards = Shards::new("data", 100, 4, |r: std::ops::Range<usize>| {
        if r.start >= 50 {
            Err(pyro::Error::Invalid("unreadable rows".into()))
        } else {
            rows(r)
        }
    });
    let mut svi = Svi::new(linreg, linreg_guide, adam(), TraceElbo::default())
        .parallel(shards)
        .threads(2);
    let e = svi.step().unwrap_err().to_string();
    assert!(
        e.contains("shard 2 (rows 50..75)") && e.contains("unreadable rows"),
        "{e}"
    );
    assert!(svi.params().is_empty() || svi.params().scalar("a_loc").unwrap() == 0.0);
}

#[model]
fn coin(d: &Rows) {
    let f = sample!("f", Beta::new(2.0, 2.0));
    let n = d.y.shape()[0];
    let k = sample!("k", Bernoulli::new(f.clone()));
    plate!("data", n, |_idx| {
        sample!("y", Normal::new(k, 1.0), obs = d.y.clone());
    });
}

#[guide(model = coin)]
fn coin_guide(_d: &Rows) {
    let p = param!("p", 0.5, constraint = unit_interval);
    sample!("f", Beta::new(2.0, 2.0));
    sample!("k", Bernoulli::new(p));
}

#[test]
fn score_function_sites_are_refused_when_sharded() {
    let mut svi = Svi::new(coin, coin_guide, adam(), TraceElbo::default())
        .parallel(Shards::new("data", 10, 2, rows))
        .threads(1);
    let e = svi.step().unwrap_err().to_string();
    assert!(e.contains("`k`") && e.contains("reparameterised"), "{e}");
    // One shard: the score function has the whole ELBO, and the step runs.
    let mut svi = Svi::new(coin, coin_guide, adam(), TraceElbo::default())
        .parallel(Shards::new("data", 10, 1, rows))
        .threads(2);
    svi.step().unwrap();
}

/// A two-component mixture over the rows with each row's component summed out exactly
/// (`enumerate`), parameters only: `TraceEnumElbo`'s loss is the exact `-ln p(data)`, a sum of
/// per-row terms, as for an HMM over sequences.
#[model]
fn mixture(d: &Rows) {
    let weights = param!(
        "weights",
        Tensor::from(vec![0.3, 0.7]),
        constraint = simplex
    );
    let locs = param!("locs", Tensor::from(vec![-1.0, 2.0]));
    let n = d.y.shape()[0];
    plate!("data", n, |_idx| {
        let z = sample!("z", Categorical::new(weights), enumerate);
        sample!("y", Normal::new(locs.index_by(&z), 1.5), obs = d.y.clone());
    });
}

#[guide(model = mixture)]
fn mixture_guide(_d: &Rows) {}

#[test]
fn enumerated_models_shard_to_the_exact_serial_loss_and_step() {
    // Enumeration is exact, so there is no Monte Carlo noise: 1 and 6 shards, and the serial
    // `Svi` on the whole data, take the same steps up to the rounding of the sums over rows.
    let n = 300;
    let whole = rows(0..n).unwrap();
    let mut serial = Svi::new(mixture, mixture_guide, adam(), TraceEnumElbo::default()).seed(2);
    let exact_first = serial.evaluate_loss(&whole).unwrap();
    let serial_losses: Vec<f64> = (0..30).map(|_| serial.step(&whole).unwrap()).collect();
    assert_eq!(serial_losses[0].to_bits(), exact_first.to_bits());
    for shards in [1, 6] {
        let mut svi = Svi::new(mixture, mixture_guide, adam(), TraceEnumElbo::default())
            .seed(2)
            .parallel(Shards::new("data", n, shards, rows))
            .threads(2);
        let losses: Vec<f64> = (0..30).map(|_| svi.step().unwrap()).collect();
        for (a, b) in serial_losses.iter().zip(&losses) {
            assert!(
                (a - b).abs() <= 1e-11 * a.abs(),
                "{shards} shards: loss {b} vs {a}"
            );
        }
        for ((name, a), (_, b)) in values(serial.params()).iter().zip(values(svi.params())) {
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() < 1e-10, "{shards} shards, {name}: {y} vs {x}");
            }
        }
    }
    // The fit moved: the loss fell.
    assert!(
        serial_losses[29] < serial_losses[0] - 1.0,
        "{serial_losses:?}"
    );
}

#[path = "../examples/common/vae_model.rs"]
mod vae_model;
use vae_model::{Vae, VaeConfig};

/// A VAE minibatch as one argument (`ParallelSvi` passes each shard's data by reference): the
/// networks (which hold no weights) and the shard's images.
struct Minibatch {
    vae: Vae,
    x: Tensor,
}

#[model]
fn vae_rows(b: &Minibatch) {
    call!(vae_model::model, &b.vae, &b.x);
}

#[guide(model = vae_rows)]
fn vae_rows_guide(b: &Minibatch) {
    call!(vae_model::guide, &b.vae, &b.x);
}

/// Image `i` of a fixed set of 16-pixel binary images: two prototypes, pixels flipped with
/// probability 1/8 by a hash of (i, pixel), so any shard rebuilds its rows alone.
fn image(i: usize) -> Vec<f64> {
    (0..16)
        .map(|p| {
            let on = if i % 2 == 0 { p < 8 } else { p % 2 == 0 };
            let h = (i * 16 + p).wrapping_mul(0x9e37_79b9) >> 7;
            f64::from(u8::from(on != (h % 8 == 0)))
        })
        .collect()
}

fn minibatch(rows: std::ops::Range<usize>) -> pyro::Result<Minibatch> {
    let n = rows.len();
    Ok(Minibatch {
        vae: Vae::new(VaeConfig {
            x_dim: 16,
            hidden: 12,
            z_dim: 2,
        }),
        x: Tensor::new(rows.flat_map(image).collect(), &[n, 16])?,
    })
}

#[test]
fn a_vae_minibatch_shards_over_threads() {
    // Networks bound with `module!` inside a sharded plate, with an amortised guide: the
    // weights are created once (from the first unit) and every thread count takes the same
    // steps, bit for bit; the ELBO improves on the data's two prototypes.
    let run = |threads: usize, steps: usize| {
        let adam = Adam::new(AdamConfig {
            lr: 0.01,
            ..Default::default()
        });
        let mut svi = Svi::new(vae_rows, vae_rows_guide, adam, TraceElbo::default())
            .seed(4)
            .parallel(Shards::new("data", 96, 4, minibatch))
            .threads(threads);
        let losses: Vec<f64> = (0..steps).map(|_| svi.step().unwrap()).collect();
        (losses, values(svi.params()))
    };
    let one = run(1, 20);
    assert_eq!(one, run(3, 20), "1 and 3 threads differ");
    let names: Vec<&str> = one.1.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.contains(&"encoder.fc1.weight") && names.contains(&"decoder.0.weight"),
        "{names:?}"
    );
    let (losses, _) = run(2, 400);
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    // The loss starts near 96 x 16 x ln 2 = 1065 nats (logits near 0); the prototypes are
    // far easier than that. 40-step means, so single-draw noise does not decide.
    let (first, last) = (mean(&losses[..40]), mean(&losses[360..]));
    assert!(last < 0.8 * first, "loss {first} -> {last}");
}

#[test]
fn a_plate_the_model_lacks_or_missized_is_an_error_not_a_partial_elbo() {
    // Splitting a plate of another name would count every row on the first shard only, and a
    // shard whose data has fewer rows than it was given would drop rows: both would be a wrong
    // ELBO with no error.
    let mut svi = Svi::new(linreg, linreg_guide, adam(), TraceElbo::default())
        .seed(3)
        .parallel(Shards::new("dat", 1000, 4, rows))
        .threads(2);
    let before = values(svi.params());
    let e = svi.step().unwrap_err().to_string();
    assert!(e.contains("plate `dat`") && e.contains("4 shards"), "{e}");
    assert_eq!(
        values(svi.params()),
        before,
        "a refused step changes nothing"
    );

    let short = |r: std::ops::Range<usize>| rows(r.start..r.start + 1);
    let mut svi = Svi::new(linreg, linreg_guide, adam(), TraceElbo::default())
        .seed(3)
        .parallel(Shards::new("data", 100, 4, short))
        .threads(2);
    let e = svi.step().unwrap_err().to_string();
    assert!(
        e.contains("plate `data` has size 1") && e.contains("rows 0..25"),
        "{e}"
    );
}
