//! Randomized: whatever the interleaving of sends, partial steps and time, across the upgrade,
//! every message arrives exactly once and in order, and nobody closes.

#![allow(clippy::unwrap_used, reason = "tests")]

use super::*;

#[derive(Debug, Clone)]
enum Op {
    ServerSend,
    ClientSend,
    StepClient,
    StepServer,
    Advance(u64),
    Drive,
    ReleasePost,
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        3 => Just(Op::ServerSend),
        3 => Just(Op::ClientSend),
        3 => Just(Op::StepClient),
        3 => Just(Op::StepServer),
        1 => (0u64..60_000).prop_map(Op::Advance),
        1 => Just(Op::Drive),
        2 => Just(Op::ReleasePost),
    ]
}

proptest::proptest! {
    #[test]
    fn messages_survive_any_interleaving(
        ops in proptest::collection::vec(op(), 0..200),
        start_on_websocket: bool,
        refuse_ws: bool,
        delay_posts: bool,
        v3: bool,
    ) {
        #[cfg_attr(not(feature = "v3"), allow(unused_mut))]
        let mut config = Config::default();
        #[cfg(feature = "v3")]
        if v3 {
            config.protocol = crate::ProtocolVersion::V3;
        }
        let _ = v3;
        let transport = if start_on_websocket { WS } else { POLLING };
        let mut pair = Pair::new(config.clone(), config, transport);
        pair.refuse_ws = refuse_ws;
        pair.delay_posts = delay_posts;
        let (mut to_client, mut to_server) = (Vec::new(), Vec::new());
        for op in ops {
            match op {
                Op::ServerSend => {
                    if let Some(server) = pair.server.as_mut() {
                        let m = Str::from(format!("s{}", to_client.len()));
                        server.send(Packet::Message(m.clone())).unwrap();
                        to_client.push(Event::Message(m));
                    }
                }
                Op::ClientSend => {
                    let m = Str::from(format!("c{}", to_server.len()));
                    pair.client.send(Packet::Message(m.clone())).unwrap();
                    to_server.push(Event::Message(m));
                }
                Op::StepClient => {
                    pair.step_client();
                }
                Op::StepServer => {
                    pair.step_server();
                }
                Op::Advance(ms) => pair.advance(Duration::from_millis(ms)),
                Op::Drive => pair.drive(),
                Op::ReleasePost => {
                    pair.release_post();
                }
            }
            pair.collect_events();
        }
        pair.advance(ms(1));
        proptest::prop_assert_eq!(pair.client_messages(), to_client);
        proptest::prop_assert_eq!(pair.server_messages(), to_server);
        proptest::prop_assert!(!pair.client.is_closed());
        proptest::prop_assert!(!pair.server().is_closed());
        if !start_on_websocket {
            let upgraded = !refuse_ws;
            proptest::prop_assert_eq!(pair.client.transport() == WS, upgraded);
        }
    }
}
