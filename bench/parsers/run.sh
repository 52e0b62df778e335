#!/bin/sh
# Runs the side-by-side parser benches (ours vs socketioxide) and prints the markdown table.
#
#   bench/parsers/run.sh                      # full run, a few minutes
#   bench/parsers/run.sh json-decode          # only groups matching a filter
#
# Extra arguments go to criterion (filters, --warm-up-time, --measurement-time, ...).
# Honours CARGO_TARGET_DIR (use an absolute path) and CRITERION_HOME, like criterion itself.
set -eu
cd "$(dirname "$0")/../.."
cargo bench -p parser-bench --bench parsers -- "$@"
cargo run --release -q -p parser-bench --bin report
