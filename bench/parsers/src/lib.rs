//! Shared inputs of the parser benches.
