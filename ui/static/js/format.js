// Formatting and client-side rates. Pure functions (no DOM), so they can be
// tested under `node --test` as well as used by the pages.

const grouped = new Intl.NumberFormat('en-US');

// count formats a counter with thousands separators ("1,234,567").
export function count(n) {
  return Number.isFinite(n) ? grouped.format(n) : '–';
}

// rate formats tuples per second compactly ("0", "12.5", "3.4k", "1.2M").
export function rate(perSec) {
  if (perSec === null || perSec === undefined || !Number.isFinite(perSec)) return '–';
  const abs = Math.abs(perSec);
  if (abs >= 1e6) return `${(perSec / 1e6).toFixed(1)}M`;
  if (abs >= 1e3) return `${(perSec / 1e3).toFixed(1)}k`;
  if (abs >= 10 || perSec === 0) return perSec.toFixed(0);
  return perSec.toFixed(1);
}

// millis shows one of Storm's latency strings ("1.234") with its unit.
export function millis(s) {
  if (s === null || s === undefined || s === '') return '–';
  return `${s} ms`;
}

// duration formats seconds like Storm's UI ("3d 4h 5m 6s").
export function duration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  let s = Math.floor(seconds);
  const parts = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]]) {
    if (s >= size || parts.length > 0) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  parts.push(`${s}s`);
  return parts.join(' ');
}

// ago says how long ago something happened, to follow its description
// (" (5m 3s ago)"), or nothing when the time is unknown.
export function ago(seconds) {
  return Number.isFinite(seconds) ? ` (${duration(seconds)} ago)` : '';
}

// Storm's capacity colours: how busy a bolt's executors are (the fraction
// of the window spent executing).
export function capacityLevel(capacity) {
  const c = Number.parseFloat(capacity);
  if (!Number.isFinite(c)) return 'unknown';
  if (c < 0.5) return 'low';
  if (c < 0.8) return 'medium';
  return 'high';
}

// Rates turns successive readings of counters into per-second rates. The
// API's counters are cumulative; a rate needs two readings, so the first
// reading of a key has none. A counter that went down (a task restarted on
// a fresh node, a window that slid past a burst) restarts its rate.
export class Rates {
  #last = new Map(); // key -> {value, at (ms)}

  // update records value for key read at time `at` (ms) and returns the
  // rate since the previous reading, or null when there is none.
  update(key, value, at) {
    const prev = this.#last.get(key);
    this.#last.set(key, { value, at });
    if (!prev || !Number.isFinite(value) || at <= prev.at || value < prev.value) return null;
    return ((value - prev.value) * 1000) / (at - prev.at);
  }
}

// commandLine shows an argv as one would type it in a POSIX shell: each
// argument as it is when it needs no quoting, else in single quotes (a
// quote inside as '\''), so what a topology runs reads unambiguously.
export function commandLine(argv) {
  if (!Array.isArray(argv)) return '';
  return argv.map((arg) => {
    const s = String(arg);
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
  }).join(' ');
}
