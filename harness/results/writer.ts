// Writes a run to disk cell by cell: results.json is replaced atomically (write + rename) after every visit of a cell,
// so a crash or Ctrl-C at any moment leaves the last complete state; the derived files (report.md, results.csv,
// report.html: output/formats.ts) are made again each time.
import { closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RunResults } from './model.js';

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

  /**
   * Points <parent>/latest at this run (a relative symlink, so the results folder can be moved). Only once
   * results.json is there: whoever follows the link must find a valid run, never an empty folder.
   */
  linkLatest(): void {
    if (!existsSync(this.resultsFile)) throw new Error(`${this.resultsFile}: latest would point at a run without results.json; write it first`);
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

/**
 * Replaces `file` whole: the text goes to a temporary file in the same folder (a rename is atomic within one
 * file system only), is flushed to disk, and is renamed over `file`. A reader sees the old file or the new one,
 * never a part; a crash leaves at worst a stray `.tmp-<pid>` file.
 */
export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

// readResults moved to read.ts (with validation and one-line errors); kept importable from here for older callers.
export { readResults } from './read.js';
