/**
 * Every example of hl7.fhir.r4.examples@4.0.1 PUT through the API: accepted, except the examples that break the
 * R4 specification (each with its reason in test/fixtures/examples/known-invalid.ts), which get a 400.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { putAllExamples } from '../../fixtures/examples/put-all';
import { startTestServer, type TestServer } from '../../fixtures/server';

describe('the official R4 examples through the REST API', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ env: { MAX_BODY_SIZE: '64mb' } });
  });
  after(() => s.close());

  it('accepts every valid example and rejects only the known-invalid ones, with 400', async () => {
    const { classification, statuses } = await putAllExamples(s);
    assert.ok(classification.total > 5000, `found ${classification.total} examples`);
    assert.deepEqual(
      classification.unexplainedRejections.map((r) => `${r.file}: ${r.issues.map((i) => i.diagnostics).join('; ')}`),
      [],
    );
    assert.deepEqual(classification.unexpectedlyAccepted, []);
    assert.equal(statuses.get(500) ?? 0, 0);
    assert.equal(classification.accepted + classification.expectedRejections.length, classification.total);
  });
});
