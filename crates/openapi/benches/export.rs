//! The exporter against the reference the issue sets: `serde_json` writing the very same
//! document from memory. A 10,000-API group (each API with three parameters, three backend
//! parameters and, every tenth, a backend policy), written as JSON and YAML.
//!
//!     cargo bench -p portico-openapi --bench export
//!
//! Also timed: decoding the same APIs from their stored JSON documents, the work a server does
//! before it writes anything.
//!
//! `BENCHMARKS.md` records the figures; `bench/openapi.sh` runs this beside the HTTP export.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use portico_model::{Api, ApiDefinition, new_id, now};
use portico_openapi::{Define, Export, ExtensionObjects, Format, OasVersion, write};
use serde_json::json;

const APIS: usize = 10_000;

fn api(i: usize) -> Api {
    let mut body = json!({
        "name": format!("get_item_{i}"), "type": 1, "req_protocol": "HTTPS", "req_method": "GET",
        "req_uri": format!("/shop/items{i}/{{id}}"), "auth_type": "APP", "backend_type": "HTTP", "group_id": "g",
        "remark": "Read one item of the shop", "result_normal_sample": "{\"id\":\"1\"}",
        "req_params": [
            {"name": "id", "type": "STRING", "location": "PATH", "max_size": 32, "remark": "item id"},
            {"name": "verbose", "type": "NUMBER", "location": "QUERY", "min_num": 0, "max_num": 1, "default_value": "0"},
            {"name": "X-Tenant", "type": "STRING", "location": "HEADER", "required": 1}
        ],
        "backend_params": [
            {"origin": "REQUEST", "name": "id", "location": "PATH", "value": "id"},
            {"origin": "CONSTANT", "name": "X-Caller", "location": "HEADER", "value": "portico"},
            {"origin": "SYSTEM", "name": "X-Client-Ip", "location": "HEADER", "value": "$context.sourceIp"}
        ],
        "backend_api": {"url_domain": "backend.example.com:8443", "req_protocol": "HTTPS", "req_method": "GET",
                        "req_uri": "/v1/items/{id}", "timeout": 5000}
    });
    if i.is_multiple_of(10) {
        body["policy_https"] = json!([{
            "name": "vip_tenant", "effect_mode": "ANY", "url_domain": "vip.example.com:8443", "req_protocol": "HTTPS",
            "req_method": "GET", "req_uri": "/v1/items/{id}", "timeout": 5000,
            "backend_params": [{"origin": "REQUEST", "name": "id", "location": "PATH", "value": "id"}],
            "conditions": [{"condition_origin": "param", "req_param_name": "X-Tenant", "condition_type": "exact",
                            "condition_value": "vip"}]
        }]);
    }
    let mut definition = ApiDefinition::from_value(body).expect("a valid API");
    definition.prepare(None, now());
    Api { id: new_id(), status: 1, register_time: now(), update_time: now(), definition }
}

fn bench(c: &mut Criterion) {
    let apis: Vec<Api> = (0..APIS).map(api).collect();
    let mut refs: Vec<&Api> = apis.iter().collect();
    portico_openapi::sort_by_path(&mut refs);
    let (objects, names, extensions) = (ExtensionObjects::default(), HashMap::new(), Default::default());
    let export = Export {
        oas: OasVersion::V2,
        define: Define::All,
        title: "shop",
        description: Some("benchmark group"),
        version: "2026-11-23-00:00:00",
        host: "shop.apig.localhost",
        objects: &objects,
        names: &names,
        group_extensions: &extensions,
    };
    let mut json_doc = Vec::new();
    write(&export, refs.iter().copied(), Format::Json, &mut json_doc).expect("export");
    let document: serde_json::Value = serde_json::from_slice(&json_doc).expect("the export is JSON");
    eprintln!("document: {} APIs, {} bytes of JSON, {} bytes per API", APIS, json_doc.len(), json_doc.len() / APIS);

    let mut group = c.benchmark_group("export_10k_apis");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(json_doc.len() as u64));
    group.bench_function("serde_json_value_to_writer_pretty", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(json_doc.len());
            serde_json::to_writer_pretty(&mut out, black_box(&document)).expect("write");
            out
        })
    });
    group.bench_function("portico_json", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(json_doc.len());
            write(black_box(&export), refs.iter().copied(), Format::Json, &mut out).expect("write");
            out
        })
    });
    group.bench_function("portico_yaml", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(json_doc.len());
            write(black_box(&export), refs.iter().copied(), Format::Yaml, &mut out).expect("write");
            out
        })
    });
    // What a server does before writing: the store keeps each API as its JSON document, and
    // an export decodes them all. This is the floor under an end-to-end export.
    let stored: Vec<String> = apis.iter().map(|api| serde_json::to_string(api).expect("stored form")).collect();
    group.bench_function("decode_stored_apis", |b| {
        b.iter(|| {
            stored.iter().map(|doc| serde_json::from_str::<Api>(black_box(doc)).expect("decode")).collect::<Vec<_>>()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
