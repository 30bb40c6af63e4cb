/** The canonical JSON the audit chain hashes (src/audit/canonical.ts): one text whatever the member order. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEvent } from 'fhir/r4';
import { canonicalJson, inCanonicalOrder } from '../../../src/audit/canonical';
import { seal } from '../../../src/audit/chain';
import { buildAuditEvent } from '../../../src/audit/event';
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
