// Reads a results.json for compare and gate, refusing what cannot be used with a message that names the file:
// missing, unreadable, truncated (a run still being written, a copy cut short), another or a newer schema, or
// without the fields compare reads. Only those fields are checked; the rest of the file is taken as it is.
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { RESULTS_SCHEMA, type RunResults } from './model.js';

export class ResultsFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResultsFileError';
  }
}

/** A run folder means its results.json; anything else is taken as the file itself. */
export function resultsFilePath(input: string): string {
  const path = resolve(input);
  try {
    return statSync(path).isDirectory() ? join(path, 'results.json') : path;
  } catch {
    return path;
  }
}

const num = z.number();
const rep = z.looseObject({
  rps: num,
  requests: num,
  errorRate: num,
  rstRate: num,
  latencyMs: z.looseObject({ p50: num, p99: num, p999: num }),
  proxy: z.looseObject({ cpuS: num }).optional(),
});
const cell = z.looseObject({
  id: z.string(),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  status: z.enum(['ok', 'failed']),
  error: z.string().optional(),
  reps: z.array(rep),
});
const results = z.looseObject({
  run: z.looseObject({
    id: z.string(),
    matrix: z.looseObject({ name: z.string(), spec: z.looseObject({ axes: z.record(z.string(), z.array(z.unknown())), gates: z.unknown() }) }),
  }),
  cells: z.array(cell),
});

export function readResultsFile(input: string): { file: string; results: RunResults } {
  const file = resultsFilePath(input);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ResultsFileError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read it (${(err as Error).message})`}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ResultsFileError(`${file}: not valid JSON, truncated or not a results file (${(err as Error).message})`);
  }
  const schema = typeof raw === 'object' && raw !== null ? (raw as { schema?: unknown }).schema : undefined;
  if (schema !== RESULTS_SCHEMA) throw new ResultsFileError(`${file}: ${schemaProblem(schema)}`);
  const parsed = results.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ResultsFileError(`${file}: ${issue.path.map(String).join('.') || '(top level)'}: ${issue.message}; not a usable ${RESULTS_SCHEMA} file`);
  }
  return { file, results: raw as RunResults };
}

function schemaProblem(schema: unknown): string {
  const version = (s: string) => Number(/^sluice\.results\/v(\d+)$/.exec(s)?.[1] ?? NaN);
  if (schema === undefined) return `no "schema" field: not a sluice results file (expected ${RESULTS_SCHEMA})`;
  if (typeof schema === 'string' && version(schema) > version(RESULTS_SCHEMA)) {
    return `schema ${schema} was written by a newer sluice; this one reads ${RESULTS_SCHEMA}`;
  }
  return `schema ${JSON.stringify(schema)}, expected ${RESULTS_SCHEMA}`;
}
