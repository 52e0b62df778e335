//! One Engine.IO connection and the sockets multiplexed on it (Node's `Client`): the task that
//! decodes its packets and routes them to namespaces.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Context;

use bytestring::ByteString;
use engineio_server::{CloseReason, Message as EngineMessage, Packet as EnginePacket, SendError};
use socketio_proto::{
    Args, Decoder, Encoded, Message, Packet, PacketData, Parser, ProtocolVersion, RawValue,
};
use tokio::time::Sleep;

use crate::handler::run_inline;
use crate::handshake::Handshake;
use crate::namespace::Namespace;
use crate::server::ServerInner;
use crate::socket::Socket;
use crate::{ConnectError, DisconnectReason, EmitError};

/// What every socket of a connection shares.
pub(crate) struct Conn {
    pub(crate) eio: engineio_server::Socket,
    pub(crate) parser: Parser,
    pub(crate) version: ProtocolVersion,
    /// The connected sockets, one per namespace (usually one in all).
    sockets: Mutex<Vec<Socket>>,
    /// Whether a namespace was ever connected (stops `connectTimeout`).
    connected_once: AtomicBool,
}

impl Conn {
    fn sockets(&self) -> MutexGuard<'_, Vec<Socket>> {
        self.sockets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues an encoded packet (and its attachments, together).
    ///
    /// A connection whose queue is full is a client that does not read: a volatile packet is
    /// dropped, anything else closes the connection (the bounded-memory policy).
    pub(crate) fn send(&self, encoded: &Encoded, volatile: bool) -> Result<(), EmitError> {
        self.send_outgoing(&Outgoing::new(encoded), volatile)
    }

    /// Queues a packet framed once for many connections (see [`Outgoing`]).
    pub(crate) fn send_outgoing(
        &self,
        outgoing: &Outgoing,
        volatile: bool,
    ) -> Result<(), EmitError> {
        let sent = match outgoing {
            Outgoing::One(packet) => self
                .eio
                .send_packet(packet.clone())
                .map_err(|error| matches!(error, SendError::Full(_))),
            Outgoing::Many(packets) => self
                .eio
                .send_packets(packets.clone())
                .map_err(|error| matches!(error, SendError::Full(_))),
        };
        match sent {
            Ok(()) => Ok(()),
            Err(true) if volatile => Ok(()),
            Err(true) => {
                tracing::debug!(engine = %self.eio.id(), "outbound queue full: closing slow consumer");
                self.eio.close_with(CloseReason::TransportError);
                Err(EmitError::SlowConsumer)
            }
            Err(false) => Err(EmitError::Closed),
        }
    }

    /// Closes the Engine.IO connection (`"forced close"` for its sockets).
    pub(crate) fn close(&self) {
        self.eio.close();
    }

    /// Disconnects every socket of this client from its namespace.
    pub(crate) fn disconnect_all(&self) {
        let sockets = self.sockets().clone();
        for socket in sockets {
            socket.disconnect(false);
        }
    }

    pub(crate) fn remove_socket(&self, socket: &Socket) {
        self.sockets().retain(|s| s != socket);
    }

    fn socket_for(&self, nsp: &str) -> Option<Socket> {
        self.sockets()
            .iter()
            .find(|s| s.namespace().name() == nsp)
            .cloned()
    }

    /// Decodes a packet this server encoded: what outgoing listeners are shown.
    pub(crate) fn decode_own(&self, encoded: &Encoded) -> Option<(ByteString, Args)> {
        let mut decoder = Decoder::new(self.parser, self.version, Default::default());
        let mut packet = None;
        for message in encoded.messages() {
            packet = decoder.decode(message).ok()?;
        }
        match packet?.data {
            PacketData::Event(event) => {
                let (name, args, _) = event.into_parts();
                Some((name, args))
            }
            _ => None,
        }
    }
}

/// An encoded packet as the engine sends it, framed once (the Engine.IO `4` written ahead of a
/// text packet) and then shared by every recipient: queuing it for one more connection copies
/// nothing (a packet with attachments costs that connection one list of shared parts).
pub(crate) enum Outgoing {
    One(EnginePacket),
    Many(Vec<EnginePacket>),
}

impl Outgoing {
    pub(crate) fn new(encoded: &Encoded) -> Self {
        if encoded.attachments.is_empty() {
            Self::One(engine_packet(&encoded.packet))
        } else {
            Self::Many(encoded.messages().map(|m| engine_packet(&m)).collect())
        }
    }
}

fn engine_packet(message: &Message) -> EnginePacket {
    match message {
        Message::Text(text) => EnginePacket::framed_message(text),
        Message::Binary(data) => EnginePacket::Binary(data.clone()),
    }
}

/// Most packets held while CONNECTs' middlewares run; beyond, the client stops being read.
const BACKLOG: usize = 64;

/// A CONNECT whose middlewares (or session recovery) are running, and the packets for its
/// namespace that arrived meanwhile (handled in order once it is done). Packets for other
/// namespaces do not wait for it.
struct PendingConnect {
    nsp: ByteString,
    future: Pin<Box<dyn Future<Output = ()> + Send>>,
    backlog: VecDeque<Packet>,
}

/// One connection's protocol state, run by the Engine.IO session's own task (an
/// [`engineio_server::Handler`]): no task or channel of its own.
pub(crate) struct Client {
    server: Arc<ServerInner>,
    conn: Arc<Conn>,
    decoder: Decoder,
    /// `connectTimeout`: armed until a namespace connects.
    connect_timer: Option<Pin<Box<Sleep>>>,
    /// CONNECTs in progress (usually none, one per namespace at most).
    pending: Vec<PendingConnect>,
}

impl Client {
    pub(crate) fn new(server: Arc<ServerInner>, eio: engineio_server::Socket) -> Self {
        let version = match eio.protocol() {
            #[cfg(feature = "v4")]
            engineio_server::ProtocolVersion::V3 => ProtocolVersion::V4,
            _ => ProtocolVersion::V5,
        };
        let parser = server.config.parser;
        let decoder = Decoder::new(parser, version, server.config.limits());
        let connect_timer = Some(Box::pin(tokio::time::sleep(server.config.connect_timeout)));
        let conn = Arc::new(Conn {
            eio,
            parser,
            version,
            sockets: Mutex::new(Vec::new()),
            connected_once: AtomicBool::new(false),
        });
        #[allow(unused_mut, reason = "v4 only")]
        let mut client = Self {
            server,
            conn,
            decoder,
            connect_timer,
            pending: Vec::new(),
        };
        #[cfg(feature = "v4")]
        if version == ProtocolVersion::V4 {
            // Socket.IO v4 clients are connected to the main namespace without asking.
            client.connect(ByteString::from_static("/"), None);
        }
        client
    }

    fn on_packet(&mut self, packet: Packet) {
        #[cfg(feature = "v4")]
        let packet = if self.conn.version == ProtocolVersion::V4 {
            let (nsp, query) = socketio_proto::split_namespace_query(&packet.nsp);
            let data = match (packet.data, query) {
                // Node (EIO3): a CONNECT's auth payload is its namespace's query.
                (PacketData::Connect(_), Some(query)) => {
                    PacketData::Connect(v4_auth(self.conn.parser, &query))
                }
                (data, _) => data,
            };
            Packet { nsp, data }
        } else {
            packet
        };
        if let Some(pending) = self.pending.iter_mut().find(|p| p.nsp == packet.nsp) {
            pending.backlog.push_back(packet);
            return;
        }
        let socket = self.conn.socket_for(&packet.nsp);
        match (packet.data, socket) {
            (PacketData::Connect(auth), None) => self.connect(packet.nsp, auth),
            (PacketData::Event(event), Some(socket)) => socket.on_event(event),
            (PacketData::Ack(ack), Some(socket)) => socket.on_ack(ack),
            (PacketData::Disconnect, Some(socket)) => {
                socket.on_close(DisconnectReason::ClientNamespaceDisconnect);
            }
            // A second CONNECT, a packet for a namespace not joined, a CONNECT_ERROR from the
            // client: Node closes the connection ("invalid state").
            _ => {
                tracing::debug!(engine = %self.conn.eio.id(), "packet in an invalid state: closing");
                self.conn.close();
            }
        }
    }

    /// A CONNECT: the namespace is resolved now; the rest (session recovery, middlewares) may
    /// wait, so it runs as a future polled by this connection's task, packets held meanwhile.
    fn connect(&mut self, nsp: ByteString, auth: Option<RawValue>) {
        let auth = auth
            .and_then(|auth| auth.to_value().ok())
            .unwrap_or_else(|| serde_json::Value::Object(Default::default()));
        let Some(ns) = self.server.namespace_for(&nsp, &auth) else {
            connect_error(&self.conn, &nsp, &ConnectError::new("Invalid namespace"));
            return;
        };
        let recovery = self.server.config.connection_state_recovery;
        let future = Box::pin(connect(self.conn.clone(), ns, nsp.clone(), auth, recovery));
        self.pending.push(PendingConnect {
            nsp,
            future,
            backlog: VecDeque::new(),
        });
    }
}

impl engineio_server::Handler for Client {
    fn on_message(&mut self, message: EngineMessage) {
        let message = match message {
            EngineMessage::Text(text) => Message::Text(text),
            EngineMessage::Binary(data) => Message::Binary(data),
        };
        match self.decoder.decode(message) {
            Ok(Some(packet)) => self.on_packet(packet),
            Ok(None) => {}
            Err(error) => {
                // Node: the client's sockets get an `error`, the connection closes.
                tracing::debug!(engine = %self.conn.eio.id(), %error, "undecodable packet");
                self.conn.close();
            }
        }
    }

    fn on_close(&mut self, reason: CloseReason) {
        self.pending.clear();
        let reason = DisconnectReason::from(reason);
        let sockets = self.conn.sockets().clone();
        for socket in sockets {
            socket.on_close(reason);
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) {
        let mut index = 0;
        while let Some(pending) = self.pending.get_mut(index) {
            if pending.future.as_mut().poll(cx).is_pending() {
                index += 1;
                continue;
            }
            // Done: its held packets go through as if they arrived now (in order; one of them
            // may start another CONNECT, which then holds the rest).
            let done = self.pending.remove(index);
            if self.pending.is_empty() {
                // Connections rarely connect again: keep nothing for it.
                self.pending = Vec::new();
            }
            for packet in done.backlog {
                self.on_packet(packet);
            }
        }
        if self.conn.connected_once.load(Ordering::Acquire) {
            self.connect_timer = None;
        } else if let Some(timer) = self.connect_timer.as_mut() {
            if timer.as_mut().poll(cx).is_ready() {
                tracing::debug!(engine = %self.conn.eio.id(), "no namespace connected in time");
                self.connect_timer = None;
                self.conn.close();
            }
        }
    }

    fn ready(&self) -> bool {
        self.pending.iter().map(|p| p.backlog.len()).sum::<usize>() < BACKLOG
    }
}

/// The query of a protocol v4 CONNECT (`/admin?token=1`) as the auth object Node makes of it.
#[cfg(feature = "v4")]
fn v4_auth(parser: socketio_proto::Parser, query: &str) -> Option<RawValue> {
    let auth: serde_json::Map<String, serde_json::Value> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = crate::handshake::percent_decode;
            (decode(key), serde_json::Value::String(decode(value)))
        })
        .collect();
    RawValue::new(parser, &auth).ok()
}

/// A new socket's id: random (not the engine id, as in Node), except for protocol v4 clients,
/// whose socket.io-client 2.x takes the engine id (`nsp#` + engine id outside `/`) as its
/// socket's id, as Node does for them.
#[cfg_attr(not(feature = "v4"), expect(unused_variables, reason = "v4 only"))]
fn new_socket_id(conn: &Conn, nsp: &str) -> ByteString {
    match conn.version {
        #[cfg(feature = "v4")]
        ProtocolVersion::V4 if nsp == "/" => ByteString::from(conn.eio.id()),
        #[cfg(feature = "v4")]
        ProtocolVersion::V4 => ByteString::from(format!("{nsp}#{}", conn.eio.id())),
        _ => engineio_server::generate_id(),
    }
}

/// The CONNECT flow (Node's `Namespace._add`): session recovery, middlewares, then the answer
/// and the connection handlers.
async fn connect(
    conn: Arc<Conn>,
    ns: Namespace,
    nsp: ByteString,
    auth: serde_json::Value,
    recovery: Option<crate::RecoveryConfig>,
) {
    let restored = match (recovery, auth.get("pid"), auth.get("offset")) {
        (
            Some(_),
            Some(serde_json::Value::String(pid)),
            Some(serde_json::Value::String(offset)),
        ) => {
            // An adapter that cannot restore means a fresh session, as in Node.
            ns.adapter()
                .restore_session(pid, offset)
                .await
                .ok()
                .flatten()
        }
        _ => None,
    };
    let handshake = Handshake::new(conn.eio.handshake().clone(), auth);
    let (id, pid) = match &restored {
        Some(restored) => (
            restored.session.sid.clone(),
            Some(restored.session.pid.clone()),
        ),
        None => (
            new_socket_id(&conn, &nsp),
            recovery.map(|_| engineio_server::generate_id()),
        ),
    };
    let recovered = restored.is_some();
    let socket = Socket::new(id, pid, ns.clone(), conn.clone(), handshake, recovered);
    ns.add_pre_connect(&socket);
    if let Some(restored) = restored {
        socket.restore(restored.session);
        // Node writes the missed packets before the CONNECT answer.
        for packet in &restored.missed {
            let _ = conn.send(packet, false);
        }
    }
    let skip_middlewares = recovered && recovery.is_some_and(|r| r.skip_middlewares);
    if !skip_middlewares {
        for middleware in ns.middlewares() {
            if let Err(error) = middleware(socket.clone()).await {
                ns.remove_pre_connect(&socket);
                socket.discard();
                connect_error(&conn, &nsp, &error);
                return;
            }
        }
    }
    ns.remove_pre_connect(&socket);
    if conn.eio.is_closed() {
        socket.discard();
        return;
    }
    socket.mark_connected();
    ns.add_socket(&socket);
    conn.sockets().push(socket.clone());
    conn.connected_once.store(true, Ordering::Release);
    match conn.version {
        #[cfg(feature = "v4")]
        ProtocolVersion::V4 => {
            if let Ok(encoded) = conn.parser.encode_connect(&nsp, None::<&()>) {
                let _ = conn.send(&encoded, false);
            }
        }
        _ => {
            let pid = socket.pid().map(|pid| &**pid);
            if let Ok(encoded) = conn.parser.encode_connect_ok(&nsp, socket.id(), pid) {
                let _ = conn.send(&encoded, false);
            }
        }
    }
    for handler in ns.connection_handlers() {
        run_inline(handler(socket.clone()));
    }
    socket.shrink_lists();
}

fn connect_error(conn: &Conn, nsp: &str, error: &ConnectError) {
    let encoded = match conn.version {
        #[cfg(feature = "v4")]
        ProtocolVersion::V4 => conn.parser.encode_connect_error_v4(nsp, &error.message),
        _ => conn
            .parser
            .encode_connect_error(nsp, &error.message, error.data.as_ref()),
    };
    if let Ok(encoded) = encoded {
        let _ = conn.send(&encoded, false);
    }
}

impl From<CloseReason> for DisconnectReason {
    fn from(reason: CloseReason) -> Self {
        match reason {
            CloseReason::TransportClose => Self::TransportClose,
            CloseReason::PingTimeout => Self::PingTimeout,
            CloseReason::ForcedClose => Self::ForcedClose,
            CloseReason::ServerShuttingDown => Self::ServerShuttingDown,
            CloseReason::ParseError => Self::ParseError,
            _ => Self::TransportError,
        }
    }
}
