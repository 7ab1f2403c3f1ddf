// h2/ stands alone: its sources import only node's modules and each other, never harness/, proxy/,
// workloads/, common/ or a package (tests may import the dev oracles fast-check and hpack.js).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// dist/h2/test/ -> the source folder h2/.
const H2 = resolve(dirname(fileURLToPath(import.meta.url)), '../../../h2');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

test('h2 boundary: every import of h2/ is node:, relative inside h2/, or (tests only) a dev oracle', () => {
  const files = sources(H2);
  assert.ok(files.length >= 8, `found the sources (${files.length})`);
  for (const file of files) {
    const isTest = relative(H2, file).startsWith('test');
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s+'([^']+)'/g)) {
      const target = spec!;
      if (target.startsWith('node:')) continue;
      if (isTest && (target === 'fast-check' || target === 'hpack.js')) continue;
      assert.ok(target.startsWith('.'), `${relative(H2, file)} imports the package ${target}`);
      const into = relative(H2, resolve(dirname(file), target));
      assert.ok(!into.startsWith('..'), `${relative(H2, file)} imports ${target}, outside h2/`);
    }
  }
});
