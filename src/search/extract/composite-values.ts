/**
 * composite parameter values (https://hl7.org/fhir/R4/search.html#composite): one entry per combination of
 * component values found within the same element. Key format per component type: docs/search-index.md#composite.
 */
import type { CompositeEntry, DateEntry, NumberEntry, QuantityEntry, ReferenceEntry, StringEntry, TokenEntry, UriEntry } from '../index-fields';
import type { SearchParamType } from '../registry/types';
import { UCUM_SYSTEM } from '../normalise/ucum';
import { dateEntries } from './date-values';
import { numberEntries, quantityEntries, type QuantityMemo } from './quantity-values';
import { referenceEntries } from './reference-values';
import { stringEntries, uriEntries } from './string-values';
import { tokenEntries } from './token-values';
import type { TypedValue } from './typed-value';

/** One way a component can be matched: its key and, for ranged types, its range. */
export interface ComponentKey {
  k: string;
  lo?: number | string;
  hi?: number | string;
}

function tokenKeys(values: TypedValue[]): ComponentKey[] {
  const entries: TokenEntry[] = [];
  for (const tv of values) tokenEntries('', tv, entries);
  const keys: ComponentKey[] = [];
  for (const e of entries) {
    if (e.c === undefined) continue;
    keys.push({ k: `${e.s ?? ''}|${e.c}` }, { k: e.c });
  }
  return keys;
}

function quantityKeys(values: TypedValue[], memo?: QuantityMemo): ComponentKey[] {
  const entries: QuantityEntry[] = [];
  for (const tv of values) quantityEntries('', tv, entries, memo);
  const keys: ComponentKey[] = [];
  for (const e of entries) {
    const range = { lo: e.lo, hi: e.hi };
    if (e.cn) {
      keys.push({ k: `${UCUM_SYSTEM}|${e.c}`, ...range });
      continue;
    }
    const bare = e.c ?? e.u;
    if (e.s !== undefined && e.c !== undefined) keys.push({ k: `${e.s}|${e.c}`, ...range });
    if (bare !== undefined) keys.push({ k: bare, ...range });
    if (e.c === undefined && e.u === undefined) keys.push({ k: '', ...range });
  }
  return keys;
}

/** Every key the component's values offer, per the component parameter's type. */
export function componentKeys(type: SearchParamType | undefined, values: TypedValue[], baseUrl: string, memo?: QuantityMemo): ComponentKey[] {
  switch (type) {
    case 'token':
      return tokenKeys(values);
    case 'quantity':
      return quantityKeys(values, memo);
    case 'string': {
      const entries: StringEntry[] = [];
      for (const tv of values) stringEntries('', tv, entries);
      return entries.map((e) => ({ k: e.v }));
    }
    case 'reference': {
      const entries: ReferenceEntry[] = [];
      for (const tv of values) referenceEntries('', tv, baseUrl, entries);
      return entries.filter((e) => e.r !== undefined || e.u !== undefined).map((e) => ({ k: (e.r ?? e.u) as string }));
    }
    case 'uri': {
      const entries: UriEntry[] = [];
      for (const tv of values) uriEntries('', tv, entries);
      return entries.map((e) => ({ k: e.v }));
    }
    case 'number': {
      const entries: NumberEntry[] = [];
      for (const tv of values) numberEntries('', tv, entries);
      return entries.map((e) => ({ k: '', lo: e.lo, hi: e.hi }));
    }
    case 'date': {
      const entries: DateEntry[] = [];
      for (const tv of values) dateEntries('', tv, entries);
      return entries.map((e) => ({ k: '', lo: e.lo, hi: e.hi }));
    }
    default:
      return [];
  }
}

/** The cartesian product of the components' keys of one element, as composite entries (first component outermost). */
export function compositeEntries(p: string, perComponent: ComponentKey[][], out: CompositeEntry[]): void {
  if (perComponent.length === 0 || perComponent.some((keys) => keys.length === 0)) return;
  const ranged = perComponent.some((keys) => keys.some((key) => key.lo !== undefined));
  const n = perComponent.length;
  // An odometer over the components' keys, the last one turning fastest, instead of materialising the combinations.
  const at = new Array<number>(n).fill(0);
  for (;;) {
    const k: string[] = [];
    for (let i = 0; i < n; i++) k.push(((perComponent[i] as ComponentKey[])[at[i] as number] as ComponentKey).k);
    const entry: CompositeEntry = { p, k };
    if (ranged) {
      const lo: Array<number | string | null> = [];
      const hi: Array<number | string | null> = [];
      for (let i = 0; i < n; i++) {
        const key = (perComponent[i] as ComponentKey[])[at[i] as number] as ComponentKey;
        lo.push(key.lo ?? null);
        hi.push(key.hi ?? null);
      }
      entry.lo = lo;
      entry.hi = hi;
    }
    out.push(entry);
    let i = n - 1;
    for (; i >= 0; i--) {
      at[i] = (at[i] as number) + 1;
      if ((at[i] as number) < (perComponent[i] as ComponentKey[]).length) break;
      at[i] = 0;
    }
    if (i < 0) return;
  }
}
