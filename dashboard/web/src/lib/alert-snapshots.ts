import { onBeforeUnmount, type Ref, ref, shallowRef, watch } from 'vue';
import { type AlertSnapshot, type SnapshotNotice, snapshotBelongsTo } from '../../../src/alerts/alert-snapshot';
import type { Alert } from '../../../src/alerts/alerts-port';
import { api } from './api-client';
import { connected } from './live-room';

/**
 * Video review (视频复核) in the browser: the pictures the gateway took of a fire alarm's zone.
 * They arrive a second or two after the alarm (and a few seconds later again). The live feed
 * announces each one (`snapshot` deltas, kept here); `GET /api/alerts/:id/snapshots` gives those
 * that came before the view opened, and is asked again as a fallback — every 2 s while the alert
 * is young and the live feed is down, every 15 s while it is up (a dashboard node without live
 * pictures), every 30 s once the alert is older.
 */

/** Pushed pictures, newest last; a few hundred at most. */
const pushed = shallowRef<SnapshotNotice[]>([]);
const MAX_PUSHED = 300;

/** A `snapshot` delta arrived (county or institution room): keep it for the alerts it documents. */
export function notePushedSnapshot(n: SnapshotNotice): void {
  if (pushed.value.some((p) => p.url === n.url)) return;
  const next = [...pushed.value, n];
  pushed.value = next.length > MAX_PUSHED ? next.slice(-MAX_PUSHED) : next;
}

const YOUNG_MS = 2 * 60_000;

/** The alert's pictures, pushed and fetched together, by shot then camera. */
export function useAlertSnapshots(alert: Ref<Alert | undefined>): Ref<AlertSnapshot[]> {
  const fetched = ref<AlertSnapshot[]>([]);
  const all = ref<AlertSnapshot[]>([]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let loadedFor: string | undefined;

  const merge = () => {
    const a = alert.value;
    if (!a) {
      all.value = [];
      return;
    }
    const byUrl = new Map<string, AlertSnapshot>();
    for (const s of fetched.value) byUrl.set(s.url, s);
    for (const n of pushed.value) {
      if (!byUrl.has(n.url) && snapshotBelongsTo(n, a, Date.now())) {
        const { institution: _i, detector: _d, causeTs: _c, ...s } = n;
        byUrl.set(n.url, s);
      }
    }
    all.value = [...byUrl.values()].sort((x, y) => x.shot - y.shot || x.camera.localeCompare(y.camera));
  };

  const load = async (): Promise<void> => {
    clearTimeout(timer);
    const a = alert.value;
    if (!a || stopped) return;
    try {
      const r = await api<{ snapshots: AlertSnapshot[] }>('GET', `/api/alerts/${encodeURIComponent(a.id)}/snapshots`);
      if (alert.value?.id !== a.id) return;
      fetched.value = r.snapshots;
      merge();
    } catch {
      // The next round asks again; the alert itself is shown regardless.
    }
    if (stopped || a.status === 'closed') return;
    const young = Date.now() - a.openedAt < YOUNG_MS;
    timer = setTimeout(() => void load(), !young ? 30_000 : connected.value ? 15_000 : 2000);
  };

  watch(
    () => alert.value?.id,
    (id) => {
      if (id === loadedFor) return;
      loadedFor = id;
      fetched.value = [];
      merge();
      void load();
    },
    { immediate: true },
  );
  watch(pushed, merge);
  // The live feed dropped: the poll takes over at once.
  watch(connected, (up) => {
    if (!up) void load();
  });
  onBeforeUnmount(() => {
    stopped = true;
    clearTimeout(timer);
  });
  return all;
}
