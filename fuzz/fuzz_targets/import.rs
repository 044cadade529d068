//! The import parser on arbitrary bytes (JSON or YAML, Swagger 2.0 or OpenAPI 3.x). It must
//! never panic, and what it accepts must survive the way back: the valid APIs, written as a
//! document of either version and format, parse again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portico_model::Api;
use portico_openapi::{
    Define, Export, ExtensionObjects, Format, ImportContext, OasVersion, parse, sort_by_path, write,
};
use time::OffsetDateTime;

fuzz_target!(|data: &[u8]| {
    let context = ImportContext { group_id: "0123456789abcdef0123456789abcdef".into(), ..Default::default() };
    let Ok(document) = parse(data, &context) else { return };
    let mocked = ImportContext { mock_mode: true, ..context.clone() };
    let again = parse(data, &mocked).expect("mock_mode changes the backends, not whether the document parses");
    assert_eq!(again.apis.len(), document.apis.len());

    let now = OffsetDateTime::UNIX_EPOCH;
    let apis: Vec<Api> = document
        .apis
        .into_iter()
        .filter_map(|api| api.definition.ok())
        .enumerate()
        .map(|(i, mut definition)| {
            definition.prepare(None, now);
            Api { id: format!("{i:032x}"), status: 1, register_time: now, update_time: now, definition }
        })
        .collect();
    if apis.is_empty() {
        return;
    }
    let mut refs: Vec<&Api> = apis.iter().collect();
    sort_by_path(&mut refs);
    let (objects, names) = (ExtensionObjects::default(), Default::default());
    // The input picks the version and format of the way back, so both get exercised.
    let oas = if data.len() % 2 == 0 { OasVersion::V2 } else { OasVersion::V3 };
    let format = if data.len() % 3 == 0 { Format::Json } else { Format::Yaml };
    let export = Export {
        oas,
        define: Define::Dev,
        title: document.title.as_deref().unwrap_or("fuzz"),
        description: document.description.as_deref(),
        version: "1.0",
        host: "fuzz.example.com",
        objects: &objects,
        names: &names,
        group_extensions: &document.extensions,
    };
    let mut written = Vec::new();
    write(&export, refs, format, &mut written).expect("valid APIs can always be written");
    if let Err(error) = parse(&written, &context) {
        panic!("an export does not parse again: {error}\n{}", String::from_utf8_lossy(&written));
    }
});
