// The Supervisor: each child leads its own process group, and stopping it stops what it started too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Supervisor } from '../orchestrator/supervisor.js';

/** The process group of `pid` (field 5 of /proc/PID/stat, after the parenthesised name). */
function pgid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

function alive(pid: number): boolean {
  // A zombie has exited; only its parent's wait is missing.
  return existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

test('a child leads its own process group; stopAll stops its own children too', async () => {
  const sup = new Supervisor();
  // A shell that starts a grandchild in the background and prints its pid.
  const child = sup.startExecutable('shell', 'sh', ['-c', 'sleep 30 & echo $!; wait']);
  const grandchild = await new Promise<number>((resolve) => child.process.stdout?.once('data', (b: Buffer) => resolve(Number(b.toString().trim()))));
  assert.equal(pgid(child.pid!), child.pid, 'the child leads a group of its own');
  assert.equal(pgid(grandchild), child.pid, 'its own child is in that group');
  assert.notEqual(pgid(child.pid!), pgid(process.pid), 'not the harness group: a terminal Ctrl-C reaches only the harness');
  await sup.stopAll(1000);
  // The grandchild was reparented; give the kernel a moment to reap it.
  for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(!alive(child.pid!), 'the child is gone');
  assert.ok(!alive(grandchild), 'the grandchild is gone');
});
