//! Our generator: from the checked model, emits the open enums, the operation table, the
//! platform `Client`, and one resource handle per group and one request builder per operation.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

use super::model::{
    AuthScheme, EnumDef, FormKind, Op, ParamType, RequestKind, ResponseKind, ResumeParam, Shape,
    Spec, event_variant, pascal, rust_ident,
};

fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

fn ty(path: &str) -> TokenStream {
    syn::parse_str::<syn::Type>(path)
        .map(|t| quote!(#t))
        .unwrap_or_else(|_| panic!("generated type path is invalid: {path}"))
}

fn lit(s: &str) -> Literal {
    Literal::string(s)
}

fn opt_lit(s: Option<&String>) -> TokenStream {
    match s {
        Some(s) => {
            let l = lit(s);
            quote!(Some(#l))
        }
        None => quote!(None),
    }
}

/// One open enum: the documented values plus `Unknown(String)`, through the runtime's
/// `open_enum!` (everything an open enum implements is written there once).
pub fn open_enum(e: &EnumDef) -> TokenStream {
    let name = ident(&e.name);
    let mut used = BTreeSet::new();
    let mut variants = Vec::new();
    for value in &e.values {
        let mut v = pascal(value);
        if v.is_empty() || v.starts_with(|c: char| c.is_ascii_digit()) {
            v.insert(0, 'V');
        }
        if v == "Unknown" {
            v = "UnknownValue".into();
        }
        while !used.insert(v.clone()) {
            v.push('_');
        }
        variants.push((ident(&v), value.clone()));
    }
    let doc = e
        .description
        .clone()
        .unwrap_or_else(|| format!("One of the documented `{}` values.", e.name));
    let variants = variants.iter().map(|(v, s)| quote!(#v = #s));
    quote! {
        crate::runtime::open::open_enum! {
            #[doc = #doc]
            #name { #(#variants),* }
        }
    }
}

/// The static name of a named envelope or error format.
fn profile_ident(prefix: &str, name: &str) -> Ident {
    format_ident!("{prefix}_{}", name.to_uppercase().replace(['-', '.'], "_"))
}

/// The platform's static table: credentials, hosts with their profiles (error format, default
/// envelope), named envelopes and error formats, page styles, operations. `source` is the spec
/// file it comes from (named in the docs).
pub fn table(spec: &Spec, source: &str) -> TokenStream {
    let name = lit(&spec.name);
    let display = lit(&spec.display_name);
    let list = |v: &[String]| {
        let items = v.iter().map(|s| lit(s));
        quote!(&[#(#items),*])
    };
    let envelope_ref = |e: Option<&String>| match e {
        Some(e) => {
            let id = profile_ident("ENVELOPE", e);
            quote!(Some(&#id))
        }
        None => quote!(None),
    };
    let envelope_items = spec.envelopes.iter().map(|(ename, e)| {
        let id = profile_ident("ENVELOPE", ename);
        let (data, meta, req) = (lit(&e.data), lit(&e.meta), list(&e.required));
        quote! {
            static #id: crate::runtime::operation::Envelope = crate::runtime::operation::Envelope {
                data: #data, meta: #meta, required: #req,
            };
        }
    });
    let error_items = spec.error_formats.iter().map(|(fname, e)| {
        let id = profile_ident("ERRORS", fname);
        let (m, c, r, vc, ra) = (
            list(&e.message),
            list(&e.code),
            list(&e.request_id),
            list(&e.validation_codes),
            list(&e.retry_after),
        );
        let fe = opt_lit(e.field_errors.as_ref());
        quote! {
            static #id: crate::runtime::operation::ErrorFormat = crate::runtime::operation::ErrorFormat {
                message: #m, code: #c, request_id: #r, validation_codes: #vc, field_errors: #fe,
                retry_after: #ra,
            };
        }
    });
    let hosts = spec.hosts.iter().map(|h| {
        let (n, u, p, env) = (lit(&h.name), lit(&h.url), lit(&h.prefix), lit(&h.env));
        let errors = if h.errors.is_empty() {
            quote!(crate::runtime::operation::ErrorFormat::DEFAULT)
        } else {
            let id = profile_ident("ERRORS", &h.errors);
            quote!(#id)
        };
        let envelope = envelope_ref(h.envelope.as_ref());
        quote! {
            crate::runtime::operation::Host {
                name: #n, url: #u, prefix: #p, env: #env, errors: &#errors, envelope: #envelope,
            }
        }
    });
    let credentials = spec.credentials.iter().map(|c| {
        let (n, env, d) = (lit(&c.name), lit(&c.env), lit(&c.description));
        quote!(crate::runtime::operation::Credential { name: #n, env: #env, description: #d })
    });
    let required = list(&spec.required_credentials);
    let idem = opt_lit(spec.idempotency_header.as_ref());
    let rid = opt_lit(spec.request_id_header.as_ref());
    let settings = spec.settings.iter().map(|(name, env, default)| {
        let name = ident(&pascal(name));
        let env = opt_lit(env.as_ref());
        let default = match default {
            Some(d) => quote!(Some(#d)),
            None => quote!(None),
        };
        quote!(crate::runtime::operation::Setting {
            name: crate::runtime::operation::SettingName::#name, env: #env, default: #default,
        })
    });

    let realtime = match &spec.realtime {
        None => quote!(None),
        Some(r) => {
            let (path, ty, topic) = (lit(&r.path), lit(&r.type_member), lit(&r.topic_member));
            let (sub, unsub) = (lit(&r.subscribe), lit(&r.unsubscribe));
            let credentials = r.credentials.iter().map(|(param, credential)| {
                let (param, credential) = (lit(param), lit(credential));
                quote!((#param, #credential))
            });
            let ping = match &r.ping {
                Some((ping, pong)) => {
                    let (ping, pong) = (lit(ping), lit(pong));
                    quote!(Some((#ping, #pong)))
                }
                None => quote!(None),
            };
            let echoes = r.echoes.iter().map(|(operation, topic, event, member)| {
                let (operation, topic, event) = (lit(operation), lit(topic), lit(event));
                let member = opt_lit(member.as_ref());
                quote!(crate::runtime::operation::Echo {
                    operation: #operation, topic_param: #topic, event: #event, member: #member,
                })
            });
            quote!(Some(&crate::runtime::operation::Realtime {
                path: #path,
                credentials: &[#(#credentials),*],
                type_member: #ty,
                topic_member: #topic,
                subscribe: #sub,
                unsubscribe: #unsub,
                ping: #ping,
                echoes: &[#(#echoes),*],
            }))
        }
    };

    let mut style_items = Vec::new();
    for (style_name, s) in &spec.page_styles {
        // A style no operation uses yet (a spec being written) is not emitted.
        if !spec.ops.iter().any(|op| {
            op.pagination
                .as_ref()
                .is_some_and(|(name, _)| name == style_name)
        }) {
            continue;
        }
        let static_name =
            format_ident!("PAGE_STYLE_{}", style_name.to_uppercase().replace('-', "_"));
        let kind = match s.kind.as_str() {
            "offset" => quote!(crate::runtime::operation::PageKind::Offset),
            "cursor" => quote!(crate::runtime::operation::PageKind::Cursor),
            _ => quote!(crate::runtime::operation::PageKind::Page),
        };
        let page_param = lit(&s.page_param);
        let size_param = opt_lit(s.size_param.as_ref());
        let meta = opt_lit(s.meta.as_ref());
        let f = |k: &str| opt_lit(s.fields.get(k));
        let (total, page_count, current, size, has_next, has_previous, next_cursor) = (
            f("total"),
            f("page-count"),
            f("current"),
            f("size"),
            f("has-next"),
            f("has-previous"),
            f("next-cursor"),
        );
        let cursor_param = f("cursor-param");
        style_items.push(quote! {
            static #static_name: crate::runtime::operation::PageStyle = crate::runtime::operation::PageStyle {
                kind: #kind,
                page_param: #page_param,
                size_param: #size_param,
                meta: #meta,
                total: #total,
                page_count: #page_count,
                current: #current,
                size: #size,
                has_next: #has_next,
                has_previous: #has_previous,
                next_cursor: #next_cursor,
                cursor_param: #cursor_param,
            };
        });
    }

    let task_items = spec.task_profiles.iter().map(|(tname, t)| {
        let id = profile_ident("TASK", tname);
        let (codes, states, state, idm, urls, status_op) = (
            &t.ack_status_codes,
            list(&t.ack_states),
            lit(&t.state_member),
            lit(&t.id_member),
            list(&t.url_members),
            lit(&t.status_operation),
        );
        let (success, failure, results, error) = (
            list(&t.success),
            list(&t.failure),
            list(&t.result_members),
            lit(&t.error_member),
        );
        let (interval, growth, cap, max_wait) = (t.interval_ms, t.growth, t.cap_ms, t.max_wait_ms);
        let (hints, times, containers, strip) = (
            list(&t.hint_members),
            list(&t.hint_time_members),
            list(&t.hint_containers),
            list(&t.strip_prefixes),
        );
        quote! {
            static #id: crate::runtime::operation::TaskSpec = crate::runtime::operation::TaskSpec {
                ack_status_codes: &[#(#codes),*], ack_states: #states, state_member: #state,
                id_member: #idm, url_members: #urls, status_operation: #status_op,
                success: #success, failure: #failure, result_members: #results,
                error_member: #error, interval_ms: #interval, growth: #growth, cap_ms: #cap,
                max_wait_ms: #max_wait, hint_members: #hints, hint_time_members: #times,
                hint_containers: #containers, strip_prefixes: #strip,
            };
        }
    });

    let mut stream_items = Vec::new();
    let mut follow_items = Vec::new();
    let ops = spec.ops.iter().enumerate().map(|(i, op)| {
        let id = lit(&op.id);
        let method = ident(&pascal(&op.method.to_lowercase()));
        let path = lit(&op.path);
        let host = op.host;
        let alternatives = op.auth.iter().map(|alt| {
            let schemes = alt.iter().map(|s| match s {
                AuthScheme::Bearer(c) => {
                    let c = lit(c);
                    quote!(crate::runtime::operation::Auth::Bearer(#c))
                }
                AuthScheme::Header(h, c) => {
                    let (h, c) = (lit(h), lit(c));
                    quote!(crate::runtime::operation::Auth::Header(#h, #c))
                }
                AuthScheme::Query(q, c) => {
                    let (q, c) = (lit(q), lit(c));
                    quote!(crate::runtime::operation::Auth::Query(#q, #c))
                }
            });
            quote!(&[#(#schemes),*])
        });
        let envelope = envelope_ref(op.envelope.as_ref());
        let status = op.success_status;
        let pagination = match &op.pagination {
            Some((style, _)) => {
                let s = format_ident!("PAGE_STYLE_{}", style.to_uppercase().replace('-', "_"));
                quote!(Some(&#s))
            }
            None => quote!(None),
        };
        let items = opt_lit(op.pagination.as_ref().and_then(|(_, items)| items.as_ref()));
        let stream = match &op.stream {
            Some(s) => {
                let sname = format_ident!("STREAM_{}", i);
                let hb = s.heartbeat.iter().map(|h| lit(h));
                let terminal = s.terminal.iter().map(|t| lit(t));
                let terminal_data = s.terminal_data.iter().map(|t| lit(t));
                let type_member = opt_lit(s.type_member.as_ref());
                let events = s.events.iter().map(|(name, schema)| {
                    let (name, schema) = (lit(name), lit(schema));
                    quote!(crate::runtime::operation::EventType { name: #name, schema: #schema })
                });
                let non_json = if s.non_json_raw {
                    quote!(crate::runtime::operation::NonJson::Raw)
                } else {
                    quote!(crate::runtime::operation::NonJson::Error)
                };
                let flush = s.flush_at_eof;
                let body_flag = opt_lit(s.body_flag.as_ref());
                let close_ends = s.close_ends;
                let resume = match &s.resume {
                    Some(ResumeParam::Query(name)) => {
                        let name = lit(name);
                        quote!(Some(crate::runtime::operation::StreamResume::Query(#name)))
                    }
                    Some(ResumeParam::Header(name)) => {
                        let name = lit(name);
                        quote!(Some(crate::runtime::operation::StreamResume::Header(#name)))
                    }
                    None => quote!(None),
                };
                stream_items.push(quote! {
                    static #sname: crate::runtime::operation::StreamSpec = crate::runtime::operation::StreamSpec {
                        type_member: #type_member,
                        events: &[#(#events),*],
                        heartbeat: &[#(#hb),*],
                        terminal: &[#(#terminal),*],
                        terminal_data: &[#(#terminal_data),*],
                        non_json: #non_json,
                        flush_at_eof: #flush,
                        resume: #resume,
                        body_flag: #body_flag,
                        close_ends: #close_ends,
                    };
                });
                quote!(Some(&#sname))
            }
            None => quote!(None),
        };
        let task = match &op.task {
            Some(t) => {
                let id = profile_ident("TASK", t);
                quote!(Some(&#id))
            }
            None => quote!(None),
        };
        let follow = match &op.follow {
            Some(f) => {
                let fname = format_ident!("FOLLOW_{}", i);
                let (stream, urls, fin) = (lit(&f.stream), list(&f.url_members), lit(&f.final_event));
                follow_items.push(quote! {
                    static #fname: crate::runtime::operation::FollowSpec = crate::runtime::operation::FollowSpec {
                        stream_operation: #stream, url_members: #urls, final_event: #fin,
                    };
                });
                quote!(Some(&#fname))
            }
            None => quote!(None),
        };
        let retry_safe = op.retry_safe;
        let omit = op.omit_headers.iter().map(|h| lit(h));
        // Every field but the identity as (name, value); the entry lists only those that differ
        // from the platform's most common value (`..OPERATION`), which keeps the table short.
        let request_kind = ident(&pascal(op.request_kind.name()));
        let response_kind = ident(&pascal(op.response_kind.name()));
        let fields: Vec<(&str, TokenStream)> = vec![
            ("request", quote!(crate::runtime::operation::RequestKind::#request_kind)),
            ("response", quote!(crate::runtime::operation::ResponseKind::#response_kind)),
            ("host", quote!(#host)),
            ("auth", quote!(&[#(#alternatives),*])),
            ("envelope", envelope),
            ("success_status", quote!(#status)),
            ("pagination", pagination),
            ("items", items),
            ("stream", stream),
            ("task", task),
            ("follow", follow),
            ("retry_safe", quote!(#retry_safe)),
            ("omit_headers", quote!(&[#(#omit),*])),
            ("checks", checks_table(&op.checks)),
            ("idempotency_member", opt_lit(op.idempotency_member.as_ref())),
            ("outcome", match &op.outcome {
                Some((ok, error, id)) => {
                    let (error, id) = (opt_lit(error.as_ref()), opt_lit(id.as_ref()));
                    quote!(Some(&crate::runtime::operation::Outcome {
                        ok_member: #ok, error_member: #error, id_member: #id,
                    }))
                }
                None => quote!(None),
            }),
        ];
        (quote!(id: #id, method: crate::runtime::operation::Method::#method, path: #path), fields)
    }).collect::<Vec<_>>();
    // The most common value of each field across the operations: the defaults.
    let mut defaults: Vec<(&str, TokenStream)> = Vec::new();
    if let Some((_, first)) = ops.first() {
        for (i, (field, _)) in first.iter().enumerate() {
            let mut counts: BTreeMap<String, (usize, TokenStream)> = BTreeMap::new();
            for (_, fields) in &ops {
                let value = &fields[i].1;
                counts
                    .entry(value.to_string())
                    .or_insert_with(|| (0, value.clone()))
                    .0 += 1;
            }
            let common = counts
                .into_values()
                .max_by_key(|(n, _)| *n)
                .map(|(_, v)| v)
                .unwrap_or_default();
            defaults.push((field, common));
        }
    }
    let default_fields = defaults.iter().map(|(f, v)| {
        let f = ident(f);
        quote!(#f: #v)
    });
    let ops = ops
        .iter()
        .map(|(identity, fields)| {
            let differing = fields
                .iter()
                .zip(&defaults)
                .filter(|((_, v), (_, d))| v.to_string() != d.to_string())
                .map(|((f, v), _)| {
                    let f = ident(f);
                    quote!(#f: #v)
                });
            quote!(crate::runtime::operation::Operation { #identity, #(#differing,)* ..OPERATION })
        })
        .collect::<Vec<_>>();
    let count = ops.len();
    let by_name = spec.ops.iter().enumerate().map(|(i, op)| {
        let name = format_ident!("{}", op.id.replace('.', "_").to_uppercase());
        quote!(pub(crate) static #name: &crate::runtime::operation::Operation = &super::OPERATIONS[#i];)
    });
    let doc = format!(
        "The operation table of {}: every operation of `{source}`, generated.",
        spec.display_name
    );
    quote! {
        #(#envelope_items)*
        #(#error_items)*
        #(#style_items)*
        #(#task_items)*
        #(#stream_items)*
        #(#follow_items)*

        /// The fields most operations share; each entry of the table names only what differs.
        const OPERATION: crate::runtime::operation::Operation = crate::runtime::operation::Operation {
            id: "",
            method: crate::runtime::operation::Method::Get,
            path: "",
            #(#default_fields,)*
        };

        static OPERATIONS: [crate::runtime::operation::Operation; #count] = [#(#ops),*];

        /// Each operation's table entry by name, for hand-written code.
        #[allow(dead_code)]
        pub(crate) mod op {
            #(#by_name)*
        }

        #[doc = #doc]
        pub static PLATFORM: crate::runtime::operation::Platform = crate::runtime::operation::Platform {
            name: #name,
            display_name: #display,
            hosts: &[#(#hosts),*],
            credentials: &[#(#credentials),*],
            required_credentials: #required,
            idempotency_header: #idem,
            request_id_header: #rid,
            operations: &OPERATIONS,
            settings: &[#(#settings),*],
            realtime: #realtime,
        };
    }
}

/// The event enum of every generated stream operation, from its event map: one variant per
/// declared event type (heartbeats aside, as they are never yielded) holding its typed data, and
/// `Other` holding what the map does not declare, as it came.
pub fn event_enums(spec: &Spec) -> TokenStream {
    let enums = spec.ops.iter().filter(|op| !op.hand_written).filter_map(|op| {
        let s = op.stream.as_ref()?;
        let name = ident(&s.enum_name);
        let declared: Vec<(&String, &String)> = s
            .events
            .iter()
            .filter(|(event, _)| !s.heartbeat.contains(event))
            .collect();
        let variants = declared.iter().map(|(event, schema)| {
            let v = ident(&event_variant(event));
            let t = ident(schema);
            let ends = if s.terminal.contains(event) {
                " The stream ends after it."
            } else {
                ""
            };
            let doc = format!("A `{event}` event: its data as [`types::{schema}`].{ends}");
            quote!(#[doc = #doc] #v(types::#t),)
        });
        let accessors = declared.iter().map(|(event, schema)| {
            let v = ident(&event_variant(event));
            let t = ident(schema);
            let method = format_ident!("as_{}", heck::ToSnakeCase::to_snake_case(event.as_str()));
            let doc = format!("The data of a `{event}` event, if this is one.");
            quote! {
                #[doc = #doc]
                pub fn #method(&self) -> ::std::option::Option<&types::#t> {
                    match self {
                        Self::#v(data) => Some(data),
                        _ => None,
                    }
                }
            }
        });
        let arms = declared.iter().map(|(event, _)| {
            let v = ident(&event_variant(event));
            let e = lit(event);
            quote!(#e => Some(::serde_json::from_str(data).map(Self::#v)),)
        });
        let type_arms = declared.iter().map(|(event, _)| {
            let v = ident(&event_variant(event));
            let e = lit(event);
            quote!(Self::#v(_) => event_type == #e,)
        });
        let by = match &s.type_member {
            Some(m) => format!(
                "Events are told apart by the `{m}` member of their JSON data (by their SSE event name where it has none)."
            ),
            None => "Events are told apart by their SSE event name.".to_string(),
        };
        let mut ends = Vec::new();
        if !s.terminal.is_empty() {
            ends.push(format!("after a {} event", s.terminal.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(" or ")));
        }
        if !s.terminal_data.is_empty() {
            ends.push(format!("at a {} data line", s.terminal_data.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(" or ")));
        }
        let ending = if ends.is_empty() {
            "It has no end marker.".to_string()
        } else {
            format!("The stream ends {}.", ends.join(", or "))
        };
        let heartbeats = if s.heartbeat.is_empty() {
            String::new()
        } else {
            format!(" Heartbeats ({}) are consumed, never yielded.", s.heartbeat.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", "))
        };
        let other_doc = if s.non_json_raw {
            "An event type the map does not declare (or data that is not JSON), kept as it came."
        } else {
            "An event type the map does not declare, kept as it came."
        };
        let doc = format!(
            "One event of `{}` (`{} {}`), typed by its event map. {by} {ending}{heartbeats}",
            op.id, op.method, op.path
        );
        Some(quote! {
            #[doc = #doc]
            #[derive(Debug, Clone, PartialEq)]
            #[non_exhaustive]
            #[allow(clippy::large_enum_variant)]
            pub enum #name {
                #(#variants)*
                #[doc = #other_doc]
                Other(crate::sse::Event),
            }

            impl #name {
                #(#accessors)*
            }

            impl crate::__private::EventEnum for #name {
                #[allow(unused_variables)]
                fn decode(event_type: &str, data: &str) -> ::std::option::Option<::serde_json::Result<Self>> {
                    match event_type {
                        #(#arms)*
                        _ => None,
                    }
                }

                fn other(event: crate::sse::Event) -> Self {
                    Self::Other(event)
                }

                fn is_type(&self, event_type: &str) -> bool {
                    match self {
                        #(#type_arms)*
                        Self::Other(event) => event.name() == event_type,
                    }
                }
            }
        })
    });
    quote!(#(#enums)*)
}

/// The platform `Client`: a cheap handle (one `Arc`) around the shared core.
pub fn client(spec: &Spec) -> TokenStream {
    let doc = format!(
        "A client for the {} API ({} {}). Cheap to clone: clones share one connection pool.",
        spec.display_name, spec.title, spec.version
    );
    // `Client::new(<credential>)` when the platform needs exactly one credential.
    let new_fn = match spec.required_credentials.as_slice() {
        [only] => {
            let arg = ident(only);
            let new_doc = format!(
                "A client with the given {} and every other setting at its default. Fails with `InvalidInput` on an empty value.",
                only.replace('_', " ")
            );
            Some(quote! {
                #[doc = #new_doc]
                pub fn new(#arg: impl Into<String>) -> crate::Result<Client> {
                    Self::builder().#arg(#arg).build()
                }
            })
        }
        _ => None,
    };
    let env_names: Vec<String> = spec
        .credentials
        .iter()
        .map(|c| format!("`{}`", c.env))
        .chain(spec.hosts.iter().map(|h| format!("`{}`", h.env)))
        .collect();
    let from_env_doc = format!(
        "A client configured from the environment: {} (see `ClientBuilder::with_env`). Fails with `InvalidInput` naming a required variable that is not set.",
        env_names.join(", ")
    );
    let setters = spec.credentials.iter().map(|c| {
        let setter = ident(&c.name);
        let name = lit(&c.name);
        let doc = format!(
            "{} From the environment: `{}`. Redacted in every `Debug`, log and error.",
            c.description.trim(),
            c.env
        );
        quote! {
            #[doc = #doc]
            pub fn #setter(self, value: impl Into<String>) -> Self {
                self.credential(#name, value)
            }
        }
    });
    // `task(id)` picks a task up again by its id: one per task profile (`task_<profile>` when
    // the platform has several).
    let task_fns = spec.task_profiles.iter().map(|(tname, t)| {
        let method = if spec.task_profiles.len() == 1 {
            ident("task")
        } else {
            format_ident!("task_{}", rust_ident(tname))
        };
        let profile = profile_ident("TASK", tname);
        let doc = format!(
            "A handle on a task of {} by its id (from an acknowledgement, kept across restarts, say): `until_done()` waits for its result, polling `{}`. `T` is what the result decodes as (`serde_json::Value` for any). Fails with `InvalidInput` for an id that cannot be a path segment (empty, `.`, `..`).",
            spec.display_name, t.status_operation
        );
        quote! {
            #[doc = #doc]
            pub fn #method<T: ::serde::de::DeserializeOwned + Send + 'static>(
                &self,
                task_id: impl Into<String>,
            ) -> crate::Result<crate::TaskHandle<T>> {
                crate::runtime::call::task_handle(self.core.clone(), &#profile, task_id.into())
            }
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(Clone)]
        pub struct Client {
            pub(crate) core: ::std::sync::Arc<crate::runtime::config::ClientCore>,
        }

        impl ::std::fmt::Debug for Client {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Debug::fmt(&*self.core, f)
            }
        }

        /// The credentials of this platform, one typed setter each.
        impl crate::ClientBuilder<Client> {
            #(#setters)*
        }

        impl crate::runtime::config::PlatformClient for Client {
            fn platform() -> &'static crate::runtime::operation::Platform {
                &PLATFORM
            }
            fn from_core(core: ::std::sync::Arc<crate::runtime::config::ClientCore>) -> Self {
                Client { core }
            }
        }

        impl Client {
            /// A builder for this platform's client.
            pub fn builder() -> crate::ClientBuilder<Client> {
                crate::ClientBuilder::new()
            }

            #new_fn

            #[doc = #from_env_doc]
            pub fn from_env() -> crate::Result<Client> {
                Self::builder().with_env()?.build()
            }

            /// The platform's operation table.
            pub fn platform(&self) -> &'static crate::runtime::operation::Platform {
                &PLATFORM
            }

            /// This client (its settings, hosts and connection pool) with its credentials taken
            /// from `provider` instead: one pool serving several tenants' keys, or a logged-in
            /// user's session. Cheap: nothing is checked or connected.
            pub fn with_credentials(
                &self,
                provider: ::std::sync::Arc<dyn crate::CredentialProvider>,
            ) -> Client {
                Client {
                    core: self.core.with_credentials(provider),
                }
            }

            #(#task_fns)*
        }
    }
}

/// Group path → (child groups, operations with their table index).
type Groups<'a> = BTreeMap<String, (BTreeSet<String>, Vec<(usize, &'a Op)>)>;

/// Resource handles and request builders for every non-hand-written operation.
pub fn wrappers(spec: &Spec) -> TokenStream {
    let mut groups: Groups = BTreeMap::new();
    for (i, op) in spec.ops.iter().enumerate() {
        let parts: Vec<&str> = op.id.split('.').collect();
        for depth in 1..parts.len() {
            let group = parts[..depth].join(".");
            let parent = parts[..depth - 1].join(".");
            groups.entry(group.clone()).or_default();
            groups.entry(parent).or_default().0.insert(group);
        }
        let parent = parts[..parts.len() - 1].join(".");
        groups.entry(parent).or_default().1.push((i, op));
    }

    let meta_type = |op: &Op| -> TokenStream {
        op.pagination
            .as_ref()
            .and_then(|(style, _)| spec.page_styles.get(style))
            .and_then(|s| s.meta_schema.as_ref())
            .map(|m| ty(&format!("types::{m}")))
            .unwrap_or_else(|| quote!(::serde_json::Value))
    };

    let mut items = Vec::new();
    let mut root_methods = Vec::new();
    for (group, (children, ops)) in &groups {
        // The root accessors live on `Client`, outside the `requests` module.
        let prefix = if group.is_empty() {
            quote!(requests::)
        } else {
            quote!()
        };
        let accessor = |child: &str| {
            let child_name = child.rsplit('.').next().unwrap_or(child);
            let method = ident(&rust_ident(child_name));
            let handle = ident(&pascal(child));
            let doc = format!("The `{child}` operations.");
            quote! {
                #[doc = #doc]
                pub fn #method(&self) -> #prefix #handle {
                    #prefix #handle { core: self.core.clone() }
                }
            }
        };
        let child_accessors: Vec<_> = children.iter().map(|c| accessor(c)).collect();
        let mut op_methods = Vec::new();
        for (index, op) in ops {
            if op.hand_written {
                continue;
            }
            let (method, builder) = operation(spec, *index, op, meta_type(op));
            op_methods.push(method);
            items.push(builder);
        }
        if group.is_empty() {
            root_methods.extend(child_accessors);
            continue;
        }
        let handle = ident(&pascal(group));
        let doc = format!("The `{group}` operations of {}.", spec.display_name);
        // A group of hand-written operations only: its methods live in the platform module.
        let only_hand_written = (op_methods.is_empty() && child_accessors.is_empty()).then(|| {
            quote!(#[allow(dead_code, reason = "its operations are written by hand in the platform module")])
        });
        items.push(quote! {
            #[doc = #doc]
            pub struct #handle {
                #only_hand_written
                pub(crate) core: ::std::sync::Arc<crate::runtime::config::ClientCore>,
            }

            impl ::std::fmt::Debug for #handle {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(stringify!(#handle))
                }
            }

            impl #handle {
                #(#child_accessors)*
                #(#op_methods)*
            }
        });
    }
    quote! {
        impl Client {
            #(#root_methods)*
        }

        /// Resource handles and request builders, one per operation (generated).
        pub mod requests {
            #[allow(unused_imports)]
            use super::{types, OPERATIONS};

            #(#items)*
        }
    }
}

fn param_rust_type(t: &ParamType) -> TokenStream {
    match t {
        ParamType::String => quote!(::std::string::String),
        ParamType::Integer => quote!(i64),
        ParamType::Number => quote!(f64),
        ParamType::Boolean => quote!(bool),
        ParamType::Enum(name) => {
            let n = ident(name);
            quote!(types::#n)
        }
        ParamType::Array(inner) => {
            let i = param_rust_type(inner);
            quote!(::std::vec::Vec<#i>)
        }
    }
}

/// Setter argument type and the conversion into the stored value.
fn param_arg(t: &ParamType) -> (TokenStream, TokenStream) {
    match t {
        ParamType::String => (
            quote!(impl Into<::std::string::String>),
            quote!(value.into()),
        ),
        ParamType::Enum(name) => {
            let n = ident(name);
            (quote!(impl Into<types::#n>), quote!(value.into()))
        }
        other => (param_rust_type(other), quote!(value)),
    }
}

fn query_push(name: &str, field: &Ident, t: &ParamType) -> TokenStream {
    let to_string = |v: TokenStream, t: &ParamType| match t {
        ParamType::String => quote!(#v.clone()),
        ParamType::Boolean => quote!((if *#v { "true" } else { "false" }).to_string()),
        _ => quote!(#v.to_string()),
    };
    match t {
        ParamType::Array(inner) => {
            let s = to_string(quote!(v), inner);
            quote! {
                for v in &self.#field {
                    req.push_query(#name, #s);
                }
            }
        }
        _ => {
            let s = to_string(quote!(v), t);
            quote! {
                if let Some(v) = &self.#field {
                    req.push_query(#name, #s);
                }
            }
        }
    }
}

/// The builder side of a form body (multipart or URL-encoded): required fields become method
/// arguments where the form is the only encoding, the others setters. Returns whether any field
/// was given (an expression) and the code filling the request, or `None` without a form.
fn form_fields(
    op: &Op,
    args: &mut Vec<TokenStream>,
    fields: &mut Vec<TokenStream>,
    inits: &mut Vec<TokenStream>,
    setters: &mut Vec<TokenStream>,
) -> Option<(TokenStream, TokenStream)> {
    if op.form.is_empty() {
        return None;
    }
    let multipart = !matches!(op.request_kind, RequestKind::Form);
    let only_encoding = op.body.is_none();
    let mut given = Vec::new();
    let mut fills = Vec::new();
    for field in &op.form {
        let f = ident(&field.rust);
        let name = lit(&field.name);
        let sdoc = field
            .description
            .clone()
            .unwrap_or_else(|| format!("The `{}` form field.", field.name));
        let positional = field.required && only_encoding && op.body_required;
        let missing = format!("{}: the `{}` form field is required", op.id, field.name);
        let (stored, arg, conv, push) = match &field.kind {
            FormKind::File => {
                let allowed = field.content_types.iter().map(|t| lit(t));
                (
                    quote!(::std::option::Option<crate::Upload>),
                    quote!(crate::Upload),
                    quote!(Some(value)),
                    quote! {
                        if let Some(v) = &self.#f {
                            req.form_file(#name, v.clone(), &[#(#allowed),*]);
                        }
                    },
                )
            }
            FormKind::Files => {
                let allowed = field.content_types.iter().map(|t| lit(t));
                (
                    quote!(::std::vec::Vec<crate::Upload>),
                    quote!(impl ::std::iter::IntoIterator<Item = crate::Upload>),
                    quote!(value.into_iter().collect()),
                    quote! {
                        for v in &self.#f {
                            req.form_file(#name, v.clone(), &[#(#allowed),*]);
                        }
                    },
                )
            }
            FormKind::Json => (
                quote!(::std::option::Option<::serde_json::Value>),
                quote!(impl ::std::convert::Into<::serde_json::Value>),
                quote!(Some(value.into())),
                quote! {
                    if let Some(v) = &self.#f {
                        req.form_text(#multipart, #name, v.to_string());
                    }
                },
            ),
            FormKind::Value(t) => {
                let (arg, conv) = param_arg(t);
                let text = |v: TokenStream, t: &ParamType| match t {
                    ParamType::String => quote!(#v.clone()),
                    ParamType::Boolean => quote!((if *#v { "true" } else { "false" }).to_string()),
                    _ => quote!(#v.to_string()),
                };
                match t {
                    ParamType::Array(inner) => {
                        let s = text(quote!(v), inner);
                        (
                            param_rust_type(t),
                            arg,
                            conv,
                            quote! {
                                for v in &self.#f {
                                    req.form_text(#multipart, #name, #s);
                                }
                            },
                        )
                    }
                    _ => {
                        let stored = param_rust_type(t);
                        let s = text(quote!(v), t);
                        (
                            quote!(::std::option::Option<#stored>),
                            arg,
                            quote!(Some(#conv)),
                            quote! {
                                if let Some(v) = &self.#f {
                                    req.form_text(#multipart, #name, #s);
                                }
                            },
                        )
                    }
                }
            }
        };
        let is_list = matches!(
            field.kind,
            FormKind::Files | FormKind::Value(ParamType::Array(_))
        );
        fields.push(quote!(#f: #stored));
        if positional {
            args.push(quote!(#f: #arg));
            inits.push(quote!(#f: { let value = #f; #conv }));
        } else {
            inits.push(if is_list {
                quote!(#f: ::std::vec::Vec::new())
            } else {
                quote!(#f: None)
            });
            setters.push(quote! {
                #[doc = #sdoc]
                pub fn #f(mut self, value: #arg) -> Self {
                    self.params.#f = #conv;
                    self
                }
            });
        }
        let (present, absent) = if is_list {
            (quote!(!self.#f.is_empty()), quote!(self.#f.is_empty()))
        } else {
            (quote!(self.#f.is_some()), quote!(self.#f.is_none()))
        };
        given.push(present);
        // A required field (of a form that is one of two encodings, or a list) is checked
        // when the request is built.
        let check = (field.required && (!positional || is_list)).then(|| {
            quote! {
                if #absent {
                    return Err(crate::runtime::call::body_error(#missing));
                }
            }
        });
        fills.push(quote! {
            #check
            #push
        });
    }
    let given = quote!(#(#given)||*);
    Some((given, quote!(#(#fills)*)))
}

/// The resource method and request builder of one operation.
fn operation(spec: &Spec, index: usize, op: &Op, meta: TokenStream) -> (TokenStream, TokenStream) {
    let method_name = ident(&rust_ident(op.id.rsplit('.').next().unwrap_or(&op.id)));
    let builder = ident(&pascal(&op.id));
    let mut doc = format!("`{} {}`", op.method, op.path);
    if let Some(s) = &op.summary {
        doc = format!("{s}\n\n{doc}");
    }
    if let Some(d) = &op.description {
        doc.push_str("\n\n");
        doc.push_str(d.trim());
    }

    // Positional arguments: path parameters, required query parameters, a required body.
    let mut args = Vec::new();
    let mut fields = Vec::new();
    let mut inits = Vec::new();
    let mut setters = Vec::new();
    for p in &op.path_params {
        let f = ident(&p.rust);
        args.push(quote!(#f: impl ::std::fmt::Display));
        fields.push(quote!(#f: ::std::string::String));
        inits.push(quote!(#f: #f.to_string()));
    }
    // Parameters the stream sets itself (the resume position, what an opener supplies) have
    // no setter: `.after()` and the opener fill them in.
    let caller_sets = |name: &str| !op.stream.as_ref().is_some_and(|s| s.sets_param(name));
    let located = op
        .query
        .iter()
        .filter(|q| caller_sets(&q.name))
        .map(|q| (q, "query"))
        .chain(op.headers.iter().map(|h| (h, "header")));
    for (q, location) in located {
        let f = ident(&q.rust);
        let stored = param_rust_type(&q.ty);
        let is_array = matches!(q.ty, ParamType::Array(_));
        if q.required && !is_array {
            let (arg, conv) = param_arg(&q.ty);
            args.push(quote!(#f: #arg));
            fields.push(quote!(#f: ::std::option::Option<#stored>));
            inits.push(quote!(#f: Some({ let value = #f; #conv })));
        } else {
            let (arg, conv) = param_arg(&q.ty);
            let sdoc = q
                .description
                .clone()
                .unwrap_or_else(|| format!("The `{}` {location} parameter.", q.name));
            if is_array {
                fields.push(quote!(#f: #stored));
                inits.push(quote!(#f: ::std::vec::Vec::new()));
                setters.push(quote! {
                    #[doc = #sdoc]
                    pub fn #f(mut self, value: #arg) -> Self {
                        self.params.#f = #conv;
                        self
                    }
                });
            } else {
                fields.push(quote!(#f: ::std::option::Option<#stored>));
                inits.push(quote!(#f: None));
                setters.push(quote! {
                    #[doc = #sdoc]
                    pub fn #f(mut self, value: #arg) -> Self {
                        self.params.#f = Some(#conv);
                        self
                    }
                });
            }
        }
    }
    let mut generics = quote!();
    let mut where_clause = quote!();
    if let Some(b) = &op.body {
        let bt = ty(&b.type_name);
        fields.push(
            quote!(body: ::std::option::Option<::std::result::Result<#bt, ::std::string::String>>),
        );
        if b.required {
            args.push(quote!(body: B));
            generics = quote!(<B>);
            where_clause =
                quote!(where B: ::std::convert::TryInto<#bt>, B::Error: ::std::fmt::Display);
            inits.push(quote!(body: Some(body.try_into().map_err(|e| e.to_string()))));
        } else {
            inits.push(quote!(body: None));
            setters.push(quote! {
                /// The request body.
                pub fn body<B>(mut self, body: B) -> Self
                where B: ::std::convert::TryInto<#bt>, B::Error: ::std::fmt::Display {
                    self.params.body = Some(body.try_into().map_err(|e| e.to_string()));
                    self
                }
            });
        }
    }
    let form_fill = form_fields(op, &mut args, &mut fields, &mut inits, &mut setters);
    // A presigned upload: the URL an earlier answer handed out comes first.
    let url_fill = op.absolute_url.then(|| {
        args.insert(
            0,
            quote!(url: impl ::std::convert::Into<::std::string::String>),
        );
        fields.push(quote!(absolute_url: ::std::string::String));
        inits.insert(0, quote!(absolute_url: url.into()));
        quote!(req.set_url(self.absolute_url.clone());)
    });
    let extra_fill = op.form_open.then(|| {
        fields.push(
            quote!(form_fields: ::std::vec::Vec<(::std::string::String, ::std::string::String)>),
        );
        inits.push(quote!(form_fields: ::std::vec::Vec::new()));
        setters.push(quote! {
            /// A text field the spec does not name (a presigned upload's policy fields, in the
            /// order the answer gave them); text fields go before files on the wire.
            pub fn form_field(
                mut self,
                name: impl ::std::convert::Into<::std::string::String>,
                value: impl ::std::convert::Into<::std::string::String>,
            ) -> Self {
                self.params.form_fields.push((name.into(), value.into()));
                self
            }
        });
        quote! {
            for (name, value) in &self.form_fields {
                req.form_extra(name.clone(), value.clone());
            }
        }
    });

    // The path, each parameter percent-encoded and checked.
    let mut fmt_path = String::new();
    let mut path_args = Vec::new();
    let mut rest = op.path.as_str();
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        fmt_path.push_str(&rest[..start].replace('{', "{{").replace('}', "}}"));
        fmt_path.push_str("{}");
        let var = &rest[start + 1..start + end];
        let f = ident(&rust_ident(var));
        path_args.push(quote!(crate::runtime::call::path_segment(#var, &self.#f)?));
        rest = &rest[start + end + 1..];
    }
    fmt_path.push_str(rest);
    let path_expr = if path_args.is_empty() {
        quote!(::std::string::String::from(#fmt_path))
    } else {
        quote!(format!(#fmt_path, #(#path_args),*))
    };
    let query_pushes = op
        .query
        .iter()
        .filter(|q| caller_sets(&q.name))
        .map(|q| query_push(&q.name, &ident(&q.rust), &q.ty));
    let header_pushes = op.headers.iter().map(|h| {
        let (name, field) = (&h.name, ident(&h.rust));
        quote! {
            if let Some(v) = &self.#field {
                req.push_header(#name, v.to_string())?;
            }
        }
    });
    // Rules between fields are the platform module's (`x-agentwire-validate`), checked first.
    let validate = op.validate.as_ref().map(|path| {
        let function = syn::parse_str::<syn::Path>(&format!("super::{path}"))
            .unwrap_or_else(|_| panic!("validate path is invalid: {path}"));
        quote!(#function(body)?;)
    });
    let json_fill = op.body.as_ref().map(|_| {
        quote! {
            if let Some(body) = &self.body {
                let body = body.as_ref().map_err(|e| crate::runtime::call::body_error(e))?;
                #validate
                req.set_json(body)?;
            }
        }
    });
    // A JSON-or-multipart operation picks its encoding from what the caller gave: any form
    // field makes it multipart.
    let body_fill = match (json_fill, form_fill) {
        (json, None) => json.unwrap_or_default(),
        (None, Some((_, fill))) => fill,
        (Some(json), Some((given, fill))) => {
            let both = format!("{} takes a JSON body or multipart fields, not both", op.id);
            let required = op.body_required.then(|| {
                let neither = format!(
                    "{} needs a JSON body (`.body(..)`) or multipart fields (files)",
                    op.id
                );
                quote! {
                    if !form_given && self.body.is_none() {
                        return Err(crate::runtime::call::body_error(#neither));
                    }
                }
            });
            quote! {
                let form_given = #given;
                if form_given && self.body.is_some() {
                    return Err(crate::runtime::call::body_error(#both));
                }
                #required
                if form_given {
                    #fill
                } else {
                    #json
                }
            }
        }
    };

    // The response kind decides what send() resolves to (see runtime/call.rs).
    let result_type = match &op.result {
        Shape::Type(t) => ty(t),
        _ => quote!(()),
    };
    let kind = match (op.response_kind, &op.item_type) {
        (ResponseKind::Paged, Some(item)) => {
            let it = ty(item);
            quote!(crate::kind::Paged<#it, #meta>)
        }
        (ResponseKind::Empty, _) => quote!(crate::kind::Empty),
        (ResponseKind::Json, _) => quote!(crate::kind::Json<#result_type>),
        (ResponseKind::Optional, _) => quote!(crate::kind::Optional<#result_type>),
        (ResponseKind::Text, _) => quote!(crate::kind::Text),
        (ResponseKind::Bytes, _) => quote!(crate::kind::Bytes),
        (ResponseKind::EventStream, _) => {
            let events = ident(op.stream.as_ref().map_or("", |s| s.enum_name.as_str()));
            quote!(crate::kind::Events<super::#events>)
        }
        // The model refuses the kinds not built yet unless hand-written, and hand-written
        // operations get no builder.
        (ResponseKind::Task, _) => quote!(crate::kind::Task<#result_type>),
        (ResponseKind::JsonOrStream, _) => {
            let events = ident(op.stream.as_ref().map_or("", |s| s.enum_name.as_str()));
            quote!(crate::kind::JsonOrEvents<#result_type, super::#events>)
        }
        (ResponseKind::Paged, _) => {
            let message = format!(
                "agentwire: operation {} of kind {} reached the generator (the spec check refuses it)",
                op.id,
                op.response_kind.name()
            );
            quote!(compile_error!(#message))
        }
    };
    let params = format_ident!("{}Params", builder);
    let builder_doc = match &op.stream {
        Some(s) if op.response_kind == ResponseKind::JsonOrStream => format!(
            "The request builder of `{}` (`{} {}`): a [`crate::Call`] of kind [`crate::kind::JsonOrEvents`]; `send()` (or awaiting it) resolves to the JSON result, `stream()` turns it into the builder of a [`crate::EventStream`] of [`super::{}`] (the body's `{}` member says which).",
            op.id,
            op.method,
            op.path,
            s.enum_name,
            s.body_flag.as_deref().unwrap_or_default()
        ),
        Some(s) => format!(
            "The request builder of `{}` (`{} {}`): a [`crate::Call`] of kind [`crate::kind::Events`]; `open()` (or awaiting it) connects and gives a [`crate::EventStream`] of [`super::{}`].",
            op.id, op.method, op.path, s.enum_name
        ),
        None => format!(
            "The request builder of `{}` (`{} {}`): a [`crate::Call`] whose response kind says what `send()` resolves to.",
            op.id, op.method, op.path
        ),
    };
    // A stream's parameters also say how it is opened: by its own request, or by the
    // hand-written opener its spec names.
    let stream_params = op.stream.as_ref().map(|s| {
        let opener = s.opener.as_ref().map(|o| {
            let function = syn::parse_str::<syn::Path>(&format!("super::{}", o.function))
                .unwrap_or_else(|_| panic!("opener path is invalid: {}", o.function));
            let path_params = op.path_params.iter().map(|p| {
                let (name, f) = (lit(&p.name), ident(&p.rust));
                quote!((#name, self.#f.clone()))
            });
            quote! {
                fn opener(&self) -> ::std::option::Option<crate::__private::Opener> {
                    Some(crate::__private::Opener {
                        open: #function,
                        path_params: vec![#(#path_params),*],
                    })
                }
            }
        });
        quote! {
            impl crate::__private::StreamParams for #params {
                #opener
            }
        }
    });
    // A follow-on stream's parameters name its events and the call's path parameters.
    let follow_params = op.follow.as_ref().and_then(|f| {
        let target = spec.ops.iter().find(|o| o.id == f.stream)?;
        let events = ident(&target.stream.as_ref()?.enum_name);
        let path_params = op.path_params.iter().map(|p| {
            let (name, f) = (lit(&p.name), ident(&p.rust));
            quote!((#name, self.#f.clone()))
        });
        Some(quote! {
            impl crate::__private::FollowParams for #params {
                type Event = super::#events;
                fn path_params(&self) -> ::std::vec::Vec<(&'static str, ::std::string::String)> {
                    vec![#(#path_params),*]
                }
            }
        })
    });
    let params_doc = format!("The parameters of `{}` (internal).", op.id);
    let method = quote! {
        #[doc = #doc]
        pub fn #method_name #generics (&self, #(#args),*) -> #builder #where_clause {
            crate::Call::new(self.core.clone(), &OPERATIONS[#index], #params { #(#inits,)* })
        }
    };
    let setters_impl = (!setters.is_empty()).then(|| {
        quote! {
            impl #builder {
                #(#setters)*
            }
        }
    });
    let builder_item = quote! {
        #[doc = #params_doc]
        #[doc(hidden)]
        pub struct #params {
            #(#fields,)*
        }

        impl crate::__private::Params for #params {
            fn path(&self) -> crate::Result<::std::string::String> {
                Ok(#path_expr)
            }

            #[allow(unused_variables)]
            fn fill(&self, req: &mut crate::__private::Request) -> crate::Result<()> {
                #(#query_pushes)*
                #(#header_pushes)*
                #url_fill
                #extra_fill
                #body_fill
                Ok(())
            }
        }

        #stream_params
        #follow_params

        #[doc = #builder_doc]
        pub type #builder = crate::Call<#kind, #params>;

        #setters_impl
    };
    (method, builder_item)
}

/// For the contract checks: decode a JSON value as the generated type of a component schema and
/// encode it again, so that a check can see what the type would lose.
pub fn roundtrip(spec: &Spec) -> TokenStream {
    let arms = spec.schemas.iter().map(|name| {
        let n = ident(name);
        quote!(#name => rt::<types::#n>(value),)
    });
    quote! {
        /// Decodes `value` as the model of component schema `name` and encodes it again;
        /// `None` for a name the spec does not have.
        #[cfg(feature = "contract")]
        pub(crate) fn roundtrip(name: &str, value: &::serde_json::Value) -> Option<Result<::serde_json::Value, String>> {
            fn rt<T: ::serde::de::DeserializeOwned + ::serde::Serialize>(
                value: &::serde_json::Value,
            ) -> Result<::serde_json::Value, String> {
                let decoded: T = ::serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
                ::serde_json::to_value(&decoded).map_err(|e| e.to_string())
            }
            Some(match name {
                #(#arms)*
                _ => return None,
            })
        }
    }
}

/// A parameter's Rust type as the fixture-driven call names it: as `param_rust_type`, with the
/// prelude's `String` and `Vec` (no generated type shadows them), to keep its lines short.
fn short_type(t: &ParamType) -> TokenStream {
    match t {
        ParamType::String => quote!(String),
        ParamType::Array(inner) => {
            let i = short_type(inner);
            quote!(Vec<#i>)
        }
        other => param_rust_type(other),
    }
}

/// For this crate's tests (internal feature `testkit`): `fixture_call`, which calls the operation
/// a fixture names through the typed public API, the way a user would — the resource chain with
/// the path parameters of the fixture's path and its required query parameters and body as
/// arguments, a setter for each optional query parameter (and an optional body) the fixture
/// names — and sends it. The argument parsing and the sending are `crate::testkit`'s, written
/// once: each operation adds one match arm. Hand-written operations and streams have no arm
/// (they have suites of their own).
pub fn fixture_call(spec: &Spec) -> TokenStream {
    let arms = spec
        .ops
        .iter()
        .filter(|op| {
            !op.hand_written
                && (op.response_kind == ResponseKind::JsonOrStream
                    || (op.stream.is_none() && op.result != Shape::Stream))
        })
        .map(|op| {
            let id = &op.id;
            let parts: Vec<&str> = op.id.split('.').collect();
            let Some((last, groups)) = parts.split_last() else {
                return quote!();
            };
            let chain = groups.iter().map(|g| ident(&rust_ident(g)));
            let method = ident(&rust_ident(last));
            let mut args = Vec::new();
            let mut setters = Vec::new();
            for p in &op.path_params {
                let name = &p.name;
                args.push(quote!(a.path(#name)?));
            }
            for q in &op.query {
                let (name, setter) = (&q.name, ident(&q.rust));
                let t = short_type(&q.ty);
                match &q.ty {
                    ParamType::Array(_) => {
                        setters.push(quote!(let c = a.list(c, #name, |c, v: #t| c.#setter(v))?;));
                    }
                    _ if q.required => args.push(quote!(a.query::<#t>(#name)?)),
                    _ => setters.push(quote!(let c = a.opt(c, #name, |c, v: #t| c.#setter(v))?;)),
                }
            }
            if let Some(b) = &op.body {
                let t = ty(&b.type_name);
                if b.required {
                    args.push(quote!(a.body::<#t>()?));
                } else {
                    setters.push(quote!(let c = a.opt_body(c, |c, v: #t| c.body(v))?;));
                }
            }
            let only_form = op.body.is_none();
            for field in &op.form {
                let (name, setter) = (&field.name, ident(&field.rust));
                let positional = field.required && only_form && op.body_required;
                match &field.kind {
                    FormKind::File if positional => args.push(quote!(
                        a.form_files(#name)?.into_iter().next().ok_or_else(|| format!("the fixture's form has no file `{}`", #name))?
                    )),
                    FormKind::File => setters.push(quote!(
                        let c = match a.form_files(#name)?.into_iter().next() {
                            Some(file) => c.#setter(file),
                            None => c,
                        };
                    )),
                    FormKind::Files if positional => args.push(quote!(a.form_files(#name)?)),
                    FormKind::Files => setters.push(quote!(
                        let files = a.form_files(#name)?;
                        let c = if files.is_empty() { c } else { c.#setter(files) };
                    )),
                    FormKind::Json => {
                        if positional {
                            args.push(quote!(a.form_required::<::serde_json::Value>(#name)?));
                        } else {
                            setters.push(quote!(let c = a.opt_form(c, #name, |c, v: ::serde_json::Value| c.#setter(v))?;));
                        }
                    }
                    FormKind::Value(t) => {
                        let t = param_rust_type(t);
                        if positional {
                            args.push(quote!(a.form_required::<#t>(#name)?));
                        } else {
                            setters.push(quote!(let c = a.opt_form(c, #name, |c, v: #t| c.#setter(v))?;));
                        }
                    }
                }
            }
            if op.absolute_url {
                let opid = &op.id;
                args.insert(0, quote!(a.absolute_url(&client.core, PLATFORM.operation(#opid).ok_or("no such operation")?)?));
            }
            if op.form_open {
                let named = op.form.iter().map(|f| f.name.as_str());
                setters.push(quote!(
                    let c = a.form_extras(&[#(#named),*]).into_iter().fold(c, |c, (k, v)| c.form_field(k, v));
                ));
            }
            let call = quote!(client #(.#chain())* .#method(#(#args),*));
            if setters.is_empty() {
                quote!(#id => finish(#call),)
            } else {
                quote!(#id => {
                    let c = #call;
                    #(#setters)*
                    finish(c)
                })
            }
        });
    quote! {
        /// Calls the operation `fixture` names through this platform's typed API with the
        /// fixture's arguments and sends it (internal, for this crate's tests: see
        /// `crate::testkit`). `Ok(None)` for an operation without a generated builder.
        #[cfg(feature = "testkit")]
        pub(crate) fn fixture_call(
            core: ::std::sync::Arc<crate::runtime::config::ClientCore>,
            fixture: &crate::mock::Fixture,
        ) -> crate::testkit::Dispatch {
            #[allow(unused_imports)]
            use crate::testkit::finish;
            #[allow(unused_variables, reason = "a spec whose every operation is a stream calls none")]
            let client = Client { core };
            #[allow(unused_variables)]
            let a = crate::testkit::Args::new(&PLATFORM, fixture)?;
            #[allow(clippy::match_single_binding, reason = "a spec whose every operation is a stream has no arm")]
            match fixture.operation.as_str() {
                #(#arms)*
                _ => Ok(None),
            }
        }
    }
}

/// An operation's rules for the runtime to check before any request (`build/checks.rs`).
fn checks_table(checks: &[super::checks::CheckDef]) -> TokenStream {
    use super::checks::At;
    let items = checks.iter().map(|c| {
        let at = match &c.at {
            At::Query(n) => quote!(crate::runtime::operation::CheckAt::Query(#n)),
            At::Header(n) => quote!(crate::runtime::operation::CheckAt::Header(#n)),
            At::Body(p) => quote!(crate::runtime::operation::CheckAt::Body(#p)),
            At::Form(n) => quote!(crate::runtime::operation::CheckAt::Form(#n)),
        };
        let label = &c.label;
        let r = &c.rule;
        let num = |v: Option<f64>| match v {
            Some(v) => quote!(Some(#v)),
            None => quote!(None),
        };
        let count = |v: Option<u64>| match v {
            Some(v) => quote!(Some(#v)),
            None => quote!(None),
        };
        let (min, max) = (num(r.minimum), num(r.maximum));
        let (xmin, xmax) = (r.exclusive_minimum, r.exclusive_maximum);
        let (minl, maxl) = (count(r.min_length), count(r.max_length));
        let (mini, maxi) = (count(r.min_items), count(r.max_items));
        let pattern = match &r.pattern {
            Some(p) => quote!(Some(#p)),
            None => quote!(None),
        };
        quote! {
            crate::runtime::operation::Check {
                at: #at,
                label: #label,
                rule: crate::runtime::operation::Rule {
                    minimum: #min,
                    exclusive_minimum: #xmin,
                    maximum: #max,
                    exclusive_maximum: #xmax,
                    min_length: #minl,
                    max_length: #maxl,
                    pattern: #pattern,
                    min_items: #mini,
                    max_items: #maxi,
                },
            }
        }
    });
    quote!(&[#(#items),*])
}
