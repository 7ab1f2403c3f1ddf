// A proxy is given ports found free a moment before it starts (ports.ts: bind to 0, read, release). Another
// process may take one in between (CI once lost a nightly cell so: `listen EADDRINUSE`), so a proxy that exits
// because its address was in use is started again on fresh ports, a few times. Any other failure is the cell's.
import { ExitedBeforeReadyError } from './supervisor.js';

/** Starts of a proxy on fresh ports before the address race is reported as the cell's failure. */
export const PORT_ATTEMPTS = 3;

/** What the proxies say when their address is taken: node (EADDRINUSE), nghttpx and HAProxy (the OS's text). */
const ADDRESS_IN_USE = /EADDRINUSE|Address already in use/i;

/** Whether `err` (or an error it wraps) says the child could not bind its address. */
export function addressInUse(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (ADDRESS_IN_USE.test(e.message)) return true;
    if (e instanceof ExitedBeforeReadyError && ADDRESS_IN_USE.test(e.stderrTail)) return true;
  }
  return false;
}

/** `start` with a fresh `spec()` each time, again while it fails for a taken address, up to `attempts` starts. */
export async function startOnFreshPorts<S, R>(spec: () => Promise<S>, start: (spec: S) => Promise<R>, attempts = PORT_ATTEMPTS): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await spec());
    } catch (err) {
      if (attempt >= attempts || !addressInUse(err)) throw err;
    }
  }
}
