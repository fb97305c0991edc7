//! The spec's range, length and pattern rules, checked on every request before it is sent — one
//! mechanism for every platform (`Operation::checks`, generated from `minimum`, `maximum`,
//! `minLength`, `maxLength`, `pattern`, `minItems` and `maxItems`).
//!
//! The generated types carry no such rules (a response breaking one still decodes: servers
//! drift); the request is checked as it will go on the wire: the query and header values as
//! text, the JSON body as the JSON it serialises to, a form's text fields as text. A value
//! that breaks a rule is an `InvalidInput` error naming the value, the rule and what was given,
//! and nothing is sent.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use serde_json::Value;

use super::error::{Error, Result};
use super::operation::{Check, CheckAt, Rule};
use super::request::{Body, Request};
use super::upload::Part;

/// One value that breaks a rule: how it is named (`limit`, `tags[1]`) and what it must do and
/// what it was (`must be between 1 and 50 (got 0)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    pub label: String,
    pub text: String,
}

/// The values of a request, as the checks read them.
#[derive(Default)]
pub(crate) struct Values<'a> {
    pub query: Vec<(&'a str, &'a str)>,
    pub headers: Vec<(&'a str, &'a str)>,
    pub form: Vec<(&'a str, &'a str)>,
    pub body: Option<Value>,
}

/// Checks `request` against its operation's rules.
///
/// Errors: `InvalidInput` for the first value that breaks a rule.
pub(crate) fn check(request: &Request) -> Result<()> {
    let checks = request.op.checks;
    if checks.is_empty() {
        return Ok(());
    }
    let form: Vec<(&str, &str)> = match &request.body {
        Body::Form(form) => form
            .parts
            .iter()
            .filter_map(|(n, p)| match p {
                Part::Text(t) => Some((n.as_ref(), t.as_str())),
                Part::File(_) => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    // The body is read back only when a rule looks into it.
    let needs_body = checks.iter().any(|c| matches!(c.at, CheckAt::Body(_)));
    let values = Values {
        query: request
            .query
            .iter()
            .map(|(n, v)| (n.as_ref(), v.as_str()))
            .collect(),
        headers: request
            .headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?)))
            .collect(),
        form,
        body: match &request.body {
            Body::Json(bytes) if needs_body => serde_json::from_slice(bytes).ok(),
            _ => None,
        },
    };
    match violations(checks, &values).into_iter().next() {
        Some(v) => Err(Error::invalid_input(format!("`{}` {}", v.label, v.text))),
        None => Ok(()),
    }
}

/// Every value of `values` that breaks one of `checks` (the mock answers them as field errors).
pub(crate) fn violations(checks: &[Check], values: &Values<'_>) -> Vec<Violation> {
    let mut out = Vec::new();
    for c in checks {
        let pick = |pairs: &[(&str, &str)], name: &str, case_blind: bool| -> Vec<String> {
            pairs
                .iter()
                .filter(|(n, _)| {
                    if case_blind {
                        n.eq_ignore_ascii_case(name)
                    } else {
                        *n == name
                    }
                })
                .map(|(_, v)| (*v).to_owned())
                .collect()
        };
        match c.at {
            CheckAt::Query(name) => check_texts(c, &pick(&values.query, name, false), &mut out),
            CheckAt::Header(name) => check_texts(c, &pick(&values.headers, name, true), &mut out),
            CheckAt::Form(name) => check_texts(c, &pick(&values.form, name, false), &mut out),
            CheckAt::Body(pointer) => {
                if let Some(body) = &values.body {
                    let segments: Vec<&str> = pointer.split('/').skip(1).collect();
                    check_at(c, body, &segments, &mut String::new(), &mut out);
                }
            }
        }
    }
    out
}

/// Values given as text (query, header, form): numbers are read from the text; a repeated
/// parameter is an array for `minItems`/`maxItems`.
fn check_texts(c: &Check, values: &[String], out: &mut Vec<Violation>) {
    let rule = &c.rule;
    if !values.is_empty() || rule.min_items.is_some_and(|m| m > 0) {
        out.extend(check_items(c, c.label, values.len()));
    }
    for value in values {
        out.extend(check_string(c, c.label, value));
        if let Ok(number) = value.trim().parse::<f64>() {
            out.extend(check_number(c, c.label, number));
        }
    }
}

/// Walks `segments` of a body pointer (`*`: every item) and checks what it reaches; `at` is the
/// concrete path so far, for the message.
fn check_at(
    c: &Check,
    value: &Value,
    segments: &[&str],
    at: &mut String,
    out: &mut Vec<Violation>,
) {
    let Some((first, rest)) = segments.split_first() else {
        let label = if at.is_empty() { c.label } else { at.as_str() };
        out.extend(check_value(c, label, value));
        return;
    };
    let before = at.len();
    match (*first, value) {
        ("*", Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                at.truncate(before);
                at.push_str(&format!("[{i}]"));
                check_at(c, item, rest, at, out);
            }
        }
        (name, Value::Object(members)) => {
            let name = name.replace("~1", "/").replace("~0", "~");
            if let Some(member) = members.get(&name) {
                if !at.is_empty() {
                    at.push('.');
                }
                at.push_str(&name);
                check_at(c, member, rest, at, out);
            }
        }
        // Absent, null or of another type: the body type's business, not a rule's.
        _ => {}
    }
    at.truncate(before);
}

fn check_value(c: &Check, label: &str, value: &Value) -> Option<Violation> {
    match value {
        Value::String(s) => check_string(c, label, s),
        Value::Number(n) => n.as_f64().and_then(|n| check_number(c, label, n)),
        Value::Array(items) => check_items(c, label, items.len()),
        _ => None,
    }
}

fn refuse(label: &str, rule: String, got: String) -> Option<Violation> {
    Some(Violation {
        label: label.to_owned(),
        text: format!("must {rule} (got {got})"),
    })
}

fn check_string(c: &Check, label: &str, s: &str) -> Option<Violation> {
    let rule: &Rule = &c.rule;
    if rule.min_length.is_some() || rule.max_length.is_some() {
        let length = s.chars().count() as u64;
        let (min, max) = (rule.min_length, rule.max_length);
        let chars = |n: u64| {
            if n == 1 {
                "1 character".to_owned()
            } else {
                format!("{n} characters")
            }
        };
        if min.is_some_and(|m| length < m) || max.is_some_and(|m| length > m) {
            let wanted = match (min, max) {
                (Some(min), Some(max)) => format!("be {min} to {}", chars(max)),
                (Some(1), None) => "not be empty".to_owned(),
                (Some(min), None) => format!("be at least {}", chars(min)),
                (None, Some(max)) => format!("be at most {}", chars(max)),
                (None, None) => String::new(),
            };
            return refuse(label, wanted, chars(length));
        }
    }
    if let Some(pattern) = rule.pattern {
        match matches(pattern, s) {
            Some(true) => {}
            Some(false) => {
                let shown: String = s.chars().take(40).collect();
                let more = if s.chars().count() > 40 { "…" } else { "" };
                let wanted = if pattern == r"\S" {
                    "not be blank".to_owned()
                } else {
                    format!("match the pattern `{pattern}`")
                };
                return refuse(label, wanted, format!("{shown:?}{more}"));
            }
            // The build compiles every pattern; one that does not compile checks nothing.
            None => {}
        }
    }
    None
}

fn check_number(c: &Check, label: &str, n: f64) -> Option<Violation> {
    let rule = &c.rule;
    let low = rule.minimum.is_some_and(|m| {
        if rule.exclusive_minimum {
            n <= m
        } else {
            n < m
        }
    });
    let high = rule.maximum.is_some_and(|m| {
        if rule.exclusive_maximum {
            n >= m
        } else {
            n > m
        }
    });
    if !(low || high) {
        return None;
    }
    let bound = |m: f64, exclusive: bool, word: &str, strict: &str| {
        if exclusive {
            format!("{strict} {m}")
        } else {
            format!("{word} {m}")
        }
    };
    let wanted = match (rule.minimum, rule.maximum) {
        (Some(min), Some(max)) if !rule.exclusive_minimum && !rule.exclusive_maximum => {
            format!("be between {min} and {max}")
        }
        (Some(min), Some(max)) => format!(
            "be {} and {}",
            bound(min, rule.exclusive_minimum, "at least", "above"),
            bound(max, rule.exclusive_maximum, "at most", "below")
        ),
        (Some(min), None) => format!(
            "be {}",
            bound(min, rule.exclusive_minimum, "at least", "above")
        ),
        (None, Some(max)) => format!(
            "be {}",
            bound(max, rule.exclusive_maximum, "at most", "below")
        ),
        (None, None) => String::new(),
    };
    refuse(label, wanted, n.to_string())
}

fn check_items(c: &Check, label: &str, count: usize) -> Option<Violation> {
    let rule = &c.rule;
    let count = count as u64;
    let items = |n: u64| {
        if n == 1 {
            "1 item".to_owned()
        } else {
            format!("{n} items")
        }
    };
    let wanted = match (rule.min_items, rule.max_items) {
        (Some(min), _) if count < min => format!("have at least {}", items(min)),
        (_, Some(max)) if count > max => format!("have at most {}", items(max)),
        _ => return None,
    };
    refuse(label, wanted, items(count))
}

/// Whether `text` contains a match of `pattern` (ECMAScript syntax, as OpenAPI's `pattern`);
/// `None` when the pattern does not compile. Each pattern is compiled once per process.
fn matches(pattern: &'static str, text: &str) -> Option<bool> {
    static CACHE: OnceLock<Mutex<HashMap<&'static str, Option<regress::Regex>>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let regex = cache
        .entry(pattern)
        .or_insert_with(|| regress::Regex::new(pattern).ok());
    regex.as_ref().map(|r| r.find(text).is_some())
}
