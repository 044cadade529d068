//! API definitions as Swagger 2.0 and OpenAPI 3.0 documents with APIG's `x-apigateway-*`
//! extensions, both ways: [`write`] turns APIs into a document, [`parse`] turns a document back
//! into API definitions. No I/O beyond the writer it is given; the caller loads and stores.
//!
//! The mapping follows `shared/spec/extensions.md`. Fields of an API that no `x-apigateway-*`
//! extension carries travel in Portico's own `x-portico-*` extensions (see `docs/openapi.md`),
//! so that export → import → export gives the same document: the round trip is the contract,
//! and `tests/roundtrip.rs` checks it on generated APIs.
//!
//! ```
//! use portico_openapi::{parse, write, Define, Export, ExtensionObjects, Format, OasVersion};
//! let objects = ExtensionObjects::default();
//! let names = Default::default();
//! let group_extensions = Default::default();
//! let export = Export {
//!     oas: OasVersion::V3,
//!     define: Define::Dev,
//!     title: "orders",
//!     description: None,
//!     version: "1.0",
//!     host: "orders.example.com",
//!     objects: &objects,
//!     names: &names,
//!     group_extensions: &group_extensions,
//! };
//! let mut doc = Vec::new();
//! let apis: [&portico_model::Api; 0] = [];
//! write(&export, apis, Format::Yaml, &mut doc).unwrap();
//! let parsed = parse(&doc, &Default::default()).unwrap();
//! assert_eq!(parsed.title.as_deref(), Some("orders"));
//! ```
#![warn(missing_docs)]

mod export;
mod form;
mod import;
pub mod keys;
mod livedata;
mod objects;
mod read;
mod yaml;

pub use export::{Export, WriteError, path_order, sort_by_path, write};
pub use form::{FormMode, ImportForm, ImportFormReader};
pub use import::{DocumentError, ImportContext, ParsedApi, ParsedDocument, References, parse};
pub use livedata::{ParsedLdApi, parse_livedata, write_livedata};
pub use objects::{
    DocumentDomain, ExtensionObjects, InvalidObject, document_domains, document_policies, domain_field, ratelimit_field,
};

/// A JSON object: what extension values and extension maps are.
pub type Object = serde_json::Map<String, serde_json::Value>;

/// Which specification a document follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OasVersion {
    /// Swagger 2.0 (APIG's default).
    V2,
    /// OpenAPI 3.0.
    V3,
}

impl OasVersion {
    /// `2.0` or `3.0`, as the `oas_version` query parameter spells them.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "2.0" => Some(OasVersion::V2),
            "3.0" => Some(OasVersion::V3),
            _ => None,
        }
    }
}

/// How much of each API an export carries (`define`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Define {
    /// Frontend definitions only.
    Spec,
    /// Frontend and backend.
    Proxy,
    /// Frontend, backend and the extension objects (throttles, ACLs, authorizers, …) bound to
    /// the APIs in the environment.
    All,
    /// Frontend, backend and extension definitions of the current drafts, published or not.
    Dev,
}

impl Define {
    /// `spec`, `proxy`, `all` or `dev`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "spec" => Some(Define::Spec),
            "proxy" => Some(Define::Proxy),
            "all" => Some(Define::All),
            "dev" => Some(Define::Dev),
            _ => None,
        }
    }

    /// The spelling on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Define::Spec => "spec",
            Define::Proxy => "proxy",
            Define::All => "all",
            Define::Dev => "dev",
        }
    }

    fn has_backend(self) -> bool {
        self != Define::Spec
    }

    fn has_objects(self) -> bool {
        matches!(self, Define::All | Define::Dev)
    }
}

/// The serialisation of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

impl Format {
    /// `json`, `yaml` or `yml`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "json" => Some(Format::Json),
            "yaml" | "yml" => Some(Format::Yaml),
            _ => None,
        }
    }
}
