import { describe, expect, it } from 'vitest';
import { splitLines } from '../src/split-lines.js';

describe('splitLines', () => {
  it('splits on newlines and drops blank lines', () => {
    expect(splitLines('a f=1 1\n\nb f=2 2\n')).toEqual(['a f=1 1', 'b f=2 2']);
  });

  it('keeps a raw newline inside a string field value', () => {
    const body = 'fire,d=1 detail="one\ntwo",t=1 1\nfire,d=2 t=2 2\n';
    expect(splitLines(body)).toEqual(['fire,d=1 detail="one\ntwo",t=1 1', 'fire,d=2 t=2 2']);
  });

  it('is not fooled by escaped quotes, quotes in tags or escaped spaces', () => {
    const lines = ['fire,zone=a\\ "b t=1 1', 'fire,d=1 s="say \\"hi\\"\nthere",n=2i 2', 'fi\\ re,d=x\\,y s="a=b,c" 3'];
    expect(splitLines(lines.join('\n'))).toEqual(lines);
  });
});
