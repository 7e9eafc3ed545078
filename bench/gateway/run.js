// Runs the compiled benchmark (bench/src/gateway/run.ts → bench/dist/gateway/run.js); build first: npm run bench:gateway
import '../dist/gateway/run.js';
