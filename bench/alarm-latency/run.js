// Runs the compiled benchmark (bench/src/alarm-latency/run.ts → bench/dist/alarm-latency/run.js); build first: npm run bench:alarm-latency
import '../dist/alarm-latency/run.js';
