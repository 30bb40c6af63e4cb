/**
 * Seeded generators of resource-like documents (the ResourceRecord layout of src/storage/records.ts) and of
 * the query shapes the search engine sends, for comparing index-backed results with full scans.
 */
import type { Doc, Filter, FindOptions, IndexSpec, SortSpec } from '../../src/storage/port';

export const RESOURCE_INDEXES: IndexSpec[] = [
  { name: 'type_tok', keys: [['type', 1], ['idx.tok.p', 1], ['idx.tok.c', 1]] },
  { name: 'type_str', keys: [['type', 1], ['idx.str.p', 1], ['idx.str.v', 1]] },
  { name: 'type_ref', keys: [['type', 1], ['idx.ref.p', 1], ['idx.ref.r', 1]] },
  { name: 'type_date', keys: [['type', 1], ['idx.date.p', 1], ['idx.date.lo', 1]] },
  { name: 'type_lastUpdated', keys: [['type', 1], ['lastUpdated', -1]] },
  { name: 'compartments_type', keys: [['compartments', 1], ['type', 1]] },
  { name: 'lastUpdated', keys: [['lastUpdated', -1]] },
  { name: 'num', keys: [['idx.num.p', 1], ['idx.num.v', 1]] },
  { name: 'str_v', keys: [['idx.str.v', 1]] },
  { name: 'type__id', keys: [['type', 1], ['_id', 1]] },
  { name: 'type_tok_date', keys: [['type', 1], ['idx.tok.p', 1], ['idx.tok.c', 1], ['idx.date.p', 1], ['idx.date.lo', 1]], crossesArrays: true },
];

/**
 * RESOURCE_INDEXES with every parameter index sparse on its value (IndexSpec.sparseOn: no entry for a tuple
 * without that value), more than src/search/indexes.ts leaves out, plus a token-system index that, like
 * `type_tok_p_s` there, holds only tokens that have a system.
 */
export const SPARSE_RESOURCE_INDEXES: IndexSpec[] = [
  ...RESOURCE_INDEXES.map((spec) => {
    const values = spec.keys.map(([path]) => path).filter((path) => path.startsWith('idx.') && !path.endsWith('.p'));
    return values.length ? { ...spec, sparseOn: values } : spec;
  }),
  { name: 'type_tok_s', keys: [['type', 1], ['idx.tok.p', 1], ['idx.tok.s', 1]], sparseOn: ['idx.tok.s'] },
];

/**
 * Documents whose parameter values are missing in every way a sparse index must not lose track of: no `idx`,
 * empty and null arrays, elements without the parameter code or the value, a lone element outside an array.
 */
export const MISSING_VALUE_RESOURCES: Doc[] = [
  {},
  { idx: {} },
  { idx: { num: [], str: null } },
  { idx: { num: [{}], tok: [{ c: 'final' }] } },
  { idx: { num: [{ p: 'value' }], str: [{ v: 'smith' }], tok: [{ p: 'code', c: '1234-5', s: null }] } },
  { idx: { num: [{ v: 42 }], date: [{ lo: '2020-03-01T00:00:00.000Z' }], tok: [{ p: 'code', s: 'http://loinc.org' }] } },
  { idx: { num: { p: 'value', v: 7 }, tok: { p: 'code', c: '1234-5' } } },
  { idx: { num: [{ p: 'value', v: null }], ref: [{ p: 'subject' }], date: [{ p: 'date', lo: null }] } },
].map((part, i) => ({
  _id: `Observation/m${i}`,
  type: 'Observation',
  id: `m${i}`,
  versionId: 1,
  lastUpdated: `2020-01-0${1 + (i % 9)}T00:00:00.000Z`,
  deleted: false,
  resource: { resourceType: 'Observation', id: `m${i}` },
  compartments: [],
  ...part,
}));

import { seededRandom } from '../fixtures/random';

export { seededRandom };

const TYPES = ['Patient', 'Observation', 'Encounter'];
const CODES = ['1234-5', '789-8', '2345-7', 'final', 'amended', 'male', 'female'];
const SYSTEMS = ['http://loinc.org', 'http://hl7.org/fhir/gender', undefined];
const NAMES = ['smith', 'smithers', 'smyth', 'jones', 'johnson', 'garcia', 'smi', 'lee'];
const TOKEN_PARAMS = ['code', 'status', 'gender', 'identifier'];

export function generateResources(count: number, seed: number): Doc[] {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const docs: Doc[] = [];
  const base = Date.parse('2020-01-01T00:00:00.000Z');
  for (let i = 0; i < count; i++) {
    const type = pick(TYPES);
    const tok = Array.from({ length: Math.floor(random() * 4) }, () => {
      const system = pick(SYSTEMS);
      return { p: pick(TOKEN_PARAMS), c: pick(CODES), ...(system ? { s: system } : {}) };
    });
    const str = Array.from({ length: Math.floor(random() * 3) }, () => ({ p: pick(['name', 'family']), v: pick(NAMES), x: 'X' }));
    const patient = `Patient/p${Math.floor(random() * 20)}`;
    const ref = random() < 0.7 ? [{ p: 'subject', r: patient, ty: 'Patient' }] : [];
    const day = new Date(base + Math.floor(random() * 365) * 86_400_000).toISOString();
    const date = random() < 0.8 ? [{ p: 'date', lo: day, hi: day.slice(0, 10) + 'T23:59:59.999Z' }] : [];
    const num = random() < 0.5 ? [{ p: 'value', v: Math.round(random() * 1000) / 10, lo: 0, hi: 0 }] : [];
    docs.push({
      _id: `${type}/r${i}`,
      type,
      id: `r${i}`,
      versionId: 1 + Math.floor(random() * 3),
      lastUpdated: new Date(base + i * 1000 + Math.floor(random() * 999)).toISOString(),
      deleted: random() < 0.1,
      resource: { resourceType: type, id: `r${i}` },
      idx: { tok, str, ref, date, num },
      compartments: ref.length ? [patient] : [],
    });
  }
  return docs;
}

export interface GeneratedQuery {
  filter: Filter;
  options: FindOptions;
}

/**
 * `missing`: also conditions that match entries or documents without a value (`:missing=true`, `{x: null}`,
 * `$exists: false`, `$ne`, `$nin`, `$not`, a token without a system), which a sparse index must not answer.
 */
export function generateQueries(count: number, seed: number, missing = false): GeneratedQuery[] {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const tokenCondition = (): Filter => {
    const match: Record<string, unknown> = { p: pick(TOKEN_PARAMS) };
    const roll = random();
    if (roll < 0.5) match.c = pick(CODES);
    else if (roll < 0.8) match.c = { $in: [pick(CODES), pick(CODES)] };
    if (random() < 0.3) match.s = pick(SYSTEMS) ?? 'http://loinc.org';
    return { 'idx.tok': { $elemMatch: match } };
  };
  const stringCondition = (): Filter => {
    const prefix = pick(['smi', 'jo', 'sm', 'g', 'lee']);
    const next = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    return { 'idx.str': { $elemMatch: { p: pick(['name', 'family']), v: { $gte: prefix, $lt: next } } } };
  };
  const dateCondition = (): Filter => {
    const from = new Date(Date.parse('2020-01-01T00:00:00.000Z') + Math.floor(random() * 300) * 86_400_000).toISOString();
    const to = new Date(Date.parse(from) + Math.floor(random() * 60) * 86_400_000).toISOString();
    const lo = random() < 0.5 ? { $gte: from, $lt: to } : { $gt: from };
    return { 'idx.date': { $elemMatch: { p: 'date', lo } } };
  };
  const refCondition = (): Filter => ({ 'idx.ref': { $elemMatch: { p: 'subject', r: `Patient/p${Math.floor(random() * 20)}` } } });
  const numberCondition = (): Filter => ({ 'idx.num': { $elemMatch: { p: 'value', v: { $gte: random() * 50, $lte: 50 + random() * 50 } } } });
  const compartmentCondition = (): Filter => ({ compartments: `Patient/p${Math.floor(random() * 20)}` });
  const uncorrelated = (): Filter => ({ 'idx.tok.p': pick(TOKEN_PARAMS), 'idx.tok.c': pick(CODES) });
  const spreadRange = (): Filter => ({ 'idx.str.v': { $gt: 'smi', $lt: 'jz' } });
  const conditions = [tokenCondition, stringCondition, dateCondition, refCondition, numberCondition, compartmentCondition, uncorrelated, spreadRange];
  const missingConditions = [
    (): Filter => ({ 'idx.num': { $not: { $elemMatch: { p: 'value' } } } }),
    (): Filter => ({ 'idx.tok': { $not: { $elemMatch: { p: pick(TOKEN_PARAMS) } } } }),
    (): Filter => ({ 'idx.num.v': null }),
    (): Filter => ({ 'idx.str.v': { $exists: false } }),
    (): Filter => ({ 'idx.tok.c': { $ne: pick(CODES) } }),
    (): Filter => ({ 'idx.ref.r': { $nin: [`Patient/p${Math.floor(random() * 20)}`] } }),
    (): Filter => ({ 'idx.date': { $size: 0 } }),
    (): Filter => ({ 'idx.num': { $elemMatch: { p: 'value', v: null } } }),
    (): Filter => ({ 'idx.num.p': { $in: ['value', null] } }),
    (): Filter => ({ 'idx.tok': { $elemMatch: { p: pick(TOKEN_PARAMS) } } }),
    (): Filter => ({ 'idx.tok': { $elemMatch: { p: pick(TOKEN_PARAMS), s: null } } }),
    (): Filter => ({ 'idx.tok': { $elemMatch: { p: pick(TOKEN_PARAMS), c: pick(CODES), s: { $exists: false } } } }),
    (): Filter => ({ 'idx.tok': { $elemMatch: { p: pick(TOKEN_PARAMS), s: { $ne: 'http://loinc.org' } } } }),
    (): Filter => ({ 'idx.tok': { $elemMatch: { p: pick(TOKEN_PARAMS), s: { $in: [null, 'http://loinc.org'] } } } }),
    (): Filter => ({ 'idx.date': { $elemMatch: { p: 'date', lo: { $exists: true } } } }),
  ];
  if (missing) conditions.push(...missingConditions, ...missingConditions);

  const queries: GeneratedQuery[] = [];
  for (let i = 0; i < count; i++) {
    const parts: Filter[] = [];
    if (random() < 0.85) parts.push({ type: pick(TYPES) });
    if (random() < 0.7) parts.push({ deleted: false });
    const shape = random();
    if (shape < 0.6) parts.push(pick(conditions)());
    else if (shape < 0.8) parts.push({ $or: [pick(conditions)(), pick(conditions)()] });
    else if (shape < 0.9) parts.push(pick(conditions)(), pick(conditions)());
    else if (random() < 0.5) parts.push({ lastUpdated: { $gte: '2020-01-01T00:02:00.000Z' } });
    const filter: Filter = random() < 0.5 ? Object.assign({}, ...parts) : { $and: parts };
    const sorts: Array<SortSpec | undefined> = [
      undefined,
      [['lastUpdated', -1]],
      [['lastUpdated', 1]],
      [['versionId', 1], ['_id', 1]],
      [['idx.str.v', 1], ['_id', -1]],
      [['_id', 1]],
      [['_id', -1]],
    ];
    const sort = pick(sorts);
    const options: FindOptions = {};
    if (sort) {
      options.sort = sort;
      if (random() < 0.7) options.limit = 1 + Math.floor(random() * 20);
      if (random() < 0.3) options.skip = Math.floor(random() * 10);
    }
    queries.push({ filter, options });
  }
  return queries;
}
