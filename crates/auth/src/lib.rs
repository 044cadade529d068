//! Credentials for Portico, as pure logic: no I/O, no clock, no storage.
//!
//! * [`signature`] verifies (and, for tests and tools, produces) the `SDK-HMAC-SHA256`
//!   AK/SK request signature of the official Huawei Cloud SDKs.
//! * [`token`] issues and checks the stateless bearer tokens that stand in for IAM tokens.
//! * [`password`] hashes and checks user passwords with Argon2id.
//! * [`certificate`] checks uploaded TLS certificates (chain, key, validity) and reads their names.
//! * [`generate`] makes random passwords, access keys, secret keys and ids.
//!
//! Callers pass the current time in, so every check here is deterministic under test.

#![warn(missing_docs)]

pub mod certificate;
pub mod generate;
pub mod password;
pub mod signature;
pub mod token;
