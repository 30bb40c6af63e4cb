/**
 * Criteria that depend on other stored resources, resolved to key lists before the main query runs:
 * chained parameters (https://hl7.org/fhir/R4/search.html#chaining), reverse chaining with `_has`
 * (https://hl7.org/fhir/R4/search.html#has) and `_list` (https://hl7.org/fhir/R4/search.html#list).
 * Every lookup is bounded, so one request cannot pull an unbounded key set into memory.
 */
import { FhirError } from '../../core/errors';
import type { List } from 'fhir/r4';
import type { Filter, StoreReader } from '../../storage/port';
import { RESOURCES } from '../../storage/records';
import type { IndexFields } from '../index-fields';
import { referenceKey } from '../normalise';

export interface LinkContext {
  store: StoreReader;
  baseUrl: string;
  maxChainResults: number;
}

function tooMany(parameter: string, what: string, max: number): FhirError {
  return new FhirError('unprocessable', [
    {
      severity: 'error',
      code: 'too-costly',
      diagnostics: `Search parameter '${parameter}' matches more than ${max} ${what}; narrow the ${what} criteria`,
      expression: [parameter],
    },
  ]);
}

/** Keys (`Type/id`) of the resources matching `filter`, at most `maxChainResults` of them. */
export async function chainTargets(parameter: string, filter: Filter, ctx: LinkContext): Promise<string[]> {
  const docs = await ctx.store.find(RESOURCES, filter, { projection: { _id: 1 }, limit: ctx.maxChainResults + 1 });
  if (docs.length > ctx.maxChainResults) throw tooMany(parameter, 'chained resources', ctx.maxChainResults);
  return docs.map((d) => d._id);
}

/**
 * Keys of the resources of `types` (any type when undefined) referenced through reference parameter `code` by the
 * resources matching `filter` (the `_has` referrers), at most `maxChainResults` referrers.
 */
export async function referencedBy(parameter: string, filter: Filter, code: string, types: string[] | undefined, ctx: LinkContext): Promise<string[]> {
  const docs = await ctx.store.find(RESOURCES, filter, { projection: { 'idx.ref': 1 }, limit: ctx.maxChainResults + 1 });
  if (docs.length > ctx.maxChainResults) throw tooMany(parameter, 'referring resources', ctx.maxChainResults);
  const keys = new Set<string>();
  for (const doc of docs) {
    for (const entry of (doc['idx'] as IndexFields | undefined)?.ref ?? []) {
      if (entry.p !== code || entry.r === undefined) continue;
      if (types === undefined || types.includes(entry.r.slice(0, entry.r.indexOf('/')))) keys.add(entry.r);
    }
  }
  return [...keys];
}

/**
 * Keys of the items of the stored List resources `listIds` that are of `types` (any type when undefined); only
 * Lists matching `access` (the caller's access filter) are read.
 */
export async function listItems(listIds: string[], types: string[] | undefined, ctx: LinkContext, access?: Filter): Promise<string[]> {
  const own: Filter = { _id: { $in: listIds.map((id) => `List/${id}`) }, deleted: false };
  const lists = await ctx.store.find(RESOURCES, access === undefined ? own : { $and: [own, access] });
  const keys = new Set<string>();
  for (const doc of lists) {
    const list = doc['resource'] as List | null;
    for (const entry of list?.entry ?? []) {
      const ref = entry.item.reference;
      const key = ref === undefined ? undefined : referenceKey(ref, ctx.baseUrl)?.r;
      if (key !== undefined && (types === undefined || types.includes(key.slice(0, key.indexOf('/'))))) keys.add(key);
    }
  }
  return [...keys];
}
