//! The SDK-HMAC-SHA256 verifier on arbitrary requests. The input is a request in HTTP/1.1's
//! shape: `METHOD target` on the first line, `name: value` header lines, an empty line, the
//! body. It is verified with the secret of `crates/auth/tests/data/signing-vectors.jsonl` at its own
//! `X-Sdk-Date`, so the seeds verify and mutations explore around them. Properties: nothing
//! panics; a request `sign` signed verifies; a verified request with another body does not,
//! unless it declared `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`.
#![no_main]

use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use portico_auth::signature::{RequestParts, SignatureError, parse_authorization, sign, verify};
use time::{OffsetDateTime, PrimitiveDateTime, macros::format_description};

const SECRET: &str = "harness-secret-key-0000000000000000000000";

fuzz_target!(|data: &[u8]| {
    let Some(request) = Request::split(data) else { return };
    let parts = request.parts(&request.body);
    let now = sdk_date(&request.headers).unwrap_or(OffsetDateTime::UNIX_EPOCH);

    let verified = request
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(|value| parse_authorization(value).and_then(|auth| verify(&parts, &auth, SECRET, now)));
    if let Some(Ok(())) = verified
        && request.headers.get("x-sdk-content-sha256").is_none_or(|declared| declared != "UNSIGNED-PAYLOAD")
    {
        let mut other = request.body.clone();
        other.push(b'!');
        let auth = parse_authorization(request.headers[http::header::AUTHORIZATION].to_str().unwrap()).unwrap();
        let outcome = verify(&request.parts(&other), &auth, SECRET, now);
        assert!(
            matches!(outcome, Err(SignatureError::Mismatch | SignatureError::PayloadHashMismatch)),
            "another body verified: {outcome:?}"
        );
    }

    // Signing: the request's own headers (one value each, no Authorization, no declared body
    // hash that is not the body's: `verify` rightly refuses those) plus the two every signature
    // must cover.
    let mut headers = HeaderMap::new();
    for (name, value) in &request.headers {
        let false_hash = name == "x-sdk-content-sha256" && !declares_the_body(value, &request.body);
        if name != http::header::AUTHORIZATION && !name.as_str().contains('_') && !false_hash {
            headers.insert(name.clone(), value.clone());
        }
    }
    headers.insert("x-sdk-date", HeaderValue::from_static("20261123T081220Z"));
    headers.entry(http::header::HOST).or_insert(HeaderValue::from_static("127.0.0.1"));
    let own = RequestParts { headers: &headers, ..parts };
    let authorization = sign(&own, "FUZZAK", SECRET);
    let auth = parse_authorization(&authorization).expect("what sign writes parses");
    let signed_at = sdk_date(&headers).unwrap();
    if let Err(refused) = verify(&own, &auth, SECRET, signed_at) {
        panic!("a signed request was refused: {refused}\n{authorization}");
    }
});

struct Request {
    method: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Request {
    /// Splits the input; a request that could not have been received (a bad method, header
    /// name or value) is not a request.
    fn split(data: &[u8]) -> Option<Request> {
        let head_end = data.windows(2).position(|w| w == b"\n\n").unwrap_or(data.len());
        let head = std::str::from_utf8(&data[..head_end]).ok()?;
        let body = data.get(head_end + 2..).unwrap_or_default().to_vec();
        let mut lines = head.split('\n');
        let (method, target) = lines.next()?.split_once(' ')?;
        http::Method::from_bytes(method.as_bytes()).ok()?;
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (target, None),
        };
        let mut headers = HeaderMap::new();
        for line in lines {
            let (name, value) = line.split_once(':')?;
            let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
            headers.append(name, HeaderValue::from_bytes(value.trim().as_bytes()).ok()?);
        }
        Some(Request { method: method.to_owned(), path: path.to_owned(), query, headers, body })
    }

    fn parts<'a>(&'a self, body: &'a [u8]) -> RequestParts<'a> {
        RequestParts {
            method: &self.method,
            raw_path: &self.path,
            raw_query: self.query.as_deref(),
            headers: &self.headers,
            body,
        }
    }
}

fn sdk_date(headers: &HeaderMap) -> Option<OffsetDateTime> {
    let value = headers.get("x-sdk-date")?.to_str().ok()?;
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    Some(PrimitiveDateTime::parse(value, format).ok()?.assume_utc())
}

/// Whether a declared `X-Sdk-Content-Sha256` may stand for `body`: `UNSIGNED-PAYLOAD`, the body's
/// SHA-256 in hex (either case), or anything for an empty body, which is hashed whatever is declared.
fn declares_the_body(declared: &HeaderValue, body: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    body.is_empty()
        || declared == "UNSIGNED-PAYLOAD"
        || declared.as_bytes().eq_ignore_ascii_case(hex::encode(Sha256::digest(body)).as_bytes())
}
