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

  it('sync feeds and Bulk Data export: defaults and overrides', () => {
    const d = loadConfig({});
    assert.deepEqual(d.sync, { settleMs: 0 });
    assert.deepEqual(d.bulkExport, { retentionSeconds: 3600, pageSize: 1000 });
    const c = loadConfig({ SYNC_SETTLE_MS: '2000', EXPORT_DIR: '/var/exports', EXPORT_RETENTION_SECONDS: '60', EXPORT_PAGE_SIZE: '500' });
    assert.deepEqual(c.sync, { settleMs: 2000 });
    assert.deepEqual(c.bulkExport, { dir: '/var/exports', retentionSeconds: 60, pageSize: 500 });
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
      [{ EXPORT_RETENTION_SECONDS: '0' }, /EXPORT_RETENTION_SECONDS must be between/],
      [{ EXPORT_PAGE_SIZE: 'many' }, /EXPORT_PAGE_SIZE must be a whole number/],
      [{ SYNC_SETTLE_MS: '-5' }, /SYNC_SETTLE_MS must be a whole number/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && message.test(err.message) && !err.message.includes('\n'));
    }
  });
});
