/**
 * Opaque page cursors and the _count rule shared by history and other paged bundles
 * (https://hl7.org/fhir/R4/http.html#paging). A cursor is base64url JSON; a forged or damaged one is a 400.
 */
import { invalid } from '../core/errors';

export function encodeCursor(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T extends object>(token: string, isValid: (value: unknown) => value is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!isValid(value)) throw invalid('The paging cursor is not valid: follow the links of a previous page, or start again without it');
  return value;
}

/** _count: a non-negative whole number, capped at the configured maximum (https://hl7.org/fhir/R4/search.html#count). */
export function pageSize(raw: string | undefined, paging: { defaultCount: number; maxCount: number }): number {
  if (raw === undefined) return paging.defaultCount;
  if (!/^\d{1,9}$/.test(raw)) throw invalid(`Invalid _count '${raw.slice(0, 40)}': expected a whole number`, '_count');
  return Math.min(Number(raw), paging.maxCount);
}
