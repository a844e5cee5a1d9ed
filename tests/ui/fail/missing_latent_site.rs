use pyro::prelude::*;

#[model]
fn coin(data: &[f64]) {
    let f = sample!("latent_fairness", Normal::new(0.5, 0.1));
    for (i, &x) in data.iter().enumerate() {
        sample!(format!("obs_{i}"), Normal::new(&f, 1.0), obs = x);
    }
}

#[guide(model = coin)]
fn coin_guide(_data: &[f64]) {
    let _loc = param!("loc", 0.5);
}

fn main() {
    let _ = (coin, coin_guide);
}
