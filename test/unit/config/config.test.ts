import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/config';

describe('configuration from the environment', () => {
  it('defaults: 127.0.0.1:8080, base URL /fhir, ./data, embedded store', () => {
    const c = loadConfig({});
    assert.equal(c.port, 8080);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.baseUrl, 'http://127.0.0.1:8080/fhir');
    assert.equal(c.dataDir, './data');
    assert.equal(c.mongodbUri, undefined);
  });

  it('BASE_URL loses its trailing slash; PORT and HOST are used', () => {
    const c = loadConfig({ PORT: '9000', HOST: '0.0.0.0', BASE_URL: 'https://fhir.example.org/r4/' });
    assert.equal(c.port, 9000);
    assert.equal(c.baseUrl, 'https://fhir.example.org/r4');
  });

  it('subscriptions: no endpoints beyond loopback, 1 s first retry, 10 attempts; SUBSCRIPTION_ALLOWED_ENDPOINTS lists prefixes', () => {
    assert.deepEqual(loadConfig({}).subscriptions, { allowedEndpoints: [], retryBaseMs: 1000, maxAttempts: 10 });
    const c = loadConfig({ SUBSCRIPTION_ALLOWED_ENDPOINTS: ' https://hooks.example.org/fhir/ , http://lab.example.org:8080 ', SUBSCRIPTION_RETRY_BASE_MS: '250' });
    assert.deepEqual(c.subscriptions.allowedEndpoints, ['https://hooks.example.org/fhir', 'http://lab.example.org:8080']);
    assert.equal(c.subscriptions.retryBaseMs, 250);
  });

  it('invalid values stop start-up with one clear message naming the variable', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ PORT: 'eighty' }, /PORT must be a whole number/],
      [{ PORT: '70000' }, /PORT must be between/],
      [{ BASE_URL: 'not a url' }, /BASE_URL must be an absolute/],
      [{ BASE_URL: 'ftp://x/fhir' }, /BASE_URL must use http/],
      [{ MONGODB_URI: 'postgres://x' }, /MONGODB_URI must start with mongodb/],
      [{ MAX_BODY_SIZE: 'huge' }, /MAX_BODY_SIZE must be a size/],
      [{ SEARCH_DEFAULT_COUNT: '50', SEARCH_MAX_COUNT: '10' }, /must not exceed/],
      [{ SUBSCRIPTION_ALLOWED_ENDPOINTS: 'https://ok.example.org,hooks.example.org' }, /SUBSCRIPTION_ALLOWED_ENDPOINTS must be an absolute/],
      [{ SUBSCRIPTION_ALLOWED_ENDPOINTS: 'https://ok.example.org/?token=1' }, /SUBSCRIPTION_ALLOWED_ENDPOINTS must not have a query/],
      [{ SUBSCRIPTION_RETRY_BASE_MS: '0' }, /SUBSCRIPTION_RETRY_BASE_MS must be between/],
      [{ SUBSCRIPTION_MAX_ATTEMPTS: 'many' }, /SUBSCRIPTION_MAX_ATTEMPTS must be a whole number/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && message.test(err.message) && !err.message.includes('\n'));
    }
  });
});
