// The only code report.html runs: it reads the chart specs (chart-spec.ts) embedded as JSON and draws each with
// uPlot. Kept as plain ES5-style browser JavaScript in a string, with no template literals inside, because it is
// inlined into the page as it is; everything it could compute was computed in Node already.
export const DRAW_SCRIPT = String.raw`
(function () {
  'use strict';
  var spec = JSON.parse(document.getElementById('sluice-charts').textContent);
  var palette = spec.palette;
  var AXIS_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif';

  function fmt(v) {
    if (v == null || !isFinite(v)) return '-';
    var a = Math.abs(v);
    if (a === 0) return '0';
    if (Number.isInteger(v)) return String(v);
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    if (a >= 1) return v.toFixed(2);
    return v.toPrecision(2);
  }

  // x = 1/(1-p): 10 is 90%, 100 is 99%, 1000 is 99.9%.
  function percentileLabel(x) {
    var p = 100 * (1 - 1 / x);
    if (p <= 0) return '0%';
    return p.toFixed(Math.max(0, Math.round(Math.log10(x)) - 2)) + '%';
  }

  function width(el) {
    return Math.max(360, Math.min(el.clientWidth || 800, 1100));
  }

  function lineOpts(c, el) {
    var xs = c.x.values;
    var percentile = c.x.scale === 'percentile';
    var xScale = { time: false };
    if (c.x.scale !== 'linear') { xScale.distr = 3; xScale.log = c.x.scale === 'log2' ? 2 : 10; }
    var splits = xs.slice();
    if (percentile) {
      splits = [];
      var top = Math.ceil(Math.log10(Math.max(10, xs[xs.length - 1] || 10)));
      for (var k = 0; k <= top; k++) splits.push(Math.pow(10, k));
      xScale.range = function () { return [1, Math.pow(10, top)]; };
    }
    return {
      title: c.title,
      width: width(el),
      height: 320,
      // A static legend: the exact numbers are in the cells table and results.csv.
      legend: { live: false },
      scales: {
        x: xScale,
        y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.08 : 1]; } },
      },
      axes: [
        {
          label: c.x.label,
          splits: function () { return splits; },
          values: function (u, vals) { return vals.map(function (v) { return percentile ? percentileLabel(v) : fmt(v); }); },
        },
        { label: c.y.label, size: 60, values: function (u, vals) { return vals.map(fmt); } },
      ],
      series: [{ label: percentile ? 'percentile' : c.x.label, value: function (u, v) { return percentile ? percentileLabel(v) : fmt(v); } }].concat(
        c.series.map(function (s, i) {
          return {
            label: s.label,
            stroke: palette[i % palette.length],
            width: 2,
            spanGaps: true,
            points: { show: !percentile, size: 6 },
            value: function (u, v) { return fmt(v); },
          };
        })
      ),
    };
  }

  function lineData(c) {
    return [c.x.values].concat(c.series.map(function (s) { return s.values; }));
  }

  // Horizontal bars: the category axis (x) runs down the left, values along the bottom. Stacked bars are drawn as
  // running totals, the largest first, so each later (shorter) one covers its share of the bar.
  function barOpts(c, el) {
    var n = c.categories.length;
    // The category axis is as wide as its longest label, measured in uPlot's own axis font.
    var ctx = document.createElement('canvas').getContext('2d');
    ctx.font = AXIS_FONT;
    var longest = c.categories.reduce(function (m, s) { return Math.max(m, ctx.measureText(s).width); }, 0);
    var order = c.series.map(function (s, i) { return i; });
    if (c.stacked) order.reverse();
    var max = 0;
    for (var j = 0; j < n; j++) {
      var sum = 0;
      for (var i = 0; i < c.series.length; i++) sum = c.stacked ? sum + c.series[i].values[j] : Math.max(sum, c.series[i].values[j]);
      max = Math.max(max, sum);
    }
    return {
      title: c.title,
      width: width(el),
      height: 90 + n * 24,
      legend: { live: false, show: c.series.length > 1 },
      scales: {
        x: { time: false, ori: 1, dir: -1, range: function () { return [-0.5, n - 0.5]; } },
        y: { ori: 0, dir: 1, range: function () { return [0, max > 0 ? max * 1.08 : 1]; } },
      },
      axes: [
        {
          side: 3,
          size: Math.ceil(Math.min(480, 24 + longest)),
          font: AXIS_FONT,
          grid: { show: false },
          splits: function () { return c.categories.map(function (_, k) { return k; }); },
          values: function (u, vals) { return vals.map(function (v) { return c.categories[v] || ''; }); },
        },
        { side: 2, label: c.valueLabel, space: 80, values: function (u, vals) { return vals.map(fmt); } },
      ],
      series: [{ label: 'cell', value: function (u, v) { return v == null ? '-' : c.categories[v] || ''; } }].concat(
        order.map(function (i) {
          var colour = palette[i % palette.length];
          return {
            label: c.series[i].label,
            stroke: colour,
            fill: colour,
            width: 0,
            points: { show: false },
            paths: uPlot.paths.bars({ size: [0.7, 28], align: 0 }),
            value: function (u, v, si, idx) { return idx == null ? '-' : fmt(c.series[i].values[idx]); },
          };
        })
      ),
    };
  }

  function barData(c) {
    var xs = c.categories.map(function (_, k) { return k; });
    var order = c.series.map(function (s, i) { return i; });
    if (!c.stacked) return [xs].concat(order.map(function (i) { return c.series[i].values; }));
    return [xs].concat(order.reverse().map(function (i) {
      return xs.map(function (k) {
        var total = 0;
        for (var s = 0; s <= i; s++) total += c.series[s].values[k];
        return total;
      });
    }));
  }

  var drawn = 0;
  spec.charts.forEach(function (c) {
    var el = document.querySelector('[data-chart="' + c.id + '"]');
    if (!el) { console.error('sluice report: no place for chart ' + c.id); return; }
    try {
      if (c.kind === 'line') new uPlot(lineOpts(c, el), lineData(c), el);
      else new uPlot(barOpts(c, el), barData(c), el);
      drawn++;
    } catch (err) {
      el.textContent = 'This chart could not be drawn: ' + err;
      console.error(err);
    }
  });
  document.body.setAttribute('data-charts-drawn', String(drawn));
})();
`;
