//! Random credentials and ids, all from the operating system's generator.

use rand::Rng;
use rand::rngs::OsRng;
use rand::seq::SliceRandom;

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const DIGITS: &[u8] = b"0123456789";
/// Symbols that need no quoting in JSON and survive double quotes in a shell.
const SYMBOLS: &[u8] = b"@#%^*-_=+";

const PASSWORD_LEN: usize = 20;

/// A 20-character password with at least one upper-case letter, lower-case letter, digit
/// and symbol, so it passes Huawei-style complexity rules.
pub fn password() -> String {
    let classes = [UPPER, LOWER, DIGITS, SYMBOLS];
    let all: Vec<u8> = classes.concat();
    let mut chars: Vec<u8> = classes.iter().map(|class| pick(class)).collect();
    chars.extend((classes.len()..PASSWORD_LEN).map(|_| pick(&all)));
    chars.shuffle(&mut OsRng);
    String::from_utf8(chars).expect("the alphabets are ASCII")
}

/// A 20-character access key of upper-case letters and digits, like Huawei AKs.
pub fn access_key() -> String {
    random_string(&[UPPER, DIGITS].concat(), 20)
}

/// A 40-character secret key of letters and digits.
pub fn secret_key() -> String {
    random_string(&[UPPER, LOWER, DIGITS].concat(), 40)
}

/// A random id as 32 lower-case hex digits: a version 4 UUID in simple form.
pub fn hex_id() -> String {
    let mut bytes: [u8; 16] = OsRng.r#gen();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    hex::encode(bytes)
}

fn pick(alphabet: &[u8]) -> u8 {
    alphabet[OsRng.gen_range(0..alphabet.len())]
}

fn random_string(alphabet: &[u8], len: usize) -> String {
    (0..len).map(|_| char::from(pick(alphabet))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn passwords_have_every_class() {
        for _ in 0..200 {
            let password = password();
            assert_eq!(password.len(), PASSWORD_LEN);
            for class in [UPPER, LOWER, DIGITS, SYMBOLS] {
                assert!(password.bytes().any(|b| class.contains(&b)), "{password}");
            }
        }
    }

    #[test]
    fn access_keys_are_upper_case_alphanumerics() {
        let key = access_key();
        assert_eq!(key.len(), 20);
        assert!(key.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()), "{key}");
    }

    #[test]
    fn secret_keys_are_alphanumerics() {
        let key = secret_key();
        assert_eq!(key.len(), 40);
        assert!(key.bytes().all(|b| b.is_ascii_alphanumeric()), "{key}");
    }

    #[test]
    fn hex_ids_are_simple_uuid_v4() {
        for _ in 0..100 {
            let id = hex_id();
            assert_eq!(id.len(), 32);
            assert!(id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{id}");
            assert_eq!(&id[12..13], "4", "{id}");
            assert!("89ab".contains(&id[16..17]), "{id}");
        }
    }

    #[test]
    fn values_do_not_repeat() {
        let ids: HashSet<String> = (0..1000).map(|_| hex_id()).collect();
        assert_eq!(ids.len(), 1000);
        let keys: HashSet<String> = (0..1000).map(|_| access_key()).collect();
        assert_eq!(keys.len(), 1000);
    }
}
