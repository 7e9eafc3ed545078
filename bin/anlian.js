#!/usr/bin/env node
// Runs the compiled command line (bin/src/anlian.ts); `npm run build` or `./anlian` builds it.
import './dist/anlian.js';
