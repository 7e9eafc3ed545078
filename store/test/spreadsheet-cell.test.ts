import { describe, expect, it } from 'vitest';
import { neutraliseFormula, restoreNeutralised } from '../src/spreadsheet-cell.js';

describe('spreadsheet cells', () => {
  it('puts an apostrophe before text a spreadsheet would run as a formula', () => {
    for (const text of ['=HYPERLINK("http://x","点我")', '+86 138', '-1', '@SUM(A1)', '\t=1', '\r=1']) {
      expect(neutraliseFormula(text)).toBe(`'${text}`);
    }
  });

  it('leaves other text alone', () => {
    for (const text of ['测试养老院A', 'a=b', ' =1', "'=already", '', '13800138000']) {
      expect(neutraliseFormula(text)).toBe(text);
    }
  });

  it('undoes itself on a file read back, and nothing else', () => {
    for (const text of ['=1+1', '+86', '-1', '@x', '\t=1', '平房', "it's"]) {
      expect(restoreNeutralised(neutraliseFormula(text))).toBe(text);
    }
    expect(restoreNeutralised("'quoted")).toBe("'quoted");
  });
});
