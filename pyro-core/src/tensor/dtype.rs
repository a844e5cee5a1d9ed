//! Single precision storage: data sets and network activations in `f32`, chosen by the user.
//!
//! A tensor's values are `f64` by default, the right choice for the small models of most
//! probabilistic programs. A large design matrix or a network's activations move through memory
//! at every step, and `f32` halves that traffic and doubles the SIMD width of a matrix product
//! (NumPyro and PyTorch compute there in `f32`). The kernels that matter read `f32` directly:
//! matrix products (data times `f64` parameters, accumulated in `f64`), the fused layers of
//! [`crate::nn`] (`f32` products through `gemm`). Every other operation sees the values widened
//! to `f64`, once: the widened copy is cached with the tensor, so correctness never depends on an
//! operation knowing about `f32`. Gradients are always `f64`.

use std::cell::OnceCell;
use std::rc::Rc;

use super::{numel, Data, Shape, Tensor};
use crate::error::{Error, Result};

/// The element type of a tensor's storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DType {
    /// 32-bit floats.
    F32,
    /// 64-bit floats (the default).
    #[default]
    F64,
}

/// `f32` values, with their `f64` widening computed on first use and shared by every clone.
pub(crate) struct F32Buf {
    pub(crate) values: Box<[f32]>,
    wide: OnceCell<Box<[f64]>>,
}

impl F32Buf {
    pub(crate) fn new(values: Box<[f32]>) -> F32Buf {
        F32Buf {
            values,
            wide: OnceCell::new(),
        }
    }

    /// The values widened to `f64` (computed once).
    pub(crate) fn wide(&self) -> &[f64] {
        self.wide
            .get_or_init(|| self.values.iter().map(|&v| f64::from(v)).collect())
    }
}

impl Tensor {
    /// A tensor stored in single precision, from values and a shape; errors if their sizes
    /// differ.
    ///
    /// ```
    /// use pyro_core::tensor::{DType, Tensor};
    /// let x = Tensor::from_f32(vec![1.5, 2.5], &[2]).unwrap();
    /// assert_eq!(x.dtype(), DType::F32);
    /// assert_eq!((&x * 2.0).to_vec().unwrap(), vec![3.0, 5.0]);
    /// ```
    pub fn from_f32(values: Vec<f32>, shape: &[usize]) -> Result<Tensor> {
        if values.len() != numel(shape) {
            return Err(Error::shape(
                "Tensor::from_f32",
                format!("{} values do not fill shape {:?}", values.len(), shape),
            ));
        }
        Ok(Tensor::from_parts(
            Shape::from_slice(shape),
            Data::F32(Rc::new(F32Buf::new(values.into_boxed_slice()))),
        ))
    }

    /// The element type of the storage.
    pub fn dtype(&self) -> DType {
        match self.data {
            Data::F32(_) => DType::F32,
            _ => DType::F64,
        }
    }

    /// The same values stored as `dtype` (rounded to the nearest `f32` when narrowing). A
    /// constant: conversion is for data; a tracked tensor comes back detached.
    ///
    /// ```
    /// use pyro_core::tensor::{DType, Tensor};
    /// let x = Tensor::from(vec![0.1, 0.2]).to_dtype(DType::F32);
    /// assert_eq!(x.values_f32().unwrap(), &[0.1f32, 0.2f32]);
    /// assert_eq!(x.to_dtype(DType::F64).dtype(), DType::F64);
    /// ```
    pub fn to_dtype(&self, dtype: DType) -> Tensor {
        if self.error().is_some() || self.dtype() == dtype {
            return self.detach();
        }
        match dtype {
            DType::F32 => {
                let v: Box<[f32]> = self.raw().iter().map(|&v| v as f32).collect();
                Tensor::from_parts(self.shape.clone(), Data::F32(Rc::new(F32Buf::new(v))))
            }
            DType::F64 => {
                Tensor::from_parts(self.shape.clone(), Data::from_vec(self.raw().to_vec()))
            }
        }
    }

    /// The `f32` values of a single-precision tensor (`None` for an `f64` one).
    pub fn values_f32(&self) -> Option<&[f32]> {
        match &self.data {
            Data::F32(b) => Some(&b.values),
            _ => None,
        }
    }
}
