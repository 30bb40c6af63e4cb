/** `:missing` (https://hl7.org/fhir/R4/search.html#missing), answered from `idx.has`. */
import type { Filter } from '../../storage/port';
import { invalidValue } from './errors';

export function compileMissing(code: string, value: string): Filter {
  if (value === 'true') return { 'idx.has': { $ne: code } };
  if (value === 'false') return { 'idx.has': code };
  throw invalidValue(`${code}:missing`, 'value (expected true or false)', value);
}
