// An incremental reader for a Kubernetes list response: it finds the elements
// of the top-level "items" array as the bytes arrive and hands each one,
// parsed, to a callback, so a list costs the memory of one item plus what
// the caller keeps, never the whole body as one string. Everything outside
// "items" (kind, apiVersion, metadata.continue) is kept as a small skeleton
// and parsed at the end.
//
// It only tracks structure (strings, escapes, nesting); JSON.parse of each
// item and of the skeleton does the validation. Structural characters are
// ASCII, so scanning UTF-8 bytes is safe.

const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c, COLON = 0x3a;
const OPEN_OBJ = 0x7b, CLOSE_OBJ = 0x7d, OPEN_ARR = 0x5b, CLOSE_ARR = 0x5d;
const ITEMS_KEY = Buffer.from('"items"');

const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/**
 * Deepest nesting of JSON the client parses. Kubernetes objects nest a few
 * dozen levels; JSON.stringify and recursive readers overflow the stack near
 * 10^4 (client-go's decoder stops at 10^4 too), so deeper is a hostile body.
 */
export const MAX_JSON_DEPTH = 1000;

/** A body nested deeper than MAX_JSON_DEPTH. */
export class TooDeepError extends Error {
  constructor() {
    super(`JSON nested more than ${MAX_JSON_DEPTH} deep`);
    this.name = 'TooDeepError';
  }
}

/** Throws TooDeepError when a whole JSON text nests deeper than MAX_JSON_DEPTH (strings skipped). */
export function assertDepth(buf: Buffer): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i]!;
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
      continue;
    }
    if (b === QUOTE) inString = true;
    else if (b === OPEN_OBJ || b === OPEN_ARR) { if (++depth > MAX_JSON_DEPTH) throw new TooDeepError(); }
    else if (b === CLOSE_OBJ || b === CLOSE_ARR) depth--;
  }
}

export class ListStreamParser {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Bytes of the current depth-1 string (a key candidate), kept only while it could be "items". */
  private key: number[] | undefined;
  private lastKeyIsItems = false;
  /** After `"items":` at depth 1, waiting for the value. */
  private awaitingItems = false;
  /** Inside the items array (its depth is 2). */
  private inItems = false;
  /** Pieces of the item being read, and whether one is open. */
  private item: Buffer[] = [];
  private itemOpen = false;
  private skeleton: Buffer[] = [];
  /** Bytes held for the item being read and the skeleton (the response budget counts them). */
  private itemBytes = 0;
  private skeletonBytes = 0;
  itemCount = 0;

  get buffered(): number {
    return this.itemBytes + this.skeletonBytes;
  }

  constructor(private readonly onItem: (item: unknown) => void) {}

  /** Feed the next chunk. Throws SyntaxError (from JSON.parse) on a malformed item. */
  write(chunk: Buffer): void {
    // Bytes [from, i) belong to the skeleton or to the current item.
    let from = 0;
    const n = chunk.length;
    // Position of the next backslash, found once per chunk region (not once per string).
    let bs = -1;
    for (let i = 0; i < n; i++) {
      const b = chunk[i]!;
      if (this.inString) {
        if (this.escaped) { this.escaped = false; if (this.key) this.key.push(b); continue; }
        // Jump to the next quote or backslash: most bytes of a list are inside strings.
        if (b !== QUOTE && b !== BACKSLASH) {
          const q = chunk.indexOf(QUOTE, i);
          if (bs !== n && bs < i) { bs = chunk.indexOf(BACKSLASH, i); if (bs < 0) bs = n; }
          let next = q < 0 ? bs : Math.min(q, bs);
          if (next < 0) next = n;
          if (this.key) {
            for (let j = i; j < next && this.key.length <= ITEMS_KEY.length; j++) this.key.push(chunk[j]!);
            if (this.key.length > ITEMS_KEY.length) this.key = undefined;
          }
          i = next - 1;
          continue;
        }
        if (b === BACKSLASH) { this.escaped = true; if (this.key) this.key.push(b); continue; }
        this.inString = false; // closing quote
        if (this.key) {
          this.key.push(b);
          this.lastKeyIsItems = this.key.length === ITEMS_KEY.length && Buffer.from(this.key).equals(ITEMS_KEY);
          this.key = undefined;
        }
        continue;
      }
      if (isSpace(b)) continue;
      if (this.inItems && this.depth === 2) {
        // Between items: ',' separates, ']' ends the array, anything else starts an item.
        if (b === COMMA || b === CLOSE_ARR) {
          if (this.itemOpen) { this.keepItem(chunk.subarray(from, i)); this.emit(); }
          from = i; // the skeleton never sees items; the ']' itself is kept below
          if (b === CLOSE_ARR) { this.inItems = false; this.depth--; }
          else from = i + 1;
          continue;
        }
        if (!this.itemOpen) { this.itemOpen = true; from = i; }
      }
      if (b === QUOTE) {
        this.inString = true;
        if (this.depth === 1 && !this.inItems) this.key = [b];
        continue;
      }
      if (this.depth === 1 && b === COLON) { this.awaitingItems = this.lastKeyIsItems; this.lastKeyIsItems = false; continue; }
      if (this.depth === 1 && b === COMMA) { this.lastKeyIsItems = false; continue; }
      if (b === OPEN_OBJ || b === OPEN_ARR) {
        if (++this.depth > MAX_JSON_DEPTH) throw new TooDeepError();
        if (this.awaitingItems && this.depth === 2 && b === OPEN_ARR) {
          this.inItems = true;
          this.keepSkeleton(chunk.subarray(from, i + 1));
          from = i + 1;
        }
        this.awaitingItems = false;
        continue;
      }
      this.awaitingItems = false;
      if (b === CLOSE_OBJ || b === CLOSE_ARR) {
        this.depth--;
        if (this.inItems && this.depth === 2 && this.itemOpen) {
          // An object or array item just closed.
          this.keepItem(chunk.subarray(from, i + 1));
          from = i + 1;
          this.emit();
        }
      }
    }
    if (this.inItems && this.itemOpen) this.keepItem(chunk.subarray(from));
    else if (!this.inItems) this.keepSkeleton(chunk.subarray(from));
  }

  private keepItem(b: Buffer): void {
    this.item.push(b);
    this.itemBytes += b.length;
  }

  private keepSkeleton(b: Buffer): void {
    this.skeleton.push(b);
    this.skeletonBytes += b.length;
  }

  private emit(): void {
    const text = Buffer.concat(this.item).toString('utf8');
    this.item = [];
    this.itemBytes = 0;
    this.itemOpen = false;
    if (!text.trim()) return;
    this.itemCount++;
    this.onItem(JSON.parse(text));
  }

  /** The body without its items (items: [] or null as sent). Throws SyntaxError when it is not JSON. */
  end(): unknown {
    if (this.inString || this.depth !== 0) throw new SyntaxError('unexpected end of JSON');
    return JSON.parse(Buffer.concat(this.skeleton).toString('utf8'));
  }
}
