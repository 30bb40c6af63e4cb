/**
 * The audit trail contract (src/audit/trail.ts), written once and run against every adapter: the embedded LMDB
 * trail always, the MongoDB trail when MONGODB_URI is set. Append-only numbering and chaining under concurrent
 * appends, durability across a reopen, search by every parameter with keyset paging, scan, verify, refusal once closed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEvent } from 'fhir/r4';
import { linkOf } from '../../src/audit/chain';
import { buildAuditEvent } from '../../src/audit/event';
import { verifyNdjson } from '../../src/audit/offline-verify';
import { AuditUnavailable, type AuditQuery, type AuditTrail } from '../../src/audit/trail';
import { FhirError } from '../../src/core/errors';

export interface TrailFixture {
  trail: AuditTrail;
  /** Closes the trail and opens the same storage again. */
  reopen(): Promise<AuditTrail>;
  /** Closes whatever is open and removes the storage. */
  dispose(): Promise<void>;
}

interface Shape {
  patient?: string;
  user?: string;
  interaction?: string;
  failed?: boolean;
  purpose?: string;
  recorded?: string;
}

let clock = Date.parse('2026-12-01T10:00:00.000Z');
/** An event as the server builds it for a read of `patient` by `user`; each a millisecond after the one before. */
function eventOf(shape: Shape = {}): AuditEvent {
  const patient = shape.patient ?? 'p1';
  return buildAuditEvent(
    {
      req: {
        method: 'GET',
        path: ['Patient', patient],
        query: [],
        prefer: {},
        access: {
          token: { subject: shape.user ?? 'u1', fhirUser: `Practitioner/${shape.user ?? 'u1'}`, clientId: 'app', purposeOfUse: shape.purpose ? [shape.purpose] : [], scopes: { resources: [] } } as never,
          decidedBy: new Set(['implicit:permit']),
          clientAddress: '127.0.0.1',
        },
      },
      interaction: shape.interaction ?? 'read',
      params: { type: 'Patient', id: patient },
      ...(shape.failed ? { error: new FhirError('forbidden', 'no') } : { result: { status: 200, resource: { resourceType: 'Patient', id: patient, meta: { versionId: '1' } } } }),
      recorded: shape.recorded ?? new Date((clock += 1)).toISOString(),
    },
    { patientsOf: (r) => [`Patient/${r.id}`], serverName: 'contract' },
  );
}

const seq = (e: AuditEvent): number => linkOf(e)?.sequence as number;
const query = (q: Partial<AuditQuery>): AuditQuery => ({ filters: [], dates: [], count: 1000, ...q });

/** Every page of a query, following `next`. */
async function allPages(trail: AuditTrail, q: AuditQuery): Promise<number[]> {
  const seen: number[] = [];
  let before: number | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const page = await trail.search({ ...q, ...(before !== undefined ? { before } : {}) });
    assert.ok(page.events.length <= q.count, 'a page holds at most _count events');
    seen.push(...page.events.map(seq));
    if (page.next === undefined) return seen;
    before = page.next;
  }
  throw new Error('paging did not end');
}

export function runAuditTrailContract(name: string, open: () => Promise<TrailFixture>): void {
  describe(`audit trail contract: ${name}`, () => {
    it('concurrent appends are numbered 1, 2, 3... in call order, each chained to the one before, and resolve once stored', async () => {
      const f = await open();
      try {
        const sequences = await Promise.all(Array.from({ length: 60 }, (_, i) => f.trail.append(eventOf({ patient: `c${i}` }))));
        assert.deepEqual(sequences, Array.from({ length: 60 }, (_, i) => i + 1));
        let previous = '0'.repeat(64);
        for (let s = 1; s <= 60; s++) {
          const e = (await f.trail.read(s)) as AuditEvent;
          assert.equal(e.id, String(s));
          assert.equal(e.entity?.[0]?.what?.reference, `Patient/c${s - 1}`);
          const link = linkOf(e);
          assert.equal(link?.previous, previous);
          previous = link?.hash as string;
        }
        assert.equal(await f.trail.read(61), undefined);
        const report = await f.trail.verify();
        assert.equal(report.ok, true);
        assert.equal(report.checked, 60);
        assert.equal(report.lastHash, previous);
      } finally {
        await f.dispose();
      }
    });

    it('the trail survives a reopen and continues its chain; scan and the offline check see one unbroken chain', async () => {
      const f = await open();
      try {
        for (let i = 0; i < 5; i++) await f.trail.append(eventOf());
        const reopened = await f.reopen();
        assert.equal(await reopened.append(eventOf()), 6);
        const lines: string[] = [];
        for await (const e of reopened.scan()) lines.push(JSON.stringify(e));
        assert.equal(lines.length, 6);
        assert.equal(verifyNdjson(lines.join('\n')).ok, true);
        const tail: number[] = [];
        for await (const e of reopened.scan(4)) tail.push(seq(e));
        assert.deepEqual(tail, [4, 5, 6]);
        const partial = await reopened.verify({ tail: 2 });
        assert.equal(partial.ok, true);
        assert.equal(partial.firstSequence, 5);
      } finally {
        await f.dispose();
      }
    });

    it('recorded never decreases along the chain: an event built earlier takes the time of the one appended before it', async () => {
      const f = await open();
      try {
        await f.trail.append(eventOf({ recorded: '2026-12-01T12:00:00.000Z' }));
        await f.trail.append(eventOf({ recorded: '2026-12-01T11:00:00.000Z' }));
        assert.equal((await f.trail.read(2))?.recorded, '2026-12-01T12:00:00.000Z');
        assert.equal((await f.trail.verify()).ok, true);
      } finally {
        await f.dispose();
      }
    });

    it('search by patient, agent, entity, type, subtype, outcome, purpose and date: newest first, ANDed fields, ORed values', async () => {
      const f = await open();
      try {
        const day = (h: number) => `2026-12-02T${String(h).padStart(2, '0')}:00:00.000Z`;
        await f.trail.append(eventOf({ patient: 'a', user: 'u1', recorded: day(1) })); // 1
        await f.trail.append(eventOf({ patient: 'b', user: 'u2', recorded: day(2), purpose: 'TREAT' })); // 2
        await f.trail.append(eventOf({ patient: 'a', user: 'u2', recorded: day(3), failed: true })); // 3
        await f.trail.append(eventOf({ patient: 'c', user: 'u1', recorded: day(4), interaction: 'vread' })); // 4
        await f.trail.append(eventOf({ patient: 'a', user: 'u1', recorded: day(5) })); // 5
        const found = async (q: Partial<AuditQuery>) => (await f.trail.search(query(q))).events.map(seq);
        assert.deepEqual(await found({ filters: [{ field: 'patient', values: ['Patient/a'] }] }), [5, 3, 1]);
        assert.deepEqual(await found({ filters: [{ field: 'patient', values: ['Patient/a', 'Patient/b'] }] }), [5, 3, 2, 1]);
        assert.deepEqual(await found({ filters: [{ field: 'patient', values: ['Patient/a'] }, { field: 'agent', values: ['Practitioner/u2'] }] }), [3]);
        assert.deepEqual(await found({ filters: [{ field: 'agent', values: ['u1'] }] }), [5, 4, 1], 'agent by sub');
        assert.deepEqual(await found({ filters: [{ field: 'agent', values: ['app'] }] }), [5, 4, 3, 2, 1], 'agent by client id');
        assert.deepEqual(await found({ filters: [{ field: 'entity', values: ['Patient/c'] }] }), [4]);
        assert.deepEqual(await found({ filters: [{ field: 'type', values: ['rest'] }] }), [5, 4, 3, 2, 1]);
        assert.deepEqual(await found({ filters: [{ field: 'subtype', values: ['vread'] }] }), [4]);
        assert.deepEqual(await found({ filters: [{ field: 'outcome', values: ['4'] }] }), [3]);
        assert.deepEqual(await found({ filters: [{ field: 'purpose', values: ['TREAT'] }] }), [2]);
        assert.deepEqual(await found({ filters: [{ field: 'patient', values: ['Patient/nobody'] }] }), []);
        assert.deepEqual(await found({ dates: [{ low: day(2), high: day(4) }] }), [3, 2], 'date range [low, high)');
        assert.deepEqual(await found({ dates: [{ low: day(2) }, { high: `${day(4)}\u0001` }] }), [4, 3, 2], 'two date bounds, le inclusive');
        assert.deepEqual(await found({ dates: [{ low: '2026-12-02', high: '2026-12-02~' }], filters: [{ field: 'patient', values: ['Patient/a'] }] }), [5, 3, 1]);
        assert.deepEqual(await found({ dates: [{ low: '2027-01-01' }] }), []);
        const page = await f.trail.search(query({ filters: [{ field: 'patient', values: ['Patient/a'] }], count: 2 }));
        assert.deepEqual(page.events.map(seq), [5, 3]);
        assert.equal(page.total, 3);
        assert.equal(page.next, 3);
      } finally {
        await f.dispose();
      }
    });

    it('keyset paging walks a broad search page by page, each match once, with the total', async () => {
      const f = await open();
      try {
        await Promise.all(Array.from({ length: 150 }, (_, i) => f.trail.append(eventOf({ patient: i % 3 ? 'many' : 'few' }))));
        const many = await allPages(f.trail, query({ filters: [{ field: 'patient', values: ['Patient/many'] }], count: 7 }));
        assert.equal(many.length, 100);
        assert.deepEqual(many, [...many].sort((a, b) => b - a), 'newest first');
        assert.equal(new Set(many).size, 100, 'each match once');
        assert.ok(many.every((s) => (s - 1) % 3 !== 0));
        const everything = await allPages(f.trail, query({ count: 40 }));
        assert.deepEqual(everything, Array.from({ length: 150 }, (_, i) => 150 - i));
        const first = await f.trail.search(query({ filters: [{ field: 'type', values: ['rest'] }], count: 5 }));
        assert.equal(first.total, 150);
        const below = await f.trail.search(query({ filters: [{ field: 'patient', values: ['Patient/few'] }], count: 5, before: 10 }));
        assert.deepEqual(below.events.map(seq), [7, 4, 1]);
        assert.equal(below.next, undefined);
      } finally {
        await f.dispose();
      }
    });

    it('a closed trail refuses appends with AuditUnavailable and says why', async () => {
      const f = await open();
      try {
        await f.trail.append(eventOf());
        await f.trail.close();
        await assert.rejects(f.trail.append(eventOf()), AuditUnavailable);
        assert.match(f.trail.failure() ?? '', /closed/);
      } finally {
        await f.dispose();
      }
    });
  });
}
