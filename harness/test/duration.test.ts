import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, formatDuration, DurationError } from '../../common/duration.js';

test('parses durations with units', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('250us'), 0.25);
  assert.equal(parseDuration('1h'), 3_600_000);
});

test('refuses a bare number or an unknown unit, naming where it came from', () => {
  assert.throws(() => parseDuration('10', '--duration'), (e: unknown) => e instanceof DurationError && /--duration: "10"/.test(e.message));
  assert.throws(() => parseDuration('5 sec', '--warmup'), /--warmup/);
  assert.throws(() => parseDuration('-1s'), DurationError);
});

test('formats durations the way they are parsed back', () => {
  for (const s of ['500ms', '5s', '2m', '1h']) assert.equal(formatDuration(parseDuration(s)), s);
  assert.equal(formatDuration(1500), '1.5s');
});
