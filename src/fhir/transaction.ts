/**
 * transaction: https://hl7.org/fhir/R4/http.html#transaction — every entry succeeds or nothing changes.
 *
 * The entries replay through the in-process router inside ONE store transaction, which the interactions join
 * (`ctx.transaction`, src/fhir/persist.ts inTransaction): one commit, one LMDB write transaction on the embedded store,
 * published whole, so no reader sees part of it. Processing follows https://hl7.org/fhir/R4/http.html#trules:
 * 1. DELETE entries;
 * 2. every POST and PUT entry gets its identity: the match of its ifNoneExist or conditional URL (searched inside
 *    the transaction, race-free as for single requests, src/fhir/conditional.ts), the id in its URL, or a new id;
 * 3. references to `urn:uuid:`/`urn:oid:` fullUrls and conditional references are rewritten (bundle-references.ts);
 * 4. the plain POST and PUT bodies are validated and indexed in one pass (prepared-versions.ts);
 * 5. POST, then PUT/PATCH, then GET/HEAD entries run, each answered at its own position in the response.
 * The first failing entry fails the transaction with its OperationOutcome, naming the entry.
 */
import type { Bundle, BundleEntry, Resource } from 'fhir/r4';
import { PreparedVersions } from './prepared-versions';
import { FhirError, invalid } from '../core/errors';
import type { OperationOutcomeIssue } from '../core/outcome';
import type { SearchOptions } from '../search/service';
import type { StoreTransaction } from '../storage/port';
import { entryRequest, type Dispatch, type EntryRequest } from './bundle-entries';
import { ReferenceRewriter, type Identities } from './bundle-references';
import { entryResponse } from './bundle-response';
import { criteriaKey, matchInTransaction } from './conditional';
import type { FhirContext } from './context';
import { accessOptions, parseCriteria, requireCriteria } from './criteria';
import { inTransaction } from './persist';
import type { FhirMethod, FhirRequest, FhirResponse } from './types';

const PHASE: Record<FhirMethod, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };
const LOCAL_URN = /^urn:(?:uuid|oid):/;

export async function transaction(ctx: FhirContext, outer: FhirRequest, entries: BundleEntry[], dispatch: Dispatch): Promise<FhirResponse> {
  const requests = entries.map((entry, index) => entryRequest(ctx, entry, index, outer));
  assertDistinct(requests);
  const ordered = [...requests].sort((a, b) => PHASE[a.req.method] - PHASE[b.req.method] || a.index - b.index);
  const firstAfterDeletes = ordered.findIndex((e) => e.req.method !== 'DELETE');
  const deletes = firstAfterDeletes < 0 ? ordered : ordered.slice(0, firstAfterDeletes);
  const rest = firstAfterDeletes < 0 ? [] : ordered.slice(firstAfterDeletes);

  // Conditional references and ifNoneExist match only what the caller may read, as single conditional requests do
  // (a match the caller may not see would tell, by the rewritten reference or a 409, that it exists).
  const access = await accessOptions(ctx, outer);
  const seesEverything = access.scope === undefined || Object.keys(access.scope).length === 0;
  // A store may re-run the work after a transient conflict (MongoDB): it starts again from the Bundle as sent.
  let previousAttempt: ReferenceRewriter | undefined;
  const results = await inTransaction(ctx, async (tx) => {
    previousAttempt?.restore();
    const joined: FhirContext = { ...ctx, transaction: tx };
    const answered: BundleEntry[] = new Array<BundleEntry>(requests.length);
    const run = async (e: EntryRequest, id?: string): Promise<void> => {
      const entryCtx = id === undefined ? joined : { ...joined, ids: { next: () => id } };
      answered[e.index] = entryResponse(await atEntry(e, () => dispatch(entryCtx, e.req)));
    };
    for (const e of deletes) await run(e);
    const { identities, assigned } = await resolveIdentities(joined, tx, requests, access);
    const rewriter = new ReferenceRewriter(identities, (type, criteria) => {
      const search = async (): Promise<string[]> => Object.freeze((await ctx.search.matchCriteria(type, criteria, 2, { ...access, reader: tx })).map((r) => `${r.type}/${r.id}`)) as string[];
      // Resolutions are shared between callers only when nothing narrows what this one sees.
      return ctx.conditionalMemo && seesEverything ? ctx.conditionalMemo.resolve(type, criteria, search) : search();
    });
    previousAttempt = rewriter;
    for (const e of requests) {
      if ((e.req.method === 'POST' || e.req.method === 'PUT') && typeof e.req.body === 'object' && e.req.body !== null) {
        await atEntry(e, () => rewriter.rewrite(e.req.body as Resource, e.index));
      }
    }
    // Plain creates and updates validated and indexed in one pass (src/fhir/prepared-versions.ts), in processing order.
    const prepared = new PreparedVersions();
    for (const e of rest) {
      const { method, path, body, ifNoneExist } = e.req;
      const id = method === 'POST' && path.length === 1 && ifNoneExist === undefined ? assigned.get(e.index) : method === 'PUT' && path.length === 2 ? path[1] : undefined;
      if (id === undefined || typeof body !== 'object' || body === null || (body as Resource).resourceType !== path[0]) continue;
      prepared.prepare(joined, path[0] as string, id, body as Resource);
    }
    joined.preparedVersions = prepared;
    for (const e of rest) await run(e, assigned.get(e.index));
    return answered;
  });
  const response: Bundle = { resourceType: 'Bundle', type: 'transaction-response', entry: results };
  return { status: 200, resource: response };
}

/**
 * The `Type/id` each POST and PUT entry will write (or, for a matched ifNoneExist, already names), by fullUrl, and
 * the ids to hand to creates. Entries with the same criteria share one resource, as they would one after the other.
 */
async function resolveIdentities(
  ctx: FhirContext,
  tx: StoreTransaction,
  requests: EntryRequest[],
  access: SearchOptions,
): Promise<{ identities: Identities; assigned: Map<number, string> }> {
  const identities = new Map<string, string>();
  const assigned = new Map<number, string>();
  const byCriteria = new Map<string, string>();
  for (const e of requests) {
    const { method, path, query, body } = e.req;
    if ((method !== 'POST' && method !== 'PUT') || path.length === 0 || path.length > 2) continue;
    const type = path[0] as string;
    let id: string;
    if (path.length === 2) {
      if (method !== 'PUT') continue;
      id = path[1] as string;
    } else {
      const criteria = await atEntry(e, async () =>
        method === 'PUT' ? requireCriteria(query, 'update') : e.req.ifNoneExist !== undefined ? parseCriteria(e.req.ifNoneExist, 'ifNoneExist') : undefined,
      );
      const bodyId = method === 'PUT' ? (body as { id?: unknown } | undefined)?.id : undefined;
      id = criteria ? await matchedOrNew(ctx, tx, e, type, criteria, typeof bodyId === 'string' ? bodyId : undefined, byCriteria, access) : ctx.ids.next();
      assigned.set(e.index, id);
    }
    if (e.fullUrl !== undefined && LOCAL_URN.test(e.fullUrl)) identities.set(e.fullUrl, `${type}/${id}`);
  }
  return { identities, assigned };
}

async function matchedOrNew(
  ctx: FhirContext,
  tx: StoreTransaction,
  e: EntryRequest,
  type: string,
  criteria: Array<[string, string]>,
  bodyId: string | undefined,
  byCriteria: Map<string, string>,
  access: SearchOptions,
): Promise<string> {
  const key = criteriaKey(type, criteria);
  const known = byCriteria.get(key);
  if (known !== undefined) return known;
  // Several matches: the entry's own interaction answers 412 when it runs.
  const matches = await atEntry(e, () => matchInTransaction(ctx, tx, type, criteria, 2, access));
  const id = matches.length === 1 ? (matches[0]?.id as string) : (bodyId ?? ctx.ids.next());
  byCriteria.set(key, id);
  return id;
}

/** Two entries may not share a fullUrl or act on the same resource by URL (https://hl7.org/fhir/R4/http.html#trules). */
function assertDistinct(requests: EntryRequest[]): void {
  const fullUrls = new Map<string, number>();
  const targets = new Map<string, number>();
  for (const e of requests) {
    if (e.fullUrl !== undefined) {
      const other = fullUrls.get(e.fullUrl);
      if (other !== undefined) throw invalid(`Bundle.entry[${other}] and Bundle.entry[${e.index}] have the same fullUrl ${e.fullUrl.slice(0, 100)}`, `Bundle.entry[${e.index}].fullUrl`);
      fullUrls.set(e.fullUrl, e.index);
    }
    const { method, path } = e.req;
    if ((method === 'PUT' || method === 'PATCH' || method === 'DELETE') && path.length === 2) {
      const target = `${path[0]}/${path[1]}`;
      const other = targets.get(target);
      if (other !== undefined) throw invalid(`Bundle.entry[${other}] and Bundle.entry[${e.index}] both change ${target}; a transaction changes each resource once`, `Bundle.entry[${e.index}].request.url`);
      targets.set(target, e.index);
    }
  }
}

/** Runs `work` for entry `e`; a FhirError from it names the entry in every issue. */
async function atEntry<T>(e: EntryRequest, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof FhirError)) throw err;
    throw new FhirError(err.category, err.issues.map((issue) => locate(issue, e)));
  }
}

function locate(issue: OperationOutcomeIssue, e: EntryRequest): OperationOutcomeIssue {
  const at = `Bundle.entry[${e.index}]`;
  const diagnostics = issue.diagnostics?.includes(at) ? issue.diagnostics : `${at} (${e.req.method} ${e.url.slice(0, 100)}): ${issue.diagnostics ?? issue.code}`;
  const expression = (issue.expression ?? []).map((x) => (x.startsWith('Bundle.') ? x : x.replace(/^[A-Z][A-Za-z]+(?=\.|$)/, `${at}.resource`)));
  return { ...issue, diagnostics, expression: expression.length ? expression : [at] };
}
