// The programs a run measured with and measured: the generator and the proxy, with their versions, so that
// two runs are compared knowing whether either changed.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MatrixSpec } from '../matrix/schema.js';
import type { Component, RunInfo } from './model.js';
import { isOurProxy } from '../proxies/names.js';

const PACKAGE_JSON = fileURLToPath(new URL('../../../package.json', import.meta.url));

/** sluice's version (package.json), which the proxy, the generator and the harness share. */
export function sluiceVersion(): string {
  try {
    return (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** A proxy the run's cells ran through (the `proxy` axis) and its version as its driver reported it. */
export interface UsedProxy {
  name: string;
  version: string;
}

/**
 * The generator the matrix chose (ours, or h2load at `h2loadVersion`) and the proxy the cells ran through: ours
 * when no other is used (as before the proxy axis), the other one when every proxy cell ran through it, else
 * `mixed` with each one's version (each cell records its own: CellResult.proxy). Ours are built from this
 * checkout, so their revision is its commit (run.git says whether the tree was dirty); another's is unknown.
 */
export function sluiceComponents(
  spec: Pick<MatrixSpec, 'generator'>,
  git: RunInfo['git'],
  h2loadVersion = 'unknown',
  proxies: readonly UsedProxy[] = [],
): { generator: Component; proxy: Component } {
  const ours = { version: sluiceVersion(), revision: git?.commit ?? null };
  const others = proxies.filter((p) => !isOurProxy(p.name));
  const proxy: Component =
    others.length === 0
      ? { name: 'sluice-proxy', ...ours }
      : proxies.length === 1
        ? { name: others[0]!.name, version: others[0]!.version, revision: null }
        : { name: 'mixed', version: proxies.map((p) => `${p.name}: ${p.version}`).join('; '), revision: proxies.some((p) => isOurProxy(p.name)) ? ours.revision : null };
  return {
    generator: spec.generator === 'h2load' ? { name: 'h2load', version: h2loadVersion, revision: null } : { name: 'sluice', ...ours },
    proxy,
  };
}
