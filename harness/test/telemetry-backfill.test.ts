// `npm run history -- export`: two runs exported, backfilled with Debian's promtool, and read back through a
// Prometheus started on the blocks, each run's value at its own time. Then the CLI's usage errors and help.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { RunResults } from '../results/model.js';
import { isAlive } from './helpers/processes.js';
import { PROMETHEUS, PROMTOOL, requireBinary, startDaemon, type Daemon } from './helpers/prometheus-daemons.js';
import { telemetryRun } from './helpers/telemetry-fixture.js';

const HISTORY = fileURLToPath(new URL('../cli/history.js', import.meta.url));
const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-02T06:30:00.000Z';

function writeRun(dir: string, r: RunResults): string {
  const runDir = join(dir, r.run.id);
  mkdirSync(runDir);
  writeFileSync(join(runDir, 'results.json'), JSON.stringify(r));
  return runDir;
}

interface Vector {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(prom: Daemon, q: string, at: string): Promise<Vector[]> {
  const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(q)}&time=${Date.parse(at) / 1000}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: Vector[] } };
  assert.equal(body.status, 'success', `${q}: ${body.error ?? ''}`);
  return body.data!.result;
}

test('history export of two runs backfills with promtool; Prometheus returns each run’s value at its own time', { timeout: 120_000 }, async () => {
  const promtool = requireBinary(PROMTOOL);
  requireBinary(PROMETHEUS);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-backfill-'));
  const a = await telemetryRun('run-a', T0);
  const b = await telemetryRun('run-b', T1, 1.5);
  const file = join(dir, 'sluice.om');
  // One run as a folder, the other as its results.json.
  const exported = await execa(process.execPath, [HISTORY, 'export', writeRun(dir, a), join(writeRun(dir, b), 'results.json'), '--out', file, '--host', 'bench-1'], { reject: false });
  assert.equal(exported.exitCode, 0, exported.stderr);
  assert.match(exported.stdout, /wrote .*sluice\.om \(2 runs, 22 cells, \d+ samples\)/);

  const blocks = join(dir, 'blocks');
  const created = await execa(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', file, blocks], { reject: false });
  assert.equal(created.exitCode, 0, `promtool refused the export:\n${created.stdout}\n${created.stderr}`);
  assert.ok(readdirSync(blocks).length > 0, 'promtool wrote blocks');
  const listed = await execa(promtool, ['tsdb', 'list', blocks], { reject: false });
  assert.equal(listed.exitCode, 0, listed.stderr);

  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, 'scrape_configs: []\n');
  let prom: Daemon | undefined;
  try {
    // Retention counts back from the newest block: beside any recent block (a server that scrapes) the default
    // 15d deletes these months-old ones at start; here they are alone, so the long retention is the documented setup.
    prom = await startDaemon(PROMETHEUS, (address) => [
      `--config.file=${config}`,
      `--storage.tsdb.path=${blocks}`,
      '--storage.tsdb.retention.time=100y',
      `--web.listen-address=${address}`,
    ]);
    for (const [run, at] of [[a, T0], [b, T1]] as const) {
      const ok = run.cells.filter((c) => c.summary);
      const count = await query(prom, 'count(sluice_cell_rps{job="sluice",instance="bench-1",matrix="fixture"})', at);
      assert.equal(Number(count[0]?.value[1]), ok.length, `every ok cell at ${at}`);
      for (const cell of ok) {
        const rps = await query(prom, `sluice_cell_rps{instance="bench-1",cell="${cell.id}"}`, at);
        assert.equal(rps.length, 1);
        assert.equal(Number(rps[0]!.value[1]), cell.summary!.rps.mean, `${cell.id} at ${at}`);
        assert.equal(rps[0]!.metric.stream_window, String(cell.params.streamWindow));
        const p99 = await query(prom, `sluice_cell_latency_seconds{cell="${cell.id}",quantile="0.99"}`, at);
        assert.equal(Number(p99[0]?.value[1]), cell.summary!.latencyMs.p99 / 1000);
      }
      const info = await query(prom, 'sluice_nightly_run_info', at);
      assert.deepEqual([...new Set(info.map((v) => v.metric.run_id))], [run.run.id]);
      const measured = await query(prom, 'max(sluice_cell_measured_timestamp_seconds)', at);
      assert.equal(Number(measured[0]?.value[1]), Date.parse(at) / 1000);
    }
    // A label value with quotes (the headline's name) survived the escaping.
    const headline = await query(prom, 'sluice_cell_headline{name="victim goodput, \\"well-behaved\\""}', T1);
    assert.equal(headline.length, 2);
  } finally {
    await prom?.stop();
  }
  assert.ok(prom.pid !== undefined && !isAlive(prom.pid), 'Prometheus is stopped');
});

test('history: usage errors and unreadable RESULTS exit 2 naming them; -h tells how to backfill and the retention', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-history-cli-'));
  writeFileSync(join(dir, 'bad.json'), '{"schema": "other"}');
  const bad = await execa(process.execPath, [HISTORY, 'export', join(dir, 'nope'), join(dir, 'bad.json')], { reject: false });
  assert.equal(bad.exitCode, 2);
  assert.match(bad.stderr, /^sluice history: .*nope.*: no such results file; .*bad\.json: not a sluice results file/);
  for (const args of [[], ['import', dir], ['export'], ['export', dir, '--host', '']]) {
    const r = await execa(process.execPath, [HISTORY, ...args], { reject: false });
    assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^sluice history: /);
  }
  const help = await execa(process.execPath, [HISTORY, '-h'], { reject: false });
  assert.equal(help.exitCode, 0);
  assert.match(help.stdout, /promtool tsdb create-blocks-from openmetrics/);
  assert.match(help.stdout, /--storage\.tsdb\.retention\.time \(default 15d;/);
  assert.match(help.stdout, /--storage\.tsdb\.retention\.time=400d/);
  assert.match(help.stdout, /backfilled like this, not pushed/);
});
