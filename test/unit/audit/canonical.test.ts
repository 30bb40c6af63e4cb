/** The canonical JSON the audit chain hashes (src/audit/canonical.ts): one text whatever the member order. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEvent } from 'fhir/r4';
import { canonicalJson, inCanonicalOrder } from '../../../src/audit/canonical';
import { CHAIN_URL, chainHash, GENESIS, seal, sealedText } from '../../../src/audit/chain';
import { buildAuditEvent } from '../../../src/audit/event';
import { encodeFrame, textOf, valueOf } from '../../../src/audit/segment-log';
import { FhirError } from '../../../src/core/errors';

const event = (error?: unknown): AuditEvent =>
  buildAuditEvent(
    {
      req: { method: 'GET', path: ['Patient', 'x'], query: [], prefer: {}, access: { token: { subject: 's', fhirUser: 'Practitioner/1', clientId: 'app', purposeOfUse: ['TREAT'], scopes: { resources: [] } } as never, decidedBy: new Set(['Consent/c']), clientAddress: '::1', breakTheGlass: { justification: 'er' } } as never },
      interaction: 'read',
      params: { type: 'Patient', id: 'x' },
      ...(error ? { error } : { result: { status: 200, resource: { resourceType: 'Patient', id: 'x', meta: { versionId: '1' } } } }),
      recorded: '2026-12-01T00:00:00.000Z',
    },
    { patientsOf: () => ['Patient/x'], serverName: 'unit' },
  );

/** Members reversed at every level: the same value, the worst order. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
}

describe('audit canonical JSON', () => {
  it('sorts members by name at every level, leaves out undefined members and keeps array order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined, x: 'é' }], c: null } }), '{"a":{"c":null,"d":[3,{"x":"é","z":1}]},"b":1}');
    assert.equal(canonicalJson({ 10: 'a', 9: 'b' }), '{"10":"a","9":"b"}', 'integer-like names sort as strings');
  });

  it('events as the server builds them are already in canonical order (the JSON.stringify path), and any order hashes alike', () => {
    for (const e of [event(), event(new FhirError('forbidden', 'no'))]) {
      assert.equal(inCanonicalOrder(e), true);
      assert.equal(canonicalJson(reversed(e)), canonicalJson(e));
      const a = seal(e, 7, '0'.repeat(64));
      const b = seal(reversed(e) as AuditEvent, 7, '0'.repeat(64));
      assert.equal(a.hash, b.hash);
      assert.equal(inCanonicalOrder(JSON.parse(a.text)), true);
      assert.equal(JSON.parse(a.text).id, '7');
    }
    const odd = { ...event(), _recorded: { extension: [] } } as AuditEvent;
    assert.match(seal(odd, 1, '0'.repeat(64)).text, /"_recorded":\{"extension":\[\]\},"action"/, 'members outside the R4 element list are sorted in too');
  });
});

describe('audit sealed text written member by member (src/audit/chain.ts sealedText)', () => {
  const tokens = [
    undefined,
    null,
    { subject: 's', fhirUser: 'Practitioner/1', clientId: 'app', purposeOfUse: ['TREAT', 'HPAYMT'], scopes: { resources: [] } },
    { subject: 'only-sub "quoted" é', purposeOfUse: [], scopes: { resources: [] } },
    { clientId: 'svc\u2028', scopes: { resources: [] } },
  ];
  const results = [
    { status: 200, resource: { resourceType: 'Patient', id: 'p1' } },
    { status: 200, resource: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Observation', id: 'o1' } }, { resource: { resourceType: 'OperationOutcome' } }] } },
    { status: 201, location: 'http://x/fhir/Observation/o2/_history/1' },
    undefined,
  ];
  const errors = [undefined, new FhirError('forbidden', 'no'), new FhirError('busy', 'later'), new Error('boom')];
  const interactions = ['read', 'search-type', 'create', 'delete', 'transaction', undefined];

  it('is the canonical JSON of the sealed event (members sorted one by one) for varied events, so the chain hash is unchanged', () => {
    let n = 0;
    for (const token of tokens)
      for (const [ri, result] of results.entries())
        for (const error of errors)
          for (const interaction of interactions) {
            n++;
            const e = buildAuditEvent(
              {
                req: {
                  method: 'GET', path: ['Patient', 'p1'], query: [], prefer: {},
                  ...(n % 7 === 0 ? {} : { access: { token: token as never, decidedBy: new Set(n % 3 ? ['implicit:permit'] : ['Consent/a', 'Consent/b']), ...(n % 2 ? { clientAddress: '::1' } : {}), ...(n % 5 === 0 ? { breakTheGlass: { justification: 'ER "now"\n' } } : {}) } }),
                },
                ...(interaction ? { interaction } : {}),
                params: ri === 2 ? { type: 'Observation' } : { type: 'Patient', id: 'p1', ...(n % 4 === 0 ? { compartment: 'Patient' } : {}) },
                ...(result && !error ? { result: result as never } : {}),
                ...(error ? { error } : {}),
                ...(interaction === 'delete' ? { deletedCompartments: ['Patient/p9', 'Encounter/e'] } : {}),
                recorded: `2026-12-01T00:00:${String(n % 60).padStart(2, '0')}.000Z`,
              },
              { patientsOf: (r) => (r.resourceType === 'Observation' ? ['Patient/p2'] : []), serverName: n % 2 ? 'unit' : 'ünit "two"' },
            );
            for (const variant of [e, { ...e, outcome: '4', outcomeDesc: 'rolled back: x' } as AuditEvent]) {
              const extension = [...(variant.extension ?? []), { extension: [{ url: 'sequence', valueInteger: n }], url: CHAIN_URL }];
              const expected = canonicalJson(reversed({ ...variant, id: String(n), extension }));
              assert.equal(sealedText(variant, n), expected);
              assert.equal(seal(variant, n, GENESIS).hash, chainHash(GENESIS, expected));
            }
          }
    assert.ok(n > 400);
  });

  it('shares frozen agents, source and subtype between events of one token, which nothing can change behind their remembered text', () => {
    const access = { token: { subject: 's', fhirUser: 'Practitioner/1', clientId: 'app', scopes: { resources: [] } } as never, decidedBy: new Set(['Consent/c']), clientAddress: '::1' };
    const build = (): AuditEvent => buildAuditEvent({ req: { method: 'GET', path: ['Patient', 'x'], query: [], prefer: {}, access }, interaction: 'read', params: { type: 'Patient', id: 'x' }, recorded: '2026-12-01T00:00:00.000Z' }, { patientsOf: () => [], serverName: 'unit' });
    const a = build();
    const b = build();
    assert.equal(a.agent, b.agent, 'one agent array per token, address and decision');
    assert.ok(Object.isFrozen(a.agent) && Object.isFrozen(a.agent?.[0]?.who) && Object.isFrozen(a.source));
    assert.throws(() => {
      (a.agent?.[0]?.who as { reference?: string }).reference = 'Practitioner/else';
    }, TypeError);
    assert.equal(canonicalJson(a.agent), canonicalJson(reversed(a.agent)));
  });
});

describe('audit log frame (src/audit/segment-log.ts encodeFrame)', () => {
  it('carries the chain hash of its text after the previous hash, for any text', () => {
    let previous = GENESIS;
    for (const text of ['{}', '{"a":"é ü 😀"}', `{"x":"${'y'.repeat(5000)}"}`, '{"q":"\\"\\n"}']) {
      const frame = encodeFrame(3, previous, text);
      assert.equal(frame.hash, chainHash(previous, text));
      assert.equal(textOf(frame.bytes).toString('utf8'), text);
      assert.equal(valueOf(frame.bytes).toString('latin1', 0, 64), frame.hash);
      previous = frame.hash;
    }
  });
});
