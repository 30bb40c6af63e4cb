/** date parameter values (https://hl7.org/fhir/R4/search.html#date): date, dateTime, instant, Period, Timing. */
import type { DateEntry } from '../index-fields';
import { dateRange, MAX_INSTANT, MIN_INSTANT } from '../normalise/date';
import { asArray, asObject, asString, type Json, type TypedValue } from './typed-value';

function pushPeriod(p: string, period: Json, out: DateEntry[]): void {
  const start = asString(period.start);
  const end = asString(period.end);
  if (start === undefined && end === undefined) return;
  const lo = start === undefined ? MIN_INSTANT : dateRange(start)?.lo;
  const hi = end === undefined ? MAX_INSTANT : dateRange(end)?.hi;
  if (lo !== undefined && hi !== undefined) out.push({ p, lo, hi });
}

function pushText(p: string, text: unknown, out: DateEntry[]): void {
  const value = asString(text);
  const range = value === undefined ? undefined : dateRange(value);
  if (range) out.push({ p, lo: range.lo, hi: range.hi });
}

export function dateEntries(p: string, tv: TypedValue, out: DateEntry[]): void {
  const obj = asObject(tv.value);
  switch (tv.type) {
    case 'Period':
      if (obj) pushPeriod(p, obj, out);
      return;
    case 'Timing': {
      if (!obj) return;
      for (const event of asArray(obj.event)) pushText(p, event, out);
      const bounds = asObject(asObject(obj.repeat)?.boundsPeriod);
      if (bounds) pushPeriod(p, bounds, out);
      return;
    }
    default:
      pushText(p, tv.value, out);
  }
}
