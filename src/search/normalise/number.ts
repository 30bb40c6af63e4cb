/**
 * Number normalisation (https://hl7.org/fhir/R4/search.html#number): a number stands for the range of its
 * implicit precision, half a unit of its last significant digit either side (`100` -> [99.5, 100.5),
 * `100.00` -> [99.995, 100.005), `1e2` -> [50, 150)).
 */

export interface NumberRange {
  v: number;
  lo: number;
  hi: number;
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** Rounds away binary floating-point noise (1.5 - 0.05 -> 1.45, not 1.4500000000000002). */
export function clean(n: number): number {
  return Number(n.toPrecision(15));
}

/** The value and precision range of a decimal written as text (query values keep their trailing zeros). */
export function numberRange(text: string): NumberRange | undefined {
  const m = DECIMAL.exec(text.trim());
  if (!m) return undefined;
  const v = Number(text);
  if (!Number.isFinite(v)) return undefined;
  const decimals = m[3]?.length ?? 0;
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  const half = 0.5 * 10 ** (exponent - decimals);
  return { v, lo: clean(v - half), hi: clean(v + half) };
}

/**
 * The same for a number parsed from JSON. JSON.parse drops trailing zeros (`100.00` arrives as 100), so the
 * precision is that of the shortest text that round-trips the number (`String(n)`).
 */
export function numberRangeOf(n: number): NumberRange | undefined {
  return Number.isFinite(n) ? numberRange(String(n)) : undefined;
}
