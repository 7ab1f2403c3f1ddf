// Bandwidths as tc writes them: bits per second with a unit (500kbit, 10mbit, 1gbit, 1.5mbit), 0 = unlimited.
// tc's "bps" means bytes per second, a classic trap, so byte units are refused with a hint rather than guessed.

const UNIT_BPS: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9 };
const BANDWIDTH = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit)$/i;
/** Beyond anything a userland relay could carry; a typo guard. */
export const MAX_BANDWIDTH_BPS = 100e9;

/** Parses "100mbit" into bits per second; "0" (or 0 with a unit) is unlimited. Throws a message naming the input. */
export function parseBandwidth(input: string): number {
  const text = input.trim();
  if (/^0+(\.0*)?$/.test(text)) return 0;
  const match = BANDWIDTH.exec(text);
  if (!match) {
    const hint = /bps$|byte|[kmg]b$/i.test(text) ? ' (bytes are not accepted: tc\'s "bps" means bytes per second; write bits, e.g. 100mbit)' : '';
    throw new Error(`"${input}" is not a bandwidth; expected bits per second with a unit, e.g. 500kbit, 10mbit, 1gbit, or 0 for unlimited${hint}`);
  }
  const bps = Number(match[1]) * UNIT_BPS[match[2]!.toLowerCase()]!;
  if (bps > MAX_BANDWIDTH_BPS) throw new Error(`"${input}" is above ${formatBandwidth(MAX_BANDWIDTH_BPS)}`);
  return Math.round(bps);
}

/** 100000000 -> "100mbit", 0 -> "unlimited". */
export function formatBandwidth(bps: number): string {
  if (bps <= 0) return 'unlimited';
  for (const [unit, scale] of [['gbit', 1e9], ['mbit', 1e6], ['kbit', 1e3]] as const) {
    if (bps >= scale) return `${Number((bps / scale).toPrecision(4))}${unit}`;
  }
  return `${bps}bit`;
}
