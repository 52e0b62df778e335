//! Example 8b, serving under plain hyper 1: a connection loop of your own, and one service
//! that hands Socket.IO requests to the server and answers the others itself.
//!
//! ```text
//! cargo run -p example-hyper
//! node examples/client.mjs          # then type: hello "hyper"
//! curl http://127.0.0.1:3000/       # the plain HTTP side
//! ```
//!
//! What the server needs from the HTTP stack: every request under `/socket.io/`, and
//! `with_upgrades()` so that WebSocket upgrades work. The peer address, passed as a request
//! extension, becomes `socket.handshake().address()`.

use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use socketio_server::{Data, RemoteAddr, Server, Socket};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let io = Server::new();
    io.on_connection(|socket: Socket| async move {
        let _ = socket.emit(
            "hello",
            &format!("you come from {:?}", socket.handshake().address()),
        );
        socket.on(
            "hello",
            |socket: Socket, Data(text): Data<String>| async move {
                let _ = socket.emit("hello", &format!("hyper says hi back to {text}"));
            },
        );
    });

    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://127.0.0.1:{port}");
    loop {
        let (stream, peer) = listener.accept().await?;
        let engine = io.engine().clone();
        tokio::spawn(async move {
            let service = service_fn(move |mut request: Request<Incoming>| {
                let engine = engine.clone();
                async move {
                    if engine.matches(&request) {
                        request.extensions_mut().insert(RemoteAddr(peer));
                        return Ok::<_, Infallible>(engine.handle(request).await);
                    }
                    Ok(Response::new(Full::new(Bytes::from_static(
                        b"plain hyper here; Socket.IO lives under /socket.io/\n",
                    ))))
                }
            });
            let connection = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            if let Err(error) = connection.await {
                eprintln!("connection from {peer}: {error}");
            }
        });
    }
}
