//! Integration tests of the data plane: a real gateway on a loopback port over a real SQLite
//! store, real echo backends, real HTTP requests. One binary, one module per feature.

mod auth;
mod backends;
mod bodies;
mod channels;
mod client_addresses;
mod domains;
mod helpers;
mod listeners;
mod metrics;
mod params;
mod policies;
mod probes;
mod routing;
mod tls;
