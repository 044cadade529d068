//! Who may call the management API: projects, users and their AK/SK credentials.

use time::OffsetDateTime;

/// A tenant. Every instance belongs to exactly one project, and a caller sees only the
/// projects its user is a member of.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    /// 32-hex project id, the `{project_id}` of every path.
    pub id: String,
    /// Unique name; IAM token requests may scope by it.
    pub name: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// A user of the management API.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// User id.
    pub id: String,
    /// Unique login name.
    pub name: String,
    /// Argon2 PHC string of the password.
    pub password_hash: String,
    /// A read-only user may only read.
    pub readonly: bool,
    /// Ids of the projects the user may act on.
    pub projects: Vec<String>,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// An AK/SK pair, as the SDKs sign with it.
#[derive(Clone, PartialEq)]
pub struct Credential {
    /// Access key: public, names the pair.
    pub access_key: String,
    /// Secret key: the HMAC key; never logged.
    pub secret_key: String,
    /// The user the pair acts as.
    pub user_id: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("user_id", &self.user_id)
            .finish()
    }
}

/// Project names: 1–64 letters, digits, `_` and `-` (Huawei's look like `cn-north-4`).
pub fn is_project_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
}

/// User names: 1–64 letters, digits, `_`, `-` and `.`, starting with a letter.
pub fn is_user_name(name: &str) -> bool {
    crate::rules::is_identifier(name, "-_.", 1, 64)
}
