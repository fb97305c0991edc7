//! Post-processes typify's models where a field attribute is needed that no schema can ask for:
//!
//! - `Option<Nullable<T>>` fields get `#[serde(default, deserialize_with = …)]`, so that a `null`
//!   read from JSON stays `Some(Nullable::Null)` instead of collapsing into `None`;
//! - list fields (`Vec<T>`) of the models get `#[serde(deserialize_with = …null_as_default)]`:
//!   servers send `null` for an empty list, and one such `null` must not fail a whole response;
//! - typify's builders (`types::X::builder()`, `types::builder::X`) are kept only for the types a
//!   request body is made of: nobody builds a response, and a builder per model was half of the
//!   generated code;
//! - a model or builder with a secret field (a property with `format: password`, OpenAPI's mark
//!   for a value to hide: tokens, passwords, keys) gets a hand-made `Debug` that prints
//!   `"<redacted>"` for it instead of deriving one that would print the secret.

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

/// Applies the patches to the models. `builders`: the types whose typify builder stays;
/// `secrets`: the secret properties, as `(schema, property)` pairs.
pub fn models(
    tokens: proc_macro2::TokenStream,
    builders: &std::collections::BTreeSet<String>,
    secrets: &std::collections::BTreeSet<(String, String)>,
) -> Result<proc_macro2::TokenStream, String> {
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("typify output does not parse: {e}"))?;
    Patches.visit_file_mut(&mut file);
    prune_builders(&mut file.items, builders);
    let secrets = secrets
        .iter()
        .map(|(ty, field)| (loose_name(ty), loose_name(field)))
        .collect();
    redact(&mut file.items, &secrets);
    Ok(file.into_token_stream())
}

/// A name as compared across the spec and Rust: `accessToken`, `access_token` and
/// `AccessToken` are one name.
fn loose_name(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The wire name of a model's field (its `#[serde(rename)]`), else its Rust name.
fn wire_name(field: &syn::Field) -> String {
    for attr in &field.attrs {
        if !attr.path().is_ident("serde") {
            continue;
        }
        let mut renamed = None;
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let value: syn::LitStr = meta.value()?.parse()?;
                renamed = Some(value.value());
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
        if let Some(name) = renamed {
            return name;
        }
    }
    field
        .ident
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// Replaces the derived `Debug` of every struct with a secret field (here and in the `builder`
/// module) by one that prints `"<redacted>"` for those fields.
fn redact(items: &mut Vec<syn::Item>, secrets: &std::collections::BTreeSet<(String, String)>) {
    let mut impls: Vec<syn::Item> = Vec::new();
    for item in items.iter_mut() {
        match item {
            syn::Item::Mod(m) => {
                if let Some((_, content)) = &mut m.content {
                    redact(content, secrets);
                }
            }
            syn::Item::Struct(s) => {
                let syn::Fields::Named(fields) = &s.fields else {
                    continue;
                };
                let ty = loose_name(&s.ident.to_string());
                let secret =
                    |f: &syn::Field| secrets.contains(&(ty.clone(), loose_name(&wire_name(f))));
                if !fields.named.iter().any(secret) {
                    continue;
                }
                let entries = fields.named.iter().filter_map(|f| {
                    let ident = f.ident.as_ref()?;
                    let name = ident.to_string();
                    Some(if secret(f) {
                        quote::quote!(.field(#name, &"<redacted>"))
                    } else {
                        quote::quote!(.field(#name, &self.#ident))
                    })
                });
                let (ident, label) = (&s.ident, s.ident.to_string());
                impls.push(syn::parse_quote! {
                    impl ::std::fmt::Debug for #ident {
                        fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                            f.debug_struct(#label) #(#entries)* .finish()
                        }
                    }
                });
                drop_debug_derive(&mut s.attrs);
            }
            _ => {}
        }
    }
    items.extend(impls);
}

/// Takes `Debug` out of a `#[derive(..)]` list.
fn drop_debug_derive(attrs: &mut [syn::Attribute]) {
    type Paths = syn::punctuated::Punctuated<syn::Path, syn::Token![,]>;
    for attr in attrs.iter_mut().filter(|a| a.path().is_ident("derive")) {
        let Ok(paths) = attr.parse_args_with(Paths::parse_terminated) else {
            continue;
        };
        let kept = paths
            .into_iter()
            .filter(|p| p.segments.last().is_none_or(|s| s.ident != "Debug"));
        let kept: Vec<syn::Path> = kept.collect();
        *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
    }
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
