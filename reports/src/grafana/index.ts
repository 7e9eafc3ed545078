/** @anlian/reports/grafana — Grafana dashboards and provisioning files as code (issue 17 item 2). */
export { anlianDashboards, dashboardJson, GENERATED_NOTE, type GrafanaCounty } from './anlian-dashboards.js';
export { INFLUX_DS, PROMETHEUS_DS } from './datasources.js';
export {
  grafanaCountyFromFile,
  grafanaCountyFromStore,
  grafanaFiles,
  writeGrafanaFiles,
} from './grafana-files.js';
export { InfluxQLTargetBuilder } from './influxql-target.js';
