//! `trace`: records every site that reaches it.

use super::{Message, Messenger};
use crate::trace::{Site, Trace};

/// Records the sites of a run into a [`Trace`].
#[derive(Debug, Default)]
pub struct TraceMessenger {
    trace: Trace,
}

impl TraceMessenger {
    /// A handler with an empty trace.
    pub fn new() -> TraceMessenger {
        TraceMessenger::default()
    }

    /// A handler that records into `trace` after clearing it (reusing its allocations).
    pub fn with_trace(mut trace: Trace) -> TraceMessenger {
        trace.clear();
        TraceMessenger { trace }
    }

    /// The trace recorded so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The recorded trace.
    pub fn into_trace(self) -> Trace {
        self.trace
    }
}

impl Messenger for TraceMessenger {
    fn postprocess_message(&mut self, msg: &mut Message) {
        let Some(value) = msg.value.clone() else {
            return;
        };
        if msg.error.is_some() {
            return;
        }
        let site = Site {
            name: msg.name.clone(),
            kind: msg.kind,
            dist: msg
                .dist
                .as_ref()
                .map(|d| d.clone_pooled(self.trace.pool_mut())),
            value,
            is_observed: msg.is_observed,
            scale: msg.scale,
            mask: msg.mask.clone(),
            plates: msg.plates.clone(),
            infer: msg.infer.clone(),
        };
        if let Err(e) = self.trace.add(site) {
            msg.error = Some(e);
        }
    }
}
