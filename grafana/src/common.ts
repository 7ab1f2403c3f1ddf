// What every sluice dashboard shares: the provisioned Prometheus data source, selectors built from the dashboard's
// variables, and panel builders that carry what every panel must (the data source, a unit, the legend on, a
// refId on each query). grafana/ knows metric and label names only (harness/telemetry/README.md is the contract):
// it never imports harness/, proxy/ or workloads/.
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  QueryVariableBuilder,
  VariableRefresh,
  VariableSort,
  type DataTransformerConfig,
  type DynamicConfigValue,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** The uid grafana/provisioning/datasources/prometheus.yaml gives the data source (the static test compares them). */
export const DATASOURCE_UID = 'sluice-prometheus';
export const DATASOURCE = { type: 'prometheus', uid: DATASOURCE_UID } as const;

/** `label=~"$label"` per label. A variable at All is `.*`, which also matches a series without the label. */
export function matchVariables(labels: readonly string[]): string[] {
  return labels.map((label) => `${label}=~"$${label}"`);
}

/** `metric{m1, m2, ...}`. */
export function selector(metric: string, matchers: readonly string[]): string {
  return `${metric}{${matchers.join(', ')}}`;
}

/** A range query (a time series per label set); the legend names each series. */
export function query(refId: string, expr: string, legend: string): DataqueryBuilder {
  return new DataqueryBuilder().datasource(DATASOURCE).refId(refId).expr(expr).legendFormat(legend).range();
}

/** An instant query as a table: one row per series with its labels as columns (the table panels). */
export function tableQuery(refId: string, expr: string): DataqueryBuilder {
  return new DataqueryBuilder().datasource(DATASOURCE).refId(refId).expr(expr).instant().format(PromQueryFormat.Table);
}

/**
 * A multi-value query variable with All (`.*`), refreshed when the time range changes: label_values over the
 * range only lists what ran in it. Numeric labels sort as numbers (65535 before 1048576).
 */
export function labelVariable(name: string, label: string, labelValues: string, numeric = false): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCE)
    .query(labelValues)
    .definition(labelValues)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current({ selected: true, text: ['All'], value: ['$__all'] })
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(numeric ? VariableSort.NumericalAsc : VariableSort.AlphabeticalAsc);
}

export interface Size {
  w: number;
  h: number;
}

/** A time series panel with its legend shown (the SDK's default hides it) and a shared tooltip. */
export function timeSeries(title: string, unit: string, description: string, size: Size): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .span(size.w)
    .height(size.h)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom),
    )
    // Every series at the cursor, largest first: cells are compared at one moment.
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
}

/** A stat panel showing each series' last value. */
export function lastValueStat(title: string, unit: string, description: string, size: Size): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .span(size.w)
    .height(size.h)
    .graphMode(common.BigValueGraphMode.None)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
}

/** A table of one instant query, only the `columns` kept (in that order), the value column renamed. */
export function labelTable(
  title: string,
  description: string,
  size: Size,
  columns: readonly string[],
  valueName?: string,
): table.PanelBuilder {
  const keep = valueName === undefined ? columns : [...columns, 'Value'];
  const organize: DataTransformerConfig = {
    id: 'organize',
    options: {
      indexByName: Object.fromEntries(keep.map((c, i) => [c, i])),
      renameByName: valueName === undefined ? {} : { Value: valueName },
    },
  };
  // filterFieldsByName keeps the listed columns whatever other labels a series carries.
  const filter: DataTransformerConfig = { id: 'filterFieldsByName', options: { include: { names: [...keep] } } };
  return new table.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .span(size.w)
    .height(size.h)
    .transformations([filter, organize]);
}

/** Field override properties: a thin dashed line in one colour, how the gate's thresholds are drawn. */
export function dashedLine(color: string): DynamicConfigValue[] {
  return [
    { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
    { id: 'custom.lineWidth', value: 1 },
    { id: 'custom.fillOpacity', value: 0 },
    { id: 'color', value: { mode: 'fixed', fixedColor: color } },
  ];
}
