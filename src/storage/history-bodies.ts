/**
 * Finds the bodies of history entries under the layout of src/storage/records.ts: a past version's body is in
 * its `history` entry, the current version's body only in its `resources` record. Used by vread, history and
 * snapshot paging (https://hl7.org/fhir/R4/http.html#vread, https://hl7.org/fhir/R4/http.html#history).
 */
import type { Resource } from 'fhir/r4';
import { FhirError } from '../core/errors';
import type { StoreReader } from './port';
import { HISTORY, RESOURCES, resourceKey, type HistoryRecord, type ResourceRecord } from './records';

/** A live version stored without its body: it was the current version when read, so the body is in `resources`. */
export const bodyInCurrentRecord = (version: HistoryRecord): boolean => !version.deleted && version.resource === null;

/**
 * The same entries, each live one with its body: one batched `resources` lookup for the entries that were
 * current, plus one batched re-read of `history` for those whose resource got a newer version in between (the
 * transaction that wrote it moved their body into `history`). Tombstones stay without body.
 */
export async function withBodies(store: StoreReader, versions: HistoryRecord[]): Promise<HistoryRecord[]> {
  const pending = versions.filter(bodyInCurrentRecord);
  if (!pending.length) return versions;
  const keys = [...new Set(pending.map((v) => resourceKey(v.type, v.id)))];
  const current = (await store.find(RESOURCES, { _id: { $in: keys } }, { projection: { versionId: 1, resource: 1 } })) as Array<
    Pick<ResourceRecord, '_id' | 'versionId' | 'resource'>
  >;
  const currentByKey = new Map(current.map((r) => [r._id, r]));
  const bodies = new Map<string, Resource>();
  const superseded: string[] = [];
  for (const v of pending) {
    const record = currentByKey.get(resourceKey(v.type, v.id));
    if (record?.versionId === v.versionId && record.resource) bodies.set(v._id, record.resource);
    else superseded.push(v._id);
  }
  if (superseded.length) {
    const reread = (await store.find(HISTORY, { _id: { $in: superseded } }, { projection: { resource: 1 } })) as Array<Pick<HistoryRecord, '_id' | 'resource'>>;
    for (const h of reread) if (h.resource) bodies.set(h._id, h.resource);
  }
  return versions.map((v) => {
    if (!bodyInCurrentRecord(v)) return v;
    const resource = bodies.get(v._id);
    if (!resource) throw new FhirError('fault', `The body of ${v._id} is in neither its history entry nor the current record`);
    return { ...v, resource };
  });
}
