// CPU pinning (`--pin proxy=0,load=1`): the proxy and the backends are started under `taskset -c`, and the
// harness itself, which runs the generator in its own threads, is pinned with `taskset -a -p` (every thread it
// has; the worker threads it starts later inherit it). On a machine whose cores everyone shares, pinning keeps
// the generator and the proxy from taking turns on one core, so two runs can be compared.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { execa } from 'execa';

/** The roles `--pin` can place on CPUs. */
export type PinRole = 'proxy' | 'load' | 'backends';

/** The CPUs each role was pinned to; a role left out was not pinned ({}: nothing was). */
export type Pinning = Partial<Record<PinRole, number[]>>;

export const PIN_ROLES: readonly PinRole[] = ['proxy', 'load', 'backends'];

/** A --pin value that cannot be used; the message names the flag. */
export class PinError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PinError';
  }
}

/** `0-2,5` -> [0, 1, 2, 5] (the kernel's list format, as in /proc/<pid>/status Cpus_allowed_list). */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return [];
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}

/** The CPUs this process may run on (its affinity, which a container may narrow), else every CPU the OS lists. */
export function allowedCpus(): number[] {
  try {
    const line = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    const list = line ? parseCpuList(line[1]!) : [];
    if (list.length > 0) return list;
  } catch {
    // not Linux: fall back to the CPU count
  }
  return cpus().map((_, i) => i);
}

/** Parses `role=CPU[-CPU],...` against the CPUs available here. */
export function parsePin(raw: string, available: readonly number[]): Pinning {
  const pinning: Pinning = {};
  const bad = (why: string): never => {
    throw new PinError(`--pin ${raw}: ${why}`);
  };
  if (raw.trim() === '') bad(`expected role=CPU[,role=CPU...] with roles ${PIN_ROLES.join(', ')}, e.g. proxy=0,load=1`);
  for (const item of raw.split(',')) {
    const m = /^\s*([A-Za-z]+)=(\d+)(?:-(\d+))?\s*$/.exec(item);
    if (!m) bad(`"${item}" is not role=CPU or role=FIRST-LAST (e.g. proxy=0,load=1)`);
    const [, role, lo, hi] = m!;
    if (!(PIN_ROLES as readonly string[]).includes(role!)) bad(`unknown role "${role}" (roles: ${PIN_ROLES.join(', ')})`);
    if (pinning[role as PinRole]) bad(`${role} is given twice`);
    const first = Number(lo);
    const last = hi === undefined ? first : Number(hi);
    if (last < first) bad(`${item}: the range runs backwards`);
    const list: number[] = [];
    for (let c = first; c <= last; c++) {
      if (!available.includes(c)) bad(`CPU ${c} is not available here (CPUs ${formatCpuList(available)})`);
      list.push(c);
    }
    pinning[role as PinRole] = list;
  }
  return pinning;
}

/** [0, 1, 2, 5] -> `0-2,5`. */
export function formatCpuList(list: readonly number[]): string {
  const sorted = [...new Set(list)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Which pinned role a child started by the Supervisor plays, by its name (launch.ts names them). */
function roleOf(childName: string): PinRole | undefined {
  if (childName === 'proxy') return 'proxy';
  if (childName.startsWith('backends')) return 'backends';
  return undefined;
}

/** The CPUs a child must be started on, or undefined to let it inherit the harness's. */
export type ChildCpus = (childName: string) => number[] | undefined;

/**
 * A child of a pinned role gets its CPUs. Every other child gets all of `allowed` once the harness itself is
 * pinned (`load`): children inherit their parent's affinity, and would otherwise share the generator's CPUs.
 */
export function childCpus(pinning: Pinning, allowed: readonly number[]): ChildCpus {
  return (name) => {
    const role = roleOf(name);
    const own = role ? pinning[role] : undefined;
    if (own) return [...own];
    return pinning.load ? [...allowed] : undefined;
  };
}

/** The command that starts `node file args` on `cpus` (taskset execs it: the pid is node's). */
export function pinnedCommand(file: string, args: string[], cpus: readonly number[] | undefined): [string, string[]] {
  return pinnedExecutable(process.execPath, [file, ...args], cpus);
}

/** The command that starts `command args` (a program on PATH: another make of proxy) on `cpus`; the pid is its own. */
export function pinnedExecutable(command: string, args: string[], cpus: readonly number[] | undefined): [string, string[]] {
  if (!cpus) return [command, args];
  return ['taskset', ['-c', formatCpuList(cpus), command, ...args]];
}

/** The first role pinned to a CPU outside `allowed`, described; undefined when every CPU is there. */
export function unavailableCpus(pinning: Pinning, allowed: readonly number[]): string | undefined {
  for (const role of PIN_ROLES) {
    const gone = (pinning[role] ?? []).filter((c) => !allowed.includes(c));
    if (gone.length > 0) return `${role}=${formatCpuList(gone)}, which is not available here (CPUs ${formatCpuList(allowed)})`;
  }
  return undefined;
}

/** taskset (util-linux) is what pins; refused before anything starts when it is missing. */
export async function requireTaskset(): Promise<void> {
  const r = await execa('taskset', ['--version'], { reject: false, stdin: 'ignore' });
  if (r.code === 'ENOENT' || r.exitCode !== 0) throw new PinError('--pin: taskset (util-linux) is needed and was not found');
}

/** Pins every thread of this process (the generator's: its worker threads inherit it) to `cpus`. */
export async function pinSelf(cpus: readonly number[]): Promise<void> {
  const r = await execa('taskset', ['-a', '-p', '-c', formatCpuList(cpus), String(process.pid)], { reject: false, stdin: 'ignore' });
  if (r.code === 'ENOENT') throw new PinError('--pin: taskset not found (util-linux)');
  if (r.exitCode !== 0) throw new PinError(`--pin: taskset could not pin the generator: ${(r.stderr || r.stdout).trim()}`);
}
