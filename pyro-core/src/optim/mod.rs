//! Optimisers: [`Adam`], [`ClippedAdam`], [`Sgd`] (momentum, Nesterov), [`Adagrad`] and
//! [`RmsProp`], with the update rules of their PyTorch/Pyro namesakes.
//!
//! Every optimiser is an [`Optim`] over its `*Config`, and shares:
//! - per-parameter settings: [`Optim::with_per_param`] takes a closure from the parameter name to
//!   its config (called once per parameter, on its first update);
//! - learning-rate schedules: [`Optim::with_schedule`] ([`LrSchedule::Exponential`],
//!   [`LrSchedule::Step`]), counted in steps ([`Optimizer::begin_step`] calls);
//! - gradient clipping: [`Optim::with_clip`] by norm (per parameter) or by value;
//! - state that serialises to JSON for checkpoints ([`Optimizer::state`]).
//!
//! ```
//! use pyro_core::optim::{Adam, AdamConfig, LrSchedule};
//! let cfg = AdamConfig { lr: 0.01, ..Default::default() };
//! let adam = Adam::new(cfg)
//!     .with_per_param(move |name| {
//!         if name.starts_with("decoder") { AdamConfig { lr: 1e-4, ..cfg } } else { cfg }
//!     })
//!     .with_schedule(LrSchedule::Exponential { gamma: 0.999 });
//! assert!(Adam::try_new(AdamConfig { lr: -1.0, ..Default::default() }).is_err());
//! # let _ = adam;
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What [`crate::infer::Svi`] needs from an optimiser. Parameters are identified by their
/// position in the parameter store (stable for its life) and by name.
///
/// A step of [`crate::infer::Svi`] is all or nothing: it calls [`Optimizer::begin_step`], then
/// [`Optimizer::stage`] for every parameter on a scratch copy of its values, checks the new values
/// and [`Optimizer::staged_state_is_finite`], and then either commits ([`Optimizer::commit_step`])
/// or discards ([`Optimizer::rollback_step`]) the step. The defaults make `stage` an immediate
/// [`Optimizer::update`], which suits an optimiser without state.
pub trait Optimizer: Send {
    /// Updates the unconstrained `value` of parameter `index` from its gradient `grad`, and the
    /// optimiser's state with it (immediately: no commit needed).
    fn update(&mut self, index: usize, name: &str, value: &mut [f64], grad: &[f64]);
    /// Called once per step, before the updates of that step.
    fn begin_step(&mut self) {}
    /// Like [`Optimizer::update`], but the parameter's new optimiser state stays pending until
    /// [`Optimizer::commit_step`] (and is dropped by [`Optimizer::rollback_step`]).
    fn stage(&mut self, index: usize, name: &str, value: &mut [f64], grad: &[f64]) {
        self.update(index, name, value, grad);
    }
    /// Whether the pending state of parameter `index` is finite (a moment estimate can overflow
    /// while the parameter itself stays finite, e.g. Adam's second moment for a gradient above
    /// about 1.3e154).
    fn staged_state_is_finite(&self, index: usize) -> bool {
        let _ = index;
        true
    }
    /// Makes the pending state of this step the optimiser's state.
    fn commit_step(&mut self) {}
    /// Discards the pending state of this step and the step count that
    /// [`Optimizer::begin_step`] advanced: the optimiser is as before the step.
    fn rollback_step(&mut self) {}
    /// Checks, before any parameter changes, that parameter `index` can be updated (e.g. that its
    /// per-parameter config is valid). The default accepts every parameter.
    fn check_param(&mut self, index: usize, name: &str) -> Result<()> {
        let _ = (index, name);
        Ok(())
    }
    /// The optimiser's state, for checkpoints (`null` when it has none).
    fn state(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
    /// Restores a state produced by [`Optimizer::state`]; `null` resets it.
    fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
        let _ = state;
        Ok(())
    }
}

/// The state of one parameter: its update count and up to two buffers (moments, momentum, sums).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ParamState {
    /// Parameter name (checked on restore).
    pub name: String,
    /// Number of updates of this parameter.
    pub t: u64,
    /// First buffer (Adam's first moment, SGD/RMSprop momentum).
    #[serde(with = "crate::checkpoint::floats")]
    pub a: Vec<f64>,
    /// Second buffer (Adam's second moment, Adagrad's sum of squares, RMSprop's mean square).
    #[serde(with = "crate::checkpoint::floats")]
    pub b: Vec<f64>,
}

/// An update rule with its hyper-parameters.
pub trait Rule: Copy + Send + 'static {
    /// Optimiser name, used in errors and saved states.
    const NAME: &'static str;
    /// Checks the hyper-parameters, naming the optimiser and the field on error.
    fn validate(&self) -> Result<()>;
    /// Applies one update with learning-rate factor `lr_factor` (from the schedule).
    fn apply(&self, lr_factor: f64, st: &mut ParamState, value: &mut [f64], grad: &[f64]);
}

/// Learning-rate schedules, as a factor on each config's `lr` by step number `s` (1 for the first
/// step).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum LrSchedule {
    /// No change.
    #[default]
    Constant,
    /// `gamma^(s - 1)`.
    Exponential {
        /// Decay per step.
        gamma: f64,
    },
    /// `gamma^floor((s - 1) / step_size)`.
    Step {
        /// Steps between decays.
        step_size: u64,
        /// Decay factor.
        gamma: f64,
    },
}

impl LrSchedule {
    fn factor(&self, step: u64) -> f64 {
        let s = step.saturating_sub(1);
        match *self {
            LrSchedule::Constant => 1.0,
            LrSchedule::Exponential { gamma } => gamma.powf(s as f64),
            LrSchedule::Step { step_size, gamma } => gamma.powf((s / step_size.max(1)) as f64),
        }
    }

    fn validate(&self, opt: &str) -> Result<()> {
        let bad = match *self {
            LrSchedule::Constant => None,
            LrSchedule::Exponential { gamma } => (!(gamma > 0.0 && gamma.is_finite()))
                .then(|| format!("gamma must be positive, got {gamma}")),
            LrSchedule::Step { step_size, gamma } => {
                if step_size == 0 {
                    Some("step_size must be at least 1".to_string())
                } else {
                    (!(gamma > 0.0 && gamma.is_finite()))
                        .then(|| format!("gamma must be positive, got {gamma}"))
                }
            }
        };
        bad.map_or(Ok(()), |r| {
            Err(Error::Invalid(format!(
                "{opt}: learning-rate schedule: {r}"
            )))
        })
    }
}

/// Gradient clipping, applied to each parameter's gradient before the update rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Clip {
    /// No clipping.
    #[default]
    None,
    /// Rescale the gradient so that its Euclidean norm is at most this.
    Norm(f64),
    /// Clamp every entry into `[-v, v]`.
    Value(f64),
}

/// A per-parameter config function.
type PerParam<C> = Box<dyn Fn(&str) -> C + Send>;

/// An optimiser: an update rule `C` plus per-parameter configs, a schedule, clipping and state.
pub struct Optim<C: Rule> {
    cfg: C,
    per_param: Option<PerParam<C>>,
    resolved: Vec<Option<C>>,
    schedule: LrSchedule,
    clip: Clip,
    step: u64,
    states: Vec<Option<ParamState>>,
    /// The states computed by [`Optimizer::stage`] in this step, by position (kept between steps
    /// so that their buffers are reused: a warm step allocates nothing).
    pending: Vec<Option<ParamState>>,
    /// Positions staged in this step.
    staged: Vec<usize>,
    scratch: Vec<f64>,
}

impl<C: Rule> Optim<C> {
    /// An optimiser with `cfg` for every parameter. The config is not validated here (so that
    /// this stays infallible); use [`Optim::try_new`] to validate it. An invalid config is
    /// reported by the first step.
    pub fn new(cfg: C) -> Self {
        Optim {
            cfg,
            per_param: None,
            resolved: Vec::new(),
            schedule: LrSchedule::Constant,
            clip: Clip::None,
            step: 0,
            states: Vec::new(),
            pending: Vec::new(),
            staged: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// An optimiser with `cfg`, which is validated first.
    pub fn try_new(cfg: C) -> Result<Self> {
        cfg.validate()?;
        Ok(Self::new(cfg))
    }

    /// Per-parameter configs: `f(name)` gives the config of each parameter.
    pub fn with_per_param(mut self, f: impl Fn(&str) -> C + Send + 'static) -> Self {
        self.per_param = Some(Box::new(f));
        self.resolved.clear();
        self
    }

    /// A learning-rate schedule.
    pub fn with_schedule(mut self, schedule: LrSchedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Gradient clipping.
    pub fn with_clip(mut self, clip: Clip) -> Self {
        self.clip = clip;
        self
    }

    /// The default config.
    pub fn config(&self) -> &C {
        &self.cfg
    }

    /// Number of steps taken.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// The current learning-rate factor of the schedule.
    pub fn lr_factor(&self) -> f64 {
        self.schedule.factor(self.step.max(1))
    }

    fn config_for(&mut self, index: usize, name: &str) -> C {
        if self.resolved.len() <= index {
            self.resolved.resize(index + 1, None);
        }
        let per = &self.per_param;
        let cfg = self.cfg;
        *self.resolved[index].get_or_insert_with(|| per.as_ref().map_or(cfg, |f| f(name)))
    }
}

/// Whether an optimiser state holds only finite numbers (true for none).
fn finite_state(st: Option<&ParamState>) -> bool {
    st.is_none_or(|st| st.a.iter().chain(&st.b).all(|v| v.is_finite()))
}

impl<C: Rule> Optim<C> {
    /// Computes the update of parameter `index` into `value` and a pending state; false if the
    /// parameter is not updated (invalid config, mismatched lengths).
    fn stage_param(&mut self, index: usize, name: &str, value: &mut [f64], grad: &[f64]) -> bool {
        let cfg = self.config_for(index, name);
        if cfg.validate().is_err() || value.len() != grad.len() {
            return false;
        }
        if self.pending.len() <= index {
            self.pending.resize_with(index + 1, || None);
        }
        // The pending state starts as a copy of the committed one (`clone_from` reuses the
        // pending buffers), or as zeros for a new parameter or one whose shape changed.
        let current = self
            .states
            .get(index)
            .and_then(Option::as_ref)
            .filter(|st| st.a.len() == value.len() && st.name == name);
        let st = self.pending[index].get_or_insert_with(ParamState::default);
        match current {
            Some(cur) => {
                st.name.clone_from(&cur.name);
                st.t = cur.t;
                st.a.clone_from(&cur.a);
                st.b.clone_from(&cur.b);
            }
            None => {
                st.name.clear();
                st.name.push_str(name);
                st.t = 0;
                st.a.clear();
                st.a.resize(value.len(), 0.0);
                st.b.clear();
                st.b.resize(value.len(), 0.0);
            }
        }
        st.t += 1;
        let factor = self.schedule.factor(self.step.max(1));
        let g: &[f64] = match self.clip {
            Clip::None => grad,
            Clip::Value(v) => {
                self.scratch.clear();
                self.scratch.extend(grad.iter().map(|g| g.clamp(-v, v)));
                &self.scratch
            }
            Clip::Norm(m) => {
                let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
                if norm > m {
                    let s = m / norm;
                    self.scratch.clear();
                    self.scratch.extend(grad.iter().map(|g| g * s));
                    &self.scratch
                } else {
                    grad
                }
            }
        };
        cfg.apply(factor, st, value, g);
        if !self.staged.contains(&index) {
            self.staged.push(index);
        }
        true
    }

    /// Makes the pending state of `index` the committed one (swapping buffers, no copy).
    fn commit(&mut self, index: usize) {
        if self.states.len() <= index {
            self.states.resize_with(index + 1, || None);
        }
        if let Some(p) = self.pending.get_mut(index).filter(|p| p.is_some()) {
            std::mem::swap(&mut self.states[index], p);
        }
    }
}

impl<C: Rule> Optimizer for Optim<C> {
    fn begin_step(&mut self) {
        self.step += 1;
    }

    fn check_param(&mut self, index: usize, name: &str) -> Result<()> {
        self.schedule.validate(C::NAME)?;
        if let Clip::Norm(v) | Clip::Value(v) = self.clip {
            if v.is_nan() || v <= 0.0 {
                return Err(Error::Invalid(format!(
                    "{}: clipping threshold must be positive, got {v}",
                    C::NAME
                )));
            }
        }
        self.config_for(index, name)
            .validate()
            .map_err(|e| Error::Invalid(format!("parameter `{name}`: {e}")))
    }

    fn update(&mut self, index: usize, name: &str, value: &mut [f64], grad: &[f64]) {
        if self.stage_param(index, name, value, grad) {
            self.commit(index);
            self.staged.retain(|&k| k != index);
        }
    }

    fn stage(&mut self, index: usize, name: &str, value: &mut [f64], grad: &[f64]) {
        self.stage_param(index, name, value, grad);
    }

    fn staged_state_is_finite(&self, index: usize) -> bool {
        finite_state(self.pending.get(index).and_then(Option::as_ref))
    }

    fn commit_step(&mut self) {
        let mut staged = std::mem::take(&mut self.staged);
        for &i in &staged {
            self.commit(i);
        }
        staged.clear();
        self.staged = staged;
    }

    fn rollback_step(&mut self) {
        self.staged.clear();
        self.step = self.step.saturating_sub(1);
    }

    fn state(&self) -> serde_json::Value {
        serde_json::json!({
            "optimizer": C::NAME,
            "step": self.step,
            "params": self.states,
        })
    }

    fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
        if state.is_null() {
            self.step = 0;
            self.states.clear();
            return Ok(());
        }
        #[derive(Deserialize)]
        struct Saved {
            optimizer: String,
            step: u64,
            params: Vec<Option<ParamState>>,
        }
        let s: Saved = serde_json::from_value(state.clone())
            .map_err(|e| Error::Invalid(format!("{}: invalid saved state: {e}", C::NAME)))?;
        self.staged.clear();
        if s.optimizer != C::NAME {
            return Err(Error::Invalid(format!(
                "the saved state is of {}, not {}",
                s.optimizer,
                C::NAME
            )));
        }
        if let Some(p) = s.params.iter().flatten().find(|p| p.a.len() != p.b.len()) {
            return Err(Error::Invalid(format!(
                "{}: saved state of parameter `{}` has buffers of different sizes",
                C::NAME,
                p.name
            )));
        }
        self.step = s.step;
        self.states = s.params;
        Ok(())
    }
}

fn check(opt: &str, field: &str, ok: bool, v: impl std::fmt::Display, want: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{opt}: `{field}` must be {want}, got {v}"
        )))
    }
}

fn check_lr(opt: &str, lr: f64) -> Result<()> {
    check(
        opt,
        "lr",
        lr > 0.0 && lr.is_finite(),
        lr,
        "positive and finite",
    )
}

fn check_unit(opt: &str, field: &str, v: f64) -> Result<()> {
    check(opt, field, (0.0..1.0).contains(&v), v, "in [0, 1)")
}

fn check_nonneg(opt: &str, field: &str, v: f64) -> Result<()> {
    check(
        opt,
        field,
        v >= 0.0 && v.is_finite(),
        v,
        "nonnegative and finite",
    )
}

fn check_pos(opt: &str, field: &str, v: f64) -> Result<()> {
    check(
        opt,
        field,
        v > 0.0 && v.is_finite(),
        v,
        "positive and finite",
    )
}

// ----- Adam --------------------------------------------------------------------------------------

/// Adam's hyper-parameters (PyTorch's defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f64,
    /// Decay rates of the first and second moment estimates.
    pub betas: (f64, f64),
    /// Added to the denominator.
    pub eps: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

impl Rule for AdamConfig {
    const NAME: &'static str = "Adam";
    fn validate(&self) -> Result<()> {
        check_lr(Self::NAME, self.lr)?;
        check_unit(Self::NAME, "betas.0", self.betas.0)?;
        check_unit(Self::NAME, "betas.1", self.betas.1)?;
        check_pos(Self::NAME, "eps", self.eps)?;
        check_nonneg(Self::NAME, "weight_decay", self.weight_decay)
    }
    fn apply(&self, f: f64, st: &mut ParamState, value: &mut [f64], grad: &[f64]) {
        let (b1, b2) = self.betas;
        let t = st.t as i32;
        let bc1 = 1.0 - b1.powi(t);
        let sbc2 = (1.0 - b2.powi(t)).sqrt();
        let step = self.lr * f / bc1;
        let wd = self.weight_decay;
        for (((p, &g), m), v) in value.iter_mut().zip(grad).zip(&mut st.a).zip(&mut st.b) {
            let g = g + wd * *p;
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *p -= step * *m / (v.sqrt() / sbc2 + self.eps);
        }
    }
}

/// Adam (Kingma & Ba, 2015), as `torch.optim.Adam`.
pub type Adam = Optim<AdamConfig>;

// ----- ClippedAdam -------------------------------------------------------------------------------

/// Pyro's `ClippedAdam`: Adam with each gradient entry clamped to `[-clip_norm, clip_norm]` (as
/// Pyro's implementation does) and the learning rate multiplied by `lrd` after every update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClippedAdamConfig {
    /// Learning rate.
    pub lr: f64,
    /// Decay rates of the moment estimates.
    pub betas: (f64, f64),
    /// Added to the denominator.
    pub eps: f64,
    /// L2 penalty.
    pub weight_decay: f64,
    /// Gradient entries are clamped into `[-clip_norm, clip_norm]`.
    pub clip_norm: f64,
    /// Learning-rate decay per step: the `t`-th update uses `lr * lrd^(t - 1)`.
    pub lrd: f64,
}

impl Default for ClippedAdamConfig {
    fn default() -> Self {
        ClippedAdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            clip_norm: 10.0,
            lrd: 1.0,
        }
    }
}

impl Rule for ClippedAdamConfig {
    const NAME: &'static str = "ClippedAdam";
    fn validate(&self) -> Result<()> {
        check_lr(Self::NAME, self.lr)?;
        check_unit(Self::NAME, "betas.0", self.betas.0)?;
        check_unit(Self::NAME, "betas.1", self.betas.1)?;
        check_pos(Self::NAME, "eps", self.eps)?;
        check_nonneg(Self::NAME, "weight_decay", self.weight_decay)?;
        check_pos(Self::NAME, "clip_norm", self.clip_norm)?;
        check(
            Self::NAME,
            "lrd",
            self.lrd > 0.0 && self.lrd <= 1.0,
            self.lrd,
            "in (0, 1]",
        )
    }
    fn apply(&self, f: f64, st: &mut ParamState, value: &mut [f64], grad: &[f64]) {
        let (b1, b2) = self.betas;
        let t = st.t as i32;
        let lr = self.lr * f * self.lrd.powi(t - 1);
        let step = lr * (1.0 - b2.powi(t)).sqrt() / (1.0 - b1.powi(t));
        let c = self.clip_norm;
        for (((p, &g), m), v) in value.iter_mut().zip(grad).zip(&mut st.a).zip(&mut st.b) {
            let g = g.clamp(-c, c) + self.weight_decay * *p;
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *p -= step * *m / (v.sqrt() + self.eps);
        }
    }
}

/// Pyro's ClippedAdam.
pub type ClippedAdam = Optim<ClippedAdamConfig>;

// ----- SGD ---------------------------------------------------------------------------------------

/// SGD's hyper-parameters, as `torch.optim.SGD`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate.
    pub lr: f64,
    /// Momentum factor (0: plain SGD).
    pub momentum: f64,
    /// Dampening of the momentum.
    pub dampening: f64,
    /// L2 penalty.
    pub weight_decay: f64,
    /// Nesterov momentum (needs `momentum > 0` and `dampening == 0`).
    pub nesterov: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 1e-2,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }
}

impl Rule for SgdConfig {
    const NAME: &'static str = "Sgd";
    fn validate(&self) -> Result<()> {
        check_lr(Self::NAME, self.lr)?;
        check_unit(Self::NAME, "momentum", self.momentum)?;
        check(
            Self::NAME,
            "dampening",
            (0.0..=1.0).contains(&self.dampening),
            self.dampening,
            "in [0, 1]",
        )?;
        check_nonneg(Self::NAME, "weight_decay", self.weight_decay)?;
        check(
            Self::NAME,
            "nesterov",
            !self.nesterov || (self.momentum > 0.0 && self.dampening == 0.0),
            self.nesterov,
            "false unless momentum > 0 and dampening == 0",
        )
    }
    fn apply(&self, f: f64, st: &mut ParamState, value: &mut [f64], grad: &[f64]) {
        let lr = self.lr * f;
        let mu = self.momentum;
        for ((p, &g), buf) in value.iter_mut().zip(grad).zip(&mut st.a) {
            let mut d = g + self.weight_decay * *p;
            if mu != 0.0 {
                *buf = if st.t == 1 {
                    d
                } else {
                    mu * *buf + (1.0 - self.dampening) * d
                };
                d = if self.nesterov { d + mu * *buf } else { *buf };
            }
            *p -= lr * d;
        }
    }
}

/// Stochastic gradient descent with optional (Nesterov) momentum.
pub type Sgd = Optim<SgdConfig>;

// ----- Adagrad -----------------------------------------------------------------------------------

/// Adagrad's hyper-parameters, as `torch.optim.Adagrad`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdagradConfig {
    /// Learning rate.
    pub lr: f64,
    /// The `t`-th update uses `lr / (1 + (t - 1) lr_decay)`.
    pub lr_decay: f64,
    /// L2 penalty.
    pub weight_decay: f64,
    /// Added to the denominator.
    pub eps: f64,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            eps: 1e-10,
        }
    }
}

impl Rule for AdagradConfig {
    const NAME: &'static str = "Adagrad";
    fn validate(&self) -> Result<()> {
        check_lr(Self::NAME, self.lr)?;
        check_nonneg(Self::NAME, "lr_decay", self.lr_decay)?;
        check_nonneg(Self::NAME, "weight_decay", self.weight_decay)?;
        check_pos(Self::NAME, "eps", self.eps)
    }
    fn apply(&self, f: f64, st: &mut ParamState, value: &mut [f64], grad: &[f64]) {
        let clr = self.lr * f / (1.0 + (st.t - 1) as f64 * self.lr_decay);
        for ((p, &g), s) in value.iter_mut().zip(grad).zip(&mut st.b) {
            let g = g + self.weight_decay * *p;
            *s += g * g;
            *p -= clr * g / (s.sqrt() + self.eps);
        }
    }
}

/// Adagrad (Duchi et al., 2011).
pub type Adagrad = Optim<AdagradConfig>;

// ----- RMSprop -----------------------------------------------------------------------------------

/// RMSprop's hyper-parameters, as `torch.optim.RMSprop` (not centred).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsPropConfig {
    /// Learning rate.
    pub lr: f64,
    /// Smoothing constant of the mean square.
    pub alpha: f64,
    /// Added to the denominator.
    pub eps: f64,
    /// L2 penalty.
    pub weight_decay: f64,
    /// Momentum factor.
    pub momentum: f64,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
        }
    }
}

impl Rule for RmsPropConfig {
    const NAME: &'static str = "RmsProp";
    fn validate(&self) -> Result<()> {
        check_lr(Self::NAME, self.lr)?;
        check_unit(Self::NAME, "alpha", self.alpha)?;
        check_pos(Self::NAME, "eps", self.eps)?;
        check_nonneg(Self::NAME, "weight_decay", self.weight_decay)?;
        check_unit(Self::NAME, "momentum", self.momentum)
    }
    fn apply(&self, f: f64, st: &mut ParamState, value: &mut [f64], grad: &[f64]) {
        let lr = self.lr * f;
        let a = self.alpha;
        for (((p, &g), buf), v) in value.iter_mut().zip(grad).zip(&mut st.a).zip(&mut st.b) {
            let g = g + self.weight_decay * *p;
            *v = a * *v + (1.0 - a) * g * g;
            let d = g / (v.sqrt() + self.eps);
            if self.momentum > 0.0 {
                *buf = self.momentum * *buf + d;
                *p -= lr * *buf;
            } else {
                *p -= lr * d;
            }
        }
    }
}

/// RMSprop (Hinton).
pub type RmsProp = Optim<RmsPropConfig>;
