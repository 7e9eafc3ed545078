import { describe, expect, it } from 'vitest';
import { SequenceWindow } from '../src/sequence-window.js';

describe('SequenceWindow', () => {
  it('reports redeliveries as duplicates, per gateway', () => {
    const w = new SequenceWindow(64);
    expect(w.check('a', 1)).toBe('new');
    expect(w.check('a', 2)).toBe('new');
    expect(w.check('a', 1)).toBe('duplicate');
    expect(w.check('b', 1)).toBe('new');
    expect(w.check('a', 2)).toBe('duplicate');
  });

  it('accepts numbers that arrive late but within the window', () => {
    const w = new SequenceWindow(64);
    // A gateway sends an event ahead of queued telemetry.
    expect(w.check('a', 50)).toBe('new');
    for (let s = 10; s < 50; s++) expect(w.check('a', s)).toBe('new');
    for (let s = 10; s <= 50; s++) expect(w.check('a', s)).toBe('duplicate');
  });

  it('forgets slots the window slides past, so their reuse modulo the size is new', () => {
    const w = new SequenceWindow(64);
    for (let s = 0; s < 64; s++) w.check('a', s);
    expect(w.check('a', 64 + 5)).toBe('new');
    expect(w.check('a', 64 + 3)).toBe('new');
    expect(w.check('a', 64 + 3)).toBe('duplicate');
    expect(w.check('a', 3)).toBe('out-of-window');
    expect(w.check('a', 10_000)).toBe('new');
    expect(w.check('a', 10_000 - 1)).toBe('new');
  });

  it('restarts when a gateway announces a counter below what was seen', () => {
    const w = new SequenceWindow(64);
    for (let s = 0; s < 20; s++) w.check('a', s);
    expect(w.restart('a', 25)).toBe(false);
    expect(w.check('a', 3)).toBe('duplicate');
    expect(w.restart('a', 0)).toBe(true);
    expect(w.check('a', 3)).toBe('new');
  });

  it('forget lets a message that failed to store be accepted again', () => {
    const w = new SequenceWindow(64);
    w.check('a', 7);
    w.forget('a', 7);
    expect(w.check('a', 7)).toBe('new');
  });
});
