//! Turns a checked spec into what progenitor should see. progenitor generates the models only;
//! our generator writes the operations, so everything progenitor cannot handle or would make
//! strict is taken out here:
//!
//! - error responses (several error body types panic it; errors are the runtime's job), and the
//!   `202` acknowledgement of a task operation (a second success type panics it too), and the
//!   stream of a JSON-or-stream operation (likewise);
//! - hand-written operations (SSE streams stop or panic it), and form request bodies
//!   (multipart, URL-encoded: progenitor refuses them; the generator writes their fields);
//! - `format: date-time`/`date`/`time`/`uuid` (decoded as `String`, so an unverified server format
//!   never fails a whole response), and `format: password` (a secret: [`secrets`] lists them for
//!   `patch.rs`, which keeps them out of `Debug`);
//! - range, length and pattern rules (`minimum`, `maxLength`, `pattern`, ...): the runtime checks
//!   them on requests (`build/checks.rs`); in a type they would fail a response that breaks one;
//! - loose arrays, replaced by a synthetic component that becomes `LooseList<T>`;
//! - dotted operationIds (progenitor wants identifiers);
//! - optional `nullable` properties of request bodies, replaced by a synthetic component that
//!   becomes `Nullable<T>`, so that a caller can send `null` (typify's `Option` cannot); and
//!   optional lists of request bodies, made `Option<Vec<T>>` so that `[]` can be sent.

use serde_json::{Map, Value, json};

use super::model::Spec;

/// The spec for progenitor, and the synthetic `Nullable*` components with their Rust types.
/// `module` is the path of the module the code is generated for (`crate::bimpeai`).
pub fn for_progenitor(value: &Value, spec: &Spec, module: &str) -> (Value, Vec<(String, String)>) {
    let mut v = value.clone();
    let nullable = nullable_request_fields(&mut v, spec, module);
    if let Some(paths) = v.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            let methods: Vec<String> = item.keys().cloned().collect();
            for m in methods {
                let Some(op) = item.get_mut(&m).and_then(Value::as_object_mut) else {
                    continue;
                };
                let id = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let hand_written = spec.ops.iter().any(|o| o.id == id && o.hand_written);
                if hand_written {
                    item.remove(&m);
                    continue;
                }
                op.insert("operationId".into(), Value::String(id.replace('.', "_")));
                // Form bodies are ours (progenitor refuses them): it sees the JSON one only.
                let no_json = match op.get_mut("requestBody").and_then(|b| b.get_mut("content")) {
                    Some(Value::Object(content)) => {
                        content.retain(|ct, _| ct == "application/json");
                        content.is_empty()
                    }
                    _ => false,
                };
                if no_json {
                    op.remove("requestBody");
                }
                // A task operation's acknowledgement is the runtime's, not a second result.
                let task = spec.ops.iter().any(|o| o.id == id && o.task.is_some());
                if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                    responses
                        .retain(|status, _| status.starts_with('2') && !(task && status == "202"));
                    // A JSON-or-stream operation's stream is the runtime's: progenitor sees the
                    // JSON result only (a second success type panics it).
                    let json_or_stream = responses.len() > 1
                        || responses.values().any(|r| {
                            r.pointer("/content/application~1json").is_some()
                                && r.pointer("/content/text~1event-stream").is_some()
                        });
                    if json_or_stream {
                        responses.retain(|_, r| r.pointer("/content/application~1json").is_some());
                        for r in responses.values_mut() {
                            if let Some(content) =
                                r.get_mut("content").and_then(Value::as_object_mut)
                            {
                                content.retain(|ct, _| ct == "application/json");
                            }
                        }
                    }
                }
            }
        }
    }
    strip(&mut v);
    if let Some(schemas) = v
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (synthetic, item) in &spec.loose {
            schemas.insert(
                synthetic.clone(),
                json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{item}")}}),
            );
        }
        for (synthetic, _) in &nullable {
            schemas.insert(synthetic.clone(), json!({"type": "string"}));
        }
    }
    (v, nullable)
}

/// Rewrites optional nullable top-level properties of request-body components into `$ref`s to
/// synthetic `Nullable<Inner>` components.
fn nullable_request_fields(v: &mut Value, spec: &Spec, module: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let bodies: std::collections::BTreeSet<String> = spec
        .ops
        .iter()
        .filter_map(|o| o.body.as_ref())
        .filter_map(|b| b.type_name.strip_prefix("types::").map(str::to_owned))
        .collect();
    let Some(schemas) = v
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return out;
    };
    for body in bodies {
        let Some(schema) = schemas.get_mut(&body) else {
            continue;
        };
        let required: Vec<String> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            continue;
        };
        for (name, prop) in props.iter_mut() {
            if required.contains(name) {
                continue;
            }
            // An optional list becomes `Option<Vec<T>>` (typify would make it a `Vec` skipped when
            // empty), so that a caller can send `[]` to clear it.
            if prop.get("type").and_then(Value::as_str) == Some("array") {
                if let Some(obj) = prop.as_object_mut() {
                    obj.insert("nullable".into(), Value::Bool(true));
                }
                continue;
            }
            if prop.get("nullable") != Some(&Value::Bool(true)) {
                continue;
            }
            let target = prop
                .get("$ref")
                .or_else(|| {
                    prop.pointer("/oneOf/0/$ref")
                        .filter(|_| prop["oneOf"].as_array().is_some_and(|a| a.len() == 1))
                })
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .map(str::to_owned);
            let (suffix, rust) = match (target, prop.get("type").and_then(Value::as_str)) {
                (Some(t), _) => (t.clone(), format!("{module}::types::{t}")),
                (None, Some("string")) => ("String".into(), "::std::string::String".into()),
                (None, Some("integer")) => ("Integer".into(), "i64".into()),
                (None, Some("number")) => ("Number".into(), "f64".into()),
                (None, Some("boolean")) => ("Boolean".into(), "bool".into()),
                _ => continue,
            };
            let synthetic = format!("Nullable{suffix}");
            let description = prop.get("description").cloned();
            let mut replaced = Map::new();
            replaced.insert(
                "$ref".into(),
                json!(format!("#/components/schemas/{synthetic}")),
            );
            if let Some(d) = description {
                replaced.insert("description".into(), d);
            }
            *prop = Value::Object(replaced);
            if !out.iter().any(|(s, _)| s == &synthetic) {
                out.push((
                    synthetic,
                    format!("crate::runtime::nullable::Nullable<{rust}>"),
                ));
            }
        }
    }
    out
}

fn strip(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if matches!(
                map.get("format").and_then(Value::as_str),
                Some("date-time" | "date" | "time" | "uuid" | "password")
            ) {
                map.remove("format");
            }
            let loose_item = map
                .get("items")
                .and_then(|i| i.get("$ref"))
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .filter(|_| map.get("x-agentwire-loose") == Some(&Value::Bool(true)))
                .map(str::to_owned);
            if let Some(item) = loose_item {
                // OpenAPI 3.0 ignores siblings of a `$ref`: the ref alone stands for the list.
                *map = Map::from_iter([(
                    "$ref".to_string(),
                    json!(format!("#/components/schemas/Loose{item}List")),
                )]);
                return;
            }
            // Range, length and pattern rules are checked by the runtime before a request
            // (`checks.rs`), not by the types: a response breaking one still decodes. A
            // property that happens to be named like a keyword is an object, and stays.
            map.retain(|k, v| {
                let rule = super::checks::KEYWORDS.contains(&k.as_str())
                    && !v.is_object()
                    && !v.is_array();
                !k.starts_with("x-agentwire") && !rule
            });
            for child in map.values_mut() {
                strip(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip),
        _ => {}
    }
}

/// The secret properties (`format: password`) as `(schema, property)` pairs. Only a component's
/// own properties can be kept out of `Debug` (its Rust type has a name); a secret anywhere else
/// is refused: `Err` holds the JSON pointers of such places, so that no secret is printed
/// unnoticed.
pub fn secrets(value: &Value) -> Result<std::collections::BTreeSet<(String, String)>, Vec<String>> {
    let mut found = std::collections::BTreeSet::new();
    let mut misplaced = Vec::new();
    let schemas = value
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    for (name, schema) in schemas.into_iter().flatten() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for (property, p) in properties.into_iter().flatten() {
            if p.get("format").and_then(Value::as_str) == Some("password") {
                found.insert((name.clone(), property.clone()));
            }
        }
    }
    fn walk(v: &Value, at: &str, allowed: bool, misplaced: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if !allowed && map.get("format").and_then(Value::as_str) == Some("password") {
                    misplaced.push(at.to_owned());
                }
                for (k, child) in map {
                    let path = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                    // `/components/schemas/<name>/properties/<property>` itself is allowed.
                    let depth = path.split('/').count();
                    let own = path.starts_with("/components/schemas/")
                        && depth == 6
                        && path.split('/').nth(4) == Some("properties");
                    walk(child, &path, own, misplaced);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, &format!("{at}/{i}"), false, misplaced);
                }
            }
            _ => {}
        }
    }
    walk(value, "", false, &mut misplaced);
    if misplaced.is_empty() {
        Ok(found)
    } else {
        Err(misplaced)
    }
}
