// results.csv: one row per cell and repetition, the swept axes as columns, RFC 4180 quoting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CSV_METRIC_COLUMNS, csvField, formatCsv } from '../output/csv.js';
import { reportFixture } from './helpers/report-fixture.js';

/** A strict RFC 4180 reader: quoted fields may hold commas, doubled quotes and line breaks; rows end in CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"' && field === '') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        assert.ok(q >= 0, 'an unterminated quoted field');
        field += text.slice(i, q);
        if (text[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
    } else if (ch === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
    } else {
      assert.notEqual(ch, '"', `a bare quote inside an unquoted field at ${i}`);
      field += ch;
      i++;
    }
  }
  assert.equal(field, '', 'the file ends with CRLF');
  return rows;
}

test('results.csv: the header is cell, rep, the swept axes, then the metrics', async () => {
  const [header] = parseCsv(formatCsv(await reportFixture()));
  assert.deepEqual(header, ['cell', 'rep', 'concurrency', 'streamWindow', 'connWindow', ...CSV_METRIC_COLUMNS]);
  assert.deepEqual(
    [...CSV_METRIC_COLUMNS],
    ['rps', 'completedRps', 'errorRate', 'p50Ms', 'p90Ms', 'p99Ms', 'p999Ms', 'rstRate', 'proxyCpuUsPerRequest', 'headlineName', 'headlineValue', 'headlineUnit', 'status'],
  );
});

test('results.csv: one row per repetition, axes and numbers as the results hold them; a failed cell keeps one row', async () => {
  const results = await reportFixture();
  const [header, ...rows] = parseCsv(formatCsv(results));
  const col = (name: string) => header!.indexOf(name);
  const reps = results.cells.reduce((a, c) => a + Math.max(1, c.reps.length), 0);
  assert.equal(rows.length, reps);
  for (const row of rows) assert.equal(row.length, header!.length, `every row has every column: ${row.join('|')}`);
  for (const cell of results.cells) {
    const mine = rows.filter((r) => r[col('cell')] === cell.id);
    assert.equal(mine.length, Math.max(1, cell.reps.length), cell.id);
    for (const r of mine) {
      assert.equal(r[col('concurrency')], String(cell.axes['concurrency']));
      assert.equal(r[col('streamWindow')], String(cell.axes['streamWindow']));
      assert.equal(r[col('connWindow')], String(cell.axes['connWindow']));
      assert.equal(r[col('status')], cell.status);
    }
    if (cell.status === 'failed') {
      const [r] = mine;
      assert.equal(r![col('rep')], '');
      for (const k of CSV_METRIC_COLUMNS.filter((k) => k !== 'status')) assert.equal(r![col(k)], '', `${k} is empty for a failed cell`);
      continue;
    }
    cell.reps.forEach((rep, i) => {
      const r = mine[i]!;
      assert.equal(r[col('rep')], String(i + 1));
      assert.ok(Math.abs(Number(r[col('rps')]) - rep.rps) < 1e-3);
      assert.ok(Math.abs(Number(r[col('p99Ms')]) - rep.latencyMs.p99) < 1e-3);
      assert.ok(Math.abs(Number(r[col('p999Ms')]) - rep.latencyMs.p999) < 1e-3);
      assert.ok(Math.abs(Number(r[col('rstRate')]) - rep.rstRate) < 1e-6);
      assert.ok(Math.abs(Number(r[col('proxyCpuUsPerRequest')]) - (rep.proxy!.cpuS / rep.requests) * 1e6) < 0.01);
      assert.equal(r[col('headlineName')], rep.scenario?.headline.name ?? '');
    });
  }
});

test('results.csv: commas, quotes and line breaks are quoted, quotes doubled', async () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField(undefined), '');
  assert.equal(csvField(Number.NaN), '');
  assert.equal(csvField(0.5), '0.5');
  const text = formatCsv(await reportFixture());
  // The cell ids hold commas, a headline name holds commas and quotes: read back exactly.
  assert.match(text, /^"concurrency=1,connWindow=1048576,streamWindow=65535",1,/m);
  const rows = parseCsv(text);
  assert.ok(rows.some((r) => r.includes('victim goodput, "well-behaved"')));
});
