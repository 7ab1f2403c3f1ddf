// `npm run dashboards`: writes grafana/dashboards/<uid>.json from the code, removes a JSON file no dashboard
// generates any more (a renamed uid), so the folder is exactly what the code makes, and rewrites the panel tables
// of grafana/README.md.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { allDashboards, dashboardFile, DASHBOARDS_DIR, renderDashboard } from './dashboards.js';
import { README, withPanelTables } from './readme.js';

const dashboards = allDashboards();
const written = new Set<string>();
for (const dashboard of dashboards) {
  const file = dashboardFile(dashboard);
  writeFileSync(path.join(DASHBOARDS_DIR, file), renderDashboard(dashboard));
  written.add(file);
  console.log(`grafana/dashboards/${file}`);
}
for (const file of readdirSync(DASHBOARDS_DIR)) {
  if (file.endsWith('.json') && !written.has(file)) {
    rmSync(path.join(DASHBOARDS_DIR, file));
    console.log(`removed grafana/dashboards/${file}`);
  }
}
writeFileSync(README, withPanelTables(readFileSync(README, 'utf8'), dashboards));
console.log('grafana/README.md (panel tables)');
