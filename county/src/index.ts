/**
 * @anlian/county — a county composed from the services' builders. `startAllInOne` is `anlian up`
 * (and the all-in-one benches and tests); the production form runs the same builders as separate
 * services (`anlian ingest`, `anlian alerting`, `anlian dashboard`).
 */
export { type AllInOneCounty, type AllInOneOptions, startAllInOne } from './all-in-one.js';
