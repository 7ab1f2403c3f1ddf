import { cpus, hostname, totalmem, release } from 'node:os';
import { execFileSync } from 'node:child_process';
import type { HostInfo } from './model.js';

export function hostInfo(): HostInfo {
  const c = cpus();
  return { name: hostname(), cpuModel: c[0]?.model ?? 'unknown', cores: c.length, memoryBytes: totalmem(), kernel: release(), node: process.version };
}

/** The commit of the working tree and whether it had uncommitted changes; null outside a git checkout. */
export function gitInfo(cwd: string): { commit: string; dirty: boolean } | null {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).length > 0;
    return { commit, dirty };
  } catch {
    return null;
  }
}
