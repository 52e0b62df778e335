//! A command-line client for the chat example (`examples/chat`), or any server speaking its
//! protocol (documented in `examples/chat/src/chat.rs`):
//!
//! ```text
//! cargo run -p chat -- --port 3000                                   # the server
//! cargo run -p socketio-client --example chat-cli -- --nick alice    # this client
//! ```
//!
//! Type a line to send it to the current conversation (`#general` at first). Commands:
//! `/to #channel` or `/to @nickname` switches conversation, `/join #channel`, `/leave #channel`,
//! `/msg @nickname text`, `/quit`.
//!
//! The protocol: the client connects with `auth: {token, nickname, channels}`; it emits
//! `message {to, text}` (acknowledged with `{id, ts, delivered}` or `{error}`), `typing`,
//! `join` / `leave` (acknowledged with `{channel, history}` or `{error}`); it hears `welcome`,
//! `message {id, from, to, text, ts}` (acknowledging private ones), `users`, `user joined`,
//! `user left`, `channel joined`, `channel left`. When the connection drops it reconnects
//! with the same token, so the server gives the nickname back.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use socketio_client::{Ack, Client, Data, Socket};
use tokio::io::{AsyncBufReadExt, BufReader};

const USAGE: &str = "usage: chat-cli [--url URL] [--nick NICKNAME]
  --url URL        the chat server (default http://127.0.0.1:3000)
  --nick NICKNAME  the nickname to ask for (default: one the server picks)";

#[derive(Debug, Deserialize)]
struct Message {
    from: String,
    to: String,
    text: String,
}

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("chat-cli: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut url = "http://127.0.0.1:3000".to_owned();
    let mut nickname = String::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => url = args.next().ok_or(USAGE)?,
            "--nick" => nickname = args.next().ok_or(USAGE)?,
            _ => return Err(USAGE.into()),
        }
    }
    // The token lets the server give our nickname back after a reconnection.
    let token: String = (0..16).map(|_| fastrand::alphanumeric()).collect();
    // Channels we are in, sent again in `auth` at every (re)connection.
    let channels = Arc::new(Mutex::new(vec!["general".to_owned()]));
    let auth_channels = channels.clone();
    let socket = Client::builder(&url)
        .auth_fn(move || {
            let channels = auth_channels.lock().map(|c| c.clone()).unwrap_or_default();
            let auth = json!({ "token": token, "nickname": nickname, "channels": channels });
            async move { auth }
        })
        .socket()?;
    listen(&socket);
    println!("connecting to {url}…");
    socket.connect().await?;

    let mut current = "#general".to_owned();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let line = line.trim();
        let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
        let rest = rest.trim();
        match command {
            "" => {}
            "/quit" => break,
            "/to" if !rest.is_empty() => {
                current = rest.to_owned();
                println!("* now talking to {current}");
            }
            "/msg" => match rest.split_once(' ') {
                Some((to, text)) => send(&socket, to, text).await,
                None => println!("* usage: /msg @nickname text"),
            },
            "/join" | "/leave" if !rest.is_empty() => {
                let event = &command[1..];
                let answer: Result<Value, _> = socket
                    .timeout(Duration::from_secs(5))
                    .emit_with_ack(event, &rest)
                    .await;
                match answer {
                    Ok(answer) if answer.get("error").is_none() => {
                        let name = rest.trim_start_matches('#').to_owned();
                        if let Ok(mut channels) = channels.lock() {
                            channels.retain(|c| *c != name);
                            if event == "join" {
                                channels.push(name);
                            }
                        }
                        println!("* {event}ed {rest}");
                        if event == "join" {
                            print_history(&answer["history"]);
                        }
                    }
                    Ok(answer) => println!("* cannot {event} {rest}: {}", answer["error"]),
                    Err(error) => println!("* cannot {event} {rest}: {error}"),
                }
            }
            _ if command.starts_with('/') => println!("* unknown command {command}"),
            _ => send(&socket, &current, line).await,
        }
    }
    socket.disconnect();
    Ok(())
}

/// Sends a message and reports the server's answer.
async fn send(socket: &Socket, to: &str, text: &str) {
    let answer: Result<Value, _> = socket
        .timeout(Duration::from_secs(5))
        .emit_with_ack("message", &json!({ "to": to, "text": text }))
        .await;
    match answer {
        Ok(answer) if answer.get("error").is_some() => {
            println!("* not sent: {}", answer["error"]);
        }
        Ok(answer) if answer["delivered"] == false => println!("* {to} did not confirm"),
        Ok(_) => {}
        Err(error) => println!("* not sent: {error}"),
    }
}

fn listen(socket: &Socket) {
    socket.on_connect(|socket: Socket| async move {
        let how = if socket.recovered() {
            " (session recovered)"
        } else {
            ""
        };
        println!("* connected{how}");
    });
    socket.on_disconnect(|_, reason| async move {
        println!("* disconnected: {reason}");
    });
    socket.on_connect_error(|_, error| async move {
        println!("* cannot connect: {error}");
    });
    socket.on("welcome", |Data(welcome): Data<Value>| async move {
        println!(
            "* welcome, {}! online: {}",
            welcome["nickname"].as_str().unwrap_or("?"),
            list(&welcome["users"])
        );
        if let Some(history) = welcome["history"].as_object() {
            for messages in history.values() {
                print_history(messages);
            }
        }
    });
    socket.on(
        "message",
        |Data(message): Data<Message>, ack: Ack| async move {
            print_message(&message);
            // Private messages ask for a confirmation: the sender then sees them as delivered.
            let _ = ack.send(&"ok");
        },
    );
    socket.on("users", |Data(users): Data<Value>| async move {
        println!("* online: {}", list(&users));
    });
    for (event, verb) in [("user joined", "joined"), ("user left", "left")] {
        socket.on(event, move |Data(user): Data<Value>| async move {
            println!("* {} {verb}", user["nickname"].as_str().unwrap_or("?"));
        });
    }
    for (event, verb) in [("channel joined", "joined"), ("channel left", "left")] {
        socket.on(event, move |Data(info): Data<Value>| async move {
            println!(
                "* {} {verb} {}",
                info["nickname"].as_str().unwrap_or("?"),
                info["channel"].as_str().unwrap_or("?")
            );
        });
    }
}

fn print_message(message: &Message) {
    println!("[{}] {}: {}", message.to, message.from, message.text);
}

fn print_history(history: &Value) {
    for message in history.as_array().into_iter().flatten() {
        if let Ok(message) = Message::deserialize(message) {
            print_message(&message);
        }
    }
}

fn list(users: &Value) -> String {
    users
        .as_array()
        .map(|users| {
            users
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}
