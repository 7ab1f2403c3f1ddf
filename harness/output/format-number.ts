/** Number formats shared by the text formatters: fixed, locale-free, so reports diff cleanly run against run. */
export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',') : '-';
}

export function fmtMs(n: number): string {
  if (!Number.isFinite(n)) return '-';
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

export function fmtRate(n: number): string {
  if (!Number.isFinite(n)) return '-';
  return n === 0 ? '0' : n.toExponential(1);
}

export function fmtBytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(0)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KiB`;
  return `${n} B`;
}

export function fmtErrors(errors: Record<string, number>, top = 3): string {
  const entries = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return '0';
  const shown = entries.slice(0, top).map(([k, v]) => `${k} ${v}`);
  return shown.join(', ') + (entries.length > top ? `, +${entries.length - top} more` : '');
}

/** A share as a percentage with two decimals. */
export function fmtPercent(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(2)}%` : '-';
}

/** Microseconds, a few significant digits. */
export function fmtMicros(us: number): string {
  if (!Number.isFinite(us)) return '-';
  return us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2);
}

/** A confidence interval as [lo, hi], each bound in the given format. */
export function fmtInterval([lo, hi]: readonly [number, number], fmt: (n: number) => string): string {
  return `[${fmt(lo)}, ${fmt(hi)}]`;
}

/** Requests per second: whole numbers with thousands separators, decimals for the slow cells a large body makes. */
export function fmtRps(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (n < 10) return n.toFixed(2);
  if (n < 100) return n.toFixed(1);
  return fmtInt(n);
}

/** A scenario headline: its name, value and unit, and which way is better. */
export function fmtHeadline(h: { name: string; value: number; unit: string; better: 'lower' | 'higher'; censored?: boolean }): string {
  const v = Math.abs(h.value) >= 100 ? h.value.toFixed(0) : Math.abs(h.value) >= 10 ? h.value.toFixed(1) : h.value.toFixed(2);
  if (h.censored) return `${h.name}: >= ${v} ${h.unit}, never within the window (${h.better} is better)`;
  return `${h.name}: ${v} ${h.unit} (${h.better} is better)`;
}
