// Finds, reads and validates a matrix file. `--matrix h2` means workloads/matrices/h2.yaml; anything with a
// slash or a .yaml/.yml ending is a path.
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { resolve, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { matrixSchema, type MatrixSpec } from './schema.js';
import { MatrixError } from './errors.js';

/** workloads/matrices, found from this compiled file (dist/harness/matrix/load.js) or its source. */
export const MATRICES_DIR = fileURLToPath(new URL('../../../workloads/matrices/', import.meta.url));

export interface LoadedMatrix {
  spec: MatrixSpec;
  file: string;
  sha256: string;
}

export function resolveMatrixPath(nameOrPath: string, matricesDir = MATRICES_DIR): string {
  const looksLikePath = nameOrPath.includes('/') || /\.ya?ml$/.test(nameOrPath);
  const file = looksLikePath ? resolve(nameOrPath) : join(matricesDir, `${nameOrPath}.yaml`);
  if (!existsSync(file)) {
    const known = existsSync(matricesDir)
      ? readdirSync(matricesDir)
          .filter((f) => f.endsWith('.yaml'))
          .map((f) => f.replace(/\.yaml$/, ''))
      : [];
    throw new MatrixError(
      `--matrix ${nameOrPath}: no such file ${file}` + (known.length ? ` (known matrices: ${known.join(', ')})` : ''),
    );
  }
  return file;
}

export function loadMatrix(nameOrPath: string, matricesDir = MATRICES_DIR): LoadedMatrix {
  const file = resolveMatrixPath(nameOrPath, matricesDir);
  const text = readFileSync(file, 'utf8');
  return { spec: parseMatrix(text, file), file, sha256: createHash('sha256').update(text).digest('hex') };
}

/** Parses and validates matrix YAML; every error names the file and the key path. */
export function parseMatrix(text: string, file: string): MatrixSpec {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const where = e.linePos?.[0] ? `:${e.linePos[0].line}:${e.linePos[0].col}` : '';
    throw new MatrixError(`${file}${where}: not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const raw: unknown = doc.toJS();
  const parsed = matrixSchema.safeParse(raw);
  if (!parsed.success) throw new MatrixError(formatIssues(file, parsed.error.issues));
  return parsed.data;
}

function formatIssues(file: string, issues: z.core.$ZodIssue[]): string {
  const lines = issues.slice(0, 10).map((issue) => {
    const path = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
    if (issue.code === 'unrecognized_keys') {
      const base = issue.path.length ? `${path}.` : '';
      return `  ${issue.keys.map((k) => base + k).join(', ')}: unknown key`;
    }
    return `  ${path}: ${issue.message}`;
  });
  const more = issues.length > 10 ? `\n  ... and ${issues.length - 10} more` : '';
  return `${file}: invalid matrix\n${lines.join('\n')}${more}`;
}
