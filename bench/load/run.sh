#!/usr/bin/env bash
# The load benchmark's one command (docs/BENCHMARKS.md): builds our benchmark server, the load
# generator and the runner, the socketioxide server (a workspace of its own), installs
# socket.io from npm, then runs every scenario against the three servers.
#
#   bench/load/run.sh              # the full benchmark: 3 runs
#   bench/load/run.sh --smoke      # tiny sizes, 1 run, about 2 minutes
#   bench/load/run.sh --scenarios echo-100,bcast-100 --runs 5 --servers ours,socketioxide
#
# Arguments go to bench-runner. The table is printed and written with the raw results to
# <target>/release/bench-load/ (or --out DIR). Servers run on core 0, the load generator on
# core 1 (taskset): run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac

command -v taskset >/dev/null || { echo "taskset (util-linux) is needed" >&2; exit 1; }
command -v npm >/dev/null || { echo "Node.js with npm is needed" >&2; exit 1; }

cargo build --release --locked -p bench
cargo build --release --locked --manifest-path bench/socketioxide/Cargo.toml \
  --target-dir "$target/socketioxide"
( cd bench/node && npm ci --no-audit --no-fund --loglevel=error )

exec "$target/release/bench-runner" \
  --socketioxide-bin "$target/socketioxide/release/socketioxide-bench-server" \
  --node-dir "$root/bench/node" "$@"
