import type { AdapterConfig } from '../config/gateway-config.js';
import type { AdapterDeps, DeviceAdapter } from './device-adapter.js';

/**
 * The one place that maps an adapter's configuration to its unit. A camera adapter (ONVIF +
 * ffmpeg) or a GB 26875.3 fire-panel adapter adds its config variant in `AdapterConfig` and a
 * case here; the compiler then points at this switch until it is handled.
 *
 * Each adapter's module loads only when configured: a gateway box is small, and a protocol
 * library it does not use (modbus-serial, later onvif) costs resident memory for nothing.
 */
export async function createAdapter(config: AdapterConfig, deps: AdapterDeps): Promise<DeviceAdapter> {
  switch (config.type) {
    case 'lan-mqtt': {
      const { LanMqttAdapter } = await import('./lan-mqtt-adapter.js');
      return new LanMqttAdapter(config, deps);
    }
    case 'modbus-tcp': {
      const { ModbusTcpAdapter } = await import('./modbus-tcp-adapter.js');
      return new ModbusTcpAdapter(config, deps);
    }
    case 'camera': {
      const { CameraAdapter } = await import('./camera/camera-adapter.js');
      return new CameraAdapter(config, deps);
    }
    case 'gb26875': {
      const { FirePanelAdapter } = await import('./fire-panel/fire-panel-adapter.js');
      return new FirePanelAdapter(config, deps);
    }
    default: {
      const never: never = config;
      throw new Error(`unknown adapter type ${(never as { type: string }).type}`);
    }
  }
}
