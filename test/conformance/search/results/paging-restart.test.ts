/** Paging links across restarts and instances (http.html#paging): valid with a shared PAGE_TOKEN_SECRET, else 410 Gone saying why. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FHIR_JSON, patient, startTestServer } from '../../../fixtures/server';
import { openTestStore } from '../../../fixtures/store';

const SECRET = 'a-shared-page-token-secret-of-32-chars!!';

describe('paging links across restarts', () => {
  it('a next link from another instance answers 410 naming PAGE_TOKEN_SECRET, unless both share the secret', async () => {
    const store = await openTestStore();
    const first = await startTestServer({ store });
    const shared = [await startTestServer({ store, env: { PAGE_TOKEN_SECRET: SECRET } }), await startTestServer({ store, env: { PAGE_TOKEN_SECRET: SECRET } })] as const;
    const restarted = await startTestServer({ store });
    try {
      for (let i = 0; i < 3; i++) await first.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
      const nextOf = async (s: typeof first): Promise<string> => {
        const page = await s.http.get('/fhir/Patient?_count=1');
        const next = (page.body.link as Array<{ relation: string; url: string }>).find((l) => l.relation === 'next')!.url;
        const url = new URL(next);
        return `${url.pathname}${url.search}`;
      };
      const gone = await restarted.http.get(await nextOf(first));
      assert.equal(gone.status, 410);
      assert.equal(gone.body.resourceType, 'OperationOutcome');
      assert.match(gone.body.issue[0].diagnostics, /restarted.*PAGE_TOKEN_SECRET/);
      const followed = await shared[1].http.get(await nextOf(shared[0]));
      assert.equal(followed.status, 200);
      assert.equal(followed.body.entry.length, 1);
      const otherSecret = await first.http.get(await nextOf(shared[0]));
      assert.equal(otherSecret.status, 410);
    } finally {
      await store.close();
    }
  });
});
