//! Integration tests of the management API: a real server on a loopback port, a real SQLite
//! file, requests signed exactly as the Huawei Cloud SDK signs them. One binary, one module per
//! feature; `helpers` holds `spawn_app()` and the typed client.

mod acls;
mod apis;
mod apps;
mod auth;
mod authorizers;
mod compare;
mod dataservice;
mod document;
mod envs;
mod every_route;
mod gateway_responses;
mod groups;
mod helpers;
mod instances;
mod isolation;
mod livedata;
mod openapi;
mod publish;
mod signatures;
mod throttles;
mod variables;
mod vpc_channels;
