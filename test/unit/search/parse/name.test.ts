import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseName } from '../../../../src/search/parse/name';

test('plain code and code with modifier', () => {
  assert.deepEqual(parseName('family'), { kind: 'param', code: 'family' });
  assert.deepEqual(parseName('family:exact'), { kind: 'param', code: 'family', modifier: 'exact' });
  assert.deepEqual(parseName('code:not-in'), { kind: 'param', code: 'code', modifier: 'not-in' });
});

test('chains keep the rest of the name after the first dot', () => {
  assert.deepEqual(parseName('subject:Patient.name'), { kind: 'param', code: 'subject', modifier: 'Patient', chain: 'name' });
  assert.deepEqual(parseName('subject.organization.name:exact'), { kind: 'param', code: 'subject', chain: 'organization.name:exact' });
});

test('_has splits type, reference parameter and the inner name (which may itself be _has)', () => {
  assert.deepEqual(parseName('_has:Observation:patient:code'), { kind: 'has', type: 'Observation', reference: 'patient', inner: 'code' });
  assert.deepEqual(parseName('_has:Observation:patient:_has:AuditEvent:entity:agent'), {
    kind: 'has',
    type: 'Observation',
    reference: 'patient',
    inner: '_has:AuditEvent:entity:agent',
  });
});

test('names with operator syntax are not parameter names', () => {
  for (const name of ['name[$ne]', '_id[$gt]', '$where', 'name.', 'a:b:c', 'name:', ':exact', '_has:Observation:patient', '_has:observation:patient:code', 'na me']) {
    assert.equal(parseName(name), undefined, name);
  }
});
