//! An Engine.IO server (protocol v4; v3 behind the `v3` feature) over hyper 1 and tokio, wire
//! compatible with Node's `engine.io`: HTTP long-polling, WebSocket, the upgrade between them,
//! heartbeat and close, driven by the sans-IO [`engineio_proto::Session`].
//!
//! ```text
//!  TCP ─ hyper ─ EngineIo::handle ─┬─ handshake ─────────► new Session + its task ─► on_connection(Socket, Events)
//!                                  ├─ GET / POST (sid) ──► Command::Poll / Post ──┐
//!                                  └─ WebSocket (sid) ───► Command::WebSocket ────┤
//!  Socket::send / close ─────────────────────────────────► Command::Send / Close ─┴─► session task
//!                                                             (owns Session, the WebSocket, the held GET, the timer)
//! ```
//!
//! # Design
//!
//! - **One task per session** owns the [`engineio_proto::Session`], the session's WebSocket and
//!   its held polling GET, so nothing is locked. HTTP handlers and [`Socket`] handles reach it
//!   through one bounded channel ([`Config::command_capacity`]); a GET or POST is answered
//!   through a one-shot channel. The session table (sid to channel) is a std mutex held only to
//!   insert, look up and remove.
//! - **Timers**: each task sleeps until the session's `poll_timeout` (one tokio timer per session).
//! - **Backpressure**: outbound, the session queue is bounded ([`Config::max_queued_packets`],
//!   [`Config::max_queued_bytes`]); a client that does not read until it overflows is closed with
//!   `"transport error"`; a WebSocket write that makes no progress for `pingInterval +
//!   pingTimeout` ends the transport. Inbound, at most [`Config::max_pending_events`] events wait
//!   for the application: beyond that the task stops reading the WebSocket and pauses feeding the
//!   POST in progress (its `ok` waits); request bodies are read up to `maxHttpBufferSize` and no
//!   further (413 beyond).
//! - **WebSocket**: `tokio-tungstenite`, behind a small internal seam (`ws.rs`).
//!
//! # Example
//!
//! ```no_run
//! use engineio_server::{Config, EngineIo, SocketEvent};
//!
//! # async fn run() -> std::io::Result<()> {
//! let engine = EngineIo::new(Config::default(), |socket, mut events| {
//!     tokio::spawn(async move {
//!         while let Some(event) = events.recv().await {
//!             match event {
//!                 SocketEvent::Message(message) => { let _ = socket.send(message); }
//!                 SocketEvent::Closed(reason) => println!("{} closed: {reason}", socket.id()),
//!                 _ => {}
//!             }
//!         }
//!     });
//! });
//! engine.listen(([127, 0, 0, 1], 3000).into()).await
//! # }
//! ```

mod app;
mod config;
mod driver;
mod http_util;
mod queue;
mod server;
mod socket;
mod ws;

pub use app::{Events, Handler};
pub use config::{Config, Cookie, Cors, CorsOrigin, OriginPredicate};
pub use engineio_proto::session::CloseReason;
pub use engineio_proto::{Packet, ProtocolVersion, Str, TransportKind};
pub use http_util::{ErrorCode, Refusal, ResponseBody, generate_id, percent_decode};
pub use server::{Builder, EngineIo, EngineIoLayer, EngineIoService, RequestInfo, RequestParts};
pub use socket::{Handshake, Message, RemoteAddr, Secure, SendError, Socket, SocketEvent};
