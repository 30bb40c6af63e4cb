/**
 * Nesting depth of JSON text, measured on the bytes before `JSON.parse` (and while they arrive, see
 * src/http/body-guard.ts), so a deeply nested body is refused for the cost of reading a little of it: a linear
 * scan over brackets that skips string contents, escapes included, and stops as soon as the limit is passed.
 * UTF-8 continuation bytes never equal an ASCII byte, so scanning bytes is exact. Malformed text is left for
 * JSON.parse to report.
 */
import { FhirError } from '../core/errors';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** Feeds chunks of one JSON text in order; remembers the depth and, inside a string, the pending backslashes. */
export class NestingScanner {
  private depth = 0;
  private inString = false;
  /** Backslashes ending the previous chunk inside a string (an odd count escapes the next byte). */
  private backslashes = 0;

  /** `max`: the deepest allowed nesting (the root container is depth 1). */
  constructor(private readonly max: number) {}

  /** Scans the next chunk; true as soon as the nesting passes the limit. */
  exceeded(bytes: Uint8Array): boolean {
    let i = 0;
    if (this.inString) {
      const end = this.endOfString(bytes, 0);
      if (end < 0) return false;
      i = end + 1;
    }
    let depth = this.depth;
    for (; i < bytes.length; i++) {
      const c = bytes[i];
      if (c === QUOTE) {
        this.depth = depth;
        i = this.endOfString(bytes, i + 1);
        if (i < 0) return false;
      } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
        if (++depth > this.max) return true;
      } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
        depth--;
      }
    }
    this.depth = depth;
    return false;
  }

  /** The index of the quote closing the string whose contents start at `from`, or -1 when the chunk ends first. */
  private endOfString(bytes: Uint8Array, from: number): number {
    let carried = this.inString ? this.backslashes : 0;
    for (let at = bytes.indexOf(QUOTE, from); at >= 0; at = bytes.indexOf(QUOTE, from)) {
      if ((backslashesBefore(bytes, at, from) + (precededOnlyByBackslashes(bytes, at, from) ? carried : 0)) % 2 === 0) {
        this.inString = false;
        return at;
      }
      from = at + 1;
      carried = 0;
    }
    const end = bytes.length;
    this.backslashes = backslashesBefore(bytes, end, from) + (precededOnlyByBackslashes(bytes, end, from) ? carried : 0);
    this.inString = true;
    return -1;
  }
}

/** Consecutive backslashes right before `at`, not looking before `from`. */
function backslashesBefore(bytes: Uint8Array, at: number, from: number): number {
  let run = 0;
  while (at - 1 - run >= from && bytes[at - 1 - run] === BACKSLASH) run++;
  return run;
}

/** Whether everything from `from` up to `at` is backslashes (so a run may continue from the previous chunk). */
function precededOnlyByBackslashes(bytes: Uint8Array, at: number, from: number): boolean {
  return backslashesBefore(bytes, at, from) === at - from;
}

/** Whether objects and arrays in the JSON text `bytes` nest deeper than `max`. */
export function nestsDeeperThan(bytes: Uint8Array, max: number): boolean {
  return new NestingScanner(max).exceeded(bytes);
}

export function tooDeep(max: number): FhirError {
  return new FhirError('incorrect', [{ severity: 'error', code: 'too-costly', diagnostics: `JSON nesting deeper than ${max} levels in the body` }]);
}
