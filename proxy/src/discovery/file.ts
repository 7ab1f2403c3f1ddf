// The file source (--endpoints-file): HOST:PORT lines or a YAML list, reloaded when the file changes. The
// directory is watched (fs.watch), so a file replaced by rename is seen too; a stat poll catches what fs.watch
// misses (network filesystems, some editors). Reloads are debounced, so a file written in several steps is read
// once it is quiet. A file that cannot be read or parsed keeps the last good set and is reported by name.
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseAddress, type Address } from '../address.js';
import { ConfigError } from '../flags.js';
import { changeKinds, unique, type Resolver, type ResolverEvents } from './resolver.js';

/** Quiet time after the last change event before the file is read. */
export const DEBOUNCE_MS = 100;
/** The stat poll behind fs.watch. */
export const POLL_MS = 1000;

export class EndpointsFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'EndpointsFileError';
  }
}

/**
 * The endpoints in a file's text: HOST:PORT lines (blank lines and # comments ignored), or YAML, either a list
 * (`- 127.0.0.1:9001`) or a mapping with an `endpoints:` list. An empty file is an empty set.
 */
export function parseEndpointsFile(text: string, file: string): Address[] {
  let yaml: unknown;
  try {
    yaml = parseYaml(text);
  } catch {
    yaml = undefined; // not YAML: read as lines below, which names the bad line
  }
  if (yaml !== null && typeof yaml === 'object') {
    const list = Array.isArray(yaml) ? yaml : (yaml as Record<string, unknown>).endpoints;
    if (!Array.isArray(list)) throw new EndpointsFileError(file, 'a YAML mapping needs an "endpoints:" list of HOST:PORT');
    return unique(
      list.map((item: unknown, i) => {
        const parsed = typeof item === 'string' ? parseAddress(item) : null;
        if (!parsed) throw new EndpointsFileError(file, `item ${i + 1}: ${JSON.stringify(item)} is not HOST:PORT (port 1-65535)`);
        return parsed;
      }),
    );
  }
  const addrs: Address[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const parsed = parseAddress(line);
    if (!parsed) throw new EndpointsFileError(file, `line ${i + 1}: "${line}" is not HOST:PORT (port 1-65535)`);
    addrs.push(parsed);
  });
  return unique(addrs);
}

export interface FileResolverOptions {
  file: string;
  debounceMs?: number;
  pollMs?: number;
  /** fs.watch on the directory (default on); tests turn it off to check the poll alone. */
  watch?: boolean;
}

export class FileResolver implements Resolver {
  readonly source = 'file';
  private readonly file: string;
  private current: Address[] = [];
  private events: ResolverEvents | undefined;
  private watcher: fs.FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastStat = '';
  private lastError = '';
  private closed = false;

  constructor(private readonly options: FileResolverOptions) {
    this.file = path.resolve(options.file);
  }

  async start(events: ResolverEvents): Promise<void> {
    this.events = events;
    this.lastStat = this.stat();
    // At start a bad file stops the proxy like any bad setting: there is no last good set to keep.
    try {
      this.current = parseEndpointsFile(await this.read(), this.options.file);
    } catch (err) {
      throw new ConfigError('--endpoints-file', (err as Error).message);
    }
    events.change({ kinds: this.current.length > 0 ? ['add'] : ['no-endpoints'], endpoints: this.current });

    if (this.options.watch !== false) {
      try {
        const name = path.basename(this.file);
        this.watcher = fs.watch(path.dirname(this.file), (_event, changed) => {
          if (changed === null || changed === name) this.schedule();
        });
        this.watcher.on('error', () => this.watcher?.close()); // the poll goes on
      } catch {
        // fs.watch is not available here: the poll alone
      }
    }
    this.poller = setInterval(() => {
      const stat = this.stat();
      if (stat !== this.lastStat) {
        this.lastStat = stat;
        this.schedule();
      }
    }, this.options.pollMs ?? POLL_MS);
    this.poller.unref();
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    clearInterval(this.poller);
    clearTimeout(this.debounce);
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reload(), this.options.debounceMs ?? DEBOUNCE_MS);
    this.debounce.unref();
  }

  private async reload(): Promise<void> {
    this.lastStat = this.stat();
    let next: Address[];
    try {
      next = parseEndpointsFile(await this.read(), this.options.file);
    } catch (err) {
      const message = `${err instanceof Error ? err.message : String(err)}; keeping the last good set (${this.current.length} endpoints)`;
      // Reported once per distinct error, not at every poll.
      if (!this.closed && message !== this.lastError) this.events?.error(message);
      this.lastError = message;
      return;
    }
    this.lastError = '';
    if (this.closed) return;
    const kinds = changeKinds(this.current, next);
    this.current = next;
    if (kinds.length > 0) this.events?.change({ kinds, endpoints: next });
  }

  private read(): Promise<string> {
    return fs.promises.readFile(this.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new EndpointsFileError(this.options.file, `cannot read: ${err.code ?? err.message}`);
    });
  }

  /** What the poll compares: inode, size and mtime, or "missing". */
  private stat(): string {
    try {
      const s = fs.statSync(this.file);
      return `${s.ino}/${s.size}/${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }
}
