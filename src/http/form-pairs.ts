/**
 * Counts the parameters of a query string or an application/x-www-form-urlencoded body without decoding it,
 * chunk by chunk as it arrives: pairs are split on `&`, and a pair with an empty name (empty, or starting with
 * `=`) is no parameter (src/http/request.ts drops those). `&` and `=` are ASCII, so counting bytes is exact.
 */
const AMPERSAND = 0x26;
const EQUALS = 0x3d;

export class PairCounter {
  private count = 0;
  /** Whether the next byte starts a pair. */
  private atPairStart = true;

  /** `max`: the most parameters allowed. */
  constructor(private readonly max: number) {}

  /** Pairs counted so far. */
  get counted(): number {
    return this.count;
  }

  /** Counts the pairs starting in the next chunk; true as soon as there are more than `max`. */
  exceeded(bytes: Uint8Array): boolean {
    let i = 0;
    if (!this.atPairStart) {
      const next = bytes.indexOf(AMPERSAND);
      if (next < 0) return false;
      i = next + 1;
    }
    while (i < bytes.length) {
      const c = bytes[i];
      if (c !== AMPERSAND && c !== EQUALS && ++this.count > this.max) return true;
      const next = c === AMPERSAND ? i : bytes.indexOf(AMPERSAND, i + 1);
      if (next < 0) {
        this.atPairStart = false;
        return false;
      }
      i = next + 1;
    }
    this.atPairStart = true;
    return false;
  }
}

/** Whether `text` (a query string or form) holds more than `max` named pairs. */
export function pairsExceed(text: string | Uint8Array, max: number): boolean {
  return new PairCounter(max).exceeded(typeof text === 'string' ? Buffer.from(text) : text);
}
