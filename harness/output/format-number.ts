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
