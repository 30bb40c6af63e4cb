/**
 * String normalisation for string search (https://hl7.org/fhir/R4/search.html#string): matching is case- and
 * accent-insensitive, so values are stored (and queries compared) in this folded form.
 */

const COMBINING_MARKS = /\p{M}+/gu;
const WHITESPACE_RUNS = /\s+/g;
const ASCII = /^[\x00-\x7f]*$/;

/** NFD, combining marks removed, lower-cased, whitespace runs collapsed to one space, trimmed ('ÉLODIE  Smith' -> 'elodie smith'). */
export function foldString(value: string): string {
  // ASCII text has nothing to decompose and no combining marks: the same result without NFD and the mark pass.
  if (ASCII.test(value)) return value.toLowerCase().replace(WHITESPACE_RUNS, ' ').trim();
  return value.normalize('NFD').replace(COMBINING_MARKS, '').toLowerCase().replace(WHITESPACE_RUNS, ' ').trim();
}
