// Durations as people write them on a command line or in a matrix file: 500ms, 5s, 2m, 1h, 1.5s.
// A bare number is refused: "10" is ambiguous between seconds and milliseconds.

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)(us|ms|s|m|h)$/;

export class DurationError extends Error {
  constructor(readonly where: string, readonly input: string) {
    super(`${where}: "${input}" is not a duration; expected a number with a unit, e.g. 500ms, 5s, 2m`);
    this.name = 'DurationError';
  }
}

/** Parses "500ms" | "5s" | "2m" | "1h" | "250us" into milliseconds; `where` names the flag or key for the error. */
export function parseDuration(input: string, where = 'duration'): number {
  const match = DURATION.exec(input.trim());
  if (!match) throw new DurationError(where, input);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** Formats milliseconds the way parseDuration reads them back (for help texts and progress lines). */
export function formatDuration(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000}s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)}s`;
  return `${ms}ms`;
}
