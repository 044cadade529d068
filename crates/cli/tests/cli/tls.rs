//! The management listener over TLS, and the remote commands as its https clients, with a
//! certificate authority made here.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

use crate::{Server, portico, text};

/// A private CA's certificate, and a certificate it signed for 127.0.0.1 and localhost with its
/// key, as PEM files in `dir`: (ca, cert, key).
fn private_ca(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, format!("{name} test CA"));
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let paths = (dir.join(format!("{name}-ca.pem")), dir.join(format!("{name}.pem")), dir.join(format!("{name}.key")));
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

#[test]
fn import_and_export_speak_https_to_a_listener_with_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let (ca, cert, key) = private_ca(dir.path(), "server");
    let (other_ca, _, _) = private_ca(dir.path(), "other");
    let server = Server::start(&data_dir, &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()]);
    let url = server.base_url.replacen("http://", "https://", 1);
    let remote = |args: &[&str], ca: Option<&Path>| {
        let mut command = portico();
        command.args(args).arg("--data-dir").arg(&data_dir).args(["--server", &url]);
        if let Some(ca) = ca {
            command.arg("--ca-cert").arg(ca);
        }
        command.output().unwrap()
    };

    let document = dir.path().join("shop.yaml");
    std::fs::write(
        &document,
        "swagger: \"2.0\"\ninfo: {title: tls_shop, version: \"1\"}\npaths:\n  /good:\n    get:\n      responses: {default: {description: ok}}\n",
    )
    .unwrap();
    let imported = remote(&["import", document.to_str().unwrap()], Some(&ca));
    assert!(imported.status.success(), "{}", text(&imported));
    let exported_file = dir.path().join("exported.json");
    let exported =
        remote(&["export", "--group", "tls_shop", "--define", "dev", "-o", exported_file.to_str().unwrap()], Some(&ca));
    assert!(exported.status.success(), "{}", text(&exported));
    assert!(std::fs::read_to_string(&exported_file).unwrap().contains("/good"));

    // A certificate that the given CA, or the public ones, did not sign is refused, and said so.
    for wrong in [Some(other_ca.as_path()), None] {
        let refused = remote(&["export", "--group", "tls_shop"], wrong);
        assert!(!refused.status.success(), "{}", text(&refused));
        let printed = text(&refused);
        assert!(
            printed.contains("TLS with 127.0.0.1") && printed.contains("invalid peer certificate: UnknownIssuer"),
            "{printed}"
        );
    }
    // The listener speaks TLS only.
    let plain = portico()
        .args(["export", "--group", "tls_shop", "--data-dir"])
        .arg(&data_dir)
        .args(["--server", &server.base_url])
        .output()
        .unwrap();
    assert!(!plain.status.success(), "{}", text(&plain));
}
