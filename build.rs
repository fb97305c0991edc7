//! Generates each enabled platform's code from `openapi/<platform>.yaml` into `$OUT_DIR`:
//! the models (progenitor/typify), the open enums, the operation table and the public wrappers
//! (ours), formatted with prettyplease. A spec that breaks a convention of openapi/README.md fails
//! the build with file, line and operation. Also embeds the fixtures for the `mock` feature.
//!
//! With the internal `testkit` feature (this crate's own tests only), every spec fragment
//! `tests/specs/<name>.yaml` is generated the same way into the module `crate::testkit::<name>`.

#[path = "build/emit.rs"]
mod emit;
#[path = "build/model.rs"]
mod model;
#[path = "build/normalize.rs"]
mod normalize;
#[path = "build/patch.rs"]
mod patch;
// Shared with `agentwire::contract::schema`; build.rs uses only part of it.
#[path = "build/schema.rs"]
#[allow(dead_code)]
mod schema;
#[path = "build/yaml.rs"]
mod yaml;

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use quote::quote;

/// Every platform the crate knows, with its feature name.
const PLATFORMS: &[&str] = &["bimpeai"];

fn main() -> ExitCode {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let out = PathBuf::from(env::var("OUT_DIR").unwrap_or_else(|_| ".".into()));
    let mock = env::var_os("CARGO_FEATURE_MOCK").is_some();

    let mut failed = false;
    for platform in PLATFORMS {
        let feature = format!("CARGO_FEATURE_{}", platform.to_uppercase());
        if env::var_os(&feature).is_none() {
            continue;
        }
        let rel = format!("openapi/{platform}.yaml");
        println!("cargo:rerun-if-changed={rel}");
        match generate(&manifest, &rel, &format!("crate::{platform}"), mock) {
            Ok(code) => {
                if let Err(e) = fs::write(out.join(format!("{platform}.rs")), code) {
                    eprintln!("error: cannot write generated code for {platform}: {e}");
                    failed = true;
                }
            }
            Err(errors) => {
                for e in errors {
                    // cargo shows build-script stderr on failure; one problem per line.
                    eprintln!("error: {e}");
                }
                failed = true;
            }
        }
        let fixtures = manifest.join("fixtures").join(platform);
        println!("cargo:rerun-if-changed=fixtures/{platform}");
        let embedded = if mock {
            embed_fixtures(&fixtures)
        } else {
            Ok(empty_fixtures())
        };
        match embedded {
            Ok(code) => {
                if let Err(e) = fs::write(out.join(format!("{platform}_fixtures.rs")), code) {
                    eprintln!("error: cannot write embedded fixtures for {platform}: {e}");
                    failed = true;
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    if env::var_os("CARGO_FEATURE_TESTKIT").is_some() {
        println!("cargo:rerun-if-changed=tests/specs");
        if let Err(errors) = testkit(&manifest, &out) {
            for e in errors {
                eprintln!("error: {e}");
            }
            failed = true;
        }
    }
    if failed {
        eprintln!("error: openapi spec check failed; see openapi/README.md for the conventions");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Reads, checks and generates one spec (`rel`, relative to the manifest) as the code of the
/// module at path `module` (`crate::bimpeai`, `crate::testkit::recursive`): the generated code
/// names its own types through that path. With `mock`, also the request table the mock
/// validates requests against.
fn generate(manifest: &Path, rel: &str, module: &str, mock: bool) -> Result<String, Vec<String>> {
    let bytes =
        fs::read(manifest.join(rel)).map_err(|e| vec![format!("{rel}: cannot read: {e}")])?;
    let loaded = yaml::load_bytes(rel, &bytes).map_err(|e| vec![e])?;
    let spec = model::read(&loaded)?;

    // progenitor: the models only. Its client is generated and thrown away; our wrappers send.
    let (for_progenitor, nullable) = normalize::for_progenitor(&loaded.value, &spec, module);
    let openapi: openapiv3::OpenAPI = serde_json::from_value(for_progenitor)
        .map_err(|e| vec![format!("{rel}: not a valid OpenAPI 3.0 document: {e}")])?;
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_derive("PartialEq");
    for e in &spec.enums {
        settings.with_replacement(
            &e.name,
            format!("{module}::types::{}", e.name),
            [progenitor::TypeImpl::Display, progenitor::TypeImpl::FromStr].into_iter(),
        );
    }
    for (synthetic, item) in &spec.loose {
        settings.with_replacement(
            synthetic,
            format!("crate::runtime::loose::LooseList<{module}::types::{item}>"),
            [progenitor::TypeImpl::Default].into_iter(),
        );
    }
    for (synthetic, rust) in &nullable {
        settings.with_replacement(synthetic, rust, std::iter::empty());
    }
    let mut generator = progenitor::Generator::new(&settings);
    // progenitor panics on some inputs; turn a panic into a build error naming the file.
    let generated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        generator.generate_tokens(&openapi)
    }));
    match generated {
        Ok(Ok(_client_we_do_not_use)) => {}
        Ok(Err(e)) => return Err(vec![format!("{rel}: progenitor cannot generate it: {e}")]),
        Err(_) => {
            return Err(vec![format!(
                "{rel}: progenitor panicked on it (see the message above)"
            )]);
        }
    }
    let builders: std::collections::BTreeSet<String> = spec
        .ops
        .iter()
        .filter_map(|op| op.body.as_ref())
        .filter_map(|b| b.type_name.strip_prefix("types::").map(str::to_owned))
        .collect();
    let models = patch::models(generator.get_type_space().to_stream(), &builders)
        .map_err(|e| vec![format!("{rel}: {e}")])?;

    let enums = spec.enums.iter().map(emit::open_enum);
    let table = emit::table(&spec, rel);
    let client = emit::client(&spec);
    let events = emit::event_enums(&spec);
    let wrappers = emit::wrappers(&spec);
    let roundtrip = emit::roundtrip(&spec);
    let requests = if mock {
        mock_requests(&spec, &loaded.value)
    } else {
        quote!()
    };
    let types_doc = format!(
        "The {} models, generated from `{rel}` (progenitor/typify). Response types accept unknown fields; enums are open.",
        spec.display_name
    );
    let file = quote! {
        #[doc = #types_doc]
        #[allow(clippy::all, clippy::pedantic, missing_docs, unused_imports, irrefutable_let_patterns)]
        pub mod types {
            #models
            #(#enums)*
        }

        #table
        #client
        #events
        #wrappers
        #roundtrip
        #requests
    };
    let parsed: syn::File = syn::parse2(file)
        .map_err(|e| vec![format!("{rel}: generated code does not parse: {e}")])?;
    Ok(prettyplease::unparse(&parsed))
}

/// The request side of every operation, for the mock (emitted only with the `mock` feature, so
/// that the mock reads no spec at run time): path and query parameters with their types, and
/// each JSON request body's schema converted by `build/schema.rs` (the contract suite's
/// conversion), with the spec's components once as `$defs`.
fn mock_requests(spec: &model::Spec, value: &serde_json::Value) -> proc_macro2::TokenStream {
    fn kind(ty: &model::ParamType, spec: &model::Spec) -> proc_macro2::TokenStream {
        match ty {
            model::ParamType::String => quote!(crate::mock::spec::ParamKind::String),
            model::ParamType::Integer => quote!(crate::mock::spec::ParamKind::Integer),
            model::ParamType::Number => quote!(crate::mock::spec::ParamKind::Number),
            model::ParamType::Boolean => quote!(crate::mock::spec::ParamKind::Boolean),
            model::ParamType::Enum(name) => {
                let values = spec
                    .enums
                    .iter()
                    .find(|e| &e.name == name)
                    .map(|e| e.values.clone())
                    .unwrap_or_default();
                quote!(crate::mock::spec::ParamKind::Enum(&[#(#values),*]))
            }
            model::ParamType::Array(inner) => {
                let inner = kind(inner, spec);
                quote!(crate::mock::spec::ParamKind::Array(&#inner))
            }
        }
    }
    let param = |p: &model::Param| {
        let (name, required, kind) = (&p.name, p.required, kind(&p.ty, spec));
        quote!(crate::mock::spec::ParamSpec { name: #name, kind: #kind, required: #required })
    };
    let defs = schema::defs(value).to_string();
    let operations = spec.ops.iter().map(|op| {
        let id = &op.id;
        let path_params = op.path_params.iter().map(param);
        let query = op.query.iter().map(param);
        let body_schema = value
            .pointer(&format!(
                "{}/requestBody/content/application~1json/schema",
                op.pointer
            ))
            .map(schema::convert);
        let body = match (&op.body, body_schema) {
            (Some(b), Some(s)) => {
                let (text, required) = (s.to_string(), b.required);
                quote!(Some(crate::mock::spec::BodySpec { schema: #text, required: #required }))
            }
            _ => quote!(None),
        };
        quote! {
            crate::mock::spec::RequestSpec {
                operation: #id,
                path_params: &[#(#path_params),*],
                query: &[#(#query),*],
                body: #body,
            }
        }
    });
    let doc = format!(
        "The request side of every {} operation, for the mock's validation (generated).",
        spec.display_name
    );
    quote! {
        #[doc = #doc]
        #[cfg(feature = "mock")]
        #[allow(dead_code, reason = "spec fragments of the testkit have no mock of their own yet")]
        pub(crate) static MOCK_REQUESTS: crate::mock::spec::RequestTable = crate::mock::spec::RequestTable {
            defs: #defs,
            operations: &[#(#operations),*],
        };
    }
}

/// The fixtures of one platform, compiled in for the mock.
fn embed_fixtures(dir: &Path) -> Result<String, String> {
    let mut files = Vec::new();
    if dir.is_dir() {
        let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.extension().is_some_and(|x| x == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    let entries = files.iter().map(|p| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let abs = p.to_string_lossy().into_owned();
        // Bytes, not text: a file that is not UTF-8 must reach `Fixture::parse_bytes` (which
        // names the file and the byte) instead of breaking the crate's compilation.
        quote!((#name, include_bytes!(#abs)))
    });
    let tokens = quote! {
        /// The platform's fixtures: (file name, JSON bytes), sorted by name.
        pub static FIXTURES: &[(&str, &[u8])] = &[#(#entries),*];
    };
    Ok(tokens.to_string())
}

fn empty_fixtures() -> String {
    quote! {
        /// The platform's fixtures (embedded only with the `mock` feature).
        pub static FIXTURES: &[(&str, &[u8])] = &[];
    }
    .to_string()
}

/// The test fragments (feature `testkit`): each `tests/specs/<name>.yaml` generated into
/// `$OUT_DIR/testkit_<name>.rs`, and `$OUT_DIR/testkit.rs` declaring `pub mod <name>` for each
/// (included by src/testkit.rs), with a registry of their round-trip functions for the contract
/// checks.
fn testkit(manifest: &Path, out: &Path) -> Result<(), Vec<String>> {
    let dir = manifest.join("tests").join("specs");
    let mut names = Vec::new();
    if dir.is_dir() {
        let entries = fs::read_dir(&dir).map_err(|e| vec![format!("tests/specs: {e}")])?;
        for entry in entries {
            let path = entry.map_err(|e| vec![format!("tests/specs: {e}")])?.path();
            if path.extension().is_some_and(|x| x == "yaml") {
                let stem = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default();
                names.push(stem.to_string());
            }
        }
    }
    names.sort();
    let mut errors = Vec::new();
    let mut modules = Vec::new();
    let mut arms = Vec::new();
    for name in &names {
        let rel = format!("tests/specs/{name}.yaml");
        let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            errors.push(format!(
                "{rel}: a test fragment's file name is its module name: lower-case letters, digits and `_`"
            ));
            continue;
        }
        let code = match generate(
            manifest,
            &rel,
            &format!("crate::testkit::{name}"),
            env::var_os("CARGO_FEATURE_MOCK").is_some(),
        ) {
            Ok(code) => code,
            Err(e) => {
                errors.extend(e);
                continue;
            }
        };
        let file = format!("testkit_{name}.rs");
        if let Err(e) = fs::write(out.join(&file), code) {
            errors.push(format!("{rel}: cannot write generated code: {e}"));
            continue;
        }
        let module = quote::format_ident!("{}", name);
        let doc = format!("Generated from `{rel}` (test fragment).");
        let include = format!("/{file}");
        modules.push(quote! {
            #[doc = #doc]
            pub mod #module {
                include!(concat!(env!("OUT_DIR"), #include));
            }
        });
        let key = format!("testkit::{name}");
        arms.push(quote!(#key => Some(#module::roundtrip),));
    }
    let registry = quote! {
        #(#modules)*

        /// The round trip of fragment `testkit::<name>`, for the contract checks.
        #[cfg(feature = "contract")]
        #[allow(clippy::type_complexity)]
        pub(crate) fn roundtrip(
            name: &str,
        ) -> Option<fn(&str, &::serde_json::Value) -> Option<Result<::serde_json::Value, String>>> {
            match name {
                #(#arms)*
                _ => None,
            }
        }
    };
    if errors.is_empty() {
        let parsed: syn::File = syn::parse2(registry)
            .map_err(|e| vec![format!("tests/specs: generated code does not parse: {e}")])?;
        fs::write(out.join("testkit.rs"), prettyplease::unparse(&parsed))
            .map_err(|e| vec![format!("tests/specs: cannot write testkit.rs: {e}")])?;
        Ok(())
    } else {
        Err(errors)
    }
}
