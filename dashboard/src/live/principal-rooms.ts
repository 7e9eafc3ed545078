import type { Server, Socket } from 'socket.io';
import type { Principal } from '../auth/principal.js';

/** The socket.io room of every live connection of one principal (a user, or a kiosk token as `kiosk:<id>`). */
export const principalRoom = (principalId: string): string => `principal:${principalId}`;
/** The socket.io room of the live connections of one session. */
export const sessionRoom = (sessionId: string): string => `session:${sessionId}`;

/** Puts a newly authenticated socket in its principal's and its session's rooms. */
export function joinPrincipalRooms(socket: Socket, p: Principal): void {
  void socket.join([principalRoom(p.id), sessionRoom(p.sessionId)]);
}

/**
 * Ends live connections the moment the sessions behind them end — a socket is authenticated
 * only when it connects, so without this a signed-out, disabled or revoked principal would keep
 * receiving the county's live feed. Through rooms and `disconnectSockets`, which a socket.io
 * adapter (the Redis Streams one across dashboard nodes) carries to every node.
 */
export class LiveSessions {
  #io: Server | undefined;

  attach(io: Server): void {
    this.#io = io;
  }

  /** Signing out: that session's sockets. */
  endSession(sessionId: string): void {
    this.#io?.in(sessionRoom(sessionId)).disconnectSockets(true);
  }

  /** Password or role changed, user disabled, kiosk token revoked: every socket of the principal. */
  endPrincipal(principalId: string): void {
    this.#io?.in(principalRoom(principalId)).disconnectSockets(true);
  }
}
