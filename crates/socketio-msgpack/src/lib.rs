//! MessagePack compatible with the npm `notepack.io` encoder used by `socket.io-msgpack-parser`.
