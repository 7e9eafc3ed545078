// Runs the compiled benchmark (bench/src/ingest/run.ts → bench/dist/ingest/run.js); build first: npm run bench:ingest
import '../dist/ingest/run.js';
