/**
 * Every example of hl7.fhir.r4.examples@4.0.1 PUT through the API: accepted, except the examples that break the
 * R4 specification (each with its reason in test/fixtures/examples/known-invalid.ts), which get a 400.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { putAllExamples } from '../../fixtures/examples/put-all';
import { startTestServer, type TestServer } from '../../fixtures/server';

/**
 * Valid examples this server refuses by its own policy, with 422 and the reason: their Subscription endpoint is on
 * the internet and not in SUBSCRIPTION_ALLOWED_ENDPOINTS (docs/subscriptions.md#endpoints).
 */
const REFUSED_BY_POLICY = ['Subscription-example-error.json', 'Subscription-example.json'];

describe('the official R4 examples through the REST API', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ env: { MAX_BODY_SIZE: '64mb' } });
  });
  after(() => s.close());

  it('accepts every valid example and rejects only the known-invalid ones, with 400 or 422', async () => {
    const { classification, statuses } = await putAllExamples(s);
    assert.ok(classification.total > 5000, `found ${classification.total} examples`);
    const byPolicy = classification.unexplainedRejections.filter((r) => REFUSED_BY_POLICY.includes(r.file));
    assert.deepEqual(byPolicy.map((r) => r.file).sort(), REFUSED_BY_POLICY);
    for (const r of byPolicy) assert.match(r.issues[0]?.diagnostics ?? '', /not allowed by this server's configuration \(SUBSCRIPTION_ALLOWED_ENDPOINTS\)/);
    assert.deepEqual(
      classification.unexplainedRejections.filter((r) => !byPolicy.includes(r)).map((r) => `${r.file}: ${r.issues.map((i) => i.diagnostics).join('; ')}`),
      [],
    );
    assert.deepEqual(classification.unexpectedlyAccepted, []);
    assert.equal(statuses.get(500) ?? 0, 0);
    // 422: the policy refusals above, and known-invalid examples that break an R4 invariant (structure errors are 400).
    assert.equal((statuses.get(400) ?? 0) + (statuses.get(422) ?? 0), classification.expectedRejections.length + REFUSED_BY_POLICY.length);
    assert.equal(classification.accepted + classification.expectedRejections.length + byPolicy.length, classification.total);
  });
});
