//! The `portico` binary as a user runs it: its output and exit status, against a real server
//! where a command needs one.

mod import;
mod operator;
mod packaging;
mod secrets;

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
                    && event["fields"]["message"] == "management API listening"
                {
                    let _ = found.send(event["fields"]["address"].as_str().unwrap_or_default().to_owned());
                }
                lines.lock().expect("the log lock").push(line);
            }
        });
        match address.recv_timeout(Duration::from_secs(60)) {
            Ok(address) => Server { child, base_url: format!("http://{address}"), log },
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "portico serve did not log its listening address:\n{}",
                    log.lock().expect("the log lock").join("\n")
                );
            }
        }
    }

    /// What the server has written to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("the log lock").join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
