// --pin: parsing (bad values name the flag), the command a pinned child is started with, which child gets which
// CPUs, and a real child started on one CPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allowedCpus, childCpus, formatCpuList, parseCpuList, parsePin, pinnedCommand, PinError } from '../orchestrator/pinning.js';
import { Supervisor } from '../orchestrator/supervisor.js';

test('--pin proxy=0,load=1 and ranges parse against the CPUs available', () => {
  assert.deepEqual(parsePin('proxy=0,load=1', [0, 1]), { proxy: [0], load: [1] });
  assert.deepEqual(parsePin('backends=1-3', [0, 1, 2, 3]), { backends: [1, 2, 3] });
  assert.deepEqual(parseCpuList('0-2,5'), [0, 1, 2, 5]);
  assert.equal(formatCpuList([5, 0, 1, 2]), '0-2,5');
});

test('bad --pin values are refused with a message naming the flag', () => {
  const refused = (raw: string, why: RegExp) =>
    assert.throws(() => parsePin(raw, [0, 1]), (err: Error) => err instanceof PinError && err.message.startsWith(`--pin ${raw}: `) && why.test(err.message));
  refused('gpu=0', /unknown role "gpu" \(roles: proxy, load, backends\)/);
  refused('proxy=2', /CPU 2 is not available here \(CPUs 0-1\)/);
  refused('proxy=0-7', /CPU 2 is not available/);
  refused('proxy', /"proxy" is not role=CPU/);
  refused('proxy=x', /is not role=CPU/);
  refused('proxy=-1', /is not role=CPU/);
  refused('proxy=0,proxy=1', /proxy is given twice/);
  refused('proxy=1-0', /runs backwards/);
  refused('', /expected role=CPU/);
});

test("a pinned child's command line begins with taskset -c; an unpinned one is node itself", () => {
  assert.deepEqual(pinnedCommand('/p/main.js', ['--listen', 'x'], [0]), ['taskset', ['-c', '0', process.execPath, '/p/main.js', '--listen', 'x']]);
  assert.deepEqual(pinnedCommand('/p/main.js', ['--a'], undefined), [process.execPath, ['/p/main.js', '--a']]);
});

test('with the generator pinned, unpinned children get every CPU back instead of inheriting the generator\'s', () => {
  const cpus = childCpus({ proxy: [0], load: [1] }, [0, 1]);
  assert.deepEqual(cpus('proxy'), [0]);
  assert.deepEqual(cpus('backends'), [0, 1]);
  assert.deepEqual(cpus('backends-2'), [0, 1]);
  assert.deepEqual(cpus('link-upstream-0'), [0, 1]);
  const proxyOnly = childCpus({ proxy: [1] }, [0, 1]);
  assert.equal(proxyOnly('backends'), undefined, 'nothing to undo: the harness is not pinned');
});

test('a child the Supervisor starts pinned runs on that CPU only (/proc Cpus_allowed_list)', { timeout: 10_000 }, async () => {
  const cpu = allowedCpus().at(-1)!;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pin-'));
  const script = join(dir, 'idle.mjs');
  writeFileSync(script, `process.stdout.write('{"event":"ready"}\\n'); setInterval(() => {}, 1000);\n`);
  const sup = new Supervisor(childCpus({ proxy: [cpu] }, allowedCpus()));
  try {
    const child = sup.start('proxy', script, []);
    assert.equal(child.command[0], 'taskset');
    // taskset execs node: once node has written, the pid is node's, with the affinity taskset set.
    await new Promise<void>((resolve) => child.process.stdout.once('data', () => resolve()));
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    assert.match(status, new RegExp(`^Cpus_allowed_list:\\s*${cpu}$`, 'm'));
    assert.match(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8'), /idle\.mjs/);
  } finally {
    await sup.stopAll();
  }
});

test('a program of another make (a proxy driver\'s) started pinned runs on that CPU only', { timeout: 10_000 }, async () => {
  const cpu = allowedCpus().at(-1)!;
  const sup = new Supervisor(childCpus({ proxy: [cpu] }, allowedCpus()));
  try {
    const child = sup.startExecutable('proxy', 'sleep', ['30']);
    assert.deepEqual(child.command, ['taskset', '-c', String(cpu), 'sleep', '30']);
    // Once taskset has exec'd sleep, the pid is sleep's, with the affinity taskset set.
    const deadline = Date.now() + 5000;
    while (!readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').startsWith('sleep') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.match(readFileSync(`/proc/${child.pid}/status`, 'utf8'), new RegExp(`^Cpus_allowed_list:\\s*${cpu}$`, 'm'));
    const unpinned = new Supervisor().startExecutable('proxy', 'sleep', ['30']);
    assert.deepEqual(unpinned.command, ['sleep', '30']);
    unpinned.process.kill('SIGKILL');
  } finally {
    await sup.stopAll();
  }
});
