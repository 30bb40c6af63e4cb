/**
 * The compiled matcher against mingo, the reference implementation of MongoDB query semantics
 * (https://www.mongodb.com/docs/manual/reference/operator/query/): thousands of generated filters of the
 * compiled shapes over generated documents with missing fields, arrays (empty, of scalars, of subdocuments,
 * scalars), mixed types and nulls must select exactly the same documents. Three shapes are left out because
 * mingo departs from MongoDB on them, and search records never hold them: arrays directly inside arrays; an
 * array reached through another array (`c.b` with `c: [{b: [..]}]`: under an array, arrays sit only in fields
 * `e` and `t`, which only paths inside $elemMatch reach); and $elemMatch over scalar elements or on a path
 * crossing an array (arrays hold either documents, or scalars in fields `s` and `t`; $elemMatch addresses one
 * field of a document or of the always-present subdocument `x`, like `idx.tok` in search records).
 * matcher.test.ts pins the MongoDB behaviour for those shapes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Query } from 'mingo';
import { compileMatcher } from '../../../src/storage/embedded/matcher';
import { seededRandom } from '../../fixtures/random';

const FIELDS = ['a', 'b', 'c'];
const STRINGS = ['', 'a', 'ab', 'b', 'B', 'http://loinc.org', '8867-4', '2025-12-10', '2025-12-10T08:00:00Z', 'a.b', 'é'];
const NUMBERS = [-1, 0, 1, 1.5, 2, 10];
const SCALARS: unknown[] = [...STRINGS, ...NUMBERS, true, false];

function generator(seed: number) {
  const next = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const chance = (p: number) => next() < p;

  const scalarOrNull = (): unknown => (chance(0.08) ? null : pick(SCALARS));
  const documents = (depth: number): unknown[] => Array.from({ length: Math.floor(next() * 4) }, () => subdocument(depth + 1, true));
  const scalars = (): unknown[] => Array.from({ length: Math.floor(next() * 4) }, scalarOrNull);
  const value = (depth: number, field: string, underArray: boolean): unknown => {
    if (field === 'e') return documents(depth);
    if (field === 's' || field === 't') return scalars();
    const r = next();
    if (r < 0.45 || depth >= 3) return scalarOrNull();
    if (r < 0.75 || underArray) return subdocument(depth + 1, underArray);
    return documents(depth);
  };
  const subdocument = (depth: number, underArray: boolean): Record<string, unknown> => {
    const doc: Record<string, unknown> = {};
    for (const field of underArray ? [...FIELDS, 'e', 't'] : [...FIELDS, 's']) if (chance(0.6)) doc[field] = value(depth, field, underArray);
    return doc;
  };

  /** Top-level paths may end in `s` or address `x`; paths inside $elemMatch may cross `e` once, or end in `t`. */
  const path = (inElement: boolean): string => {
    if (!inElement && chance(0.25)) return `x.${pick(FIELDS)}`;
    const segments = Array.from({ length: Math.floor(next() * 3) }, () => pick(FIELDS));
    if (inElement && chance(0.3)) segments.splice(Math.floor(next() * (segments.length + 1)), 0, 'e');
    else segments.push(pick([...FIELDS, inElement ? 't' : 's']));
    return segments.join('.');
  };
  const scalar = (): unknown => pick(SCALARS);
  const bound = (): unknown => (chance(0.5) ? pick(STRINGS) : pick(NUMBERS));
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  const operatorExpression = (depth: number, inElement: boolean, elemMatchable: boolean): Record<string, unknown> => {
    const expression: Record<string, unknown> = {};
    const count = 1 + Math.floor(next() * 2);
    for (let i = 0; i < count; i++) {
      const r = next();
      if (elemMatchable && depth < 2 && chance(0.3)) expression.$elemMatch = query(depth + 1, true, true);
      else if (r < 0.12) expression.$eq = scalar();
      else if (r < 0.22) expression.$ne = scalar();
      else if (r < 0.32) expression.$in = Array.from({ length: Math.floor(next() * 4) }, scalar);
      else if (r < 0.38) expression.$nin = Array.from({ length: Math.floor(next() * 3) }, scalar);
      else if (r < 0.6) expression[pick(['$gt', '$gte', '$lt', '$lte'])] = bound();
      else if (r < 0.7) expression.$exists = chance(0.5);
      else if (r < 0.8) expression.$regex = pick([escape(pick(STRINGS)), `^${escape(pick(STRINGS))}`, `${escape(pick(STRINGS))}$`, `^${escape(pick(STRINGS))}\\|`]);
      else if (r < 0.88 && depth < 2) expression.$not = operatorExpression(depth + 1, inElement, elemMatchable);
      else if (depth < 2 && elemMatchable) expression.$elemMatch = query(depth + 1, true, true);
      else expression.$eq = scalar();
    }
    return expression;
  };

  const query = (depth: number, inElement: boolean, nonEmpty = false): Record<string, unknown> => {
    const q: Record<string, unknown> = {};
    const count = (nonEmpty ? 1 : 0) + Math.floor(next() * 3);
    for (let i = 0; i < count; i++) {
      const r = next();
      if (r < 0.3) q[path(inElement)] = scalar();
      else if (r < 0.8 || depth >= 2) {
        const p = path(inElement);
        q[p] = operatorExpression(depth, inElement, /^(x\.)?[abce]$/.test(p));
      }
      else q[pick(['$and', '$or', '$nor'])] = Array.from({ length: 1 + Math.floor(next() * 3) }, () => query(depth + 1, inElement, true));
    }
    return q;
  };

  return { document: () => ({ ...subdocument(0, false), x: subdocument(1, false) }), filter: () => query(0, false) };
}

describe('compiled matcher agrees with mingo', () => {
  it('selects the same documents for 4,000 generated filters over 300 generated documents', () => {
    const gen = generator(20251122);
    const documents = Array.from({ length: 300 }, () => gen.document());
    let compared = 0;
    let selective = 0;
    let withElemMatch = 0;
    for (let i = 0; i < 4000; i++) {
      const filter = gen.filter();
      const predicate = compileMatcher(filter);
      assert.ok(predicate, `filter in the compiled subset was not compiled: ${JSON.stringify(filter)}`);
      const reference = new Query(filter);
      let matched = 0;
      if (JSON.stringify(filter).includes('$elemMatch')) withElemMatch++;
      for (const doc of documents) {
        const expected = reference.test(doc);
        if (expected) matched++;
        if (predicate(doc) !== expected) {
          assert.fail(`filter ${JSON.stringify(filter)} on ${JSON.stringify(doc)}: mingo says ${expected}`);
        }
        compared++;
      }
      if (matched > 0 && matched < documents.length) selective++;
    }
    assert.equal(compared, 1_200_000);
    assert.ok(selective >= 1000, `only ${selective} filters select some but not all documents`);
    assert.ok(withElemMatch >= 400, `only ${withElemMatch} filters use $elemMatch`);
  });
});
