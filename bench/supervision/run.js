// Runs the compiled benchmark (bench/src/supervision/run.ts → bench/dist/supervision/run.js); build first: npx tsc -b bench
import '../dist/supervision/run.js';
