import { describe } from 'vitest';
import { ledgerSuite } from './ledger-suite.js';
import { sqliteFile } from './support.js';

describe('hazard ledger on SQLite', () => {
  ledgerSuite(sqliteFile);
});
