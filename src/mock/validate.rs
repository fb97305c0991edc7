//! A small JSON Schema validator for exactly the subset that the spec conversion
//! (`agentwire::contract::schema`, `build/schema.rs`) produces from an OpenAPI 3.0 request body:
//! `$ref` into `$defs`, `type` (one or a list), `properties`, `required`, `additionalProperties`
//! (a boolean or a schema), `items`, `enum`, `const`, `anyOf`, `oneOf`, `allOf`, `not`,
//! `minimum`/`maximum` (and their exclusive forms), `minLength`/`maxLength` (in characters) and
//! `minItems`/`maxItems`. Every other keyword (`format`, `pattern`, `description`, ...) is ignored.
//!
//! It returns every violation with the dotted path of the offending member (`channels.0.type`,
//! empty for the value itself), the way platforms write field errors. Its recursion is bounded
//! ([`MAX_DEPTH`]): a recursive schema or a deeply nested value ends in a violation, never in a
//! stack overflow; and so is its total work ([`MAX_DEPTH`] deep, a budget of steps in proportion to
//! the size of the value), so a schema whose alternatives refer to each other cannot make it
//! explode.

use std::cell::Cell;

use serde_json::{Map, Value};

/// How many schema levels (each `$ref`, alternative and nested member counts one) a validation
/// may descend before it stops with a violation.
pub(crate) const MAX_DEPTH: usize = 96;

/// Schema steps allowed per node of the value checked (plus a fixed allowance), bounding the
/// total work whatever the schema.
const STEPS_PER_NODE: usize = 64;
const BASE_STEPS: usize = 10_000;

/// One way a value breaks its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    /// The dotted path of the member (`channels.0.type`); empty for the whole value.
    pub path: String,
    /// The keyword broken: `required`, `type`, `enum`, `const`, `additionalProperties`,
    /// `minimum`, `maxLength`, `oneOf`, `depth`, ...
    pub rule: &'static str,
    /// What is wrong, as a phrase that follows the path (`is required`, `must be a string`).
    pub message: String,
}

impl Violation {
    /// `"path: message"`, the field-error form platforms use; `root` names the empty path.
    pub(crate) fn field_error(&self, root: &str) -> String {
        let path = if self.path.is_empty() {
            root
        } else {
            &self.path
        };
        format!("{path}: {}", self.message)
    }
}

/// Validates `instance` against `schema`, resolving `#/$defs/<Name>` references in `defs` (the
/// object of definitions). Every violation, in document order.
pub(crate) fn validate(schema: &Value, defs: &Value, instance: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    let v = Validator {
        defs,
        steps_left: Cell::new(
            BASE_STEPS.saturating_add(nodes(instance).saturating_mul(STEPS_PER_NODE)),
        ),
        exhausted: Cell::new(false),
    };
    v.check(schema, instance, &mut Vec::new(), 0, &mut out);
    if v.exhausted.get() && !out.iter().any(|o| o.rule == "budget") {
        out.push(Violation {
            path: String::new(),
            rule: "budget",
            message: "is too complex to be checked against its schema".to_owned(),
        });
    }
    out
}

/// The number of values in `value`, counted without recursion.
fn nodes(value: &Value) -> usize {
    let mut count = 0usize;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        count += 1;
        match v {
            Value::Array(items) => stack.extend(items),
            Value::Object(members) => stack.extend(members.values()),
            _ => {}
        }
    }
    count
}

struct Validator<'d> {
    defs: &'d Value,
    /// Steps left before the validation gives up (the value is then reported as too complex).
    steps_left: Cell<usize>,
    exhausted: Cell<bool>,
}

/// One step of a member path.
enum Step<'a> {
    Member(&'a str),
    Index(usize),
}

fn render(path: &[Step<'_>]) -> String {
    let mut s = String::new();
    for (i, step) in path.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        match step {
            Step::Member(m) => s.push_str(m),
            Step::Index(n) => s.push_str(&n.to_string()),
        }
    }
    s
}

fn violation(path: &[Step<'_>], rule: &'static str, message: impl Into<String>) -> Violation {
    Violation {
        path: render(path),
        rule,
        message: message.into(),
    }
}

/// The JSON Schema type names a value has (`integer` values are also `number`s).
fn type_names(value: &Value) -> &'static [&'static str] {
    match value {
        Value::Null => &["null"],
        Value::Bool(_) => &["boolean"],
        Value::Number(n) => {
            let integral = n.is_i64()
                || n.is_u64()
                || n.as_f64()
                    .is_some_and(|f| f.is_finite() && f.fract() == 0.0);
            if integral {
                &["integer", "number"]
            } else {
                &["number"]
            }
        }
        Value::String(_) => &["string"],
        Value::Array(_) => &["array"],
        Value::Object(_) => &["object"],
    }
}

fn with_article(ty: &str) -> String {
    match ty {
        "null" => "null".to_owned(),
        "integer" | "object" | "array" => format!("an {ty}"),
        other => format!("a {other}"),
    }
}

/// "a string", "a string or null", "an integer, a string or null".
fn type_phrase(types: &[String]) -> String {
    let words: Vec<String> = types.iter().map(|t| with_article(t)).collect();
    match words.as_slice() {
        [] => "something else".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        let cut: String = text.chars().take(37).collect();
        format!("{cut}...")
    } else {
        text
    }
}

fn declared_types(schema: &Map<String, Value>) -> Option<Vec<String>> {
    match schema.get("type")? {
        Value::String(t) => Some(vec![t.clone()]),
        Value::Array(ts) => Some(
            ts.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect(),
        ),
        _ => None,
    }
}

impl Validator<'_> {
    /// The schema a `$ref` points at, if it is one of ours (`#/$defs/<Name>`).
    fn resolve(&self, reference: &str) -> Option<&Value> {
        let name = reference.strip_prefix("#/$defs/")?;
        self.defs.get(name)
    }

    fn check<'i>(
        &self,
        schema: &Value,
        instance: &'i Value,
        path: &mut Vec<Step<'i>>,
        depth: usize,
        out: &mut Vec<Violation>,
    ) {
        match self.steps_left.get().checked_sub(1) {
            Some(left) => self.steps_left.set(left),
            None => {
                self.exhausted.set(true);
                out.push(violation(
                    path,
                    "budget",
                    "is too complex to be checked against its schema",
                ));
                return;
            }
        }
        if depth > MAX_DEPTH {
            out.push(violation(
                path,
                "depth",
                "is nested too deeply to be checked",
            ));
            return;
        }
        let obj = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => {
                out.push(violation(path, "false", "is not allowed"));
                return;
            }
            Value::Object(obj) => obj,
            // Not a schema: nothing to hold the value to.
            _ => return,
        };
        if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
            match self.resolve(reference) {
                Some(target) => self.check(target, instance, path, depth + 1, out),
                None => out.push(violation(
                    path,
                    "$ref",
                    format!("cannot be checked: the schema reference {reference} is unknown"),
                )),
            }
            // In the converted subset a `$ref` stands alone.
            return;
        }

        if let Some(types) = declared_types(obj) {
            let actual = type_names(instance);
            if !types.iter().any(|t| actual.contains(&t.as_str())) {
                out.push(violation(
                    path,
                    "type",
                    format!("must be {}", type_phrase(&types)),
                ));
                // The other keywords would only repeat the same complaint.
                return;
            }
        }
        if let Some(values) = obj.get("enum").and_then(Value::as_array)
            && !values.contains(instance)
        {
            let list: Vec<String> = values
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            out.push(violation(
                path,
                "enum",
                format!(
                    "must be one of {} (got {})",
                    list.join(", "),
                    short(instance)
                ),
            ));
        }
        if let Some(expected) = obj.get("const")
            && expected != instance
        {
            out.push(violation(
                path,
                "const",
                format!("must be {expected} (got {})", short(instance)),
            ));
        }
        self.check_number(obj, instance, path, out);
        self.check_string(obj, instance, path, out);
        self.check_array(obj, instance, path, depth, out);
        self.check_object(obj, instance, path, depth, out);
        self.check_combinators(obj, instance, path, depth, out);
    }

    fn check_number(
        &self,
        obj: &Map<String, Value>,
        instance: &Value,
        path: &[Step<'_>],
        out: &mut Vec<Violation>,
    ) {
        let Some(n) = instance.as_f64() else { return };
        let bound = |key: &str| obj.get(key).and_then(Value::as_f64);
        if let Some(min) = bound("minimum")
            && n < min
        {
            out.push(violation(
                path,
                "minimum",
                format!("must be at least {min}"),
            ));
        }
        if let Some(max) = bound("maximum")
            && n > max
        {
            out.push(violation(path, "maximum", format!("must be at most {max}")));
        }
        if let Some(min) = bound("exclusiveMinimum")
            && n <= min
        {
            out.push(violation(
                path,
                "exclusiveMinimum",
                format!("must be greater than {min}"),
            ));
        }
        if let Some(max) = bound("exclusiveMaximum")
            && n >= max
        {
            out.push(violation(
                path,
                "exclusiveMaximum",
                format!("must be less than {max}"),
            ));
        }
    }

    fn check_string(
        &self,
        obj: &Map<String, Value>,
        instance: &Value,
        path: &[Step<'_>],
        out: &mut Vec<Violation>,
    ) {
        let Some(s) = instance.as_str() else { return };
        let chars = s.chars().count() as u64;
        if let Some(min) = obj.get("minLength").and_then(Value::as_u64)
            && chars < min
        {
            out.push(violation(
                path,
                "minLength",
                format!("must be at least {min} character{} long", plural(min)),
            ));
        }
        if let Some(max) = obj.get("maxLength").and_then(Value::as_u64)
            && chars > max
        {
            out.push(violation(
                path,
                "maxLength",
                format!("must be at most {max} character{} long", plural(max)),
            ));
        }
    }

    fn check_array<'i>(
        &self,
        obj: &Map<String, Value>,
        instance: &'i Value,
        path: &mut Vec<Step<'i>>,
        depth: usize,
        out: &mut Vec<Violation>,
    ) {
        let Some(items) = instance.as_array() else {
            return;
        };
        let len = items.len() as u64;
        if let Some(min) = obj.get("minItems").and_then(Value::as_u64)
            && len < min
        {
            out.push(violation(
                path,
                "minItems",
                format!("must have at least {min} item{}", plural(min)),
            ));
        }
        if let Some(max) = obj.get("maxItems").and_then(Value::as_u64)
            && len > max
        {
            out.push(violation(
                path,
                "maxItems",
                format!("must have at most {max} item{}", plural(max)),
            ));
        }
        if let Some(item_schema) = obj.get("items") {
            for (i, item) in items.iter().enumerate() {
                path.push(Step::Index(i));
                self.check(item_schema, item, path, depth + 1, out);
                path.pop();
            }
        }
    }

    fn check_object<'i>(
        &self,
        obj: &Map<String, Value>,
        instance: &'i Value,
        path: &mut Vec<Step<'i>>,
        depth: usize,
        out: &mut Vec<Violation>,
    ) {
        let Some(members) = instance.as_object() else {
            return;
        };
        let properties = obj.get("properties").and_then(Value::as_object);
        for name in obj
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !members.contains_key(name) {
                let mut at = render(path);
                if !at.is_empty() {
                    at.push('.');
                }
                at.push_str(name);
                out.push(Violation {
                    path: at,
                    rule: "required",
                    message: "is required".to_owned(),
                });
            }
        }
        for (name, value) in members {
            path.push(Step::Member(name));
            match properties.and_then(|p| p.get(name)) {
                Some(member_schema) => self.check(member_schema, value, path, depth + 1, out),
                None => match obj.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        // Name what is, so a caller guessing a body's shape can correct it.
                        let mut known: Vec<&str> = properties
                            .into_iter()
                            .flat_map(|p| p.keys().map(String::as_str))
                            .collect();
                        known.sort_unstable();
                        let message = if known.is_empty() {
                            "is not allowed (no member is)".to_owned()
                        } else {
                            format!("is not allowed (allowed: {})", known.join(", "))
                        };
                        out.push(violation(path, "additionalProperties", message))
                    }
                    Some(extra @ Value::Object(_)) => {
                        self.check(extra, value, path, depth + 1, out)
                    }
                    _ => {}
                },
            }
            path.pop();
        }
    }

    fn check_combinators<'i>(
        &self,
        obj: &Map<String, Value>,
        instance: &'i Value,
        path: &mut Vec<Step<'i>>,
        depth: usize,
        out: &mut Vec<Violation>,
    ) {
        if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
            for alternative in all {
                self.check(alternative, instance, path, depth + 1, out);
            }
        }
        if let Some(not) = obj.get("not") {
            let mut inner = Vec::new();
            self.check(not, instance, path, depth + 1, &mut inner);
            if inner.is_empty() {
                out.push(violation(path, "not", "is not allowed here"));
            }
        }
        for (key, exactly_one) in [("anyOf", false), ("oneOf", true)] {
            let Some(alternatives) = obj.get(key).and_then(Value::as_array) else {
                continue;
            };
            let rule = if exactly_one { "oneOf" } else { "anyOf" };
            let results: Vec<Vec<Violation>> = alternatives
                .iter()
                .map(|alternative| {
                    let mut inner = Vec::new();
                    self.check(alternative, instance, path, depth + 1, &mut inner);
                    inner
                })
                .collect();
            let passing = results.iter().filter(|r| r.is_empty()).count();
            if passing == 1 || (passing > 1 && !exactly_one) {
                continue;
            }
            if passing > 1 {
                out.push(violation(
                    path,
                    rule,
                    "matches more than one of the allowed forms",
                ));
                continue;
            }
            out.extend(self.closest_failure(alternatives, results, instance, path, rule, depth));
        }
    }

    /// When no alternative fits, the violations of the one the value was most likely meant to
    /// be: among those whose type fits the value, the one with the fewest violations; when no
    /// type fits, one violation naming the types allowed.
    fn closest_failure(
        &self,
        alternatives: &[Value],
        results: Vec<Vec<Violation>>,
        instance: &Value,
        path: &[Step<'_>],
        rule: &'static str,
        depth: usize,
    ) -> Vec<Violation> {
        let actual = type_names(instance);
        let mut allowed: Vec<String> = Vec::new();
        let mut best: Option<Vec<Violation>> = None;
        for (alternative, violations) in alternatives.iter().zip(results) {
            let types = self.alternative_types(alternative, depth);
            let fits = types
                .as_ref()
                .is_none_or(|ts| ts.iter().any(|t| actual.contains(&t.as_str())));
            for t in types.into_iter().flatten() {
                if !allowed.contains(&t) {
                    allowed.push(t);
                }
            }
            if fits && best.as_ref().is_none_or(|b| violations.len() < b.len()) {
                best = Some(violations);
            }
        }
        match best {
            Some(violations) if !violations.is_empty() => violations,
            _ if !allowed.is_empty() => vec![violation(
                path,
                "type",
                format!("must be {}", type_phrase(&allowed)),
            )],
            _ => vec![violation(
                path,
                rule,
                "does not match any of the allowed forms",
            )],
        }
    }

    /// The types an alternative admits, when it says (following `$ref`s a bounded number of
    /// times); `None` when it does not constrain the type.
    fn alternative_types(&self, schema: &Value, depth: usize) -> Option<Vec<String>> {
        let mut current = schema;
        for _ in depth..=MAX_DEPTH {
            let obj = current.as_object()?;
            if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
                current = self.resolve(reference)?;
                continue;
            }
            if let Some(types) = declared_types(obj) {
                return Some(types);
            }
            if let Some(c) = obj.get("const") {
                return Some(vec![type_names(c)[0].to_owned()]);
            }
            if obj.contains_key("properties") {
                return Some(vec!["object".to_owned()]);
            }
            return None;
        }
        None
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors(schema: Value, defs: Value, instance: Value) -> Vec<String> {
        validate(&schema, &defs, &instance)
            .iter()
            .map(|v| format!("{} [{}] {}", v.path, v.rule, v.message))
            .collect()
    }

    fn agent_create() -> (Value, Value) {
        let defs = json!({
            "Persona": {"type": "string", "enum": ["professional", "friendly", "concise"]},
            "AgentCreate": {
                "type": "object",
                "additionalProperties": false,
                "required": ["workflow_id", "name", "description"],
                "properties": {
                    "workflow_id": {"type": "string"},
                    "name": {"type": "string", "minLength": 1, "maxLength": 5},
                    "description": {"type": "string"},
                    "persona": {"$ref": "#/$defs/Persona"},
                    "logo": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
                    "timeout": {"type": "integer", "minimum": 1, "maximum": 60}
                }
            }
        });
        (json!({"$ref": "#/$defs/AgentCreate"}), defs)
    }

    #[test]
    fn a_valid_body_has_no_violations() {
        let (schema, defs) = agent_create();
        let body = json!({"workflow_id": "wf_1", "name": "Hé", "description": "d",
            "persona": "friendly", "logo": null, "tags": ["a"], "timeout": 30.0});
        assert_eq!(errors(schema, defs, body), Vec::<String>::new());
    }

    #[test]
    fn every_violation_is_reported_with_its_path() {
        let (schema, defs) = agent_create();
        let body = json!({"name": 5, "description": "d", "persona": "pirate",
            "colour": "blue", "tags": ["a", 2, "c"], "timeout": 0, "logo": 3});
        assert_eq!(
            errors(schema, defs, body),
            [
                "workflow_id [required] is required",
                "colour [additionalProperties] is not allowed (allowed: description, logo, name, persona, tags, timeout, workflow_id)",
                "logo [type] must be a string or null",
                "name [type] must be a string",
                "persona [enum] must be one of professional, friendly, concise (got \"pirate\")",
                "tags [maxItems] must have at most 2 items",
                "tags.1 [type] must be a string",
                "timeout [minimum] must be at least 1",
            ]
        );
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let (schema, defs) = agent_create();
        let ok = json!({"workflow_id": "w", "name": "ééééé", "description": "d"});
        assert!(errors(schema.clone(), defs.clone(), ok).is_empty());
        let long = json!({"workflow_id": "w", "name": "éééééé", "description": "d"});
        assert_eq!(
            errors(schema.clone(), defs.clone(), long),
            ["name [maxLength] must be at most 5 characters long"]
        );
        let empty = json!({"workflow_id": "w", "name": "", "description": "d", "tags": []});
        assert_eq!(
            errors(schema, defs, empty),
            [
                "name [minLength] must be at least 1 character long",
                "tags [minItems] must have at least 1 item",
            ]
        );
    }

    #[test]
    fn integers_and_numbers() {
        let schema = json!({"type": "integer", "maximum": 10, "exclusiveMinimum": 0});
        assert!(errors(schema.clone(), json!({}), json!(3)).is_empty());
        assert!(errors(schema.clone(), json!({}), json!(3.0)).is_empty());
        assert_eq!(
            errors(schema.clone(), json!({}), json!(2.5)),
            [" [type] must be an integer"]
        );
        assert_eq!(
            errors(schema.clone(), json!({}), json!(0)),
            [" [exclusiveMinimum] must be greater than 0"]
        );
        assert_eq!(
            errors(schema, json!({}), json!(11)),
            [" [maximum] must be at most 10"]
        );
        assert!(errors(json!({"type": "number"}), json!({}), json!(2.5)).is_empty());
    }

    /// A discriminated union: the violations of the form the body was meant to be.
    #[test]
    fn one_of_reports_the_closest_alternative() {
        let defs = json!({
            "Text": {"type": "object", "additionalProperties": false, "required": ["type", "name", "content"],
                "properties": {"type": {"type": "string", "const": "text"}, "name": {"type": "string"}, "content": {"type": "string"}}},
            "Url": {"type": "object", "additionalProperties": false, "required": ["type", "name", "url"],
                "properties": {"type": {"type": "string", "const": "url"}, "name": {"type": "string"}, "url": {"type": "string"}}},
            "Kb": {"oneOf": [{"$ref": "#/$defs/Text"}, {"$ref": "#/$defs/Url"}]}
        });
        let schema = json!({"$ref": "#/$defs/Kb"});
        assert!(
            errors(
                schema.clone(),
                defs.clone(),
                json!({"type": "url", "name": "n", "url": "u"})
            )
            .is_empty()
        );
        assert_eq!(
            errors(
                schema.clone(),
                defs.clone(),
                json!({"type": "url", "name": "n"})
            ),
            ["url [required] is required"]
        );
        assert_eq!(
            errors(schema.clone(), defs.clone(), json!("text")),
            [" [type] must be an object"]
        );
        // Both forms accept it: oneOf demands exactly one.
        let loose = json!({"oneOf": [{"type": "string"}, {"type": "string", "maxLength": 9}]});
        assert_eq!(
            errors(loose, json!({}), json!("abc")),
            [" [oneOf] matches more than one of the allowed forms"]
        );
    }

    #[test]
    fn loose_arrays_not_and_all_of() {
        // What the conversion makes of an `x-agentwire-loose` list: objects are items, and any
        // non-object placeholder passes.
        let defs = json!({"Rule": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}});
        let schema = json!({"type": "array", "items": {"anyOf": [{"$ref": "#/$defs/Rule"}, {"not": {"type": "object"}}]}});
        assert!(errors(schema.clone(), defs.clone(), json!([{"id": "r1"}, [], 3])).is_empty());
        assert_eq!(
            errors(schema, defs, json!([{"id": "r1"}, {"name": "x"}])),
            ["1.id [required] is required"]
        );
        let all = json!({"allOf": [{"type": "string"}, {"maxLength": 2}]});
        assert_eq!(
            errors(all, json!({}), json!("abc")),
            [" [maxLength] must be at most 2 characters long"]
        );
        assert_eq!(
            errors(json!({"not": {"type": "null"}}), json!({}), json!(null)),
            [" [not] is not allowed here"]
        );
    }

    #[test]
    fn formats_and_patterns_are_ignored_and_unknown_refs_reported() {
        let schema = json!({"type": "string", "format": "date-time", "pattern": "^x$"});
        assert!(errors(schema, json!({}), json!("not a date")).is_empty());
        assert_eq!(
            errors(json!({"$ref": "#/$defs/Nope"}), json!({}), json!(1)),
            [" [$ref] cannot be checked: the schema reference #/$defs/Nope is unknown"]
        );
    }

    /// A recursive schema over a deep value, and a schema that refers to itself without ever
    /// consuming the value: both end in a violation, not a stack overflow.
    #[test]
    fn recursion_is_bounded() {
        let defs = json!({
            "Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}},
            "Loop": {"$ref": "#/$defs/Loop"},
            "Either": {"anyOf": [{"$ref": "#/$defs/Either"}, {"$ref": "#/$defs/Either"}]}
        });
        let mut deep = json!({});
        for _ in 0..(MAX_DEPTH * 2) {
            deep = json!({"child": deep});
        }
        let found = validate(&json!({"$ref": "#/$defs/Node"}), &defs, &deep);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, "depth");
        assert!(found[0].path.starts_with("child.child."), "{found:?}");

        let found = validate(&json!({"$ref": "#/$defs/Loop"}), &defs, &json!(1));
        assert_eq!(found[0].rule, "depth");
        // Two alternatives per level that both recurse would take 2^depth steps: the budget
        // stops it quickly.
        let started = std::time::Instant::now();
        let found = validate(&json!({"$ref": "#/$defs/Either"}), &defs, &json!(1));
        assert!(found.iter().any(|v| v.rule == "budget"), "{found:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10));

        // A shallow value under the recursive schema is fine.
        let shallow = json!({"child": {"child": {}}});
        assert!(validate(&json!({"$ref": "#/$defs/Node"}), &defs, &shallow).is_empty());
    }

    #[test]
    fn field_errors_name_the_root() {
        let v = Violation {
            path: String::new(),
            rule: "type",
            message: "must be an object".into(),
        };
        assert_eq!(v.field_error("body"), "body: must be an object");
        let v = Violation {
            path: "channels.0.type".into(),
            rule: "required",
            message: "is required".into(),
        };
        assert_eq!(v.field_error("body"), "channels.0.type: is required");
    }
}
