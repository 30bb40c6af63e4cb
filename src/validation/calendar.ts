/**
 * Calendar validity of date, dateTime and instant values beyond their R4 regexes: "Dates SHALL be valid dates"
 * (https://hl7.org/fhir/R4/datatypes.html#date, #dateTime, #instant). The regexes already bound the month to 01–12,
 * the day to 01–31, hours to 00–23, minutes to 00–59 and seconds to 00–60 (60 for a leap second); what they cannot
 * say is that the day exists in its month: 30 February, 31 April, 29 February outside a leap year.
 */

const ZERO = 48;
const HYPHEN = 45;

/** Days in each month of a common year, January first. */
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Gregorian leap years: divisible by 4, except centuries not divisible by 400 (1900 is not, 2000 is). */
export function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

const digits = (value: string, at: number, count: number): number => {
  let n = 0;
  for (let i = at; i < at + count; i++) n = n * 10 + (value.charCodeAt(i) - ZERO);
  return n;
};

/**
 * False when a value shaped like YYYY-MM-DD… names a day its month does not have. Values with only a year or a
 * year and month are whole periods and always exist; the shape itself is the regex's business, so anything that
 * does not start with YYYY-MM-DD is left to it. Runs for every date in every resource: no allocation, and days
 * up to 28 return at once.
 */
export function isExistingCalendarDay(value: string): boolean {
  if (value.length < 10 || value.charCodeAt(4) !== HYPHEN || value.charCodeAt(7) !== HYPHEN) return true;
  const day = digits(value, 8, 2);
  if (day <= 28) return true;
  const month = digits(value, 5, 2);
  if (month < 1 || month > 12) return true;
  if (month !== 2) return day <= DAYS_IN_MONTH[month - 1];
  return day === 29 && isLeapYear(digits(value, 0, 4));
}
