/**
 * @anlian/bus — the county services' side of the MQTT broker: gateway messages in lanes
 * (`CountyFeed`), alert changes and alerting configuration notices between services
 * (`AlertBus`), stored video-review pictures announced to dashboards (`MediaBus`), and the connection options (credentials, the county's CA for TLS).
 */
export { AlertBus, type AlertBusOptions } from './alert-change-bus.js';
export { BrokerEnv, brokerFromEnv } from './broker-env.js';
export { type BrokerOptions, mqttClientOptions, safeBrokerUrl } from './broker-options.js';
export { CountyFeed, type CountyFeedOptions, type FeedLane } from './county-feed.js';
export { updateLatestState } from './latest-state.js';
export {
  type DeviceState,
  type GatewayStateEntry,
  LatestStateCache,
  type LatestStateSnapshot,
} from './latest-state-cache.js';
export { MediaBus, type MediaBusOptions } from './media-bus.js';
