import path from 'node:path';
import type { OpenedDatabase } from '../database.js';
import { DatabaseMediaStore } from './database-media-store.js';
import { FilesystemMediaStore } from './filesystem-media-store.js';
import type { MediaStore } from './media-store.js';

/**
 * The county's media store for a service on this operational store: on PostgreSQL (the production
 * form, services on several servers) the store's `media` table, which every ingest replica and
 * dashboard node shares; on SQLite (the all-in-one, one process) files under the data directory's
 * `media/`. ingest and the dashboard both choose through here, so they always agree.
 */
export function openMediaStore(database: Pick<OpenedDatabase, 'db' | 'dialect'>, dataDir: string): MediaStore {
  return database.dialect === 'postgres'
    ? new DatabaseMediaStore({ db: database.db })
    : new FilesystemMediaStore({ root: path.join(dataDir, 'media') });
}
