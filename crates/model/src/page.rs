/// `offset`/`limit` as every APIG list takes them: a negative offset counts as 0, a limit
/// outside 1–500 is refused, and no limit means 20.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Records to skip.
    pub offset: u32,
    /// Records to return, 1–500.
    pub limit: u32,
}

impl Default for Page {
    fn default() -> Self {
        Page { offset: 0, limit: 20 }
    }
}

impl Page {
    /// Validates the raw query values.
    pub fn new(offset: Option<i64>, limit: Option<i64>) -> Result<Page, crate::FieldError> {
        let offset = offset.unwrap_or(0).clamp(0, u32::MAX as i64) as u32;
        let limit = match limit {
            None => 20,
            Some(l) if (1..=500).contains(&l) => l as u32,
            Some(_) => return Err(crate::FieldError::invalid("limit")),
        };
        Ok(Page { offset, limit })
    }
}

/// One page of results plus the number of all matching records.
#[derive(Debug, Clone, PartialEq)]
pub struct Paged<T> {
    /// The records of this page.
    pub items: Vec<T>,
    /// How many records match in all.
    pub total: u64,
}
