// What /metrics says of discovery: updates applied and failures by source, and the control-plane connection's
// receive windows (--destination), read at the scrape: seed 000's evidence, what the control plane may still send
// on the connection and on each stream, and what waits unread. Registered on the proxy's registry by ProxyMetrics.
import { Counter, Gauge, type Registry } from 'prom-client';
import { ReadGauge } from '../metrics-cells.js';
import type { ControlWindows } from './control-client.js';

export class DiscoveryMetrics {
  private readonly updates: Counter<'source' | 'service' | 'kind'>;
  private readonly errors: Counter<'source'>;
  private control: (() => ControlWindows) | undefined;

  constructor(registry: Registry) {
    const registers = [registry];
    const read = (): ControlWindows | undefined => this.control?.();
    this.updates = new Counter({
      name: 'sluice_proxy_discovery_updates_total',
      help: 'Discovery updates applied, by source (static, file, destination), service (--service; empty for static and file) and kind (add, remove, no-endpoints; profile: a Destination profile).',
      labelNames: ['source', 'service', 'kind'] as const,
      registers,
    });
    this.errors = new Counter({
      name: 'sluice_proxy_discovery_errors_total',
      help: 'Discovery failures, by source: an unreadable or bad endpoints file (the last good set is kept), a lost or refused Destination stream (reconnected with backoff).',
      labelNames: ['source'] as const,
      registers,
    });
    new ReadGauge({
      name: 'sluice_proxy_control_connection_window_bytes',
      help: "The --destination connection's receive window left: bytes the control plane may still send on it before a WINDOW_UPDATE (absent while not connected).",
      registers,
      read: () => read()?.connection,
    });
    new Gauge({
      name: 'sluice_proxy_control_stream_window_bytes',
      help: "Each open --destination stream's receive window left, by rpc (Get, GetProfile), service and read (false: an --idle-services stream, never read).",
      labelNames: ['rpc', 'service', 'read'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of read()?.streams ?? []) this.set({ rpc: s.rpc, service: s.service, read: String(s.read) }, s.window);
      },
    });
    new Gauge({
      name: 'sluice_proxy_control_unread_bytes',
      help: 'Bytes received on --idle-services streams and never read (held by the stream, and on the wire engine by the connection too).',
      labelNames: ['rpc', 'service'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of read()?.streams ?? []) if (!s.read) this.set({ rpc: s.rpc, service: s.service }, s.unreadBytes);
      },
    });
  }

  /** Reports the control connection's windows in the sluice_proxy_control_* gauges. */
  watchControl(read: () => ControlWindows): void {
    this.control = read;
  }

  update(source: string, kind: string, service = ''): void {
    this.updates.inc({ source, service, kind });
  }

  error(source: string): void {
    this.errors.inc({ source });
  }
}
