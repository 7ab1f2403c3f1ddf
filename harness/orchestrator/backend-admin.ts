// The backends' admin API (workloads/backends/README.md): faults changed at a precise moment of a window.
import type { LiveFaults } from '../../workloads/scenarios/types.js';

export async function setBackendFaults(adminUrl: string, faults: LiveFaults): Promise<void> {
  const res = await fetch(`${adminUrl}/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`backends refused faults ${JSON.stringify(faults)}: ${res.status} ${text}`);
}
