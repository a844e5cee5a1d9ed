//! The error collector that every pass writes into (as `serde_derive`'s `Ctxt`): all errors of
//! one function are reported together, each spanned on the user's own tokens.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

/// One error, possibly only under some `#[cfg]`s (an error about a site that is compiled only
/// under `#[cfg(feature = "x")]` is reported only when that feature is on).
struct Entry {
    error: syn::Error,
    cfgs: Vec<TokenStream>,
}

/// The errors of one macro invocation.
#[derive(Default)]
pub struct Errors {
    entries: Vec<Entry>,
}

impl Errors {
    /// An error that holds whatever the configuration.
    pub fn push(&mut self, error: syn::Error) {
        self.entries.push(Entry {
            error,
            cfgs: Vec::new(),
        });
    }

    /// An error spanned on `tokens` (first to last token).
    pub fn spanned(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// An error at `span`.
    pub fn at(&mut self, span: proc_macro2::Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    /// An error that holds only where all of `cfgs` (the predicates of `#[cfg(..)]`s) do.
    pub fn push_under(&mut self, error: syn::Error, cfgs: &[TokenStream]) {
        self.entries.push(Entry {
            error,
            cfgs: cfgs.to_vec(),
        });
    }

    /// Whether some error holds whatever the configuration (the function cannot be expanded
    /// normally). Errors under `#[cfg]`s do not prevent the expansion.
    pub fn is_fatal(&self) -> bool {
        self.entries.iter().any(|e| e.cfgs.is_empty())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The errors as `compile_error!` items, each gated by its `#[cfg]`s.
    pub fn to_compile_errors(&self) -> TokenStream {
        self.entries
            .iter()
            .map(|e| {
                let err = e.error.to_compile_error();
                if e.cfgs.is_empty() {
                    err
                } else {
                    let cfgs = &e.cfgs;
                    quote!(#[cfg(all(#(#cfgs),*))] #err)
                }
            })
            .collect()
    }
}
