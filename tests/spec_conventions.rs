//! The spec checks build.rs runs: the real specs pass, and each broken convention is reported
//! with the file, the line and the operation, so a spec author can act on it.

#[path = "../build/yaml.rs"]
#[allow(dead_code)]
mod yaml;

#[path = "../build/model.rs"]
#[allow(dead_code)]
mod model;

const FILE: &str = "openapi/test.yaml";

/// A small spec that follows every convention; the tests break it one way at a time.
const GOOD: &str = r##"openapi: 3.0.3
info:
  title: Test API
  version: "1"
x-agentwire-platform:
  name: testp
  display-name: TestP
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
    model::read(&loaded)
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

#[test]
fn the_real_specs_pass() {
    let dir = format!("{}/openapi", env!("CARGO_MANIFEST_DIR"));
    let mut specs: Vec<_> = std::fs::read_dir(&dir)
        .expect("openapi/ readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    specs.sort();
    assert!(!specs.is_empty());
    for path in specs {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let rel = format!("openapi/{name}");
        let text = std::fs::read_to_string(&path).expect("spec readable");
        let loaded = yaml::load(&rel, &text).expect("YAML");
        let spec = model::read(&loaded).unwrap_or_else(|e| panic!("{}", e.join("\n")));
        assert!(!spec.ops.is_empty());
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
