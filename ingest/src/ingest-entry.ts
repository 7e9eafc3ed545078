// The county ingest as a process of its own: `node ingest/dist/ingest-entry.js` (configured by its
// environment, as `anlian ingest`). ingest/bin/anlian-ingest runs it with its memory flags.
import { runIngestCommand } from './main.js';

await runIngestCommand();
