use pyro::prelude::*;

// The README's coin: its observed `format!` sites do not hide an extra latent guide site.
#[model]
fn coin(data: &[f64]) {
    let f = sample!("latent_fairness", Beta::new(10.0, 10.0));
    for (i, &x) in data.iter().enumerate() {
        sample!(format!("obs_{i}"), Bernoulli::new(&f), obs = x);
    }
}

#[guide(model = coin)]
fn coin_guide(_data: &[f64]) {
    let alpha_q = param!("alpha_q", 15.0, constraint = positive);
    let beta_q = param!("beta_q", 15.0, constraint = positive);
    sample!("latent_fairness", Beta::new(alpha_q, beta_q));
    sample!("bogus", Normal::new(0.0, 1.0));
}

fn main() {}
