// Every file derived from results.json, in one list: the bench writes them after each cell, `npm run report`
// on demand. A new format is a pure formatter file and one entry here.
import type { RunResults } from '../results/model.js';
import { readChartAssets } from './chart-assets.js';
import { formatCsv } from './csv.js';
import { formatMarkdown } from './markdown.js';
import { formatHtmlReport } from './report-html.js';

export interface ReportFormat {
  file: string;
  format: (r: RunResults) => string;
}

export const REPORT_FORMATS: readonly ReportFormat[] = [
  { file: 'report.md', format: formatMarkdown },
  { file: 'results.csv', format: formatCsv },
  // The chart library's text is read from node_modules on first use (and kept), not at import.
  { file: 'report.html', format: (r) => formatHtmlReport(r, readChartAssets()) },
];
