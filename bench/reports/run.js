// Runs the compiled benchmark (bench/src/reports/run.ts → bench/dist/reports/run.js); build first: npx tsc -b bench
import '../dist/reports/run.js';
