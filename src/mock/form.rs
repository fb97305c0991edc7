//! Form request bodies as the mock reads them: `multipart/form-data` (parsed with multer) and
//! `application/x-www-form-urlencoded`, each part journalled ([`FormPart`]) and, for the
//! validation of the mock's second and third answers, turned into the JSON object the form's
//! schema describes (text coerced to the property's declared type, repeated names collected into
//! arrays, a file standing as its file name).

use bytes::Bytes;
use serde_json::{Map, Value};

/// One part of a form body the mock received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FormPart {
    /// The field name.
    pub name: String,
    /// The file name, for a file part.
    pub file_name: Option<String>,
    /// The part's content type, if it named one.
    pub content_type: Option<String>,
    /// The part's bytes.
    pub data: Bytes,
}

impl FormPart {
    /// The part's bytes as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// Whether a `Content-Type` is a form, and which.
pub(crate) fn kind(content_type: Option<&str>) -> Option<FormType> {
    let essence = content_type?.split(';').next()?.trim().to_ascii_lowercase();
    match essence.as_str() {
        "multipart/form-data" => Some(FormType::Multipart),
        "application/x-www-form-urlencoded" => Some(FormType::UrlEncoded),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FormType {
    Multipart,
    UrlEncoded,
}

/// The parts of a form body; a body that is not the form its content type says is a problem
/// in words.
pub(crate) async fn parse(
    form: FormType,
    content_type: &str,
    body: Bytes,
) -> Result<Vec<FormPart>, String> {
    match form {
        FormType::UrlEncoded => Ok(form_urlencoded::parse(&body)
            .map(|(name, value)| FormPart {
                name: name.into_owned(),
                file_name: None,
                content_type: None,
                data: Bytes::from(value.into_owned()),
            })
            .collect()),
        FormType::Multipart => {
            let boundary = multer::parse_boundary(content_type)
                .map_err(|e| format!("the multipart content type has no boundary ({e})"))?;
            let stream =
                futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
            let mut multipart = multer::Multipart::new(stream, boundary);
            let mut parts = Vec::new();
            loop {
                match multipart.next_field().await {
                    Ok(Some(field)) => {
                        let name = field.name().unwrap_or_default().to_owned();
                        let file_name = field.file_name().map(str::to_owned);
                        let content_type = field.content_type().map(|m| m.to_string());
                        let data = field
                            .bytes()
                            .await
                            .map_err(|e| format!("a multipart part cannot be read ({e})"))?;
                        parts.push(FormPart {
                            name,
                            file_name,
                            content_type,
                            data,
                        });
                    }
                    Ok(None) => break,
                    Err(e) => return Err(format!("it is not valid multipart ({e})")),
                }
            }
            Ok(parts)
        }
    }
}

/// The JSON object a form stands for, read by its (converted) schema: each property's parts
/// coerced to its declared type.
pub(crate) fn to_json(parts: &[FormPart], schema: &Value, defs: &Value) -> Value {
    let resolve = |s: &Value| -> Value {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) => r
                .rsplit('/')
                .next()
                .and_then(|name| defs.get(name))
                .cloned()
                .unwrap_or(Value::Null),
            None => s.clone(),
        }
    };
    let object = resolve(schema);
    let props = object.get("properties").cloned().unwrap_or(Value::Null);
    let mut out = Map::new();
    for part in parts {
        let prop = props.get(&part.name).map(&resolve).unwrap_or(Value::Null);
        let declared = prop.get("type").and_then(Value::as_str).unwrap_or_default();
        let item_type = prop
            .get("items")
            .map(&resolve)
            .and_then(|i| i.get("type").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default();
        let value = match (&part.file_name, declared) {
            (Some(file), _) => Value::String(file.clone()),
            (None, "array") => coerce(&part.text(), &item_type),
            (None, ty) => coerce(&part.text(), ty),
        };
        if declared == "array" {
            match out
                .entry(part.name.clone())
                .or_insert_with(|| Value::Array(Vec::new()))
            {
                Value::Array(items) => items.push(value),
                other => *other = Value::Array(vec![value]),
            }
        } else {
            out.insert(part.name.clone(), value);
        }
    }
    Value::Object(out)
}

/// Text as the declared type: numbers and booleans parsed, objects and arrays as JSON; what
/// does not parse stays text, for the validator to report.
fn coerce(text: &str, ty: &str) -> Value {
    let parsed = match ty {
        "string" => None,
        "integer" | "number" => text
            .trim()
            .parse::<serde_json::Number>()
            .ok()
            .map(Value::Number),
        "boolean" => match text.trim() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => serde_json::from_str::<Value>(text)
            .ok()
            .filter(|v| v.is_object() || v.is_array()),
    };
    parsed.unwrap_or_else(|| Value::String(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn part(name: &str, text: &str) -> FormPart {
        FormPart {
            name: name.into(),
            file_name: None,
            content_type: None,
            data: Bytes::from(text.to_owned()),
        }
    }

    #[test]
    fn parts_become_the_object_the_schema_describes() {
        let schema = json!({"type": "object", "properties": {
            "title": {"type": "string"},
            "pages": {"type": "integer"},
            "draft": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "metadata": {"type": "object"},
            "file": {"type": "string"}
        }});
        let mut file = part("file", "%PDF");
        file.file_name = Some("a.pdf".into());
        let parts = [
            part("title", "007"),
            part("pages", "12"),
            part("draft", "yes"),
            part("tags", "a"),
            part("tags", "b"),
            part("metadata", r#"{"k": 1}"#),
            file,
        ];
        assert_eq!(
            to_json(&parts, &schema, &Value::Null),
            json!({"title": "007", "pages": 12, "draft": "yes", "tags": ["a", "b"],
                   "metadata": {"k": 1}, "file": "a.pdf"})
        );
    }

    #[tokio::test]
    async fn a_multipart_body_is_parsed_into_its_parts() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHello\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
                    Content-Type: text/plain\r\n\r\nline\r\n--XyZ--\r\n";
        let parts = parse(
            FormType::Multipart,
            "multipart/form-data; boundary=XyZ",
            Bytes::from(body),
        )
        .await
        .expect("parsed");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].text(), "Hello");
        assert_eq!(parts[1].file_name.as_deref(), Some("a.txt"));
        assert_eq!(parts[1].content_type.as_deref(), Some("text/plain"));
        let broken = parse(
            FormType::Multipart,
            "multipart/form-data",
            Bytes::from(body),
        )
        .await;
        assert!(broken.expect_err("no boundary").contains("boundary"));
    }
}
