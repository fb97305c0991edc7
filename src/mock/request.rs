//! A request checked against its operation's spec, for the mock's second and third answers:
//! path parameters and query parameters by their declared types (enums exactly, undeclared
//! parameters rejected), and the JSON body against its request schema. Each problem comes out
//! as a `"path: message"` field error, the way platforms write them: a parameter by its name, a
//! body member by its dotted path (`channels.0.type`), the body as a whole as `body`.

use serde_json::Value;

use super::form::{self, FormPart};
use super::spec::Parsed;
use super::validate;
use crate::runtime::checks;
use crate::runtime::operation::{Operation, match_template};

/// How the body as a whole is named in field errors.
const BODY: &str = "body";

/// The values of a request that break the spec's range, length and pattern rules (the same
/// checks the client makes before sending: `runtime::checks`), as field errors.
pub(crate) fn rule_problems(
    op: &Operation,
    query: &[(String, String)],
    body: &[u8],
    form_parts: Option<&Result<Vec<FormPart>, String>>,
) -> Vec<String> {
    if op.checks.is_empty() {
        return Vec::new();
    }
    let texts: Vec<(String, String)> = match form_parts {
        Some(Ok(parts)) => parts
            .iter()
            .filter(|p| p.file_name.is_none())
            .map(|p| (p.name.clone(), p.text()))
            .collect(),
        _ => Vec::new(),
    };
    let values = checks::Values {
        query: query
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect(),
        headers: Vec::new(),
        form: texts
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect(),
        body: serde_json::from_slice(body).ok(),
    };
    checks::violations(op.checks, &values)
        .into_iter()
        .map(|v| format!("{}: {}", v.label, v.text))
        .collect()
}

/// Every problem of a routed request; empty when it is valid against the spec.
#[allow(clippy::too_many_arguments, reason = "one request, in its parts")]
pub(crate) fn problems(
    parsed: &Parsed<'_>,
    defs: &Value,
    template: &str,
    path: &str,
    query: &[(String, String)],
    body: &[u8],
    form_parts: Option<&Result<Vec<FormPart>, String>>,
) -> Vec<String> {
    let spec = parsed.spec;
    let mut out = Vec::new();
    if let Some((_, values)) = match_template(template, path) {
        for (name, raw) in values {
            let Some(param) = spec.path_params.iter().find(|p| p.name == name) else {
                continue;
            };
            let value = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
            if let Err(e) = param.kind.check(&value) {
                out.push(format!("{name}: {e}"));
            }
        }
    }
    for (name, value) in query {
        match spec.query.iter().find(|p| p.name == name) {
            Some(param) => {
                if let Err(e) = param.kind.check(value) {
                    out.push(format!("{name}: {e}"));
                }
            }
            None => out.push(format!(
                "{name}: is not a query parameter of {}",
                spec.operation
            )),
        }
    }
    for param in spec.query.iter().filter(|p| p.required) {
        if !query.iter().any(|(name, _)| name == param.name) {
            out.push(format!("{}: is required", param.name));
        }
    }
    let empty = std::str::from_utf8(body).is_ok_and(|t| t.trim().is_empty());
    match (form_parts, &spec.form, &spec.body) {
        // A form, to an operation that takes one.
        (Some(Err(e)), Some(_), _) => out.push(format!("{BODY}: {e}")),
        (Some(Ok(parts)), Some(declared), _) => {
            if parts.is_empty() && declared.required {
                out.push(format!("{BODY}: is required"));
            } else if let Some(schema) = parsed.form {
                let value = form::to_json(parts, schema, defs);
                out.extend(
                    validate::validate(schema, defs, &value)
                        .iter()
                        .map(|v| v.field_error(BODY)),
                );
            }
        }
        (Some(_), None, Some(_)) => out.push(format!(
            "{BODY}: must be JSON (application/json), not a form"
        )),
        // No form, to an operation that takes only one.
        (None, Some(declared), None) if empty && declared.required => {
            out.push(format!("{BODY}: is required"));
        }
        (None, Some(_), None) if !empty => out.push(format!(
            "{BODY}: must be a form (multipart/form-data or application/x-www-form-urlencoded)"
        )),
        _ => {}
    }
    if let (Some(declared), None) = (&spec.body, form_parts) {
        let text = std::str::from_utf8(body).map(str::trim);
        match text {
            Ok("") if declared.required => out.push(format!("{BODY}: is required")),
            Ok("") => {}
            _ => match serde_json::from_slice::<Value>(body) {
                Err(e) => out.push(format!("{BODY}: is not valid JSON ({e})")),
                Ok(value) => {
                    if let Some(schema) = parsed.body {
                        out.extend(
                            validate::validate(schema, defs, &value)
                                .iter()
                                .map(|v| v.field_error(BODY)),
                        );
                    }
                }
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::spec::{BodySpec, ParamKind, ParamSpec, RequestSpec};
    use serde_json::json;

    static SPEC: RequestSpec = RequestSpec {
        operation: "things.update",
        path_params: &[ParamSpec {
            name: "thing_id",
            kind: ParamKind::Integer,
            required: true,
        }],
        query: &[
            ParamSpec {
                name: "mode",
                kind: ParamKind::Enum(&["fast", "slow"]),
                required: true,
            },
            ParamSpec {
                name: "dry_run",
                kind: ParamKind::Boolean,
                required: false,
            },
        ],
        body: Some(BodySpec {
            schema: "",
            required: true,
        }),
        form: None,
    };

    fn check(path: &str, query: &[(&str, &str)], body: &str) -> Vec<String> {
        let schema = json!({"type": "object", "additionalProperties": false,
            "required": ["name"], "properties": {"name": {"type": "string"}}});
        let query: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let parsed = Parsed {
            spec: &SPEC,
            body: Some(&schema),
            form: None,
        };
        problems(
            &parsed,
            &json!({}),
            "/things/{thing_id}",
            path,
            &query,
            body.as_bytes(),
            None,
        )
    }

    #[test]
    fn a_valid_request_has_no_problems() {
        assert_eq!(
            check("/things/42", &[("mode", "fast")], r#"{"name": "x"}"#),
            Vec::<String>::new()
        );
    }

    #[test]
    fn parameters_are_checked_by_type_and_undeclared_ones_named() {
        assert_eq!(
            check(
                "/things/forty",
                &[("dry_run", "yes"), ("colour", "blue")],
                r#"{"name": "x"}"#
            ),
            [
                "thing_id: must be an integer (got \"forty\")",
                "dry_run: must be true or false (got \"yes\")",
                "colour: is not a query parameter of things.update",
                "mode: is required",
            ]
        );
        assert_eq!(
            check("/things/1", &[("mode", "medium")], r#"{"name": "x"}"#),
            ["mode: must be one of fast, slow (got \"medium\")"]
        );
    }

    #[test]
    fn the_body_is_required_parsed_and_validated() {
        assert_eq!(
            check("/things/1", &[("mode", "fast")], "  "),
            ["body: is required"]
        );
        let not_json = check("/things/1", &[("mode", "fast")], "{name:");
        assert_eq!(not_json.len(), 1);
        assert!(
            not_json[0].starts_with("body: is not valid JSON ("),
            "{not_json:?}"
        );
        assert_eq!(
            check("/things/1", &[("mode", "fast")], r#"{"nom": 1}"#),
            ["name: is required", "nom: is not allowed (allowed: name)"]
        );
        assert_eq!(
            check("/things/1", &[("mode", "fast")], "[1]"),
            ["body: must be an object"]
        );
    }
}
