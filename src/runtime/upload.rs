//! Form bodies: multipart uploads and URL-encoded forms, as the spec declares them
//! (`multipart/form-data`, `application/x-www-form-urlencoded`; see openapi/README.md).
//!
//! A file is an [`Upload`]: a path (streamed from disk on every attempt, never read into memory)
//! or bytes already in memory, with a file name and a content type (given, else guessed from the
//! file name, else `application/octet-stream`). Before any request is sent, every file is
//! checked: a path must name a readable regular file, its size must be within the client's
//! [`max_upload_bytes`](crate::ClientBuilder::max_upload_bytes) (default
//! [`DEFAULT_MAX_UPLOAD_BYTES`], 100 MiB), and its content type must be one the spec allows for
//! that field; each failure is an `InvalidInput` error naming the field and the file. The body is
//! built anew for every attempt, so an upload can be retried like any request; a file whose size
//! changed between attempts is an `InvalidInput` error rather than a corrupt body.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::error::{Error, Result};

/// Default cap on one uploaded file: 100 MiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 100 * 1024 * 1024;

/// One file to upload: from a path or from bytes, with its file name and content type.
///
/// ```
/// use agentwire::Upload;
/// let from_disk = Upload::path("manual.pdf");
/// let in_memory = Upload::bytes("notes.txt", "first line\n").mime("text/plain");
/// assert_eq!(from_disk.name(), Some("manual.pdf"));
/// assert_eq!(in_memory.name(), Some("notes.txt"));
/// ```
#[derive(Clone)]
pub struct Upload {
    source: Source,
    file_name: Option<String>,
    mime: Option<String>,
}

#[derive(Clone)]
enum Source {
    Path(PathBuf),
    Bytes(Bytes),
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Upload");
        match &self.source {
            Source::Path(p) => d.field("path", p),
            Source::Bytes(b) => d.field("bytes", &b.len()),
        };
        d.field("file_name", &self.file_name)
            .field("mime", &self.mime)
            .finish()
    }
}

impl Upload {
    /// The file at `path`, streamed from disk when the request is sent; its file name is the
    /// path's last component.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        Upload {
            source: Source::Path(path),
            file_name,
            mime: None,
        }
    }

    /// Bytes already in memory, sent under `file_name`.
    pub fn bytes(file_name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Upload {
            source: Source::Bytes(bytes.into()),
            file_name: Some(file_name.into()),
            mime: None,
        }
    }

    /// Sends it under this file name instead.
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    /// Its content type (`application/pdf`); by default guessed from the file name.
    pub fn mime(mut self, mime: impl Into<String>) -> Self {
        self.mime = Some(mime.into());
        self
    }

    /// Whether a content type was given (else it is guessed from the file name).
    #[allow(
        dead_code,
        reason = "used by hand-written platform code, which a build's platforms may not have"
    )]
    pub(crate) fn has_mime(&self) -> bool {
        self.mime.is_some()
    }

    /// The file name it is sent under.
    pub fn name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }

    /// Its size in bytes: the bytes given, or the file's size now (checked again when sent).
    ///
    /// Errors: `InvalidInput` when the file cannot be read or is not a regular file.
    pub fn size(&self) -> crate::Result<u64> {
        let shown = self.shown();
        match &self.source {
            Source::Bytes(b) => Ok(b.len() as u64),
            Source::Path(path) => {
                let meta = std::fs::metadata(path).map_err(|e| {
                    Error::invalid_input(format!(
                        "the file {shown} cannot be read: {}",
                        io_reason(&e)
                    ))
                })?;
                if !meta.is_file() {
                    return Err(Error::invalid_input(format!(
                        "{shown} is not a regular file"
                    )));
                }
                Ok(meta.len())
            }
        }
    }

    /// The content type it is sent with, lower-case: the one given, else guessed from the
    /// file name, else `application/octet-stream`.
    pub fn content_type(&self) -> String {
        match &self.mime {
            Some(m) => m.trim().to_ascii_lowercase(),
            None => self
                .file_name
                .as_deref()
                .and_then(|n| mime_guess::from_path(n).first_raw())
                .unwrap_or("application/octet-stream")
                .to_owned(),
        }
    }

    /// How it is named in errors: its path, else its file name.
    fn shown(&self) -> String {
        match (&self.source, &self.file_name) {
            (Source::Path(p), _) => format!("`{}`", p.display()),
            (Source::Bytes(_), Some(n)) => format!("`{n}`"),
            (Source::Bytes(_), None) => "the bytes given".to_owned(),
        }
    }
}

impl From<PathBuf> for Upload {
    fn from(path: PathBuf) -> Self {
        Upload::path(path)
    }
}

impl From<&Path> for Upload {
    fn from(path: &Path) -> Self {
        Upload::path(path)
    }
}

/// A form body: its fields in order, text or files. Internal.
#[derive(Clone, Debug, Default)]
pub(crate) struct FormBody {
    /// `multipart/form-data` (else `application/x-www-form-urlencoded`).
    pub multipart: bool,
    pub parts: Vec<(Cow<'static, str>, Part)>,
}

#[derive(Clone, Debug)]
pub(crate) enum Part {
    Text(String),
    File(FilePart),
}

/// One file of a form, with what the checks found.
#[derive(Clone, Debug)]
pub(crate) struct FilePart {
    upload: Upload,
    /// The content types the spec allows for its field (empty: any).
    allowed: &'static [&'static str],
    /// Its size in bytes and content type, once checked.
    checked: Option<(u64, String)>,
}

impl FormBody {
    pub(crate) fn text(&mut self, name: impl Into<Cow<'static, str>>, value: String) {
        self.parts.push((name.into(), Part::Text(value)));
    }

    pub(crate) fn file(
        &mut self,
        name: &'static str,
        upload: Upload,
        allowed: &'static [&'static str],
    ) {
        self.parts.push((
            Cow::Borrowed(name),
            Part::File(FilePart {
                upload,
                allowed,
                checked: None,
            }),
        ));
    }

    /// Checks every file before anything is sent (module docs): it exists, is a regular file,
    /// is within `max_bytes`, and has a content type the spec allows.
    pub(crate) fn check(&mut self, max_bytes: u64) -> Result<()> {
        for (name, part) in &mut self.parts {
            let Part::File(file) = part else { continue };
            let shown = file.upload.shown();
            let len = file
                .upload
                .size()
                .map_err(|e| Error::invalid_input(format!("{} (for `{name}`)", e.message())))?;
            if len > max_bytes {
                return Err(Error::invalid_input(format!(
                    "the file {shown} for `{name}` is {}, above the client's upload limit of {} (ClientBuilder::max_upload_bytes)",
                    size(len),
                    size(max_bytes)
                )));
            }
            let mime = file.upload.content_type();
            if mime.parse::<mime_guess::mime::Mime>().is_err() {
                return Err(Error::invalid_input(format!(
                    "the content type {mime:?} of {shown} for `{name}` is not a media type"
                )));
            }
            if !file.allowed.is_empty() && !file.allowed.iter().any(|a| mime_matches(a, &mime)) {
                return Err(Error::invalid_input(format!(
                    "{shown} for `{name}` is `{mime}`, which it does not take (it takes {})",
                    file.allowed.join(", ")
                )));
            }
            file.checked = Some((len, mime));
        }
        Ok(())
    }

    /// The URL-encoded body.
    pub(crate) fn urlencoded(&self) -> Bytes {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (name, part) in &self.parts {
            if let Part::Text(value) = part {
                out.append_pair(name, value);
            }
        }
        Bytes::from(out.finish())
    }

    /// The multipart form of one attempt: the text parts first, in order, then the files,
    /// streamed from disk (or from their bytes) — a presigned upload's policy takes its fields
    /// before the file, and no server needs a file first. A file whose size changed since the
    /// check is an error: the part's declared length would no longer hold.
    pub(crate) fn multipart(&self) -> Result<reqwest::multipart::Form> {
        let mut form = reqwest::multipart::Form::new();
        let texts = self
            .parts
            .iter()
            .filter(|(_, p)| matches!(p, Part::Text(_)));
        let files = self
            .parts
            .iter()
            .filter(|(_, p)| matches!(p, Part::File(_)));
        for (name, part) in texts.chain(files) {
            form = match part {
                Part::Text(value) => form.text(name.clone(), value.clone()),
                Part::File(file) => {
                    let Some((len, mime)) = &file.checked else {
                        return Err(Error::invalid_input(format!(
                            "the file for `{name}` was not checked before sending"
                        )));
                    };
                    let shown = file.upload.shown();
                    let body = match &file.upload.source {
                        Source::Bytes(b) => reqwest::Body::from(b.clone()),
                        Source::Path(path) => {
                            let opened = std::fs::File::open(path).map_err(|e| {
                                Error::invalid_input(format!(
                                    "the file {shown} for `{name}` cannot be opened: {}",
                                    io_reason(&e)
                                ))
                            })?;
                            let now = opened.metadata().map(|m| m.len()).ok();
                            if now != Some(*len) {
                                return Err(Error::invalid_input(format!(
                                    "the file {shown} for `{name}` changed size while being sent ({} when checked)",
                                    size(*len)
                                )));
                            }
                            reqwest::Body::from(tokio::fs::File::from_std(opened))
                        }
                    };
                    let mut part = reqwest::multipart::Part::stream_with_length(body, *len)
                        .mime_str(mime)
                        .map_err(|_| {
                            Error::invalid_input(format!(
                                "the content type {mime:?} of {shown} is not a media type"
                            ))
                        })?;
                    if let Some(file_name) = &file.upload.file_name {
                        part = part.file_name(file_name.clone());
                    }
                    form.part(name.clone(), part)
                }
            };
        }
        Ok(form)
    }
}

/// `image/*` matches `image/png`; otherwise the essence must be equal.
fn mime_matches(allowed: &str, mime: &str) -> bool {
    let essence = mime.split(';').next().unwrap_or_default().trim();
    if allowed == "*/*" {
        return true;
    }
    match allowed.strip_suffix("/*") {
        Some(top) => essence
            .split('/')
            .next()
            .is_some_and(|t| t.eq_ignore_ascii_case(top)),
        None => allowed.eq_ignore_ascii_case(essence),
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "it does not exist".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

/// A size in bytes, as people read it.
fn size(bytes: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_match_exactly_or_by_wildcard() {
        assert!(mime_matches("image/*", "image/png"));
        assert!(mime_matches(
            "application/pdf",
            "application/pdf; charset=binary"
        ));
        assert!(mime_matches("*/*", "text/plain"));
        assert!(!mime_matches("image/*", "application/pdf"));
        assert!(!mime_matches("application/pdf", "application/pdfx"));
    }

    #[test]
    fn the_content_type_is_given_else_guessed_from_the_file_name() {
        assert_eq!(
            Upload::path("a/report.pdf").content_type(),
            "application/pdf"
        );
        assert_eq!(Upload::bytes("x.txt", "hi").content_type(), "text/plain");
        assert_eq!(
            Upload::bytes("blob", "hi").content_type(),
            "application/octet-stream"
        );
        assert_eq!(
            Upload::path("a.bin").mime("Image/PNG").content_type(),
            "image/png"
        );
    }

    #[test]
    fn a_missing_file_an_oversized_one_and_a_refused_type_fail_before_sending() {
        let mut form = FormBody {
            multipart: true,
            ..FormBody::default()
        };
        form.file("file", Upload::path("/nonexistent/agentwire/x.pdf"), &[]);
        let e = form.check(10).expect_err("missing");
        assert!(e.message().contains("does not exist"), "{}", e.message());

        let mut form = FormBody::default();
        form.file("file", Upload::bytes("big.pdf", vec![0u8; 11]), &[]);
        let e = form.check(10).expect_err("too big");
        assert!(e.message().contains("11 bytes"), "{}", e.message());

        let mut form = FormBody::default();
        form.file("logo", Upload::bytes("logo.pdf", "x"), &["image/*"]);
        let e = form.check(10).expect_err("not an image");
        assert!(e.message().contains("image/*"), "{}", e.message());
    }
}
