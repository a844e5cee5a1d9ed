//! `condition`, `substitute` and `do`: values given by name.

use std::collections::HashMap;

use super::{Message, Messenger};
use crate::tensor::Tensor;
use crate::trace::SiteKind;

type Values = HashMap<String, Tensor>;

fn collect<K: Into<String>>(data: impl IntoIterator<Item = (K, Tensor)>) -> Values {
    data.into_iter().map(|(k, v)| (k.into(), v)).collect()
}

/// Conditions sample sites on given values: they become observed.
#[derive(Debug, Default)]
pub struct ConditionMessenger {
    data: Values,
}

impl ConditionMessenger {
    /// Conditions on `data` (site name, value) pairs.
    pub fn new<K: Into<String>>(data: impl IntoIterator<Item = (K, Tensor)>) -> ConditionMessenger {
        ConditionMessenger {
            data: collect(data),
        }
    }
}

impl Messenger for ConditionMessenger {
    fn process_message(&mut self, msg: &mut Message) {
        if msg.kind != SiteKind::Sample {
            return;
        }
        if let Some(v) = self.data.get(msg.name.as_ref()) {
            msg.value = Some(v.clone());
            msg.is_observed = true;
        }
    }
}

/// Substitutes values at sample and param sites without making them observed (the site still
/// counts as latent): for plugging in posterior draws or fixed parameters.
#[derive(Debug, Default)]
pub struct SubstituteMessenger {
    data: Values,
}

impl SubstituteMessenger {
    /// Substitutes `data` (site name, value) pairs.
    pub fn new<K: Into<String>>(
        data: impl IntoIterator<Item = (K, Tensor)>,
    ) -> SubstituteMessenger {
        SubstituteMessenger {
            data: collect(data),
        }
    }
}

impl Messenger for SubstituteMessenger {
    fn process_message(&mut self, msg: &mut Message) {
        if let Some(v) = self.data.get(msg.name.as_ref()) {
            msg.value = Some(v.clone());
        }
    }
}

/// An intervention (`do`): the site takes the given value, which code downstream uses, and its
/// density is masked out, so that the fixed value says nothing about the site's causes.
#[derive(Debug, Default)]
pub struct DoMessenger {
    data: Values,
}

impl DoMessenger {
    /// Intervenes on `data` (site name, value) pairs.
    pub fn new<K: Into<String>>(data: impl IntoIterator<Item = (K, Tensor)>) -> DoMessenger {
        DoMessenger {
            data: collect(data),
        }
    }
}

impl Messenger for DoMessenger {
    fn process_message(&mut self, msg: &mut Message) {
        if msg.kind != SiteKind::Sample {
            return;
        }
        if let Some(v) = self.data.get(msg.name.as_ref()) {
            // The intervened site is cut from its distribution: a fixed value with no density.
            msg.value = Some(v.detach());
            msg.is_observed = true;
            msg.mask = Some(Tensor::scalar(0.0));
        }
    }
}
