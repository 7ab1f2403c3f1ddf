import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMatrix } from '../../matrix/load.js';
import { MatrixError } from '../../matrix/errors.js';
import { readFileSync, readdirSync } from 'node:fs';
import { MATRICES_DIR } from '../../matrix/load.js';

const base = `name: g\nduration: 1s\naxes: {concurrency: [8]}\n`;
const gates = (yaml: string) => parseMatrix(base + yaml, 'g.yaml').gates;

test('thresholds as percentages or fractions, absolute rates, a confidence', () => {
  assert.deepEqual(gates('gates: {rps: {maxDrop: 5%}, p99: {maxRise: 0.10}, p999: {maxRise: 150%}, rstRate: {max: 0.001}, errorRate: {max: 0.01}, confidence: 0.99}'), {
    rps: { maxDrop: 0.05 },
    p99: { maxRise: 0.1 },
    p999: { maxRise: 1.5 },
    rstRate: { max: 0.001 },
    errorRate: { max: 0.01 },
    confidence: 0.99,
  });
  assert.deepEqual(gates(''), {});
});

test('a bad threshold is refused naming its key', () => {
  const refused = (yaml: string, re: RegExp) => assert.throws(() => gates(yaml), (e: Error) => e instanceof MatrixError && re.test(e.message));
  refused('gates: {rps: {maxDrop: 10}}', /gates\.rps\.maxDrop: expected a percentage such as 5% or a fraction such as 0\.05 \(below 100%\), got 10/);
  refused('gates: {rps: {maxDrop: 100%}}', /gates\.rps\.maxDrop: .*got "100%"/);
  refused('gates: {p99: {maxRise: 2}}', /gates\.p99\.maxRise: .*got 2/);
  refused('gates: {p99: {maxRise: ten}}', /gates\.p99\.maxRise/);
  refused('gates: {p99: {maxDrop: 5%}}', /gates\.p99\.maxDrop: unknown key/);
  refused('gates: {rstRate: {max: 2}}', /gates\.rstRate\.max/);
  refused('gates: {confidence: 95}', /gates\.confidence/);
  refused('gates: {latency: {maxRise: 5%}}', /gates\.latency: unknown key/);
});

test('every shipped matrix still parses with its gates', () => {
  for (const f of readdirSync(MATRICES_DIR).filter((x) => x.endsWith('.yaml'))) {
    parseMatrix(readFileSync(MATRICES_DIR + f, 'utf8'), f);
  }
});
