//! Secrets at rest: app secrets and AppCodes are sealed with AES-256-GCM under a key kept in
//! the data directory (`secrets.key`, 64 hex digits, mode 0600), never in the database, so a
//! copy of the database alone does not reveal them.

use std::fs;
use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

use crate::{Result, StoreError};

/// Name of the key file, beside the database file.
pub const KEY_FILE: &str = "secrets.key";

const NONCE_LEN: usize = 12;

/// Seals and opens secrets with the data directory's key.
pub(crate) struct SecretBox {
    cipher: Aes256Gcm,
    /// The key's [`crate::backup::fingerprint`], which backups carry.
    pub(crate) fingerprint: String,
}

fn key_error(path: &Path, cause: impl std::fmt::Display) -> StoreError {
    StoreError::Secrets(format!("{}: {cause}", path.display()))
}

impl SecretBox {
    /// Reads the key file, creating it with a new random key if there is none.
    pub(crate) fn load_or_create(path: &Path) -> Result<SecretBox> {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(hex::encode(key).as_bytes()).map_err(|e| key_error(path, e))?;
                file.sync_all().map_err(|e| key_error(path, e))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                key = Self::read_key(path)?.ok_or_else(|| key_error(path, "the key file vanished"))?;
            }
            Err(e) => return Err(key_error(path, e)),
        }
        Ok(SecretBox::from_key(&key))
    }

    /// The key in the file `path`, or `None` when there is no such file.
    pub(crate) fn read_key(path: &Path) -> Result<Option<[u8; 32]>> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(key_error(path, e)),
        };
        let bytes = hex::decode(text.trim()).map_err(|e| key_error(path, e))?;
        bytes.try_into().map(Some).map_err(|_| key_error(path, "the key is not 32 bytes"))
    }

    /// A key that lives as long as the process (in-memory databases).
    pub(crate) fn ephemeral() -> SecretBox {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        SecretBox::from_key(&key)
    }

    fn from_key(key: &[u8; 32]) -> SecretBox {
        SecretBox {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)),
            fingerprint: crate::backup::fingerprint(key),
        }
    }

    /// `hex(nonce ‖ ciphertext ‖ tag)`, with a fresh random nonce.
    pub(crate) fn seal(&self, plaintext: &str) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .map_err(|_| StoreError::Secrets("encryption failed".into()))?;
        Ok(hex::encode([&nonce[..], &sealed].concat()))
    }

    /// The plaintext of [`SecretBox::seal`]'s output; fails if it was sealed with another key or altered.
    pub(crate) fn open(&self, sealed: &str) -> Result<String> {
        let bytes = hex::decode(sealed).map_err(|_| StoreError::Secrets("a sealed secret is not hex".into()))?;
        if bytes.len() < NONCE_LEN {
            return Err(StoreError::Secrets("a sealed secret is truncated".into()));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| StoreError::Secrets("a sealed secret does not open with this data directory's key".into()))?;
        String::from_utf8(plain).map_err(|_| StoreError::Secrets("a sealed secret is not UTF-8".into()))
    }
}

/// Lookup hash of an AppCode: hex SHA-256.
pub(crate) fn lookup_hash(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip_and_detect_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        let a = SecretBox::load_or_create(&path).unwrap();
        let sealed = a.seal("app-secret-1").unwrap();
        assert!(!sealed.contains("app-secret"));
        assert_ne!(sealed, a.seal("app-secret-1").unwrap(), "a fresh nonce each time");
        let again = SecretBox::load_or_create(&path).unwrap();
        assert_eq!(again.open(&sealed).unwrap(), "app-secret-1");
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        assert!(a.open(std::str::from_utf8(&tampered).unwrap()).is_err());
        assert!(SecretBox::ephemeral().open(&sealed).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
