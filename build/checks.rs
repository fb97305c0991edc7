//! The range, length and pattern rules of an operation's parameters and JSON body, read from
//! the spec (`minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `minLength`,
//! `maxLength`, `pattern`, `minItems`, `maxItems`) for the runtime to check before any request
//! (`src/runtime/checks.rs`). `normalize.rs` removes the same keywords before progenitor sees
//! the spec, so that no generated type enforces them (a response breaking one still decodes).

use std::collections::BTreeSet;

use serde_json::Value;

/// The keywords read here (and removed for progenitor).
pub const KEYWORDS: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
];

/// How deep into a body's components the rules are followed (a recursive schema stops here).
const MAX_DEPTH: usize = 8;

/// The rules of one value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleDef {
    pub minimum: Option<f64>,
    pub exclusive_minimum: bool,
    pub maximum: Option<f64>,
    pub exclusive_maximum: bool,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub pattern: Option<String>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
}

/// Where a checked value is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    Query(String),
    Header(String),
    /// A JSON pointer into the body, `*` for every item of an array.
    Body(String),
    Form(String),
}

/// One rule on one value.
#[derive(Debug, Clone)]
pub struct CheckDef {
    pub at: At,
    pub label: String,
    pub rule: RuleDef,
}

/// The rules `schema` declares itself (through one `$ref`), or `None`; a malformed keyword or
/// a pattern that does not compile is an error message.
pub fn rule_of(
    schema: &Value,
    schemas: &serde_json::Map<String, Value>,
) -> Result<Option<RuleDef>, String> {
    let schema = resolve(schema, schemas);
    let number = |k: &str| -> Result<Option<f64>, String> {
        match schema.get(k) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| format!("`{k}` must be a number")),
        }
    };
    let count = |k: &str| -> Result<Option<u64>, String> {
        match schema.get(k) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| format!("`{k}` must be a non-negative integer")),
        }
    };
    let flag = |k: &str| -> Result<bool, String> {
        match schema.get(k) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            // OpenAPI 3.1 / JSON Schema write the bound itself; 3.0.3 a boolean.
            Some(_) => Err(format!("`{k}` is `true` or `false` in OpenAPI 3.0")),
        }
    };
    let rule = RuleDef {
        minimum: number("minimum")?,
        exclusive_minimum: flag("exclusiveMinimum")?,
        maximum: number("maximum")?,
        exclusive_maximum: flag("exclusiveMaximum")?,
        min_length: count("minLength")?,
        max_length: count("maxLength")?,
        pattern: match schema.get("pattern") {
            None => None,
            Some(Value::String(p)) => {
                regress::Regex::new(p).map_err(|e| {
                    format!("`pattern` {p:?} is not an ECMAScript regular expression: {e}")
                })?;
                Some(p.clone())
            }
            Some(_) => return Err("`pattern` must be a string".to_owned()),
        },
        min_items: count("minItems")?,
        max_items: count("maxItems")?,
    };
    let pairs = [
        (rule.minimum, rule.maximum, "minimum", "maximum"),
        (
            rule.min_length.map(|n| n as f64),
            rule.max_length.map(|n| n as f64),
            "minLength",
            "maxLength",
        ),
        (
            rule.min_items.map(|n| n as f64),
            rule.max_items.map(|n| n as f64),
            "minItems",
            "maxItems",
        ),
    ];
    for (low, high, l, h) in pairs {
        if let (Some(low), Some(high)) = (low, high)
            && low > high
        {
            return Err(format!("`{l}` {low} is above `{h}` {high}: no value fits"));
        }
    }
    if (rule.exclusive_minimum && rule.minimum.is_none())
        || (rule.exclusive_maximum && rule.maximum.is_none())
    {
        return Err(
            "`exclusiveMinimum`/`exclusiveMaximum` need their `minimum`/`maximum`".to_owned(),
        );
    }
    Ok((rule != RuleDef::default()).then_some(rule))
}

/// Every rule inside a JSON body schema: its members (through `$ref`s) and array items, to
/// [`MAX_DEPTH`]. `oneOf`/`anyOf` alternatives are not followed (which one applies is the
/// server's to say). Errors: the JSON pointer of the schema and the message.
pub fn body_checks(
    schema: &Value,
    schemas: &serde_json::Map<String, Value>,
) -> Result<Vec<CheckDef>, String> {
    let mut out = Vec::new();
    walk(schema, schemas, "", "", 0, &mut BTreeSet::new(), &mut out)?;
    Ok(out)
}

fn walk(
    schema: &Value,
    schemas: &serde_json::Map<String, Value>,
    pointer: &str,
    label: &str,
    depth: usize,
    visiting: &mut BTreeSet<String>,
    out: &mut Vec<CheckDef>,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let name = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .map(str::to_owned);
    if let Some(name) = &name
        && !visiting.insert(name.clone())
    {
        return Ok(()); // recursion: the rules of this schema are already being collected
    }
    let resolved = resolve(schema, schemas);
    if !pointer.is_empty() {
        let rule = rule_of(resolved, schemas).map_err(|e| format!("{label}: {e}"))?;
        if let Some(rule) = rule {
            out.push(CheckDef {
                at: At::Body(pointer.to_owned()),
                label: label.to_owned(),
                rule,
            });
        }
    }
    if let Some(props) = resolved.get("properties").and_then(Value::as_object) {
        for (member, sub) in props {
            let escaped = member.replace('~', "~0").replace('/', "~1");
            let sub_label = if label.is_empty() {
                member.clone()
            } else {
                format!("{label}.{member}")
            };
            walk(
                sub,
                schemas,
                &format!("{pointer}/{escaped}"),
                &sub_label,
                depth + 1,
                visiting,
                out,
            )?;
        }
    }
    if let Some(items) = resolved.get("items") {
        let item_label = if label.is_empty() {
            "[]".to_owned()
        } else {
            format!("{label}[]")
        };
        walk(
            items,
            schemas,
            &format!("{pointer}/*"),
            &item_label,
            depth + 1,
            visiting,
            out,
        )?;
    }
    if let Some(name) = &name {
        visiting.remove(name);
    }
    Ok(())
}

/// `schema`, or the component its `$ref` names (a chain of them).
fn resolve<'a>(schema: &'a Value, schemas: &'a serde_json::Map<String, Value>) -> &'a Value {
    let mut current = schema;
    for _ in 0..MAX_DEPTH {
        match current
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .and_then(|n| schemas.get(n))
        {
            Some(next) => current = next,
            None => break,
        }
    }
    current
}
