/**
 * Issue 11: the embedded trail's search index is posting lists, one per search value and view transaction
 * (src/audit/postings.ts). Searches over events written in many view transactions find exactly what a scan of the
 * whole trail finds, page by page; a view written before the lists (one index key per value and event) is
 * re-indexed from its events at open.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AuditEvent } from 'fhir/r4';
import { open } from 'lmdb';
import { buildAuditEvent } from '../../../src/audit/event';
import { indexValuesOf } from '../../../src/audit/index-keys';
import { LmdbAuditTrail } from '../../../src/audit/lmdb-trail';
import type { AuditField, AuditQuery } from '../../../src/audit/trail';
import { FhirError } from '../../../src/core/errors';
import { withTempDir } from '../../fixtures/temp-dir';

const start = Date.parse('2026-12-01T10:00:00.000Z');
const at = (i: number): string => new Date(start + i * 1000).toISOString();
const users = ['Practitioner/u1', 'Practitioner/u2', 'Practitioner/u3'].map((fhirUser, i) => ({ subject: `s${i}`, fhirUser, clientId: `app${i % 2}`, purposeOfUse: i === 2 ? ['TREAT'] : [], scopes: { resources: [] } }) as never);

/** The i-th event: a read of one of 5 patients by one of 3 users, every 11th refused. */
function eventOf(i: number): AuditEvent {
  const patient = `p${(i * 7) % 5}`;
  return buildAuditEvent(
    {
      req: { method: 'GET', path: ['Patient', patient], query: [], prefer: {}, access: { token: users[i % 3], decidedBy: new Set(['implicit:permit']), clientAddress: '127.0.0.1' } },
      interaction: i % 4 === 0 ? 'vread' : 'read',
      params: { type: 'Patient', id: patient },
      ...(i % 11 === 0 ? { error: new FhirError('forbidden', 'no') } : { result: { status: 200, resource: { resourceType: 'Patient', id: patient, meta: { versionId: '1' } } } }),
      recorded: at(i),
    },
    { patientsOf: (r) => [`Patient/${r.id}`], serverName: 'postings-test' },
  );
}

/** What a query should find, by reading every event of the trail. */
async function expected(trail: LmdbAuditTrail, q: AuditQuery): Promise<number[]> {
  const found: number[] = [];
  for await (const e of trail.scan()) {
    const values = indexValuesOf(e);
    const dated = q.dates.every((d) => (d.low === undefined || e.recorded >= d.low) && (d.high === undefined || e.recorded < d.high));
    if (dated && q.filters.every((f) => f.values.some((v) => values[f.field].includes(v)))) found.push(Number(e.id));
  }
  return found.reverse();
}

/** Every match of a query, page by page. */
async function paged(trail: LmdbAuditTrail, q: AuditQuery): Promise<{ found: number[]; total: number | undefined }> {
  const found: number[] = [];
  let before: number | undefined;
  let total: number | undefined;
  for (;;) {
    const page = await trail.search({ ...q, ...(before !== undefined ? { before } : {}) });
    total ??= page.total;
    found.push(...page.events.map((e) => Number(e.id)));
    if (page.next === undefined) return { found, total };
    before = page.next;
  }
}

const f = (field: AuditField, ...values: string[]) => ({ field, values });
const QUERIES: AuditQuery[] = [
  { filters: [f('patient', 'Patient/p2')], dates: [], count: 37 },
  { filters: [f('patient', 'Patient/p1', 'Patient/p3')], dates: [], count: 100 },
  { filters: [f('patient', 'Patient/p4'), f('agent', 'Practitioner/u2')], dates: [], count: 25 },
  { filters: [f('agent', 'app1'), f('subtype', 'vread'), f('outcome', '4')], dates: [], count: 10 },
  { filters: [f('purpose', 'TREAT'), f('entity', 'Patient/p0', 'Patient/p1')], dates: [{ low: at(300), high: at(900) }], count: 50 },
  { filters: [f('type', 'rest')], dates: [{ low: at(511) }, { high: at(513) }], count: 5 },
  { filters: [], dates: [{ low: at(1000) }], count: 64 },
];

const withDir = (run: (dir: string) => Promise<void>): Promise<void> => withTempDir('audit-postings-', run);

describe('audit trail search index as posting lists (issue 11)', () => {
  it('searches over events put into the view in many transactions find what a scan finds, page by page', () =>
    withDir(async (dir) => {
      const trail = LmdbAuditTrail.open({ dir });
      try {
        for (let i = 1; i <= 1300; i += 100) {
          // Groups of 100 events; a search between groups puts the waiting events into the view (a transaction each).
          await Promise.all(Array.from({ length: 100 }, (_, j) => trail.append(eventOf(i + j))));
          if (i % 300 === 1) await trail.search({ filters: [f('patient', 'Patient/p0')], dates: [], count: 1 });
        }
        for (const q of QUERIES) {
          const want = await expected(trail, q);
          assert.ok(want.length > 0, `${JSON.stringify(q)} finds something`);
          const { found, total } = await paged(trail, q);
          assert.deepEqual(found, want, JSON.stringify(q));
          assert.equal(total, want.length);
        }
      } finally {
        await trail.close();
      }
    }));

  it('a view written with one index key per value and event is re-indexed from its events at open', () =>
    withDir(async (dir) => {
      let trail = LmdbAuditTrail.open({ dir });
      await Promise.all(Array.from({ length: 200 }, (_, i) => trail.append(eventOf(i + 1))));
      await trail.close();
      // Back to the earlier layout: no posting lists, and keys `<field>\0<value>\0<sequence>` in `index`.
      const root = open({ path: join(dir, 'trail.mdb'), maxDbs: 4, noSubdir: true });
      const postings = root.openDB<Buffer, Buffer>({ name: 'postings', keyEncoding: 'binary', encoding: 'binary' });
      const index = root.openDB<Buffer, Buffer>({ name: 'index', keyEncoding: 'binary', encoding: 'binary' });
      const meta = root.openDB<string, string>({ name: 'meta', encoding: 'string' });
      await postings.clearAsync();
      await meta.remove('postings');
      await index.put(Buffer.from('patient\0Patient/p0\0\0\0\0\0\0\0\0\x01', 'latin1'), Buffer.alloc(0));
      await root.close();
      trail = LmdbAuditTrail.open({ dir });
      try {
        for (const q of QUERIES.slice(0, 4)) assert.deepEqual((await paged(trail, q)).found, await expected(trail, q), JSON.stringify(q));
        await trail.append(eventOf(201));
        assert.equal((await trail.search({ filters: [f('patient', (eventOf(201).entity?.[0]?.what?.reference as string))], dates: [], count: 1 })).events[0]?.id, '201');
      } finally {
        await trail.close();
      }
      const check = open({ path: join(dir, 'trail.mdb'), maxDbs: 4, noSubdir: true });
      try {
        assert.equal(check.openDB({ name: 'index', keyEncoding: 'binary' }).getKeysCount(), 0, 'the old keys are gone');
      } finally {
        await check.close();
      }
    }));
});
