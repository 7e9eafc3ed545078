// Runs the compiled benchmark (bench/src/fire-panel/run.ts → bench/dist/fire-panel/run.js); build first: npm run bench:fire-panel
import '../dist/fire-panel/run.js';
