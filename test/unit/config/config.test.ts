import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, configSummary, loadConfig } from '../../../src/config/config';

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

  it('access control is on by default, with issuer and audience the base URL and opt-out for treatment', () => {
    const c = loadConfig({ BASE_URL: 'https://fhir.example.org/r4' });
    assert.equal(c.auth.mode, 'on');
    assert.equal(c.auth.issuer, 'https://fhir.example.org/r4');
    assert.equal(c.auth.audience, 'https://fhir.example.org/r4');
    assert.equal(c.auth.jwks, undefined);
    assert.deepEqual(c.auth.implicitPermitPurposes, ['TREAT', 'ETREAT', 'HPAYMT', 'HOPERAT']);
    assert.equal(c.auth.defaultPurpose, 'TREAT');
    assert.deepEqual(c.corsOrigins, []);
    const custom = loadConfig({ AUTH_ISSUER: 'https://as.example.org', AUTH_IMPLICIT_PERMIT_PURPOSES: 'treat', CORS_ORIGINS: 'https://a.example.org, https://b.example.org' });
    assert.equal(custom.auth.issuer, 'https://as.example.org');
    assert.deepEqual(custom.auth.implicitPermitPurposes, ['TREAT']);
    assert.deepEqual(custom.corsOrigins, ['https://a.example.org', 'https://b.example.org']);
  });

  it('sync feeds and Bulk Data export: defaults and overrides', () => {
    const d = loadConfig({});
    assert.deepEqual(d.sync, { settleMs: 0 });
    assert.deepEqual(d.bulkExport, { retentionSeconds: 3600, pageSize: 1000 });
    const c = loadConfig({ SYNC_SETTLE_MS: '2000', EXPORT_DIR: '/var/exports', EXPORT_RETENTION_SECONDS: '60', EXPORT_PAGE_SIZE: '500' });
    assert.deepEqual(c.sync, { settleMs: 2000 });
    assert.deepEqual(c.bulkExport, { dir: '/var/exports', retentionSeconds: 60, pageSize: 500 });
  });

  it('subscriptions: no endpoints beyond loopback, 1 s first retry, 10 attempts; SUBSCRIPTION_ALLOWED_ENDPOINTS lists prefixes', () => {
    assert.deepEqual(loadConfig({}).subscriptions, { allowedEndpoints: [], retryBaseMs: 1000, maxAttempts: 10 });
    const c = loadConfig({ SUBSCRIPTION_ALLOWED_ENDPOINTS: ' https://hooks.example.org/fhir/ , http://lab.example.org:8080 ', SUBSCRIPTION_RETRY_BASE_MS: '250' });
    assert.deepEqual(c.subscriptions.allowedEndpoints, ['https://hooks.example.org/fhir', 'http://lab.example.org:8080']);
    assert.equal(c.subscriptions.retryBaseMs, 250);
  });

  it('unknown extensions: a warning by default; UNKNOWN_EXTENSIONS=error|ignore', () => {
    assert.equal(loadConfig({}).profiles?.unknownExtensions, 'warn');
    assert.equal(loadConfig({ UNKNOWN_EXTENSIONS: 'error' }).profiles?.unknownExtensions, 'error');
    assert.equal(loadConfig({ UNKNOWN_EXTENSIONS: 'ignore' }).profiles?.unknownExtensions, 'ignore');
    assert.throws(() => loadConfig({ UNKNOWN_EXTENSIONS: 'refuse' }), /UNKNOWN_EXTENSIONS must be 'warn', 'error' or 'ignore'/);
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
      [{ AUTH_MODE: 'disabled' }, /AUTH_MODE must be on or off/],
      [{ AUTH_INTROSPECTION_URL: 'not a url' }, /AUTH_INTROSPECTION_URL must be an absolute/],
      [{ AUTH_IMPLICIT_PERMIT_PURPOSES: 'TREAT,tr3at' }, /AUTH_IMPLICIT_PERMIT_PURPOSES must list/],
      [{ CORS_ORIGINS: 'app.example.org' }, /CORS_ORIGINS must list origins/],
      [{ HTTP_IDLE_TIMEOUT: 'forever' }, /HTTP_IDLE_TIMEOUT must be a duration/],
      [{ HTTP_HEADERS_TIMEOUT: '2m', HTTP_REQUEST_TIMEOUT: '1m' }, /HTTP_HEADERS_TIMEOUT .* must not exceed HTTP_REQUEST_TIMEOUT/],
      [{ HTTP_MAX_CONNECTIONS: '0' }, /HTTP_MAX_CONNECTIONS must be between/],
      [{ SEARCH_MAX_VALUE_LENGTH: '100000' }, /SEARCH_MAX_VALUE_LENGTH must be between/],
      [{ MAX_JSON_DEPTH: '65' }, /MAX_JSON_DEPTH must be between/],
      [{ EXPORT_RETENTION_SECONDS: '0' }, /EXPORT_RETENTION_SECONDS must be between/],
      [{ EXPORT_PAGE_SIZE: 'many' }, /EXPORT_PAGE_SIZE must be a whole number/],
      [{ SYNC_SETTLE_MS: '-5' }, /SYNC_SETTLE_MS must be a whole number/],
      [{ SUBSCRIPTION_ALLOWED_ENDPOINTS: 'https://ok.example.org,hooks.example.org' }, /SUBSCRIPTION_ALLOWED_ENDPOINTS must be an absolute/],
      [{ SUBSCRIPTION_ALLOWED_ENDPOINTS: 'https://ok.example.org/?token=1' }, /SUBSCRIPTION_ALLOWED_ENDPOINTS must not have a query/],
      [{ SUBSCRIPTION_RETRY_BASE_MS: '0' }, /SUBSCRIPTION_RETRY_BASE_MS must be between/],
      [{ SUBSCRIPTION_MAX_ATTEMPTS: 'many' }, /SUBSCRIPTION_MAX_ATTEMPTS must be a whole number/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && message.test(err.message) && !err.message.includes('\n'));
    }
  });

  it('connection limits and input bounds have defaults and take durations in ms, s or m', () => {
    const c = loadConfig({});
    assert.deepEqual(c.connections, { headersTimeout: 20_000, requestTimeout: 60_000, keepAliveTimeout: 5000, idleTimeout: 30_000, bodyTimeout: 20_000, maxConnections: 1000 });
    assert.deepEqual(c.bounds, { maxParameters: 100, maxValueLength: 2048, maxJsonDepth: 64, maxSearchQueries: 200, maxSearchRecords: 20_000 });
    const set = loadConfig({ HTTP_IDLE_TIMEOUT: '2m', HTTP_BODY_TIMEOUT: '1500ms', HTTP_KEEP_ALIVE_TIMEOUT: '3s', HTTP_HEADERS_TIMEOUT: '750', SEARCH_MAX_PARAMETERS: '20' });
    assert.equal(set.connections.idleTimeout, 120_000);
    assert.equal(set.connections.bodyTimeout, 1500);
    assert.equal(set.connections.keepAliveTimeout, 3000);
    assert.equal(set.connections.headersTimeout, 750);
    assert.equal(set.bounds.maxParameters, 20);
  });

  it('operator settings: LOG_LEVEL, METRICS_PORT, SHUTDOWN_TIMEOUT_MS, REFERENTIAL_INTEGRITY with their defaults', () => {
    const defaults = loadConfig({});
    assert.equal(defaults.logLevel, 'info');
    assert.equal(defaults.metricsPort, undefined);
    assert.equal(defaults.shutdownTimeoutMs, 10000);
    assert.equal(defaults.referentialIntegrity, 'off');
    const set = loadConfig({ LOG_LEVEL: 'WARN', METRICS_PORT: '9464', SHUTDOWN_TIMEOUT_MS: '2500', REFERENTIAL_INTEGRITY: 'write-delete' });
    assert.deepEqual([set.logLevel, set.metricsPort, set.metricsHost, set.shutdownTimeoutMs, set.referentialIntegrity], ['warn', 9464, '127.0.0.1', 2500, 'write-delete']);
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of debug, info, warn, error, silent/],
      [{ METRICS_PORT: '8080' }, /METRICS_PORT must differ from PORT/],
      [{ REFERENTIAL_INTEGRITY: 'strict' }, /REFERENTIAL_INTEGRITY must be one of off, write, write-delete/],
      [{ SHUTDOWN_TIMEOUT_MS: 'soon' }, /SHUTDOWN_TIMEOUT_MS must be a whole number/],
    ];
    for (const [env, message] of cases) assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && message.test(err.message));
  });

  it('the start-up summary names the settings but no secret or credential', () => {
    const secret = 'x'.repeat(40);
    const summary = JSON.stringify(configSummary(loadConfig({ PAGE_TOKEN_SECRET: secret, MONGODB_URI: 'mongodb://admin:hunter2@db1:27017,db2/fhir?replicaSet=rs0' })));
    assert.ok(!summary.includes(secret) && !summary.includes('hunter2') && !summary.includes('admin'));
    assert.match(summary, /"hosts":"db1:27017,db2"/);
    assert.match(summary, /"pageTokenSecret":"set"/);
  });
});
