//! `Predictive`'s samples written out as CSV and as ArviZ `from_dict` JSON, with the writers MCMC
//! uses: every value as drawn (CSV numbers parse back to the same `f64`), sites in the right
//! ArviZ groups with shapes `[chain, draw, ...site]`.

use pyro::infer::Samples;
use pyro::prelude::*;
use serde_json::Value;

#[model]
fn schools(sigma: &[f64], y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfNormal::new(5.0));
    plate!("schools", sigma.len(), |_i| {
        let eta = sample!("eta", Normal::new(0.0, 1.0));
        let theta = deterministic!("theta", &mu + &tau * eta);
        factor!("penalty", theta.sum() * 0.0);
        sample!("obs", Normal::new(theta, sigma.to_vec()), obs = y.to_vec());
    });
}

/// `schools` on fixed data: a model without arguments, for `Predictive::prior` (which also
/// takes models with arguments, `tests/obs_option.rs`).
#[model]
fn schools_fixed() {
    call!(schools, &SIGMA[..], &Y[..]);
}

#[guide(model = schools)]
fn schools_guide(sigma: &[f64], _y: &[f64]) {
    let m = param!("m", 1.0);
    let tau_loc = param!("tau_loc", 0.5, constraint = positive);
    sample!("mu", Normal::new(m, 1.0));
    sample!("tau", LogNormal::new(0.0, tau_loc));
    plate!("schools", sigma.len(), |_i| {
        sample!("eta", Normal::new(0.0, 1.0));
    });
}

const SIGMA: [f64; 3] = [15.0, 10.0, 16.0];
const Y: [f64; 3] = [28.0, 8.0, -3.0];

/// `num_samples` posterior predictive draws of `schools` under the guide at `m = 1`,
/// `tau_loc = 0.5`, from `seed`.
fn posterior_predictive(num_samples: usize, seed: u64) -> Samples<()> {
    let mut params = ParamStore::new();
    params
        .insert("m", Tensor::from(1.0), pyro::constraints::real())
        .unwrap();
    params
        .insert("tau_loc", Tensor::from(0.5), pyro::constraints::positive())
        .unwrap();
    Predictive::new(schools, schools_guide, &params, num_samples)
        .seed(seed)
        .run((&SIGMA[..], &Y[..]))
        .unwrap()
}

/// The CSV as a header and rows of numbers.
fn read_csv(text: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    (header, rows)
}

#[test]
fn posterior_predictive_samples_as_csv() {
    let samples = posterior_predictive(5, 3);
    let csv = samples.to_csv().unwrap();
    let (header, rows) = read_csv(&csv);
    // Latent and deterministic sites in execution order, then the observed one; no factor.
    assert_eq!(
        header,
        [
            "mu", "tau", "eta[0]", "eta[1]", "eta[2]", "theta[0]", "theta[1]", "theta[2]",
            "obs[0]", "obs[1]", "obs[2]"
        ]
    );
    assert_eq!(rows.len(), 5);
    // Every number reads back as the value drawn.
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let obs = samples.get("obs").unwrap().to_vec().unwrap();
    let mu = samples.get("mu").unwrap().to_vec().unwrap();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[col("mu")], mu[i]);
        assert_eq!(row[col("obs[2]")], obs[i * 3 + 2]);
    }
    // The observations were drawn afresh, not copied from `Y`.
    assert!(rows.iter().all(|r| r[col("obs[0]")] != Y[0]));

    let path = std::env::temp_dir().join(format!("pyro-pp-{}.csv", std::process::id()));
    samples.write_csv(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), csv);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn posterior_predictive_samples_as_arviz_json() {
    let samples = posterior_predictive(4, 1);
    let v = samples.to_arviz_json().unwrap();
    let groups: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(groups.len(), 2, "{groups:?}");
    let post = v["posterior"].as_object().unwrap();
    let mut names: Vec<&str> = post.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["eta", "mu", "tau", "theta"]);
    let pp = v["posterior_predictive"].as_object().unwrap();
    assert_eq!(pp.keys().collect::<Vec<_>>(), ["obs"]);
    // Shapes: [1 chain, 4 draws] for scalars, [1, 4, 3] in the plate; values as drawn.
    assert_eq!(v["posterior"]["mu"].as_array().unwrap().len(), 1);
    assert_eq!(v["posterior"]["mu"][0].as_array().unwrap().len(), 4);
    let theta = samples.get("theta").unwrap().to_vec().unwrap();
    for i in 0..4 {
        for j in 0..3 {
            assert_eq!(
                v["posterior"]["theta"][0][i][j].as_f64(),
                Some(theta[i * 3 + j])
            );
        }
    }
    assert_eq!(
        v["posterior_predictive"]["obs"][0][3]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    let path = std::env::temp_dir().join(format!("pyro-pp-{}.json", std::process::id()));
    samples.write_arviz_json(&path).unwrap();
    let back: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(back, v);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn prior_predictive_samples_go_in_the_prior_groups() {
    let samples = Predictive::prior(schools_fixed, &ParamStore::new(), 6)
        .seed(2)
        .run(())
        .unwrap();
    let v = samples.to_arviz_json().unwrap();
    let mut groups: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    groups.sort_unstable();
    assert_eq!(groups, ["prior", "prior_predictive"]);
    assert_eq!(v["prior"]["mu"][0].as_array().unwrap().len(), 6);
    assert!(v["prior"].get("obs").is_none());
    assert_eq!(v["prior_predictive"]["obs"][0].as_array().unwrap().len(), 6);
    assert_eq!(
        v["prior_predictive"]["obs"][0][5].as_array().unwrap().len(),
        3
    );
}

#[test]
fn mcmc_draws_through_predictive_export_the_same_way() {
    use pyro::infer::mcmc::{Mcmc, Nuts};
    let draws = Mcmc::new(Nuts::new(schools))
        .warmup(30)
        .samples(10)
        .chains(1)
        .progress(false)
        .seed(0)
        .run((&SIGMA[..], &Y[..]))
        .unwrap();
    let pp = Predictive::from_mcmc(schools, &draws)
        .seed(0)
        .run((&SIGMA[..], &Y[..]))
        .unwrap();
    // The latent sites hold the MCMC draws, written as MCMC's own CSV writes them.
    let (header, rows) = read_csv(&pp.to_csv().unwrap());
    let (mh, mrows) = read_csv(&draws.to_csv(0).unwrap());
    let mu = header.iter().position(|h| h == "mu").unwrap();
    let mmu = mh.iter().position(|h| h == "mu").unwrap();
    let a: Vec<f64> = rows.iter().map(|r| r[mu]).collect();
    let b: Vec<f64> = mrows.iter().map(|r| r[mmu]).collect();
    assert_eq!(a, b);
    let v = pp.to_arviz_json().unwrap();
    assert_eq!(
        v["posterior_predictive"]["obs"][0]
            .as_array()
            .unwrap()
            .len(),
        10
    );
}
