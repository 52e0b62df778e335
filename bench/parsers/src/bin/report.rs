//! Prints the side-by-side table of the last `parsers` bench run as markdown.
//!
//! Reads `<criterion dir>/<group>/<ours|socketioxide>/new/estimates.json` and prints, for each
//! input, direction and format, the median time of each side and the ratio socketioxide / ours
//! (above 1 means we are faster).
//!
//! The criterion directory is, in order: the `--dir <path>` argument, `$CRITERION_HOME`,
//! `$CARGO_TARGET_DIR/criterion`, or the workspace's `target/criterion`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use parser_bench::{Direction, Format, OURS, OURS_FULL, THEIRS, group_id, inputs, typed_group_id};

/// Ratios below this are listed after the table.
const TARGET_RATIO: f64 = 1.5;

fn criterion_dir() -> PathBuf {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--dir"
            && let Some(dir) = args.next()
        {
            return PathBuf::from(dir);
        }
    }
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/criterion")
}

/// The median point estimate in nanoseconds, if the benchmark ran.
fn median_ns(dir: &Path, group: &str, function: &str) -> Option<f64> {
    let path = dir.join(group).join(function).join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get("median")?.get("point_estimate")?.as_f64()
}

fn ns(value: Option<f64>) -> String {
    match value {
        Some(v) if v < 100.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.0}"),
        None => "n/a".to_owned(),
    }
}

/// Decode with `Validation::Full` (two passes; not our default), against the same socketioxide run.
fn full_table(dir: &Path) -> String {
    let mut table = String::from(
        "Decode with `Validation::Full` (not the default):\n\n\
         | input | parser | ours full (ns) | socketioxide (ns) | ratio (theirs/ours full) |\n\
         | --- | --- | ---: | ---: | ---: |\n",
    );
    for input in inputs() {
        for format in Format::ALL {
            let group = group_id(format, Direction::Decode, input.id);
            let ours = median_ns(dir, &group, OURS_FULL);
            let theirs = median_ns(dir, &group, THEIRS);
            let ratio = match (ours, theirs) {
                (Some(o), Some(t)) if o > 0.0 => format!("{:.2}x", t / o),
                _ => "n/a".to_owned(),
            };
            let _ = writeln!(
                table,
                "| {} | {} | {} | {} | {} |",
                input.label,
                format.id(),
                ns(ours),
                ns(theirs),
                ratio
            );
        }
    }
    table
}

/// Decode into the same typed structs on both sides (`parser_bench::typed`).
fn typed_table(dir: &Path) -> String {
    let mut table = String::from(
        "Decode into the same typed structs (`decode_typed`):\n\n\
         | input | parser | ours (ns) | socketioxide (ns) | ratio (theirs/ours) |\n\
         | --- | --- | ---: | ---: | ---: |\n",
    );
    for input in inputs() {
        for format in Format::ALL {
            let group = typed_group_id(format, input.id);
            let ours = median_ns(dir, &group, OURS);
            let theirs = median_ns(dir, &group, THEIRS);
            let ratio = match (ours, theirs) {
                (Some(o), Some(t)) if o > 0.0 => format!("{:.2}x", t / o),
                _ => "n/a".to_owned(),
            };
            let _ = writeln!(
                table,
                "| {} | {} | {} | {} | {} |",
                input.label,
                format.id(),
                ns(ours),
                ns(theirs),
                ratio
            );
        }
    }
    table
}

fn main() {
    let dir = criterion_dir();
    let dir = dir.canonicalize().unwrap_or(dir);
    let mut table = String::from(
        "| input | direction | parser | ours (ns) | socketioxide (ns) | ratio (theirs/ours) |\n\
         | --- | --- | --- | ---: | ---: | ---: |\n",
    );
    let mut below = Vec::new();
    let mut missing = Vec::new();
    let mut found = 0;
    for input in inputs() {
        for direction in Direction::ALL {
            for format in Format::ALL {
                let group = group_id(format, direction, input.id);
                let ours = median_ns(&dir, &group, OURS);
                let theirs = median_ns(&dir, &group, THEIRS);
                found += usize::from(ours.is_some()) + usize::from(theirs.is_some());
                let ratio = match (ours, theirs) {
                    (Some(o), Some(t)) if o > 0.0 => {
                        let r = t / o;
                        if r < TARGET_RATIO {
                            below.push(format!("{group} ({r:.2}x)"));
                        }
                        format!("{r:.2}x")
                    }
                    _ => {
                        missing.push(group.clone());
                        "n/a".to_owned()
                    }
                };
                let _ = writeln!(
                    table,
                    "| {} | {} | {} | {} | {} | {} |",
                    input.label,
                    direction.id(),
                    format.id(),
                    ns(ours),
                    ns(theirs),
                    ratio
                );
            }
        }
    }
    if found == 0 {
        eprintln!(
            "no criterion results under {}; run `bench/parsers/run.sh` (or pass --dir)",
            dir.display()
        );
        std::process::exit(1);
    }
    print!("{table}");
    println!();
    print!("{}", full_table(&dir));
    println!();
    print!("{}", typed_table(&dir));
    println!();
    println!("Median times from {}.", dir.display());
    if !missing.is_empty() {
        println!("Not compared (a side did not run): {}.", missing.join(", "));
    }
    if below.is_empty() {
        println!("Every compared pair is at or above {TARGET_RATIO}x.");
    } else {
        println!("Below {TARGET_RATIO}x: {}.", below.join(", "));
    }
}
