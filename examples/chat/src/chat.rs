//! The chat itself, on the Socket.IO side: who is online, channels with their recent history,
//! messages to a channel or to one person, typing indicators, join and leave notices.
//!
//! # Wire protocol (what `public/app.js` speaks)
//!
//! Conversations are named `#channel` or `@nickname`. The client connects with
//! `auth: {token, nickname, channels}` (no nickname: a guest one): `token` is a random secret of the browser tab (a tab that
//! reconnects with the same token takes its nickname back), `channels` the channels to be in
//! (so that after a server restart the tab is put back where it was).
//!
//! | client → server | arguments | acknowledgement |
//! | --- | --- | --- |
//! | `message` | `{to, text}` | `{id, ts, delivered}` or `{error}` |
//! | `typing` | `{to, typing}` | |
//! | `join` / `leave` | channel name | `{channel, history}` or `{error}` |
//!
//! | server → client | arguments |
//! | --- | --- |
//! | `welcome` | `{nickname, users, channels, history}` (history per joined channel) |
//! | `message` | `{id, from, to, text, ts}`; acknowledged by the client for private messages |
//! | `typing` | `{from, to, typing}` (volatile) |
//! | `users` | the nicknames online |
//! | `channels` | `[{name, members}]` |
//! | `user joined` / `user left` | `{nickname}` |
//! | `channel joined` / `channel left` | `{channel, nickname}` |
//!
//! Everything a client can make the server keep is bounded: history per channel, channels in
//! all, channels per user, message length.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::json;
use socketio_server::{Ack, ConnectError, Data, DisconnectReason, Server, Socket};

/// The channel everyone is in: "messages to everyone".
pub(crate) const LOBBY: &str = "general";
const HISTORY: usize = 50;
const MAX_CHANNELS: usize = 100;
const MAX_CHANNELS_PER_USER: usize = 20;
const MAX_NAME: usize = 20;
const MAX_TEXT: usize = 2000;
/// How long a private message waits for the recipient's browser to confirm it.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The chat's shared state. One lock, never held across an `.await` or while emitting.
pub(crate) struct Chat {
    io: Server,
    state: Mutex<State>,
    /// Message ids are unique across restarts (clients keep messages of the previous run).
    boot: u64,
    next_id: AtomicU64,
    next_guest: AtomicU64,
}

#[derive(Default)]
struct State {
    /// By lowercase nickname.
    users: HashMap<String, User>,
    channels: HashMap<String, Channel>,
}

struct User {
    nickname: String,
    token: String,
    socket: String,
    channels: BTreeSet<String>,
}

#[derive(Default)]
struct Channel {
    history: VecDeque<Message>,
}

/// What the socket carries: who it is.
#[derive(Clone)]
struct Session {
    nickname: String,
    token: String,
    /// The channels asked for in the handshake.
    channels: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
struct Message {
    id: String,
    from: String,
    to: String,
    text: String,
    ts: u64,
}

#[derive(Debug, Deserialize)]
struct Auth {
    #[serde(default)]
    token: String,
    #[serde(default)]
    nickname: String,
    #[serde(default)]
    channels: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Outgoing {
    to: String,
    text: String,
}

#[derive(Debug, Deserialize)]
struct Typing {
    to: String,
    typing: bool,
}

#[derive(Debug, Serialize)]
struct ChannelInfo {
    name: String,
    members: Vec<String>,
}

/// Where a message goes.
enum Target {
    Channel(String),
    User(String),
}

impl Target {
    fn parse(to: &str) -> Result<Self, String> {
        if let Some(name) = to.strip_prefix('#') {
            channel_name(name).map(Target::Channel)
        } else if let Some(nickname) = to.strip_prefix('@') {
            Ok(Target::User(nickname.to_owned()))
        } else {
            Err(format!("unknown conversation {to:?}"))
        }
    }
}

/// The Socket.IO room of a channel.
fn room(channel: &str) -> String {
    format!("#{channel}")
}

/// Nicknames: 1 to 20 letters, digits, `_`, `-` or `.`.
fn nickname(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("pick a nickname".into());
    }
    if name.chars().count() > MAX_NAME {
        return Err(format!("nicknames have at most {MAX_NAME} characters"));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err("nicknames use letters, digits, _ - and . only".into());
    }
    Ok(name.to_owned())
}

/// Channel names: 1 to 20 lowercase ASCII letters, digits, `_` or `-`.
fn channel_name(raw: &str) -> Result<String, String> {
    let name = raw.trim().trim_start_matches('#').to_ascii_lowercase();
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(format!("channel names have 1 to {MAX_NAME} characters"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
    {
        return Err("channel names use a-z, 0-9, _ and - only".into());
    }
    Ok(name)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn error(message: impl Into<String>) -> serde_json::Value {
    json!({ "error": message.into() })
}

impl Chat {
    /// Sets the chat up on the main namespace of `io`.
    pub(crate) fn attach(io: &Server) -> Arc<Chat> {
        let mut state = State::default();
        state.channels.insert(LOBBY.to_owned(), Channel::default());
        let chat = Arc::new(Chat {
            io: io.clone(),
            state: Mutex::new(state),
            boot: now_ms(),
            next_id: AtomicU64::new(1),
            next_guest: AtomicU64::new(1),
        });

        // Refused here, the client's `connect_error` shows why, and it does not retry.
        let check = chat.clone();
        io.use_middleware(move |socket: Socket| {
            let result = check.admit(&socket);
            async move { result }
        });

        let on_connect = chat.clone();
        io.on_connection(move |socket: Socket| {
            on_connect.clone().connected(socket);
            async {}
        });
        chat
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The connection middleware: a valid nickname that nobody else holds.
    fn admit(&self, socket: &Socket) -> Result<(), ConnectError> {
        let auth: Auth = serde_json::from_value(socket.handshake().auth().clone())
            .map_err(|_| ConnectError::new("malformed auth payload"))?;
        // Clients that do not ask for a nickname (a command-line client) get a guest one.
        let nickname = if auth.nickname.trim().is_empty() {
            format!("guest{}", self.next_guest.fetch_add(1, Ordering::Relaxed))
        } else {
            nickname(&auth.nickname).map_err(ConnectError::new)?
        };
        if auth.token.len() < 8 || auth.token.len() > 64 {
            return Err(ConnectError::new("missing session token"));
        }
        if let Some(user) = self.state().users.get(&nickname.to_lowercase()) {
            if user.token != auth.token {
                return Err(ConnectError::new(format!("{} is taken", user.nickname)));
            }
        }
        socket.set_data(Session {
            nickname,
            token: auth.token,
            channels: auth.channels,
        });
        Ok(())
    }

    /// A socket passed the middleware: it becomes the user, joins its channels and learns
    /// the state of the chat.
    fn connected(self: Arc<Self>, socket: Socket) {
        let Some(session) = socket.data::<Session>() else {
            return;
        };
        let key = session.nickname.to_lowercase();

        let (replaced, channels, history) = {
            let mut state = self.state();
            // Two tabs racing for one nickname both pass the middleware; the first one wins.
            if let Some(user) = state.users.get(&key) {
                if user.token != session.token {
                    drop(state);
                    let _ = socket.emit("fatal", &error(format!("{} is taken", session.nickname)));
                    socket.disconnect(false);
                    return;
                }
            }
            let mut channels = BTreeSet::from([LOBBY.to_owned()]);
            for name in session.channels.iter().filter_map(|c| channel_name(c).ok()) {
                if channels.len() >= MAX_CHANNELS_PER_USER {
                    break;
                }
                if state.channels.contains_key(&name) || state.channels.len() < MAX_CHANNELS {
                    state.channels.entry(name.clone()).or_default();
                    channels.insert(name);
                }
            }
            let history: HashMap<String, Vec<Message>> = channels
                .iter()
                .map(|name| {
                    let messages = state
                        .channels
                        .get(name)
                        .map(|c| c.history.iter().cloned().collect())
                        .unwrap_or_default();
                    (room(name), messages)
                })
                .collect();
            // The same tab coming back (its old connection not yet timed out): take over.
            let replaced = state
                .users
                .insert(
                    key.clone(),
                    User {
                        nickname: session.nickname.clone(),
                        token: session.token.clone(),
                        socket: socket.id().to_owned(),
                        channels: channels.clone(),
                    },
                )
                .map(|old| old.socket);
            (replaced, channels, history)
        };
        if let Some(old) = replaced.and_then(|id| self.io.sockets().socket(&id)) {
            old.disconnect(false);
        }
        for channel in &channels {
            socket.join(room(channel));
        }
        tracing::info!(nickname = %session.nickname, socket = %socket.id(), ?channels, "connected");

        let _ = socket.emit(
            "welcome",
            &json!({
                "nickname": session.nickname,
                "users": self.users(),
                "channels": self.channels(),
                "history": history,
            }),
        );
        let _ = socket
            .broadcast()
            .emit("user joined", &json!({ "nickname": session.nickname }));
        for channel in channels.iter().filter(|c| *c != LOBBY) {
            let _ = socket.to(room(channel)).emit(
                "channel joined",
                &json!({ "channel": room(channel), "nickname": session.nickname }),
            );
        }
        self.publish_users();
        self.publish_channels();

        let chat = self.clone();
        socket.on(
            "message",
            move |socket: Socket, Data(message): Data<Outgoing>, ack: Ack| {
                let chat = chat.clone();
                async move {
                    let answer = chat.message(&socket, message).await;
                    let _ = ack.send(&answer);
                }
            },
        );
        let chat = self.clone();
        socket.on(
            "typing",
            move |socket: Socket, Data(typing): Data<Typing>| {
                chat.typing(&socket, typing);
                async {}
            },
        );
        let chat = self.clone();
        socket.on(
            "join",
            move |socket: Socket, Data(name): Data<String>, ack: Ack| {
                let _ = ack.send(&chat.join(&socket, &name));
                async {}
            },
        );
        let chat = self.clone();
        socket.on(
            "leave",
            move |socket: Socket, Data(name): Data<String>, ack: Ack| {
                let _ = ack.send(&chat.leave(&socket, &name));
                async {}
            },
        );
        let chat = self;
        socket.on_disconnect(move |socket: Socket, reason: DisconnectReason| {
            chat.disconnected(&socket, reason);
            async {}
        });
    }

    fn session(socket: &Socket) -> Option<Session> {
        socket.data::<Session>()
    }

    async fn message(&self, socket: &Socket, message: Outgoing) -> serde_json::Value {
        let Some(session) = Self::session(socket) else {
            return error("not logged in");
        };
        let text = message.text.trim_end();
        if text.trim().is_empty() {
            return error("empty message");
        }
        if text.chars().count() > MAX_TEXT {
            return error(format!("messages have at most {MAX_TEXT} characters"));
        }
        let target = match Target::parse(&message.to) {
            Ok(target) => target,
            Err(e) => return error(e),
        };
        let id = format!(
            "{:x}-{}",
            self.boot,
            self.next_id.fetch_add(1, Ordering::Relaxed)
        );
        let ts = now_ms();
        match target {
            Target::Channel(channel) => {
                let room = room(&channel);
                if !socket.in_room(&room) {
                    return error(format!("join {room} first"));
                }
                let message = Message {
                    id: id.clone(),
                    from: session.nickname,
                    to: room.clone(),
                    text: text.to_owned(),
                    ts,
                };
                tracing::debug!(from = %message.from, to = %room, "message");
                if let Some(channel) = self.state().channels.get_mut(&channel) {
                    if channel.history.len() == HISTORY {
                        channel.history.pop_front();
                    }
                    channel.history.push_back(message.clone());
                }
                let _ = socket.to(room).emit("message", &message);
                json!({ "id": id, "ts": ts, "delivered": true })
            }
            Target::User(nickname) => {
                let recipient = self
                    .state()
                    .users
                    .get(&nickname.to_lowercase())
                    .map(|u| (u.nickname.clone(), u.socket.clone()));
                let Some((nickname, recipient)) = recipient else {
                    return error(format!("{nickname} is not online"));
                };
                if recipient == socket.id() {
                    return error("that is you");
                }
                let Some(recipient) = self.io.sockets().socket(&recipient) else {
                    return error(format!("{nickname} is not online"));
                };
                let message = Message {
                    id: id.clone(),
                    from: session.nickname,
                    to: format!("@{nickname}"),
                    text: text.to_owned(),
                    ts,
                };
                tracing::debug!(from = %message.from, to = %message.to, "private message");
                // Delivered means the recipient's page has it: its client acknowledges.
                let delivered = recipient
                    .emit_with_ack::<_, serde_json::Value>("message", &message)
                    .timeout(DELIVERY_TIMEOUT)
                    .await
                    .is_ok();
                json!({ "id": id, "ts": ts, "delivered": delivered })
            }
        }
    }

    fn typing(&self, socket: &Socket, typing: Typing) {
        let Some(session) = Self::session(socket) else {
            return;
        };
        let Ok(target) = Target::parse(&typing.to) else {
            return;
        };
        let notice = json!({ "from": session.nickname, "to": typing.to, "typing": typing.typing });
        // Volatile: a typing indicator that cannot be sent now is worthless later.
        match target {
            Target::Channel(channel) => {
                let room = room(&channel);
                if socket.in_room(&room) {
                    let _ = socket.to(room).volatile().emit("typing", &notice);
                }
            }
            Target::User(nickname) => {
                let recipient = self
                    .state()
                    .users
                    .get(&nickname.to_lowercase())
                    .map(|u| u.socket.clone());
                if let Some(recipient) = recipient {
                    let _ = socket.to(recipient).volatile().emit("typing", &notice);
                }
            }
        }
    }

    fn join(&self, socket: &Socket, name: &str) -> serde_json::Value {
        let Some(session) = Self::session(socket) else {
            return error("not logged in");
        };
        let channel = match channel_name(name) {
            Ok(channel) => channel,
            Err(e) => return error(e),
        };
        let history: Vec<Message> = {
            let mut state = self.state();
            let known = state.channels.contains_key(&channel);
            if !known && state.channels.len() >= MAX_CHANNELS {
                return error("too many channels");
            }
            let Some(user) = state.users.get_mut(&session.nickname.to_lowercase()) else {
                return error("not logged in");
            };
            if !user.channels.contains(&channel) && user.channels.len() >= MAX_CHANNELS_PER_USER {
                return error(format!("at most {MAX_CHANNELS_PER_USER} channels at once"));
            }
            user.channels.insert(channel.clone());
            state
                .channels
                .entry(channel.clone())
                .or_default()
                .history
                .iter()
                .cloned()
                .collect()
        };
        let room = room(&channel);
        if !socket.in_room(&room) {
            socket.join(room.clone());
            tracing::info!(nickname = %session.nickname, channel = %room, "joined");
            let _ = socket.to(room.clone()).emit(
                "channel joined",
                &json!({ "channel": room, "nickname": session.nickname }),
            );
            self.publish_channels();
        }
        json!({ "channel": room, "history": history })
    }

    fn leave(&self, socket: &Socket, name: &str) -> serde_json::Value {
        let Some(session) = Self::session(socket) else {
            return error("not logged in");
        };
        let channel = match channel_name(name) {
            Ok(channel) => channel,
            Err(e) => return error(e),
        };
        if channel == LOBBY {
            return error(format!("everyone stays in #{LOBBY}"));
        }
        let room = room(&channel);
        if socket.in_room(&room) {
            socket.leave(&room);
            if let Some(user) = self.state().users.get_mut(&session.nickname.to_lowercase()) {
                user.channels.remove(&channel);
            }
            tracing::info!(nickname = %session.nickname, channel = %room, "left");
            let _ = self.io.to(room.clone()).emit(
                "channel left",
                &json!({ "channel": room, "nickname": session.nickname }),
            );
            self.forget_empty_channels();
            self.publish_channels();
        }
        json!({ "channel": room })
    }

    fn disconnected(&self, socket: &Socket, reason: DisconnectReason) {
        let Some(session) = Self::session(socket) else {
            return;
        };
        let key = session.nickname.to_lowercase();
        let channels = {
            let mut state = self.state();
            // A tab that came back already replaced this socket: it keeps the nickname.
            if state
                .users
                .get(&key)
                .is_none_or(|u| u.socket != socket.id())
            {
                return;
            }
            state.users.remove(&key).map(|u| u.channels)
        };
        tracing::info!(nickname = %session.nickname, %reason, "disconnected");
        for channel in channels.iter().flatten().filter(|c| *c != LOBBY) {
            let _ = self.io.to(room(channel)).emit(
                "channel left",
                &json!({ "channel": room(channel), "nickname": session.nickname }),
            );
        }
        let _ = self
            .io
            .emit("user left", &json!({ "nickname": session.nickname }));
        self.forget_empty_channels();
        self.publish_users();
        self.publish_channels();
    }

    /// Channels nobody is in any more go, with their history (except the lobby).
    fn forget_empty_channels(&self) {
        let mut state = self.state();
        let used: BTreeSet<String> = state
            .users
            .values()
            .flat_map(|u| u.channels.iter().cloned())
            .collect();
        state
            .channels
            .retain(|name, _| name == LOBBY || used.contains(name));
    }

    fn users(&self) -> Vec<String> {
        let mut users: Vec<String> = self
            .state()
            .users
            .values()
            .map(|u| u.nickname.clone())
            .collect();
        users.sort_by_key(|n| n.to_lowercase());
        users
    }

    fn channels(&self) -> Vec<ChannelInfo> {
        let state = self.state();
        let mut channels: Vec<ChannelInfo> = state
            .channels
            .keys()
            .map(|name| {
                let mut members: Vec<String> = state
                    .users
                    .values()
                    .filter(|u| u.channels.contains(name))
                    .map(|u| u.nickname.clone())
                    .collect();
                members.sort_by_key(|n| n.to_lowercase());
                ChannelInfo {
                    name: room(name),
                    members,
                }
            })
            .collect();
        channels.sort_by(|a, b| a.name.cmp(&b.name));
        channels
    }

    // The lists describe this server's state: with several servers (`--redis`), each tells only
    // its own clients, instead of every server overwriting the others' lists.
    fn publish_users(&self) {
        let _ = self.io.local().emit("users", &(self.users(),));
    }

    fn publish_channels(&self) {
        let _ = self.io.local().emit("channels", &(self.channels(),));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(nickname("  alice ").unwrap(), "alice");
        assert!(nickname("").is_err());
        assert!(nickname("a b").is_err());
        assert!(nickname("<script>").is_err());
        assert!(nickname(&"x".repeat(21)).is_err());
        assert_eq!(channel_name("#Rust").unwrap(), "rust");
        assert!(channel_name("two words").is_err());
        assert!(channel_name("").is_err());
        assert!(matches!(Target::parse("#general"), Ok(Target::Channel(c)) if c == "general"));
        assert!(matches!(Target::parse("@bob"), Ok(Target::User(u)) if u == "bob"));
        assert!(Target::parse("bob").is_err());
    }
}
