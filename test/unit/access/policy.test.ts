import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConsentDirectory } from '../../../src/access/consent/directory';
import { PATIENT_PRIVACY_SCOPE } from '../../../src/access/consent/rules';
import { AccessPolicy, implicitPolicy } from '../../../src/access/policy';
import { parseScopes } from '../../../src/access/scopes';
import type { AccessToken } from '../../../src/access/tokens';
import { CompartmentDefinitions } from '../../../src/search/compartments';
import { CriteriaCompiler } from '../../../src/search/criteria';
import { SearchRegistry } from '../../../src/search/registry';
import { compileMatcher } from '../../../src/storage/embedded/matcher';
import { RESOURCES, type ResourceRecord } from '../../../src/storage/records';
import { BASE_URL, FHIR_JSON, startTestServer, type TestServer } from '../../fixtures/server';

const NOW = '2026-06-01T00:00:00.000Z';
const PSY = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PSY' };
const LAB = { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' };
const VITALS = { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' };

const token = (scope: string, claims: Partial<AccessToken> = {}): AccessToken => ({ scopes: parseScopes(scope), purposeOfUse: [], ...claims });

describe('access policy compiled into one query filter (SMART scopes, compartments, consent)', () => {
  let server: TestServer;
  let policy: AccessPolicy;
  /** A policy over a fresh consent directory, which reads the Consents on file when first asked. */
  let makePolicy: () => AccessPolicy;

  const put = async (resource: Record<string, unknown>): Promise<void> => {
    const res = await server.http.put(`/fhir/${resource.resourceType}/${resource.id}`).set('Content-Type', FHIR_JSON).send(resource);
    assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
  };
  /** `Type/id` of every live record the token may read. */
  const readable = async (t: AccessToken, permission: 's' | 'r' = 's'): Promise<string[]> => {
    const filter = await policy.filter(t, permission, NOW);
    const found = (await server.store.find(RESOURCES, { $and: [{ deleted: false }, filter] })) as ResourceRecord[];
    return found.map((r) => `${r.type}/${r.id}`).sort();
  };
  const observation = (id: string, patient: string, category: object, security?: object[]) => ({
    resourceType: 'Observation',
    id,
    status: 'final',
    category: [{ coding: [category] }],
    code: { text: id },
    subject: { reference: `Patient/${patient}` },
    ...(security ? { meta: { security } } : {}),
  });

  before(async () => {
    server = await startTestServer();
    const registry = SearchRegistry.loadBase();
    const criteria = new CriteriaCompiler({ store: server.store, registry, baseUrl: BASE_URL });
    const compartments = CompartmentDefinitions.load();
    makePolicy = () =>
      new AccessPolicy({ consents: new ConsentDirectory(server.store), criteria, registry, compartments, implicit: implicitPolicy(), defaultPurpose: 'TREAT' });
    policy = makePolicy();
    await put({ resourceType: 'Patient', id: 'alice' });
    await put({ resourceType: 'Patient', id: 'bob' });
    await put({ resourceType: 'Practitioner', id: 'dr' });
    await put(observation('alice-lab', 'alice', LAB));
    await put(observation('alice-vitals', 'alice', VITALS));
    await put(observation('alice-psy', 'alice', LAB, [PSY]));
    await put(observation('bob-lab', 'bob', LAB));
  });
  after(() => server.close());

  it('a patient/ token reads its own compartment and shared non-patient data, nothing of another patient', async () => {
    assert.deepEqual(await readable(token('patient/*.rs', { patient: 'alice' })), [
      'Observation/alice-lab',
      'Observation/alice-psy',
      'Observation/alice-vitals',
      'Patient/alice',
      'Practitioner/dr',
    ]);
  });

  it('a typed patient/ scope reads only that type of its own compartment', async () => {
    assert.deepEqual(await readable(token('patient/Observation.rs', { patient: 'bob' })), ['Observation/bob-lab']);
  });

  it('a granular scope narrows to its search criteria', async () => {
    const t = token(`patient/Observation.rs?category=${VITALS.system}|${VITALS.code}`, { patient: 'alice' });
    assert.deepEqual(await readable(t), ['Observation/alice-vitals']);
  });

  it('a scope without the permission grants nothing (write never implies read)', async () => {
    assert.deepEqual(await readable(token('system/*.cud')), []);
    assert.equal(policy.allows(token('system/*.cud'), 'Observation', 'r'), false);
  });

  it('a system/ token without a purpose is the operator\'s own backend: consent and labels do not narrow it', async () => {
    assert.ok((await readable(token('system/*.rs'))).includes('Observation/alice-psy'));
  });

  it('a system/ token under treatment sees everything but sensitive records', async () => {
    assert.deepEqual(await readable(token('system/*.rs', { purposeOfUse: ['TREAT'] })), [
      'Observation/alice-lab',
      'Observation/alice-vitals',
      'Observation/bob-lab',
      'Patient/alice',
      'Patient/bob',
      'Practitioner/dr',
    ]);
  });

  it('research without consent is opt-in: patient data is withheld, shared data is not', async () => {
    assert.deepEqual(await readable(token('system/*.rs', { purposeOfUse: ['HRESCH'] })), ['Practitioner/dr']);
  });

  it("a patient's consent decides for their records only, and a label permit lifts the sensitivity hold", async () => {
    await put({
      resourceType: 'Consent',
      id: 'alice-consent',
      status: 'active',
      scope: { coding: [PATIENT_PRIVACY_SCOPE] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: { reference: 'Patient/alice' },
      dateTime: '2026-01-01T00:00:00Z',
      policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
      provision: {
        type: 'deny',
        provision: [
          { type: 'permit', actor: [{ role: { text: 'gp' }, reference: { reference: 'Practitioner/dr' } }], class: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Observation' }] },
          { type: 'permit', actor: [{ role: { text: 'gp' }, reference: { reference: 'Practitioner/dr' } }], securityLabel: [PSY] },
        ],
      },
    });
    policy = makePolicy();
    const dr = token('user/*.rs', { fhirUser: 'Practitioner/dr' });
    assert.deepEqual(await readable(dr), [
      'Observation/alice-lab',
      'Observation/alice-psy',
      'Observation/alice-vitals',
      'Observation/bob-lab',
      'Patient/bob',
      'Practitioner/dr',
    ]);
    const other = token('user/*.rs', { fhirUser: 'Practitioner/other' });
    assert.deepEqual(await readable(other), ['Observation/bob-lab', 'Patient/bob', 'Practitioner/dr']);
  });

  it('a consent decision compiles to plain predicates (no mingo fallback) that agree with the query on every record', async () => {
    const dr = token('user/*.rs', { fhirUser: 'Practitioner/dr' });
    const filter = await policy.filter(dr, 's', NOW);
    const predicate = compileMatcher(filter);
    assert.ok(predicate, 'the decided filter leaves the compiled subset: every candidate would be tested by mingo');
    const all = (await server.store.find(RESOURCES, { deleted: false })) as ResourceRecord[];
    const byPredicate = all.filter((r) => predicate(r)).map((r) => `${r.type}/${r.id}`).sort();
    assert.deepEqual(byPredicate, await readable(dr));
    assert.ok(byPredicate.includes('Observation/alice-psy') && !byPredicate.includes('Patient/alice'), JSON.stringify(byPredicate));
  });
});

describe('consent directory', () => {
  it('a Consent write reported after commit changes the next decision without a reload', async () => {
    const server = await startTestServer();
    try {
      const directory = new ConsentDirectory(server.store);
      assert.equal((await directory.enforceable(NOW)).size, 0);
      const consent = {
        resourceType: 'Consent',
        id: 'c1',
        status: 'active',
        scope: { coding: [PATIENT_PRIVACY_SCOPE] },
        category: [{ text: 'privacy' }],
        patient: { reference: 'Patient/p1' },
        provision: { type: 'deny' },
      };
      const record = { _id: 'Consent/c1', type: 'Consent', id: 'c1', versionId: 1, lastUpdated: NOW, deleted: false, resource: consent, idx: {}, compartments: [] };
      directory.hook().afterCommit?.([record as unknown as ResourceRecord]);
      assert.deepEqual([...(await directory.enforceable(NOW)).keys()], ['p1']);
      directory.hook().afterCommit?.([{ ...record, versionId: 2, deleted: true, resource: null } as unknown as ResourceRecord]);
      assert.equal((await directory.enforceable(NOW)).size, 0);
    } finally {
      await server.close();
    }
  });
});
