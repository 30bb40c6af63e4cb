/**
 * The match of a conditional interaction (https://hl7.org/fhir/R4/http.html#ccreate, #cond-update, #patch,
 * #3.1.0.7.1), decided inside the write transaction that acts on it, so two concurrent conditional writes on the
 * same criteria cannot both see "no match" and both create.
 *
 * - The criteria are searched through the transaction (SearchService.matchCriteria with `reader: tx`), which sees
 *   the transaction's own writes. On the embedded store writers are serialised and a transaction also sees the
 *   commits still waiting for their fsync, so the search sees every earlier write: race-free by construction.
 * - On MongoDB transactions are snapshot-isolated, so reading is not enough: the transaction first takes a guard
 *   (StoreTransaction.guard) on the normalised criteria. Two transactions guarding the same key conflict and the
 *   later one is re-run after the first committed, now seeing its resource (src/storage/mongo/mongo-store.ts).
 *   Guards are per normalised criteria (type + sorted parameters), not per resource type, so unrelated
 *   conditional writes of one type do not conflict; the price is that two textually different criteria that
 *   match the same resource (identifier=a|1 and identifier=a|1&active=true) are not ordered against each other.
 */
import type { SearchOptions } from '../search/service';
import type { StoreTransaction } from '../storage/port';
import type { ResourceRecord } from '../storage/records';
import type { FhirContext } from './context';

/** Up to `limit` current resources of `type` matching `criteria`, as seen by `tx`, with `tx` ordered against every other writer on them. */
export async function matchInTransaction(
  ctx: FhirContext,
  tx: StoreTransaction,
  type: string,
  criteria: Array<[string, string]>,
  limit = 2,
  /** The caller's access (src/fhir/criteria.ts accessOptions): the criteria match only what it may see. */
  access: SearchOptions = {},
): Promise<ResourceRecord[]> {
  await tx.guard(criteriaKey(type, criteria));
  return ctx.search.matchCriteria(type, criteria, limit, { ...access, reader: tx });
}

/** The same key for the same criteria in any parameter order: `cond:<type>?<sorted query>`. */
export function criteriaKey(type: string, criteria: Array<[string, string]>): string {
  const sorted = criteria.length > 1 ? [...criteria].sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0)) : criteria;
  return `cond:${type}?${new URLSearchParams(sorted).toString()}`;
}
