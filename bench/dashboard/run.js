// Runs the compiled benchmark (bench/src/dashboard/run.ts → bench/dist/dashboard/run.js); build first: npx tsc -b bench
import '../dist/dashboard/run.js';
