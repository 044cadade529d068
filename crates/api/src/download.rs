//! File downloads (exports) streamed as they are produced: the producer writes into a
//! blocking `io::Write` on a worker thread, and the body sends each 64 KiB chunk as soon as it
//! is full, so an export of any size holds one chunk in flight, not the whole file.

use std::io::{self, Write};

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tokio::sync::mpsc;

const CHUNK: usize = 64 * 1024;

/// An `io::Write` whose bytes become the response body. A concrete type rather than
/// `dyn Write`, so that a serializer's many small writes are inlined appends to the buffer.
pub struct DownloadWriter {
    sender: mpsc::Sender<io::Result<Bytes>>,
    buffer: Vec<u8>,
}

impl DownloadWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK)));
        // The receiver is gone when the client hung up: stop producing.
        self.sender.blocking_send(Ok(chunk)).map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "client went away"))
    }
}

impl Write for DownloadWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// A `200` attachment named `file_name` whose body `produce` writes. A failure of `produce`
/// after the first chunk can only cut the body short; it is logged.
pub fn attachment<E: std::fmt::Display>(
    file_name: &str,
    content_type: &'static str,
    produce: impl FnOnce(&mut DownloadWriter) -> Result<(), E> + Send + 'static,
) -> Response {
    let (sender, receiver) = mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let mut writer = DownloadWriter { sender, buffer: Vec::with_capacity(CHUNK) };
        let outcome =
            produce(&mut writer).map_err(|e| e.to_string()).and_then(|()| writer.flush().map_err(|e| e.to_string()));
        if let Err(error) = outcome {
            tracing::warn!(%error, "download cut short");
            let _ = writer.sender.blocking_send(Err(io::Error::other(error)));
        }
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(receiver));
    let disposition = format!("attachment; filename=\"{}\"", file_name.replace(['"', '\\', '\r', '\n'], "_"));
    ([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)], body)
        .into_response()
}
