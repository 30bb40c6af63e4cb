/**
 * Parses a stored record leaving its search index entries (`idx`, src/search/index-fields.ts) as JSON text until
 * something reads them. In a search record they are most of the JSON (~3 KB of a ~3.7 KB Observation record) and
 * most of its parse time, yet a query whose index bounds already decide its criteria (planner.ts, enforcedBy)
 * and a caller that only returns `resource` never look at them.
 *
 * The fast path is taken only when the text is exactly `{…,"idx":{…}}` or `{…,"idx":{…},"compartments":[…]}`
 * with `idx` a member of the top-level object (the layout src/storage/records.ts writes); anything else is
 * parsed whole. `idx` stays an enumerable own property in its place (spread, JSON.stringify and the matcher see
 * it as before), parsed and frozen on first read.
 */
import type { Doc } from '../port';
import { freeze } from './projection';

const IDX = ',"idx":{';
const COMPARTMENTS = ',"compartments":[';

export function parseRecord(json: string): Doc {
  const at = json.lastIndexOf(IDX);
  if (at < 0) return freeze(JSON.parse(json) as Doc);
  const start = at + IDX.length - 1;
  const end = objectEnd(json, start);
  if (end < 0 || !plainTail(json, end)) return freeze(JSON.parse(json) as Doc);
  const doc = JSON.parse(`${json.slice(0, start)}null${json.slice(end)}`) as Doc;
  if (doc.idx !== null) return freeze(JSON.parse(json) as Doc);
  for (const key in doc) freeze(doc[key]);
  const text = json.slice(start, end);
  let idx: unknown;
  Object.defineProperty(doc, 'idx', { enumerable: true, configurable: false, get: () => (idx ??= freeze(JSON.parse(text))) });
  return Object.freeze(doc);
}

/**
 * Index just past the object starting at `start`, or -1. Strings are skipped with indexOf (they are most of the
 * text), so only the few characters between them are looked at one by one.
 */
function objectEnd(json: string, start: number): number {
  let depth = 0;
  let i = start;
  for (;;) {
    const quote = json.indexOf('"', i);
    const stop = quote < 0 ? json.length : quote;
    for (; i < stop; i++) {
      const c = json.charCodeAt(i);
      if (c === 123 /* { */ || c === 91 /* [ */) depth++;
      else if ((c === 125 /* } */ || c === 93) /* ] */ && --depth === 0) return i + 1;
    }
    if (quote < 0) return -1;
    i = stringEnd(json, quote);
    if (i < 0) return -1;
  }
}

/** Index just past the string whose opening quote is at `quote`, or -1. */
function stringEnd(json: string, quote: number): number {
  let close = json.indexOf('"', quote + 1);
  while (close > 0) {
    let slashes = 0;
    while (json.charCodeAt(close - 1 - slashes) === 92 /* \ */) slashes++;
    if (slashes % 2 === 0) return close + 1;
    close = json.indexOf('"', close + 1);
  }
  return -1;
}

/**
 * After `idx`: the top-level object's end, or a `compartments` array of plain strings and then the end (so
 * `idx` was a member of the top-level object, the last one but that array).
 */
function plainTail(json: string, end: number): boolean {
  if (end === json.length - 1) return json.charCodeAt(end) === 125;
  if (!json.startsWith(COMPARTMENTS, end) || !json.endsWith(']}')) return false;
  const inner = json.slice(end + COMPARTMENTS.length, json.length - 2);
  return !/[[\]{}\\]/.test(inner);
}
