//! Backups: one portable file for both engines, so a SQLite node's data moves to a PostgreSQL
//! cluster (or back) with `portico backup` and `portico restore`. The format is documented in
//! `docs/operations.md`; in short, JSON lines:
//!
//! ```text
//! {"format":"portico-backup","version":1,"migration":7,"engine":"sqlite","created_at":"…","secrets_key_sha256":"…"}
//! {"table":"projects","columns":["seq","id","name","created_at"]}
//! [1,"0f…","default","2026-12-07T19:00:00Z"]
//! …
//! {"end":{"rows":1234,"sha256":"…"}}
//! ```
//!
//! The last line carries the SHA-256 of every byte before it: a truncated or altered file is
//! refused, and as a restore writes in one transaction that it commits only after that check,
//! a refused file leaves the target as it was. Sealed secrets are copied sealed; the header
//! names the key they need by a fingerprint, never the key itself.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite};

use crate::StoreError;

/// The `format` of every backup's header.
pub const BACKUP_FORMAT: &str = "portico-backup";
/// The version of the format this build writes and reads.
pub const BACKUP_VERSION: u32 = 1;
/// The longest line a restore reads. A row holds at most an API snapshot, and request bodies are
/// bounded at 32 MiB, so a longer line is not a backup of ours; the bound keeps a damaged file
/// from filling memory.
pub const MAX_LINE_BYTES: u64 = 64 << 20;

/// Why a backup or restore failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The file is not a complete backup this build can restore, or the target cannot take it.
    #[error("{0}")]
    Refused(String),
    /// Reading or writing the file failed.
    #[error("backup file: {0}")]
    Io(#[from] std::io::Error),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for BackupError {
    fn from(e: sqlx::Error) -> Self {
        BackupError::Store(e.into())
    }
}

impl From<serde_json::Error> for BackupError {
    fn from(e: serde_json::Error) -> Self {
        BackupError::Refused(format!("not a Portico backup line: {e}"))
    }
}

/// The first line of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupHeader {
    /// Always [`BACKUP_FORMAT`].
    pub format: String,
    /// The format's version, [`BACKUP_VERSION`] when written by this build.
    pub version: u32,
    /// The schema migration the source database was at; a restore needs the same.
    pub migration: i64,
    /// The engine the backup was taken from (`SQLite` or `PostgreSQL`), for the operator.
    pub engine: String,
    /// When the snapshot was taken (RFC 3339).
    pub created_at: String,
    /// [`key_fingerprint`] of the `secrets.key` that opens the sealed secrets in the backup.
    pub secrets_key_sha256: String,
}

/// What a backup wrote or a restore loaded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BackupSummary {
    /// Tables in the file.
    pub tables: u64,
    /// Rows in the file, all tables together.
    pub rows: u64,
}

/// The fingerprint of a secrets key as backups name it: a SHA-256 under a label of its own,
/// so it is not the hash of the key anyone else would compute.
pub(crate) fn fingerprint(key: &[u8; 32]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"portico secrets.key fingerprint v1\0");
    hash.update(key);
    hex::encode(hash.finalize())
}

/// The fingerprint of the key in the file `path`, or `None` when there is no such file. A
/// restore compares it with the backup's before it opens (and so creates) anything.
pub fn key_fingerprint(path: &std::path::Path) -> Result<Option<String>, StoreError> {
    crate::secrets::SecretBox::read_key(path).map(|key| key.map(|key| fingerprint(&key)))
}

/// Backups and restores; each engine's SQL is in `sql/backup.rs`.
#[async_trait]
pub trait BackupStore {
    /// Writes every table worth keeping, read in one snapshot (a write running meanwhile is in
    /// the backup entirely or not at all), to `out`, as of `now`.
    async fn backup(
        &self,
        out: &mut (dyn AsyncWrite + Unpin + Send),
        now: OffsetDateTime,
    ) -> Result<BackupSummary, BackupError>;

    /// Loads a backup into this store, which must be empty (no row in any table) and at the
    /// backup's migration, with the secrets key the backup needs. All or nothing: the rows are
    /// written in one transaction, committed only once the whole file has been read and checked.
    async fn restore(&self, backup: BackupReader<'_>) -> Result<BackupSummary, BackupError>;
}

/// A backup's lines, read with a bounded buffer and hashed as they go.
pub struct BackupReader<'a> {
    input: Box<dyn AsyncBufRead + Unpin + Send + 'a>,
    header: BackupHeader,
    hash: Sha256,
    line: Vec<u8>,
}

/// One line after the header.
pub(crate) enum Line {
    /// The start of a table's rows.
    Table(TableStart),
    /// A row of the current table, and the length of its line.
    Row(Vec<serde_json::Value>, usize),
    /// The end of the file, checked.
    End,
}

/// The line that starts a table's rows.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TableStart {
    pub table: String,
    pub columns: Vec<String>,
}

/// The last line of a backup.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Trailer {
    pub end: TrailerBody,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct TrailerBody {
    pub rows: u64,
    pub sha256: String,
}

impl<'a> BackupReader<'a> {
    /// Reads and checks the header: the format, its version.
    pub async fn open(input: impl AsyncBufRead + Unpin + Send + 'a) -> Result<BackupReader<'a>, BackupError> {
        let mut input: Box<dyn AsyncBufRead + Unpin + Send + 'a> = Box::new(input);
        let (mut hash, mut line) = (Sha256::new(), Vec::new());
        if !read_line(&mut input, &mut hash, &mut line).await? {
            return Err(BackupError::Refused("the backup file is empty".into()));
        }
        let header: BackupHeader = serde_json::from_slice(&line)
            .map_err(|e| BackupError::Refused(format!("the first line is not a Portico backup header: {e}")))?;
        if header.format != BACKUP_FORMAT {
            return Err(BackupError::Refused(format!("not a Portico backup (format {:?})", header.format)));
        }
        if header.version != BACKUP_VERSION {
            return Err(BackupError::Refused(format!(
                "backup format version {} is not the one this build reads ({BACKUP_VERSION})",
                header.version
            )));
        }
        Ok(BackupReader { input, header, hash, line })
    }

    /// The header, checked by [`BackupReader::open`].
    pub fn header(&self) -> &BackupHeader {
        &self.header
    }

    /// The next line after the header; a missing end, an end that does not match the rows read
    /// or the bytes' hash, or anything after the end is refused.
    pub(crate) async fn next(&mut self, rows_so_far: u64) -> Result<Line, BackupError> {
        let before = self.hash.clone();
        if !read_line(&mut self.input, &mut self.hash, &mut self.line).await? {
            return Err(BackupError::Refused("the backup is truncated: it has no end line".into()));
        }
        if self.line.first() == Some(&b'[') {
            return Ok(Line::Row(serde_json::from_slice(&self.line)?, self.line.len()));
        }
        match serde_json::from_slice(&self.line)? {
            TableOrEnd::Table(start) => Ok(Line::Table(start)),
            TableOrEnd::End(trailer) => {
                let digest = hex::encode(before.finalize());
                if trailer.end.sha256 != digest || trailer.end.rows != rows_so_far {
                    return Err(BackupError::Refused(
                        "the backup is damaged: its contents do not match its end line's checksum".into(),
                    ));
                }
                let mut rest = [0u8; 1];
                if self.input.read(&mut rest).await? != 0 {
                    return Err(BackupError::Refused("the backup has data after its end line".into()));
                }
                Ok(Line::End)
            }
        }
    }
}

/// Reads the next line into `line` (without its `\n`) and adds it to `hash`; `false` at the end
/// of the input.
async fn read_line(
    input: &mut (dyn AsyncBufRead + Unpin + Send + '_),
    hash: &mut Sha256,
    line: &mut Vec<u8>,
) -> Result<bool, BackupError> {
    line.clear();
    let read = input.take(MAX_LINE_BYTES + 1).read_until(b'\n', line).await?;
    if read == 0 {
        return Ok(false);
    }
    if line.last() != Some(&b'\n') {
        return Err(BackupError::Refused(if read as u64 > MAX_LINE_BYTES {
            format!("a line of the backup is longer than {MAX_LINE_BYTES} bytes")
        } else {
            "the backup is truncated: its last line is incomplete".into()
        }));
    }
    hash.update(&line[..]);
    line.pop();
    Ok(true)
}

/// The lines that are objects: a table's start or the end.
#[derive(Deserialize)]
#[serde(untagged)]
enum TableOrEnd {
    Table(TableStart),
    End(Trailer),
}

/// Writes a backup's lines and hashes them for the end line.
pub(crate) struct BackupWriter<'a> {
    out: &'a mut (dyn AsyncWrite + Unpin + Send),
    hash: Sha256,
    buffer: Vec<u8>,
    pub(crate) rows: u64,
}

impl<'a> BackupWriter<'a> {
    pub(crate) fn new(out: &'a mut (dyn AsyncWrite + Unpin + Send)) -> Self {
        BackupWriter { out, hash: Sha256::new(), buffer: Vec::new(), rows: 0 }
    }

    /// Writes one value as a line.
    pub(crate) async fn line(&mut self, value: &impl Serialize) -> Result<(), BackupError> {
        use tokio::io::AsyncWriteExt;
        self.buffer.clear();
        serde_json::to_writer(&mut self.buffer, value).map_err(StoreError::from)?;
        self.buffer.push(b'\n');
        self.hash.update(&self.buffer);
        self.out.write_all(&self.buffer).await?;
        Ok(())
    }

    /// Writes the end line and flushes.
    pub(crate) async fn finish(mut self) -> Result<u64, BackupError> {
        use tokio::io::AsyncWriteExt;
        let sha256 = hex::encode(self.hash.clone().finalize());
        let trailer = Trailer { end: TrailerBody { rows: self.rows, sha256 } };
        self.line(&trailer).await?;
        self.out.flush().await?;
        Ok(self.rows)
    }
}
