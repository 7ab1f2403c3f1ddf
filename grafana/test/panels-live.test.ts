// Every panel of both dashboards has data after one real `npm run bench -- --prometheus`: a short bench through
// the proxy (a baseline run first, so the gate's lines exist), then Prometheus opened on the data folder the run
// left (opened by `npm run prometheus`), and every panel's query (variables substituted: All) evaluated over the run through the HTTP API.
// Needs Debian's prometheus and prometheus-pushgateway (.ci/run installs them); fails, never skips, without.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { execa } from 'execa';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { allDashboards, panelQueries } from '../src/dashboards.js';
import { findBinary, missingBinaryMessage } from '../../common/binaries.js';

const BENCH = fileURLToPath(new URL('../../harness/cli/bench.js', import.meta.url));
const OPEN_RUN = fileURLToPath(new URL('../../harness/cli/prometheus.js', import.meta.url));

// Every panel has something to show: an adaptive proxy over a 10 ms link to two endpoints (windows, adaptive
// changes, balancer, link queue), and a scenario cell beside a plain one (headlines).
const MATRIX = `name: panels
description: every dashboard panel has data (grafana/test/panels-live.test.ts)
protocol: h2
duration: 2s
warmup: 500ms
reps: 1
defaults:
  adaptive: true
  endpoints: 2
  rttMs: 10
  concurrency: 8
axes:
  scenario: [unary, slow-reader]
gates:
  rps: {maxDrop: 10%}
  p50: {maxRise: 25%}
  p99: {maxRise: 25%}
  p999: {maxRise: 50%}
  cpuPerRequest: {maxRise: 50%}
  rstRate: {max: 0.01}
  errorRate: {max: 0.01}
`;

function requireOnPath(binary: string, pkg: string): void {
  if (findBinary(binary) === undefined) assert.fail(`${missingBinaryMessage(binary, pkg)}; .ci/run installs it`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Grafana's variables as "All" (`.*`), and its built-in intervals for a 1 s scrape. */
function substitute(expr: string, dashboard: Dashboard, rangeS: number): string {
  let out = expr.replaceAll('$__rate_interval', '4s').replaceAll('$__interval', '1s').replaceAll('$__range', `${rangeS}s`);
  for (const v of dashboard.templating?.list ?? []) {
    out = out.replace(new RegExp(`\\$\\{${v.name}(:[a-z]+)?\\}|\\$${v.name}\\b`, 'g'), '.*');
  }
  assert.doesNotMatch(out, /\$\w/, `an unsubstituted variable in ${out}`);
  return out;
}

interface QueryAnswer {
  status: string;
  error?: string;
  data?: { result: unknown[] };
}

test('every panel of both dashboards has data after one `npm run bench -- --prometheus`', { timeout: 240_000 }, async () => {
  requireOnPath('prometheus', 'prometheus');
  requireOnPath('prometheus-pushgateway', 'prometheus-pushgateway');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-panels-'));
  let prometheus: ReturnType<typeof execa> | undefined;
  try {
    const matrix = join(dir, 'panels.yaml');
    writeFileSync(matrix, MATRIX);
    const startS = Math.floor(Date.now() / 1000) - 5;
    const baseline = await execa(process.execPath, [BENCH, '--matrix', matrix, '--out', join(dir, 'baseline')], { reject: false });
    assert.equal(baseline.exitCode, 0, `the baseline run failed:\n${baseline.stderr}`);
    const baselineRun = join(dir, 'baseline', 'latest', 'results.json');
    const run = await execa(process.execPath, [BENCH, '--matrix', matrix, '--out', join(dir, 'run'), '--prometheus', '--baseline', baselineRun], { reject: false });
    assert.equal(run.exitCode, 0, `the --prometheus run failed:\n${run.stderr}`);
    assert.match(run.stderr, /pushed 2 cells' summaries/);
    const dataDir = join(dir, 'run', 'latest', 'prometheus', 'data');
    assert.ok(existsSync(dataDir) && readdirSync(dataDir).length > 0, `no Prometheus data in ${dataDir}`);
    // The bench stopped its Prometheus; the data folder it left is what a user opens.
    const endS = Math.ceil(Date.now() / 1000) + 1;
    const port = await freePort();
    // `npm run prometheus -- RUN`: what a user runs to look at the run in Grafana.
    prometheus = execa(process.execPath, [OPEN_RUN, join(dir, 'run', 'latest'), '--port', String(port)], { reject: false, stdio: 'ignore' });
    const api = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const ready = await fetch(`${api}/-/ready`).then((r) => r.status === 200, () => false);
      if (ready) break;
      assert.ok(i < 200, 'Prometheus did not become ready on the run data folder within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const empty: string[] = [];
    let checked = 0;
    for (const dashboard of allDashboards()) {
      for (const q of panelQueries(dashboard)) {
        const expr = substitute(q.expr, dashboard, endS - startS);
        const url = `${api}/api/v1/query_range?${new URLSearchParams({ query: expr, start: String(startS), end: String(endS), step: '1' })}`;
        const answer = (await (await fetch(url)).json()) as QueryAnswer;
        assert.equal(answer.status, 'success', `${dashboard.title} / ${q.panelTitle} (${q.refId}): ${answer.error ?? ''}\n${expr}`);
        checked++;
        if ((answer.data?.result.length ?? 0) === 0) empty.push(`${dashboard.title} / ${q.panelTitle} (${q.refId}): ${expr}`);
      }
      // Each variable offers at least one value (its label_values query).
      for (const v of dashboard.templating?.list ?? []) {
        const m = /label_values\((.*),\s*(\w+)\)$/.exec(String((v as { query?: unknown }).query ?? ''));
        if (!m) continue;
        const url = `${api}/api/v1/label/${m[2]}/values?${new URLSearchParams({ 'match[]': substitute(m[1]!, dashboard, 0), start: String(startS), end: String(endS) })}`;
        const answer = (await (await fetch(url)).json()) as { data?: string[] };
        if ((answer.data?.length ?? 0) === 0) empty.push(`${dashboard.title} / variable ${v.name}: ${m[0]}`);
      }
    }
    assert.ok(checked >= 20, `only ${checked} panel queries found`);
    // The live counters saw every request the window measured (and the warm-up's and the drain's besides).
    const results = JSON.parse(readFileSync(join(dir, 'run', 'latest', 'results.json'), 'utf8')) as { cells: { id: string; summary: { successes: number } }[] };
    const live = `max by (cell) (max_over_time(sluice_requests_total{outcome="success"}[${endS - startS}s]))`;
    const answer = (await (await fetch(`${api}/api/v1/query?${new URLSearchParams({ query: live, time: String(endS) })}`)).json()) as {
      data: { result: { metric: { cell: string }; value: [number, string] }[] };
    };
    for (const cell of results.cells) {
      const seen = Number(answer.data.result.find((r) => r.metric.cell === cell.id)?.value[1] ?? 0);
      assert.ok(seen >= cell.summary.successes, `${cell.id}: live successes ${seen} < measured ${cell.summary.successes}`);
    }
    assert.deepEqual(empty, [], `panels without data:\n${empty.join('\n')}`);
  } finally {
    prometheus?.kill('SIGTERM');
    await prometheus?.catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});
