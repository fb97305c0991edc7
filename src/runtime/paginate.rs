//! Pages and paginators. A list operation's `send()` returns one [`Page`]; its `paginate()`
//! returns a [`Paginator`] that fetches the next page only when asked — by
//! [`Paginator::next_page`], or by polling [`Paginator::pages`] / [`Paginator::items`]. Breaking
//! out early fetches nothing more.
//!
//! A list goes on while its position advances and ends when the platform says so:
//! - page style: the page number grows; it ends when has-next is false (or, without that flag,
//!   at the last of the page count);
//! - cursor style: the cursor changes; it ends when has-next is false (whatever cursor the page
//!   carries) or the next cursor is null, absent or empty;
//! - offset style: the offset grows by the number of items *received* (never by the requested
//!   limit, which a server may cap); it ends when has-more is false or, without that flag, when
//!   the offset reaches the total.
//!
//! Empty pages in the middle of a filtered listing are normal: they advance page and cursor
//! lists, but an empty page cannot advance an offset list, so there it is an error. A position
//! seen before, or [`MAX_CONSECUTIVE_EMPTY_PAGES`] empty pages in a row, is an error too — never
//! an endless loop.
//!
//! ```no_run
//! # #[cfg(feature = "bimpeai")]
//! # async fn demo(client: agentwire::bimpeai::Client) -> agentwire::Result<()> {
//! use futures_util::TryStreamExt;
//! let mut agents = client.agents().list().limit(50).paginate().items();
//! while let Some(agent) = agents.try_next().await? {
//!     println!("{}", agent.name);
//! }
//! # Ok(())
//! # }
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use futures_core::Stream;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::config::ClientCore;
use super::error::{Error, ErrorKind, Result};
use super::operation::{Operation, PageKind, PageStyle};
use super::request::Request;
use super::response::{Layout, decode_body, decode_error};
use super::send::{Raw, send};

/// Consecutive empty pages a paginator accepts before it stops with an error (a server that
/// claims more forever while sending nothing).
pub const MAX_CONSECUTIVE_EMPTY_PAGES: usize = 10;

/// What every page says about its place in the list, read through the platform's style.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageInfo {
    /// Items in the whole list.
    pub total: Option<u64>,
    /// Pages in the whole list.
    pub page_count: Option<u64>,
    /// This page's number.
    pub page: Option<u64>,
    /// The page size.
    pub size: Option<u64>,
    /// Whether a next page exists.
    pub has_next: Option<bool>,
    /// Whether a previous page exists.
    pub has_previous: Option<bool>,
    /// The cursor of the next page (cursor style).
    pub next_cursor: Option<String>,
}

/// One page of a list: its items, and what they share ([`PageContext`]: the platform's typed
/// metadata `M`, the paginator's reading of it, the status, headers and request id).
pub struct Page<T, M = Value> {
    items: Vec<T>,
    context: Arc<PageContext<M>>,
}

/// What every item of one page shares: the page's metadata, status, headers and request id.
/// [`Paginator::items_with_context`] hands it out beside each item (one `Arc` per page).
#[derive(Debug)]
pub struct PageContext<M = Value> {
    meta: Option<M>,
    info: PageInfo,
    status: StatusCode,
    headers: HeaderMap,
    request_id: Option<String>,
}

impl<M> PageContext<M> {
    /// The platform's page metadata as sent (`None` when the answer had none: a single page).
    pub fn meta(&self) -> Option<&M> {
        self.meta.as_ref()
    }

    /// The metadata the paginator reads, whatever the platform calls it.
    pub fn info(&self) -> &PageInfo {
        &self.info
    }

    /// The platform's request id for the page.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The HTTP status of the page.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers of the page.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

impl<T: Clone, M> Clone for Page<T, M> {
    fn clone(&self) -> Self {
        Page {
            items: self.items.clone(),
            context: self.context.clone(),
        }
    }
}

impl<T, M> Page<T, M> {
    /// The items of this page.
    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// The items, owned.
    pub fn into_items(self) -> Vec<T> {
        self.items
    }

    /// What the items of this page share (metadata, request id), cheap to clone.
    pub fn context(&self) -> &Arc<PageContext<M>> {
        &self.context
    }

    /// The items, each with the page's shared context.
    pub fn into_items_with_context(self) -> impl Iterator<Item = (T, Arc<PageContext<M>>)> {
        let context = self.context;
        self.items
            .into_iter()
            .map(move |item| (item, context.clone()))
    }

    /// The platform's page metadata as sent (`None` when the answer had none: a single page).
    pub fn meta(&self) -> Option<&M> {
        self.context.meta()
    }

    /// The metadata the paginator reads, whatever the platform calls it.
    pub fn info(&self) -> &PageInfo {
        self.context.info()
    }

    /// Whether the platform says a next page exists: its has-next flag when it sends one, else
    /// a next cursor, else the page count (page lists) or the total (offset lists).
    pub fn has_next(&self) -> bool {
        let info = self.info();
        if let Some(flag) = info.has_next {
            return flag;
        }
        if info.next_cursor.is_some() {
            return true;
        }
        match (info.page, info.page_count) {
            (Some(page), Some(count)) => page < count,
            _ => false,
        }
    }

    /// The platform's request id for this page.
    pub fn request_id(&self) -> Option<&str> {
        self.context.request_id()
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.context.status()
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        self.context.headers()
    }
}

/// A page iterates over its items: `for agent in page { .. }`.
impl<T, M> IntoIterator for Page<T, M> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// `for agent in &page { .. }`.
impl<'a, T, M> IntoIterator for &'a Page<T, M> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<T: fmt::Debug, M: fmt::Debug> fmt::Debug for Page<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Page")
            .field("items", &self.items)
            .field("meta", &self.context.meta)
            .field("request_id", &self.context.request_id)
            .finish_non_exhaustive()
    }
}

/// Decodes a buffered list answer into a page: the items in one pass with the envelope, then
/// the (small) page metadata typed as `M` and read as [`PageInfo`].
pub(crate) fn decode_page<T: DeserializeOwned, M: DeserializeOwned>(
    core: &ClientCore,
    op: &'static Operation,
    raw: Raw,
) -> Result<Page<T, M>> {
    let decoded = decode_body::<Vec<T>>(core, op, &raw, Layout::of(op))?;
    let items = decoded.result.unwrap_or_default();
    let (meta, info) = match (decoded.meta, op.pagination) {
        (Some(meta_json), Some(style)) => {
            let typed: M = serde_json::from_str(meta_json.get()).map_err(|e| {
                decode_error(
                    core,
                    op,
                    &raw,
                    format!("the page metadata does not match the documented type: {e}"),
                )
            })?;
            let info = serde_json::from_str::<Value>(meta_json.get())
                .map(|value| read_info(style, &value))
                .unwrap_or_default();
            (Some(typed), info)
        }
        _ => (None, PageInfo::default()),
    };
    Ok(Page {
        items,
        context: Arc::new(PageContext {
            meta,
            info,
            status: raw.status,
            headers: raw.headers,
            request_id: raw.request_id,
        }),
    })
}

fn read_info(style: &PageStyle, meta: &Value) -> PageInfo {
    let get = |name: Option<&str>| name.and_then(|n| meta.get(n));
    let num = |name: Option<&str>| {
        get(name).and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
    };
    let flag = |name: Option<&str>| get(name).and_then(Value::as_bool);
    PageInfo {
        total: num(style.total),
        page_count: num(style.page_count),
        page: num(style.current),
        size: num(style.size),
        has_next: flag(style.has_next),
        has_previous: flag(style.has_previous),
        next_cursor: get(style.next_cursor)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    }
}

/// Where the page after this one starts, by the rules of the module docs: `Ok(None)` when the
/// list ends, else the position this page reached (checked to grow) and the query value of the
/// next page. `sent` is the page, offset or cursor this page was asked with.
fn next_position(
    style: &PageStyle,
    info: &PageInfo,
    sent: Option<&str>,
    received: usize,
) -> std::result::Result<Option<(Position, String)>, &'static str> {
    let number = sent.and_then(|v| v.parse::<u64>().ok());
    Ok(match style.kind {
        PageKind::Page => {
            let current = info.page.or(number).unwrap_or(1);
            let more = info
                .has_next
                .unwrap_or_else(|| info.page_count.is_some_and(|count| current < count));
            more.then(|| (Position::Page(current), (current + 1).to_string()))
        }
        // An offset list that may also answer a cursor (`cursor-param`): the cursor when there
        // is one, the offset otherwise; `has-next: false` ends it whatever the cursor says.
        PageKind::Offset
            if style.cursor_param.is_some()
                && info.has_next != Some(false)
                && info.next_cursor.as_deref().is_some_and(|c| !c.is_empty()) =>
        {
            let cursor = info.next_cursor.clone().unwrap_or_default();
            Some((Position::Cursor(cursor.clone()), cursor))
        }
        PageKind::Offset => {
            let next = number.unwrap_or(0).saturating_add(received as u64);
            let more = info
                .has_next
                .unwrap_or_else(|| info.total.is_some_and(|total| next < total));
            if more && received == 0 {
                return Err(
                    "an empty page of an offset list claims that more follow, but the offset cannot advance; stopping instead of looping",
                );
            }
            more.then(|| (Position::Offset(next), next.to_string()))
        }
        PageKind::Cursor => {
            let cursor = info.next_cursor.clone().filter(|c| !c.is_empty());
            match (info.has_next, cursor) {
                (Some(false), _) | (_, None) => None,
                (_, Some(cursor)) => {
                    if sent == Some(cursor.as_str()) {
                        return Err(
                            "the next cursor is the one this page was asked with; stopping instead of looping",
                        );
                    }
                    Some((Position::Cursor(cursor.clone()), cursor))
                }
            }
        }
    })
}

/// Walks a list page by page, fetching each page only when it is asked for.
pub struct Paginator<T, M = Value> {
    core: Arc<ClientCore>,
    next: Option<Request>,
    /// An invalid first request, reported by the first fetch.
    pending_error: Option<Error>,
    max_pages: Option<usize>,
    fetched: usize,
    last_position: Option<Position>,
    empty_run: usize,
    _items: PhantomData<fn() -> (T, M)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Position {
    Page(u64),
    Offset(u64),
    Cursor(String),
}

impl<T, M> fmt::Debug for Paginator<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Paginator")
            .field("operation", &self.next.as_ref().map(|r| r.op.id))
            .field("fetched", &self.fetched)
            .field("max_pages", &self.max_pages)
            .finish()
    }
}

impl<T, M> Paginator<T, M>
where
    T: DeserializeOwned + Send + 'static,
    M: DeserializeOwned + Send + Sync + 'static,
{
    pub(crate) fn new(
        core: Arc<ClientCore>,
        op: &'static Operation,
        first: Result<Request>,
    ) -> Self {
        let (next, pending_error) = match first {
            Ok(req) => (Some(req), None),
            Err(e) => (None, Some(e.for_op(core.platform, op))),
        };
        Paginator {
            core,
            next,
            pending_error,
            max_pages: None,
            fetched: 0,
            last_position: None,
            empty_run: 0,
            _items: PhantomData,
        }
    }

    /// Stops after `pages` pages, whatever the platform says.
    pub fn max_pages(mut self, pages: usize) -> Self {
        self.max_pages = Some(pages);
        self
    }

    /// Fetches the next page; `Ok(None)` once the list is done.
    ///
    /// Cancel-safe: dropping the future while its request is in flight loses nothing, and the
    /// next call fetches that page again. After a failed request (once its retries are spent)
    /// the next call tries the same page again; after an error in the list itself (a position
    /// that does not advance, too many empty pages) the paginator is done.
    pub async fn next_page(&mut self) -> Result<Option<Page<T, M>>> {
        if let Some(e) = self.pending_error.take() {
            return Err(e);
        }
        if self.max_pages.is_some_and(|max| self.fetched >= max) {
            self.next = None;
        }
        // Cloned, not taken: a dropped or failed fetch leaves the request in place.
        let Some(req) = self.next.clone() else {
            return Ok(None);
        };
        let op = req.op;
        let raw = send(&self.core, &req).await?;
        let page: Page<T, M> = decode_page(&self.core, op, raw)?;
        self.fetched += 1;
        self.next = None;
        self.next = self.advance(&req, &page)?;
        Ok(Some(page))
    }

    /// The request for the page after `page`, if any; an error when the list would not move.
    fn advance(&mut self, req: &Request, page: &Page<T, M>) -> Result<Option<Request>> {
        let op = req.op;
        let Some(style) = op.pagination else {
            return Ok(None);
        };
        let stuck = |what: String| {
            Error::new(ErrorKind::Decode, what)
                .not_retryable()
                .with_request_id(page.request_id().map(str::to_owned))
                .for_op(self.core.platform, op)
        };
        let sent = req.query_value(style.page_param);
        let received = page.items.len();
        let Some((position, next_value)) =
            next_position(style, page.info(), sent, received).map_err(|e| stuck(e.into()))?
        else {
            return Ok(None);
        };
        self.empty_run = if received == 0 { self.empty_run + 1 } else { 0 };
        if self.empty_run >= MAX_CONSECUTIVE_EMPTY_PAGES {
            return Err(stuck(format!(
                "{MAX_CONSECUTIVE_EMPTY_PAGES} consecutive empty pages still claim that more follow; stopping instead of looping"
            )));
        }
        if let Some(last) = &self.last_position {
            let advanced = match (last, &position) {
                (Position::Page(a), Position::Page(b)) => b > a,
                (Position::Offset(a), Position::Offset(b)) => b > a,
                (Position::Cursor(a), Position::Cursor(b)) => a != b,
                _ => true,
            };
            if !advanced {
                return Err(stuck(format!(
                    "the list did not advance (position {position:?} again after {last:?}); stopping instead of looping"
                )));
            }
        }
        let mut next = req.clone();
        match (&position, style.cursor_param) {
            // A hybrid list moving by its cursor: the offset no longer applies.
            (Position::Cursor(_), Some(cursor_param)) if style.kind == PageKind::Offset => {
                next.remove_query(style.page_param);
                next.set_query(cursor_param, next_value);
            }
            _ => next.set_query(style.page_param, next_value),
        }
        self.last_position = Some(position);
        Ok(Some(next))
    }

    /// The pages as a stream; each is fetched when polled for.
    pub fn pages(self) -> impl Stream<Item = Result<Page<T, M>>> + Send + Unpin + 'static {
        // Fused: polling again after the end answers `None` instead of panicking. Boxed: the
        // stream is `Unpin`, so `while let Some(p) = pages.try_next().await?` just works.
        let pages = futures_util::stream::unfold(Some(self), |state| async move {
            let mut paginator = state?;
            match paginator.next_page().await {
                Ok(Some(page)) => Some((Ok(page), Some(paginator))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        });
        Box::pin(futures_util::StreamExt::fuse(pages))
    }

    /// The items of every page as one stream, each with its page's shared context (metadata,
    /// request id); pages are fetched as the items run out.
    pub fn items_with_context(
        self,
    ) -> impl Stream<Item = Result<(T, Arc<PageContext<M>>)>> + Send + Unpin + 'static {
        let state = (Some(self), VecDeque::new());
        let items = futures_util::stream::unfold(state, |(mut paginator, mut buffer)| async move {
            loop {
                if let Some(item) = buffer.pop_front() {
                    return Some((Ok(item), (paginator, buffer)));
                }
                let p = paginator.as_mut()?;
                match p.next_page().await {
                    Ok(Some(page)) => buffer.extend(page.into_items_with_context()),
                    Ok(None) => return None,
                    Err(e) => return Some((Err(e), (None, buffer))),
                }
            }
        });
        // Boxed so that the stream is `Unpin` (see `pages`).
        Box::pin(futures_util::StreamExt::fuse(items))
    }

    /// The items of every page as one stream; pages are fetched as the items run out.
    pub fn items(self) -> impl Stream<Item = Result<T>> + Send + Unpin + 'static {
        let state = (Some(self), VecDeque::new());
        let items = futures_util::stream::unfold(state, |(mut paginator, mut buffer)| async move {
            loop {
                if let Some(item) = buffer.pop_front() {
                    return Some((Ok(item), (paginator, buffer)));
                }
                let p = paginator.as_mut()?;
                match p.next_page().await {
                    Ok(Some(page)) => buffer.extend(page.into_items()),
                    Ok(None) => return None,
                    Err(e) => return Some((Err(e), (None, buffer))),
                }
            }
        });
        // Boxed so that the stream is `Unpin` (see `pages`).
        Box::pin(futures_util::StreamExt::fuse(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(kind: PageKind) -> PageStyle {
        PageStyle {
            kind,
            page_param: "p",
            size_param: Some("limit"),
            meta: None,
            total: Some("total"),
            page_count: None,
            current: None,
            size: None,
            has_next: Some("has_more"),
            has_previous: None,
            next_cursor: Some("next"),
            cursor_param: None,
        }
    }

    fn info(has_next: Option<bool>, total: Option<u64>, cursor: Option<&str>) -> PageInfo {
        PageInfo {
            has_next,
            total,
            next_cursor: cursor.map(str::to_owned),
            ..PageInfo::default()
        }
    }

    #[test]
    fn offsets_grow_by_the_items_received_not_the_limit() {
        let offset = style(PageKind::Offset);
        // Asked for 50 from 0, the server capped the page at 20.
        let next = next_position(&offset, &info(Some(true), None, None), Some("0"), 20);
        assert_eq!(next, Ok(Some((Position::Offset(20), "20".into()))));
        let next = next_position(&offset, &info(Some(true), None, None), Some("20"), 20);
        assert_eq!(next, Ok(Some((Position::Offset(40), "40".into()))));
        // No offset sent yet: the first page starts at 0.
        let next = next_position(&offset, &info(Some(true), None, None), None, 3);
        assert_eq!(next, Ok(Some((Position::Offset(3), "3".into()))));
    }

    #[test]
    fn an_offset_list_ends_on_has_more_false_or_at_the_total() {
        let offset = style(PageKind::Offset);
        assert_eq!(
            next_position(&offset, &info(Some(false), Some(99), None), Some("0"), 10),
            Ok(None)
        );
        // Without a has-more flag: the total decides.
        assert_eq!(
            next_position(&offset, &info(None, Some(30), None), Some("20"), 10),
            Ok(None)
        );
        assert_eq!(
            next_position(&offset, &info(None, Some(31), None), Some("20"), 10),
            Ok(Some((Position::Offset(30), "30".into())))
        );
    }

    #[test]
    fn an_empty_offset_page_claiming_more_is_an_error() {
        let offset = style(PageKind::Offset);
        let stuck = next_position(&offset, &info(Some(true), None, None), Some("40"), 0);
        assert!(stuck.is_err(), "{stuck:?}");
        let stuck = next_position(&offset, &info(None, Some(100), None), Some("40"), 0);
        assert!(stuck.is_err(), "{stuck:?}");
    }

    #[test]
    fn a_cursor_list_ends_when_has_next_is_false_even_with_a_cursor() {
        let cursor = style(PageKind::Cursor);
        assert_eq!(
            next_position(
                &cursor,
                &info(Some(false), None, Some("c_2")),
                Some("c_1"),
                5
            ),
            Ok(None)
        );
        assert_eq!(
            next_position(
                &cursor,
                &info(Some(true), None, Some("c_2")),
                Some("c_1"),
                5
            ),
            Ok(Some((Position::Cursor("c_2".into()), "c_2".into())))
        );
        // No flag: a cursor means more.
        assert_eq!(
            next_position(&cursor, &info(None, None, Some("c_2")), None, 0),
            Ok(Some((Position::Cursor("c_2".into()), "c_2".into()))),
            "an empty page advances a cursor list"
        );
    }

    #[test]
    fn a_cursor_list_ends_without_a_cursor_and_refuses_the_same_one() {
        let cursor = style(PageKind::Cursor);
        assert_eq!(
            next_position(&cursor, &info(Some(true), None, None), Some("c_1"), 5),
            Ok(None)
        );
        assert_eq!(
            next_position(&cursor, &info(Some(true), None, Some("")), Some("c_1"), 5),
            Ok(None),
            "an empty cursor is no cursor"
        );
        assert!(
            next_position(
                &cursor,
                &info(Some(true), None, Some("c_1")),
                Some("c_1"),
                5
            )
            .is_err()
        );
    }

    #[test]
    fn pages_advance_through_empty_pages_and_end_at_the_count() {
        let mut page = style(PageKind::Page);
        page.page_count = Some("pages");
        let i = PageInfo {
            page: Some(2),
            page_count: Some(3),
            ..PageInfo::default()
        };
        assert_eq!(
            next_position(&page, &i, Some("2"), 0),
            Ok(Some((Position::Page(2), "3".into())))
        );
        let last = PageInfo {
            page: Some(3),
            page_count: Some(3),
            ..PageInfo::default()
        };
        assert_eq!(next_position(&page, &last, Some("3"), 1), Ok(None));
    }
}
