//! Elementwise operations: arithmetic with broadcasting, and unary functions.
//!
//! Each unary function has its derivative written next to it, in terms of the input `x`, the
//! output `y` and the incoming gradient `g`.

use std::ops::{Add, Div, Mul, Neg, Sub};

use smallvec::smallvec;

use super::backward::{Aux, BackwardArgs, GradBuf, InputGrads};
use super::broadcast::{broadcast_shapes, try_expand, try_zip_broadcast, zip_broadcast};
use super::special_fns::{digamma, erf, lgamma, trigamma};
use super::tape::record;
use super::{Data, Tensor};

fn propagate(a: &Tensor, b: &Tensor) -> Option<Tensor> {
    a.error().or(b.error()).map(|e| Tensor::poisoned(e.clone()))
}

/// Applies a binary kernel with broadcasting and records it.
pub(crate) fn binary(
    a: &Tensor,
    b: &Tensor,
    name: &str,
    f: impl Fn(f64, f64) -> f64,
    backward: super::BackwardFn,
) -> Tensor {
    if let Some(p) = propagate(a, b) {
        return p;
    }
    // Scalar fast path: no shape work, no allocation.
    if let (Data::Scalar(x), Data::Scalar(y)) = (&a.data, &b.data) {
        if (a.shape.is_empty() && b.shape.is_empty()) || a.shape == b.shape {
            return record(
                &[a, b],
                a.shape.clone(),
                Data::Scalar(f(*x, *y)),
                backward,
                Aux::None,
            );
        }
    }
    let shape = match broadcast_shapes(&a.shape, &b.shape) {
        Ok(s) => s,
        Err(e) => return Tensor::poisoned(crate::Error::shape(name, e.to_string())),
    };
    let v = match try_zip_broadcast(name, a.raw(), &a.shape, b.raw(), &b.shape, &shape, f) {
        Ok(v) => v,
        Err(e) => return Tensor::poisoned(e),
    };
    record(&[a, b], shape, Data::from_vec(v), backward, Aux::None)
}

/// `g` times something of the input's broadcast into the output shape.
fn times(args: &BackwardArgs<'_>, k: usize, f: impl Fn(f64, f64) -> f64) -> GradBuf {
    let (v, s) = args.inputs[k];
    if args.grad.len() == 1 && v.len() == 1 {
        return smallvec![f(args.grad[0], v[0])];
    }
    GradBuf::from_vec(zip_broadcast(
        args.grad,
        args.out_shape,
        v,
        s,
        args.out_shape,
        f,
    ))
}

fn add_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let g = GradBuf::from_slice(args.grad);
    smallvec![args.needs[0].then(|| g.clone()), args.needs[1].then_some(g)]
}

fn sub_bw(args: &BackwardArgs<'_>) -> InputGrads {
    smallvec![
        args.needs[0].then(|| GradBuf::from_slice(args.grad)),
        args.needs[1].then(|| args.grad.iter().map(|g| -g).collect())
    ]
}

fn mul_bw(args: &BackwardArgs<'_>) -> InputGrads {
    smallvec![
        args.needs[0].then(|| times(args, 1, |g, b| g * b)),
        args.needs[1].then(|| times(args, 0, |g, a| g * a))
    ]
}

fn div_bw(args: &BackwardArgs<'_>) -> InputGrads {
    // d(a/b)/da = 1/b ; d(a/b)/db = -a/b^2 = -out/b
    if let ([g], [y], ([b], _)) = (args.grad, args.out, args.inputs[1]) {
        if args.inputs[0].0.len() == 1 {
            return smallvec![
                args.needs[0].then(|| smallvec![g / b]),
                args.needs[1].then(|| smallvec![-g * y / b])
            ];
        }
    }
    let gb = args.needs[1].then(|| {
        let (b, bs) = args.inputs[1];
        let gy: Vec<f64> = args
            .grad
            .iter()
            .zip(args.out)
            .map(|(g, y)| -g * y)
            .collect();
        GradBuf::from_vec(zip_broadcast(
            &gy,
            args.out_shape,
            b,
            bs,
            args.out_shape,
            |gy, b| gy / b,
        ))
    });
    smallvec![args.needs[0].then(|| times(args, 1, |g, b| g / b)), gb]
}

fn pow_bw(args: &BackwardArgs<'_>) -> InputGrads {
    // d(a^b)/da = b a^(b-1) ; d(a^b)/db = a^b ln a
    let (a, as_) = args.inputs[0];
    let (b, bs) = args.inputs[1];
    let ab = zip_broadcast(a, as_, b, bs, args.out_shape, |a, b| b * a.powf(b - 1.0));
    let ga = args.needs[0].then(|| args.grad.iter().zip(&ab).map(|(g, d)| g * d).collect());
    let gb = args.needs[1].then(|| {
        let la = zip_broadcast(a, as_, b, bs, args.out_shape, |a, _| {
            if a > 0.0 {
                a.ln()
            } else {
                0.0
            }
        });
        args.grad
            .iter()
            .zip(args.out)
            .zip(&la)
            .map(|((g, y), l)| g * y * l)
            .collect()
    });
    smallvec![ga, gb]
}

fn max_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let (a, as_) = args.inputs[0];
    let (b, bs) = args.inputs[1];
    let pick_a = zip_broadcast(a, as_, b, bs, args.out_shape, |a, b| {
        if a >= b {
            1.0
        } else {
            0.0
        }
    });
    smallvec![
        args.needs[0].then(|| args.grad.iter().zip(&pick_a).map(|(g, p)| g * p).collect()),
        args.needs[1].then(|| args
            .grad
            .iter()
            .zip(&pick_a)
            .map(|(g, p)| g * (1.0 - p))
            .collect())
    ]
}

fn min_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let (a, as_) = args.inputs[0];
    let (b, bs) = args.inputs[1];
    let pick_a = zip_broadcast(a, as_, b, bs, args.out_shape, |a, b| {
        if a <= b {
            1.0
        } else {
            0.0
        }
    });
    smallvec![
        args.needs[0].then(|| args.grad.iter().zip(&pick_a).map(|(g, p)| g * p).collect()),
        args.needs[1].then(|| args
            .grad
            .iter()
            .zip(&pick_a)
            .map(|(g, p)| g * (1.0 - p))
            .collect())
    ]
}

fn where_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let (m, ms) = args.inputs[2];
    let pick = |take: bool| -> GradBuf {
        if args.grad.len() == 1 && m.len() == 1 {
            return smallvec![if (m[0] != 0.0) == take {
                args.grad[0]
            } else {
                0.0
            }];
        }
        GradBuf::from_vec(zip_broadcast(
            args.grad,
            args.out_shape,
            m,
            ms,
            args.out_shape,
            |g, m| if (m != 0.0) == take { g } else { 0.0 },
        ))
    };
    smallvec![
        args.needs[0].then(|| pick(true)),
        args.needs[1].then(|| pick(false)),
        None
    ]
}

fn no_grad_bw(_args: &BackwardArgs<'_>) -> InputGrads {
    smallvec![None, None, None]
}

impl Tensor {
    /// `self + other` with broadcasting.
    pub fn add(&self, other: &Tensor) -> Tensor {
        binary(self, other, "add", |a, b| a + b, add_bw)
    }
    /// `self - other` with broadcasting.
    pub fn sub(&self, other: &Tensor) -> Tensor {
        binary(self, other, "sub", |a, b| a - b, sub_bw)
    }
    /// `self * other` with broadcasting.
    pub fn mul(&self, other: &Tensor) -> Tensor {
        binary(self, other, "mul", |a, b| a * b, mul_bw)
    }
    /// `self / other` with broadcasting.
    pub fn div(&self, other: &Tensor) -> Tensor {
        binary(self, other, "div", |a, b| a / b, div_bw)
    }
    /// `self ^ other` elementwise with broadcasting (the gradient in the exponent uses `ln self`,
    /// taken as 0 where `self <= 0`).
    pub fn pow(&self, other: &Tensor) -> Tensor {
        binary(self, other, "pow", f64::powf, pow_bw)
    }
    /// `self ^ p` for a constant exponent.
    pub fn powf(&self, p: f64) -> Tensor {
        self.pow(&Tensor::scalar(p))
    }
    /// Elementwise maximum (the gradient goes to `self` on ties).
    pub fn maximum(&self, other: &Tensor) -> Tensor {
        binary(self, other, "maximum", f64::max, max_bw)
    }
    /// Elementwise minimum (the gradient goes to `self` on ties).
    pub fn minimum(&self, other: &Tensor) -> Tensor {
        binary(self, other, "minimum", f64::min, min_bw)
    }
    /// Mask `self > other` as 0.0/1.0 (a constant: no gradient).
    pub fn gt(&self, other: &Tensor) -> Tensor {
        binary(
            &self.detach(),
            &other.detach(),
            "gt",
            |a, b| f64::from(u8::from(a > b)),
            no_grad_bw,
        )
    }
    /// Mask `self >= other` as 0.0/1.0.
    pub fn ge(&self, other: &Tensor) -> Tensor {
        binary(
            &self.detach(),
            &other.detach(),
            "ge",
            |a, b| f64::from(u8::from(a >= b)),
            no_grad_bw,
        )
    }
    /// Mask `self < other` as 0.0/1.0.
    pub fn lt(&self, other: &Tensor) -> Tensor {
        other.gt(self)
    }
    /// Mask `self <= other` as 0.0/1.0.
    pub fn le(&self, other: &Tensor) -> Tensor {
        other.ge(self)
    }
    /// Mask `self == other` as 0.0/1.0.
    pub fn eq_mask(&self, other: &Tensor) -> Tensor {
        binary(
            &self.detach(),
            &other.detach(),
            "eq",
            |a, b| f64::from(u8::from(a == b)),
            no_grad_bw,
        )
    }
    /// `mask ? a : b` elementwise, where `mask` holds 0.0/1.0 (nonzero counts as true).
    /// Gradients flow to the branch that was chosen.
    /// All three broadcast together. The branch not taken never reaches the value or the
    /// gradient, so `where_(x.gt(0), x.ln(), 0)` is safe at `x = 0`.
    pub fn where_(mask: &Tensor, a: &Tensor, b: &Tensor) -> Tensor {
        if let Some(e) = mask.error().or(a.error()).or(b.error()) {
            return Tensor::poisoned(e.clone());
        }
        let m = mask.detach();
        if let (Data::Scalar(mv), Data::Scalar(av), Data::Scalar(bv)) = (&m.data, &a.data, &b.data)
        {
            if a.shape == b.shape && m.shape.len() <= a.shape.len() {
                let v = if *mv != 0.0 { *av } else { *bv };
                return record(
                    &[a, b, &m],
                    a.shape.clone(),
                    Data::Scalar(v),
                    where_bw,
                    Aux::None,
                );
            }
        }
        let shape = match broadcast_shapes(&m.shape, &a.shape)
            .and_then(|s| broadcast_shapes(&s, &b.shape))
        {
            Ok(s) => s,
            Err(_) => {
                return Tensor::poisoned(crate::Error::shape(
                    "where_",
                    format!(
                        "mask {:?}, a {:?} and b {:?} cannot be broadcast together",
                        m.shape(),
                        a.shape(),
                        b.shape()
                    ),
                ))
            }
        };
        let expanded = try_expand("where_", m.raw(), &m.shape, &shape).and_then(|mv| {
            let av = try_expand("where_", a.raw(), &a.shape, &shape)?;
            let bv = try_expand("where_", b.raw(), &b.shape, &shape)?;
            Ok((mv, av, bv))
        });
        let (mv, av, bv) = match expanded {
            Ok(x) => x,
            Err(e) => return Tensor::poisoned(e),
        };
        let v: Vec<f64> = mv
            .iter()
            .zip(av.iter().zip(&bv))
            .map(|(&m, (&x, &y))| if m != 0.0 { x } else { y })
            .collect();
        record(&[a, b, &m], shape, Data::from_vec(v), where_bw, Aux::None)
    }
    /// Applies `f` elementwise to the values, giving a constant (untracked) tensor.
    pub fn map_const(&self, f: impl Fn(f64) -> f64) -> Tensor {
        if self.error().is_some() {
            return self.clone();
        }
        let data = match &self.data {
            Data::Scalar(v) => Data::Scalar(f(*v)),
            d => Data::from_vec(d.as_slice().iter().map(|&v| f(v)).collect()),
        };
        Tensor::from_parts(self.shape.clone(), data)
    }
}

/// Defines a unary method `name` with value `f(x)` and gradient `df(x, y, g)`.
macro_rules! unary {
    ($(#[$doc:meta])* $name:ident, $bw:ident, |$x:ident| $f:expr, |$bx:ident, $by:ident, $bg:ident| $df:expr) => {
        fn $bw(args: &BackwardArgs<'_>) -> InputGrads {
            let xs = args.inputs[0].0;
            let g: GradBuf = if xs.len() == 1 {
                let ($bx, $by, $bg) = (xs[0], args.out[0], args.grad[0]);
                smallvec![if $bg == 0.0 { 0.0 } else { $df }]
            } else {
                // A zero incoming gradient stays zero even where the derivative is infinite
                // (e.g. `ln` at 0 in the branch that `where_` did not take).
                xs.iter()
                    .zip(args.out)
                    .zip(args.grad)
                    .map(|((&$bx, &$by), &$bg)| if $bg == 0.0 { 0.0 } else { $df })
                    .collect()
            };
            smallvec![Some(g)]
        }
        impl Tensor {
            $(#[$doc])*
            pub fn $name(&self) -> Tensor {
                if self.error().is_some() {
                    return self.clone();
                }
                let data = match &self.data {
                    Data::Scalar($x) => {
                        let $x = *$x;
                        Data::Scalar($f)
                    }
                    d => {
                        let mut v = d.as_slice().to_vec();
                        super::fastmath::map_inplace(&mut v, |$x| $f);
                        Data::from_vec(v)
                    }
                };
                record(&[self], self.shape.clone(), data, $bw, Aux::None)
            }
        }
    };
}

unary!(/// Negation.
    neg, neg_bw, |x| -x, |_x, _y, g| -g);
unary!(/// Exponential.
    exp, exp_bw, |x| super::fastmath::exp(x), |_x, y, g| g * y);
unary!(/// Natural logarithm (`-inf` at 0, NaN below).
    ln, ln_bw, |x| x.ln(), |x, _y, g| g / x);
unary!(/// `ln(1 + x)`, accurate near 0.
    ln_1p, ln_1p_bw, |x| x.ln_1p(), |x, _y, g| g / (1.0 + x));
unary!(/// `exp(x) - 1`, accurate near 0.
    exp_m1, exp_m1_bw, |x| x.exp_m1(), |_x, y, g| g * (y + 1.0));
unary!(/// Square root.
    sqrt, sqrt_bw, |x| x.sqrt(), |_x, y, g| g * 0.5 / y);
unary!(/// Absolute value (gradient 0 at 0).
    abs, abs_bw, |x| x.abs(), |x, _y, g| if x > 0.0 { g } else if x < 0.0 { -g } else { 0.0 });
unary!(/// `x * x`.
    square, square_bw, |x| x * x, |x, _y, g| 2.0 * g * x);
unary!(/// `1 / x`.
    recip, recip_bw, |x| 1.0 / x, |_x, y, g| -g * y * y);
unary!(/// Logistic sigmoid `1 / (1 + e^-x)`.
    sigmoid, sigmoid_bw, |x| super::fastmath::sigmoid(x), |_x, y, g| g * y * (1.0 - y));
unary!(/// `ln sigmoid(x) = -softplus(-x)`, stable for large |x|.
    log_sigmoid, log_sigmoid_bw, |x| -super::fastmath::softplus(-x), |x, _y, g| g * super::fastmath::sigmoid(-x));
unary!(/// `ln(1 + e^x)`, stable for large |x|.
    softplus, softplus_bw, |x| super::fastmath::softplus(x), |x, _y, g| g * super::fastmath::sigmoid(x));
unary!(/// Hyperbolic tangent.
    tanh, tanh_bw, |x| x.tanh(), |_x, y, g| g * (1.0 - y * y));
unary!(/// `max(x, 0)` (gradient 0 at 0).
    relu, relu_bw, |x| x.max(0.0), |x, _y, g| if x > 0.0 { g } else { 0.0 });
unary!(/// `ln Γ(x)`.
    lgamma, lgamma_bw, |x| lgamma(x), |x, _y, g| g * digamma(x));
unary!(/// The digamma function ψ(x) = d/dx ln Γ(x).
    digamma, digamma_bw, |x| digamma(x), |x, _y, g| g * trigamma(x));
unary!(/// The error function.
    erf, erf_bw, |x| erf(x), |x, _y, g| g * std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp());
unary!(/// Sine.
    sin, sin_bw, |x| x.sin(), |x, _y, g| g * x.cos());
unary!(/// Cosine.
    cos, cos_bw, |x| x.cos(), |x, _y, g| -g * x.sin());

impl Tensor {
    /// Natural logarithm (alias of [`Tensor::ln`], the name Pyro users know).
    pub fn log(&self) -> Tensor {
        self.ln()
    }
    /// `ln(1 + x)` (alias of [`Tensor::ln_1p`]).
    pub fn log1p(&self) -> Tensor {
        self.ln_1p()
    }
    /// `exp(x) - 1` (alias of [`Tensor::exp_m1`]).
    pub fn expm1(&self) -> Tensor {
        self.exp_m1()
    }
    /// `logit(p) = ln(p / (1 - p))`.
    pub fn logit(&self) -> Tensor {
        self.ln().sub(&self.neg().ln_1p())
    }
    /// Clamps values into `[lo, hi]`; the gradient is zero outside.
    pub fn clamp(&self, lo: f64, hi: f64) -> Tensor {
        self.maximum(&Tensor::scalar(lo))
            .minimum(&Tensor::scalar(hi))
    }
}

// ----- operators: every combination of Tensor, &Tensor and f64 ------------------------------

macro_rules! ops {
    ($Trait:ident, $method:ident, $impl:ident) => {
        impl $Trait<&Tensor> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$impl(self, rhs)
            }
        }
        impl $Trait<Tensor> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: Tensor) -> Tensor {
                Tensor::$impl(self, &rhs)
            }
        }
        impl $Trait<&Tensor> for Tensor {
            type Output = Tensor;
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$impl(&self, rhs)
            }
        }
        impl $Trait<Tensor> for Tensor {
            type Output = Tensor;
            fn $method(self, rhs: Tensor) -> Tensor {
                Tensor::$impl(&self, &rhs)
            }
        }
        impl $Trait<f64> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: f64) -> Tensor {
                Tensor::$impl(self, &Tensor::scalar(rhs))
            }
        }
        impl $Trait<f64> for Tensor {
            type Output = Tensor;
            fn $method(self, rhs: f64) -> Tensor {
                Tensor::$impl(&self, &Tensor::scalar(rhs))
            }
        }
        impl $Trait<&Tensor> for f64 {
            type Output = Tensor;
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$impl(&Tensor::scalar(self), rhs)
            }
        }
        impl $Trait<Tensor> for f64 {
            type Output = Tensor;
            fn $method(self, rhs: Tensor) -> Tensor {
                Tensor::$impl(&Tensor::scalar(self), &rhs)
            }
        }
    };
}

ops!(Add, add, add);
ops!(Sub, sub, sub);
ops!(Mul, mul, mul);
ops!(Div, div, div);

impl Neg for &Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(self)
    }
}

impl Neg for Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(&self)
    }
}
