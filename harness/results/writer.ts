// Writes a run to disk cell by cell: results.json is replaced atomically (write + rename) after every cell,
// so a crash or Ctrl-C at any moment leaves the last complete state; the derived files (report.md, results.csv,
// report.html: output/formats.ts) are made again each time.
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RESULTS_SCHEMA, type RunResults } from './model.js';

export class ResultsWriter {
  constructor(
    readonly dir: string,
    private readonly derived: readonly { file: string; format: (r: RunResults) => string }[] = [],
  ) {
    mkdirSync(dir, { recursive: true });
  }

  get resultsFile(): string {
    return join(this.dir, 'results.json');
  }

  write(results: RunResults): void {
    writeAtomic(this.resultsFile, JSON.stringify(results, null, 2) + '\n');
    this.writeDerived(results);
  }

  /** The derived files alone (`npm run report`: results.json stays as the bench wrote it); returns their paths. */
  writeDerived(results: RunResults): string[] {
    return this.derived.map((d) => {
      const file = join(this.dir, d.file);
      writeAtomic(file, d.format(results));
      return file;
    });
  }

  /** Points <parent>/latest at this run (a relative symlink, so the results folder can be moved). */
  linkLatest(): void {
    const link = join(dirname(this.dir), 'latest');
    try {
      lstatSync(link);
      rmSync(link, { recursive: true, force: true });
    } catch {
      // no previous link
    }
    symlinkSync(basename(this.dir), link);
  }
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export function readResults(dir: string): RunResults {
  const file = join(dir, 'results.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: cannot read results (${(err as Error).message})`);
  }
  const schema = (parsed as { schema?: unknown }).schema;
  if (schema !== RESULTS_SCHEMA) throw new Error(`${file}: schema is ${String(schema)}, expected ${RESULTS_SCHEMA}`);
  return parsed as RunResults;
}
