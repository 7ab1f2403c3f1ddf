// The programs a run measured with and measured: the generator and the proxy, with their versions, so that
// two runs are compared knowing whether either changed.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MatrixSpec } from '../matrix/schema.js';
import type { Component, RunInfo } from './model.js';

const PACKAGE_JSON = fileURLToPath(new URL('../../../package.json', import.meta.url));

/** sluice's version (package.json), which the proxy, the generator and the harness share. */
export function sluiceVersion(): string {
  try {
    return (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Our proxy, and the generator the matrix chose: ours, or h2load at `h2loadVersion`. Ours are built from this
 * checkout, so their revision is its commit (run.git says whether the tree was dirty).
 */
export function sluiceComponents(spec: Pick<MatrixSpec, 'generator'>, git: RunInfo['git'], h2loadVersion = 'unknown'): { generator: Component; proxy: Component } {
  const ours = { version: sluiceVersion(), revision: git?.commit ?? null };
  return {
    generator: spec.generator === 'h2load' ? { name: 'h2load', version: h2loadVersion, revision: null } : { name: 'sluice', ...ours },
    proxy: { name: 'sluice-proxy', ...ours },
  };
}
