import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Consent, ConsentProvision } from 'fhir/r4';
import { conditionFilter, decide, provisionParameters, type ConsentRequest } from '../../../src/access/consent/decision';
import { consentRules, isEnforceable, PATIENT_PRIVACY_SCOPE, type ConsentRules, type Decision } from '../../../src/access/consent/rules';
import { CriteriaCompiler } from '../../../src/search/criteria';
import { SearchRegistry } from '../../../src/search/registry';
import { RESOURCES, type ResourceRecord } from '../../../src/storage/records';
import { BASE_URL, FHIR_JSON, startTestServer, type TestServer } from '../../fixtures/server';

const LAB = { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' };
const PSY = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PSY' };
const request = (overrides: Partial<ConsentRequest> = {}): ConsentRequest => ({
  actors: ['Practitioner/dr-a'],
  actions: ['access'],
  purposes: ['TREAT'],
  at: '2026-06-01T00:00:00Z',
  ...overrides,
});
const resourceTypes = (code: string) => ({ system: 'http://hl7.org/fhir/resource-types', code });

function consent(id: string, provision: ConsentProvision, dateTime = '2026-01-01T00:00:00Z'): ConsentRules {
  const resource: Consent = {
    resourceType: 'Consent',
    id,
    status: 'active',
    scope: { coding: [PATIENT_PRIVACY_SCOPE] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: 'Patient/p1' },
    dateTime,
    provision,
  };
  assert.ok(isEnforceable(resource, '2026-06-01T00:00:00Z'));
  return consentRules(resource);
}

describe('Consent decisions compiled into queries (consent.html#provision)', () => {
  let server: TestServer;
  let compiler: CriteriaCompiler;
  const registry = SearchRegistry.loadBase();

  /** The ids of the patient's resources the decision lets through, found by a store query. */
  async function visible(consents: ConsentRules[], req: ConsentRequest, implicit: Decision = 'permit'): Promise<string[]> {
    const { permitted } = decide(consents, req, implicit);
    const ids: string[] = [];
    for (const type of ['Observation', 'Condition']) {
      const filter = await conditionFilter(permitted, type, async (rule, t) => {
        const params = provisionParameters(rule, t, (rt, code) => registry.get(rt, code) !== undefined);
        if (params === null) return { _id: { $in: [] } };
        return (await compiler.compile(t, params, 'strict')).filter;
      });
      const found = (await server.store.find(RESOURCES, { $and: [{ type, deleted: false }, filter] })) as ResourceRecord[];
      ids.push(...found.map((r) => r.id));
    }
    return ids.sort();
  }

  before(async () => {
    server = await startTestServer();
    compiler = new CriteriaCompiler({ store: server.store, registry, baseUrl: BASE_URL });
    const put = async (resource: Record<string, unknown>): Promise<void> => {
      const res = await server.http.put(`/fhir/${resource.resourceType}/${resource.id}`).set('Content-Type', FHIR_JSON).send(resource);
      assert.ok(res.status === 201, JSON.stringify(res.body));
    };
    await put({ resourceType: 'Patient', id: 'p1' });
    const observation = (id: string, code: string, date: string, security?: object[]) => ({
      resourceType: 'Observation',
      id,
      status: 'final',
      category: [{ coding: [LAB] }],
      code: { coding: [{ system: 'http://loinc.org', code }] },
      subject: { reference: 'Patient/p1' },
      effectiveDateTime: date,
      ...(security ? { meta: { security } } : {}),
    });
    await put(observation('glucose', '2339-0', '2019-05-01'));
    await put(observation('hba1c', '4548-4', '2024-05-01'));
    await put(observation('mood', '44261-6', '2024-06-01', [PSY]));
    await put({ resourceType: 'Condition', id: 'diabetes', subject: { reference: 'Patient/p1' }, code: { text: 'diabetes' }, recordedDate: '2024-01-01' });
  });
  after(() => server.close());

  it('with no consent on file the implicit policy decides: opt-out sees all, opt-in nothing', async () => {
    assert.deepEqual(await visible([], request(), 'permit'), ['diabetes', 'glucose', 'hba1c', 'mood']);
    assert.deepEqual(await visible([], request(), 'deny'), []);
  });

  it('a deny root with a permit exception for one class and purpose shares only that', async () => {
    const c = consent('c1', { type: 'deny', provision: [{ type: 'permit', class: [resourceTypes('Observation')], purpose: [{ code: 'TREAT' }] }] });
    assert.deepEqual(await visible([c], request()), ['glucose', 'hba1c', 'mood']);
    assert.deepEqual(await visible([c], request({ purposes: ['HRESCH'] })), []);
  });

  it('a permit root with a deny exception for a security label withholds only the labelled records', async () => {
    const c = consent('c2', { type: 'permit', provision: [{ type: 'deny', securityLabel: [PSY] }] });
    assert.deepEqual(await visible([c], request()), ['diabetes', 'glucose', 'hba1c']);
  });

  it('exceptions nest: deny all, permit Observations, but deny one code inside them', async () => {
    const c = consent('c3', {
      type: 'deny',
      provision: [{ type: 'permit', class: [resourceTypes('Observation')], provision: [{ type: 'deny', code: [{ coding: [{ system: 'http://loinc.org', code: '4548-4' }] }] }] }],
    });
    assert.deepEqual(await visible([c], request()), ['glucose', 'mood']);
  });

  it('actor-specific provisions apply to that actor only', async () => {
    const c = consent('c4', { type: 'deny', provision: [{ type: 'permit', actor: [{ role: { text: 'primary' }, reference: { reference: 'Practitioner/dr-b' } }] }] });
    assert.deepEqual(await visible([c], request()), []);
    assert.deepEqual(await visible([c], request({ actors: ['Practitioner/dr-b'] })), ['diabetes', 'glucose', 'hba1c', 'mood']);
  });

  it('a data period bounds the records by their clinical date', async () => {
    const c = consent('c5', { type: 'permit', provision: [{ type: 'deny', dataPeriod: { end: '2020-12-31' } }] });
    assert.deepEqual(await visible([c], request()), ['diabetes', 'hba1c', 'mood']);
  });

  it('the newest consent wins; consents of the same time combine with deny winning', async () => {
    const older = consent('old', { type: 'deny' }, '2025-01-01T00:00:00Z');
    const newer = consent('new', { type: 'permit' }, '2026-01-01T00:00:00Z');
    assert.deepEqual(await visible([older, newer], request()), ['diabetes', 'glucose', 'hba1c', 'mood']);
    const sameTimeDeny = consent('same', { type: 'deny' }, '2026-01-01T00:00:00Z');
    assert.deepEqual(await visible([newer, sameTimeDeny], request()), []);
    assert.deepEqual(decide([older, newer], request(), 'permit').decidedBy, ['Consent/new']);
  });

  it('a deny on data the server cannot match withholds everything it could cover (doubt withholds)', async () => {
    const c = consent('c6', { type: 'permit', provision: [{ type: 'deny', data: [{ meaning: 'related', reference: { reference: 'Observation/glucose' } }] }] });
    assert.deepEqual(await visible([c], request()), []);
  });

  it('a permit limited to listed instances shares those only', async () => {
    const c = consent('c7', { type: 'deny', provision: [{ type: 'permit', data: [{ meaning: 'instance', reference: { reference: 'Observation/hba1c' } }] }] });
    assert.deepEqual(await visible([c], request()), ['hba1c']);
  });

  it('a consent outside its period, or not active, or of another scope is not enforced', () => {
    const base: Consent = { resourceType: 'Consent', status: 'active', scope: { coding: [PATIENT_PRIVACY_SCOPE] }, category: [], patient: { reference: 'Patient/p1' }, provision: { type: 'deny', period: { end: '2025-12-31' } } };
    assert.equal(isEnforceable(base, '2026-06-01T00:00:00Z'), false);
    assert.equal(isEnforceable({ ...base, provision: { type: 'deny' }, status: 'inactive' }, '2026-06-01T00:00:00Z'), false);
    assert.equal(isEnforceable({ ...base, provision: { type: 'deny' }, scope: { coding: [{ code: 'research' }] } }, '2026-06-01T00:00:00Z'), false);
  });
});
