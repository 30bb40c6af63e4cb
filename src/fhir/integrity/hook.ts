/**
 * Referential integrity, when configured (REFERENTIAL_INTEGRITY, default off):
 * - `write`: a version is refused (422, naming the element) when one of its literal references into this server
 *   points to a resource that does not exist (or is deleted), or to a type the element's targetProfile does not
 *   allow (https://hl7.org/fhir/R4/references.html).
 * - `write-delete`: also, deleting a resource that current resources refer to is refused (409, naming a few).
 * It runs once per store transaction over everything the transaction wrote, just before commit, so a transaction
 * Bundle is checked after its urn:uuid references were resolved and may create referrer and target together.
 * Referrers are found through the reference search index (idx.ref.r): references held by elements that no search
 * parameter covers do not block a delete. Off by default: regional sync and bulk loads often write referrers
 * before their targets.
 */
import { FhirError } from '../../core/errors';
import type { OperationOutcomeIssue } from '../../core/outcome';
import type { IndexSpec, StoreTransaction } from '../../storage/port';
import { RESOURCES, resourceKey, type ResourceRecord } from '../../storage/records';
import type { WriteHook } from '../write-hooks';
import type { ReferenceFinder } from './references';

export type IntegrityMode = 'write' | 'write-delete';

/** Lets a delete find the current resources that refer to it without a scan. */
export const REFERRER_INDEX: IndexSpec = { name: 'ref_r', keys: [['idx.ref.r', 1]] };

const MAX_ISSUES = 20;
const REFERRERS_SHOWN = 3;

export function referentialIntegrityHook(mode: IntegrityMode, finder: ReferenceFinder): WriteHook {
  return {
    async beforeCommit(tx, written) {
      const latest = new Map<string, ResourceRecord>();
      for (const record of written) latest.set(record._id, record);
      await checkTargets(tx, finder, [...latest.values()].filter((r) => !r.deleted && r.resource));
      if (mode === 'write-delete') await checkReferrers(tx, [...latest.values()].filter((r) => r.deleted));
    },
  };
}

async function checkTargets(tx: StoreTransaction, finder: ReferenceFinder, records: ResourceRecord[]): Promise<void> {
  const issues: OperationOutcomeIssue[] = [];
  const exists = new Map<string, Promise<boolean>>();
  const lookUp = (key: string): Promise<boolean> => {
    let found = exists.get(key);
    if (!found) {
      found = tx.findOne(RESOURCES, { _id: key }, { projection: { deleted: 1 } }).then((doc) => doc !== null && doc.deleted !== true);
      exists.set(key, found);
    }
    return found;
  };
  for (const record of records) {
    for (const ref of finder.references(record.resource!)) {
      if (issues.length >= MAX_ISSUES) break;
      if (ref.allowed && !ref.allowed.includes(ref.type)) {
        issues.push({
          severity: 'error',
          code: 'invalid',
          diagnostics: `${ref.element} refers to a ${ref.type}, but this element may refer only to ${ref.allowed.join(', ')}`,
          expression: [ref.element],
        });
      } else if (!(await lookUp(ref.key))) {
        issues.push({
          severity: 'error',
          code: 'not-found',
          diagnostics: `${ref.element} refers to ${ref.key}, which does not exist on this server (referential integrity is on: create the target first, or in the same transaction)`,
          expression: [ref.element],
        });
      }
    }
  }
  if (issues.length) throw new FhirError('unprocessable', issues);
}

async function checkReferrers(tx: StoreTransaction, deleted: ResourceRecord[]): Promise<void> {
  for (const record of deleted) {
    const key = resourceKey(record.type, record.id);
    const filter = { 'idx.ref.r': key, deleted: false, _id: { $ne: key } };
    const referrers = (await tx.find(RESOURCES, filter, { limit: REFERRERS_SHOWN + 1, projection: { type: 1, id: 1 } })) as unknown as ResourceRecord[];
    if (!referrers.length) continue;
    const named = referrers.slice(0, REFERRERS_SHOWN).map((r) => `${r.type}/${r.id}`);
    const more = referrers.length > REFERRERS_SHOWN ? ' and more' : '';
    throw new FhirError('conflict', [
      {
        severity: 'error',
        code: 'conflict',
        diagnostics: `${key} cannot be deleted: current resources refer to it (${named.join(', ')}${more}); delete or change them first (REFERENTIAL_INTEGRITY=write-delete)`,
      },
    ]);
  }
}
