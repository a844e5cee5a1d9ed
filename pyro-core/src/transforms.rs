//! Placeholder until the transforms work lands: identity and exp only.
#![allow(missing_docs)]
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

pub trait Transform {
    fn forward(&self, x: &Tensor) -> Tensor;
    fn inverse(&self, y: &Tensor) -> Tensor;
}
pub enum Bijector {
    Identity,
    Exp,
    Sigmoid,
}
impl Transform for Bijector {
    fn forward(&self, x: &Tensor) -> Tensor {
        match self {
            Bijector::Identity => x.clone(),
            Bijector::Exp => x.exp(),
            Bijector::Sigmoid => x.sigmoid(),
        }
    }
    fn inverse(&self, y: &Tensor) -> Tensor {
        match self {
            Bijector::Identity => y.clone(),
            Bijector::Exp => y.ln(),
            Bijector::Sigmoid => y.logit(),
        }
    }
}
pub fn biject_to(c: &Constraint) -> Result<Bijector> {
    match c {
        Constraint::Real | Constraint::RealVector => Ok(Bijector::Identity),
        Constraint::Positive => Ok(Bijector::Exp),
        Constraint::UnitInterval => Ok(Bijector::Sigmoid),
        _ => Err(Error::Invalid(format!("no bijection to {c:?} yet"))),
    }
}
