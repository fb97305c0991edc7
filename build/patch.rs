//! Post-processes typify's models where a field attribute is needed that no schema can ask for:
//! `Option<Nullable<T>>` fields get `#[serde(default, deserialize_with = …)]`, so that a `null`
//! read from JSON stays `Some(Nullable::Null)` instead of collapsing into `None`.

use quote::ToTokens;
use syn::visit_mut::VisitMut;

struct NullableFields;

impl VisitMut for NullableFields {
    fn visit_field_mut(&mut self, field: &mut syn::Field) {
        let ty = field.ty.to_token_stream().to_string().replace(' ', "");
        if ty.starts_with("::std::option::Option<crate::runtime::nullable::Nullable<") {
            field.attrs.push(syn::parse_quote!(
                #[serde(default, deserialize_with = "crate::runtime::nullable::deserialize_present")]
            ));
        }
        syn::visit_mut::visit_field_mut(self, field);
    }
}

/// Applies the patches to the models.
pub fn models(tokens: proc_macro2::TokenStream) -> Result<proc_macro2::TokenStream, String> {
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("typify output does not parse: {e}"))?;
    NullableFields.visit_file_mut(&mut file);
    Ok(file.into_token_stream())
}
