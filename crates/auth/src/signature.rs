//! The `SDK-HMAC-SHA256` request signature of the Huawei Cloud SDKs.
//!
//! The verifier recomputes the signature from the request exactly as received: the raw
//! (still percent-encoded) path and query, the raw header bytes and the raw body. It never
//! looks at a re-serialised form, because the SDK signs the bytes it sends.
//!
//! When `X-Sdk-Content-Sha256` declares the body's hash, the signature covers the declared
//! value rather than the body, so [`verify`] checks that it is the SHA-256 of the body received:
//! otherwise anyone holding one signed request could send another body under its signature.
//! A body sent with `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` (the SDK sends it for every body
//! that is not JSON, multipart imports included) is not covered by the signature; that is how
//! the SDK works and cannot be tightened server-side.

use std::borrow::Cow;

use hmac::{Hmac, Mac};
use http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{OffsetDateTime, PrimitiveDateTime, format_description::BorrowedFormatItem};

/// The only algorithm the default SDK configuration uses.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// How far `X-Sdk-Date` may be from the server's clock, either way, as in the real APIG.
pub const MAX_CLOCK_SKEW: time::Duration = time::Duration::minutes(15);

const SDK_DATE_HEADER: &str = "x-sdk-date";
const HOST_HEADER: &str = "host";
const CONTENT_SHA256_HEADER: &str = "x-sdk-content-sha256";

const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

const EMPTY_BODY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const SDK_DATE_FORMAT: &[BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");

/// RFC 3986 unreserved characters stay literal; everything else, `/` included, is escaped.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// What the verifier needs of a received request.
#[derive(Clone, Copy, Debug)]
pub struct RequestParts<'a> {
    /// The HTTP method, e.g. `GET`; upper-cased when signing.
    pub method: &'a str,
    /// The path exactly as received, still percent-encoded, without the query.
    pub raw_path: &'a str,
    /// The query string as received, without the `?`, if the request had one.
    pub raw_query: Option<&'a str>,
    /// The received headers.
    pub headers: &'a HeaderMap,
    /// The raw body bytes.
    pub body: &'a [u8],
}

/// The fields of an `Authorization: SDK-HMAC-SHA256 ...` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdkAuthorization {
    /// The access key (AK) the request claims to be signed with.
    pub access_key: String,
    /// Header names covered by the signature, in the order they were listed.
    pub signed_headers: Vec<String>,
    /// The signature, lower-case hex.
    pub signature: String,
}

/// Why a request's signature was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    /// The `Authorization` header or a signed header could not be understood.
    #[error("malformed signature: {0}")]
    Malformed(String),
    /// The `Authorization` header names an algorithm other than `SDK-HMAC-SHA256`.
    #[error("unsupported signing algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// `SignedHeaders` lacks a header that must be signed.
    #[error("the signature does not cover the {0} header")]
    MissingSignedHeader(&'static str),
    /// `X-Sdk-Date` is not of the form `YYYYMMDDTHHMMSSZ`.
    #[error("X-Sdk-Date is not a valid YYYYMMDDTHHMMSSZ date")]
    BadDate,
    /// `X-Sdk-Date` is more than [`MAX_CLOCK_SKEW`] away from the server's clock.
    #[error("X-Sdk-Date is too far from the server time")]
    DateOutOfRange,
    /// `X-Sdk-Content-Sha256` is neither `UNSIGNED-PAYLOAD` nor the SHA-256 of the body.
    #[error("X-Sdk-Content-Sha256 is not the SHA-256 of the body")]
    PayloadHashMismatch,
    /// The recomputed signature differs from the one sent.
    #[error("signature mismatch")]
    Mismatch,
}

/// Parses `SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...`.
///
/// Fields may come in any order and the spaces after the commas are optional; each must
/// appear exactly once.
pub fn parse_authorization(value: &str) -> Result<SdkAuthorization, SignatureError> {
    let value = value.trim();
    let (algorithm, fields) = value.split_once(' ').unwrap_or((value, ""));
    if algorithm != ALGORITHM {
        return Err(SignatureError::UnsupportedAlgorithm(algorithm.to_owned()));
    }

    let mut access_key = None;
    let mut signed_headers = None;
    let mut signature = None;
    for field in fields.split(',') {
        let field = field.trim();
        let (name, field_value) =
            field.split_once('=').ok_or_else(|| malformed(format!("field {field:?} has no '='")))?;
        let slot = match name {
            "Access" => &mut access_key,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return Err(malformed(format!("unknown field {name:?}"))),
        };
        if slot.replace(field_value).is_some() {
            return Err(malformed(format!("field {name} appears twice")));
        }
    }

    let access_key = access_key.ok_or_else(|| malformed("Access is missing"))?;
    let signed_headers = signed_headers.ok_or_else(|| malformed("SignedHeaders is missing"))?;
    let signature = signature.ok_or_else(|| malformed("Signature is missing"))?;
    if access_key.is_empty() {
        return Err(malformed("Access is empty"));
    }
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed("Signature is not 64 hex digits"));
    }
    let signed_headers = signed_headers
        .split(';')
        .map(|name| {
            if http::HeaderName::from_bytes(name.as_bytes()).is_ok() {
                Ok(name.to_owned())
            } else {
                Err(malformed(format!("SignedHeaders has an invalid name {name:?}")))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;

    Ok(SdkAuthorization { access_key: access_key.to_owned(), signed_headers, signature: signature.to_owned() })
}

/// Checks that `auth` is a valid signature of `req` by the holder of `secret_key`.
///
/// The caller has already looked `secret_key` up by `auth.access_key`. The signature must
/// cover `host` and `x-sdk-date`, every signed header must be present exactly once, and
/// `X-Sdk-Date` must be within [`MAX_CLOCK_SKEW`] of `now`, and a declared
/// `X-Sdk-Content-Sha256` must be `UNSIGNED-PAYLOAD` or the body's SHA-256. The comparison is
/// constant-time.
pub fn verify(
    req: &RequestParts,
    auth: &SdkAuthorization,
    secret_key: &str,
    now: OffsetDateTime,
) -> Result<(), SignatureError> {
    for required in [HOST_HEADER, SDK_DATE_HEADER] {
        if !auth.signed_headers.iter().any(|name| name.eq_ignore_ascii_case(required)) {
            return Err(SignatureError::MissingSignedHeader(required));
        }
    }
    for name in &auth.signed_headers {
        // Two values would leave it ambiguous which one the signature vouches for.
        if req.headers.get_all(name.as_str()).iter().count() != 1 {
            return Err(malformed(format!("signed header {name} must appear exactly once")));
        }
    }

    let sdk_date =
        req.headers.get(SDK_DATE_HEADER).and_then(|value| value.to_str().ok()).ok_or(SignatureError::BadDate)?;
    let signed_at =
        PrimitiveDateTime::parse(sdk_date, SDK_DATE_FORMAT).map_err(|_| SignatureError::BadDate)?.assume_utc();
    if (now - signed_at).abs() > MAX_CLOCK_SKEW {
        return Err(SignatureError::DateOutOfRange);
    }

    check_declared_payload_hash(req)?;

    let canonical = canonical_request(req, &auth.signed_headers);
    let expected = hmac_hex(secret_key, string_to_sign(sdk_date, &canonical).as_bytes());
    if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Signs `req` the way the SDK does and returns the `Authorization` header value.
///
/// Every header in `req.headers` whose name has no `_` is signed, so pass only the headers
/// meant to be signed; they must include `host` and `x-sdk-date`, or the result will not
/// verify.
pub fn sign(req: &RequestParts, access_key: &str, secret_key: &str) -> String {
    let mut signed_headers: Vec<String> =
        req.headers.keys().map(|name| name.as_str()).filter(|name| !name.contains('_')).map(str::to_owned).collect();
    signed_headers.sort();

    let sdk_date = req.headers.get(SDK_DATE_HEADER).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let canonical = canonical_request(req, &signed_headers);
    let signature = hmac_hex(secret_key, string_to_sign(sdk_date, &canonical).as_bytes());
    format!("{ALGORITHM} Access={access_key}, SignedHeaders={}, Signature={signature}", signed_headers.join(";"))
}

/// Builds the canonical request: method, URI, query, headers, signed header list and
/// payload hash, joined by `\n`.
///
/// It is bytes rather than text because header values are hashed as received, and a value
/// may hold non-ASCII bytes. A signed header absent from `req` contributes an empty value.
pub fn canonical_request(req: &RequestParts, signed_headers: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(req.method.to_ascii_uppercase().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(req.raw_path).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query_string(req.raw_query.unwrap_or_default()).as_bytes());
    out.push(b'\n');
    for name in signed_headers {
        out.extend_from_slice(name.to_ascii_lowercase().as_bytes());
        out.push(b':');
        if let Some(value) = req.headers.get(name.as_str()) {
            out.extend_from_slice(value.as_bytes().trim_ascii());
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(signed_headers.join(";").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(&payload_hash(req));
    out
}

/// `SDK-HMAC-SHA256\n<X-Sdk-Date>\n<hex sha256 of the canonical request>`.
pub fn string_to_sign(sdk_date: &str, canonical_request: &[u8]) -> String {
    format!("{ALGORITHM}\n{sdk_date}\n{}", hex::encode(Sha256::digest(canonical_request)))
}

/// Decodes the whole path first, so an encoded `%2F` becomes a separator, exactly as the
/// SDK does; a trailing `/` is always present, so `/a` and `/a/` sign alike.
fn canonical_uri(raw_path: &str) -> String {
    let decoded = percent_decode_str(raw_path).decode_utf8_lossy();
    let mut uri = decoded
        .split('/')
        .map(|segment| utf8_percent_encode(segment, RFC3986).to_string())
        .collect::<Vec<_>>()
        .join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Pairs are sorted on their decoded form, then re-encoded; `+` is a literal plus.
fn canonical_query_string(raw_query: &str) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .split('&')
        // "a=1&&b=2" or a lone "?" carry no parameter.
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(key), decode_component(value))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(key, value)| format!("{}={}", utf8_percent_encode(key, RFC3986), utf8_percent_encode(value, RFC3986)))
        .collect::<Vec<_>>()
        .join("&")
}

fn decode_component(raw: &str) -> String {
    percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

fn payload_hash<'a>(req: &RequestParts<'a>) -> Cow<'a, [u8]> {
    if req.body.is_empty() {
        return Cow::Borrowed(EMPTY_BODY_SHA256.as_bytes());
    }
    match req.headers.get(CONTENT_SHA256_HEADER) {
        Some(declared) => Cow::Borrowed(declared.as_bytes()),
        None => Cow::Owned(hex::encode(Sha256::digest(req.body)).into_bytes()),
    }
}

/// The declared hash stands for the body in the canonical request ([`payload_hash`]), so it must
/// be the body's. An empty body is hashed whatever the header says, as the SDK does.
fn check_declared_payload_hash(req: &RequestParts) -> Result<(), SignatureError> {
    let Some(declared) = req.headers.get(CONTENT_SHA256_HEADER).filter(|_| !req.body.is_empty()) else {
        return Ok(());
    };
    let declared = declared.as_bytes();
    if declared == UNSIGNED_PAYLOAD.as_bytes()
        || declared.eq_ignore_ascii_case(hex::encode(Sha256::digest(req.body)).as_bytes())
    {
        Ok(())
    } else {
        Err(SignatureError::PayloadHashMismatch)
    }
}

fn hmac_hex(secret_key: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret_key.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

fn malformed(reason: impl Into<String>) -> SignatureError {
    SignatureError::Malformed(reason.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderName, HeaderValue};

    const AK: &str = "TESTAK00000000000000";
    const SK: &str = "test-secret-key";
    const SDK_DATE: &str = "20261123T081220Z";

    fn sdk_date_time() -> OffsetDateTime {
        time::macros::datetime!(2026-11-23 08:12:20 UTC)
    }

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_bytes(value).unwrap())
            })
            .collect()
    }

    fn basic_headers() -> HeaderMap {
        headers(&[
            ("host", b"127.0.0.1:8080"),
            ("x-sdk-date", SDK_DATE.as_bytes()),
            ("content-type", b"application/json"),
        ])
    }

    fn request<'a>(headers: &'a HeaderMap, body: &'a [u8]) -> RequestParts<'a> {
        RequestParts { method: "POST", raw_path: "/v2/p/apis", raw_query: None, headers, body }
    }

    fn signed_by(req: &RequestParts) -> SdkAuthorization {
        parse_authorization(&sign(req, AK, SK)).unwrap()
    }

    #[test]
    fn uri_gets_a_trailing_slash() {
        assert_eq!(canonical_uri("/v2/p/apis"), "/v2/p/apis/");
        assert_eq!(canonical_uri("/v2/p/apis/"), "/v2/p/apis/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri(""), "/");
    }

    #[test]
    fn uri_encoded_slash_becomes_a_separator() {
        assert_eq!(canonical_uri("/apis/a%20b%2F%C3%BC~%2A%27%28x%29"), "/apis/a%20b/%C3%BC~%2A%27%28x%29/");
        assert_eq!(canonical_uri("/a%2fb"), "/a/b/");
    }

    #[test]
    fn uri_reencodes_everything_but_unreserved() {
        assert_eq!(canonical_uri("/*'()!$,;:@=+&"), "/%2A%27%28%29%21%24%2C%3B%3A%40%3D%2B%26/");
        assert_eq!(canonical_uri("/AZaz09-_.~"), "/AZaz09-_.~/");
        assert_eq!(canonical_uri("/a+b"), "/a%2Bb/");
    }

    #[test]
    fn uri_spaces_and_unicode_use_upper_case_utf8_escapes() {
        assert_eq!(canonical_uri("/a b/ü"), "/a%20b/%C3%BC/");
        assert_eq!(canonical_uri("/%c3%bc%e5%90%8d"), "/%C3%BC%E5%90%8D/");
    }

    #[test]
    fn uri_keeps_a_stray_percent_literal_then_encodes_it() {
        assert_eq!(canonical_uri("/100%zz"), "/100%25zz/");
    }

    #[test]
    fn query_is_empty_without_parameters() {
        assert_eq!(canonical_query_string(""), "");
        assert_eq!(canonical_query_string("&&"), "");
    }

    #[test]
    fn query_is_sorted_by_key() {
        assert_eq!(canonical_query_string("offset=0&limit=20&group_id=g"), "group_id=g&limit=20&offset=0");
    }

    #[test]
    fn query_repeated_keys_are_sorted_by_value() {
        assert_eq!(canonical_query_string("k=b&k=a&j=z"), "j=z&k=a&k=b");
    }

    #[test]
    fn query_sorts_on_decoded_code_points() {
        // Encoded, "%7E" would sort before "B"; decoded, '~' sorts after it.
        assert_eq!(canonical_query_string("a=%7E&a=B"), "a=B&a=~");
        assert_eq!(canonical_query_string("%C3%BC=1&z=2"), "z=2&%C3%BC=1");
    }

    #[test]
    fn query_empty_value_keeps_its_equals_sign() {
        assert_eq!(canonical_query_string("k="), "k=");
        assert_eq!(canonical_query_string("flag&a=1"), "a=1&flag=");
    }

    #[test]
    fn query_plus_is_not_a_space() {
        assert_eq!(canonical_query_string("q=a+b"), "q=a%2Bb");
        assert_eq!(canonical_query_string("q=a%20b"), "q=a%20b");
    }

    #[test]
    fn query_value_special_characters_round_trip() {
        let sdk_query = "name=%E5%90%8D%20%E5%AD%97%2B%26%3D%25%2F%3F&req_uri=%2Fa%2F%7Bb%7D";
        assert_eq!(canonical_query_string(sdk_query), sdk_query);
        assert_eq!(canonical_query_string("q=a=b/c?d"), "q=a%3Db%2Fc%3Fd");
        assert_eq!(canonical_query_string("q=名 字"), "q=%E5%90%8D%20%E5%AD%97");
    }

    #[test]
    fn parses_the_sdk_authorization_header() {
        let auth = parse_authorization(
            "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=content-type;host;x-sdk-date, \
             Signature=5cf444ec336ee3cba03d2b0e7a5e0af33553d6754db706fc5383b1a0d55d5207",
        )
        .unwrap();
        assert_eq!(
            auth,
            SdkAuthorization {
                access_key: "AK1".into(),
                signed_headers: vec!["content-type".into(), "host".into(), "x-sdk-date".into()],
                signature: "5cf444ec336ee3cba03d2b0e7a5e0af33553d6754db706fc5383b1a0d55d5207".into(),
            }
        );
    }

    #[test]
    fn parse_refuses_other_algorithms() {
        for value in [
            "V11-HMAC-SHA256 Credential=AK/20261123/r/s, SignedHeaders=host, Signature=00",
            "SDK-HMAC-SM3 Access=AK, SignedHeaders=host, Signature=00",
            "Bearer abc",
            "",
        ] {
            assert!(matches!(parse_authorization(value), Err(SignatureError::UnsupportedAlgorithm(_))), "{value:?}");
        }
    }

    #[test]
    fn parse_refuses_malformed_fields() {
        let signature = "0".repeat(64);
        for value in [
            "SDK-HMAC-SHA256".to_owned(),
            "SDK-HMAC-SHA256 ".to_owned(),
            format!("SDK-HMAC-SHA256 SignedHeaders=host, Signature={signature}"),
            format!("SDK-HMAC-SHA256 Access=, SignedHeaders=host, Signature={signature}"),
            format!("SDK-HMAC-SHA256 Access=A, Signature={signature}"),
            "SDK-HMAC-SHA256 Access=A, SignedHeaders=host".to_owned(),
            "SDK-HMAC-SHA256 Access=A, SignedHeaders=host, Signature=abc".to_owned(),
            format!("SDK-HMAC-SHA256 Access=A, SignedHeaders=host;;x, Signature={signature}"),
            format!("SDK-HMAC-SHA256 Access=A, SignedHeaders=ho st, Signature={signature}"),
            format!("SDK-HMAC-SHA256 Access=A, Access=B, SignedHeaders=host, Signature={signature}"),
            format!("SDK-HMAC-SHA256 Access=A, SignedHeaders=host, Signature={signature}, X=1"),
            format!("SDK-HMAC-SHA256 Access=A SignedHeaders=host Signature={signature}"),
        ] {
            assert!(matches!(parse_authorization(&value), Err(SignatureError::Malformed(_))), "{value:?}");
        }
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let headers = basic_headers();
        let req = request(&headers, br#"{"name": "x"}"#);
        let auth = signed_by(&req);
        assert_eq!(auth.access_key, AK);
        assert_eq!(auth.signed_headers, ["content-type", "host", "x-sdk-date"]);
        verify(&req, &auth, SK, sdk_date_time()).unwrap();
    }

    #[test]
    fn non_ascii_header_bytes_are_signed_as_received() {
        let headers =
            headers(&[("host", b"h"), ("x-sdk-date", SDK_DATE.as_bytes()), ("workspace", "  café  ".as_bytes())]);
        let req = request(&headers, b"");
        let canonical = canonical_request(&req, &signed_by(&req).signed_headers);
        let line = "\nworkspace:café\n".as_bytes();
        assert!(canonical.windows(line.len()).any(|window| window == line));
        verify(&req, &signed_by(&req), SK, sdk_date_time()).unwrap();
    }

    #[test]
    fn sign_skips_names_with_underscores() {
        let mut headers = basic_headers();
        headers.insert("x_custom", HeaderValue::from_static("1"));
        let req = request(&headers, b"");
        assert!(!signed_by(&req).signed_headers.contains(&"x_custom".to_owned()));
    }

    #[test]
    fn unsigned_payload_is_used_literally() {
        let mut headers = basic_headers();
        headers.insert(CONTENT_SHA256_HEADER, HeaderValue::from_static("UNSIGNED-PAYLOAD"));
        let req = request(&headers, b"--boundary--");
        assert!(canonical_request(&req, &[]).ends_with(b"\nUNSIGNED-PAYLOAD"));
        let empty = request(&headers, b"");
        assert!(canonical_request(&empty, &[]).ends_with(EMPTY_BODY_SHA256.as_bytes()));
    }

    /// Signs `body` with its hash declared in `X-Sdk-Content-Sha256`, as some clients do.
    fn declared_hash_headers(body: &[u8]) -> HeaderMap {
        let mut headers = basic_headers();
        headers.insert(CONTENT_SHA256_HEADER, HeaderValue::from_str(&hex::encode(Sha256::digest(body))).unwrap());
        headers
    }

    #[test]
    fn a_declared_hash_of_the_body_verifies_in_either_case() {
        let body = br#"{"name": "x"}"#;
        let headers = declared_hash_headers(body);
        verify(&request(&headers, body), &signed_by(&request(&headers, body)), SK, sdk_date_time()).unwrap();
        let mut upper = basic_headers();
        let declared = headers[CONTENT_SHA256_HEADER].to_str().unwrap().to_ascii_uppercase();
        upper.insert(CONTENT_SHA256_HEADER, HeaderValue::from_str(&declared).unwrap());
        verify(&request(&upper, body), &signed_by(&request(&upper, body)), SK, sdk_date_time()).unwrap();
    }

    #[test]
    fn a_body_swapped_under_its_declared_hash_is_refused() {
        let headers = declared_hash_headers(br#"{"name": "x"}"#);
        let auth = signed_by(&request(&headers, br#"{"name": "x"}"#));
        let swapped = request(&headers, br#"{"name": "evil"}"#);
        assert!(matches!(verify(&swapped, &auth, SK, sdk_date_time()), Err(SignatureError::PayloadHashMismatch)));
    }

    #[test]
    fn a_declared_hash_that_is_not_hex_is_refused() {
        let mut headers = basic_headers();
        headers.insert(CONTENT_SHA256_HEADER, HeaderValue::from_static("anything"));
        let req = request(&headers, b"{}");
        assert!(matches!(
            verify(&req, &signed_by(&req), SK, sdk_date_time()),
            Err(SignatureError::PayloadHashMismatch)
        ));
    }

    #[test]
    fn unsigned_payload_leaves_the_body_out() {
        let mut headers = basic_headers();
        headers.insert(CONTENT_SHA256_HEADER, HeaderValue::from_static("UNSIGNED-PAYLOAD"));
        let auth = signed_by(&request(&headers, b"--boundary--"));
        verify(&request(&headers, b"--other--"), &auth, SK, sdk_date_time()).unwrap();
    }

    #[test]
    fn canonical_request_layout() {
        let headers = basic_headers();
        let req = RequestParts {
            method: "get",
            raw_path: "/v2/p/apis",
            raw_query: Some("b=2&a=1"),
            headers: &headers,
            body: b"",
        };
        let signed = ["host".to_owned(), "x-sdk-date".to_owned()];
        let expected = format!(
            "GET\n/v2/p/apis/\na=1&b=2\nhost:127.0.0.1:8080\nx-sdk-date:{SDK_DATE}\n\n\
             host;x-sdk-date\n{EMPTY_BODY_SHA256}"
        );
        assert_eq!(String::from_utf8(canonical_request(&req, &signed)).unwrap(), expected);
    }

    #[test]
    fn verify_requires_host_and_date_to_be_signed() {
        let headers = basic_headers();
        let req = request(&headers, b"");
        let mut auth = signed_by(&req);
        auth.signed_headers.retain(|name| name != "host");
        assert!(matches!(verify(&req, &auth, SK, sdk_date_time()), Err(SignatureError::MissingSignedHeader("host"))));
        let mut auth = signed_by(&req);
        auth.signed_headers.retain(|name| name != "x-sdk-date");
        assert!(matches!(
            verify(&req, &auth, SK, sdk_date_time()),
            Err(SignatureError::MissingSignedHeader("x-sdk-date"))
        ));
    }

    #[test]
    fn verify_refuses_absent_or_repeated_signed_headers() {
        let mut headers = basic_headers();
        let auth = signed_by(&request(&headers, b""));
        headers.append("content-type", HeaderValue::from_static("text/plain"));
        assert!(matches!(
            verify(&request(&headers, b""), &auth, SK, sdk_date_time()),
            Err(SignatureError::Malformed(_))
        ));
        headers.remove("content-type");
        assert!(matches!(
            verify(&request(&headers, b""), &auth, SK, sdk_date_time()),
            Err(SignatureError::Malformed(_))
        ));
    }

    #[test]
    fn verify_refuses_bad_dates() {
        for date in ["2026-11-23T08:12:20Z", "20261123T081220", "20261323T081220Z", "20261123T256000Z", "1700000000"] {
            let mut headers = basic_headers();
            headers.insert(SDK_DATE_HEADER, HeaderValue::from_static(date));
            let req = request(&headers, b"");
            assert!(
                matches!(verify(&req, &signed_by(&req), SK, sdk_date_time()), Err(SignatureError::BadDate)),
                "{date}"
            );
        }
    }

    #[test]
    fn verify_allows_fifteen_minutes_of_skew_either_way() {
        let headers = basic_headers();
        let req = request(&headers, b"");
        let auth = signed_by(&req);
        let skew = MAX_CLOCK_SKEW;
        let second = time::Duration::SECOND;
        verify(&req, &auth, SK, sdk_date_time() + skew).unwrap();
        verify(&req, &auth, SK, sdk_date_time() - skew).unwrap();
        for now in [sdk_date_time() + skew + second, sdk_date_time() - skew - second] {
            assert!(matches!(verify(&req, &auth, SK, now), Err(SignatureError::DateOutOfRange)));
        }
    }

    #[test]
    fn verify_detects_a_changed_query() {
        let headers = basic_headers();
        let mut req = request(&headers, b"");
        req.raw_query = Some("limit=20");
        let auth = signed_by(&req);
        req.raw_query = Some("limit=21");
        assert!(matches!(verify(&req, &auth, SK, sdk_date_time()), Err(SignatureError::Mismatch)));
    }
}
