//! The import form (`ImportApiDefinitionsV2`'s multipart fields) read from its parts. The HTTP
//! layer only splits the multipart body (axum's multer) and hands each field here, one at a
//! time, so what the fields mean is checked without HTTP, in unit tests and under the fuzzer.

use portico_model::FieldError;

/// `merge` or `override`, the two values of `extend_mode` and `api_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormMode {
    /// `merge`: keep what is there.
    Merge,
    /// `override`: the document wins.
    Override,
}

impl FormMode {
    /// Reads the value of the form field `field`.
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        match value {
            "merge" => Ok(FormMode::Merge),
            "override" => Ok(FormMode::Override),
            _ => Err(FieldError::Invalid(field.into())),
        }
    }
}

/// The import form, checked; `F` is the file's bytes as the HTTP layer holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportForm<F> {
    /// `is_create_group` (default `true`): a new group named after the document.
    pub create_group: bool,
    /// `extend_mode`: how the document's extensions meet the group's.
    pub extend_mode: FormMode,
    /// `group_id`: the group imported into when none is created.
    pub group_id: Option<String>,
    /// `api_mode`: `Override` replaces APIs that already exist.
    pub api_mode: FormMode,
    /// `mock_mode`: every API gets a mock backend.
    pub mock_mode: bool,
    /// `app_id` (ROMA Connect): the integration application of the APIs.
    pub app_id: Option<String>,
    /// `file_name`: the document.
    pub file: F,
}

/// Reads the form field by field, in the order they arrive.
#[derive(Debug)]
pub struct ImportFormReader<F> {
    form: ImportForm<Option<F>>,
}

impl<F> Default for ImportFormReader<F> {
    fn default() -> Self {
        ImportFormReader {
            form: ImportForm {
                create_group: true,
                extend_mode: FormMode::Merge,
                group_id: None,
                api_mode: FormMode::Merge,
                mock_mode: false,
                app_id: None,
                file: None,
            },
        }
    }
}

impl<F: AsRef<[u8]>> ImportFormReader<F> {
    /// Takes one field; unknown fields are ignored, as APIG does. Text fields are UTF-8, read
    /// lossily like multer's `text()`: a stray byte makes a value invalid, not the request.
    pub fn field(&mut self, name: &str, value: F) -> Result<(), FieldError> {
        if name == "file_name" {
            self.form.file = Some(value);
            return Ok(());
        }
        let text = String::from_utf8_lossy(value.as_ref());
        let form = &mut self.form;
        match name {
            "is_create_group" => form.create_group = form_bool(name, &text)?,
            "group_id" => form.group_id = Some(text.into_owned()).filter(|v| !v.is_empty()),
            "extend_mode" => form.extend_mode = FormMode::parse(name, &text)?,
            "api_mode" => form.api_mode = FormMode::parse(name, &text)?,
            "simple_mode" => drop(form_bool(name, &text)?),
            "mock_mode" => form.mock_mode = form_bool(name, &text)?,
            "app_id" => form.app_id = Some(text.into_owned()).filter(|v| !v.is_empty()),
            _ => {}
        }
        Ok(())
    }

    /// The whole form: a file, and a group to import into unless one is created.
    pub fn finish(self) -> Result<ImportForm<F>, FieldError> {
        let ImportForm { create_group, extend_mode, group_id, api_mode, mock_mode, app_id, file } = self.form;
        let file = file.ok_or_else(|| FieldError::Missing("file_name".into()))?;
        if !create_group && group_id.is_none() {
            return Err(FieldError::Missing("group_id".into()));
        }
        Ok(ImportForm { create_group, extend_mode, group_id, api_mode, mock_mode, app_id, file })
    }
}

fn form_bool(field: &str, value: &str) -> Result<bool, FieldError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(FieldError::Invalid(field.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(fields: &[(&str, &str)]) -> Result<ImportForm<Vec<u8>>, FieldError> {
        let mut reader = ImportFormReader::default();
        for (name, value) in fields {
            reader.field(name, value.as_bytes().to_vec())?;
        }
        reader.finish()
    }

    #[test]
    fn defaults_create_a_group_and_merge() {
        let form = read(&[("file_name", "{}")]).unwrap();
        assert!(form.create_group);
        assert_eq!((form.extend_mode, form.api_mode), (FormMode::Merge, FormMode::Merge));
        assert_eq!(form.file, b"{}");
    }

    #[test]
    fn every_field_is_read() {
        let form = read(&[
            ("is_create_group", "false"),
            ("group_id", "g1"),
            ("extend_mode", "override"),
            ("api_mode", "override"),
            ("simple_mode", "true"),
            ("mock_mode", "true"),
            ("app_id", "app"),
            ("unknown", "\u{fffd}"),
            ("file_name", "doc"),
        ])
        .unwrap();
        assert_eq!(
            form,
            ImportForm {
                create_group: false,
                extend_mode: FormMode::Override,
                group_id: Some("g1".into()),
                api_mode: FormMode::Override,
                mock_mode: true,
                app_id: Some("app".into()),
                file: b"doc".to_vec(),
            }
        );
    }

    #[test]
    fn bad_values_name_their_field() {
        assert_eq!(read(&[("mock_mode", "yes")]), Err(FieldError::Invalid("mock_mode".into())));
        assert_eq!(read(&[("api_mode", "replace")]), Err(FieldError::Invalid("api_mode".into())));
        assert_eq!(read(&[("is_create_group", "tru\u{e9}")]), Err(FieldError::Invalid("is_create_group".into())));
        assert_eq!(read(&[("group_id", "g")]), Err(FieldError::Missing("file_name".into())));
        let existing_without_group = [("is_create_group", "false"), ("group_id", ""), ("file_name", "d")];
        assert_eq!(read(&existing_without_group), Err(FieldError::Missing("group_id".into())));
    }

    #[test]
    fn invalid_utf8_is_an_invalid_value_not_a_failure() {
        let mut reader = ImportFormReader::default();
        assert_eq!(reader.field("mock_mode", b"tr\xffue".to_vec()), Err(FieldError::Invalid("mock_mode".into())));
        reader.field("group_id", b"g\xff".to_vec()).unwrap();
        reader.field("file_name", b"\xff".to_vec()).unwrap();
        assert_eq!(reader.finish().unwrap().group_id.as_deref(), Some("g\u{fffd}"));
    }
}
