//! The typed decode comparison: both sides deserialize the arguments into the SAME Rust structs
//! (`#[derive(Deserialize)]`, mirroring the payloads), instead of `serde_json::Value`s.
//!
//! Strings are `Cow<'a, str>` with `#[serde(borrow)]` on both sides: a side borrows from the
//! received message where its deserializer can (serde's `visit_borrowed_str`) and copies where it
//! cannot (an escaped JSON string; socketioxide's msgpack deserializer reads through
//! `std::io::Read`, so it copies every string). The event name is a `Cow<str>` too on
//! socketioxide's side (read as the first element of its one-pass tuple) and our decoded packet's
//! zero-copy `ByteString` on ours; both hand the application a `&str`.
//!
//! Each input is a [`Typed`] family: the argument type ([`Typed::Args`], what our
//! `Args::deserialize` yields) and the whole array as socketioxide's one-pass
//! `decode_value(.., false)` reads it ([`Typed::Whole`]: `(name, args...)` for an event,
//! `(args...)` for an ACK).

use std::borrow::Cow;
use std::fmt::Debug;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::Args;

/// One input's typed arguments.
pub trait Typed {
    /// The arguments after the event name, as the application receives them.
    type Args<'a>: Deserialize<'a> + Serialize + PartialEq + Debug;
    /// `[name, args...]` (event) or `[args...]` (ACK) as one tuple, for socketioxide's one pass.
    type Whole<'a>: Deserialize<'a>;
    /// Splits [`Typed::Whole`] into the event name (none for an ACK) and the arguments.
    fn split(whole: Self::Whole<'_>) -> (Option<Cow<'_, str>>, Self::Args<'_>);
    /// `a == b` (derived `PartialEq`; concrete types shorten the two lifetimes to one).
    fn same(a: &Self::Args<'_>, b: &Self::Args<'_>) -> bool;
    /// The comparable form of the arguments (not timed).
    fn to_args(args: &Self::Args<'_>) -> Result<Args, String>;
}

/// An event name read in place (a bare `Cow` in a tuple would always own).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct Name<'a>(#[serde(borrow)] pub Cow<'a, str>);

fn values<T: Serialize>(args: &T) -> Result<Args, String> {
    Ok(Args::Values(vec![
        serde_json::to_value(args).map_err(|e| e.to_string())?,
    ]))
}

/// `event_64B`: a chat message.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Chat<'a> {
    /// Sender.
    #[serde(borrow)]
    pub user: Cow<'a, str>,
    /// Text.
    #[serde(borrow)]
    pub text: Cow<'a, str>,
    /// Timestamp (ms).
    pub ts: u64,
}

/// `event_4KiB`: a page of records.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<'a> {
    /// Page number.
    pub page: u32,
    /// Total records.
    pub total: u32,
    /// Opaque cursor.
    #[serde(borrow)]
    pub cursor: Cow<'a, str>,
    /// The records.
    #[serde(borrow)]
    pub records: Vec<Record<'a>>,
}

/// One record of [`Page`].
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Record<'a> {
    /// Id.
    pub id: u32,
    /// Name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// Free text with escapes (always copied out of JSON).
    #[serde(borrow)]
    pub bio: Cow<'a, str>,
    /// A float.
    pub score: f64,
    /// A boolean.
    pub active: bool,
    /// Always `null`.
    #[serde(borrow)]
    pub manager: Option<Cow<'a, str>>,
    /// Tags.
    #[serde(borrow)]
    pub tags: Vec<Cow<'a, str>>,
    /// Nested object.
    #[serde(borrow)]
    pub address: Address<'a>,
}

/// Nested in [`Record`].
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Address<'a> {
    /// City (non-ASCII).
    #[serde(borrow)]
    pub city: Cow<'a, str>,
    /// Coordinates.
    pub geo: Geo,
}

/// Nested in [`Address`].
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Geo {
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lng: f64,
}

/// `binary_4KiB`: the metadata before the attachment.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Upload<'a> {
    /// File name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// MIME type.
    #[serde(borrow, rename = "type")]
    pub kind: Cow<'a, str>,
    /// Size in bytes.
    pub size: u64,
}

/// `ack_small`: the acknowledgement's argument.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct AckReply<'a> {
    /// Success.
    pub ok: bool,
    /// An id.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// A count.
    pub count: u32,
}

/// Family of `event_64B`.
#[derive(Debug)]
pub enum ChatEvent {}

impl Typed for ChatEvent {
    type Args<'a> = Chat<'a>;
    type Whole<'a> = (Name<'a>, Chat<'a>);
    fn split(whole: Self::Whole<'_>) -> (Option<Cow<'_, str>>, Self::Args<'_>) {
        (Some(whole.0.0), whole.1)
    }
    fn same(a: &Self::Args<'_>, b: &Self::Args<'_>) -> bool {
        a == b
    }
    fn to_args(args: &Self::Args<'_>) -> Result<Args, String> {
        values(args)
    }
}

/// Family of `event_4KiB`.
#[derive(Debug)]
pub enum PageEvent {}

impl Typed for PageEvent {
    type Args<'a> = Page<'a>;
    type Whole<'a> = (Name<'a>, Page<'a>);
    fn split(whole: Self::Whole<'_>) -> (Option<Cow<'_, str>>, Self::Args<'_>) {
        (Some(whole.0.0), whole.1)
    }
    fn same(a: &Self::Args<'_>, b: &Self::Args<'_>) -> bool {
        a == b
    }
    fn to_args(args: &Self::Args<'_>) -> Result<Args, String> {
        values(args)
    }
}

/// Family of `binary_4KiB`: the metadata and the attachment as `bytes::Bytes`.
#[derive(Debug)]
pub enum UploadEvent {}

impl Typed for UploadEvent {
    type Args<'a> = (Upload<'a>, Bytes);
    type Whole<'a> = (Name<'a>, Upload<'a>, Bytes);
    fn split(whole: Self::Whole<'_>) -> (Option<Cow<'_, str>>, Self::Args<'_>) {
        (Some(whole.0.0), (whole.1, whole.2))
    }
    fn same(a: &Self::Args<'_>, b: &Self::Args<'_>) -> bool {
        a == b
    }
    fn to_args(args: &Self::Args<'_>) -> Result<Args, String> {
        Ok(Args::Binary(
            serde_json::to_value(&args.0).map_err(|e| e.to_string())?,
            args.1.clone(),
        ))
    }
}

/// Family of `ack_small`.
#[derive(Debug)]
pub enum AckSmall {}

impl Typed for AckSmall {
    type Args<'a> = AckReply<'a>;
    type Whole<'a> = (AckReply<'a>,);
    fn split(whole: Self::Whole<'_>) -> (Option<Cow<'_, str>>, Self::Args<'_>) {
        (None, whole.0)
    }
    fn same(a: &Self::Args<'_>, b: &Self::Args<'_>) -> bool {
        a == b
    }
    fn to_args(args: &Self::Args<'_>) -> Result<Args, String> {
        values(args)
    }
}

/// Calls `$body` with the type alias `$t` bound to the [`Typed`] family of the input id `$id`
/// (evaluates to `None` for an unknown id).
#[macro_export]
macro_rules! with_typed {
    ($id:expr, $t:ident => $body:expr) => {
        match $id {
            "event_64B" => {
                type $t = $crate::typed::ChatEvent;
                Some($body)
            }
            "event_4KiB" => {
                type $t = $crate::typed::PageEvent;
                Some($body)
            }
            "binary_4KiB" => {
                type $t = $crate::typed::UploadEvent;
                Some($body)
            }
            "ack_small" => {
                type $t = $crate::typed::AckSmall;
                Some($body)
            }
            _ => None,
        }
    };
}
