//! A seeded fuzz of the attribute macros: mutated model and guide functions (tokens deleted,
//! repeated, swapped, truncated, or replaced by the tokens the macros look for) go through the
//! whole expansion of `#[model]` and `#[guide(model = ..)]`. Whatever the input, the macro must
//! answer with tokens (code or spanned errors), never panic: a panicking proc macro gives the user
//! "proc macro panicked" and no location.

use std::panic::{catch_unwind, AssertUnwindSafe};

use proc_macro2::TokenStream;

use crate::attr::Which;
use crate::expand::expand;

/// Functions in the model language, from plain to every construct the walk understands.
const SEEDS: &[&str] = &[
    r#"fn coin(data: &[f64]) { let f = sample!("fairness", Beta::new(10.0, 10.0)); for (i, &x) in data.iter().enumerate() { sample!(format!("obs_{i}"), Bernoulli::new(&f), obs = x); } }"#,
    r#"fn g(data: &[f64]) { let a = param!("a", 10.0, constraint = positive); let b = param!("b", Tensor::from(vec![1.0]), constraint = greater_than(1.0)); sample!("fairness", Beta::new(a, b)); }"#,
    r#"fn m(x: &Tensor, y: Option<&Tensor>) -> Tensor { let w = sample!("w", Normal::new(0.0, 1.0).expand(&[3]).to_event(1)); plate!("data", x.shape()[0], subsample_size = 10, |idx| { sample!("y", Normal::new(x.matmul(&w), 1.0), obs = y); }); w }"#,
    r#"fn hmm(seqs: &[Vec<usize>]) { let t = sample!("t", Dirichlet::new(Tensor::ones(&[4]))); plate!("s", seqs.len(), for i { let mut x = 0; markov!(for k in 0..seqs[i].len() { let z = sample!(format!("x_{i}_{k}"), Categorical::new(&t), enumerate); factor!(format!("f_{i}_{k}"), z.sum()); }); }); }"#,
    r#"fn vae(vae: &Vae, x: &Tensor) { let dec = module!("decoder", &vae.decoder); if let Some(s) = x.shape().first() { let z = sample!("z", Normal::new(0.0, 1.0)); deterministic!("d", dec.forward(&z)); } else { return; } call!(other, x); }"#,
    r#"fn sub(p: Pair) { match p { Pair { a, .. } if a > 0.0 => { sample!("z", Normal::new(a, 1.0)); } _ => { sample!("z", Normal::new(0.0, 1.0)); } } #[cfg(any())] sample!("off", Normal::new(0.0, 1.0)); pyro::sample!(concat!("c", "d"), Normal::new(0.0, 1.0)); }"#,
    r#"async fn bad<T: Clone>(self, x: T) where T: Copy { loop { sample!("z", Normal::new(0.0, 1.0)); break; } let c = || sample!("k", Normal::new(0.0, 1.0)); }"#,
];

/// What mutations insert: the macros' own vocabulary and the punctuation around it.
const VOCAB: &[&str] = &[
    "sample!",
    "param!",
    "plate!",
    "markov!",
    "module!",
    "call!",
    "factor!",
    "deterministic!",
    "obs",
    "=",
    ",",
    ";",
    "|",
    "||",
    "&",
    "enumerate",
    "constraint",
    "positive",
    "subsample_size",
    "\"z\"",
    "\"\"",
    "format!(\"x_{}\", i)",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "for",
    "in",
    "if",
    "else",
    "return",
    "let",
    "mut",
    "self",
    "Self",
    "fn",
    "async",
    "unsafe",
    "impl",
    "0",
    "1.0",
    "-",
    "..",
    "::",
    "pyro",
    "crate",
    "#[cfg(test)]",
    "'a",
    "<",
    ">",
    "?",
    "!",
    "_",
];

/// Splits on spaces as `TokenStream::to_string` prints: coarse tokens that a mutation moves
/// as wholes (a group's delimiters are tokens of their own, so groups get unbalanced too).
fn tokens(src: &str) -> Vec<String> {
    let ts: TokenStream = src.parse().expect("seeds are valid tokens");
    ts.to_string()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// SplitMix64: a fixed sequence, so a failure is reproducible from its case number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(toks: &mut Vec<String>, rng: &mut Rng) {
    for _ in 0..1 + rng.below(3) {
        let n = toks.len();
        if n == 0 {
            return;
        }
        let i = rng.below(n);
        match rng.below(5) {
            0 => {
                toks.remove(i);
            }
            1 => {
                let t = toks[i].clone();
                toks.insert(i, t);
            }
            2 => toks.swap(i, rng.below(n)),
            3 => toks[i] = VOCAB[rng.below(VOCAB.len())].to_string(),
            _ => toks.insert(i, VOCAB[rng.below(VOCAB.len())].to_string()),
        }
    }
}

#[test]
fn mutated_functions_never_make_the_macros_panic() {
    // The expansion's panics would be caught and reported below; keep the output readable.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut rng = Rng(20261201);
    let (mut expanded, mut panics) = (0, Vec::new());
    let attrs = [
        "",
        "model = coin",
        "model = a::b::m",
        "model =",
        "model = 1",
        "crate = pp",
    ];
    for case in 0..4000 {
        let seed = SEEDS[case % SEEDS.len()];
        let mut toks = tokens(seed);
        mutate(&mut toks, &mut rng);
        // Unbalanced delimiters do not lex: rustc never hands those to a macro.
        let Ok(item) = toks.join(" ").parse::<TokenStream>() else {
            continue;
        };
        let (which, label) = if rng.below(2) == 0 {
            (Which::Model, "model")
        } else {
            (Which::Guide, "guide")
        };
        let attr: TokenStream = attrs[rng.below(attrs.len())]
            .parse()
            .expect("valid attribute");
        let result = catch_unwind(AssertUnwindSafe(|| {
            expand(which, attr.clone(), item.clone())
        }));
        expanded += 1;
        if result.is_err() {
            panics.push(format!("case {case}: #[{label}({attr})] {item}"));
        }
    }
    std::panic::set_hook(hook);
    assert!(expanded >= 2000, "only {expanded} mutated inputs lexed");
    assert!(
        panics.is_empty(),
        "{} of {expanded} inputs made the macro panic, e.g.\n{}",
        panics.len(),
        panics
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
