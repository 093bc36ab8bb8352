// Unit tests of the UI's pure modules under Node's test runner (run by
// ui/ui_test.go's TestJavaScriptUnits; no browser needed).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ago, capacityLevel, commandLine, count, duration, rate, Rates } from '../../static/js/format.js';

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
