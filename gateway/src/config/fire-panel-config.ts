import { SegmentId } from '@anlian/protocol';
import { z } from 'zod';

const Port = z.number().int().min(0).max(65_535);
/** A 48-bit GB/T 26875.3 address, as the decimal number the UITD's label shows. */
const Address = z
  .number()
  .int()
  .min(0)
  .max(2 ** 48 - 1);

/** A telemetry field an analog value (GB/T 26875.3 table 6) can fill. */
export const AnalogField = z.enum(['pressure', 'temperature', 'gasLel', 'residualCurrent', 'cableTemperature']);
export type AnalogField = z.infer<typeof AnalogField>;

/** One panel component reported as its own device (an electrical-fire detector channel, a gauge). */
export const FirePanelComponent = z
  .object({
    /** System address on the panel (系统地址); any when left out. */
    system: z.number().int().min(0).max(255).optional(),
    /** The component address as panels show it: loop/zone (low 16 bits) and point (high 16 bits). */
    loop: z.number().int().min(0).max(65_535),
    point: z.number().int().min(0).max(65_535),
    device: SegmentId,
  })
  .strict();
export type FirePanelComponent = z.infer<typeof FirePanelComponent>;

export const UitdEntry = z
  .object({
    /** The UITD's address: the source address of its frames. Only listed UITDs are served. */
    address: Address,
    /**
     * The device (kind `fire`) that the UITD and its panel report as: system and UITD status, the
     * link, and every component not listed in `components` (with the panel's zone and description).
     */
    device: SegmentId,
    components: z.array(FirePanelComponent).max(5000).default([]),
  })
  .strict();
export type UitdEntry = z.infer<typeof UitdEntry>;

/** A vendor's own analog type, or a different scale for a standard one. */
export const AnalogOverride = z
  .object({
    type: z.number().int().min(1).max(255),
    field: AnalogField,
    /** field value = raw int16 × scale, in the field's unit (MPa, °C, % LEL, mA). */
    scale: z.number(),
  })
  .strict();

export const Gb26875AdapterConfig = z
  .object({
    type: z.literal('gb26875'),
    name: z.string().min(1).max(64).default('fire-panel'),
    /** The UITD connects here as to its monitoring centre. Bind to the LAN side. */
    host: z.string().min(1).default('0.0.0.0'),
    port: Port.default(9000),
    /** Our address as a centre: the destination of the UITD's frames and the source of ours. */
    centreAddress: Address.default(0),
    uitds: z.array(UitdEntry).min(1).max(64),
    /** What the UITD does differently from the standard (gb26875 README: dialects). */
    dialect: z
      .object({
        time: z.enum(['binary', 'bcd']).default('binary'),
        checksum: z.enum(['sum', 'xor']).default('sum'),
        reply: z.enum(['standard', 'plus-0x80']).default('standard'),
        userVersion: z.number().int().min(0).max(255).default(1),
      })
      .strict()
      .prefault({}),
    /** The UITD's clock zone: time labels carry none (China: +480). */
    utcOffsetMinutes: z.number().int().min(-720).max(840).default(480),
    /** UITDs send a heartbeat every 20–30 s: the link is lost after this long without a frame. */
    linkTimeoutS: z.number().int().min(5).max(3600).default(90),
    /** A UITD that reconnects within this long after its link dropped is not reported offline. */
    offlineGraceS: z.number().min(0).max(3600).default(10),
    /** GB/T 26875.3 §6.5: wait this long for a confirm or answer (≤ 10 s), then resend. */
    replyTimeoutMs: z.number().int().min(100).max(60_000).default(10_000),
    /** §6.5: resends before a command fails (3). */
    retries: z.number().int().min(0).max(10).default(3),
    /** Set the UITD's clock (type 90) when it connects: the gateway's clock is NTP-disciplined. */
    syncClock: z.boolean().default(true),
    /**
     * While the link is up, the panel supervises its components: a telemetry message for the UITD
     * device (and each listed component device of a kind without required fields) this often keeps
     * the county's absence rules quiet. 0: never.
     */
    livenessEveryS: z.number().int().min(0).max(86_400).default(60),
    analog: z.array(AnalogOverride).max(64).default([]),
    maxConnections: z.number().int().min(1).max(1024).default(16),
  })
  .strict()
  .superRefine((c, ctx) => {
    const addresses = new Map<number, number>();
    c.uitds.forEach((u, i) => {
      const first = addresses.get(u.address);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `UITD address ${u.address} is listed twice (first at uitds.${first})`,
          path: ['uitds', i, 'address'],
        });
      } else addresses.set(u.address, i);
      const seen = new Set<string>();
      u.components.forEach((m, j) => {
        const key = `${m.system ?? '*'}/${m.loop}/${m.point}`;
        if (seen.has(key)) {
          ctx.addIssue({
            code: 'custom',
            message: `component ${m.loop}-${m.point} is mapped twice`,
            path: ['uitds', i, 'components', j],
          });
        }
        seen.add(key);
      });
    });
  });
export type Gb26875AdapterConfig = z.infer<typeof Gb26875AdapterConfig>;

/**
 * Checks a fire-panel adapter against the gateway's devices: every device it names exists, and a
 * UITD reports as a `fire` device (its panel's fire alarms are fire alarms).
 */
export function checkFirePanelDevices(
  a: Gb26875AdapterConfig,
  kindOf: (device: string) => string | undefined,
  at: (string | number)[],
  addIssue: (issue: { message: string; path: (string | number)[] }) => void,
): void {
  a.uitds.forEach((u, i) => {
    const kind = kindOf(u.device);
    if (kind === undefined)
      addIssue({ message: `device "${u.device}" is not in devices`, path: [...at, 'uitds', i, 'device'] });
    else if (kind !== 'fire') {
      addIssue({ message: `a UITD reports as a fire device, not ${kind}`, path: [...at, 'uitds', i, 'device'] });
    }
    u.components.forEach((m, j) => {
      if (kindOf(m.device) === undefined) {
        addIssue({
          message: `device "${m.device}" is not in devices`,
          path: [...at, 'uitds', i, 'components', j, 'device'],
        });
      }
    });
  });
}
