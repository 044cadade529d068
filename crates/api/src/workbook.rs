//! DataService APIs ⇄ Excel workbooks (the export zip, export by ids, the template and the
//! import). The layout is documented in `docs/dataservice.md`: sheet `APIs` has one row per
//! API, every list of objects (request parameters, data source and backend parameters, …) has a
//! sheet of its own with one row per item, tied to its API by the API's name in column A.
//!
//! Both directions are driven by the same column tables, which name each cell by its JSON path
//! in the API's wire form, so what is written is exactly what is read back.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use portico_model::{DsApi, DsApiDefinition, FieldError};
use portico_store::DsImportItem;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde_json::{Map, Value};

/// How a cell holds its value.
#[derive(Clone, Copy)]
enum Cell {
    Text,
    Bool,
    Int,
    /// A list of strings, comma-separated.
    List,
    /// Any JSON value, as its text.
    Json,
}

/// A column of a sheet: its header and where its value lives in the API's wire form.
struct Column {
    path: &'static [&'static str],
    cell: Cell,
}

const fn col(path: &'static [&'static str], cell: Cell) -> Column {
    Column { path, cell }
}

/// The sheet with one row per API.
pub const API_SHEET: &str = "APIs";
/// Column B of [`API_SHEET`]: the API's catalog as a path of names, `/` for the root.
const CATALOG_HEADER: &str = "catalog_path";

/// The columns of [`API_SHEET`] after `name` and `catalog_path`.
const API_COLUMNS: &[Column] = &[
    col(&["description"], Cell::Text),
    col(&["api_type"], Cell::Text),
    col(&["auth_type"], Cell::Text),
    col(&["protocol"], Cell::Text),
    col(&["request_type"], Cell::Text),
    col(&["path"], Cell::Text),
    col(&["visibility"], Cell::Text),
    col(&["publish_type"], Cell::Text),
    col(&["log_flag"], Cell::Bool),
    col(&["retention_period"], Cell::Int),
    col(&["manager"], Cell::Text),
    col(&["tags"], Cell::List),
    col(&["data_mask_switch"], Cell::Bool),
    col(&["body"], Cell::Text),
    col(&["groovy_content"], Cell::Text),
    col(&["datasource_config", "type"], Cell::Text),
    col(&["datasource_config", "connection_name"], Cell::Text),
    col(&["datasource_config", "connection_id"], Cell::Text),
    col(&["datasource_config", "database"], Cell::Text),
    col(&["datasource_config", "datatable"], Cell::Text),
    col(&["datasource_config", "table_id"], Cell::Text),
    col(&["datasource_config", "queue"], Cell::Text),
    col(&["datasource_config", "access_type"], Cell::Text),
    col(&["datasource_config", "access_mode"], Cell::Text),
    col(&["datasource_config", "pagination"], Cell::Text),
    col(&["datasource_config", "sql"], Cell::Text),
    col(&["datasource_config", "total_size_sql"], Cell::Text),
    col(&["backend_config", "type"], Cell::Text),
    col(&["backend_config", "protocol"], Cell::Text),
    col(&["backend_config", "host"], Cell::Text),
    col(&["backend_config", "timeout"], Cell::Int),
    col(&["backend_config", "path"], Cell::Text),
    col(&["datasource_config_list"], Cell::Json),
];

/// Columns written after the definition for people to read; the import ignores them.
const INFO_HEADERS: &[&str] = &[
    "id (read-only)",
    "create_user (read-only)",
    "create_time (read-only)",
    "publish_status (read-only)",
    "authorization_status (read-only)",
];

/// A sheet of list items: its name, the list's path in the API and the items' fields.
struct ListSheet {
    name: &'static str,
    path: &'static [&'static str],
    fields: &'static [(&'static str, Cell)],
}

const LIST_SHEETS: &[ListSheet] = &[
    ListSheet {
        name: "Request Parameters",
        path: &["request_paras"],
        fields: &[
            ("name", Cell::Text),
            ("position", Cell::Text),
            ("type", Cell::Text),
            ("description", Cell::Text),
            ("necessary", Cell::Bool),
            ("example_value", Cell::Text),
            ("default_value", Cell::Text),
            ("support_null", Cell::Bool),
        ],
    },
    ListSheet {
        name: "Data Source Parameters",
        path: &["datasource_config", "backend_paras"],
        fields: &[("name", Cell::Text), ("mapping", Cell::Text), ("condition", Cell::Text)],
    },
    ListSheet {
        name: "Response Parameters",
        path: &["datasource_config", "response_paras"],
        fields: &[
            ("name", Cell::Text),
            ("field", Cell::Text),
            ("type", Cell::Text),
            ("description", Cell::Text),
            ("example_value", Cell::Text),
        ],
    },
    ListSheet {
        name: "Order Parameters",
        path: &["datasource_config", "order_paras"],
        fields: &[
            ("name", Cell::Text),
            ("field", Cell::Text),
            ("optional", Cell::Bool),
            ("sort", Cell::Text),
            ("order", Cell::Int),
            ("description", Cell::Text),
        ],
    },
    ListSheet {
        name: "Backend Parameters",
        path: &["backend_config", "backend_paras"],
        fields: &[("name", Cell::Text), ("position", Cell::Text), ("backend_para_name", Cell::Text)],
    },
    ListSheet {
        name: "Backend Constants",
        path: &["backend_config", "constant_paras"],
        fields: &[
            ("name", Cell::Text),
            ("type", Cell::Text),
            ("position", Cell::Text),
            ("description", Cell::Text),
            ("value", Cell::Text),
        ],
    },
    ListSheet {
        name: "Data Masking",
        path: &["data_mask_paras"],
        fields: &[
            ("column_name", Cell::Text),
            ("algorithm_name", Cell::Text),
            ("algorithm_type", Cell::Text),
            ("en_name", Cell::Text),
            ("algorithm_parameters", Cell::Text),
            ("failure_policy", Cell::Text),
        ],
    },
];

const README: &[&str] = &[
    "Portico DataArts DataService API workbook.",
    "Sheet APIs: one row per API. Column A is the API's name (unique in the workspace), column B its catalog as a path of catalog names (/ is the root catalog); catalogs missing in the target workspace are created by the import.",
    "Dotted headers (datasource_config.sql) are fields of nested objects; tags are comma-separated; datasource_config_list is JSON.",
    "Columns marked (read-only) are for reading: the import ignores them.",
    "Every other sheet lists items of one list of an API, one item per row, in order; column A names the API the item belongs to.",
    "Enumerations: api_type API_SPECIFIC_TYPE_CONFIGURATION | _SCRIPT | _MYBATIS | _GROOVY | _REGISTER; protocol PROTOCOL_TYPE_HTTP | _HTTPS; request_type REQUEST_TYPE_GET | _POST | _PUT | _DELETE; auth_type APP | IAM | NONE; position REQUEST_PARAMETER_POSITION_PATH | _QUERY | _HEADER | _BODY.",
];

fn header(path: &[&str]) -> String {
    path.join(".")
}

fn lookup<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

fn write_value(
    sheet: &mut Worksheet,
    row: u32,
    column: u16,
    value: Option<&Value>,
    cell: Cell,
) -> Result<(), XlsxError> {
    let Some(value) = value.filter(|v| !v.is_null()) else { return Ok(()) };
    match (cell, value) {
        (Cell::Bool, Value::Bool(b)) => sheet.write_boolean(row, column, *b).map(|_| ()),
        (Cell::Int, Value::Number(n)) => sheet.write_number(row, column, n.as_f64().unwrap_or_default()).map(|_| ()),
        (Cell::List, Value::Array(items)) => {
            let text: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            if text.is_empty() { Ok(()) } else { sheet.write_string(row, column, text.join(",")).map(|_| ()) }
        }
        (Cell::Json, Value::Array(items)) if items.is_empty() => Ok(()),
        (Cell::Text, Value::String(s)) => sheet.write_string(row, column, s).map(|_| ()),
        (_, other) => sheet.write_string(row, column, other.to_string()).map(|_| ()),
    }
}

/// Builds a workbook of `apis` (none: the template), `catalog_path` naming each API's catalog.
pub fn write(apis: &[DsApi], catalog_path: &dyn Fn(&str) -> String) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = workbook.add_worksheet().set_name(API_SHEET)?;
    let headers = ["name".to_owned(), CATALOG_HEADER.to_owned()]
        .into_iter()
        .chain(API_COLUMNS.iter().map(|c| header(c.path)))
        .chain(INFO_HEADERS.iter().map(|h| (*h).to_owned()));
    for (i, h) in headers.enumerate() {
        sheet.write_string_with_format(0, i as u16, h, &bold)?;
    }
    sheet.set_freeze_panes(1, 1)?;
    let info_start = 2 + API_COLUMNS.len() as u16;
    // Each definition in wire form once, for every sheet.
    let values = apis
        .iter()
        .map(|api| serde_json::to_value(&api.definition))
        .collect::<Result<Vec<Value>, _>>()
        .map_err(|e| XlsxError::ParameterError(e.to_string()))?;
    for (i, (api, value)) in apis.iter().zip(&values).enumerate() {
        let row = i as u32 + 1;
        sheet.write_string(row, 0, &api.definition.name)?;
        sheet.write_string(row, 1, catalog_path(&api.definition.catalog_id))?;
        for (c, column) in API_COLUMNS.iter().enumerate() {
            write_value(sheet, row, 2 + c as u16, lookup(value, column.path), column.cell)?;
        }
        sheet.write_string(row, info_start, &api.id)?;
        sheet.write_string(row, info_start + 1, &api.create_user)?;
        sheet.write_number(row, info_start + 2, api.create_time as f64)?;
        sheet.write_string(row, info_start + 3, api.publish_status.as_str())?;
        sheet.write_string(row, info_start + 4, api.authorization_status.as_str())?;
    }
    for list in LIST_SHEETS {
        let sheet = workbook.add_worksheet().set_name(list.name)?;
        sheet.write_string_with_format(0, 0, "api_name", &bold)?;
        for (i, (field, _)) in list.fields.iter().enumerate() {
            sheet.write_string_with_format(0, 1 + i as u16, *field, &bold)?;
        }
        sheet.set_freeze_panes(1, 1)?;
        let mut row = 1;
        for (api, value) in apis.iter().zip(&values) {
            for item in lookup(value, list.path).and_then(Value::as_array).into_iter().flatten() {
                sheet.write_string(row, 0, &api.definition.name)?;
                for (i, (field, cell)) in list.fields.iter().enumerate() {
                    write_value(sheet, row, 1 + i as u16, item.get(field), *cell)?;
                }
                row += 1;
            }
        }
    }
    let readme = workbook.add_worksheet().set_name("README")?;
    for (i, line) in README.iter().enumerate() {
        readme.write_string(i as u32, 0, *line)?;
    }
    workbook.save_to_buffer()
}

/// Why a workbook cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Not a readable .xlsx file, or a sheet is missing.
    #[error("the file is not a workbook in the DataService layout: {0}")]
    Unreadable(String),
    /// A row does not hold a valid API.
    #[error("sheet {sheet}, row {row}: {error}")]
    Row {
        /// The sheet.
        sheet: String,
        /// 1-based row number, as Excel shows it.
        row: usize,
        /// What is wrong.
        error: FieldError,
    },
}

fn cell_value(data: &Data, cell: Cell) -> Result<Option<Value>, ()> {
    let text = match data {
        Data::Empty => return Ok(None),
        Data::String(s) if s.is_empty() => return Ok(None),
        Data::String(s) => s.clone(),
        Data::Bool(b) => {
            return if matches!(cell, Cell::Bool) {
                Ok(Some(Value::Bool(*b)))
            } else {
                Ok(Some(Value::String(b.to_string())))
            };
        }
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => (*f as i64).to_string(),
        Data::Float(f) => f.to_string(),
        _ => return Err(()),
    };
    Ok(Some(match cell {
        Cell::Text => Value::String(text),
        Cell::Bool => match text.to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(()),
        },
        Cell::Int => Value::from(text.trim().parse::<i64>().map_err(|_| ())?),
        Cell::List => {
            Value::Array(text.split(',').map(|s| Value::String(s.trim().to_owned())).filter(|v| v != "").collect())
        }
        Cell::Json => serde_json::from_str(&text).map_err(|_| ())?,
    }))
}

fn set_path(target: &mut Map<String, Value>, path: &[&str], value: Value) {
    let (last, parents) = path.split_last().expect("paths are never empty");
    let mut object = target;
    for key in parents {
        object = object
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .expect("parents are objects");
    }
    object.insert(last.to_string(), value);
}

fn push_path(target: &mut Map<String, Value>, path: &[&str], item: Value) {
    let (last, parents) = path.split_last().expect("paths are never empty");
    let mut object = target;
    for key in parents {
        object = object
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .expect("parents are objects");
    }
    if let Value::Array(items) = object.entry(last.to_string()).or_insert_with(|| Value::Array(Vec::new())) {
        items.push(item);
    }
}

/// Reads the APIs of a workbook in the layout [`write`] makes, validating each as CreateApi
/// would. Rows of `APIs` without a name are skipped (blank rows of a hand-edited sheet).
pub fn read(file: &[u8]) -> Result<Vec<DsImportItem>, ReadError> {
    let unreadable = |e: &dyn std::fmt::Display| ReadError::Unreadable(e.to_string());
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(file)).map_err(|e| unreadable(&e))?;
    let range = workbook.worksheet_range(API_SHEET).map_err(|e| unreadable(&e))?;
    let mut rows = range.rows();
    let headers: Vec<String> = rows.next().map(|r| r.iter().map(|d| d.to_string()).collect()).unwrap_or_default();
    let expected = std::iter::once("name".to_owned())
        .chain([CATALOG_HEADER.to_owned()])
        .chain(API_COLUMNS.iter().map(|c| header(c.path)));
    if !expected.zip(headers.iter().chain(std::iter::repeat(&String::new()))).all(|(want, got)| &want == got) {
        return Err(ReadError::Unreadable(format!("sheet {API_SHEET} does not start with the expected headers")));
    }
    let mut apis: Vec<(usize, Vec<String>, Map<String, Value>)> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for (i, row) in rows.enumerate() {
        let row_no = i + 2;
        let bad = |field: &str| ReadError::Row {
            sheet: API_SHEET.into(),
            row: row_no,
            error: FieldError::Invalid(field.into()),
        };
        let get = |c: usize| row.get(c).unwrap_or(&Data::Empty);
        let Some(Value::String(name)) = cell_value(get(0), Cell::Text).map_err(|()| bad("name"))? else { continue };
        let mut object = Map::new();
        object.insert("name".into(), Value::String(name.clone()));
        object.insert("catalog_id".into(), Value::String(portico_model::ROOT_CATALOG_ID.into()));
        let catalog = cell_value(get(1), Cell::Text).map_err(|()| bad(CATALOG_HEADER))?;
        let catalog_path: Vec<String> = match catalog {
            Some(Value::String(path)) => path.split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            _ => Vec::new(),
        };
        for (c, column) in API_COLUMNS.iter().enumerate() {
            if let Some(value) = cell_value(get(2 + c), column.cell).map_err(|()| bad(&header(column.path)))? {
                set_path(&mut object, column.path, value);
            }
        }
        if by_name.insert(name.clone(), apis.len()).is_some() {
            return Err(bad("name"));
        }
        apis.push((row_no, catalog_path, object));
    }
    for list in LIST_SHEETS {
        let range = workbook.worksheet_range(list.name).map_err(|e| unreadable(&e))?;
        for (i, row) in range.rows().enumerate().skip(1) {
            let row_no = i + 1;
            let bad = |field: &str| ReadError::Row {
                sheet: list.name.into(),
                row: row_no,
                error: FieldError::Invalid(field.into()),
            };
            let get = |c: usize| row.get(c).unwrap_or(&Data::Empty);
            let Some(Value::String(api_name)) = cell_value(get(0), Cell::Text).map_err(|()| bad("api_name"))? else {
                continue;
            };
            let index = *by_name.get(&api_name).ok_or_else(|| bad("api_name"))?;
            let mut item = Map::new();
            for (f, (field, cell)) in list.fields.iter().enumerate() {
                if let Some(value) = cell_value(get(1 + f), *cell).map_err(|()| bad(field))? {
                    item.insert((*field).to_owned(), value);
                }
            }
            push_path(&mut apis[index].2, list.path, Value::Object(item));
        }
    }
    apis.into_iter()
        .map(|(row, catalog_path, object)| {
            DsApiDefinition::from_value(Value::Object(object))
                .map(|definition| DsImportItem { catalog_path, definition })
                .map_err(|error| ReadError::Row { sheet: API_SHEET.into(), row, error })
        })
        .collect()
}
