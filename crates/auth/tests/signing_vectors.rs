//! Requests signed by the official Python SDK (`huaweicloudsdkcore` 3.1.219), recorded
//! on the wire, one JSON object a line in `tests/data/signing-vectors.jsonl`.

use base64::{Engine, engine::general_purpose::STANDARD};
use http::{HeaderMap, HeaderName, HeaderValue};
use portico_auth::signature::{
    self, MAX_CLOCK_SKEW, RequestParts, SdkAuthorization, SignatureError, parse_authorization,
};
use sha2::{Digest, Sha256};
use time::{OffsetDateTime, PrimitiveDateTime, macros::format_description};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/signing-vectors.jsonl");
const SK: &str = "harness-secret-key-0000000000000000000000";
const AK: &str = "HARNESSAK0000000000";

#[derive(serde::Deserialize)]
struct RawVector {
    method: String,
    /// The request target: path and, if any, `?query`.
    raw_path: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body_b64: String,
}

struct Vector {
    method: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Vec<u8>,
    authorization: String,
}

impl Vector {
    fn request(&self) -> RequestParts<'_> {
        RequestParts {
            method: &self.method,
            raw_path: &self.path,
            raw_query: self.query.as_deref(),
            headers: &self.headers,
            body: &self.body,
        }
    }

    fn auth(&self) -> SdkAuthorization {
        parse_authorization(&self.authorization).unwrap()
    }

    fn signed_at(&self) -> OffsetDateTime {
        let date = self.headers["x-sdk-date"].to_str().unwrap();
        PrimitiveDateTime::parse(date, format_description!("[year][month][day]T[hour][minute][second]Z"))
            .unwrap()
            .assume_utc()
    }

    fn verify(&self) -> Result<(), SignatureError> {
        signature::verify(&self.request(), &self.auth(), SK, self.signed_at())
    }

    fn payload_is_hashed(&self) -> bool {
        !self.body.is_empty() && !self.headers.contains_key("x-sdk-content-sha256")
    }
}

fn vectors() -> Vec<Vector> {
    let text = std::fs::read_to_string(VECTORS).expect("tests/data/signing-vectors.jsonl is readable");
    let vectors: Vec<Vector> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let raw: RawVector = serde_json::from_str(line).unwrap();
            let (path, query) = match raw.raw_path.split_once('?') {
                Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
                None => (raw.raw_path.clone(), None),
            };
            assert_eq!(path, raw.path);
            assert_eq!(query.as_deref().unwrap_or_default(), raw.query);

            let mut headers = HeaderMap::new();
            for (name, value) in &raw.headers {
                headers.append(
                    HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_bytes(&latin1_bytes(value)).unwrap(),
                );
            }
            let authorization =
                headers.remove("authorization").expect("every vector is signed").to_str().unwrap().to_owned();
            Vector {
                method: raw.method,
                path,
                query,
                headers,
                body: STANDARD.decode(&raw.body_b64).unwrap(),
                authorization,
            }
        })
        .collect();
    assert_eq!(vectors.len(), 16);
    vectors
}

/// The recorder decoded header bytes as latin-1, so each char is one wire byte.
fn latin1_bytes(value: &str) -> Vec<u8> {
    value.chars().map(|c| u8::try_from(u32::from(c)).expect("latin-1 header value")).collect()
}

fn assert_mismatch(result: Result<(), SignatureError>, what: &str) {
    assert!(matches!(result, Err(SignatureError::Mismatch)), "{what}: expected Mismatch, got {result:?}");
}

#[test]
fn every_vector_verifies() {
    for (i, vector) in vectors().iter().enumerate() {
        assert_eq!(vector.auth().access_key, AK);
        vector.verify().unwrap_or_else(|err| panic!("vector {i} ({} {}): {err}", vector.method, vector.path));
    }
}

#[test]
fn sign_reproduces_every_authorization_header() {
    for (i, vector) in vectors().iter().enumerate() {
        let auth = vector.auth();
        let signed_only: HeaderMap = auth
            .signed_headers
            .iter()
            .map(|name| {
                let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
                let value = vector.headers[&name].clone();
                (name, value)
            })
            .collect();
        let req = RequestParts { headers: &signed_only, ..vector.request() };
        assert_eq!(signature::sign(&req, AK, SK), vector.authorization, "vector {i}");
    }
}

#[test]
fn canonical_request_matches_the_documented_example() {
    let vectors = vectors();
    let zip_export = vectors.iter().find(|vector| vector.path.ends_with("/service/export/zip")).unwrap();
    let user_agent = zip_export.headers["user-agent"].to_str().unwrap();
    let sdk_date = zip_export.headers["x-sdk-date"].to_str().unwrap();
    let expected = format!(
        "POST\n/v1/0123456789abcdef0123456789abcdef/service/export/zip/\n\n\
         content-type:application/json;charset=utf-8\n\
         dlm-type:SHARED\n\
         host:{host}\n\
         user-agent:{user_agent}\n\
         workspace:ws0123456789abcdef\n\
         x-project-id:0123456789abcdef0123456789abcdef\n\
         x-sdk-date:{sdk_date}\n\n\
         content-type;dlm-type;host;user-agent;workspace;x-project-id;x-sdk-date\n\
         9cab61617e6e3bd65d1eebad0e40d52e697d0d2aa385b7f263c8c2a697779c78",
        host = zip_export.headers["host"].to_str().unwrap(),
    );
    let canonical = signature::canonical_request(&zip_export.request(), &zip_export.auth().signed_headers);
    assert_eq!(String::from_utf8(canonical).unwrap(), expected);
}

#[test]
fn a_flipped_body_byte_breaks_a_hashed_payload() {
    for (i, vector) in vectors().iter().enumerate() {
        if vector.body.is_empty() {
            continue;
        }
        let mut body = vector.body.clone();
        let middle = body.len() / 2;
        body[middle] ^= 0x01;
        let req = RequestParts { body: &body, ..vector.request() };
        let result = signature::verify(&req, &vector.auth(), SK, vector.signed_at());
        if vector.payload_is_hashed() {
            assert_mismatch(result, &format!("vector {i} body"));
        } else {
            // UNSIGNED-PAYLOAD (multipart import): the SDK leaves the body unprotected.
            result.unwrap();
        }
    }
}

/// The SDK signs a JSON body's hash without sending it; a declared `X-Sdk-Content-Sha256`, added
/// after signing, stands for the body in the canonical request. Declaring the original body's
/// hash must not let another body through under the SDK's signature.
#[test]
fn a_body_swapped_under_a_declared_hash_is_refused() {
    let mut swapped_any = false;
    for (i, vector) in vectors().iter().enumerate() {
        if !vector.payload_is_hashed() {
            continue;
        }
        let mut headers = vector.headers.clone();
        let declared = hex::encode(Sha256::digest(&vector.body));
        headers.insert("x-sdk-content-sha256", HeaderValue::from_str(&declared).unwrap());
        let original = RequestParts { headers: &headers, ..vector.request() };
        signature::verify(&original, &vector.auth(), SK, vector.signed_at())
            .unwrap_or_else(|err| panic!("vector {i} with its own hash declared: {err}"));

        let body = br#"{"name":"swapped"}"#;
        let swapped = RequestParts { headers: &headers, body, ..vector.request() };
        let result = signature::verify(&swapped, &vector.auth(), SK, vector.signed_at());
        assert!(matches!(result, Err(SignatureError::PayloadHashMismatch)), "vector {i}: {result:?}");
        swapped_any = true;
    }
    assert!(swapped_any, "no vector has a hashed body");
}

#[test]
fn a_changed_signed_header_breaks_the_signature() {
    for (i, vector) in vectors().iter().enumerate() {
        for name in vector.auth().signed_headers {
            let mut headers = vector.headers.clone();
            let now = if name == "x-sdk-date" {
                let later = vector.signed_at() + time::Duration::SECOND;
                let date = later.format(format_description!("[year][month][day]T[hour][minute][second]Z")).unwrap();
                headers.insert("x-sdk-date", HeaderValue::from_str(&date).unwrap());
                later
            } else {
                let mut value = headers[name.as_str()].as_bytes().to_vec();
                value.push(b'x');
                headers
                    .insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_bytes(&value).unwrap());
                vector.signed_at()
            };
            let req = RequestParts { headers: &headers, ..vector.request() };
            let result = signature::verify(&req, &vector.auth(), SK, now);
            if name == "x-sdk-content-sha256" {
                // "UNSIGNED-PAYLOADx" is no longer a value the body may be declared with.
                assert!(matches!(result, Err(SignatureError::PayloadHashMismatch)), "vector {i}: {result:?}");
            } else {
                assert_mismatch(result, &format!("vector {i} header {name}"));
            }
        }
    }
}

#[test]
fn a_changed_method_path_or_query_breaks_the_signature() {
    for (i, vector) in vectors().iter().enumerate() {
        let auth = vector.auth();
        let now = vector.signed_at();

        let path = format!("{}x", vector.path);
        let req = RequestParts { raw_path: &path, ..vector.request() };
        assert_mismatch(signature::verify(&req, &auth, SK, now), &format!("vector {i} path"));

        let query = match &vector.query {
            Some(query) => format!("{query}&extra=1"),
            None => "extra=1".to_owned(),
        };
        let req = RequestParts { raw_query: Some(&query), ..vector.request() };
        assert_mismatch(signature::verify(&req, &auth, SK, now), &format!("vector {i} query"));

        let method = if vector.method == "GET" { "POST" } else { "GET" };
        let req = RequestParts { method, ..vector.request() };
        assert_mismatch(signature::verify(&req, &auth, SK, now), &format!("vector {i} method"));
    }
}

#[test]
fn a_different_secret_key_does_not_verify() {
    for (i, vector) in vectors().iter().enumerate() {
        let wrong_sk = format!("{}1", &SK[..SK.len() - 1]);
        assert_mismatch(
            signature::verify(&vector.request(), &vector.auth(), &wrong_sk, vector.signed_at()),
            &format!("vector {i}"),
        );
    }
}

#[test]
fn a_stale_or_future_date_is_out_of_range() {
    let sixteen_minutes = time::Duration::minutes(16);
    assert!(sixteen_minutes > MAX_CLOCK_SKEW);
    for (i, vector) in vectors().iter().enumerate() {
        for now in [vector.signed_at() + sixteen_minutes, vector.signed_at() - sixteen_minutes] {
            let result = signature::verify(&vector.request(), &vector.auth(), SK, now);
            assert!(matches!(result, Err(SignatureError::DateOutOfRange)), "vector {i}: {result:?}");
        }
    }
}
