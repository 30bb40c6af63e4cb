/**
 * Search index entries stored with each resource (ResourceRecord.idx), written in the same atomic write as
 * the resource. One array per value kind; every entry names the SearchParameter code it belongs to in `p`,
 * so a handful of compound multikey indexes (['type'], ['idx.tok.p'], ['idx.tok.c'] ...) serve every parameter.
 * Values are normalised at write time so queries compare plain values
 * (https://hl7.org/fhir/R4/search.html#ptypes).
 *
 * Queries must address one entry with `$elemMatch` (e.g. { 'idx.tok': { $elemMatch: { p: 'code', c: '1234-5' } } })
 * so that conditions on `p` and the value hold for the same entry.
 */

/** string: `v` lower-cased, accent-folded, whitespace-collapsed (default and :contains); `x` the exact original (:exact). */
export interface StringEntry {
  p: string;
  v: string;
  x: string;
}

/**
 * token: Coding/CodeableConcept/Identifier/ContactPoint/code/boolean/string values.
 * `s` system (absent when the value has none), `c` code/value. `t` lower-cased folded display/text (for :text).
 * For Identifier: `ts`/`tc` the Identifier.type coding system/code (for :of-type).
 */
export interface TokenEntry {
  p: string;
  s?: string;
  c?: string;
  t?: string;
  ts?: string;
  tc?: string;
}

/**
 * reference: `r` the local key `Type/id` when the reference points into this server (relative, or absolute
 * with our base URL), `ty` the target type when known, `u` the absolute URL / canonical otherwise (canonical
 * version after `|` stripped into `uv`), `is`/`iv` the logical Reference.identifier system/value (:identifier).
 */
export interface ReferenceEntry {
  p: string;
  r?: string;
  ty?: string;
  u?: string;
  uv?: string;
  is?: string;
  iv?: string;
}

/** date: the value's implicit range from its precision as UTC instants (ISO strings, ms precision); open ends use sentinels. */
export interface DateEntry {
  p: string;
  lo: string;
  hi: string;
}

/** number: the value and its implicit precision range (`1.0` -> [0.95, 1.05)). */
export interface NumberEntry {
  p: string;
  v: number;
  lo: number;
  hi: number;
}

/**
 * quantity: as number plus unit: `s` system, `c` code, `u` unit text. When the system is UCUM, the canonical
 * form is stored as an extra entry with `cn: true` (value/range converted, `c` the canonical unit).
 */
export interface QuantityEntry {
  p: string;
  v: number;
  lo: number;
  hi: number;
  s?: string;
  c?: string;
  u?: string;
  cn?: boolean;
}

/** uri: the value as written. */
export interface UriEntry {
  p: string;
  v: string;
}

/**
 * composite: one entry per combination found within the same element; `k` holds the components'
 * normalised keys in order (for token components `system|code`, for quantity `value|system|code` etc.),
 * defined by src/search/extract for the composite parameters it supports.
 */
export interface CompositeEntry {
  p: string;
  k: string[];
  /**
   * Ranges of the components that have one (number, quantity: numeric; date: ISO instants), aligned with `k`
   * (null at token/string/reference/uri positions), so comparators (`$gt100`) can address `lo.1`/`hi.1`.
   * Absent when no component has a range.
   */
  lo?: Array<number | string | null>;
  hi?: Array<number | string | null>;
}

export interface IndexFields {
  str?: StringEntry[];
  tok?: TokenEntry[];
  ref?: ReferenceEntry[];
  date?: DateEntry[];
  num?: NumberEntry[];
  qty?: QuantityEntry[];
  uri?: UriEntry[];
  comp?: CompositeEntry[];
  /** Codes of every parameter with at least one value (serves :missing). */
  has?: string[];
  /**
   * Per-parameter sort key for `_sort` (https://hl7.org/fhir/R4/search.html#sort), keyed by parameter code:
   * the smallest normalised value (string `v`, token `c`, date `lo`, number/quantity `v`, reference `r`/`u`, uri `v`).
   */
  so?: Record<string, string | number>;
}
