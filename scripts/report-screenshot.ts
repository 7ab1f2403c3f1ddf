// `npm run report:screenshot -- RUN OUT.png [--height PX]`: a picture of a run's report.html as Debian's
// Chromium draws it (headless), for the README (docs/report.png). Makes report.html first if it is missing.
import { parseArgs } from 'node:util';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPORT_FORMATS } from '../harness/output/formats.js';
import { ResultsWriter, readResults } from '../harness/results/writer.js';
import { launchChromium } from '../harness/test/helpers/chromium.js';

const { values, positionals } = parseArgs({ options: { height: { type: 'string' }, width: { type: 'string', default: '1280' } }, allowPositionals: true });
if (positionals.length !== 2) {
  process.stderr.write('usage: npm run report:screenshot -- RUN OUT.png [--height PX] [--width PX]\n');
  process.exit(2);
}
const run = resolve(positionals[0]!);
const dir = statSync(run).isDirectory() ? run : dirname(run);
const html = join(dir, 'report.html');
if (!existsSync(html)) new ResultsWriter(dir, REPORT_FORMATS).writeDerived(readResults(dir));
const width = Number(values.width);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  await page.goto(pathToFileURL(html).href);
  await page.waitForSelector('body[data-charts-drawn]');
  const full = (await page.evaluate('document.documentElement.scrollHeight')) as number;
  const height = Math.min(full, values.height ? Number(values.height) : full);
  await page.screenshot({ path: resolve(positionals[1]!), clip: { x: 0, y: 0, width, height }, fullPage: true });
  process.stdout.write(`wrote ${resolve(positionals[1]!)} (${width}x${height} of ${full})\n`);
} finally {
  await browser.close();
}
