//! The conformance program (`examples/conformance.rs`, `socketio` mode) with the official client.
//! The test runs the example's binary: build it first
//! (`cargo build -p socketio-server --all-features --example conformance`).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::support::{Variant, each_variant, node};

/// Kills the program when the test ends, passed or not.
struct Program(Child);

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn program() -> PathBuf {
    // target/<profile>/deps/e2e_node-<hash> -> target/<profile>/examples/conformance
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("examples")
        .join(format!("conformance{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: cargo build -p socketio-server --all-features --example conformance",
        path.display()
    );
    path
}

async fn start() -> (Program, SocketAddr) {
    // A port nobody uses now; the program binds it on every interface.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(program())
        .args(["socketio", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let program = Program(child);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    for _ in 0..500 {
        if TcpStream::connect(addr).is_ok() {
            return (program, addr);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the conformance program does not listen on {addr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js, `npm ci` in crates/socketio-server/e2e and the conformance example built"]
async fn conformance_program() {
    let variants = [
        Variant::json("polling"),
        Variant::json("websocket"),
        Variant::json("upgrade"),
    ];
    each_variant(&variants, |variant| async move {
        let (_program, addr) = start().await;
        node("conformance", addr, variant, json!({})).await;
    })
    .await;
}
