//! The method names spec names may not become (`model::Reserved`), derived from the code that
//! has them rather than listed by hand, so a method added to the request builder or to the
//! generated `Client` is protected the moment it exists:
//!
//! - the request builder: every method of every `impl … Call<…>` block in the runtime's
//!   [`SOURCES`] (inherent and trait impls: `send`, `send_with_response`, `paginate`, `open`,
//!   `accepted`, `into_future`, `fmt`, and the private ones two impls may not share), every
//!   method of a trait those impls implement that is defined there (`RequestOptions`: `timeout`,
//!   `header`, `options`, …), and what `Call` derives; plus the setters the generator itself
//!   adds to every builder (`body`), read from its output for a small spec. An impl for one
//!   response kind (`Call<Events<E>, P>`) reserves its names for that kind's builders only, so a
//!   list may take an `after` parameter while an event stream's builder has `after()`;
//! - the platform `Client` and the resource handles: the methods the generator writes for them
//!   (and what they derive: `Client` is `Clone`), read from its output for the same small spec.
//!
//! One name is added by hand: `clone` on the builder, which is not `Clone` today; a setter named
//! `clone` would read as a copy in every caller's code, and would shadow `Clone::clone` the day
//! a builder becomes `Clone`.
//!
//! build.rs checks every spec with the result and writes it to `$OUT_DIR/reserved_names.rs` for
//! the contract tooling (`agentwire spec lint`) and the spec-convention tests.

use std::collections::BTreeSet;

use super::model::{self, Reserved, Taken};
use super::{emit, yaml};

/// The small spec whose generated `Client`, handle and builder show what the generator adds:
/// one top-level group `things`, one operation with a query parameter and an optional body.
const PROBE: &str = r##"openapi: 3.0.3
info:
  title: Probe
  version: "1"
x-agentwire-platform:
  name: probe
  credentials:
    api_key:
      description: The probe's key.
  required-credentials: [api_key]
servers:
  - url: https://probe.invalid/v1
    x-agentwire-host: main
    x-agentwire-prefix: /v1
security:
  - key: []
tags:
  - name: things
    description: Things.
paths:
  /things:
    post:
      operationId: things.create
      tags: [things]
      parameters:
        - name: filter
          in: query
          schema:
            type: string
      requestBody:
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/Thing'
      responses:
        '200':
          description: The thing.
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Thing'
components:
  securitySchemes:
    key:
      type: http
      scheme: bearer
      x-agentwire-credential: api_key
  schemas:
    Thing:
      type: object
      properties:
        id:
          type: string
"##;

/// The names of the probe that come from the spec, not from the generator.
const PROBE_NAMES: &[&str] = &["things", "create", "filter"];

/// The runtime files holding request-builder code, read by build.rs: the builder and its
/// kinds (`call.rs`), the per-call options trait (`options.rs`), and the kinds with builder
/// methods of their own (`stream.rs`, `task.rs`, and `follow.rs` for task operations with a
/// follow-on stream).
pub const SOURCES: &[&str] = &[
    "src/runtime/call.rs",
    "src/runtime/options.rs",
    "src/runtime/stream.rs",
    "src/runtime/task.rs",
    "src/runtime/follow.rs",
];

/// The response kind (its name in the spec docs) whose builders a `Call<Kind<..>, P>` impl
/// serves, by the kind's type name; `None` for an impl generic over the kind (every builder).
fn kind_of(self_ty: &syn::Type) -> Option<&'static str> {
    let syn::Type::Path(p) = self_ty else {
        return None;
    };
    let last = p.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let Some(syn::GenericArgument::Type(syn::Type::Path(kind))) = args.args.first() else {
        return None;
    };
    let name = kind.path.segments.last()?.ident.to_string();
    Some(match name.as_str() {
        "Json" => "json",
        "Empty" => "empty",
        "Paged" => "paged",
        "Text" => "text",
        "Bytes" => "bytes",
        "Optional" => "optional",
        "Events" => "event-stream",
        "Task" => "task",
        "JsonOrEvents" => "json-or-stream",
        _ => return None, // a type parameter: the impl serves every kind
    })
}

/// Derives the reserved names from the runtime's sources (`sources`: each file of [`SOURCES`]
/// with its text) and the generator's output.
pub fn reserved(sources: &[(&str, String)]) -> Result<Reserved, String> {
    let mut parsed_files = Vec::new();
    for (file, text) in sources {
        let parsed = syn::parse_file(text).map_err(|e| format!("{file}: {e}"))?;
        parsed_files.push((*file, parsed));
    }
    let files: Vec<(&str, &syn::File)> = parsed_files.iter().map(|(f, p)| (*f, p)).collect();
    let mut reserved = Reserved::default();

    // The request builder, as the runtime writes it.
    for &(file, parsed) in &files {
        for item in &parsed.items {
            match item {
                syn::Item::Impl(block)
                    if type_name(&block.self_ty).is_some_and(|t| t == "Call") =>
                {
                    let owner = match &block.trait_ {
                        Some((_, path, _)) => last_segment(path).unwrap_or_default(),
                        None => "Call".to_owned(),
                    };
                    let list = match kind_of(&block.self_ty) {
                        Some(kind) => reserved.kinds.entry(kind.to_owned()).or_default(),
                        None => &mut reserved.builder,
                    };
                    for name in impl_methods(block) {
                        add(list, &name, format!("{owner}::{name}, {file}"));
                    }
                    // The provided methods of a trait of ours come with the impl.
                    if let Some((_, path, _)) = &block.trait_ {
                        let trait_name = last_segment(path).unwrap_or_default();
                        for &(trait_file, trait_parsed) in &files {
                            for (name, by) in trait_methods(trait_parsed, &trait_name, trait_file) {
                                add(list, &name, by);
                            }
                        }
                    }
                }
                syn::Item::Struct(s) if s.ident == "Call" => {
                    for (name, by) in derived(&s.attrs, "Call", file)? {
                        add(&mut reserved.builder, &name, by);
                    }
                }
                _ => {}
            }
        }
    }
    let everywhere = |name: &str| reserved.builder.iter().any(|t| t.name == name);
    let of_kind = |kind: &str, name: &str| {
        reserved
            .kinds
            .get(kind)
            .is_some_and(|l| l.iter().any(|t| t.name == name))
    };
    for (kind, expected) in [
        (None, "timeout"),
        (Some("json"), "send"),
        (Some("json"), "send_with_response"),
        (Some("event-stream"), "open"),
        (Some("task"), "accepted"),
    ] {
        let found = match kind {
            None => everywhere(expected),
            Some(kind) => of_kind(kind, expected),
        };
        if !found {
            return Err(format!(
                "build/names.rs: found no method `{expected}` of the request builder in {}: has `Call`, a kind or `RequestOptions` moved?",
                SOURCES.join(", ")
            ));
        }
    }
    add(
        &mut reserved.builder,
        "clone",
        "Clone::clone, which a setter must not read as (build/names.rs)".to_owned(),
    );

    // What the generator adds: the probe's Client, handle and builder.
    let loaded = yaml::load("build/names.rs (probe)", PROBE)?;
    let spec = model::read(&loaded, &Reserved::default())
        .map_err(|e| format!("build/names.rs: the probe spec: {}", e.join("; ")))?;
    let tokens = [emit::client(&spec), emit::wrappers(&spec)];
    let mut items = Vec::new();
    for t in tokens {
        let file: syn::File = syn::parse2(t)
            .map_err(|e| format!("build/names.rs: the probe's code does not parse: {e}"))?;
        items.extend(file.items);
    }
    let handle = model::pascal("things");
    let builder = model::pascal("things.create");
    let generated = "generated by build/emit.rs";
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&syn::Item> = items.iter().collect();
    while let Some(item) = todo.pop() {
        match item {
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    todo.extend(inner);
                }
            }
            syn::Item::Impl(block) => {
                let Some(ty) = type_name(&block.self_ty).map(|t| t.to_string()) else {
                    continue;
                };
                let list = if ty == "Client" {
                    &mut reserved.client
                } else if ty == handle {
                    &mut reserved.handle
                } else if ty == builder {
                    &mut reserved.builder
                } else {
                    continue;
                };
                let owner = match &block.trait_ {
                    Some((_, path, _)) => last_segment(path).unwrap_or_default(),
                    None => ty.clone(),
                };
                for name in impl_methods(block) {
                    if PROBE_NAMES.contains(&name.as_str()) {
                        continue;
                    }
                    let by = if ty == builder {
                        // Named after no operation: every builder of a body-taking one has it.
                        format!("the setter `{name}` of a request body, {generated}")
                    } else {
                        format!("{owner}::{name}, {generated}")
                    };
                    add(list, &name, by);
                }
                seen.insert(ty);
            }
            syn::Item::Struct(s) if s.ident == "Client" || s.ident == handle => {
                let list = if s.ident == "Client" {
                    &mut reserved.client
                } else {
                    &mut reserved.handle
                };
                for (name, by) in derived(&s.attrs, &s.ident.to_string(), generated)? {
                    add(list, &name, by);
                }
            }
            _ => {}
        }
    }
    for expected in ["Client", handle.as_str(), builder.as_str()] {
        if !seen.contains(expected) {
            return Err(format!(
                "build/names.rs: the probe's generated code has no impl of `{expected}`: has the generator renamed it?"
            ));
        }
    }
    Ok(reserved)
}

/// The reserved names as the table `$OUT_DIR/reserved_names.rs` holds
/// (`model::Reserved::from_table`).
pub fn table(reserved: &Reserved) -> String {
    let mut rows = String::new();
    let kinds = reserved
        .kinds
        .iter()
        .map(|(kind, list)| (format!("builder:{kind}"), list));
    let places = [
        ("builder".to_owned(), &reserved.builder),
        ("client".to_owned(), &reserved.client),
        ("handle".to_owned(), &reserved.handle),
    ]
    .into_iter()
    .chain(kinds);
    for (place, list) in places {
        for t in list {
            rows.push_str(&format!("    ({place:?}, {:?}, {:?}),\n", t.name, t.by));
        }
    }
    format!(
        "/// The method names spec names may not become: (place, name, who has it), derived by\n/// build.rs (build/names.rs).\npub(crate) static RESERVED: &[(&str, &str, &str)] = &[\n{rows}];\n"
    )
}

fn add(list: &mut Vec<Taken>, name: &str, by: String) {
    if !list.iter().any(|t| t.name == name) {
        list.push(Taken {
            name: name.to_owned(),
            by,
        });
    }
}

/// The last identifier of a type path (`Call` of `Call<Json<T>, P>`).
fn type_name(ty: &syn::Type) -> Option<&syn::Ident> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| &s.ident),
        _ => None,
    }
}

fn last_segment(path: &syn::Path) -> Option<String> {
    path.segments.last().map(|s| s.ident.to_string())
}

fn impl_methods(block: &syn::ItemImpl) -> Vec<String> {
    block
        .items
        .iter()
        .filter_map(|item| match item {
            syn::ImplItem::Fn(f) => Some(f.sig.ident.to_string()),
            _ => None,
        })
        .collect()
}

/// Every method (required or provided) of trait `name` defined in `file`.
fn trait_methods(file: &syn::File, name: &str, path: &str) -> Vec<(String, String)> {
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Trait(t) if t.ident == name => Some(t),
            _ => None,
        })
        .flat_map(|t| t.items.iter())
        .filter_map(|item| match item {
            syn::TraitItem::Fn(f) => {
                let method = f.sig.ident.to_string();
                Some((method.clone(), format!("{name}::{method}, {path}")))
            }
            _ => None,
        })
        .collect()
}

/// The methods a `#[derive(..)]` gives a type, for the standard derives (a derive this list
/// does not know is an error, so that its methods are never silently left out).
fn derived(
    attrs: &[syn::Attribute],
    ty: &str,
    from: &str,
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let paths = attr
            .parse_args_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            )
            .map_err(|e| format!("{from}: the derive of {ty}: {e}"))?;
        for path in paths {
            let derive = last_segment(&path).unwrap_or_default();
            let methods: &[&str] = match derive.as_str() {
                "Clone" => &["clone", "clone_from"],
                "Debug" => &["fmt"],
                "Default" => &["default"],
                "PartialEq" => &["eq", "ne"],
                "PartialOrd" => &["partial_cmp", "lt", "le", "gt", "ge"],
                "Ord" => &["cmp", "max", "min", "clamp"],
                "Hash" => &["hash", "hash_slice"],
                "Copy" | "Eq" => &[],
                other => {
                    return Err(format!(
                        "build/names.rs: {ty} ({from}) derives {other}, whose methods it does not know: add them"
                    ));
                }
            };
            for m in methods {
                out.push((
                    (*m).to_owned(),
                    format!("{derive}::{m}, derived on {ty} ({from})"),
                ));
            }
        }
    }
    Ok(out)
}
