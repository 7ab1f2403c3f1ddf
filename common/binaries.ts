// Whether a program sluice runs (a Debian package's: nghttpx, haproxy, prometheus, h2load, curl...) is installed,
// asked one way everywhere: on PATH, or in an sbin folder a user's PATH may lack (Debian puts nghttpx and haproxy
// in /usr/sbin). A missing one is named with the package that installs it.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The program's path, PATH first, then the sbin folders; undefined when it is nowhere. */
export function findBinary(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [...(env.PATH ?? '').split(delimiter).filter((d) => d !== ''), ...SBIN];
  for (const dir of dirs) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** "nghttpx is not installed: apt-get install -y nghttp2-proxy (Debian's nghttp2-proxy package)". */
export function missingBinaryMessage(name: string, pkg: string): string {
  return `${name} is not installed: apt-get install -y ${pkg} (Debian's ${pkg} package)`;
}

export class MissingToolError extends Error {
  constructor(
    readonly binary: string,
    readonly pkg: string,
  ) {
    super(missingBinaryMessage(binary, pkg));
    this.name = 'MissingToolError';
  }
}

/** The program's path, or a MissingToolError naming the package. */
export function requireBinary(name: string, pkg: string, env: NodeJS.ProcessEnv = process.env): string {
  const found = findBinary(name, env);
  if (found === undefined) throw new MissingToolError(name, pkg);
  return found;
}
