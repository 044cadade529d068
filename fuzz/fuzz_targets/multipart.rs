//! The import form: a multipart body split by multer (what axum's `Multipart` runs) and read
//! by `ImportFormReader`, exactly as `POST …/openapi/import` does. The input is the
//! `Content-Type` header value, a newline, then the body; the body arrives in chunks whose size
//! the input's length picks, so part boundaries fall across chunks too. It must never panic,
//! and a form that was read must read the same once written out again.
#![no_main]

use std::convert::Infallible;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use portico_model::FieldError;
use portico_openapi::{ImportForm, ImportFormReader};

fuzz_target!(|data: &[u8]| {
    let Some(newline) = data.iter().position(|&b| b == b'\n') else { return };
    let Ok(content_type) = std::str::from_utf8(&data[..newline]) else { return };
    let Ok(boundary) = multer::parse_boundary(content_type) else { return };
    let body = Bytes::copy_from_slice(&data[newline + 1..]);
    let chunk = 1 + data.len() % 61;
    let Ok(Ok(form)) = read(body, chunk, boundary) else { return };

    let fields = written_fields(&form);
    if fields.iter().any(|(_, value)| value.windows(6).any(|w| w == b"--fuzz")) {
        return;
    }
    let mut again = Vec::new();
    for (name, value) in &fields {
        again
            .extend_from_slice(format!("--fuzz\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes());
        again.extend_from_slice(value);
        again.extend_from_slice(b"\r\n");
    }
    again.extend_from_slice(b"--fuzz--\r\n");
    let reread = read(Bytes::from(again), chunk, "fuzz".into());
    assert_eq!(reread.expect("a written form splits").expect("a written form reads"), form);
});

type Read = Result<Result<ImportForm<Bytes>, FieldError>, multer::Error>;

/// What `read_form` in crates/api does, on an in-memory body.
fn read(body: Bytes, chunk: usize, boundary: String) -> Read {
    let chunks: Vec<Result<Bytes, Infallible>> =
        (0..body.len()).step_by(chunk).map(|at| Ok(body.slice(at..(at + chunk).min(body.len())))).collect();
    let mut multipart = multer::Multipart::new(futures_util::stream::iter(chunks), boundary);
    ready(async move {
        let mut reader = ImportFormReader::default();
        while let Some(field) = multipart.next_field().await? {
            let name = field.name().unwrap_or_default().to_owned();
            if let Err(refused) = reader.field(&name, field.bytes().await?) {
                return Ok(Err(refused));
            }
        }
        Ok(reader.finish())
    })
}

/// The fields that give `form` back when read.
fn written_fields(form: &ImportForm<Bytes>) -> Vec<(&'static str, Vec<u8>)> {
    let mode = |m| if m == portico_openapi::FormMode::Override { "override" } else { "merge" };
    let mut fields = vec![
        ("is_create_group", form.create_group.to_string().into_bytes()),
        ("extend_mode", mode(form.extend_mode).as_bytes().to_vec()),
        ("api_mode", mode(form.api_mode).as_bytes().to_vec()),
        ("mock_mode", form.mock_mode.to_string().into_bytes()),
        ("file_name", form.file.to_vec()),
    ];
    if let Some(group_id) = &form.group_id {
        fields.push(("group_id", group_id.clone().into_bytes()));
    }
    if let Some(app_id) = &form.app_id {
        fields.push(("app_id", app_id.clone().into_bytes()));
    }
    fields
}

/// Runs a future that never waits: the body is all in memory, so multer's every poll is ready.
/// (No executor crate for one poll loop.)
fn ready<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("an in-memory multipart body waited"),
    }
}
