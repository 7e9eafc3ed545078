import { reservePort } from '@anlian/testing';
import { ServerTCP } from 'modbus-serial';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceReading, SubmitOutcome } from '../src/adapters/device-reading.js';
import { decodeRegisters, ModbusTcpAdapter } from '../src/adapters/modbus-tcp-adapter.js';
import { systemClock } from '../src/clock.js';
import { ModbusTcpAdapterConfig } from '../src/config/gateway-config.js';
import { silentLogger } from '../src/logger.js';
import { waitFor } from './support/gateway-fixture.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** Simulated transmitters: holding registers per unit id. */
async function startTransmitters(port: number, registers: Map<string, number>): Promise<() => Promise<void>> {
  const server = new ServerTCP(
    {
      getHoldingRegister: (addr: number, unitID: number) => {
        const v = registers.get(`${unitID}:${addr}`);
        if (v === undefined) throw Object.assign(new Error('illegal address'), { modbusErrorCode: 0x02 });
        return v;
      },
      getInputRegister: (addr: number, unitID: number) => registers.get(`${unitID}:in${addr}`) ?? 0,
    },
    { host: '127.0.0.1', port, unitID: 255 },
  );
  await new Promise<void>((resolve) => server.once('initialized', () => resolve()));
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('Modbus TCP adapter', () => {
  it('decodes the register formats', () => {
    expect(decodeRegisters('uint16', [65535])).toBe(65535);
    expect(decodeRegisters('int16', [65535])).toBe(-1);
    expect(decodeRegisters('uint32', [1, 2])).toBe(65538);
    expect(decodeRegisters('int32', [0xffff, 0xfffe])).toBe(-2);
    expect(decodeRegisters('float32', [0x3f9a, 0x0000])).toBeCloseTo(1.203125);
  });

  it('polls pressure and temperature transmitters; a silent one raises fault, then restore', async () => {
    // Reserved for the whole test: the transmitters go silent and come back on the same port.
    const reservation = await reservePort();
    cleanups.push(() => reservation.release());
    const { port } = reservation;
    const registers = new Map<string, number>([
      ['1:0', 121], // ext-1 pressure, 0.01 MPa per unit
      ['1:1', 235], // ext-1 temperature, 0.1 °C per unit
      ['2:10', 0x4214], // kit-1 temperature, float32 37.0 °C (0x42140000)
      ['2:11', 0x0000],
    ]);
    let stopServer = await startTransmitters(port, registers);
    cleanups.push(() => stopServer());

    const readings: DeviceReading[] = [];
    const sink = {
      submit(r: DeviceReading): SubmitOutcome {
        readings.push(r);
        return { ok: true, queued: true, durable: Promise.resolve() };
      },
    };
    const config = ModbusTcpAdapterConfig.parse({
      type: 'modbus-tcp',
      host: '127.0.0.1',
      port,
      pollMs: 100,
      timeoutMs: 300,
      faultAfter: 2,
      registers: [
        { device: 'ext-1', unitId: 1, address: 0, scale: 0.01, field: 'pressure' },
        { device: 'ext-1', unitId: 1, address: 1, scale: 0.1, field: 'temperature' },
        { device: 'kit-1', unitId: 2, address: 10, format: 'float32', field: 'temperature' },
      ],
    });
    const adapter = new ModbusTcpAdapter(config, {
      sink,
      clock: systemClock,
      logger: silentLogger(),
      devices: new Map(),
    });
    await adapter.start();
    cleanups.push(() => adapter.stop());

    expect(await waitFor(() => readings.length >= 2)).toBe(true);
    expect(readings.slice(0, 2)).toEqual([
      { device: 'ext-1', message: 'telemetry', fields: { pressure: 1.21, temperature: 23.5 } },
      { device: 'kit-1', message: 'telemetry', fields: { temperature: 37 } },
    ]);
    expect(adapter.health().ok).toBe(true);

    await stopServer();
    expect(await waitFor(() => readings.filter((r) => r.message === 'event').length >= 2, 10_000)).toBe(true);
    const events = readings.filter((r) => r.message === 'event');
    expect(events.map((e) => [e.device, e.fields.event])).toEqual([
      ['ext-1', 'fault'],
      ['kit-1', 'fault'],
    ]);
    expect(adapter.health().ok).toBe(false);

    stopServer = await startTransmitters(port, registers);
    expect(await waitFor(() => readings.filter((r) => r.fields.event === 'restore').length === 2, 10_000)).toBe(true);
    expect(await waitFor(() => adapter.health().ok)).toBe(true);
  });
});
