import { describe } from 'vitest';
import { ledgerSuite } from './ledger-suite.js';
import { postgres } from './support.js';

describe('hazard ledger on PostgreSQL', () => {
  ledgerSuite(postgres);
});
