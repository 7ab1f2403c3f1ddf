// compare and gate read results through the one validating reader (read.ts); this adds the resolved path
// they print, and keeps their names.
import { resolve, join } from 'node:path';
import { statSync } from 'node:fs';
import type { RunResults } from './model.js';
import { readResults, ResultsError } from './read.js';

export { ResultsError as ResultsFileError };

/** A run folder means its results.json; anything else is taken as the file itself. */
export function resultsFilePath(input: string): string {
  const path = resolve(input);
  try {
    return statSync(path).isDirectory() ? join(path, 'results.json') : path;
  } catch {
    return path;
  }
}

export function readResultsFile(input: string): { file: string; results: RunResults } {
  const file = resultsFilePath(input);
  return { file, results: readResults(file) };
}
