//! Loads a YAML spec into JSON while remembering where each node came from, so that every
//! convention error can name a file and a line. Shared by build.rs and the contract tooling.
//!
//! Hostile input is refused before anything recursive sees it: a first pass over the parser's
//! events (which saphyr produces without recursion) reports syntax errors, anchors and aliases,
//! and collections nested deeper than [`MAX_DEPTH`], each with its line. Only then is the text
//! loaded into a tree and converted. So every [`Loaded`] value is at most [`MAX_DEPTH`] levels
//! deep, which is what lets the checks in build/model.rs, build/normalize.rs and the contract
//! tooling walk it recursively.

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

/// How deeply mappings and sequences may nest in a spec. A real spec needs about a dozen levels;
/// the bound keeps every recursive walk over a spec (the loader's, the checks', typify's) far
/// from the end of the stack.
pub const MAX_DEPTH: usize = 64;

/// Parses `bytes` (the contents of `file`): they must be UTF-8 (an invalid byte is reported with
/// its line and byte offset), then as [`load`].
pub fn load_bytes(file: &str, bytes: &[u8]) -> Result<Loaded, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        let line = bytes.iter().take(offset).filter(|b| **b == b'\n').count() + 1;
        let byte = bytes.get(offset).copied().unwrap_or_default();
        format!(
            "{file}:{line}: not UTF-8: byte 0x{byte:02x} at byte offset {offset} (specs are UTF-8 text)"
        )
    })?;
    load(file, text)
}

/// Parses `text` (the contents of `file`) as one YAML document.
pub fn load(file: &str, text: &str) -> Result<Loaded, String> {
    prescan(file, text)?;
    let docs = MarkedYaml::load_from_str(text).map_err(|e| {
        let line = error_line(text, e.marker().line(), e.info());
        format!("{file}:{line}: not valid YAML: {}", e.info())
    })?;
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

/// The first pass over the parser's events, before the recursive loader runs: syntax errors,
/// anchors and aliases (they make a reader of the spec chase values elsewhere, and the loader
/// would silently expand them), and nesting deeper than [`MAX_DEPTH`].
fn prescan(file: &str, text: &str) -> Result<(), String> {
    use saphyr_parser::{Event, Parser};
    let mut depth = 0usize;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            let line = error_line(text, e.marker().line(), e.info());
            format!("{file}:{line}: not valid YAML: {}", e.info())
        })?;
        let line = span.start.line();
        let anchored = match &event {
            Event::Alias(_) => true,
            Event::Scalar(_, _, anchor, _)
            | Event::SequenceStart(anchor, _)
            | Event::MappingStart(anchor, _) => *anchor != 0,
            _ => false,
        };
        if anchored {
            return Err(format!(
                "{file}:{line}: YAML anchors and aliases are not allowed in specs (write the value out)"
            ));
        }
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(format!(
                        "{file}:{line}: mappings and sequences nest more than {MAX_DEPTH} levels deep here (a spec needs far fewer)"
                    ));
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// The line to report for a saphyr error. saphyr marks two tab errors at the start of the
/// construct being scanned rather than at the tab: a tab in the indentation of a line that
/// follows a plain scalar (`summary: text` then a line starting with a tab) is marked at the
/// scalar, and a block scalar whose content starts with a tab is marked at its `|`/`>` header.
/// Those are moved to the tab's line; every other error keeps saphyr's line.
fn error_line(text: &str, marked: usize, info: &str) -> usize {
    let mut later = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .skip(marked);
    let found = if info.contains("plain scalar") && info.contains("tab") {
        // The first later line whose indentation holds a tab and that has content: blank and
        // comment-only lines do not end the scalar.
        later
            .find(|(_, l)| {
                let content = l.trim_start_matches([' ', '\t']);
                l[..l.len() - content.len()].contains('\t')
                    && !content.is_empty()
                    && !content.starts_with('#')
            })
            .map(|(n, _)| n)
    } else if info.contains("block scalar") && info.contains("tab") {
        later.next().map(|(n, _)| n)
    } else {
        None
    };
    found.unwrap_or(marked)
}
