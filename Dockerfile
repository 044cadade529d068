# Portico in a container: `docker build -t portico .`, then
#   docker run -p 8080:8080 -p 8081:8081 -v portico-data:/var/lib/portico portico
# The first start prints the admin's credentials (docker logs) and keeps them in the volume, in
# /var/lib/portico/credentials.toml. compose.yaml runs two nodes on PostgreSQL. A test
# (crates/cli/tests/cli/packaging.rs) checks the paths, ports and settings named here.

# The builder and the runtime are the same Debian release, so the binary finds the glibc it was
# linked against. The Rust version is the workspace's rust-version.
FROM rust:1.94-slim-trixie AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates crates
RUN cargo build --release --locked -p portico

FROM debian:trixie-slim
# ca-certificates for HTTPS backends' system roots, curl for the health check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --home-dir /var/lib/portico --shell /usr/sbin/nologin portico \
    && install -d -o portico -g portico -m 0700 /var/lib/portico
COPY --from=builder /src/target/release/portico /usr/bin/portico
COPY portico.example.toml /usr/share/doc/portico/portico.example.toml

# Listen on every interface of the container; the data directory is the volume.
ENV PORTICO_LISTEN=0.0.0.0:8080 \
    PORTICO_GATEWAY_LISTEN=0.0.0.0:8081 \
    PORTICO_DATA_DIR=/var/lib/portico \
    PORTICO_LOG_FORMAT=json
USER portico
WORKDIR /var/lib/portico
VOLUME /var/lib/portico
# 8080: management API and console (/console/), /metrics; 8081: the gateway serving published APIs.
EXPOSE 8080 8081
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS --max-time 2 http://127.0.0.1:8080/health || exit 1
ENTRYPOINT ["/usr/bin/portico"]
CMD ["serve"]
