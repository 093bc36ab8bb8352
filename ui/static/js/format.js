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

// latency shows one of Storm's latency strings ("1.234", milliseconds)
// with its unit. The API says "0.000" both for a latency never measured
// and for one under a microsecond, so samples (how many tuples it was
// measured over: acked trees for a complete latency, executed tuples for
// an execute latency, acked tuples for a process latency) tells them
// apart: no samples, or a zero with no count to say otherwise, is "–";
// a zero measured over samples is "< 0.001 ms".
export function latency(value, samples) {
  const ms = typeof value === 'number' ? value : Number.parseFloat(value);
  if (!Number.isFinite(ms) || ms < 0 || samples === 0) return '–';
  if (ms === 0) return Number.isFinite(samples) && samples > 0 ? '< 0.001 ms' : '–';
  return `${typeof value === 'number' ? value.toFixed(3) : value.trim()} ms`;
}

const pad = (n, width = 2) => String(n).padStart(width, '0');

// dateTime shows an epoch-milliseconds time as a local date and time,
// ISO-like and sortable ("2026-12-03 14:05:09"), or "–" when it is unknown
// (0, missing: the API's zero for "never").
export function dateTime(ms) {
  const n = typeof ms === 'string' && /^\d+$/.test(ms) ? Number(ms) : ms;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) return '–';
  const d = new Date(n);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// startedAt is when something that has been up for uptimeSeconds at
// nowMs started (epoch ms, to the second), or null when unknown.
export function startedAt(uptimeSeconds, nowMs) {
  if (!Number.isFinite(uptimeSeconds) || uptimeSeconds < 0 || !Number.isFinite(nowMs)) return null;
  return Math.floor(nowMs / 1000 - uptimeSeconds) * 1000;
}

// submittedAt reads a topology's submit time (epoch ms) from its id, which
// squall makes "<name>-<submit time in ms>" (Storm's "<name>-<n>-<secs>"
// is not read: null), or null when id is not of that form.
export function submittedAt(id, name) {
  if (typeof id !== 'string' || typeof name !== 'string' || !id.startsWith(`${name}-`)) return null;
  const tail = id.slice(name.length + 1);
  return /^\d{1,16}$/.test(tail) && Number(tail) > 0 ? Number(tail) : null;
}

// hostPort joins a host and a port as an address ("10.0.0.5:6700",
// "[::1]:6700"); no port is the host alone.
export function hostPort(host, port) {
  if (!host) return '';
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return port ? `${h}:${port}` : h;
}

// nodeNames maps the nodes' task addresses (the supervisor summary's
// remoteAddr, the host:port a task reports) to the nodes' names.
export function nodeNames(supervisors) {
  const names = new Map();
  for (const s of supervisors ?? []) {
    if (s?.remoteAddr && s.id) names.set(s.remoteAddr, s.id);
  }
  return names;
}

// place says where a task runs: its node's name, with the address in
// title; the address alone when no node is named; "–" when neither is
// known. names (from nodeNames) names a node the API left unnamed.
export function place(node, host, port, names) {
  const addr = hostPort(host, port);
  const name = node || names?.get(addr) || '';
  if (name) return { text: name, title: addr };
  return { text: addr || '–', title: '' };
}

// errorHeadline is the one line that says what an error is, at most max
// characters (cut with "…"): its first line; for a Python traceback, the
// exception at its end ("ValueError: bad line"), after the first line
// when something precedes the traceback ("split.py exited: status 1 …
// ValueError: bad line"). more says whether the headline leaves out
// anything of text.
export function errorHeadline(text, max = 160) {
  const lines = String(text ?? '').split(/\r?\n/).map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
  if (lines.length === 0) return { text: '', more: false };
  const first = lines[0].trim();
  const last = lines.at(-1).trim();
  const traceback = lines.findIndex((l) => l.trim().startsWith('Traceback (most recent call last)'));
  let head = first;
  if (traceback === 0) head = last;
  else if (traceback > 0) head = `${first} … ${last}`;
  let more = lines.length > 1;
  if (head.length > max) {
    head = `${head.slice(0, max - 1).trimEnd()}…`;
    more = true;
  }
  return { text: head, more };
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

// size formats a number of bytes in binary units ("512 B", "4.0 KiB",
// "1.5 MiB"), or "–" when unknown.
export function size(bytes) {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

// millis formats a duration given in milliseconds: "0.250 ms" below 1 ms,
// "12.3 ms" below 1 s, seconds above ("1.50 s"), the rest as duration
// does; "–" when unknown.
export function millis(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1) return `${ms.toFixed(3)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return duration(ms / 1000);
}

// lastCheckpoint says which checkpoint completed last and how long ago
// (the API's squallCheckpoints: lastCompleted, ageMs): "#17 (3s ago)", or
// "none yet".
export function lastCheckpoint(cp) {
  if (!cp || !(cp.lastCompleted > 0)) return 'none yet';
  return `#${cp.lastCompleted}${Number.isFinite(cp.ageMs) ? ago(cp.ageMs / 1000) : ''}`;
}
