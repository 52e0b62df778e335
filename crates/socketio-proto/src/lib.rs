//! Sans-IO Socket.IO protocol core.
