/**
 * Real servers for integration tests and benchmarks: each on 127.0.0.1 at a free port with its
 * data in a temporary directory, stopped and removed by `stop()`.
 */
export { type PortReservation, reservePort } from '@anlian/timeseries';
export { type FixtureInstitution, fixtureRoom, twoInstitutionCounty } from './county-fixture.js';
export { type Influxd, type InfluxdOptions, startInfluxd } from './influxd.js';
export * from './mosquitto.js';
export * from './null-influx.js';
export * from './postgres.js';
export * from './redis.js';
export * from './tls-certificates.js';
export { type ReceivedPush, startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';
