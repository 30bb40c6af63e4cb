/**
 * number and quantity parameter values (https://hl7.org/fhir/R4/search.html#number,
 * https://hl7.org/fhir/R4/search.html#quantity), with UCUM canonical entries for unit-independent comparison.
 */
import type { NumberEntry, QuantityEntry } from '../index-fields';
import { numberRangeOf } from '../normalise/number';
import { toCanonicalUcum, UCUM_SYSTEM } from '../normalise/ucum';
import { asObject, asString, type Json, type TypedValue } from './typed-value';

const ISO_4217 = 'urn:iso:std:iso:4217';
/** Open bounds of a Range or of a Quantity with a comparator (±Infinity does not survive JSON). */
const OPEN_LOW = -Number.MAX_VALUE;
const OPEN_HIGH = Number.MAX_VALUE;

export function numberEntries(p: string, tv: TypedValue, out: NumberEntry[]): void {
  if (typeof tv.value !== 'number') return;
  const range = numberRangeOf(tv.value);
  if (range) out.push({ p, v: range.v, lo: range.lo, hi: range.hi });
}

function withCanonical(entry: QuantityEntry, out: QuantityEntry[]): void {
  out.push(entry);
  if (entry.s !== UCUM_SYSTEM || entry.c === undefined) return;
  const v = toCanonicalUcum(entry.v, entry.c);
  if (!v) return;
  const lo = entry.lo === OPEN_LOW ? OPEN_LOW : toCanonicalUcum(entry.lo, entry.c)?.value;
  const hi = entry.hi === OPEN_HIGH ? OPEN_HIGH : toCanonicalUcum(entry.hi, entry.c)?.value;
  if (lo === undefined || hi === undefined) return;
  out.push({ p: entry.p, v: v.value, lo, hi, s: UCUM_SYSTEM, c: v.code, cn: true });
}

/** A Quantity-like element (Quantity, Age, Duration, Distance, Count, SimpleQuantity, Money) as an entry without canonical form. */
export function quantityEntry(p: string, quantity: Json, money: boolean): QuantityEntry | undefined {
  if (typeof quantity.value !== 'number') return undefined;
  const range = numberRangeOf(quantity.value);
  if (!range) return undefined;
  const entry: QuantityEntry = { p, v: range.v, lo: range.lo, hi: range.hi };
  const comparator = asString(quantity.comparator);
  if (comparator === '<' || comparator === '<=') entry.lo = OPEN_LOW;
  if (comparator === '>' || comparator === '>=') entry.hi = OPEN_HIGH;
  if (money) {
    entry.s = ISO_4217;
    const currency = asString(quantity.currency);
    if (currency !== undefined) entry.c = currency;
    return entry;
  }
  const s = asString(quantity.system);
  const c = asString(quantity.code);
  const u = asString(quantity.unit);
  if (s !== undefined) entry.s = s;
  if (c !== undefined) entry.c = c;
  if (u !== undefined) entry.u = u;
  return entry;
}

function rangeEntry(p: string, range: Json): QuantityEntry | undefined {
  const low = asObject(range.low);
  const high = asObject(range.high);
  const lowEntry = low && quantityEntry(p, low, false);
  const highEntry = high && quantityEntry(p, high, false);
  const unitFrom = lowEntry ?? highEntry;
  if (!unitFrom) return undefined;
  const entry: QuantityEntry = { ...unitFrom, lo: lowEntry?.lo ?? OPEN_LOW, hi: highEntry?.hi ?? OPEN_HIGH };
  return entry;
}

/**
 * The entries of Quantity-like elements already normalised during one extraction, by element (with `p` empty):
 * several parameters index the same element (Observation.value as value-quantity, combo-value-quantity and in
 * two composites), and its precision range and UCUM conversion are the costly part. Made per extraction, so an
 * element changed between two extractions is never answered from an earlier one.
 */
export type QuantityMemo = Map<object, { type: string; entries: QuantityEntry[] }>;

export function quantityEntries(p: string, tv: TypedValue, out: QuantityEntry[], memo?: QuantityMemo): void {
  const obj = asObject(tv.value);
  if (obj && memo) {
    let known = memo.get(obj);
    if (!known || known.type !== tv.type) {
      known = { type: tv.type, entries: [] };
      quantityEntries('', tv, known.entries);
      memo.set(obj, known);
    }
    for (const entry of known.entries) out.push({ ...entry, p });
    return;
  }
  if (!obj) {
    if (typeof tv.value === 'number') {
      const range = numberRangeOf(tv.value);
      if (range) out.push({ p, v: range.v, lo: range.lo, hi: range.hi });
    }
    return;
  }
  const entry = tv.type === 'Range' ? rangeEntry(p, obj) : tv.type === 'SampledData' ? undefined : quantityEntry(p, obj, tv.type === 'Money');
  if (entry) withCanonical(entry, out);
}
