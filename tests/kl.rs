//! Analytic KL divergences against Monte-Carlo estimates `mean(ln p(x) - ln q(x))`, `x ~ p`,
//! within 5 standard errors; unknown pairs are errors.

use pyro::distributions::*;
use pyro::rng::rng_from_seed;
use pyro::tensor::Tensor;

const N: usize = 20_000;

/// `p_batch` has batch shape `[N]` (N copies of p); `p` and `q` are the unbatched pair.
fn check(
    name: &str,
    p: &dyn Distribution,
    q: &dyn Distribution,
    p_batch: &dyn Distribution,
    seed: u64,
) {
    let kl = kl_divergence(p, q).unwrap().item().unwrap();
    let x = p_batch.sample(&mut rng_from_seed(seed));
    let d = (p.log_prob(&x) - q.log_prob(&x)).to_vec().unwrap();
    assert_eq!(d.len(), N, "{name}: one log-ratio per draw");
    let n = N as f64;
    let m = d.iter().sum::<f64>() / n;
    let sd = (d.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    assert!(
        (m - kl).abs() < 5.0 * sd / n.sqrt() + 1e-12,
        "{name}: analytic {kl} vs Monte-Carlo {m} (sd {sd})"
    );
    assert!(kl >= 0.0, "{name}: {kl}");
}

fn full(v: f64) -> Tensor {
    Tensor::full(&[N], v)
}

fn rows(v: &[f64]) -> Tensor {
    Tensor::from_rows(&vec![v.to_vec(); N]).unwrap()
}

#[test]
fn kl_matches_monte_carlo() {
    check(
        "Normal",
        &Normal::new(0.3, 1.2).unwrap(),
        &Normal::new(-0.5, 0.8).unwrap(),
        &Normal::new(full(0.3), 1.2).unwrap(),
        1,
    );
    check(
        "LogNormal",
        &LogNormal::new(0.3, 0.6).unwrap(),
        &LogNormal::new(0.0, 1.0).unwrap(),
        &LogNormal::new(full(0.3), 0.6).unwrap(),
        2,
    );
    check(
        "Gamma",
        &Gamma::new(2.5, 1.5).unwrap(),
        &Gamma::new(1.5, 0.7).unwrap(),
        &Gamma::new(full(2.5), 1.5).unwrap(),
        3,
    );
    check(
        "Beta",
        &Beta::new(2.0, 3.0).unwrap(),
        &Beta::new(1.2, 0.9).unwrap(),
        &Beta::new(full(2.0), 3.0).unwrap(),
        4,
    );
    check(
        "Dirichlet",
        &Dirichlet::new([2.0, 1.0, 3.0]).unwrap(),
        &Dirichlet::new([1.0, 1.5, 1.0]).unwrap(),
        &Dirichlet::new(rows(&[2.0, 1.0, 3.0])).unwrap(),
        5,
    );
    check(
        "Bernoulli",
        &Bernoulli::new(0.3).unwrap(),
        &Bernoulli::new(0.6).unwrap(),
        &Bernoulli::new(full(0.3)).unwrap(),
        6,
    );
    check(
        "Categorical",
        &Categorical::new([0.2, 0.5, 0.3]).unwrap(),
        &Categorical::from_logits([0.0, 1.0, -1.0]).unwrap(),
        &Categorical::new(rows(&[0.2, 0.5, 0.3])).unwrap(),
        7,
    );
    // Independent: the KL of the base summed over the event.
    let p = Normal::new(Tensor::from(vec![0.0, 1.0]), Tensor::from(vec![1.0, 2.0]))
        .to_event(1)
        .unwrap();
    let q = Normal::new(0.5, 1.5).expand(&[2]).to_event(1).unwrap();
    let pb = Normal::new(rows(&[0.0, 1.0]), Tensor::from(vec![1.0, 2.0]))
        .to_event(1)
        .unwrap();
    let _ = &q;
    // q is Independent<Expanded<Normal>>: its base KL goes through Expanded only if p's base is
    // expanded too, so compare with an explicitly batched q.
    let q = Normal::new(Tensor::full(&[2], 0.5), 1.5)
        .to_event(1)
        .unwrap();
    check("Independent", &p, &q, &pb, 8);
}

#[test]
fn kl_special_cases() {
    // Delta p: -ln q(v).
    let p = Delta::new(0.5).unwrap();
    let q = Normal::new(0.0, 1.0).unwrap();
    let kl = kl_divergence(&p, &q).unwrap().item().unwrap();
    assert!((kl - (0.125 + 0.918_938_533_204_672_8)).abs() < 1e-12);
    // Boxed distributions are looked through.
    let bp: Box<dyn Distribution> = Box::new(Normal::new(0.0, 1.0).unwrap());
    let bq: Box<dyn Distribution> = Box::new(Normal::new(1.0, 1.0).unwrap());
    assert!((kl_divergence(&bp, &bq).unwrap().item().unwrap() - 0.5).abs() < 1e-15);
    // Expanded-Expanded broadcasts the base KL.
    let pe = Normal::new(0.0, 1.0).expand(&[3]).unwrap();
    let qe = Normal::new(1.0, 1.0).expand(&[3]).unwrap();
    assert_eq!(
        kl_divergence(&pe, &qe).unwrap().to_vec().unwrap(),
        vec![0.5; 3]
    );
    // KL(p, p) = 0.
    let g = Gamma::new(2.0, 3.0).unwrap();
    assert!(kl_divergence(&g, &g).unwrap().item().unwrap().abs() < 1e-14);
    // Unknown pairs are errors that name both distributions.
    let e = kl_divergence(
        &Normal::new(0.0, 1.0).unwrap(),
        &Laplace::new(0.0, 1.0).unwrap(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("Normal") && e.contains("Laplace"), "{e}");
}
