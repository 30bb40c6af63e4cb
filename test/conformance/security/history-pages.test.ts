/**
 * History pages under a patient/ token (https://hl7.org/fhir/R4/http.html#history): versions the caller may not
 * see are skipped inside the server, and a page still holds `_count` entries unless the history ends, however
 * many invisible versions lie between them; walking the links shows every visible version exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle } from 'fhir/r4';
import { FHIR_JSON, startTestServer, type TestServer } from '../../fixtures/server';

const observation = (id: string, patient: string, value: number) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { text: 'pulse' },
  subject: { reference: `Patient/${patient}` },
  valueQuantity: { value },
});

const INVISIBLE = 60;

describe('security: history pages for patient/ tokens', () => {
  let server: TestServer;
  let alice: ReturnType<TestServer['as']>;

  before(async () => {
    server = await startTestServer();
    alice = server.as(await server.token({ scope: 'patient/*.rs', patient: 'alice' }));
    const put = async (resource: Record<string, unknown>): Promise<void> => {
      const res = await server.http.put(`/fhir/${resource.resourceType}/${resource.id}`).set('Content-Type', FHIR_JSON).send(resource);
      assert.ok(res.status < 300, JSON.stringify(res.body));
    };
    await put({ resourceType: 'Patient', id: 'alice' });
    await put({ resourceType: 'Patient', id: 'bob' });
    for (let i = 0; i < 5; i++) await put(observation(`a${i}`, 'alice', i));
    // Newer than all of Alice's: 60 versions of Bob's observation, which her pages must read past.
    for (let v = 0; v < INVISIBLE; v++) await put(observation('b', 'bob', v));
  });
  after(() => server.close());

  const versions = (bundle: Bundle): string[] => (bundle.entry ?? []).map((e) => `${e.resource?.id}/${e.resource?.meta?.versionId}`);

  it(`type and system history pages are full after ${INVISIBLE} invisible versions, and the walk shows each visible version once`, async () => {
    for (const path of ['/fhir/Observation/_history?_count=2', '/fhir/_history?_count=2']) {
      const seen: string[] = [];
      let url: string | undefined = path;
      let pages = 0;
      while (url && pages++ < 10) {
        const res = await alice.get(url);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const page = versions(res.body as Bundle);
        const next = (res.body as Bundle).link?.find((l) => l.relation === 'next')?.url;
        if (next) assert.equal(page.length, 2, `${path}: page ${pages} is short (${page.join(', ')}) though more follow`);
        seen.push(...page);
        url = next?.replace(/^https?:\/\/[^/]+/, '');
      }
      assert.ok(!seen.some((v) => v.startsWith('b/')), `${path} showed Bob's observation`);
      const own = seen.filter((v) => /^a\d\//.test(v));
      assert.deepEqual([...own].sort(), ['a0/1', 'a1/1', 'a2/1', 'a3/1', 'a4/1'], path);
    }
  });

  it('the legitimate request: a system token sees every version on full pages', async () => {
    const res = await server.http.get('/fhir/Observation/_history?_count=50');
    assert.equal(res.status, 200);
    assert.equal(versions(res.body as Bundle).length, 50);
  });
});
