/**
 * Where a write's audit event sits in the write (src/audit/auditor.ts): the store commit is durable first, then the
 * event is appended, and the answer waits for both. So a create is never answered before its event is durable, a
 * store commit that fails leaves an event saying it failed (never one claiming a create that did not happen), and
 * an event that cannot be stored fails the request with nothing served. The two are not overlapped: an event
 * written beside a commit that then failed (or was cut short by a crash) would claim an outcome that never happened.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEvent } from 'fhir/r4';
import { LmdbAuditTrail } from '../../../src/audit/lmdb-trail';
import type { AuditTrail } from '../../../src/audit/trail';
import { openLmdbStore } from '../../../src/storage/embedded/lmdb-store';
import type { Store } from '../../../src/storage/port';
import { FHIR_JSON, patient, startTestServer } from '../../fixtures/server';
import { withTempDir } from '../../fixtures/temp-dir';

const enospc = (): Error => Object.assign(new Error('No space left on device'), { code: 'ENOSPC' });

/** The trail's events after `sequence`, oldest first. */
async function eventsAfter(trail: AuditTrail, sequence: number): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for await (const e of trail.scan(sequence + 1)) out.push(e);
  return out;
}

const lastSequence = async (trail: AuditTrail): Promise<number> => (await trail.verify()).lastSequence ?? 0;

/** A trail that records, for each append, how many store transactions had become durable by then. */
function observedTrail(real: AuditTrail, durable: () => number, appended: Array<{ action?: string; durable: number; resolvedAt?: number }>, delay: { ms: number; failing: boolean }): AuditTrail {
  return {
    kind: 'observed',
    append: async (e) => {
      const entry: { action?: string; durable: number; resolvedAt?: number } = { durable: durable() };
      if (e.action !== undefined) entry.action = e.action;
      appended.push(entry);
      if (delay.ms) await new Promise((resolve) => setTimeout(resolve, delay.ms));
      if (delay.failing) throw new Error('injected audit write failure');
      const sequence = await real.append(e);
      entry.resolvedAt = performance.now();
      return sequence;
    },
    read: (s) => real.read(s),
    search: (q) => real.search(q),
    scan: (f) => real.scan(f),
    verify: (o) => real.verify(o),
    failure: () => (delay.failing ? 'injected' : undefined),
    close: () => real.close(),
  };
}

/** The store, counting its write transactions once they resolve (durable: the embedded store syncs before). */
function countingStore(store: Store, counter: { durable: number }): Store {
  const transaction = store.transaction.bind(store);
  return Object.assign(store, {
    async transaction<T>(work: Parameters<Store['transaction']>[0]): Promise<T> {
      const result = (await transaction(work)) as T;
      counter.durable++;
      return result;
    },
  }) as Store;
}

describe('audit event and store commit of a write (issue 11, issue 13)', () => {
  it('a create is answered only after its commit is durable and then its event: the event is appended after the commit', () =>
    withTempDir('write-order-', async (dir) => {
      const counter = { durable: 0 };
      const real = LmdbAuditTrail.temporary();
      const appended: Array<{ action?: string; durable: number; resolvedAt?: number }> = [];
      // The event's append takes 30 ms: the answer must wait for it.
      const delay = { ms: 30, failing: false };
      const server = await startTestServer({ store: countingStore(await openLmdbStore({ dataDir: dir }), counter), auditTrail: observedTrail(real, () => counter.durable, appended, delay) });
      try {
        const before = counter.durable;
        appended.length = 0;
        const res = await server.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
        const answeredAt = performance.now();
        assert.equal(res.status, 201);
        const create = appended.find((a) => a.action === 'C');
        assert.ok(create, 'the create left an event');
        assert.ok(create.durable > before, 'the event was appended after the store transaction of the create had resolved (durable)');
        assert.ok(create.resolvedAt !== undefined && create.resolvedAt <= answeredAt, 'the answer came after the event was durable');
      } finally {
        await server.close();
      }
    }));

  it('a store commit that fails (disk full, 507) leaves one event with a failure outcome and nothing claiming the create', () =>
    withTempDir('write-order-', async (dir) => {
      const disk = { full: false };
      const store = await openLmdbStore({ dataDir: dir, onWarning: () => undefined, beforeCommit: () => {
        if (disk.full) throw enospc();
      } });
      const trail = LmdbAuditTrail.temporary();
      const server = await startTestServer({ store, auditTrail: trail });
      try {
        const before = await lastSequence(trail);
        disk.full = true;
        const res = await server.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('Prefer', 'return=representation').send(patient({ name: [{ family: 'Neverstored' }] }));
        assert.equal(res.status, 507);
        assert.equal(res.headers.location, undefined);
        disk.full = false;
        const events = await eventsAfter(trail, before);
        const creates = events.filter((e) => e.action === 'C');
        assert.equal(creates.length, 1, 'one event for the refused create');
        assert.equal(creates[0]!.outcome, '8', 'the event says the server failed the create');
        assert.ok(!events.some((e) => e.action === 'C' && e.outcome === '0'), 'no event claims a create that did not happen');
        const versions = creates.flatMap((e) => (e.entity ?? []).map((x) => x.what?.reference ?? '')).filter((r) => r.includes('/_history/'));
        assert.deepEqual(versions, [], 'the event names no version (none was stored)');
        const search = await server.http.get('/fhir/Patient?family=Neverstored');
        assert.equal(search.status, 200);
        assert.equal(search.body.total ?? search.body.entry?.length ?? 0, 0, 'nothing was stored');
      } finally {
        await server.close();
      }
    }));

  it('an event that cannot be stored fails the create with 503: no Location, no resource in the answer (return=representation)', () =>
    withTempDir('write-order-', async (dir) => {
      const counter = { durable: 0 };
      const real = LmdbAuditTrail.temporary();
      const appended: Array<{ action?: string; durable: number }> = [];
      const delay = { ms: 0, failing: false };
      const server = await startTestServer({ store: countingStore(await openLmdbStore({ dataDir: dir }), counter), auditTrail: observedTrail(real, () => counter.durable, appended, delay) });
      try {
        delay.failing = true;
        const res = await server.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('Prefer', 'return=representation').send(patient({ name: [{ family: 'Unaudited' }] }));
        assert.equal(res.status, 503);
        assert.equal(res.body.resourceType, 'OperationOutcome');
        assert.equal(res.headers.location, undefined, 'no Location for a create that was not acknowledged');
        assert.equal(res.headers.etag, undefined);
        assert.ok(!JSON.stringify(res.body).includes('Unaudited'), 'no resource data in the answer');
        assert.match(res.body.issue[0].diagnostics, /audit trail could not record it/);
      } finally {
        await server.close();
      }
    }));
});
