//! The three-step asset upload (init, the presigned POST, complete) behind one call: what no
//! spec can say — the order, the file checks the published client makes, and the presigned
//! form's content type.

use futures_util::future::try_join_all;

use super::requests::Assets;
use super::types::{CompleteUploadRequest, CompleteUploadResponse, InitiateUploadRequest};
use crate::{Error, Result, Upload};

/// The largest attachment the published client sends: 20 MiB (20,971,520 bytes). The init
/// answer's `max_file_bytes` applies when it is smaller.
pub const MAX_ATTACHMENT_BYTES: u64 = 20 * 1024 * 1024;

/// The content types SketricGen takes, as the published client lists them (47).
#[rustfmt::skip] // a table: one type after another, as the published client lists them
pub const ATTACHMENT_TYPES: &[&str] = &[
    "image/jpeg", "image/webp", "image/png", "application/pdf", "image/gif", "text/csv",
    "application/csv", "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/json",
    "text/html", "text/markdown", "text/plain", "text/xml", "application/xml", "text/yaml",
    "application/x-yaml", "application/yaml", "text/x-yaml", "text/javascript",
    "application/javascript", "application/typescript", "text/typescript", "text/css",
    "text/x-python", "text/x-script.python", "application/x-httpd-php", "text/x-java-source",
    "text/x-java", "text/x-c", "text/x-csrc", "text/x-c++", "text/x-c++src", "application/x-csh",
    "application/x-sh", "text/x-shellscript", "application/x-ruby", "text/x-ruby", "text/x-rust",
    "text/x-go", "text/x-scala", "text/x-swift", "text/x-csharp", "application/sql", "text/sql",
    "application/x-sql", "text/x-sql",
];

/// The published client's own extension table, consulted before the usual guess.
const BY_EXTENSION: &[(&str, &str)] = &[
    ("yml", "text/yaml"),
    ("yaml", "text/yaml"),
    ("ts", "application/typescript"),
    ("tsx", "application/typescript"),
    ("sql", "application/sql"),
    ("kt", "text/plain"),
    ("py", "text/x-python"),
    ("md", "text/markdown"),
];

/// The content type a file goes as: the one given, else the published client's table, else
/// the usual guess from its name.
fn attachment_type(file: &Upload) -> String {
    let extension = file
        .name()
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase());
    let listed = extension.and_then(|e| BY_EXTENSION.iter().find(|(x, _)| *x == e));
    match listed {
        Some((_, mime)) if !file.has_mime() => (*mime).to_owned(),
        _ => file.content_type(),
    }
}

/// Checks a file before any request: a name with an extension, not empty, at most `max`
/// bytes, a content type SketricGen takes. Returns its size and content type.
fn check(file: &Upload, max: u64) -> Result<(u64, String)> {
    let name = file.name().unwrap_or_default();
    if !name.contains('.') {
        return Err(Error::invalid_input(format!(
            "an attachment needs a file name with an extension (got {name:?})"
        )));
    }
    let size = file.size()?;
    if size == 0 {
        return Err(Error::invalid_input(format!(
            "the attachment {name:?} is empty"
        )));
    }
    if size > max {
        return Err(Error::invalid_input(format!(
            "the attachment {name:?} is {size} bytes, above the limit of {max} bytes"
        )));
    }
    let mime = attachment_type(file);
    let essence = mime.split(';').next().unwrap_or_default().trim();
    if !ATTACHMENT_TYPES.contains(&essence) {
        return Err(Error::invalid_input(format!(
            "the attachment {name:?} is `{essence}`, which SketricGen does not take (it takes {})",
            ATTACHMENT_TYPES.join(", ")
        )));
    }
    Ok((size, mime))
}

impl Assets {
    /// Uploads one file for `agent_id` — init, the presigned POST (no credentials; the policy's
    /// fields first, the file last, as `fields["Content-Type"]` when the policy names one), then
    /// complete — and returns the stored file; its `file_id` goes in a run's `assets`.
    ///
    /// Checked before any request: a file name with an extension, not empty, at most
    /// [`MAX_ATTACHMENT_BYTES`] (or the init answer's `max_file_bytes`, when smaller, before
    /// the file is sent), one of [`ATTACHMENT_TYPES`]. The presigned POST has the client's
    /// upload timeout (`SKETRICGEN_UPLOAD_TIMEOUT`).
    ///
    /// Errors: `InvalidInput` for a file that fails a check (nothing is sent); otherwise what
    /// each step fails with.
    pub async fn upload_file(
        &self,
        agent_id: &str,
        file: Upload,
    ) -> Result<CompleteUploadResponse> {
        let (size, mime) = check(&file, MAX_ATTACHMENT_BYTES)?;
        let file_name = file.name().unwrap_or_default().to_owned();
        let init = self
            .init(
                InitiateUploadRequest::builder()
                    .agent_id(agent_id)
                    .file_name(file_name.clone()),
            )
            .await?;
        let policy_max = u64::try_from(init.upload.max_file_bytes).unwrap_or(0);
        if policy_max > 0 && size > policy_max {
            return Err(Error::invalid_input(format!(
                "the attachment {file_name:?} is {size} bytes, above this upload's limit of {policy_max} bytes"
            )));
        }
        let mime = init
            .upload
            .fields
            .get("Content-Type")
            .cloned()
            .unwrap_or(mime);
        let mut post = self.upload(init.upload.url.clone(), file.mime(mime));
        for (name, value) in &init.upload.fields {
            post = post.form_field(name, value);
        }
        post.await?;
        self.complete(
            CompleteUploadRequest::builder()
                .agent_id(agent_id)
                .file_id(init.file_id.clone())
                .file_name(Some(file_name)),
        )
        .await
    }

    /// Uploads several files at once ([`Self::upload_file`] each); every file is checked
    /// before any request. Their ids, in order, go in a run's `assets`.
    ///
    /// Errors: the first failure (the other uploads are dropped).
    pub async fn upload_files(
        &self,
        agent_id: &str,
        files: Vec<Upload>,
    ) -> Result<Vec<CompleteUploadResponse>> {
        for file in &files {
            check(file, MAX_ATTACHMENT_BYTES)?;
        }
        try_join_all(files.into_iter().map(|f| self.upload_file(agent_id, f))).await
    }
}
