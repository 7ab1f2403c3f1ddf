// common/binaries.ts: one way to ask whether a program is installed, for every Debian tool sluice runs.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findBinary, MissingToolError, missingBinaryMessage, requireBinary } from '../../common/binaries.js';

test('findBinary: PATH in order, executables only; requireBinary names the package of a missing one', () => {
  const a = mkdtempSync(join(tmpdir(), 'sluice-bin-a-'));
  const b = mkdtempSync(join(tmpdir(), 'sluice-bin-b-'));
  try {
    writeFileSync(join(a, 'tool'), 'not executable');
    writeFileSync(join(b, 'tool'), '#!/bin/sh\n');
    chmodSync(join(b, 'tool'), 0o755);
    assert.equal(findBinary('tool', { PATH: `${a}:${b}` }), join(b, 'tool'), 'a file without x is skipped');
    chmodSync(join(a, 'tool'), 0o755);
    assert.equal(findBinary('tool', { PATH: `${a}:${b}` }), join(a, 'tool'), 'the first on PATH wins');
    assert.equal(findBinary('sluice-no-such-program', { PATH: a }), undefined);
    assert.throws(() => requireBinary('sluice-no-such-program', 'sluice-pkg', { PATH: a }), (err: unknown) => {
      assert.ok(err instanceof MissingToolError);
      assert.equal(err.message, "sluice-no-such-program is not installed: apt-get install -y sluice-pkg (Debian's sluice-pkg package)");
      return true;
    });
    assert.equal(missingBinaryMessage('nghttpx', 'nghttp2-proxy'), "nghttpx is not installed: apt-get install -y nghttp2-proxy (Debian's nghttp2-proxy package)");
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});
