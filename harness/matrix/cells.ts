// Expands a matrix into cells: the cartesian product of its axes minus its exclusions.
// A cell's id is derived from its axis values alone (sorted by axis name), so two files with the same axes
// but other backend settings produce comparable cells. The axes themselves are declared in axes.ts.
import { AXES, AXIS_DEFAULTS, AXIS_NAMES, parseAxisText, type AxisName, type AxisScalar, type CellParams } from './axes.js';
import type { MatrixSpec, Exclusion } from './schema.js';
import { MatrixError } from './errors.js';
import { PROTOCOL_NAMES } from '../load/protocols.js';
import { SCENARIOS } from '../../workloads/scenarios/index.js';
import { unsupportedReason } from '../proxies/registry.js';

export type { CellParams };

export interface Cell {
  id: string;
  params: CellParams;
  /** Only the swept axes, in file order: what distinguishes this cell. */
  axes: Partial<Record<AxisName, AxisScalar>>;
}

export interface Expansion {
  cells: Cell[];
  excluded: { id: string; reason: string }[];
}

export function cellId(axes: Partial<Record<AxisName, AxisScalar>>): string {
  return Object.keys(axes)
    .filter((k) => AXES[k as AxisName].inCellId !== false)
    .sort()
    .map((k) => `${k}=${String(axes[k as AxisName])}`)
    .join(',');
}

/** Cells no matrix can run, whatever it says (a scenario on a protocol it does not speak): excluded with the reason, never attempted and failed. */
const IMPOSSIBLE: Exclusion[] = Object.values(SCENARIOS).flatMap((s) => {
  const others = PROTOCOL_NAMES.filter((p) => !(s.protocols as readonly string[]).includes(p));
  return others.length > 0 ? [{ scenario: s.name as Exclusion['scenario'], protocol: others, reason: `${s.name} runs on ${s.protocols.join(', ')} only` }] : [];
});

export function expandCells(spec: MatrixSpec): Expansion {
  const swept = (Object.keys(spec.axes) as AxisName[]).filter((k) => spec.axes[k] !== undefined);
  let combos: Partial<Record<AxisName, AxisScalar>>[] = [{}];
  for (const axis of swept) {
    const values = spec.axes[axis] as AxisScalar[];
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [axis]: v })));
  }
  const cells: Cell[] = [];
  const excluded: Expansion['excluded'] = [];
  for (const axes of combos) {
    const id = cellId(axes);
    const params = paramsOf(spec, axes);
    // What no matrix can run comes first, then what the matrix itself excludes.
    const byMatrix = spec.exclude.find((e) => matches(e, params));
    const reason = IMPOSSIBLE.find((e) => matches(e, params))?.reason ?? proxyExclusion(spec, params) ?? (byMatrix ? (byMatrix.reason ?? 'excluded by the matrix') : undefined);
    if (reason !== undefined) excluded.push({ id, reason });
    else cells.push({ id, params, axes });
  }
  return { cells, excluded };
}

/**
 * Why the cell's proxy cannot run it: a direct cell runs no proxy, so of a swept `proxy` axis only its first
 * value keeps the direct cell (one baseline for every proxy, not a copy per proxy); a proxy cell is asked of its
 * driver, with what its scenario needs beyond the axes (harness/proxies/registry.ts).
 */
function proxyExclusion(spec: MatrixSpec, params: CellParams): string | undefined {
  if (params.target === 'direct') {
    const first = spec.axes.proxy?.[0];
    return first !== undefined && params.proxy !== first ? `target: direct runs no proxy; its baseline is the proxy=${first} cell` : undefined;
  }
  const setup = SCENARIOS[params.scenario].setup(params);
  return unsupportedReason(params.proxy, params, { discovery: setup.controlPlane !== undefined, extraFlags: setup.proxyFlags ?? [] });
}

/** Every axis's value for a cell: swept, else fixed by the matrix, else the axis's own default. */
export function paramsOf(spec: MatrixSpec, axes: Partial<Record<AxisName, AxisScalar>>): CellParams {
  const fixed: Partial<CellParams> = {
    protocol: spec.protocol,
    scenario: spec.scenario,
    ...(spec.backend.responseBytes !== undefined ? { responseBytes: spec.backend.responseBytes } : {}),
    ...(spec.request.bodyBytes !== undefined ? { requestBytes: spec.request.bodyBytes } : {}),
  };
  // A scenario's own defaults come before the matrix's: a matrix that fixes or sweeps the axis has the last word.
  const scenario = (axes.scenario ?? fixed.scenario) as keyof typeof SCENARIOS;
  return { ...AXIS_DEFAULTS, ...fixed, ...SCENARIOS[scenario].defaults, ...stripUndefined(spec.defaults), ...axes } as CellParams;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function matches(rule: Exclusion, params: CellParams): boolean {
  return AXIS_NAMES.every((axis) => {
    const want = rule[axis];
    if (want === undefined) return true;
    const list: AxisScalar[] = Array.isArray(want) ? want : [want];
    return list.includes(params[axis]);
  });
}

/**
 * Applies `--only axis=v1,v2` restrictions: each keeps only the listed values of a swept axis.
 * A value that is not on the axis is refused (a typo would otherwise silently run nothing).
 */
export function restrictAxes(spec: MatrixSpec, only: string[]): MatrixSpec {
  const axes = { ...spec.axes };
  for (const item of only) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new MatrixError(`--only ${item}: expected axis=value[,value...]`);
    const axis = item.slice(0, eq) as AxisName;
    if (!AXIS_NAMES.includes(axis)) {
      throw new MatrixError(`--only ${item}: unknown axis "${axis}" (axes: ${AXIS_NAMES.join(', ')})`);
    }
    const current = axes[axis] as AxisScalar[] | undefined;
    if (!current) {
      const swept = Object.keys(axes).join(', ');
      throw new MatrixError(`--only ${item}: the matrix does not sweep "${axis}" (it sweeps ${swept})`);
    }
    const wanted = item
      .slice(eq + 1)
      .split(',')
      .map((raw) => {
        const value = parseAxisText(axis, raw.trim());
        if (value === undefined) throw new MatrixError(`--only ${item}: "${raw.trim()}" is not a valid ${axis} value`);
        return value;
      });
    for (const w of wanted) {
      if (!current.includes(w)) {
        throw new MatrixError(`--only ${item}: ${String(w)} is not a value of axis ${axis} (${current.join(', ')})`);
      }
    }
    (axes as Record<string, AxisScalar[]>)[axis] = current.filter((v) => wanted.includes(v));
  }
  return { ...spec, axes };
}
