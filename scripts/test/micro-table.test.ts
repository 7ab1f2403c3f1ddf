import assert from 'node:assert/strict';
import test from 'node:test';
import { formatMicroTable, type MicroRow } from '../micro-table.js';

const rows: MicroRow[] = [
  { name: 'bare', medianNs: 700, meanNs: 800, p99Ns: 2_500, opsPerS: 1_250_000, samples: 1000 },
  { name: 'stack', medianNs: 2_800, meanNs: 3_200, p99Ns: 1_500_000, opsPerS: 312_500.4, samples: 900 },
];

test('the micro table shows each row with units and the overhead of a pair', () => {
  const out = formatMicroTable(rows, [['stack', 'bare']]);
  assert.match(out, /\| bare \| 700 ns \| 800 ns \| 2\.50 µs \| 1,250,000 \| 1000 \|/);
  assert.match(out, /\| stack \| 2\.80 µs \| 3\.20 µs \| 1\.50 ms \| 312,500 \| 900 \|/);
  assert.match(out, /stack: \+2\.10 µs per request over "bare" \(4\.0x, medians\)/);
});

test('a pair naming an unknown row is an error', () => {
  assert.throws(() => formatMicroTable(rows, [['stack', 'nope']]), /no row named "nope"/);
});
