/** The storage seam: resolves once the lines are durable (on disk in the spool). `InfluxWriter` is one. */
export interface LineStore {
  write(lines: string[], opts?: { priority?: 'event' | 'telemetry'; retentionPolicy?: string }): Promise<void>;
}
