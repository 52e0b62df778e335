//! The WebSocket frame parser (engineio_proto::websocket): any bytes, read as the server reads a
//! client's stream, must give frames, "incomplete" or a refusal, never a panic; a frame's
//! payload never exceeds the limit (control frames: 125 bytes).
#![no_main]

use engineio_proto::websocket::{FrameError, parse_frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let max = 4096;
    let mut rest = data;
    loop {
        match parse_frame(rest, max) {
            Ok(frame) => {
                assert!(frame.len > 0 && frame.len <= rest.len());
                assert!(frame.payload.len() <= max.max(125));
                rest = &rest[frame.len..];
            }
            Err(FrameError::Incomplete(needed)) => {
                assert!(needed > rest.len());
                break;
            }
            Err(FrameError::Protocol | FrameError::TooBig) => break,
        }
    }
});
