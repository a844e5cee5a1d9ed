//! Neural modules in models and guides: Pyro's `pyro.module("decoder", net)`.
//!
//! A [`Module`] is a description of a network (its layer sizes, its activations) that holds no
//! weights. It declares its parameters ([`Module::parameters`]: a name relative to the module, a
//! shape and an initial value) and computes its forward pass from weights it is handed
//! ([`Module::forward`]). Binding a module under a name (`module!("decoder", &vae.decoder)` in a
//! `#[model]` or `#[guide]`, [`bind`] in a model written by hand) reads every parameter through
//! the context as `param!` does, under `decoder.*` (created on first sight from the declared
//! initial value), and returns a [`Bound`] module whose [`Bound::forward`] records on the tape.
//! So optimisers, checkpoints, handlers (`block`, `substitute`, traces) and `Predictive` see a
//! network's weights like any other parameter.
//!
//! Reading all weights when the module is bound, not lazily in `forward`, is what lets the bound
//! module be used between `sample!` statements without holding the context: the same order as
//! Pyro, where `pyro.module` registers the parameters before the network runs.
//!
//! A stored weight whose shape differs from the one the module declares (another network
//! registered under the same name, a checkpoint of another architecture) is an error naming the
//! parameter, checked on every binding (a shape comparison, no initialisation).
//!
//! A network of several parts implements [`Module`] by naming its parts:
//!
//! ```
//! use pyro_core::nn::{Activation, Linear, Module, Parameters, Weights};
//! use pyro_core::tensor::Tensor;
//!
//! /// `x -> softplus(fc1 x) -> (fc21 h, exp(fc22 h))`: the VAE tutorial's encoder.
//! struct Encoder {
//!     fc1: Linear,
//!     fc21: Linear,
//!     fc22: Linear,
//! }
//!
//! impl Module for Encoder {
//!     type Output = (Tensor, Tensor);
//!     fn parameters(&self, p: &mut Parameters<'_>) {
//!         p.module("fc1", &self.fc1);
//!         p.module("fc21", &self.fc21);
//!         p.module("fc22", &self.fc22);
//!     }
//!     fn forward(&self, w: &Weights<'_>, x: &Tensor) -> (Tensor, Tensor) {
//!         let h = self.fc1.forward(&w.module("fc1"), x);
//!         (self.fc21.forward(&w.module("fc21"), &h), self.fc22.forward(&w.module("fc22"), &h))
//!     }
//! }
//!
//! let encoder = Encoder {
//!     fc1: Linear::new(4, 8).activation(Activation::Softplus),
//!     fc21: Linear::new(8, 2),
//!     fc22: Linear::new(8, 2).activation(Activation::Exp),
//! };
//! let mut ctx = pyro_core::handlers::Context::new(0);
//! let bound = pyro_core::nn::bind(&mut ctx, "encoder", &encoder);
//! let (loc, scale) = bound.forward(&Tensor::zeros(&[3, 4]));
//! assert_eq!((loc.shape(), scale.shape()), (&[3, 2][..], &[3, 2][..]));
//! assert_eq!(ctx.params().get("encoder.fc22.bias").unwrap().shape(), &[2]);
//! ```

use crate::constraints;
use crate::error::{Error, Result};
use crate::handlers::Context;
use crate::params::ParamStore;
use crate::rng::{rng_from_seed, Rng};
use crate::tensor::Tensor;
use crate::trace::SiteName;

/// A neural network whose weights live in the parameter store (Pyro's `nn.Module` registered
/// with `pyro.module`): it declares its parameters and computes its forward pass from them.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a neural module",
    label = "not a neural module",
    note = "a neural network implements `pyro::nn::Module` (`Linear`, `Mlp`, or a type of yours that declares its parameters and its forward pass); `module!(name, &net)` binds one"
)]
pub trait Module {
    /// What the forward pass returns: a `Tensor`, or a tuple of them for a network with several
    /// heads.
    type Output;

    /// Declares each parameter with its name relative to the module (`"weight"`, or a
    /// sub-module's through [`Parameters::module`]), its shape and its initial value.
    fn parameters(&self, p: &mut Parameters<'_>);

    /// The forward pass, reading the declared parameters from `w` by their relative names.
    fn forward(&self, w: &Weights<'_>, x: &Tensor) -> Self::Output;
}

/// What a declared parameter becomes: called with the parameter's full name, its declared shape
/// and its initialiser.
type Sink<'a> = dyn FnMut(String, &[usize], &mut dyn FnMut(&mut Rng) -> Tensor) + 'a;

/// The declarations of a module's parameters ([`Module::parameters`]).
pub struct Parameters<'a> {
    /// The full name of the current (sub-)module, with a trailing `.`.
    prefix: String,
    sink: &'a mut Sink<'a>,
}

impl Parameters<'_> {
    /// Declares parameter `name` (relative to the module) of the given shape. `init` draws its
    /// initial value from a generator seeded by the parameter's full name, so that a network's
    /// initialisation is reproducible and independent of the model's random draws; it is called
    /// only when the parameter is not yet in the store.
    pub fn param(&mut self, name: &str, shape: &[usize], init: impl FnOnce(&mut Rng) -> Tensor) {
        let full = format!("{}{name}", self.prefix);
        let mut init = Some(init);
        let mut once = |rng: &mut Rng| match init.take() {
            Some(f) => f(rng),
            None => Tensor::poisoned(Error::Invalid(
                "a module's initialiser was called twice".into(),
            )),
        };
        (self.sink)(full, shape, &mut once);
    }

    /// Declares the parameters of sub-module `module` under `name` (`fc1` gives `fc1.weight`).
    pub fn module<M: Module + ?Sized>(&mut self, name: &str, module: &M) {
        let len = self.prefix.len();
        self.prefix.push_str(name);
        self.prefix.push('.');
        module.parameters(self);
        self.prefix.truncate(len);
    }
}

/// The weights of a bound module, or of one of its sub-modules ([`Weights::module`]), read by
/// their names relative to it.
#[derive(Clone, Debug)]
pub struct Weights<'a> {
    entries: &'a [(String, Tensor)],
    /// The full name of this (sub-)module, with a trailing `.`.
    prefix: String,
}

impl<'a> Weights<'a> {
    /// Parameter `name` of this module, or a tensor carrying an error that names it when the
    /// module did not declare it.
    pub fn get(&self, name: &str) -> Tensor {
        let found = self.entries.iter().find(|(full, _)| {
            full.strip_prefix(self.prefix.as_str())
                .is_some_and(|rest| rest == name)
        });
        match found {
            Some((_, t)) => t.clone(),
            None => Tensor::poisoned(Error::Invalid(format!(
                "parameter `{}{name}` is read by its module's `forward` but not declared by its `parameters`",
                self.prefix
            ))),
        }
    }

    /// The weights of sub-module `name`.
    pub fn module(&self, name: &str) -> Weights<'a> {
        Weights {
            entries: self.entries,
            prefix: format!("{}{name}.", self.prefix),
        }
    }
}

/// A module bound to its weights under a name: what `module!` returns. [`Bound::forward`] runs
/// the network on the weights read when it was bound (tape leaves inside inference, so the
/// forward pass is differentiated with the rest of the model).
#[derive(Clone, Debug)]
pub struct Bound<'m, M: ?Sized> {
    module: &'m M,
    /// `name.` of the binding.
    prefix: String,
    /// Full parameter names and their values, in the order of declaration.
    entries: Vec<(String, Tensor)>,
}

impl<'m, M: Module + ?Sized> Bound<'m, M> {
    /// The forward pass.
    pub fn forward(&self, x: &Tensor) -> M::Output {
        self.module.forward(&self.weights(), x)
    }

    /// The weights, by their names relative to the module.
    pub fn weights(&self) -> Weights<'_> {
        Weights {
            entries: &self.entries,
            prefix: self.prefix.clone(),
        }
    }

    /// The module.
    pub fn module(&self) -> &'m M {
        self.module
    }

    /// The full names of the parameters (`decoder.0.weight`, ...), in the order of declaration.
    pub fn param_names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// The module bound to trained weights in `params` under `name`, outside inference (no
    /// tape): for evaluation, reconstructions and samples after training. Errors name a
    /// parameter that is missing or has another shape than the module declares.
    pub fn from_store(params: &ParamStore, name: &str, module: &'m M) -> Result<Bound<'m, M>> {
        let mut entries = Vec::new();
        let mut error = None;
        {
            let mut sink =
                |full: String, shape: &[usize], _: &mut dyn FnMut(&mut Rng) -> Tensor| {
                    if error.is_some() {
                        return;
                    }
                    match params.get(&full).and_then(|v| check_shape(&full, shape, v)) {
                        Ok(v) => entries.push((full, v.detach())),
                        Err(e) => error = Some(e),
                    }
                };
            module.parameters(&mut Parameters {
                prefix: format!("{name}."),
                sink: &mut sink,
            });
        }
        match error {
            Some(e) => Err(e),
            None => Ok(Bound {
                module,
                prefix: format!("{name}."),
                entries,
            }),
        }
    }
}

/// Binds `module` under `name` in a model or guide: reads (and on first sight creates) each of
/// its parameters through [`Context::param`] as `name.<relative name>`. What `module!` does; a
/// model written by hand calls it directly. A parameter whose stored shape differs from the
/// declared one is recorded as the run's error (naming the parameter) and poisons the forward
/// pass.
pub fn bind<'m, M: Module + ?Sized>(
    ctx: &mut Context,
    name: impl Into<SiteName>,
    module: &'m M,
) -> Bound<'m, M> {
    let prefix = format!("{}.", name.into());
    let mut entries = Vec::new();
    {
        let mut sink = |full: String, shape: &[usize], init: &mut dyn FnMut(&mut Rng) -> Tensor| {
            let seed = name_seed(&full);
            let value = ctx.param(
                full.clone(),
                || init(&mut rng_from_seed(seed)),
                constraints::real(),
            );
            let value = match value.error() {
                Some(_) => value,
                None => match check_shape(&full, shape, value) {
                    Ok(v) => v,
                    Err(e) => ctx.fail(e),
                },
            };
            entries.push((full, value));
        };
        module.parameters(&mut Parameters {
            prefix: prefix.clone(),
            sink: &mut sink,
        });
    }
    Bound {
        module,
        prefix,
        entries,
    }
}

/// The value, or an error naming the parameter when its shape is not the declared one.
fn check_shape(name: &str, declared: &[usize], value: Tensor) -> Result<Tensor> {
    if value.shape() == declared {
        return Ok(value);
    }
    Err(Error::shape(
        format!("parameter `{name}`"),
        format!(
            "stored shape {:?} differs from the shape {declared:?} its module declares",
            value.shape()
        ),
    ))
}

/// FNV-1a of the parameter's full name: each parameter gets its own initialisation stream.
pub(crate) fn name_seed(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
