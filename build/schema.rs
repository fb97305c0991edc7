//! OpenAPI 3.0 schemas as JSON Schema (2020-12), for validating fixtures and live answers (the
//! contract suite, as `agentwire::contract::schema`) and requests (build.rs compiles this same
//! file and emits each operation's request-body schema for the mock, feature `mock`).
//!
//! The conversion is strict where a contract should be: an object schema without
//! `additionalProperties` admits no member the spec does not name (the client tolerates new
//! fields; the spec should still name them), and enums are checked exactly. `nullable` becomes a
//! `null` alternative, component `$ref`s point into `$defs`, and a loose array
//! (`x-agentwire-loose`) also admits the non-object placeholders the server is known to send.

use serde_json::{Map, Value, json};

/// The components of a spec as `$defs`, converted.
pub fn defs(spec: &Value) -> Value {
    let mut defs = Map::new();
    if let Some(schemas) = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            defs.insert(name.clone(), convert(schema));
        }
    }
    Value::Object(defs)
}

/// A standalone JSON Schema document for `schema`, with the spec's components as `$defs`.
pub fn document(schema: Value, defs: &Value) -> Value {
    let mut doc = match schema {
        Value::Object(map) => map,
        // `true` / `false` schemas and anything odd: wrap so `$defs` can sit beside it.
        other => Map::from_iter([("allOf".to_string(), json!([other]))]),
    };
    doc.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    doc.insert("$defs".into(), defs.clone());
    Value::Object(doc)
}

/// How deeply [`convert`] follows nested schemas. A spec read by the contract tooling nests at
/// most 64 levels (build/yaml.rs refuses deeper ones); a schema built in code that nests deeper
/// is cut there: the deeper part becomes `false`, which no value satisfies.
pub const MAX_SCHEMA_DEPTH: usize = 128;

/// Converts one OpenAPI 3.0 schema object.
pub fn convert(schema: &Value) -> Value {
    convert_at(schema, 0)
}

fn convert_at(schema: &Value, depth: usize) -> Value {
    if depth > MAX_SCHEMA_DEPTH {
        return Value::Bool(false);
    }
    let convert = |s: &Value| convert_at(s, depth + 1);
    let Some(obj) = schema.as_object() else {
        return schema.clone();
    };
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        let target = r
            .strip_prefix("#/components/schemas/")
            .map(|name| format!("#/$defs/{name}"))
            .unwrap_or_else(|| r.to_string());
        return json!({"$ref": target});
    }
    let mut out = Map::new();
    for (key, value) in obj {
        match key.as_str() {
            "properties" => {
                let props = value
                    .as_object()
                    .map(|p| {
                        p.iter()
                            .map(|(k, v)| (k.clone(), convert(v)))
                            .collect::<Map<_, _>>()
                    })
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Object(props));
            }
            "items" | "not" => {
                out.insert(key.clone(), convert(value));
            }
            "additionalProperties" => {
                let converted = if value.is_object() {
                    convert(value)
                } else {
                    value.clone()
                };
                out.insert(key.clone(), converted);
            }
            "oneOf" | "anyOf" | "allOf" => {
                let alts = value
                    .as_array()
                    .map(|a| a.iter().map(&convert).collect::<Vec<_>>())
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Array(alts));
            }
            // OpenAPI-only keywords, and our extensions, say nothing to a validator.
            "nullable" | "discriminator" | "example" | "xml" | "externalDocs" => {}
            k if k.starts_with("x-") => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    let is_object =
        obj.get("type").and_then(Value::as_str) == Some("object") || obj.contains_key("properties");
    if is_object && !obj.contains_key("additionalProperties") {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    if obj.get("x-agentwire-loose") == Some(&Value::Bool(true))
        && let Some(items) = out.remove("items")
    {
        out.insert(
            "items".into(),
            json!({"anyOf": [items, {"not": {"type": "object"}}]}),
        );
    }
    let converted = Value::Object(out);
    if obj.get("nullable") == Some(&Value::Bool(true)) {
        json!({"anyOf": [converted, {"type": "null"}]})
    } else {
        converted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_refs_loose_and_strict_objects() {
        let s = json!({"type": "object", "required": ["id"], "properties": {
            "id": {"type": "string"},
            "when": {"type": "string", "nullable": true},
            "kind": {"$ref": "#/components/schemas/Kind"},
            "rules": {"type": "array", "x-agentwire-loose": true, "items": {"$ref": "#/components/schemas/Rule"}}
        }});
        let c = convert(&s);
        assert_eq!(c["additionalProperties"], json!(false));
        assert_eq!(c["properties"]["when"]["anyOf"][1], json!({"type": "null"}));
        assert_eq!(c["properties"]["kind"], json!({"$ref": "#/$defs/Kind"}));
        assert_eq!(
            c["properties"]["rules"]["items"]["anyOf"][1],
            json!({"not": {"type": "object"}})
        );
    }

    #[test]
    fn a_schema_nested_deeper_than_the_bound_is_cut_not_followed() {
        // 100,000 levels of `items`: recursion all the way down would overflow the stack.
        // Built by moving values (`json!` would copy `s`, recursing as deep as it goes).
        let mut s = json!({"type": "string"});
        for _ in 0..100_000 {
            let mut outer = json!({"type": "array"});
            outer["items"] = s;
            s = outer;
        }
        let mut c = &convert(&s);
        let mut levels = 0;
        while let Some(items) = c.get("items") {
            c = items;
            levels += 1;
        }
        assert_eq!(levels, MAX_SCHEMA_DEPTH + 1);
        assert_eq!(c, &Value::Bool(false));
        // Dropping a deep `Value` recurses too: take it apart from the top.
        while let Some(inner) = s.get_mut("items").map(Value::take) {
            s = inner;
        }
    }
}
