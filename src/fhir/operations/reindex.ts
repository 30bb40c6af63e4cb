/**
 * $reindex: re-extracts the search index entries of every current resource (of one type, or all) with the
 * registry as it is now, so SearchParameters added after data was written find that data. Index entries are
 * not part of the resource, so no new version is written. Runs in batches, each one transaction; a resource
 * changed concurrently is skipped (its new version was indexed with the current registry when written).
 */
import type { Parameters } from 'fhir/r4';
import { StorageConflict } from '../../storage/port';
import { RESOURCES, type ResourceRecord } from '../../storage/records';
import type { FhirContext } from '../context';
import { assertResourceType } from '../target';
import type { FhirRequest, FhirResponse } from '../types';

const BATCH = 500;

export async function reindex(ctx: FhirContext, _req: FhirRequest, type?: string): Promise<FhirResponse> {
  if (type) assertResourceType(ctx, type);
  let after = '';
  let examined = 0;
  let updated = 0;
  for (;;) {
    const filter = { ...(type ? { type } : {}), deleted: false, _id: { $gt: after } };
    const batch = (await ctx.store.find(RESOURCES, filter, { sort: [['_id', 1]], limit: BATCH })) as ResourceRecord[];
    if (!batch.length) break;
    after = batch[batch.length - 1]?._id ?? after;
    examined += batch.length;
    const changed = batch.flatMap((record) => {
      const { idx, compartments } = ctx.indexer.extract(record.resource as NonNullable<ResourceRecord['resource']>);
      const same = JSON.stringify(idx) === JSON.stringify(record.idx) && JSON.stringify(compartments) === JSON.stringify(record.compartments);
      return same ? [] : [{ ...record, idx, compartments }];
    });
    updated += await writeIndexes(ctx, changed);
  }
  const result: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'examined', valueInteger: examined },
      { name: 'reindexed', valueInteger: updated },
    ],
  };
  return { status: 200, resource: result };
}

/** Writes the batch in one transaction; after a conflict, one by one, skipping the resources that changed. */
async function writeIndexes(ctx: FhirContext, records: ResourceRecord[]): Promise<number> {
  if (!records.length) return 0;
  const replace = (list: ResourceRecord[]) =>
    ctx.store.transaction(async (tx) => {
      for (const r of list) await tx.replace(RESOURCES, r, { versionId: r.versionId, deleted: false });
    });
  try {
    await replace(records);
    return records.length;
  } catch (err) {
    if (!(err instanceof StorageConflict)) throw err;
  }
  let written = 0;
  for (const record of records) {
    try {
      await replace([record]);
      written++;
    } catch (err) {
      if (!(err instanceof StorageConflict)) throw err;
    }
  }
  return written;
}
