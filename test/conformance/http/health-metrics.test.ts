/**
 * Operator endpoints: GET /health (liveness) and GET /ready (readiness) outside /fhir, and Prometheus metrics on
 * their own port (METRICS_PORT), scraped from the real server process.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, startServer, stopServer, systemAuthorization } from '../../fixtures/process';
import { FHIR_JSON, patient, startTestServer } from '../../fixtures/server';

/** The value of one sample line `name{labels} value` in a Prometheus text page (0 when absent). */
function sample(page: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of page.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

describe('health, readiness and metrics', () => {
  it('/health and /ready answer 200 application/health+json on an open store', async () => {
    const s = await startTestServer();
    try {
      for (const path of ['/health', '/ready']) {
        const res = await s.http.get(path);
        assert.equal(res.status, 200, path);
        assert.match(res.headers['content-type'], /^application\/health\+json/);
        assert.equal(JSON.parse(res.text).status, 'pass');
      }
      const ready = JSON.parse((await s.http.get('/ready')).text);
      assert.equal(ready.checks['store:writable'].status, 'pass');
      assert.match(ready.checks.definitions.detail, /\d+ resource types, \d+ search parameters/);
      assert.equal((await s.http.get('/fhir/health')).status, 404, 'probes live outside /fhir');
    } finally {
      await s.close();
    }
  });

  it('/ready fails once the server drains for shutdown; /health fails once the store is closed', async () => {
    const s = await startTestServer();
    s.probes.drain();
    const ready = await s.http.get('/ready');
    assert.equal(ready.status, 503);
    assert.equal(JSON.parse(ready.text).checks.shutdown.status, 'fail');
    assert.equal((await s.http.get('/health')).status, 200);
    await s.close();
    const health = await s.http.get('/health');
    assert.equal(health.status, 503);
    assert.equal(JSON.parse(health.text).checks.store.status, 'fail');
  });

  it('metrics are not served on the public port', async () => {
    const s = await startTestServer({ env: { METRICS_PORT: '9464' } });
    try {
      assert.equal((await s.http.get('/metrics')).status, 404);
      assert.ok(s.metrics, 'metrics are on when METRICS_PORT is set');
    } finally {
      await s.close();
    }
  });

  it('the real server serves Prometheus text on METRICS_PORT and its counters move with traffic', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fhir-metrics-'));
    const env = { DATA_DIR: dataDir, PORT: String(await freePort()), METRICS_PORT: String(await freePort()) };
    const base = `http://127.0.0.1:${env.PORT}`;
    const scrape = async (): Promise<string> => {
      const res = await fetch(`http://127.0.0.1:${env.METRICS_PORT}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return res.text();
    };
    const auth = await systemAuthorization(env);
    const server = await startServer(env);
    try {
      const before = await scrape();
      const created = await fetch(`${base}/fhir/Patient`, { method: 'POST', headers: { ...auth, 'Content-Type': FHIR_JSON }, body: JSON.stringify(patient()) });
      assert.equal(created.status, 201);
      const { id } = (await created.json()) as { id: string };
      for (let i = 0; i < 3; i++) assert.equal((await fetch(`${base}/fhir/Patient/${id}`, { headers: auth })).status, 200);
      assert.equal((await fetch(`${base}/fhir/Patient/missing`, { headers: auth })).status, 404);
      const after = await scrape();

      const reads = { method: 'GET', route: '/fhir/:type/:id', status: '200' };
      assert.equal(sample(after, 'http_requests_total', reads) - sample(before, 'http_requests_total', reads), 3);
      assert.equal(sample(after, 'http_requests_total', { ...reads, status: '404' }), 1);
      assert.equal(sample(after, 'http_requests_total', { method: 'POST', route: '/fhir/:type', status: '201' }), 1);
      assert.equal(sample(after, 'http_request_duration_seconds_count', { method: 'GET', route: '/fhir/:type/:id' }), 4);
      assert.ok(!after.includes(id), 'no resource id in metric labels');
      const commits = { outcome: 'committed' };
      assert.ok(sample(after, 'store_transaction_duration_seconds_count', commits) > sample(before, 'store_transaction_duration_seconds_count', commits));
      assert.match(after, /^store_transactions_in_flight 0$/m);
      assert.ok(sample(after, 'http_open_connections') >= 1, 'the keep-alive connection of these requests is counted');
      assert.ok(sample(after, 'nodejs_heap_size_used_bytes') > 1e6);
      assert.equal((await fetch(`http://127.0.0.1:${env.METRICS_PORT}/fhir/metadata`)).status, 404, 'only /metrics on the metrics port');
    } finally {
      await stopServer(server);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
