import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * `JSON.stringify({ ...head, ...arrays })`, with the arrays serialised `sliceSize` elements at a
 * time and the event loop let go between slices. For state saved periodically on the thread that
 * reads ingest's sockets: a county's 50,000 devices in one `JSON.stringify` held the loop for
 * ~100 ms every 30 s, and a fire alarm arriving then waited for it.
 *
 * The arrays are taken as they are when called; an element changed while an earlier slice is
 * written is written as it is when its own slice comes (each element is consistent in itself).
 */
export async function stringifyInSlices(
  head: Record<string, unknown>,
  arrays: Record<string, readonly unknown[]>,
  sliceSize = 2000,
): Promise<string> {
  const parts: string[] = [];
  const open = JSON.stringify(head);
  parts.push(open.slice(0, -1));
  let first = open === '{}';
  for (const [key, items] of Object.entries(arrays)) {
    parts.push(`${first ? '' : ','}${JSON.stringify(key)}:[`);
    first = false;
    let written = false;
    for (let i = 0; i < items.length; i += sliceSize) {
      if (i > 0) await nextTurn();
      const slice = JSON.stringify(items.slice(i, i + sliceSize));
      if (slice.length > 2) {
        parts.push(`${written ? ',' : ''}${slice.slice(1, -1)}`);
        written = true;
      }
    }
    parts.push(']');
  }
  parts.push('}');
  return parts.join('');
}
