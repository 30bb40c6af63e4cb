/**
 * Date normalisation (https://hl7.org/fhir/R4/search.html#date): every date, dateTime and instant stands for the
 * range its precision implies, stored as UTC instants with millisecond precision (ISO strings, so lexical order is
 * time order). A dateTime with a time but no timezone, and a date without time, are read as UTC.
 */

export interface DateRange {
  lo: string;
  hi: string;
}

/** Lower bound of an open-ended range (Period without start). */
export const MIN_INSTANT = '0001-01-01T00:00:00.000Z';
/** Upper bound of an open-ended range (Period without end). */
export const MAX_INSTANT = '9999-12-31T23:59:59.999Z';

const MIN_MS = Date.parse(MIN_INSTANT);
const MAX_MS = Date.parse(MAX_INSTANT);

const DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** Date.UTC, also for years 1-99 (which Date.UTC maps to 1901-1999, with the same leap years). */
function utc(year: number, monthIndex: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  const t = Date.UTC(year, monthIndex, day, hour, minute, second, ms);
  if (year >= 100) return t;
  const d = new Date(t);
  d.setUTCFullYear(d.getUTCFullYear() - 1900);
  return d.getTime();
}

function daysInMonth(year: number, monthIndex: number): number {
  return new Date(utc(year, monthIndex + 1, 0)).getUTCDate();
}

function iso(ms: number): string {
  return new Date(Math.min(MAX_MS, Math.max(MIN_MS, ms))).toISOString();
}

const UTC_MILLISECOND = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * A valid instant already in the stored form (`toISOString()`: UTC, milliseconds), as most stamps and exported
 * data are: it is its own range, with no parsing and formatting.
 */
function isUtcMillisecond(text: string): boolean {
  if (text.length !== 24 || !UTC_MILLISECOND.test(text)) return false;
  const year = Number(text.slice(0, 4));
  const month = Number(text.slice(5, 7));
  const day = Number(text.slice(8, 10));
  if (year < 1 || month < 1 || month > 12 || day < 1 || Number(text.slice(11, 13)) > 23 || Number(text.slice(14, 16)) > 59 || Number(text.slice(17, 19)) > 59) return false;
  return day <= 28 || day <= daysInMonth(year, month - 1);
}

/**
 * The implicit range of a FHIR date/dateTime/instant (or a search value in the same syntax):
 * `1970` -> the whole year, `1970-03` -> the month, `1970-03-04` -> the day, `T10:00` -> the minute,
 * `T10:00:05` -> the second, fractional seconds -> the precision of their digits (3 or more digits: that millisecond).
 * Returns undefined when the text is not a valid date.
 */
export function dateRange(text: string): DateRange | undefined {
  if (isUtcMillisecond(text)) return { lo: text, hi: text };
  const m = DATE_TIME.exec(text.trim());
  if (!m) return undefined;
  const year = Number(m[1]);
  if (m[2] === undefined) return { lo: iso(utc(year, 0, 1)), hi: iso(utc(year + 1, 0, 1) - 1) };
  const month = Number(m[2]) - 1;
  if (month < 0 || month > 11) return undefined;
  if (m[3] === undefined) return { lo: iso(utc(year, month, 1)), hi: iso(utc(year, month + 1, 1) - 1) };
  const day = Number(m[3]);
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  if (m[4] === undefined) return { lo: iso(utc(year, month, day)), hi: iso(utc(year, month, day + 1) - 1) };

  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(4, 6));
    if (zh > 14 || zm > 59) return undefined;
    offsetMinutes = sign * (zh * 60 + zm);
  }
  const fraction = m[7] ?? '';
  const digits = Math.min(fraction.length, 3);
  const ms = digits ? Number(fraction.slice(0, 3).padEnd(3, '0')) : 0;
  const start = utc(year, month, day, hour, minute, second, ms) - offsetMinutes * 60_000;
  const width = m[6] === undefined ? 60_000 : digits === 0 ? 1000 : 10 ** (3 - digits);
  return { lo: iso(start), hi: iso(start + width - 1) };
}
