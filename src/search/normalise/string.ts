/**
 * String normalisation for string search (https://hl7.org/fhir/R4/search.html#string): matching is case- and
 * accent-insensitive, so values are stored (and queries compared) in this folded form.
 */

const COMBINING_MARKS = /\p{M}+/gu;
const WHITESPACE_RUNS = /\s+/g;

/** NFD, combining marks removed, lower-cased, whitespace runs collapsed to one space, trimmed ('ÉLODIE  Smith' -> 'elodie smith'). */
export function foldString(value: string): string {
  return value.normalize('NFD').replace(COMBINING_MARKS, '').toLowerCase().replace(WHITESPACE_RUNS, ' ').trim();
}
