// The nightly workflow cannot run here: parse it and check that every command it calls exists (npm scripts in
// package.json, files under scripts/), and the same for scripts/nightly.sh; then the script's refusals, which
// need no bench.
import assert from 'node:assert/strict';
import test from 'node:test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: { schedule?: { cron: string }[]; workflow_dispatch?: unknown };
  jobs: Record<string, { steps: Step[] }>;
}

/** Every `npm run X` and every scripts/ file a piece of shell calls. */
function commands(shell: string): { npm: string[]; files: string[] } {
  return {
    npm: [...shell.matchAll(/npm run(?: -s)? ([\w:.-]+)/g)].map((m) => m[1]!),
    files: [...shell.matchAll(/(?:^|\s)(?:bash\s+)?(scripts\/[\w./-]+)/g)].map((m) => m[1]!),
  };
}

test('the nightly workflow: scheduled and manual, node with the npm cache, h2load, the artifact and the job summary', () => {
  const wf = parse(readFileSync(join(root, '.github/workflows/nightly.yml'), 'utf8')) as Workflow;
  assert.ok(wf.on.schedule?.[0]?.cron, 'a schedule');
  assert.ok('workflow_dispatch' in wf.on, 'a manual trigger');
  const steps = Object.values(wf.jobs).flatMap((j) => j.steps);
  const node = steps.find((s) => s.uses?.startsWith('actions/setup-node@'));
  assert.equal(node?.with?.cache, 'npm');
  assert.equal(node?.with?.['node-version'], 20);
  const shell = steps.map((s) => s.run ?? '').join('\n');
  assert.match(shell, /apt-get install -y nghttp2-client/);
  assert.match(shell, /bash scripts\/nightly\.sh/);
  assert.match(shell, /\$GITHUB_STEP_SUMMARY/);
  assert.ok(steps.some((s) => s.uses?.startsWith('actions/upload-artifact@')));
  const { npm, files } = commands(shell);
  for (const name of npm) assert.ok(scripts[name], `npm run ${name}: no such script in package.json`);
  for (const f of files) assert.ok(existsSync(join(root, f)), `${f}: no such file`);
});

test('scripts/nightly.sh calls only npm scripts that exist: bench, compare and gate', () => {
  const { npm } = commands(readFileSync(join(root, 'scripts/nightly.sh'), 'utf8'));
  assert.deepEqual([...new Set(npm)].sort(), ['bench', 'compare', 'gate']);
  for (const name of npm) assert.ok(scripts[name], `npm run ${name}: no such script in package.json`);
});

test('without a baseline the nightly refuses at once, exit 2, saying how to create one', () => {
  const empty = mkdtempSync(join(tmpdir(), 'sluice-nightly-'));
  const r = spawnSync('bash', [join(root, 'scripts/nightly.sh')], { encoding: 'utf8', env: { ...process.env, SLUICE_BASELINES: empty, SLUICE_NIGHTLY_FIRST_RUN: '' } });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no baseline at .*nightly\.json/);
  assert.match(r.stderr, /SLUICE_NIGHTLY_FIRST_RUN=1 bash scripts\/nightly\.sh \(or --first-run\)/);
  assert.equal(spawnSync('bash', [join(root, 'scripts/nightly.sh'), '--bogus'], { encoding: 'utf8' }).status, 2);
  rmSync(empty, { recursive: true, force: true });
});

test('SLUICE_PUSHGATEWAY: the nightly bench pushes there, its gate lines drawn against the baseline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-nightly-push-'));
  try {
    // A stand-in npm that records what the bench was asked, then fails as a bench with bad input would.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'npm'), `#!/bin/sh\necho "$@" > ${join(dir, 'args')}\nexit 2\n`, { mode: 0o755 });
    writeFileSync(join(dir, 'nightly.json'), '{}');
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, SLUICE_BASELINES: dir, SLUICE_PUSHGATEWAY: 'http://127.0.0.1:9091' };
    const r = spawnSync('bash', [join(root, 'scripts/nightly.sh')], { encoding: 'utf8', env });
    assert.equal(r.status, 2, r.stderr);
    assert.match(readFileSync(join(dir, 'args'), 'utf8'), new RegExp(`run -s bench -- --matrix nightly --out results --push http://127\\.0\\.0\\.1:9091 --baseline ${join(dir, 'nightly.json')}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
