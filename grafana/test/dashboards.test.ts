// The static checks of grafana/: the committed dashboards are what the code generates, their uids, panel ids,
// variables, data sources, refIds and legends are sound, every query parses as PromQL, and the Prometheus
// config passes promtool. promtool is required: a missing one fails (Debian package `prometheus`), never skips.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { parse, stringify } from 'yaml';
import { README, withPanelTables } from '../src/readme.js';
import { allDashboards, dashboardFile, DASHBOARDS_DIR, isRow, panelQueries, renderDashboard, walkPanels } from '../src/dashboards.js';
import { missingBinaryMessage } from '../../common/binaries.js';

const GRAFANA = fileURLToPath(new URL('../../../grafana/', import.meta.url));
const committed: { file: string; text: string; dashboard: Dashboard }[] = readdirSync(DASHBOARDS_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => {
    const text = readFileSync(path.join(DASHBOARDS_DIR, file), 'utf8');
    return { file, text, dashboard: JSON.parse(text) as Dashboard };
  });

/** Grafana's global variables a query or title may use without defining them. */
const BUILT_INS = new Set([
  '__rate_interval', '__interval', '__interval_ms', '__range', '__range_s', '__range_ms', '__from', '__to',
  '__dashboard', '__user', '__org', '__name', '__all', 'timeFilter',
]);

/** Every variable reference: $name, ${name}, ${name:format}, [[name]]. */
function variablesUsed(text: string): string[] {
  return [...text.matchAll(/\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)\]\]/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

/** Every `datasource` value anywhere in a JSON value. */
function datasources(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(datasources);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, v]) => (key === 'datasource' ? [v, ...datasources(v)] : datasources(v)));
}

function provisionedDatasourceUid(): string {
  const file = parse(readFileSync(path.join(GRAFANA, 'provisioning/datasources/prometheus.yaml'), 'utf8')) as {
    datasources: { uid: string; type: string }[];
  };
  const prometheus = file.datasources.filter((d) => d.type === 'prometheus');
  assert.equal(prometheus.length, 1, 'one Prometheus data source is provisioned');
  return prometheus[0].uid;
}

function promtool(args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { encoding: 'utf8' });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    assert.fail(missingBinaryMessage('promtool', 'prometheus'));
  }
  if (run.error) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

test('the committed dashboards are exactly what the code generates', () => {
  const generated = allDashboards();
  assert.deepEqual(committed.map((c) => c.file), generated.map(dashboardFile).sort(), 'one file per dashboard, no stale file: run `npm run dashboards`');
  for (const dashboard of generated) {
    const file = committed.find((c) => c.file === dashboardFile(dashboard));
    assert.equal(file?.text, renderDashboard(dashboard), `${dashboardFile(dashboard)} differs from the code: run \`npm run dashboards\``);
  }
});

test('each dashboard has a schemaVersion, a uid unique across dashboards, and panel ids unique within it', () => {
  assert.ok(committed.length >= 2);
  const uids = committed.map((c) => c.dashboard.uid);
  assert.equal(new Set(uids).size, uids.length, `duplicate uid in ${uids.join(', ')}`);
  for (const { file, dashboard } of committed) {
    assert.equal(typeof dashboard.schemaVersion, 'number', `${file}: schemaVersion`);
    assert.ok(dashboard.uid && dashboard.uid.length <= 40, `${file}: uid of at most 40 characters`);
    const ids = walkPanels(dashboard).map((p) => p.id);
    assert.ok(ids.every((id) => typeof id === 'number' && id > 0), `${file}: every panel has an id`);
    assert.equal(new Set(ids).size, ids.length, `${file}: duplicate panel id`);
  }
});

test('every variable a query or a title uses is defined or a Grafana built-in', () => {
  for (const { file, dashboard } of committed) {
    const variables = dashboard.templating.list ?? [];
    const defined = new Set(variables.map((v) => v.name));
    const texts = [
      dashboard.title ?? '',
      ...walkPanels(dashboard).map((p) => p.title ?? ''),
      ...panelQueries(dashboard).map((q) => q.expr),
      ...variables.flatMap((v) => [typeof v.query === 'string' ? v.query : '', v.definition ?? '']),
    ];
    for (const text of texts) {
      for (const name of variablesUsed(text)) {
        assert.ok(defined.has(name) || BUILT_INS.has(name), `${file}: $${name} in ${JSON.stringify(text)} is not defined`);
      }
    }
  }
});

test('every data source is the provisioned Prometheus, and every panel and query names it', () => {
  const uid = provisionedDatasourceUid();
  for (const { file, dashboard } of committed) {
    for (const ds of datasources(dashboard)) assert.deepEqual(ds, { type: 'prometheus', uid }, `${file}: data source`);
    for (const panel of walkPanels(dashboard)) {
      if (isRow(panel)) continue;
      assert.ok(panel.datasource, `${file}: panel ${panel.title} has no data source`);
      for (const target of panel.targets ?? []) {
        assert.ok((target as { datasource?: unknown }).datasource, `${file}: a query of ${panel.title} has no data source`);
      }
    }
  }
  for (const variable of allDashboards().flatMap((d) => d.templating.list ?? [])) assert.equal(variable.datasource?.uid, uid);
});

test('every query has a refId unique in its panel, every panel a query, every time series its legend on', () => {
  for (const { file, dashboard } of committed) {
    for (const panel of walkPanels(dashboard)) {
      if (isRow(panel)) continue;
      const refIds = (panel.targets ?? []).map((t) => (t as { refId?: string }).refId);
      assert.ok(refIds.length > 0, `${file}: ${panel.title} has no query`);
      assert.ok(refIds.every((r) => typeof r === 'string' && r.length > 0), `${file}: ${panel.title}: a query without refId`);
      assert.equal(new Set(refIds).size, refIds.length, `${file}: ${panel.title}: duplicate refId`);
      if (panel.type === 'timeseries') {
        const legend = (panel.options as { legend?: { showLegend?: boolean } } | undefined)?.legend;
        assert.equal(legend?.showLegend, true, `${file}: ${panel.title}: legend hidden`);
        assert.ok(panel.fieldConfig?.defaults.unit, `${file}: ${panel.title}: no unit`);
      }
    }
  }
});

test('every panel query and variable selector parses as PromQL (promtool check rules)', () => {
  // Variables replaced by what Grafana sends: an interval for the built-ins, `.*` (All) for the dashboard's own.
  const substitute = (expr: string): string =>
    expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\{?\w+\}?/g, '.*');
  const exprs = committed.flatMap(({ dashboard }) => [
    ...panelQueries(dashboard).map((q) => q.expr),
    // label_values(selector, label) is Grafana's, not PromQL: check its selector.
    ...(dashboard.templating.list ?? []).map((v) => String(v.query).replace(/^label_values\((.*?)(, *\w+)?\)$/, '$1')),
  ]);
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-grafana-'));
  try {
    const rules = path.join(dir, 'rules.yml');
    const group = { name: 'dashboards', rules: exprs.map((expr, i) => ({ record: `sluice_dashboard_check_${i}`, expr: substitute(expr) })) };
    writeFileSync(rules, stringify({ groups: [group] }));
    const { status, output } = promtool(['check', 'rules', rules]);
    assert.equal(status, 0, output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('promtool check config passes on grafana/prometheus/prometheus.yml', () => {
  const { status, output } = promtool(['check', 'config', path.join(GRAFANA, 'prometheus/prometheus.yml')]);
  assert.equal(status, 0, output);
});

test('the dashboards provider reads grafana/dashboards through an environment variable', () => {
  const file = parse(readFileSync(path.join(GRAFANA, 'provisioning/dashboards/sluice.yaml'), 'utf8')) as {
    providers: { type: string; options: { path: string } }[];
  };
  assert.equal(file.providers.length, 1);
  assert.equal(file.providers[0].type, 'file');
  // Grafana needs an absolute path; the committed file cannot know it, so it names $SLUICE_DASHBOARDS.
  assert.equal(file.providers[0].options.path, '${SLUICE_DASHBOARDS}');
});

test("grafana/README.md's panel tables are what the code generates", () => {
  const readme = readFileSync(README, 'utf8');
  assert.equal(readme, withPanelTables(readme, allDashboards()), 'the README panel tables differ: run `npm run dashboards`');
});
