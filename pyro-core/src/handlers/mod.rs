//! Effect handlers, after Pyro's messengers and NumPyro's compact handler core.
//!
//! Every `sample!` and `param!` statement becomes a [`Message`] that travels through the handler
//! stack of the [`Context`]: first inward (`process_message`, innermost handler first; a handler
//! may set `stop` to hide the message from the handlers outside it), then the default behaviour
//! (draw a value, read a parameter), then outward again (`postprocess_message`). A handler is any
//! type implementing [`Messenger`]; the built-in ones are `trace`, `replay`, `condition`,
//! `substitute`, `block`, `scale`, `mask`, `seed` and `do`.
//!
//! ```
//! use pyro_core::prelude::*;
//! use pyro_core::handlers::{Context, TraceMessenger, ConditionMessenger};
//!
//! let mut ctx = Context::new(0);
//! let cond = ConditionMessenger::new([("z", Tensor::from(0.5))]);
//! let ((), cond) = ctx.with_handler(cond, |ctx| {
//!     let ((), tr) = ctx.with_handler(TraceMessenger::new(), |ctx| {
//!         let z = ctx.sample("z", Normal::new(0.0, 1.0), None);
//!         assert_eq!(z.item().unwrap(), 0.5);
//!     });
//!     assert!(tr.trace().site("z").unwrap().is_observed);
//! });
//! # let _ = cond;
//! assert!(ctx.take_error().is_none());
//! ```

mod block;
mod condition;
mod context;
pub(crate) mod enumerate;
mod markov;
mod plate;
mod replay;
mod scale;
mod seed;
mod trace;
mod uncondition;

pub use block::BlockMessenger;
pub use condition::{ConditionMessenger, DoMessenger, SubstituteMessenger};
pub use context::{Context, StepStorage};
pub use enumerate::EnumMessenger;
pub use plate::{PlateOpts, MAX_PLATE_DIM};
pub use replay::ReplayMessenger;
pub use scale::{MaskMessenger, ScaleMessenger};
pub use seed::SeedMessenger;
pub use trace::TraceMessenger;
pub use uncondition::UnconditionMessenger;

use std::any::Any;

use crate::distributions::Distribution;
use crate::error::Error;
use crate::tensor::Tensor;
use crate::trace::{InferConfig, PlateStack, SiteKind, SiteName};

/// A site on its way through the handler stack.
#[derive(Debug)]
pub struct Message {
    /// Sample or param.
    pub kind: SiteKind,
    /// Site name.
    pub name: SiteName,
    /// The distribution (sample sites).
    pub dist: Option<Box<dyn Distribution>>,
    /// The value, once a handler or the default behaviour has set it.
    pub value: Option<Tensor>,
    /// Whether the value is observed.
    pub is_observed: bool,
    /// Log-density multiplier.
    pub scale: f64,
    /// Log-density mask.
    pub mask: Option<Tensor>,
    /// Enclosing plates, outermost first.
    pub plates: PlateStack,
    /// Inference settings.
    pub infer: InferConfig,
    /// Set by a handler to hide the message from the handlers outside it.
    pub stop: bool,
    /// An error raised by a handler; it becomes the run's error.
    pub error: Option<Error>,
}

/// An effect handler.
pub trait Messenger: AsAny {
    /// Called on the way in, innermost handler first.
    fn process_message(&mut self, msg: &mut Message) {
        let _ = msg;
    }
    /// Called on the way out, outermost handler (that saw the message) first.
    fn postprocess_message(&mut self, msg: &mut Message) {
        let _ = msg;
    }
    /// Called at the boundaries of a `markov` loop (see [`Context::markov`]).
    fn markov(&mut self, event: MarkovEvent) {
        let _ = event;
    }
}

/// A boundary of a `markov` loop, as handlers see it: enumeration uses it to sum out the states
/// that the loop has moved past and to recycle their tensor dimensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkovEvent {
    /// The loop starts; each step depends on at most `history` steps before it.
    Enter {
        /// How many previous steps a step may depend on.
        history: usize,
    },
    /// The next step starts.
    Step,
    /// The loop ends.
    Exit,
}

/// Lets the context hand a handler back to its owner after a run.
pub trait AsAny: Any {
    /// Upcast for downcasting.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

impl<T: Any> AsAny for T {
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}
