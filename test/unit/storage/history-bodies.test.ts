/** Finding version bodies under the single-copy layout of src/storage/records.ts (https://hl7.org/fhir/R4/http.html#vread). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Resource } from 'fhir/r4';
import { withBodies } from '../../../src/storage/history-bodies';
import type { Store } from '../../../src/storage/port';
import { HISTORY, RESOURCES, type HistoryRecord, type ResourceRecord } from '../../../src/storage/records';
import { openTestStore } from '../../fixtures/store';

const body = (id: string, versionId: number, family: string): Resource =>
  ({ resourceType: 'Patient', id, meta: { versionId: String(versionId) }, name: [{ family }] }) as Resource;

const entry = (id: string, versionId: number, resource: Resource | null, deleted = false): HistoryRecord => ({
  _id: `Patient/${id}/${versionId}`,
  type: 'Patient',
  id,
  versionId,
  lastUpdated: `2024-01-01T00:00:0${versionId}.000Z`,
  deleted,
  method: deleted ? 'DELETE' : versionId === 1 ? 'POST' : 'PUT',
  resource,
});

const record = (id: string, versionId: number, resource: Resource | null): ResourceRecord => ({
  _id: `Patient/${id}`,
  type: 'Patient',
  id,
  versionId,
  lastUpdated: `2024-01-01T00:00:0${versionId}.000Z`,
  deleted: !resource,
  resource,
  idx: {},
  compartments: [],
});

describe('withBodies', () => {
  let store: Store;
  before(async () => {
    store = await openTestStore();
    await store.transaction(async (tx) => {
      // a: two versions, the second current; b: version 1 current; c: deleted after one version.
      await tx.insert(HISTORY, entry('a', 1, body('a', 1, 'Old')));
      await tx.insert(HISTORY, entry('a', 2, null));
      await tx.insert(RESOURCES, record('a', 2, body('a', 2, 'New')));
      await tx.insert(HISTORY, entry('b', 1, null));
      await tx.insert(RESOURCES, record('b', 1, body('b', 1, 'Only')));
      await tx.insert(HISTORY, entry('c', 1, body('c', 1, 'Gone')));
      await tx.insert(HISTORY, entry('c', 2, null, true));
      await tx.insert(RESOURCES, record('c', 2, null));
    });
  });
  after(() => store.close());

  const families = (versions: HistoryRecord[]): Array<string | null> =>
    versions.map((v) => (v.resource as { name?: Array<{ family: string }> } | null)?.name?.[0]?.family ?? null);

  it('current versions take their body from the current record; past versions and tombstones stay as stored', async () => {
    const versions = (await store.find(HISTORY, {}, { sort: [['_id', 1]] })) as HistoryRecord[];
    assert.deepEqual(families(await withBodies(store, versions)), ['Old', 'New', 'Only', 'Gone', null]);
  });

  it('a version superseded after it was read takes the body its successor moved into history', async () => {
    const stale = entry('a', 1, null);
    assert.deepEqual(families(await withBodies(store, [stale])), ['Old']);
  });

  it('a version without body anywhere is a server fault, not an empty entry', async () => {
    await assert.rejects(withBodies(store, [entry('missing', 1, null)]), (err: Error & { category?: string }) => err.category === 'fault');
  });
});
