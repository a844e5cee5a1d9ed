//! `block`: hides sites from the handlers outside it.

use super::{Message, Messenger};

/// Hides the sites for which the predicate is true (all sites by default).
pub struct BlockMessenger {
    hide: Box<dyn Fn(&Message) -> bool>,
}

impl std::fmt::Debug for BlockMessenger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlockMessenger")
    }
}

impl BlockMessenger {
    /// Hides every site.
    pub fn all() -> BlockMessenger {
        BlockMessenger {
            hide: Box::new(|_| true),
        }
    }

    /// Hides the sites named in `names`.
    pub fn hide<S: Into<String>>(names: impl IntoIterator<Item = S>) -> BlockMessenger {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        BlockMessenger {
            hide: Box::new(move |m| names.iter().any(|n| n == m.name.as_ref())),
        }
    }

    /// Exposes only the sites named in `names`.
    pub fn expose<S: Into<String>>(names: impl IntoIterator<Item = S>) -> BlockMessenger {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        BlockMessenger {
            hide: Box::new(move |m| !names.iter().any(|n| n == m.name.as_ref())),
        }
    }

    /// Hides the sites for which `f` is true.
    pub fn hide_fn(f: impl Fn(&Message) -> bool + 'static) -> BlockMessenger {
        BlockMessenger { hide: Box::new(f) }
    }
}

impl Messenger for BlockMessenger {
    fn process_message(&mut self, msg: &mut Message) {
        if (self.hide)(msg) {
            msg.stop = true;
        }
    }
}
