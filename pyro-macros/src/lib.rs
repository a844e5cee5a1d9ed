//! Procedural macros of pyro-rs (being written; these placeholders pass items through).
use proc_macro::TokenStream;

/// Marks a model.
#[proc_macro_attribute]
pub fn model(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}
/// Marks a guide.
#[proc_macro_attribute]
pub fn guide(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}
/// A sample site.
#[proc_macro]
pub fn sample(_input: TokenStream) -> TokenStream {
    "compile_error!(\"`sample!` can only be used inside a #[model] or #[guide] function\")"
        .parse()
        .unwrap()
}
/// A param site.
#[proc_macro]
pub fn param(_input: TokenStream) -> TokenStream {
    "compile_error!(\"`param!` can only be used inside a #[model] or #[guide] function\")"
        .parse()
        .unwrap()
}
/// A sub-model call.
#[proc_macro]
pub fn call(_input: TokenStream) -> TokenStream {
    "compile_error!(\"`call!` can only be used inside a #[model] or #[guide] function\")"
        .parse()
        .unwrap()
}
/// Internal.
#[proc_macro]
pub fn check_guide(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
