// Every sluice dashboard as an object, its committed file, and the queries of its panels (for the tests).
import type { Dashboard, Panel, RowPanel } from '@grafana/grafana-foundation-sdk/dashboard';
import { fileURLToPath } from 'node:url';
import { liveRun } from './live-run.js';
import { nightlyTrends } from './nightly-trends.js';

/** grafana/dashboards/ in the checkout (this file runs from dist/grafana/src/). */
export const DASHBOARDS_DIR = fileURLToPath(new URL('../../../grafana/dashboards/', import.meta.url));

export function allDashboards(): Dashboard[] {
  return [liveRun(), nightlyTrends()].map(numberPanels);
}

/** The file a dashboard is written to: its uid. */
export function dashboardFile(dashboard: Dashboard): string {
  if (!dashboard.uid) throw new Error(`dashboard ${dashboard.title ?? '?'} has no uid`);
  return `${dashboard.uid}.json`;
}

/** The committed text: pretty-printed, a trailing newline (the builders' own order of keys, so deterministic). */
export function renderDashboard(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}

export const isRow = (panel: Panel | RowPanel): panel is RowPanel => panel.type === 'row';

/** Every panel, rows' nested (collapsed) panels included, rows themselves too. */
export function walkPanels(dashboard: Dashboard): (Panel | RowPanel)[] {
  return (dashboard.panels ?? []).flatMap((panel) => (isRow(panel) ? [panel, ...panel.panels] : [panel]));
}

export interface PanelQuery {
  panelTitle: string;
  refId: string;
  expr: string;
}

/** Each Prometheus query of each panel. */
export function panelQueries(dashboard: Dashboard): PanelQuery[] {
  return walkPanels(dashboard).flatMap((panel) =>
    isRow(panel)
      ? []
      : (panel.targets ?? []).map((target) => {
          const { refId, expr } = target as { refId?: string; expr?: string };
          return { panelTitle: panel.title ?? '', refId: refId ?? '', expr: expr ?? '' };
        }),
  );
}

/** The SDK leaves panel ids unset (rows at 0): number them in order, so each is unique in its dashboard. */
function numberPanels(dashboard: Dashboard): Dashboard {
  let id = 0;
  for (const panel of walkPanels(dashboard)) panel.id = ++id;
  return dashboard;
}
