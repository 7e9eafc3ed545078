import { io, type Socket } from 'socket.io-client';
import { ref } from 'vue';
import type { Delta, SnapshotAnswer } from '../../../src/live/live-wire';

export const connected = ref(false);
/** When the last snapshot or change arrived (epoch ms): what a screen says it shows when the link is down. */
export const lastUpdate = ref<number | null>(null);
/** The last subscription that failed, for the status line. */
export const liveError = ref<string | null>(null);

let socket: Socket | undefined;
const rooms = new Map<string, RoomHandlers>();
const lastSeq = new Map<string, number>();

interface RoomHandlers {
  snapshot: (snapshot: unknown, seq: number) => void;
  delta: (delta: Delta) => void;
}

function ensureSocket(): Socket {
  if (socket) return socket;
  const s = io({ transports: ['websocket', 'polling'], withCredentials: true });
  s.on('connect', () => {
    connected.value = true;
    // Recovered: socket.io replayed what we missed, in order. Otherwise ask for fresh snapshots.
    if (!s.recovered) for (const room of rooms.keys()) void requestSnapshot(room);
  });
  s.on('disconnect', () => {
    connected.value = false;
  });
  s.on('delta', (d: Delta) => {
    const handlers = rooms.get(d.room);
    const last = lastSeq.get(d.room);
    if (!handlers || last === undefined) return;
    if (d.seq <= last) return; // already applied (a replay after recovery)
    if (d.seq !== last + 1) {
      // A gap: something was lost; a new snapshot is the only safe state.
      void requestSnapshot(d.room);
      return;
    }
    lastSeq.set(d.room, d.seq);
    lastUpdate.value = Date.now();
    handlers.delta(d);
  });
  socket = s;
  return s;
}

async function requestSnapshot(room: string): Promise<void> {
  const s = ensureSocket();
  lastSeq.delete(room);
  const answer = (await s.timeout(10_000).emitWithAck('subscribe', { room })) as SnapshotAnswer;
  const handlers = rooms.get(room);
  if (!handlers) return;
  if (!answer.ok) throw new Error(`${answer.code}: ${answer.message}`);
  lastSeq.set(room, answer.seq);
  lastUpdate.value = Date.now();
  handlers.snapshot(answer.snapshot, answer.seq);
}

/** Watches a room: a snapshot now (and after any gap or long disconnection), then deltas in order. */
export function watchRoom(room: string, handlers: RoomHandlers): () => void {
  const s = ensureSocket();
  rooms.set(room, handlers);
  const start = () => {
    requestSnapshot(room).catch((err: unknown) => {
      liveError.value = `${room}: ${(err as Error).message}`;
    });
  };
  if (s.connected) start();
  // Otherwise the connect handler asks once connected.
  return () => {
    rooms.delete(room);
    lastSeq.delete(room);
    if (s.connected) s.emit('unsubscribe', { room });
  };
}

export function disconnectLive(): void {
  socket?.disconnect();
  socket = undefined;
  rooms.clear();
  lastSeq.clear();
}
