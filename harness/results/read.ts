// Reading results.json back (--resume, and the compare, gate and report commands): every way a file can be
// wrong becomes one ResultsError line naming the file, never a stack trace.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { RunResults } from './model.js';
import { RESULTS_SCHEMA, resultsSchema } from './schema/run.js';

/** A results file that cannot be used; the message is one line that names the file. */
export class ResultsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResultsError';
  }
}

/** `path` is a results.json or a run folder holding one. Keys this version does not know are dropped. */
export function readResults(path: string): RunResults {
  const file = isDirectory(path) ? join(path, 'results.json') : path;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ResultsError(code === 'ENOENT' ? `${file}: no such results file` : `${file}: cannot read (${code ?? (err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    // An interrupted copy or a disk that filled up leaves a prefix of the file.
    throw new ResultsError(`${file}: not valid JSON, truncated or damaged (${(err as Error).message})`);
  }
  const schema = typeof raw === 'object' && raw !== null ? (raw as { schema?: unknown }).schema : undefined;
  if (typeof schema !== 'string' || !schema.startsWith('sluice.results/')) {
    throw new ResultsError(`${file}: not a sluice results file (no "schema": "${RESULTS_SCHEMA}")`);
  }
  if (schema !== RESULTS_SCHEMA) {
    const newer = schemaVersion(schema) > schemaVersion(RESULTS_SCHEMA);
    throw new ResultsError(
      newer
        ? `${file}: written as ${schema}, newer than this sluice reads (${RESULTS_SCHEMA}); update sluice to read it`
        : `${file}: written as ${schema}; this sluice reads ${RESULTS_SCHEMA} only`,
    );
  }
  const parsed = resultsSchema.safeParse(raw);
  if (!parsed.success) throw new ResultsError(`${file}: not valid ${RESULTS_SCHEMA}: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The number after /v (`sluice.results/v2` -> 2); NaN compares as not newer. */
function schemaVersion(schema: string): number {
  return Number(/\/v(\d+)$/.exec(schema)?.[1] ?? NaN);
}

/** The first problem with its key path, and how many more: enough to find it, still one line. */
export function describeIssues(issues: z.core.$ZodIssue[]): string {
  const first = issues[0];
  if (!first) return 'invalid';
  const path = first.path.length ? first.path.map(String).join('.') : '(top level)';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return `${path}: ${first.message}${more}`;
}
