// pdfkit as the report uses it, without two of its per-call costs that a county's tables multiply:
// the same bytes as pdfkit's own calls (test/pdfkit-lean.test.ts compares them).

type Doc = PDFKit.PDFDocument;

/**
 * One line of text in a box `width` wide, left or right aligned — what pdfkit's
 * `text(s, x, y, { width, lineBreak: false, align })` draws for a line that fits (pdfkit: the
 * right-aligned line starts at `x + (width - its width without trailing spaces)`), without the
 * LineWrapper and Unicode line breaking pdfkit runs for every call given a width: a county's
 * tables are thousands of cells.
 */
export function textInBox(doc: Doc, text: string, x: number, y: number, width: number, align: 'left' | 'right'): void {
  const dx = align === 'right' ? width - doc.widthOfString(text.replace(/\s+$/, '')) : 0;
  doc.text(text, x + dx, y, { lineBreak: false });
}

/** A page's content stream as pdfkit keeps it (pdfkit does not type it). */
interface ContentStream {
  write(chunk: string | Uint8Array): void;
  finalize(): void;
}

/**
 * pdfkit makes every content operator its own Uint8Array (PDFReference.write: the operator's text
 * and a newline) and keeps them until the page is finalized at the end: a county's tables are
 * ~100,000 operators, ~12 MB of small typed arrays alive until then. Here each page's operators
 * are handed to pdfkit as one chunk per 64 KB of text, joined by the newline pdfkit puts after
 * each — the same bytes.
 */
export function batchContent(doc: Doc): void {
  const batch = () => {
    const content = (doc.page as unknown as { content: ContentStream }).content;
    const write = content.write.bind(content);
    const finalize = content.finalize.bind(content);
    let pending: string[] = [];
    let size = 0;
    const flush = () => {
      if (pending.length === 0) return;
      write(pending.join('\n'));
      pending = [];
      size = 0;
    };
    content.write = (chunk) => {
      if (typeof chunk !== 'string') {
        flush();
        write(chunk);
        return;
      }
      pending.push(chunk);
      size += chunk.length;
      if (size >= 65_536) flush();
    };
    content.finalize = () => {
      flush();
      finalize();
    };
  };
  batch(); // the first page, added by the constructor
  doc.on('pageAdded', batch);
}
