//! Post-processes typify's models where a field attribute is needed that no schema can ask for:
//!
//! - `Option<Nullable<T>>` fields get `#[serde(default, deserialize_with = …)]`, so that a `null`
//!   read from JSON stays `Some(Nullable::Null)` instead of collapsing into `None`;
//! - list fields (`Vec<T>`) of the models get `#[serde(deserialize_with = …null_as_default)]`:
//!   servers send `null` for an empty list, and one such `null` must not fail a whole response;
//! - typify's builders (`types::X::builder()`, `types::builder::X`) are kept only for the types a
//!   request body is made of: nobody builds a response, and a builder per model was half of the
//!   generated code.

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

/// Applies the patches to the models. `builders`: the types whose typify builder stays.
pub fn models(
    tokens: proc_macro2::TokenStream,
    builders: &std::collections::BTreeSet<String>,
) -> Result<proc_macro2::TokenStream, String> {
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("typify output does not parse: {e}"))?;
    Patches.visit_file_mut(&mut file);
    prune_builders(&mut file.items, builders);
    Ok(file.into_token_stream())
}

/// The type an item is about: a struct's name, an impl's self type (or, for the conversion
/// impls between a model and its builder, the model), by its last path segment.
fn subject(item: &syn::Item) -> Option<String> {
    let last = |ty: &syn::Type| match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    };
    match item {
        syn::Item::Struct(s) => Some(s.ident.to_string()),
        syn::Item::Impl(i) => last(&i.self_ty),
        _ => None,
    }
}

/// Whether an impl holds nothing but `fn builder()`.
fn is_builder_fn_impl(item: &syn::Item) -> bool {
    match item {
        syn::Item::Impl(i) if i.trait_.is_none() => {
            !i.items.is_empty()
                && i.items
                    .iter()
                    .all(|m| matches!(m, syn::ImplItem::Fn(f) if f.sig.ident == "builder"))
        }
        _ => false,
    }
}

fn prune_builders(items: &mut Vec<syn::Item>, keep: &std::collections::BTreeSet<String>) {
    let kept = |item: &syn::Item| subject(item).is_none_or(|name| keep.contains(&name));
    // `impl X { pub fn builder() }` on the models.
    items.retain(|item| !is_builder_fn_impl(item) || kept(item));
    // `pub mod builder { struct X; impl X; impl TryFrom<X> for super::X; impl From<super::X> for X }`
    for item in items.iter_mut() {
        if let syn::Item::Mod(m) = item
            && m.ident == "builder"
            && let Some((_, content)) = &mut m.content
        {
            content.retain(kept);
        }
    }
}
