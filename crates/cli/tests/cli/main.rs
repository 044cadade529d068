//! The `portico` binary as a user runs it: its output and exit status, against a real server
//! where a command needs one.

mod backup;
mod client_addresses;
mod import;
mod operator;
mod packaging;
mod postgres;
mod secrets;
mod tls;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// The binary under test, with no `PORTICO_*` settings inherited from the environment.
pub fn portico() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portico"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PORTICO_") {
            command.env_remove(name);
        }
    }
    command.env("NO_COLOR", "1").stdin(Stdio::null());
    command
}

/// stdout and stderr of a finished command, as text.
pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// `portico serve` on free loopback ports, stopped when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT` of the management API.
    pub base_url: String,
    /// `http://127.0.0.1:PORT` of the gateway.
    pub gateway_url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts a server on `data_dir` (SQLite unless `args` say otherwise) and waits until it
    /// listens.
    pub fn start(data_dir: &Path, args: &[&str]) -> Server {
        let mut child = portico()
            .args(["serve", "--listen", "127.0.0.1:0", "--gateway-listen", "127.0.0.1:0", "--log-format", "json"])
            .arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("portico serve starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (found, address) = mpsc::channel();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line)
                    && let Some(listener @ ("management API listening" | "gateway listening")) =
                        event["fields"]["message"].as_str()
                {
                    let address = event["fields"]["address"].as_str().unwrap_or_default();
                    let _ = found.send((listener == "gateway listening", format!("http://{address}")));
                }
                lines.lock().expect("the log lock").push(line);
            }
        });
        let listening = (0..2).map(|_| address.recv_timeout(Duration::from_secs(60))).collect::<Result<Vec<_>, _>>();
        match listening {
            Ok(addresses) => {
                let url = |gateway: bool| addresses.iter().find(|(g, _)| *g == gateway).map(|(_, url)| url.clone());
                Server { child, base_url: url(false).unwrap(), gateway_url: url(true).unwrap(), log }
            }
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "portico serve did not log its listening address:\n{}",
                    log.lock().expect("the log lock").join("\n")
                );
            }
        }
    }

    /// Sends SIGTERM and waits up to `deadline` for the server to exit: whether it did.
    pub fn terminate(&mut self, deadline: Duration) -> bool {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(sent.success(), "SIGTERM sent");
        exited_within(&mut self.child, deadline)
    }

    /// What the server has written to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("the log lock").join("\n")
    }
}

/// Whether `child` exits within `deadline`.
pub fn exited_within(child: &mut Child, deadline: Duration) -> bool {
    let started = std::time::Instant::now();
    while started.elapsed() < deadline {
        if child.try_wait().expect("the child's status").is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
