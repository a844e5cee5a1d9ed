//! Site macros wherever expressions are: in other macros' arguments, closures, plate and markov
//! bodies, as arguments of each other.

use pyro::prelude::*;

#[model]
fn m(data: &[f64]) -> usize {
    let z = sample!("z", Normal::new(param!("loc", 0.0), param!("scale", 1.0, constraint = positive)));
    println!("{:?}", sample!("a", Normal::new(0.0, 1.0)).shape());
    let v = vec![deterministic!("d", &z * 2.0), deterministic!("e", &z * 3.0)];
    let w = vec![factor!("f", -(&z * &z)); 1];
    let shown = format!("{} {}", v.len() + w.len(), sample!("b", Normal::new(0.0, 1.0)).shape().len());
    assert!(!shown.is_empty());
    let n = plate!("data", data.len(), move |idx| {
        let xs: Vec<f64> = idx.iter().map(|&i| data[i]).collect();
        let apply = |c: &mut Vec<f64>| c.push(1.0);
        let mut ys = xs.clone();
        apply(&mut ys);
        sample!("x", Normal::new(&z, 1.0), obs = xs);
        idx.len()
    });
    markov!(for t in 0..data.len() {
        if t == 7 {
            return;
        }
        sample!(format!("h_{t}"), Normal::new(0.0, 1.0), obs = data[t]);
    });
    n
}

#[guide(model = m)]
fn g(_data: &[f64]) -> usize {
    sample!("z", Normal::new(0.0, 1.0));
    sample!("a", Normal::new(0.0, 1.0));
    sample!("b", Normal::new(0.0, 1.0));
    0
}

fn main() {
    let mut svi = Svi::new(m, g, Adam::new(AdamConfig::default()), TraceElbo::default());
    assert!(svi.step(&[1.0, 2.0][..]).unwrap().is_finite());
}
