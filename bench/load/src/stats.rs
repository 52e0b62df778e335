//! Latency histograms and process statistics read from `/proc`.

use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// Clock ticks per second of `/proc/<pid>/stat` times (`USER_HZ`, 100 on Linux).
const USER_HZ: f64 = 100.0;

/// A latency histogram in microseconds, from 1 µs to 100 s with 3 significant digits.
///
/// # Panics
///
/// Never: the bounds are valid.
#[allow(clippy::unwrap_used, reason = "constant, valid bounds")]
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 100_000_000, 3).unwrap()
}

/// Records `micros`, clamped into the histogram's range.
pub fn record(histogram: &mut Histogram<u64>, micros: u64) {
    let _ = histogram.record(micros.clamp(1, 100_000_000));
}

/// p50, p90, p99, p99.9 and max of `histogram`, in microseconds (null when empty).
pub fn latency_json(histogram: &Histogram<u64>) -> Value {
    if histogram.is_empty() {
        return json!({"p50_us": null, "p90_us": null, "p99_us": null, "p999_us": null, "max_us": null});
    }
    json!({
        "p50_us": histogram.value_at_quantile(0.5),
        "p90_us": histogram.value_at_quantile(0.9),
        "p99_us": histogram.value_at_quantile(0.99),
        "p999_us": histogram.value_at_quantile(0.999),
        "max_us": histogram.max(),
    })
}

/// User plus system CPU seconds used so far by process `pid` (this process when `None`),
/// every thread included.
pub fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3 of the full line, utime 14 and stime 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / USER_HZ)
}

/// Resident set size of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Measures this process's CPU over a window: percent of one core.
#[derive(Debug, Clone, Copy)]
pub struct CpuWindow {
    cpu: Option<f64>,
    wall: std::time::Instant,
}

impl CpuWindow {
    /// Starts the window now.
    pub fn start() -> Self {
        Self {
            cpu: cpu_seconds(None),
            wall: std::time::Instant::now(),
        }
    }

    /// CPU used since the start, in percent of one core.
    pub fn percent(&self) -> Option<f64> {
        let now = cpu_seconds(None)?;
        let wall = self.wall.elapsed().as_secs_f64();
        Some(((now - self.cpu?) / wall * 1000.0).round() / 10.0)
    }
}
