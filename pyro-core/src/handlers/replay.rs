//! `replay`: latent sample sites take their values from a recorded trace (the guide's, in SVI).

use super::{Message, Messenger};
use crate::trace::{SiteKind, Trace};

/// Replays the values of a trace at the latent sample sites it has.
#[derive(Debug)]
pub struct ReplayMessenger {
    trace: Trace,
}

impl ReplayMessenger {
    /// Replays `trace`.
    pub fn new(trace: Trace) -> ReplayMessenger {
        ReplayMessenger { trace }
    }

    /// The trace back.
    pub fn into_trace(self) -> Trace {
        self.trace
    }
}

impl Messenger for ReplayMessenger {
    fn process_message(&mut self, msg: &mut Message) {
        if msg.kind != SiteKind::Sample || msg.is_observed {
            return;
        }
        if let Some(site) = self.trace.get(&msg.name) {
            msg.value = Some(site.value.clone());
        }
    }
}
