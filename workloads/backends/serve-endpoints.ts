// What the three protocol servers share: every endpoint behind its gate on ports P..P+N-1 (or ephemeral),
// the fault control over them, and closing: stop listening, let the protocol end its connections
// gracefully, and force what is still open after the grace period.
import type { Socket, ServerOpts } from 'node:net';
import type { BackendConfig } from './config.js';
import type { Endpoint } from './endpoint.js';
import { faultControl, type FaultControl } from './fault-control.js';
import { Gate } from './gate.js';
import { listenAll } from './listen.js';
import { CLOSE_GRACE_MS } from './types.js';

export interface Door {
  /** Hands an accepted connection to the endpoint's protocol server. */
  handover: (socket: Socket) => void;
  /** The socket options that server applies on accept (gate.ts' socketOptionsOf). */
  options: ServerOpts;
}

export interface ServedEndpoints {
  ports: number[];
  faults: FaultControl;
  /** `graceful` starts the protocol's own shutdown; `force` (after the grace period, or once every connection is gone) ends the rest. */
  close(graceful: () => void, force: () => void): Promise<void>;
}

export async function serveEndpoints(config: BackendConfig, endpoints: Endpoint[], doors: Door[], graceMs = CLOSE_GRACE_MS): Promise<ServedEndpoints> {
  const gates = endpoints.map((endpoint, i) => new Gate(endpoint, doors[i]!.handover, doors[i]!.options));
  const ports = await listenAll(
    gates.map((g) => g.server),
    config.host,
    config.basePort,
  );
  // A refusing (closed) endpoint is bound once, so its port is known and printed, then closed again.
  await Promise.all(gates.map((g, i) => g.bound(config.host, ports[i]!)));

  let closing: Promise<void> | undefined;
  return {
    ports,
    faults: faultControl(config.protocol, config.faults, endpoints, gates),
    close: (graceful, force) =>
      (closing ??= (async () => {
        await Promise.all(gates.map((g) => g.close()));
        graceful();
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
        await Promise.race([Promise.all(gates.map((g) => g.whenEmpty())), grace]);
        clearTimeout(timer);
        force();
        for (const gate of gates) for (const socket of gate.sockets) socket.destroy();
      })()),
  };
}
