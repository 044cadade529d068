use time::OffsetDateTime;

/// A new object id: 32 lower-case hex digits, the form APIG uses for every id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The current time in UTC, truncated to whole seconds so that every timestamp renders as
/// `2020-07-31T12:42:51Z` and survives a store round trip unchanged.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}
