//! The spec checks build.rs runs: each broken convention is reported with the file, the line and
//! the operation, so a spec author can act on it. (That the real specs pass, every file of
//! `openapi/`, is `contract_rules::lint_reports_nothing_on_the_real_specs`.)

#[path = "../build/yaml.rs"]
#[allow(dead_code)]
mod yaml;

#[path = "../build/checks.rs"]
#[allow(dead_code)]
mod checks;

#[path = "../build/model.rs"]
#[allow(dead_code)]
mod model;

#[path = "../build/normalize.rs"]
#[allow(dead_code)]
mod normalize;

// The method names spec names may not become, as build.rs derived them (build/names.rs).
include!(concat!(env!("OUT_DIR"), "/reserved_names.rs"));

fn reserved() -> model::Reserved {
    model::Reserved::from_table(RESERVED)
}

const FILE: &str = "openapi/test.yaml";

/// A small spec that follows every convention; the tests break it one way at a time.
const GOOD: &str = r##"openapi: 3.0.3
info:
  title: Test API
  version: "1"
x-agentwire-platform:
  name: testp
  display-name: TestP
  credentials:
    api_key:
      description: The key.
  required-credentials: [api_key]
servers:
  - url: https://api.example.com/v1
    x-agentwire-host: main
    x-agentwire-prefix: /v1
security:
  - bearerAuth: []
tags:
  - name: things
    description: Things.
paths:
  /things:
    get:
      operationId: things.list
      tags: [things]
      parameters:
        - name: kind
          in: query
          schema:
            $ref: '#/components/schemas/Kind'
      responses:
        '200':
          description: The things.
          content:
            application/json:
              schema:
                type: array
                items:
                  $ref: '#/components/schemas/Thing'
        4XX:
          description: An error.
  /things/{thing_id}:
    get:
      operationId: things.retrieve
      tags: [things]
      parameters:
        - name: thing_id
          in: path
          required: true
          schema:
            type: string
      responses:
        '200':
          description: One thing.
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Thing'
components:
  securitySchemes:
    bearerAuth:
      type: http
      scheme: bearer
      x-agentwire-credential: api_key
  schemas:
    Kind:
      type: string
      enum: [big, small]
    Thing:
      type: object
      required: [id]
      properties:
        id:
          type: string
        kind:
          $ref: '#/components/schemas/Kind'
        extra:
          description: Anything the server adds; deliberately untyped.
"##;

fn check(text: &str) -> Result<model::Spec, Vec<String>> {
    let loaded = yaml::load(FILE, text).map_err(|e| vec![e])?;
    model::read(&loaded, &reserved())
}

/// Replaces `from` (which must occur) and returns the errors the result produces.
fn errors_after(from: &str, to: &str) -> Vec<String> {
    assert!(GOOD.contains(from), "test bug: {from:?} not in the spec");
    match check(&GOOD.replacen(from, to, 1)) {
        Ok(_) => panic!("expected an error after replacing {from:?}"),
        Err(errors) => errors,
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .expect("needle present")
}

#[test]
fn the_good_spec_passes() {
    let spec = check(GOOD).expect("valid");
    assert_eq!(spec.ops.len(), 2);
    assert_eq!(spec.enums.len(), 1);
}

/// The one error `to` produces in place of `from`, which must name the file and the line of
/// `needle` in the edited spec.
fn the_error_at(from: &str, to: &str, needle: &str) -> String {
    let edited = GOOD.replacen(from, to, 1);
    let errors = errors_after(from, to);
    let at = format!("{FILE}:{}: ", line_of(&edited, needle));
    let hits: Vec<&String> = errors.iter().filter(|e| e.starts_with(&at)).collect();
    assert_eq!(hits.len(), 1, "expected one error at {at}, got {errors:#?}");
    hits[0].clone()
}

#[test]
fn a_parameter_named_like_a_request_builder_method_is_refused_with_file_and_line() {
    // A setter `timeout` would shadow the per-call option every builder has.
    let err = the_error_at("- name: kind", "- name: timeout", "name: timeout");
    assert!(
        err.ends_with(
            "operation things.list: query parameter `timeout` is `timeout` in Rust, a method every request builder already has (RequestOptions::timeout, src/runtime/options.rs): its setter would clash with it"
        ),
        "{err}"
    );
    // After conversion: a header `Idempotency-Key` is `idempotency_key`.
    let err = the_error_at(
        "- name: kind\n          in: query",
        "- name: Idempotency-Key\n          in: header",
        "name: Idempotency-Key",
    );
    assert!(
        err.contains("header parameter `Idempotency-Key` is `idempotency_key` in Rust, a method every request builder already has (RequestOptions::idempotency_key"),
        "{err}"
    );
    // A path parameter, and the builder's own methods and the generator's setters.
    // `things.retrieve` answers JSON: its builder has the JSON kind's methods and every
    // builder's, not the paged kind's `paginate` (a setter of that name would not clash).
    let every = "every request builder";
    let json = "the request builder of a `json` operation";
    let with = |name: &str| {
        GOOD.replacen("/things/{thing_id}:", &format!("/things/{{{name}}}:"), 1)
            .replacen("- name: thing_id", &format!("- name: {name}"), 1)
    };
    assert!(
        check(&with("paginate")).is_ok(),
        "`paginate` is a paged builder's method only"
    );
    for (name, whose, by) in [
        ("send", json, "Call::send, src/runtime/call.rs"),
        (
            "send_with_response",
            json,
            "Call::send_with_response, src/runtime/call.rs",
        ),
        (
            "into_future",
            json,
            "IntoFuture::into_future, src/runtime/call.rs",
        ),
        (
            "timeout",
            every,
            "RequestOptions::timeout, src/runtime/options.rs",
        ),
        (
            "body",
            every,
            "the setter `body` of a request body, generated by build/emit.rs",
        ),
    ] {
        let edited = with(name);
        let errors = check(&edited).expect_err("refused");
        let line = line_of(&edited, &format!("- name: {name}"));
        let want = format!(
            "{FILE}:{line}: operation things.retrieve: path parameter `{name}` is `{name}` in Rust, a method {whose} already has ({by})"
        );
        assert!(
            errors.iter().any(|e| e.starts_with(&want)),
            "{want}\n{errors:#?}"
        );
    }
}

#[test]
fn parameters_that_are_one_rust_name_are_refused() {
    let two = "- name: pageSize\n          in: query\n          schema:\n            type: integer\n        - name: page_size";
    let err = the_error_at("- name: kind", two, "name: page_size");
    assert!(
        err.ends_with(
            "operation things.list: query parameter `page_size` and query parameter `pageSize` are both `page_size` in Rust"
        ),
        "{err}"
    );
    // A keyword is suffixed with `_`: `type` is `type_`, like a parameter named `type_`.
    let two = "- name: type\n          in: query\n          schema:\n            type: string\n        - name: type_";
    let err = the_error_at("- name: kind", two, "name: type_");
    assert!(
        err.ends_with(
            "query parameter `type_` and query parameter `type` are both `type_` in Rust"
        ),
        "{err}"
    );
}

#[test]
fn an_operation_or_group_named_like_a_handle_or_client_method_is_refused() {
    // `fmt` on the resource handle `Things` (its Debug).
    let err = the_error_at(
        "operationId: things.retrieve",
        "operationId: things.fmt",
        "operationId: things.fmt",
    );
    assert!(
        err.ends_with(
            "operation things.fmt: operation `things.fmt` becomes the method `fmt` of the resource handle `Things`, which it already has (Debug::fmt, generated by build/emit.rs)"
        ),
        "{err}"
    );
    // A top-level group is a method of the platform's `Client`, which is `Clone`.
    let edited = GOOD
        .replacen(
            "operationId: things.retrieve\n      tags: [things]",
            "operationId: clone.retrieve\n      tags: [clone]",
            1,
        )
        .replacen(
            "tags:\n  - name: things",
            "tags:\n  - name: clone\n    description: Clones.\n  - name: things",
            1,
        );
    let errors = check(&edited).expect_err("refused");
    let line = line_of(&edited, "operationId: clone.retrieve");
    let want = format!(
        "{FILE}:{line}: operation clone.retrieve: group `clone` becomes the method `clone` of the platform `Client`, which it already has (Clone::clone, derived on Client (generated by build/emit.rs))"
    );
    assert_eq!(errors, vec![want]);
}

#[test]
fn the_reserved_names_are_derived_from_the_runtime() {
    // Every method of the per-call options trait, as written in src/runtime/options.rs.
    let options = std::fs::read_to_string(format!(
        "{}/src/runtime/options.rs",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("options.rs");
    let start = options.find("pub trait RequestOptions").expect("the trait");
    let end = start + options[start..].find("\n}").expect("its end");
    let methods: Vec<&str> = options[start..end]
        .split("fn ")
        .skip(1)
        .filter_map(|rest| rest.split(['(', '<']).next())
        .collect();
    assert!(methods.len() >= 7, "{methods:?}");
    let reserved = reserved();
    for method in methods {
        assert!(
            reserved.builder.iter().any(|t| t.name == method),
            "RequestOptions::{method} is not reserved"
        );
    }
}

#[test]
fn an_inline_enum_parameter_names_file_line_and_operation() {
    let broken = GOOD.replacen(
        "            $ref: '#/components/schemas/Kind'\n      responses",
        "            type: string\n            enum: [big, small]\n      responses",
        1,
    );
    let errors = check(&broken).expect_err("inline enum");
    let line = line_of(&broken, "- name: kind");
    assert_eq!(
        errors,
        vec![format!(
            "{FILE}:{line}: operation things.list: parameter `kind`: its enum must be a named component schema (`$ref: '#/components/schemas/<Name>'`) so that it is open in Rust"
        )]
    );
}

#[test]
fn an_inline_enum_in_a_schema_is_refused() {
    let errors = errors_after(
        "        kind:\n          $ref: '#/components/schemas/Kind'",
        "        kind:\n          type: string\n          enum: [big, small]",
    );
    let text = GOOD.replacen(
        "        kind:\n          $ref: '#/components/schemas/Kind'",
        "        kind:\n          type: string\n          enum: [big, small]",
        1,
    );
    // The property's schema starts on the line after its name.
    let line = line_of(&text, "        kind:") + 1;
    assert_eq!(
        errors,
        vec![format!(
            "{FILE}:{line}: enums must be named component schemas (`$ref: '#/components/schemas/<Name>'`) so that they are open in Rust"
        )]
    );
}

#[test]
fn each_broken_convention_is_reported() {
    let cases: &[(&str, &str, &str)] = &[
        ("      operationId: things.list\n", "", "has no operationId"),
        (
            "operationId: things.list",
            "operationId: ThingsList",
            "dotted snake_case",
        ),
        (
            "operationId: things.retrieve",
            "operationId: things.list",
            "already used",
        ),
        ("openapi: 3.0.3", "openapi: 3.1.0", "must be 3.0.x"),
        (
            "      type: object\n      required: [id]",
            "      type: object\n      additionalProperties: false\n      required: [id]",
            "additionalProperties: false",
        ),
        (
            "        4XX:",
            "        default:",
            "`default` responses are forbidden",
        ),
        (
            "x-agentwire-prefix: /v1",
            "x-agentwire-prefx: /v1",
            "unknown extension x-agentwire-prefx",
        ),
        ("          required: true\n", "", "must be `required: true`"),
        (
            "  /things/{thing_id}:",
            "  /things/{id}:",
            "has no path parameter",
        ),
        (
            "        extra:\n          description: Anything the server adds; deliberately untyped.",
            "        extra: {}",
            "has no type",
        ),
        (
            "      x-agentwire-credential: api_key",
            "      x-agentwire-credential: password",
            "x-agentwire-credential",
        ),
        (
            "                $ref: '#/components/schemas/Thing'\ncomponents",
            "                $ref: '#/components/schemas/Missing'\ncomponents",
            "missing schema Missing",
        ),
        ("    Thing:", "    thing_record:", "PascalCase"),
        (
            "      operationId: things.list\n      tags: [things]",
            "      operationId: things.list",
            "exactly one tag",
        ),
        (
            "      tags: [things]\n",
            "      tags: [stuff]\n",
            "exactly one tag, their top-level group",
        ),
        ("    description: Things.\n", "", "needs a description"),
        (
            "  - name: things\n    description: Things.\n",
            "  - name: others\n    description: Others.\n",
            "not declared in the root `tags`",
        ),
    ];
    for (from, to, expected) in cases {
        let errors = errors_after(from, to);
        assert!(
            errors
                .iter()
                .any(|e| e.contains(expected) && e.starts_with(&format!("{FILE}:"))),
            "replacing {from:?} should report {expected:?}, got {errors:?}"
        );
    }
}

#[test]
fn yaml_errors_and_aliases_name_the_line() {
    let err = yaml::load(FILE, "a: [1, 2\nb: 3\n").expect_err("unterminated");
    assert!(err.starts_with(&format!("{FILE}:")), "{err}");
    let err = yaml::load(FILE, "a: &x 1\nb: *x\n").expect_err("alias");
    assert_eq!(
        err,
        format!(
            "{FILE}:1: YAML anchors and aliases are not allowed in specs (write the value out)"
        )
    );
    let err = yaml::load(FILE, "a: 1\na: 2\n").expect_err("duplicate key");
    assert!(err.contains(FILE), "{err}");
}

/// `GOOD` with `extra` appended, and the 1-based line `extra` starts on.
fn good_with(extra: &str) -> (String, usize) {
    (format!("{GOOD}{extra}"), GOOD.lines().count() + 1)
}

#[test]
fn deep_block_nesting_is_refused_with_its_line_not_a_stack_overflow() {
    // About 10 KB: an extension holding 5,000 nested block sequences. Loading it recursively
    // overflowed the stack (an abort, no message) in build.rs and `spec lint`.
    let (text, line) = good_with(&format!("x-deep:\n  {}leaf\n", "- ".repeat(5_000)));
    assert!(text.len() > 10_000);
    let err = check(&text).expect_err("too deep");
    assert_eq!(
        err,
        vec![format!(
            "{FILE}:{}: mappings and sequences nest more than {} levels deep here (a spec needs far fewer)",
            line + 1,
            yaml::MAX_DEPTH
        )]
    );
}

#[test]
fn deep_flow_and_mapping_nesting_are_refused_too() {
    let (text, line) = good_with(&format!(
        "x-deep: {}1{}\n",
        "[".repeat(200),
        "]".repeat(200)
    ));
    let err = yaml::load(FILE, &text).expect_err("too deep");
    assert!(
        err.starts_with(&format!(
            "{FILE}:{line}: mappings and sequences nest more than"
        )),
        "{err}"
    );

    let mut nested = String::from("x-deep:\n");
    for depth in 1..=100 {
        nested.push_str(&format!("{}k:\n", "  ".repeat(depth)));
    }
    let (text, line) = good_with(&nested);
    let err = yaml::load(FILE, &text).expect_err("too deep");
    // The root mapping is level 1; the mapping starting `j` lines below `x-deep:` is level
    // `j + 1`, so level 65 starts 64 lines below it.
    assert!(
        err.starts_with(&format!(
            "{FILE}:{}: mappings and sequences nest more than",
            line + 64
        )),
        "{err}"
    );

    // Right at the bound is fine.
    let (text, _) = good_with(&format!("x-deep: {}1{}\n", "[".repeat(62), "]".repeat(62)));
    check(&text).expect("62 flow levels under the root mapping and x-deep are 63 + 1 = 64");
}

#[test]
fn a_byte_that_is_not_utf8_is_a_problem_with_its_line() {
    let line = line_of(GOOD, "title: Test API");
    let offset = GOOD.find("Test API").expect("present") + 4;
    let mut bytes = GOOD.as_bytes().to_vec();
    bytes[offset] = 0xff;
    let err = yaml::load_bytes(FILE, &bytes).expect_err("not UTF-8");
    assert_eq!(
        err,
        format!(
            "{FILE}:{line}: not UTF-8: byte 0xff at byte offset {offset} (specs are UTF-8 text)"
        )
    );
    yaml::load_bytes(FILE, GOOD.as_bytes()).expect("UTF-8 loads");
}

#[test]
fn a_tab_in_the_indentation_after_a_plain_scalar_is_reported_on_its_own_line() {
    // saphyr marks this error at the start of the scalar before the tab (`things.list`, one
    // line up; further up when blank lines come between).
    for between in ["", "\n", "\n   \n"] {
        let text = GOOD.replacen(
            "      operationId: things.list\n",
            &format!("      operationId: things.list\n{between}\tsummary: List things.\n"),
            1,
        );
        let err = check(&text).expect_err("tab indentation");
        let line = line_of(&text, "\tsummary: List things.");
        assert_eq!(
            err,
            vec![format!(
                "{FILE}:{line}: not valid YAML: while scanning a plain scalar, found a tab"
            )],
            "with {between:?} between"
        );
    }
    // A block scalar whose content starts with a tab: saphyr marks the `>-` line.
    let text = GOOD.replacen(
        "    description: Things.\n",
        "    description: >-\n\tThings.\n",
        1,
    );
    let err = check(&text).expect_err("tab content");
    let line = line_of(&text, "\tThings.");
    assert_eq!(
        err,
        vec![format!(
            "{FILE}:{line}: not valid YAML: a block scalar content cannot start with a tab"
        )]
    );
}

#[test]
fn tabs_after_a_plain_scalar_on_its_own_line_are_valid_yaml() {
    // Trailing tabs, and a tab before a comment, are whitespace YAML allows.
    let text = GOOD
        .replacen("title: Test API\n", "title: Test API\t\n", 1)
        .replacen(
            "operationId: things.list\n",
            "operationId: things.list\t# the list\n",
            1,
        );
    let spec = check(&text).expect("valid");
    assert_eq!(spec.title, "Test API");
    assert_eq!(spec.ops[0].id, "things.list");
}

/// `GOOD` with more component schemas after `Thing`.
fn with_schemas(extra: &str) -> String {
    let anchor =
        "        extra:\n          description: Anything the server adds; deliberately untyped.\n";
    assert!(GOOD.ends_with(anchor));
    format!("{GOOD}{extra}")
}

#[test]
fn a_cycle_of_bare_references_is_refused_with_its_line() {
    let text = with_schemas(
        "    LoopB:\n      $ref: '#/components/schemas/LoopA'\n    LoopA:\n      $ref: '#/components/schemas/LoopB'\n",
    );
    let line = line_of(&text, "    LoopA:") + 1;
    assert_eq!(
        check(&text).expect_err("a cycle"),
        vec![format!(
            "{FILE}:{line}: schemas LoopA -> LoopB -> LoopA refer to one another with no object property or array item in between: they describe no finite value and have no Rust type (recursion must go through a property or `items`)"
        )]
    );

    let text = with_schemas("    Ouroboros:\n      $ref: '#/components/schemas/Ouroboros'\n");
    let line = line_of(&text, "    Ouroboros:") + 1;
    assert_eq!(
        check(&text).expect_err("a self-reference"),
        vec![format!(
            "{FILE}:{line}: schema Ouroboros is only a reference to itself: it describes no finite value and has no Rust type (recursion must go through an object property or array `items`)"
        )]
    );

    // Through a union's alternatives: still the same place in a value.
    let text = with_schemas(
        "    Either:\n      oneOf:\n        - type: string\n        - $ref: '#/components/schemas/Either'\n",
    );
    let line = line_of(&text, "        - $ref: '#/components/schemas/Either'");
    let errors = check(&text).expect_err("a cycle through oneOf");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(&format!(
            "{FILE}:{line}: schema Either is only a reference to itself"
        )),
        "{errors:?}"
    );

    // A schema that only leads into a cycle is not itself reported; two cycles are two errors.
    let text = with_schemas(
        "    Lead:\n      $ref: '#/components/schemas/LoopA'\n    LoopA:\n      $ref: '#/components/schemas/LoopB'\n    LoopB:\n      $ref: '#/components/schemas/LoopA'\n    Solo:\n      $ref: '#/components/schemas/Solo'\n",
    );
    let errors = check(&text).expect_err("two cycles");
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("schemas LoopA -> LoopB -> LoopA"),
        "{errors:?}"
    );
    assert!(errors[1].contains("schema Solo is only"), "{errors:?}");
}

#[test]
fn recursion_through_a_property_or_items_is_allowed() {
    let text = with_schemas(
        "    TreeNode:\n      type: object\n      properties:\n        children:\n          type: array\n          items:\n            $ref: '#/components/schemas/TreeNode'\n        parent:\n          $ref: '#/components/schemas/TreeNode'\n    Alias:\n      $ref: '#/components/schemas/TreeNode'\n",
    );
    let spec = check(&text).expect("recursion through a property is fine");
    assert!(spec.schemas.contains(&"TreeNode".to_string()));
}

#[test]
fn a_long_chain_of_references_is_checked_without_recursion() {
    // 20,000 schemas, each a reference to the next, closing into one cycle.
    let n = 20_000;
    let mut extra = String::new();
    for i in 0..n {
        extra.push_str(&format!(
            "    Link{i}:\n      $ref: '#/components/schemas/Link{}'\n",
            (i + 1) % n
        ));
    }
    let errors = check(&with_schemas(&extra)).expect_err("one long cycle");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("schemas Link0 -> Link1 -> "),
        "{}",
        &errors[0][..200]
    );
}

/// `n` schemas `Hop0 -> Hop1 -> ... -> Hop<n-1> -> Thing`, each only a reference to the next.
fn hops(n: usize) -> String {
    let mut extra = String::new();
    for i in 0..n {
        let next = if i + 1 == n {
            "Thing".to_string()
        } else {
            format!("Hop{}", i + 1)
        };
        extra.push_str(&format!(
            "    Hop{i}:\n      $ref: '#/components/schemas/{next}'\n"
        ));
    }
    extra
}

#[test]
fn a_chain_of_references_longer_than_the_bound_is_refused() {
    assert_eq!(model::MAX_REFERENCE_CHAIN, 8);
    check(&with_schemas(&hops(8))).expect("eight hops are fine");
    let text = with_schemas(&hops(9));
    let line = line_of(&text, "    Hop0:") + 1;
    assert_eq!(
        check(&text).expect_err("nine hops"),
        vec![format!(
            "{FILE}:{line}: schema Hop0 starts a chain of more than 8 schemas that stand for one another at the same place in a value (Hop0 -> Hop1 -> Hop2 -> Hop3 -> Hop4 -> Hop5 -> Hop6 -> Hop7 -> Hop8 -> Thing): shorten it"
        )]
    );
    // 20,000 hops: one error (at the schema 9 hops from the end), found without recursion.
    let text = with_schemas(&hops(20_000));
    let errors = check(&text).expect_err("a very long chain");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let line = line_of(&text, "    Hop19991:") + 1;
    assert!(
        errors[0].starts_with(&format!("{FILE}:{line}: schema Hop19991 starts a chain")),
        "{errors:?}"
    );
}

#[test]
fn a_tab_anywhere_is_never_reported_before_its_line() {
    // The class, not the two cases: a tab inserted at every place of the spec either parses or
    // is reported on its own line or later (where saphyr notices what it did), never earlier.
    for (at, _) in GOOD.char_indices() {
        let text = format!("{}\t{}", &GOOD[..at], &GOOD[at..]);
        let tab_line = GOOD[..at].matches('\n').count() + 1;
        if let Err(e) = yaml::load(FILE, &text) {
            let line: usize = e
                .strip_prefix(&format!("{FILE}:"))
                .and_then(|rest| rest.split(':').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no line in {e:?}"));
            assert!(
                line >= tab_line,
                "a tab on line {tab_line} reported on line {line}: {e}"
            );
        }
    }
}

/// `GOOD` with a stream operation (`things.events`) whose event map the tests break.
const STREAM_OP: &str = r##"  /things/{thing_id}/events:
    get:
      operationId: things.events
      tags: [things]
      parameters:
        - name: thing_id
          in: path
          required: true
          schema:
            type: string
        - name: after
          in: query
          schema:
            type: string
        - name: ticket
          in: query
          schema:
            type: string
      x-agentwire-stream:
        type-member: type
        events:
          thing_changed: Thing
          ping: Thing
        heartbeat: [ping]
        terminal: [thing_changed]
        terminal-data: ['[DONE]']
        non-json: raw
        resume: {query: after}
        opener: {function: stream::open_things, supplies: [ticket]}
      responses:
        '200':
          description: The events.
          content:
            text/event-stream:
              schema:
                type: string
"##;

fn with_stream() -> String {
    GOOD.replacen("components:\n", &format!("{STREAM_OP}components:\n"), 1)
}

#[test]
fn the_event_map_is_read() {
    let spec = check(&with_stream()).expect("valid");
    let op = spec
        .ops
        .iter()
        .find(|o| o.id == "things.events")
        .expect("the stream");
    let stream = op.stream.as_ref().expect("its map");
    assert_eq!(stream.enum_name, "ThingsEventsEvent", "the default name");
    assert_eq!(stream.type_member.as_deref(), Some("type"));
    assert_eq!(stream.heartbeat, ["ping"]);
    assert_eq!(stream.terminal, ["thing_changed"]);
    assert_eq!(stream.terminal_data, ["[DONE]"]);
    assert!(stream.non_json_raw);
    assert!(stream.sets_param("after") && stream.sets_param("ticket"));
    assert!(!stream.sets_param("thing_id"));
    let opener = stream.opener.as_ref().expect("an opener");
    assert_eq!(opener.function, "stream::open_things");
}

#[test]
fn each_broken_event_map_is_reported_at_its_line() {
    // (replace, with, the message, the line it is reported on)
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "non-json: raw",
            "non-json: maybe",
            "`non-json` is `error` (a Decode error) or `raw`",
            "non-json:",
        ),
        (
            "terminal: [thing_changed]",
            "terminal: [thing_finished]",
            "terminal event type `thing_finished` is not declared in `events`",
            "terminal: [",
        ),
        (
            "terminal: [thing_changed]",
            "terminal: [ping]",
            "`ping` cannot be both a heartbeat and terminal",
            "terminal: [",
        ),
        (
            "          ping: Thing",
            "          ping: Missing",
            "event `ping` names a missing schema Missing",
            "ping: Missing",
        ),
        (
            "          ping: Thing",
            "          other: Thing",
            "event type `other` would be the variant `Other`, which holds the undeclared events",
            "other: Thing",
        ),
        (
            "          ping: Thing",
            "          ping: Thing\n          thing-changed: Thing",
            "event types `thing-changed` and `thing_changed` both make the variant `ThingChanged`",
            "  thing_changed: Thing",
        ),
        (
            "        type-member: type",
            "        type-membr: type",
            "unknown `x-agentwire-stream` key `type-membr`",
            "type-membr",
        ),
        (
            "        type-member: type",
            "        enum: thing_event",
            "`enum` names the generated Rust enum: a PascalCase identifier",
            "enum: thing_event",
        ),
        (
            "supplies: [ticket]}",
            "supplies: [tikcet]}",
            "the opener supplies `tikcet`, which the operation does not declare",
            "opener:",
        ),
        (
            "supplies: [ticket]}",
            "supplies: [after]}",
            "`after` is the resume parameter",
            "opener:",
        ),
        (
            "function: stream::open_things",
            "function: Stream::Open",
            "`opener` is `{function:",
            "opener:",
        ),
        (
            "        resume: {query: after}",
            "        resume: {query: since}",
            "`resume` names query parameter `since`, which the operation does not declare",
            "resume:",
        ),
        (
            "            text/event-stream:",
            "            application/json:",
            "`x-agentwire-stream` goes on an operation whose success answers text/event-stream",
            // A mapping is reported where its content starts, as every mapping is.
            "type-member: type",
        ),
    ];
    let good = with_stream();
    for (from, to, expected, line_of_needle) in cases {
        assert!(good.contains(from), "test bug: {from:?}");
        let text = good.replacen(from, to, 1);
        let errors = check(&text).expect_err(expected);
        let line = line_of(&text, line_of_needle);
        let want = format!("{FILE}:{line}: operation things.events: {expected}");
        assert!(
            errors.iter().any(|e| e.starts_with(&want)),
            "replacing {from:?} with {to:?}: expected {want:?}, got {errors:?}"
        );
    }
}

#[test]
fn two_streams_may_not_share_an_event_enum() {
    let second = STREAM_OP
        .replace("/things/{thing_id}/events", "/things/{thing_id}/changes")
        .replace("things.events", "things.changes")
        .replace(
            "      x-agentwire-stream:\n",
            "      x-agentwire-stream:\n        enum: ThingsEventsEvent\n",
        );
    let text = with_stream().replacen("components:\n", &format!("{second}components:\n"), 1);
    let errors = check(&text).expect_err("a clash");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("its event enum ThingsEventsEvent is also the event enum of")),
        "{errors:?}"
    );
}

/// `GOOD` with a task profile polling `status_op`, and `things.list` marked as a task of
/// profile `profile`.
fn with_task(profile_yaml: &str, profile: &str) -> String {
    GOOD.replacen(
        "servers:\n",
        &format!("x-agentwire-tasks:\n{profile_yaml}servers:\n"),
        1,
    )
    .replacen(
        "      operationId: things.list\n",
        &format!("      operationId: things.list\n      x-agentwire-task: {profile}\n"),
        1,
    )
}

#[test]
fn task_profiles_are_checked_where_they_are_declared_and_used() {
    let good_profile = "  jobs:\n    status-operation: things.retrieve\n    success: [done]\n";
    let spec = check(&with_task(good_profile, "jobs")).expect("a good profile passes");
    let profile = &spec.task_profiles["jobs"];
    assert_eq!(
        profile.ack_status_codes,
        vec![202],
        "the default acknowledgement"
    );
    assert_eq!(profile.interval_ms, 1_000);
    assert_eq!(profile.max_wait_ms, 180_000);

    let problems = |text: String| check(&text).expect_err("refused").join("\n");
    let unknown = problems(with_task(good_profile, "celery"));
    assert!(
        unknown.contains("task profile `celery` is not in `x-agentwire-tasks`"),
        "{unknown}"
    );
    let not_get = problems(with_task(
        "  jobs:\n    status-operation: things.nowhere\n    success: [done]\n",
        "jobs",
    ));
    assert!(
        not_get.contains("polls `things.nowhere`, which is not a GET operation of the spec"),
        "{not_get}"
    );
    let no_param = problems(with_task(
        "  jobs:\n    status-operation: things.list\n    success: [done]\n",
        "jobs",
    ));
    assert!(
        no_param.contains("takes the task id as its one path parameter (it has 0)"),
        "{no_param}"
    );
    let bad = problems(with_task(
        "  jobs:\n    status-operation: things.retrieve\n    interval: -1\n    growth: 50\n",
        "jobs",
    ));
    for needle in [
        "lists its `success` states",
        "`interval` is a number of seconds",
        "`growth` is a factor from 1 to 10",
    ] {
        assert!(bad.contains(needle), "{needle}: {bad}");
    }
    let line = line_of(
        &with_task(
            "  jobs:\n    status-operation: things.retrieve\n    success: [done]\n    growth: 50\n",
            "jobs",
        ),
        "growth: 50",
    );
    let located = problems(with_task(
        "  jobs:\n    status-operation: things.retrieve\n    success: [done]\n    growth: 50\n",
        "jobs",
    ));
    assert!(
        located.contains(&format!("{FILE}:{line}:")),
        "the problem names its line {line}: {located}"
    );
}

#[test]
fn secret_properties_are_listed_and_a_secret_outside_a_component_is_refused() {
    let text = GOOD.replacen(
        "        id:\n          type: string\n",
        "        id:\n          type: string\n        token:\n          type: string\n          format: password\n",
        1,
    );
    let loaded = yaml::load(FILE, &text).expect("yaml");
    let secrets = normalize::secrets(&loaded.value).expect("a component's property may be secret");
    let found: Vec<_> = secrets
        .iter()
        .map(|(t, p)| (t.as_str(), p.as_str()))
        .collect();
    assert_eq!(found, [("Thing", "token")]);

    // An inline schema has no Rust type of its own to keep a secret out of `Debug`.
    let inline = GOOD.replacen(
        "              schema:\n                $ref: '#/components/schemas/Thing'",
        "              schema:\n                type: object\n                properties:\n                  key: {type: string, format: password}",
        1,
    );
    let loaded = yaml::load(FILE, &inline).expect("yaml");
    let places = normalize::secrets(&loaded.value).expect_err("refused");
    assert_eq!(places.len(), 1, "{places:?}");
    assert!(places[0].ends_with("/schema/properties/key"), "{places:?}");
    let line = line_of(&inline, "format: password");
    assert_eq!(loaded.at(&places[0]), format!("{FILE}:{line}"));
}

#[test]
fn a_realtime_block_names_known_credentials_and_operations_with_the_topic() {
    let realtime = "x-agentwire-realtime:\n  path: /ws\n  credentials: {key: api_key}\n  type-member: type\n  topic-member: thingId\n  subscribe: subscribe\n  unsubscribe: unsubscribe\n  echoes:\n    - {operation: things.retrieve, topic: thing_id, event: thing}\nservers:";
    let good = GOOD.replacen("servers:", realtime, 1);
    let spec = check(&good).expect("valid");
    let r = spec.realtime.expect("read");
    assert_eq!(r.credentials, [("key".to_owned(), "api_key".to_owned())]);
    assert_eq!(r.echoes.len(), 1);

    let bad = good
        .replacen("{key: api_key}", "{key: password}", 1)
        .replacen("topic: thing_id", "topic: kind", 1)
        .replacen("  unsubscribe: unsubscribe\n", "", 1);
    let errors = check(&bad).expect_err("refused");
    let all = errors.join("\n");
    assert_eq!(errors.len(), 3, "{all}");
    assert!(all.contains("needs `unsubscribe`"), "{all}");
    assert!(all.contains("one of the platform's `credentials`"), "{all}");
    assert!(all.contains("with the path parameter `kind`"), "{all}");
    let line = line_of(&bad, "{key: password}");
    assert!(all.contains(&format!("{FILE}:{line}")), "{all}");
}
