//! The page: its own files are compiled in; the official socket.io browser bundle is read from
//! `examples/node_modules`, installed with npm on the first start when it is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

const INDEX: &str = include_str!("../public/index.html");
const APP_JS: &str = include_str!("../public/app.js");
const STYLE_CSS: &str = include_str!("../public/style.css");

/// The files that are not compiled in.
#[derive(Clone)]
pub(crate) struct Assets {
    bundle: Bytes,
    bundle_map: Option<Bytes>,
}

/// `examples/`, where `package.json` lists the npm packages.
fn npm_dir() -> PathBuf {
    let chat = Path::new(env!("CARGO_MANIFEST_DIR"));
    chat.parent().unwrap_or(chat).to_path_buf()
}

fn bundle_path() -> PathBuf {
    npm_dir().join("node_modules/socket.io-client/dist/socket.io.min.js")
}

impl Assets {
    /// Reads the browser bundle, installing it first when needed.
    pub(crate) fn load() -> std::io::Result<Self> {
        let path = bundle_path();
        if !path.exists() {
            install()?;
        }
        let bundle = std::fs::read(&path)
            .map_err(|e| std::io::Error::other(format!("cannot read {}: {e}", path.display())))?;
        let bundle_map = std::fs::read(path.with_extension("js.map")).ok();
        Ok(Assets {
            bundle: bundle.into(),
            bundle_map: bundle_map.map(Into::into),
        })
    }
}

/// `npm ci --omit=dev` in `examples/`: the versions of `package-lock.json`, nothing else.
fn install() -> std::io::Result<()> {
    let dir = npm_dir();
    tracing::info!(
        "socket.io-client is not installed yet: running `npm ci --omit=dev` in {}",
        dir.display()
    );
    let status = Command::new("npm")
        .args([
            "ci",
            "--omit=dev",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(&dir)
        .status()
        .map_err(|e| {
            std::io::Error::other(format!(
                "cannot run npm ({e}): install Node.js and npm, or run `npm ci` in {}",
                dir.display()
            ))
        })?;
    if !status.success() {
        return Err(std::io::Error::other(format!(
            "`npm ci` failed in {} ({status})",
            dir.display()
        )));
    }
    Ok(())
}

fn with_type(content_type: &'static str, body: impl IntoResponse) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

pub(crate) async fn index() -> Html<&'static str> {
    Html(INDEX)
}

pub(crate) async fn app_js() -> Response {
    with_type("text/javascript; charset=utf-8", APP_JS)
}

pub(crate) async fn style_css() -> Response {
    with_type("text/css; charset=utf-8", STYLE_CSS)
}

pub(crate) async fn bundle(State(assets): State<Assets>) -> Response {
    with_type("text/javascript; charset=utf-8", assets.bundle)
}

pub(crate) async fn bundle_map(State(assets): State<Assets>) -> Response {
    match assets.bundle_map {
        Some(map) => with_type("application/json", map),
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}
