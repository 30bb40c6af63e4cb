/**
 * Order-preserving string encoding of index key values: comparing two encoded keys with `<` gives the order of
 * `compareValues` (values.ts) for scalars. Each encoded component is self-delimiting, so a compound key is the
 * concatenation of its components followed by the document `_id`.
 */
import { TypeRank, isPlainObject } from './values';

const TAG = {
  null: String.fromCharCode(TypeRank.Null),
  number: String.fromCharCode(TypeRank.Number),
  string: String.fromCharCode(TypeRank.String),
  object: String.fromCharCode(TypeRank.Object),
  boolean: String.fromCharCode(TypeRank.Boolean),
  date: String.fromCharCode(TypeRank.Date),
  other: String.fromCharCode(TypeRank.Other),
} as const;

const STRING_END = '\u0000\u0001';
const ESCAPED_NUL = '\u0000\u00ff';

const floatView = new Float64Array(1);
const wordView = new Uint32Array(floatView.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Encodes one scalar key value; arrays never reach here (they are expanded into several keys). */
export function encodeKeyValue(value: unknown): string {
  if (value === null || value === undefined) return TAG.null;
  switch (typeof value) {
    case 'string':
      return TAG.string + (value.includes('\u0000') ? value.replaceAll('\u0000', ESCAPED_NUL) : value) + STRING_END;
    case 'number':
      return TAG.number + encodeNumber(value);
    case 'boolean':
      return TAG.boolean + (value ? '1' : '0');
    case 'object':
      if (value instanceof Date) return TAG.date + encodeNumber(value.getTime());
      if (isPlainObject(value)) return TAG.object + JSON.stringify(value) + STRING_END;
      return TAG.other + JSON.stringify(value) + STRING_END;
    default:
      return TAG.other + String(value) + STRING_END;
  }
}

/** Whether encoded values of this type keep exactly the order of compareValues (objects do not). */
export function isOrderExact(value: unknown): boolean {
  return value === null || value === undefined || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** IEEE-754 bits made sortable as unsigned: flip the sign bit of positives, invert negatives. NaN sorts first. */
function encodeNumber(n: number): string {
  if (Number.isNaN(n)) return '0000000000000000';
  floatView[0] = n === 0 ? 0 : n;
  let hi = wordView[LITTLE_ENDIAN ? 1 : 0];
  let lo = wordView[LITTLE_ENDIAN ? 0 : 1];
  if (hi & 0x80000000) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
  } else {
    hi = (hi | 0x80000000) >>> 0;
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/**
 * Length of the first `width` encoded components of `key` (so `key.slice(length)` is the document id that
 * follows them), plus `start` when they begin there. String-like components end at the first STRING_END: an escaped NUL is never followed by \u0001.
 */
export function encodedTupleLength(key: string, width: number, start = 0): number {
  let at = start;
  for (let i = 0; i < width; i++) {
    switch (key[at]) {
      case TAG.null:
        at += 1;
        break;
      case TAG.number:
      case TAG.date:
        at += 17;
        break;
      case TAG.boolean:
        at += 2;
        break;
      default:
        at = key.indexOf(STRING_END, at + 1) + STRING_END.length;
    }
  }
  return at;
}

/** The string whose encoding (encodeKeyValue) starts at `at` of `key`; undefined when the value there is not a string. */
export function decodedStringAt(key: string, at: number): string | undefined {
  if (key[at] !== TAG.string) return undefined;
  const text = key.slice(at + 1, key.indexOf(STRING_END, at + 1));
  return text.includes('\u0000') ? text.replaceAll(ESCAPED_NUL, '\u0000') : text;
}

/** The smallest string greater than every string that starts with `prefix` (prefix ends in a control character). */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** First and one-past-last encoded strings of the type of `value` (MongoDB type bracketing for ranges). */
export function typeBracket(value: unknown): { start: string; end: string } {
  const tag = encodeKeyValue(value)[0];
  return { start: tag, end: String.fromCharCode(tag.charCodeAt(0) + 1) };
}
