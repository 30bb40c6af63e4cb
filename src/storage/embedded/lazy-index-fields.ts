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
 *
 * Every such record gets the same accessor (one getter function, its text in a non-enumerable symbol member),
 * so all of them share one hidden class. A getter closure per record gave each record a hidden class of its own:
 * V8 allocates those in the old generation, where each kept its record's closure and JSON text alive through
 * every young-generation collection until the next full one, so a bulk read (a Bulk Data export, a large search)
 * promoted ~30 % of what it allocated and grew the heap by ~200 MB between full collections.
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
  const parsed = JSON.parse(`${json.slice(0, start)}null${json.slice(end)}`) as Doc;
  if (parsed.idx !== null || Object.hasOwn(parsed, '__proto__')) return freeze(JSON.parse(json) as Doc);
  // A new object with the members in their order, `idx` added as the accessor (turning the parsed data member
  // into one would make the object a dictionary, with a hidden class of its own once frozen).
  const doc = Object.defineProperty({}, LAZY, { value: { text: json.slice(start, end), idx: undefined } satisfies LazyIdx }) as Doc;
  for (const key in parsed) {
    if (key === 'idx') Object.defineProperty(doc, 'idx', IDX_ACCESSOR);
    else doc[key] = freeze(parsed[key]);
  }
  return Object.freeze(doc);
}

/** A record's index entries: their JSON text until the first read, then the parsed entries. */
interface LazyIdx {
  text: string;
  idx: unknown;
}

const LAZY = Symbol('lazy idx');

/** The one accessor of every lazily parsed record's `idx` (shared, so the records share one hidden class). */
const IDX_ACCESSOR: PropertyDescriptor = {
  enumerable: true,
  configurable: false,
  get(this: { [LAZY]: LazyIdx }): unknown {
    const lazy = this[LAZY];
    return (lazy.idx ??= freeze(JSON.parse(lazy.text)));
  },
};

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
