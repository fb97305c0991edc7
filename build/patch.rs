//! Post-processes typify's models where a field attribute is needed that no schema can ask for:
//!
//! - `Option<Nullable<T>>` fields get `#[serde(default, deserialize_with = …)]`, so that a `null`
//!   read from JSON stays `Some(Nullable::Null)` instead of collapsing into `None`;
//! - list fields (`Vec<T>`) of the models get `#[serde(deserialize_with = …null_as_default)]`:
//!   servers send `null` for an empty list, and one such `null` must not fail a whole response.

use quote::ToTokens;
use syn::visit_mut::VisitMut;

struct Patches;

impl VisitMut for Patches {
    fn visit_item_struct_mut(&mut self, item: &mut syn::ItemStruct) {
        // Only serde models: typify's builders are plain structs whose fields must stay bare.
        if derives_deserialize(&item.attrs)
            && let syn::Fields::Named(fields) = &mut item.fields
        {
            for field in fields.named.iter_mut() {
                patch_field(field);
            }
        }
        syn::visit_mut::visit_item_struct_mut(self, item);
    }
}

fn derives_deserialize(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("derive") && a.to_token_stream().to_string().contains("Deserialize")
    })
}

fn patch_field(field: &mut syn::Field) {
    let ty = field.ty.to_token_stream().to_string().replace(' ', "");
    let has_deserialize_with = field
        .attrs
        .iter()
        .any(|a| a.to_token_stream().to_string().contains("deserialize_with"));
    if has_deserialize_with {
        return;
    }
    if ty.starts_with("::std::option::Option<crate::runtime::nullable::Nullable<") {
        field.attrs.push(syn::parse_quote!(
            #[serde(default, deserialize_with = "crate::runtime::nullable::deserialize_present")]
        ));
    } else if ty.starts_with("::std::vec::Vec<") {
        field.attrs.push(syn::parse_quote!(
            #[serde(deserialize_with = "crate::runtime::loose::null_as_default")]
        ));
    }
}

/// Applies the patches to the models.
pub fn models(tokens: proc_macro2::TokenStream) -> Result<proc_macro2::TokenStream, String> {
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("typify output does not parse: {e}"))?;
    Patches.visit_file_mut(&mut file);
    Ok(file.into_token_stream())
}
