//! Password hashing with Argon2id, stored as PHC strings.
//!
//! Hashes carry their own parameters, so [`verify`] keeps accepting old hashes if the
//! parameters used by [`hash`] are raised later.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

/// OWASP's minimum for Argon2id: 19 MiB, two passes, one lane.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).expect("constant Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `password` with a random salt into an `$argon2id$...` PHC string.
pub fn hash(password: &str) -> String {
    let mut salt = [0; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt length");
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("hashing with valid parameters and salt cannot fail")
        .to_string()
}

/// Whether `password` matches `phc`. A `phc` that is not a valid Argon2 PHC string never
/// matches.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| hasher().verify_password(password.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let phc = hash("correct horse battery staple");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery staple", &phc));
        assert!(!verify("correct horse battery stapl", &phc));
        assert!(!verify("", &phc));
    }

    #[test]
    fn salts_differ() {
        assert_ne!(hash("same"), hash("same"));
    }

    #[test]
    fn unicode_and_empty_passwords() {
        for password in ["", "пароль-密码-🔑"] {
            assert!(verify(password, &hash(password)));
        }
    }

    #[test]
    fn garbage_hashes_never_match() {
        for phc in ["", "plaintext", "$argon2id$", "$argon2id$v=19$m=19456,t=2,p=1$$", "$2b$12$abc"] {
            assert!(!verify("plaintext", phc), "{phc:?}");
        }
    }
}
