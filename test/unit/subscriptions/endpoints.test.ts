/** Which rest-hook endpoints the server calls (SUBSCRIPTION_ALLOWED_ENDPOINTS; https://hl7.org/fhir/R4/subscription.html#security). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EndpointPolicy } from '../../../src/subscriptions/endpoints';

describe('subscription endpoint policy', () => {
  it('by default only 127.0.0.1 and localhost, on any port and path, over http or https', () => {
    const policy = new EndpointPolicy([]);
    for (const ok of ['http://127.0.0.1/hook', 'http://127.0.0.1:9000/a/b', 'https://localhost:8443/x']) assert.equal(policy.refusal(ok), undefined, ok);
    for (const no of ['http://10.0.0.1/hook', 'http://example.org/', 'http://127.0.0.2/', 'http://localhost.example.org/', 'http://[::ffff:7f00:1]/']) {
      assert.match(policy.refusal(no) ?? '', /not allowed/, no);
    }
  });

  it('a configured prefix allows its exact origin and the paths at or below it, on segment boundaries', () => {
    const policy = new EndpointPolicy(['https://hooks.example.org/fhir', 'https://all.example.org']);
    for (const ok of ['https://hooks.example.org/fhir', 'https://hooks.example.org/fhir/', 'https://hooks.example.org/fhir/lab?x=1', 'https://all.example.org/any/path']) {
      assert.equal(policy.refusal(ok), undefined, ok);
    }
    for (const no of [
      'https://hooks.example.org/fhirx',
      'https://hooks.example.org/',
      'http://hooks.example.org/fhir',
      'https://hooks.example.org:8443/fhir',
      'https://hooks.example.org.evil.test/fhir',
      'https://evil.test/https://hooks.example.org/fhir',
    ]) {
      assert.match(policy.refusal(no) ?? '', /not allowed/, no);
    }
  });

  it('non-http schemes, relative URLs and credentials in the URL are refused with the reason', () => {
    const policy = new EndpointPolicy([]);
    assert.match(policy.refusal('file:///etc/passwd') ?? '', /http or https/);
    assert.match(policy.refusal('/relative/hook') ?? '', /not an absolute URL/);
    assert.match(policy.refusal('http://a:b@127.0.0.1/hook') ?? '', /credentials/);
  });
});
