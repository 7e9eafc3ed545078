/** Integration tests: a throwaway influxd on a free port in a temporary directory. */
export { type Influxd, type InfluxdOptions, startInfluxd } from '@anlian/timeseries';
