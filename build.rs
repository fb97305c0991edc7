//! Generates each enabled platform's code from `openapi/<platform>.yaml` into `$OUT_DIR`:
//! the models (progenitor/typify), the open enums, the operation table and the public wrappers
//! (ours), formatted with prettyplease. A spec that breaks a convention of openapi/README.md fails
//! the build with file, line and operation.
//!
//! The platforms are derived, not listed: every `openapi/<name>.yaml` whose cargo feature
//! `<name>` is enabled. One registry, `$OUT_DIR/registry.rs` (src/registry.rs), lists them with
//! their table, embedded fixtures and mock request table (`mock`), round trip (`contract`) and
//! fixture-driven call (`testkit`), for every tool that needs "each platform".
//!
//! With the internal `testkit` feature (this crate's own tests only), every spec fragment
//! `tests/specs/<name>.yaml` is generated the same way into the module `crate::testkit::<name>`.

#[path = "build/checks.rs"]
mod checks;
#[path = "build/emit.rs"]
mod emit;
#[path = "build/model.rs"]
mod model;
#[path = "build/names.rs"]
mod names;
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

/// The platforms of this build: every `openapi/<name>.yaml` whose cargo feature `<name>` is
/// enabled, in name order. Derived, not listed: a spec without its feature is only linted (the
/// test command and `agentwire spec lint` read every file of `openapi/`), and a feature needs its
/// spec (and `src/<name>/mod.rs`, which includes the generated code).
fn platforms(manifest: &Path) -> Result<Vec<String>, String> {
    let dir = manifest.join("openapi");
    let entries = fs::read_dir(&dir).map_err(|e| format!("openapi/: cannot read: {e}"))?;
    let mut names = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("openapi/: {e}"))?.path();
        if path.extension().is_none_or(|x| x != "yaml") {
            continue;
        }
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        // Only a module name can be a platform (`<platform>-<host>.yaml` files are not one).
        if !is_module_name(stem) {
            continue;
        }
        if env::var_os(format!("CARGO_FEATURE_{}", stem.to_uppercase())).is_some() {
            names.push(stem.to_string());
        }
    }
    names.sort();
    Ok(names)
}

/// A Rust module (and cargo feature) name: lower-case letters, digits and `_`, a letter first.
fn is_module_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The reserved names (build/names.rs), from the runtime's request-builder sources.
fn reserved_names(manifest: &Path) -> Result<model::Reserved, String> {
    let mut sources = Vec::new();
    for rel in names::SOURCES {
        let text = fs::read_to_string(manifest.join(rel))
            .map_err(|e| format!("{rel}: cannot read: {e}"))?;
        sources.push((*rel, text));
    }
    names::reserved(&sources)
}

/// One entry of the generated registry (`$OUT_DIR/registry.rs`, see src/registry.rs).
struct Registered {
    /// The platform's name (`bimpeai`), or a fragment's `testkit::<name>`.
    name: String,
    /// The module holding its generated code (`crate::bimpeai`).
    module: String,
    /// A test fragment rather than a platform.
    fragment: bool,
    /// Its fixture files (absolute paths), sorted by name.
    fixtures: Vec<PathBuf>,
}

fn main() -> ExitCode {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");
    // A spec added or removed changes the platforms of the build, not only an edited one.
    println!("cargo:rerun-if-changed=openapi");
    println!("cargo::rustc-check-cfg=cfg(agentwire_no_platform)");
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let out = PathBuf::from(env::var("OUT_DIR").unwrap_or_else(|_| ".".into()));
    let mock = env::var_os("CARGO_FEATURE_MOCK").is_some();

    let mut failed = false;
    let mut report = |errors: Vec<String>| {
        for e in errors {
            // cargo shows build-script stderr on failure; one problem per line.
            eprintln!("error: {e}");
        }
        failed = true;
    };
    // The method names spec names may not become, from the request builder's sources and the
    // generator's own output (build/names.rs); embedded for the contract tooling and the tests.
    for source in names::SOURCES {
        println!("cargo:rerun-if-changed={source}");
    }
    let reserved = reserved_names(&manifest).unwrap_or_else(|e| {
        report(vec![e]);
        model::Reserved::default()
    });
    if let Err(e) = fs::write(out.join("reserved_names.rs"), names::table(&reserved)) {
        report(vec![format!("cannot write the reserved names: {e}")]);
    }
    let platforms = platforms(&manifest).unwrap_or_else(|e| {
        report(vec![e]);
        Vec::new()
    });
    let mut registry = Vec::new();
    for platform in &platforms {
        let rel = format!("openapi/{platform}.yaml");
        let module = format!("crate::{platform}");
        match generate(&manifest, &rel, &module, Some(platform), &reserved, mock) {
            Ok(code) => {
                if let Err(e) = fs::write(out.join(format!("{platform}.rs")), code) {
                    report(vec![format!(
                        "cannot write generated code for {platform}: {e}"
                    )]);
                }
            }
            Err(errors) => report(errors),
        }
        println!("cargo:rerun-if-changed=fixtures/{platform}");
        match fixture_files(&manifest.join("fixtures").join(platform)) {
            Ok(fixtures) => registry.push(Registered {
                name: platform.clone(),
                module: module.clone(),
                fragment: false,
                fixtures,
            }),
            Err(e) => report(vec![e]),
        }
    }
    if env::var_os("CARGO_FEATURE_TESTKIT").is_some() {
        println!("cargo:rerun-if-changed=tests/specs");
        match testkit(&manifest, &out, &reserved) {
            Ok(fragments) => registry.extend(fragments),
            Err(errors) => report(errors),
        }
    }
    if platforms.is_empty() {
        // Nothing (or only a test fragment) calls the request path: src/lib.rs allows the dead
        // code of that build.
        println!("cargo::rustc-cfg=agentwire_no_platform");
    }
    if let Err(e) = write_registry(&registry, &out) {
        report(vec![e]);
    }
    if failed {
        eprintln!("error: openapi spec check failed; see openapi/README.md for the conventions");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Writes `$OUT_DIR/registry.rs`: one `Entry` (src/registry.rs) per platform and fragment, each
/// field behind the feature that has a use for it.
fn write_registry(registry: &[Registered], out: &Path) -> Result<(), String> {
    let mut entries = Vec::new();
    for r in registry {
        let (name, fragment) = (&r.name, r.fragment);
        let module: syn::Path = syn::parse_str(&r.module)
            .map_err(|e| format!("{name}: module path {:?}: {e}", r.module))?;
        let fixtures = r.fixtures.iter().map(|p| {
            let file = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let abs = p.to_string_lossy().into_owned();
            // Bytes, not text: a file that is not UTF-8 must reach `Fixture::parse_bytes` (which
            // names the file and the byte) instead of breaking the crate's compilation.
            quote!((#file, include_bytes!(#abs)))
        });
        entries.push(quote! {
            Entry {
                name: #name,
                fragment: #fragment,
                platform: &#module::PLATFORM,
                #[cfg(feature = "mock")]
                fixtures: &[#(#fixtures),*],
                #[cfg(feature = "mock")]
                requests: &#module::MOCK_REQUESTS,
                #[cfg(feature = "contract")]
                roundtrip: #module::roundtrip,
                #[cfg(feature = "testkit")]
                call: #module::fixture_call,
            }
        });
    }
    let file = quote! {
        /// Every platform of this build, then every test fragment (generated by build.rs).
        pub(crate) static ENTRIES: &[Entry] = &[#(#entries),*];
    };
    let parsed: syn::File =
        syn::parse2(file).map_err(|e| format!("the generated registry does not parse: {e}"))?;
    fs::write(out.join("registry.rs"), prettyplease::unparse(&parsed))
        .map_err(|e| format!("cannot write the registry: {e}"))
}

/// Reads, checks and generates one spec (`rel`, relative to the manifest) as the code of the
/// module at path `module` (`crate::bimpeai`, `crate::testkit::recursive`): the generated code
/// names its own types through that path. With `mock`, also the request table the mock
/// validates requests against. A platform's spec must carry its `platform` name.
fn generate(
    manifest: &Path,
    rel: &str,
    module: &str,
    platform: Option<&str>,
    reserved: &model::Reserved,
    mock: bool,
) -> Result<String, Vec<String>> {
    let bytes =
        fs::read(manifest.join(rel)).map_err(|e| vec![format!("{rel}: cannot read: {e}")])?;
    let loaded = yaml::load_bytes(rel, &bytes).map_err(|e| vec![e])?;
    let spec = model::read(&loaded, reserved)?;
    if let Some(platform) = platform.filter(|p| *p != spec.name) {
        return Err(vec![format!(
            "{}: `x-agentwire-platform.name` is {:?}: a platform's spec file, cargo feature, module and name are one name ({platform:?})",
            loaded.at("/x-agentwire-platform/name"),
            spec.name
        )]);
    }

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
    let secrets = normalize::secrets(&loaded.value).map_err(|places| {
        let why = "`format: password` (a secret, kept out of `Debug`) is honoured only on a property of a component schema: move this schema into `components/schemas`";
        places.iter().map(|p| format!("{}: {why}", loaded.at(p))).collect::<Vec<_>>()
    })?;
    let models = patch::models(generator.get_type_space().to_stream(), &builders, &secrets)
        .map_err(|e| vec![format!("{rel}: {e}")])?;

    let enums = spec.enums.iter().map(emit::open_enum);
    let table = emit::table(&spec, rel);
    let client = emit::client(&spec);
    let events = emit::event_enums(&spec);
    let wrappers = emit::wrappers(&spec);
    let roundtrip = emit::roundtrip(&spec);
    // Only in this crate's test builds: users never compile it.
    let fixture_call = if env::var_os("CARGO_FEATURE_TESTKIT").is_some() {
        emit::fixture_call(&spec)
    } else {
        quote!()
    };
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
        #fixture_call
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
        // The form's object schema (multipart or URL-encoded), for the mock to read parts by.
        let form_schema = ["multipart~1form-data", "application~1x-www-form-urlencoded"]
            .iter()
            .find_map(|ct| {
                value.pointer(&format!("{}/requestBody/content/{ct}/schema", op.pointer))
            })
            .map(schema::convert);
        let form = match form_schema.filter(|_| !op.form.is_empty()) {
            Some(s) => {
                let text = s.to_string();
                // Required when it is the only encoding and the body is required.
                let required = op.body_required && op.body.is_none();
                quote!(Some(crate::mock::spec::BodySpec { schema: #text, required: #required }))
            }
            None => quote!(None),
        };
        quote! {
            crate::mock::spec::RequestSpec {
                operation: #id,
                path_params: &[#(#path_params),*],
                query: &[#(#query),*],
                body: #body,
                form: #form,
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
        pub(crate) static MOCK_REQUESTS: crate::mock::spec::RequestTable = crate::mock::spec::RequestTable {
            defs: #defs,
            operations: &[#(#operations),*],
        };
    }
}

/// The fixture files of one platform (`fixtures/<platform>/*.json`), sorted; none when the
/// directory does not exist (the contract suite reports the operations left uncovered).
fn fixture_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    if dir.is_dir() {
        let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
            if path.extension().is_some_and(|x| x == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The test fragments (feature `testkit`): each `tests/specs/<name>.yaml` generated into
/// `$OUT_DIR/testkit_<name>.rs`, and `$OUT_DIR/testkit.rs` declaring `pub mod <name>` for each
/// (included by src/testkit.rs). Returns their registry entries, `testkit::<name>` (no
/// fixtures of their own: their tests give the mock what it serves).
fn testkit(
    manifest: &Path,
    out: &Path,
    reserved: &model::Reserved,
) -> Result<Vec<Registered>, Vec<String>> {
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
    let mut registered = Vec::new();
    for name in &names {
        let rel = format!("tests/specs/{name}.yaml");
        if !is_module_name(name) {
            errors.push(format!(
                "{rel}: a test fragment's file name is its module name: lower-case letters, digits and `_`"
            ));
            continue;
        }
        let module = format!("crate::testkit::{name}");
        let mock = env::var_os("CARGO_FEATURE_MOCK").is_some();
        let code = match generate(manifest, &rel, &module, None, reserved, mock) {
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
        let ident = quote::format_ident!("{}", name);
        let doc = format!("Generated from `{rel}` (test fragment).");
        let include = format!("/{file}");
        modules.push(quote! {
            #[doc = #doc]
            pub mod #ident {
                include!(concat!(env!("OUT_DIR"), #include));
            }
        });
        registered.push(Registered {
            name: format!("testkit::{name}"),
            module,
            fragment: true,
            fixtures: Vec::new(),
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let parsed: syn::File = syn::parse2(quote!(#(#modules)*))
        .map_err(|e| vec![format!("tests/specs: generated code does not parse: {e}")])?;
    fs::write(out.join("testkit.rs"), prettyplease::unparse(&parsed))
        .map_err(|e| vec![format!("tests/specs: cannot write testkit.rs: {e}")])?;
    Ok(registered)
}
