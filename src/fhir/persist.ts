/**
 * Writes one new version of a resource: the current record and its history entry in the same transaction,
 * with server-assigned meta.versionId and meta.lastUpdated (https://hl7.org/fhir/R4/http.html#versioning)
 * and the search index entries extracted from the same resource. The body is stored once (layout in
 * src/storage/records.ts): the new history entry has none, and the previous version's entry receives its body
 * from the record being replaced.
 */
import type { Resource } from 'fhir/r4';
import { FhirError } from '../core/errors';
import { StorageConflict, StorageFull, type StoreTransaction, type WriteOptions } from '../storage/port';
import { HISTORY, RESOURCES, historyKey, resourceKey, type HistoryMethod, type HistoryRecord, type ResourceRecord } from '../storage/records';
import type { RequestAccess } from '../access/request-access';
import { storedToken, type AccessToken } from '../access/tokens';
import { withBodies } from '../storage/history-bodies';
import type { FhirContext } from './context';
import type { FhirRequest } from './types';
import { assertValid } from './incoming';

/** The newest meta.lastUpdated of any stored version (the history's newest entry), if any. */
export async function newestLastUpdated(store: Pick<StoreTransaction, 'find'>): Promise<string | undefined> {
  const [newest] = (await store.find(HISTORY, {}, { sort: [['lastUpdated', -1]], limit: 1, projection: { lastUpdated: 1 } })) as HistoryRecord[];
  return newest?.lastUpdated;
}

export async function loadCurrent(tx: Pick<StoreTransaction, 'findOne'>, type: string, id: string): Promise<ResourceRecord | null> {
  return (await tx.findOne(RESOURCES, { _id: resourceKey(type, id) })) as ResourceRecord | null;
}

/**
 * Whether the request may read this current record (an invisible one answers 404, never 403). A tombstone
 * carries no index fields: it is judged by the version it deleted.
 */
export async function visibleRecord(ctx: FhirContext, req: FhirRequest, record: ResourceRecord): Promise<boolean> {
  if (!ctx.access || !req.access?.token) return true;
  if (!record.deleted) return ctx.access.admits(req.access, 'r', record);
  const [entry] = (await ctx.store.find(HISTORY, { _id: historyKey(record.type, record.id, record.versionId) })) as HistoryRecord[];
  return entry ? visibleVersion(ctx, req, entry) : false;
}

/**
 * Whether the request may read this version (with its body, src/storage/history-bodies.ts), re-indexed from the
 * body itself; a deletion is judged by the version before it. `permission` is r (instance) or s (type/system).
 */
export async function visibleVersion(ctx: FhirContext, req: FhirRequest, version: HistoryRecord, permission: 'r' | 's' = 'r'): Promise<boolean> {
  if (!ctx.access || !req.access?.token) return true;
  let judged: HistoryRecord | undefined = version;
  if (version.deleted || !version.resource) {
    if (version.versionId <= 1) return false;
    const [before] = (await ctx.store.find(HISTORY, { _id: historyKey(version.type, version.id, version.versionId - 1) })) as HistoryRecord[];
    judged = before ? (await withBodies(ctx.store, [before]))[0] : undefined;
  }
  if (!judged?.resource) return false;
  return ctx.access.admitsVersion(req.access, permission, version.type, version.id, judged.resource);
}

/** `body` as stored: with the server's id, versionId and lastUpdated (https://hl7.org/fhir/R4/http.html#versioning). */
export function stampedVersion(body: Resource, id: string, lastUpdated: string, versionId: number): Resource {
  const { resourceType, id: _ignored, meta, ...content } = body;
  return { resourceType, id, meta: { ...meta, versionId: String(versionId), lastUpdated }, ...content } as Resource;
}

const HAND_OVER: WriteOptions = { handOver: true };

/** Stamps meta, validates, extracts index entries and writes the version after `previous` (or version 1). */
export async function writeVersion(
  ctx: FhirContext,
  tx: StoreTransaction,
  previous: ResourceRecord | null,
  type: string,
  id: string,
  body: Resource | null,
  method: HistoryMethod,
  /** Who writes: the access check of the old and new version (src/access/control.ts). */
  access?: RequestAccess,
): Promise<ResourceRecord> {
  const versionId = previous ? previous.versionId + 1 : 1;
  // A transaction Bundle's writes arrive validated and indexed (src/fhir/prepared-versions.ts).
  const prepared = body ? ctx.preparedVersions?.take(type, id, body, versionId) : undefined;
  const lastUpdated = prepared ? (prepared.resource.meta?.lastUpdated as string) : ctx.clock.now();
  let resource: Resource | null = prepared?.resource ?? null;
  if (body && !prepared) {
    resource = stampedVersion(body, id, lastUpdated, versionId);
    assertValid(ctx, resource);
  }
  const { idx, compartments } = prepared ? prepared.extracted : resource ? ctx.indexer.extract(resource) : { idx: {}, compartments: [] };
  const record: ResourceRecord = { _id: resourceKey(type, id), type, id, versionId, lastUpdated, deleted: !resource, resource, idx, compartments };
  const history: HistoryRecord = { _id: historyKey(type, id, versionId), type, id, versionId, lastUpdated, deleted: !resource, method, resource: null };
  if (ctx.access) await ctx.access.checkWrite(access, previous, record);
  if (type === 'Subscription' && resource && access?.token) await saveSubscriptionOwner(tx, id, access.token);
  for (const hook of ctx.hooks) hook.beforeWrite?.(record);
  // The version is the store's from here on (the body, stamped and validated, included): frozen, not copied.
  if (previous) {
    await tx.replace(RESOURCES, record, { versionId: previous.versionId }, HAND_OVER);
    await movePreviousBodyToHistory(tx, previous);
  } else {
    await tx.insert(RESOURCES, record, HAND_OVER);
  }
  await tx.insert(HISTORY, history, HAND_OVER);
  return record;
}

/**
 * Who created or last changed a Subscription (by a client, not by the server's own status updates), kept in the
 * same transaction: its notifications carry only what that requester may see (src/compose.ts visibleTo).
 */
export const SUBSCRIPTION_OWNERS = 'subscription_owners';

async function saveSubscriptionOwner(tx: StoreTransaction, id: string, token: AccessToken): Promise<void> {
  const owner = { _id: id, token: storedToken(token) };
  if (await tx.findOne(SUBSCRIPTION_OWNERS, { _id: id })) await tx.replace(SUBSCRIPTION_OWNERS, owner);
  else await tx.insert(SUBSCRIPTION_OWNERS, owner);
}

/** The version being superseded keeps its body in its own history entry from now on (tombstones have none). */
async function movePreviousBodyToHistory(tx: StoreTransaction, previous: ResourceRecord): Promise<void> {
  if (!previous.resource) return;
  const key = historyKey(previous.type, previous.id, previous.versionId);
  const entry = (await tx.findOne(HISTORY, { _id: key })) as HistoryRecord | null;
  if (!entry) throw new FhirError('fault', `The history entry ${key} of the current version is missing`);
  if (entry.resource) return;
  await tx.replace(HISTORY, { ...entry, resource: previous.resource }, { versionId: previous.versionId, resource: null });
}

/**
 * Runs a write transaction; a lost race becomes 409 so the client can re-read and retry. Once the commit is
 * durable, the write hooks hear which resource versions it wrote. This is the one place a store transaction is
 * opened: an interaction running inside an open one (`ctx.transaction`, the entries of a transaction Bundle) joins
 * it, and the outer call records its writes and runs the hooks once for the whole store transaction.
 */
export function inTransaction<T>(ctx: FhirContext, work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
  // Joined directly (no async wrapper around it): once per entry of a transaction Bundle.
  return ctx.transaction ? work(ctx.transaction) : ownTransaction(ctx, work);
}

async function ownTransaction<T>(ctx: FhirContext, work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
  let written: ResourceRecord[] = [];
  try {
    const result = await ctx.store.transaction(async (tx) => {
      written = [];
      const value = await work(recordingWrites(tx, written));
      for (const hook of ctx.hooks) await hook.beforeCommit?.(tx, written);
      return value;
    });
    for (const hook of ctx.hooks) hook.afterCommit?.(written);
    return result;
  } catch (err) {
    if (err instanceof StorageConflict) {
      throw new FhirError('conflict', [
        { severity: 'error', code: 'conflict', diagnostics: 'Another request changed this resource at the same time; read it again and retry' },
      ]);
    }
    if (err instanceof StorageFull) {
      throw new FhirError('insufficient-storage', 'The server cannot store data right now: its storage is full. Reads still work; retry the write later');
    }
    throw err;
  }
}

/**
 * The same transaction, noting every resource version written to the `resources` collection: the store's own
 * copy when it hands one back (frozen), so the caller's record and its index entries need not live until commit.
 */
function recordingWrites(tx: StoreTransaction, written: ResourceRecord[]): StoreTransaction {
  return {
    find: (c, f, o) => tx.find(c, f, o),
    findOne: (c, f, o) => tx.findOne(c, f, o),
    count: (c, f, l) => tx.count(c, f, l),
    delete: (c, id) => tx.delete(c, id),
    guard: (key) => tx.guard(key),
    insert: async (c, doc, options) => {
      const stored = await tx.insert(c, doc, options);
      if (c === RESOURCES) written.push((stored ?? doc) as ResourceRecord);
      return stored;
    },
    replace: async (c, doc, expect, options) => {
      const stored = await tx.replace(c, doc, expect, options);
      if (c === RESOURCES) written.push((stored ?? doc) as ResourceRecord);
      return stored;
    },
  };
}
