// report.html in a real browser (Debian's Chromium, headless): every chart drew its marks, the heat maps have
// coloured cells, nothing was fetched and the console stayed clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readChartAssets } from '../output/chart-assets.js';
import { formatHtmlReport } from '../output/report-html.js';
import type { RunResults } from '../results/model.js';
import { launchChromium } from './helpers/chromium.js';
import { reportFixture } from './helpers/report-fixture.js';

interface ChartInk {
  id: string;
  canvases: number;
  /** Pixels in one of the palette's colours: the series' lines, points and bars (axes and grid are grey). */
  inked: number;
}

// Runs in the page (a string: this project's TypeScript has no DOM types). uPlot draws series on one canvas per chart.
const INK = `(() => {
  const palette = JSON.parse(document.getElementById('sluice-charts').textContent).palette.map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));
  return [...document.querySelectorAll('[data-chart]')].map((el) => {
    let inked = 0;
    const canvases = [...el.querySelectorAll('canvas')];
    for (const canvas of canvases) {
      const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < px.length; i += 4) {
        if (px[i + 3] < 200) continue;
        if (palette.some((c) => Math.abs(c[0] - px[i]) + Math.abs(c[1] - px[i + 1]) + Math.abs(c[2] - px[i + 2]) < 24)) inked++;
      }
    }
    return { id: el.getAttribute('data-chart'), canvases: canvases.length, inked };
  });
})()`;

async function render(results: RunResults): Promise<{ ink: ChartInk[]; drawn: number; heatCells: number; problems: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-report-'));
  const file = join(dir, 'report.html');
  writeFileSync(file, formatHtmlReport(results, readChartAssets()));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) problems.push(`fetched ${r.url()}`);
    });
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-charts-drawn]', { timeout: 10_000 });
    const drawn = Number(await page.getAttribute('body', 'data-charts-drawn'));
    const ink = (await page.evaluate(INK)) as ChartInk[];
    const heatCells = await page.locator('td.heat').count();
    return { ink, drawn, heatCells, problems };
  } finally {
    await browser.close();
  }
}

test('report.html in Chromium: every chart drew marks, the heat maps are coloured, the console is clean', { timeout: 60_000 }, async () => {
  const { ink, drawn, heatCells, problems } = await render(await reportFixture());
  assert.deepEqual(problems, []);
  // 2 sweep charts, RST by code, 1 headline chart, 3 percentile plots.
  assert.equal(ink.length, 7, JSON.stringify(ink.map((c) => c.id)));
  assert.equal(drawn, ink.length, 'every chart was drawn without an error');
  for (const c of ink) {
    assert.ok(c.canvases >= 1, `${c.id}: a canvas`);
    assert.ok(c.inked >= 50, `${c.id}: only ${c.inked} pixels in a series colour`);
  }
  assert.equal(heatCells, 11, 'one coloured cell per measured cell (the failed one shows "-")');
});

test('report.html in Chromium without a load axis: bars per cell', { timeout: 60_000 }, async () => {
  const full = await reportFixture();
  const cells = full.cells.filter((c) => c.status === 'ok' && c.params.concurrency === 1).map((c) => ({ ...c, axes: { streamWindow: c.axes['streamWindow']!, connWindow: c.axes['connWindow']! } }));
  const { ink, drawn, problems } = await render({ ...full, cells });
  assert.deepEqual(problems, []);
  assert.equal(drawn, ink.length);
  for (const c of ink) assert.ok(c.inked >= 50, `${c.id}: only ${c.inked} pixels in a series colour`);
});
