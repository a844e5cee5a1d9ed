//! What is emitted when the function cannot be expanded normally (a signature the macro cannot
//! use, a body with a syntax error): as thiserror does, the items that the rest of the crate
//! refers to are still emitted, so that the user sees the real error and no cascade of others
//! (uses of the model as a value, `Svi::new(model, guide, ..)`). The body is not run.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::Function;
use crate::attr::Attr;
use crate::expand::{guide_items, unit_struct};

pub fn expand(f: &Function, attr: &Attr) -> TokenStream {
    let krate = &attr.krate;
    let (name, cfgs) = (&f.name, &f.cfgs);
    let name_str = name.to_string();
    let lt = &f.lifetime;
    // Generic parameters cannot appear in `Args`: then the types are unknown.
    let (args_ty, output) = if f.generic {
        (quote!(()), quote!(()))
    } else {
        (f.args_type(), f.output.clone())
    };
    let unit = unit_struct(f, attr.which);
    let guide = guide_items(f, attr, &[], false);
    quote! {
        #unit

        #(#cfgs)*
        impl #krate::infer::Model for #name {
            type Args<#lt> = #args_ty;
            type Output = #output;
            const NAME: &'static str = #name_str;
            fn call<#lt>(
                &self,
                _: &mut #krate::handlers::Context,
                _: <Self as #krate::infer::Model>::Args<#lt>,
            ) -> <Self as #krate::infer::Model>::Output {
                ::core::unreachable!("the function did not compile")
            }
        }

        #guide
    }
}
