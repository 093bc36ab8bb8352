// Unit tests of the UI's pure modules under Node's test runner (run by
// ui/ui_test.go's TestJavaScriptUnits; no browser needed).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ago, capacityLevel, commandLine, count, dateTime, duration, errorHeadline, hostPort, lastCheckpoint, latency, millis, nodeNames,
  place, rate, Rates, size, startedAt, submittedAt,
} from '../../static/js/format.js';

test('capacity colours follow Storm: green < 0.5, amber < 0.8, red from 0.8', () => {
  const cases = [['0.000', 'low'], ['0.499', 'low'], ['0.500', 'medium'], ['0.799', 'medium'], ['0.800', 'high'], ['1.250', 'high'], ['', 'unknown'], [undefined, 'unknown']];
  for (const [capacity, want] of cases) assert.equal(capacityLevel(capacity), want, `capacity ${capacity}`);
});

test('rates are per second from the growth between two readings', () => {
  const r = new Rates();
  assert.equal(r.update('a', 100, 1000), null, 'first reading has no rate');
  assert.equal(r.update('a', 300, 3000), 100);
  assert.equal(r.update('a', 300, 5000), 0, 'a stopped counter');
  assert.equal(r.update('a', 50, 7000), null, 'a counter that went down restarts');
  assert.equal(r.update('a', 150, 8000), 100);
  assert.equal(r.update('b', 1, 8000), null, 'keys are independent');
  assert.equal(r.update('a', 200, 8000), null, 'no time passed');
});

test('numbers format for people', () => {
  assert.equal(count(1234567), '1,234,567');
  assert.equal(count(undefined), '–');
  const rates = [[0, '0'], [0.25, '0.3'], [9.95, '9.9'], [12.4, '12'], [1234, '1.2k'], [5_600_000, '5.6M'], [null, '–']];
  for (const [v, want] of rates) assert.equal(rate(v), want, `rate ${v}`);
  assert.equal(duration(0), '0s');
  assert.equal(duration(59.9), '59s');
  assert.equal(duration(3661), '1h 1m 1s');
  assert.equal(duration(90061), '1d 1h 1m 1s');
  assert.equal(duration(-1), '–');
  assert.equal(ago(303), ' (5m 3s ago)');
  assert.equal(ago(undefined), '', 'an unknown time says nothing');
  assert.equal(ago(Number.NaN), '');
});

test('command lines read as a shell would take them: plain words bare, the rest single-quoted', () => {
  assert.equal(commandLine(['python3', 'split.py']), 'python3 split.py');
  assert.equal(commandLine(['/bin/sh', '-c', 'id; rm -rf ~']), "/bin/sh -c 'id; rm -rf ~'");
  assert.equal(commandLine(['echo', "it's", '']), "echo 'it'\\''s' ''", 'a quote inside, an empty argument');
  assert.equal(commandLine(['node', '--max-old-space-size=512', 'a,b:c@d%e+f']), 'node --max-old-space-size=512 a,b:c@d%e+f');
  assert.equal(commandLine(['$HOME', '*.py']), "'$HOME' '*.py'", 'nothing reads as if it would expand');
  assert.equal(commandLine(undefined), '');
});

test('times show as local dates, never as epoch milliseconds', () => {
  // Local times, so the test holds in any time zone.
  const at = new Date(2026, 11, 3, 14, 5, 9, 750).getTime();
  const cases = [
    [at, '2026-12-03 14:05:09'],
    [String(at), '2026-12-03 14:05:09'],
    [new Date(2027, 0, 1, 0, 0, 0).getTime(), '2027-01-01 00:00:00'],
    [new Date(2000, 1, 29, 7, 8, 9).getTime(), '2000-02-29 07:08:09'],
    [0, '–'], // the API's "never"
    [-5, '–'],
    [undefined, '–'],
    [null, '–'],
    ['', '–'],
    ['soon', '–'],
    [Number.NaN, '–'],
  ];
  for (const [ms, want] of cases) assert.equal(dateTime(ms), want, `dateTime(${ms})`);
});

test('start times come from uptimes, submit times from the topology id', () => {
  const cases = [
    [[90, 1_000_000_500], 999_910_000],
    [[0, 5_000], 5_000],
    [[-1, 5_000], null],
    [[undefined, 5_000], null],
    [[10, Number.NaN], null],
  ];
  for (const [[up, now], want] of cases) assert.equal(startedAt(up, now), want, `startedAt(${up}, ${now})`);
  const ids = [
    [['wordcount-1764770709000', 'wordcount'], 1764770709000],
    [['word-count-2-1764770709000', 'word-count-2'], 1764770709000], // a name with dashes and digits
    [['word-count-2-1764770709000', 'word-count'], null], // "2-…" is not a time
    [['wordcount', 'wordcount'], null],
    [['wordcount-', 'wordcount'], null],
    [['wordcount-0', 'wordcount'], null],
    [['other-1764770709000', 'wordcount'], null],
    [[undefined, 'wordcount'], null],
  ];
  for (const [[id, name], want] of ids) assert.equal(submittedAt(id, name), want, `submittedAt(${id}, ${name})`);
});

test('a latency never measured is "–", not "0.000"', () => {
  const cases = [
    [['1.234', 10], '1.234 ms'],
    [['1.234', undefined], '1.234 ms'],
    [[' 12.500 ', 3], '12.500 ms'],
    [[0.25, 2], '0.250 ms'],
    [['0.000', 0], '–'], // nothing acked or executed in the window
    [['0.000', undefined], '–'],
    [['0.000', 7], '< 0.001 ms'], // measured, under a microsecond
    [['2.000', 0], '–'],
    [['', 3], '–'],
    [[undefined, 3], '–'],
    [[null, undefined], '–'],
    [['n/a', 3], '–'],
    [['-1', 3], '–'],
  ];
  for (const [[value, samples], want] of cases) assert.equal(latency(value, samples), want, `latency(${value}, ${samples})`);
});

test('a task shows where it runs by its node\'s name', () => {
  assert.equal(hostPort('10.0.0.5', 6700), '10.0.0.5:6700');
  assert.equal(hostPort('::1', 6700), '[::1]:6700');
  assert.equal(hostPort('[::1]', 6700), '[::1]:6700');
  assert.equal(hostPort('10.0.0.5', 0), '10.0.0.5');
  assert.equal(hostPort('', 6700), '');
  const names = nodeNames([
    { id: 'node-a', remoteAddr: '10.0.0.5:6700' },
    { id: 'node-b', remoteAddr: '[::1]:6701' },
    { id: 'node-c' }, // no address: names nothing
  ]);
  assert.deepEqual([...names], [['10.0.0.5:6700', 'node-a'], ['[::1]:6701', 'node-b']]);
  assert.equal(nodeNames(undefined).size, 0);
  const cases = [
    [['node-a', '10.0.0.5', 6700], { text: 'node-a', title: '10.0.0.5:6700' }],
    [['', '10.0.0.5', 6700, names], { text: 'node-a', title: '10.0.0.5:6700' }], // named by its address
    [['', '::1', 6701, names], { text: 'node-b', title: '[::1]:6701' }],
    [['', '10.0.0.9', 6700, names], { text: '10.0.0.9:6700', title: '' }], // an unknown node: its address
    [['local', '', 0], { text: 'local', title: '' }], // `node run`'s local mode
    [[undefined, undefined, undefined], { text: '–', title: '' }],
  ];
  for (const [args, want] of cases) assert.deepEqual(place(...args), want, `place(${args.slice(0, 3)})`);
});

test('an error\'s headline is one line: the first, or a Python traceback\'s exception', () => {
  const traceback = [
    'Traceback (most recent call last):',
    '  File "/srv/venv/lib/python3.11/site-packages/pystorm/bolt.py", line 212, in run',
    '    self.process(tup)',
    '  File "split.py", line 9, in process',
    '    raise ValueError(f"cannot split {line!r}")',
    "ValueError: cannot split 'x'",
    '',
  ].join('\n');
  const cases = [
    [['boom'], { text: 'boom', more: false }],
    [['  boom  \n\n'], { text: 'boom', more: false }],
    [[traceback], { text: "ValueError: cannot split 'x'", more: true }],
    [[`split.py exited: exit status 1\r\n${traceback}`], { text: "split.py exited: exit status 1 … ValueError: cannot split 'x'", more: true }],
    [['panic: runtime error: index out of range\ngoroutine 7 [running]:\nmain.f()'], { text: 'panic: runtime error: index out of range', more: true }],
    [['x'.repeat(20), 10], { text: `${'x'.repeat(9)}…`, more: true }],
    [['x'.repeat(10), 10], { text: 'x'.repeat(10), more: false }],
    [[''], { text: '', more: false }],
    [[undefined], { text: '', more: false }],
  ];
  for (const [args, want] of cases) assert.deepEqual(errorHeadline(...args), want, `errorHeadline(${JSON.stringify(args[0])?.slice(0, 40)})`);
});

test('a checkpoint shows as its id and age, its duration and size for people', () => {
  assert.equal(lastCheckpoint({ lastCompleted: 17, ageMs: 3200 }), '#17 (3s ago)');
  assert.equal(lastCheckpoint({ lastCompleted: 17, ageMs: null }), '#17', 'no age: no "ago"');
  assert.equal(lastCheckpoint({ lastCompleted: 0, ageMs: null }), 'none yet');
  assert.equal(lastCheckpoint(null), 'none yet');
  const durations = [[0, '0.000 ms'], [0.25, '0.250 ms'], [12.345, '12.3 ms'], [1500, '1.50 s'], [90_000, '1m 30s'], [-1, '–'], [undefined, '–']];
  for (const [ms, want] of durations) assert.equal(millis(ms), want, `millis ${ms}`);
  const sizes = [[0, '0 B'], [512, '512 B'], [4096, '4.0 KiB'], [1.5 * 1024 * 1024, '1.5 MiB'], [3 * 1024 ** 3, '3.0 GiB'], [-1, '–'], [null, '–']];
  for (const [b, want] of sizes) assert.equal(size(b), want, `size ${b}`);
});
