// uPlot's JavaScript and CSS, read from node_modules when a report is made and inlined into report.html, so the
// file opens offline and shows what this install drew it with. Read once per process.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface ChartAssets {
  /** uPlot's IIFE build: defines the global `uPlot`. */
  js: string;
  css: string;
  /** `uPlot 1.6.32 (MIT)`, for the report's footer. */
  credit: string;
}

let cached: ChartAssets | undefined;

export function readChartAssets(): ChartAssets {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  // The package's `main` is its CommonJS build in dist/; the browser builds sit beside it.
  const dist = dirname(require.resolve('uplot'));
  const pkg = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as { version: string; license: string };
  cached = {
    js: readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(join(dist, 'uPlot.min.css'), 'utf8'),
    credit: `uPlot ${pkg.version} (${pkg.license})`,
  };
  return cached;
}
