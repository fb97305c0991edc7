//! Loads a YAML spec into JSON while remembering where each node came from, so that every
//! convention error can name a file and a line. Shared by build.rs and the contract tooling.

use std::collections::BTreeMap;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde_json::{Map, Number, Value};

/// A spec file read into JSON, with the line of every node by JSON pointer.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The path the file was read from, as given (used in messages).
    pub file: String,
    /// The document as JSON.
    pub value: Value,
    lines: BTreeMap<String, usize>,
}

impl Loaded {
    /// The 1-based line of the node at `pointer`, or of its nearest ancestor that has one.
    pub fn line(&self, pointer: &str) -> usize {
        let mut p = pointer;
        loop {
            if let Some(line) = self.lines.get(p) {
                return *line;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return 1,
            }
        }
    }

    /// `file:line` for a pointer, the form every message starts with.
    pub fn at(&self, pointer: &str) -> String {
        format!("{}:{}", self.file, self.line(pointer))
    }
}

/// Escapes one JSON-pointer token (RFC 6901).
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Parses `text` (the contents of `file`) as one YAML document.
pub fn load(file: &str, text: &str) -> Result<Loaded, String> {
    reject_anchors(file, text)?;
    let docs = MarkedYaml::load_from_str(text)
        .map_err(|e| format!("{file}:{}: not valid YAML: {}", e.marker().line(), e.info()))?;
    let doc = match docs.as_slice() {
        [one] => one,
        [] => return Err(format!("{file}:1: the file is empty")),
        [_, second, ..] => {
            return Err(format!(
                "{file}:{}: one YAML document per spec file",
                second.span.start.line()
            ));
        }
    };
    let mut lines = BTreeMap::new();
    let value = convert(file, doc, String::new(), &mut lines)?;
    Ok(Loaded {
        file: file.to_string(),
        value,
        lines,
    })
}

fn convert(
    file: &str,
    node: &MarkedYaml<'_>,
    pointer: String,
    lines: &mut BTreeMap<String, usize>,
) -> Result<Value, String> {
    let line = node.span.start.line();
    lines.insert(pointer.clone(), line);
    Ok(match &node.data {
        YamlData::Value(scalar) => scalar_to_json(scalar),
        YamlData::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(convert(file, item, format!("{pointer}/{i}"), lines)?);
            }
            Value::Array(out)
        }
        YamlData::Mapping(map) => {
            let mut out = Map::new();
            for (key, value) in map.iter() {
                let key = match &key.data {
                    YamlData::Value(Scalar::String(s)) => s.to_string(),
                    YamlData::Value(Scalar::Integer(i)) => i.to_string(),
                    YamlData::Value(Scalar::Boolean(b)) => b.to_string(),
                    _ => {
                        return Err(format!(
                            "{file}:{}: mapping keys must be plain scalars",
                            key.span.start.line()
                        ));
                    }
                };
                let child = format!("{pointer}/{}", escape(&key));
                let v = convert(file, value, child, lines)?;
                out.insert(key, v);
            }
            Value::Object(out)
        }
        YamlData::Alias(_) => {
            return Err(format!(
                "{file}:{line}: YAML aliases are not allowed in specs (write the value out)"
            ));
        }
        YamlData::Tagged(_, _) => {
            return Err(format!("{file}:{line}: YAML tags are not allowed in specs"));
        }
        YamlData::Representation(..) | YamlData::BadValue => {
            return Err(format!("{file}:{line}: a value that is not valid YAML"));
        }
    })
}

fn scalar_to_json(s: &Scalar<'_>) -> Value {
    match s {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Number((*i).into()),
        Scalar::FloatingPoint(f) => Number::from_f64(f.into_inner())
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Scalar::String(s) => Value::String(s.to_string()),
    }
}

/// Anchors and aliases make a reader of the spec chase values elsewhere: refuse them (the loader
/// would silently expand them).
fn reject_anchors(file: &str, text: &str) -> Result<(), String> {
    use saphyr_parser::{Event, Parser};
    for event in Parser::new_from_str(text) {
        let Ok((event, span)) = event else {
            return Ok(()); // syntax errors are reported by the loader, with their line
        };
        let anchored = match event {
            Event::Alias(_) => true,
            Event::Scalar(_, _, anchor, _)
            | Event::SequenceStart(anchor, _)
            | Event::MappingStart(anchor, _) => anchor != 0,
            _ => false,
        };
        if anchored {
            return Err(format!(
                "{file}:{}: YAML anchors and aliases are not allowed in specs (write the value out)",
                span.start.line()
            ));
        }
    }
    Ok(())
}
