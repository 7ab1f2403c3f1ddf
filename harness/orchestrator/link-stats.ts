// Reads an emulated link's own account of a repetition from its admin /stats (workloads/link/README.md): above
// all whether it kept up with its settings. A link that could not is flagged in the results and every report,
// as a saturated generator is: the numbers then measure the link, not the proxy.

export interface LinkStats {
  saturated: boolean;
  reason?: string;
  /** The whole /stats answer, kept in results.json as the link gave it. */
  raw: Record<string, unknown>;
}

/** undefined when the link did not answer (it is then not known to have kept up, and the rep says so by the absence). */
export async function readLinkStats(adminUrl: string): Promise<LinkStats | undefined> {
  try {
    const res = await fetch(`${adminUrl}/stats`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return undefined;
    const raw = (await res.json()) as Record<string, unknown>;
    return { saturated: raw['saturated'] === true, ...(typeof raw['reason'] === 'string' ? { reason: raw['reason'] } : {}), raw };
  } catch {
    return undefined;
  }
}
