//! JSON for Socket.IO payloads, with binary attachments as `_placeholder` objects.
