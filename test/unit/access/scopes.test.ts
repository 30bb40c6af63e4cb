import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grantingScopes, parseScopes } from '../../../src/access/scopes';

const letters = (claim: string): string[] => parseScopes(claim).resources.map((s) => [...s.permissions].join(''));

describe('SMART scopes (scopes-and-launch-context.html)', () => {
  it('v2 letters c, r, u, d, s grant exactly those permissions', () => {
    assert.deepEqual(letters('patient/Observation.rs user/*.cruds system/Patient.c'), ['rs', 'cruds', 'c']);
  });

  it('v1 read means read+search, write means create+update+delete, * means all', () => {
    assert.deepEqual(letters('patient/Observation.read user/Patient.write system/*.*'), ['rs', 'cud', 'cruds']);
  });

  it('letters out of order, repeated or unknown grant nothing and are reported', () => {
    const parsed = parseScopes('patient/Observation.sr patient/Observation.rrs user/Patient.rx system/*.');
    assert.deepEqual(parsed.resources, []);
    assert.equal(parsed.rejected.length, 4);
    assert.match(parsed.rejected[0]?.reason ?? '', /in that order/);
  });

  it('write never implies read', () => {
    const [scope] = parseScopes('user/Observation.cud').resources;
    assert.equal(scope?.permissions.has('r'), false);
    assert.equal(scope?.permissions.has('s'), false);
  });

  it('granular v2 scopes keep their search-parameter filter', () => {
    const [scope] = parseScopes('patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory').resources;
    assert.deepEqual(scope?.filter, [['category', 'http://terminology.hl7.org/CodeSystem/observation-category|laboratory']]);
  });

  it('a v1 scope cannot carry a query, and a bad type or context grants nothing', () => {
    const parsed = parseScopes('patient/Observation.read?category=x patient/observation.rs admin/Patient.rs');
    assert.deepEqual(parsed.resources, []);
    assert.equal(parsed.rejected.length, 2);
    assert.deepEqual(parsed.other, ['admin/Patient.rs']);
  });

  it('identity and launch scopes are kept apart from resource scopes', () => {
    const parsed = parseScopes('openid fhirUser launch/patient offline_access patient/*.rs');
    assert.deepEqual(parsed.other, ['openid', 'fhirUser', 'launch/patient', 'offline_access']);
    assert.equal(parsed.resources.length, 1);
  });

  it('grantingScopes matches the type and wildcard scopes holding the permission', () => {
    const { resources } = parseScopes('patient/Observation.rs patient/*.r user/Condition.s');
    assert.deepEqual(grantingScopes(resources, 'Observation', 's').map((s) => s.text), ['patient/Observation.rs']);
    assert.deepEqual(grantingScopes(resources, 'Encounter', 'r').map((s) => s.text), ['patient/*.r']);
    assert.deepEqual(grantingScopes(resources, 'Encounter', 'c'), []);
  });
});
