/** Bulk Data export (https://hl7.org/fhir/uv/bulkdata/export.html): kick-off, status, manifest, files, cancel. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Resource } from 'fhir/r4';
import { download, fetchClient, kickOff, listen, pathOf, poll, type BulkClient, type Manifest } from '../../fixtures/bulk-export';
import { patientRecords, putAll, SHARED } from '../../fixtures/clinical-records';
import { BASE_URL, startTestServer, type TestServer } from '../../fixtures/server';
import { RESOURCES } from '../../../src/storage/records';

type Json = Record<string, unknown>;

describe('Bulk Data $export (bulkdata/export.html)', () => {
  let s: TestServer;
  let client: BulkClient;
  let stop: () => Promise<void>;
  let seeded: string;
  const exportDir = mkdtempSync(join(tmpdir(), 'export-test-'));
  before(async () => {
    s = await startTestServer({ env: { EXPORT_PAGE_SIZE: '2', EXPORT_DIR: exportDir } });
    const served = await listen(s.app);
    stop = served.close;
    client = fetchClient(served.origin, s.systemToken);
    const stamps = await putAll(s.router, [...SHARED, ...patientRecords('p1'), ...patientRecords('p2'), ...patientRecords('p3', 4)]);
    seeded = [...stamps.values()].sort().pop() as string;
  });
  after(async () => {
    await stop();
    await s.close();
    rmSync(exportDir, { recursive: true, force: true });
  });

  const completed = async (statusPath: string): Promise<Manifest> => {
    const res = await poll(client, statusPath);
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers['content-type'] ?? '', /^application\/json/);
    assert.ok(res.headers.expires, 'Expires says when the files go');
    return JSON.parse(res.text) as Manifest;
  };
  const searchAll = async (type: string): Promise<Json[]> => {
    const res = await client.get(`/fhir/${type}?_count=1000`);
    const bundle = JSON.parse(res.text) as { entry?: Array<{ resource: Json }> };
    return (bundle.entry ?? []).map((e) => e.resource);
  };
  const byId = (a: Json, b: Json): number => String(a.id).localeCompare(String(b.id));
  const ids = (resources: Json[] | undefined): string[] => (resources ?? []).map((r) => String(r.id)).sort();

  it('kick-off answers 202 with Content-Location; the manifest lists NDJSON files whose content equals what search returns', async () => {
    const kick = await client.get('/fhir/$export', { Prefer: 'respond-async', Accept: 'application/fhir+json' });
    assert.equal(kick.status, 202);
    const location = kick.headers['content-location'] ?? '';
    assert.match(location, new RegExp(`^${BASE_URL.replace(/[.$]/g, '\\$&')}/\\$export-status/`));
    const manifest = await completed(pathOf(location));
    assert.equal(manifest.request, `${BASE_URL}/$export`);
    assert.equal(manifest.requiresAccessToken, true, 'files are served to the requester only');
    assert.ok(manifest.transactionTime >= seeded, 'transactionTime is not before the newest lastUpdated it covers');
    assert.deepEqual(manifest.error, []);
    const types = manifest.output.map((f) => f.type).sort();
    assert.deepEqual(types, ['Encounter', 'Location', 'Medication', 'MedicationRequest', 'Observation', 'Organization', 'Patient', 'Practitioner']);
    const files = await download(client, manifest);
    for (const file of manifest.output) {
      const exported = (files.get(file.type) ?? []).sort(byId);
      assert.equal(file.count, exported.length, `${file.type} count`);
      assert.deepEqual(exported, (await searchAll(file.type)).sort(byId), `${file.type} file equals the search result`);
    }
    assert.equal(files.get('Observation')?.length, 10);
  });

  it('the status URL answers 202 with X-Progress and Retry-After while the job runs', async () => {
    const statusPath = await kickOff(client, '/fhir/$export');
    const first = await client.get(statusPath);
    assert.equal(first.status, 202, 'a 22-resource export in pages of 2 is still running at the first poll');
    assert.ok(first.headers['x-progress'], 'X-Progress');
    assert.match(first.headers['retry-after'] ?? '', /^\d+$/);
    await completed(statusPath);
  });

  it('_type limits the export to those types; _since to resources changed after the instant', async () => {
    const manifest = await completed(await kickOff(client, '/fhir/$export?_type=Patient,Practitioner&_outputFormat=application%2Fndjson'));
    assert.deepEqual(manifest.output.map((f) => f.type).sort(), ['Patient', 'Practitioner']);
    const since = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await putAll(s.router, [{ resourceType: 'Patient', id: 'p2', name: [{ family: 'Renamed' }] } as Resource, { resourceType: 'Practitioner', id: 'dr2', name: [{ family: 'New' }] } as Resource]);
    assert.equal((await s.http.delete('/fhir/Practitioner/dr-unused')).status, 204);
    const sinceManifest = await completed(await kickOff(client, `/fhir/$export?_since=${encodeURIComponent(since)}&_outputFormat=ndjson`));
    const changed = await download(client, sinceManifest);
    assert.deepEqual([...changed.keys()].sort(), ['Patient', 'Practitioner']);
    assert.deepEqual(ids(changed.get('Patient')), ['p2']);
    assert.deepEqual(ids(changed.get('Practitioner')), ['dr2']);
    // Deletions since then: transaction Bundles of DELETE entries (manifest `deleted`).
    const deleted = (sinceManifest as Manifest & { deleted?: Manifest['output'] }).deleted ?? [];
    assert.deepEqual(deleted.map((f) => [f.type, f.count]), [['Bundle', 1]]);
    const bundle = JSON.parse((await client.get(pathOf(deleted[0]?.url ?? ''))).text.trim()) as { type: string; entry: Array<{ request: unknown }> };
    assert.equal(bundle.type, 'transaction');
    assert.deepEqual(bundle.entry.map((e) => e.request), [{ method: 'DELETE', url: 'Practitioner/dr-unused' }]);
    const full = (await completed(await kickOff(client, '/fhir/$export?_type=Practitioner'))) as Manifest & { deleted?: unknown };
    assert.equal(full.deleted, undefined, 'an export without _since lists no deletions');
  });

  it('_typeFilter keeps the resources of a type that match one of its searches', async () => {
    const filter = encodeURIComponent('Observation?code=http://loinc.org|8480-6');
    const files = await download(client, await completed(await kickOff(client, `/fhir/$export?_type=Observation,Patient&_typeFilter=${filter}`)));
    assert.deepEqual(ids(files.get('Observation')), ['p1-o1', 'p2-o1', 'p3-o1', 'p3-o3']);
    assert.equal(files.get('Patient')?.length, 3, 'types without a filter are exported whole');
    const two = `_typeFilter=${filter}&_typeFilter=${encodeURIComponent('Observation?_id=p1-o0')}`;
    const either = await download(client, await completed(await kickOff(client, `/fhir/$export?_type=Observation&${two}`)));
    assert.deepEqual(ids(either.get('Observation')), ['p1-o0', 'p1-o1', 'p2-o1', 'p3-o1', 'p3-o3'], 'repeated _typeFilter searches are alternatives');
  });

  it('Patient/$export exports the Patient compartments only; Group/[id]/$export the compartments of its members', async () => {
    const all = await download(client, await completed(await kickOff(client, '/fhir/Patient/$export')));
    assert.deepEqual([...all.keys()].sort(), ['Encounter', 'MedicationRequest', 'Observation', 'Patient']);
    await putAll(s.router, [
      {
        resourceType: 'Group',
        id: 'g1',
        type: 'person',
        actual: true,
        member: [{ entity: { reference: 'Patient/p1' } }, { entity: { reference: `${BASE_URL}/Patient/p3` } }, { entity: { reference: 'Patient/p2' }, inactive: true }, { entity: { reference: 'Device/d1' } }],
      } as Resource,
      // In the compartments of both members: written once.
      { resourceType: 'Observation', id: 'shared-obs', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p1' }, performer: [{ reference: 'Patient/p3' }] } as Resource,
    ]);
    const manifest = await completed(await kickOff(client, '/fhir/Group/g1/$export?_type=Patient,Observation'));
    const files = await download(client, manifest);
    assert.deepEqual(ids(files.get('Patient')), ['p1', 'p3']);
    assert.deepEqual(ids(files.get('Observation')), ['p1-o0', 'p1-o1', 'p1-o2', 'p3-o0', 'p3-o1', 'p3-o2', 'p3-o3', 'shared-obs']);
    assert.equal(manifest.error.length, 1, 'the Device member is reported');
    const errors = await client.get(pathOf(manifest.error[0]?.url ?? ''));
    const outcome = JSON.parse(errors.text.trim()) as { resourceType: string; issue: Array<{ diagnostics: string }> };
    assert.equal(outcome.resourceType, 'OperationOutcome');
    assert.match(outcome.issue[0]?.diagnostics ?? '', /Device\/d1/);
    assert.equal((await client.get('/fhir/Group/nope/$export', { Prefer: 'respond-async' })).status, 404);
  });

  it('kick-off errors: no Prefer respond-async, an unsupported format, parameter or _typeFilter search is 400', async () => {
    const async = { Prefer: 'respond-async' };
    assert.equal((await client.get('/fhir/$export')).status, 400);
    assert.equal((await client.get('/fhir/$export?_outputFormat=text/csv', async)).status, 400);
    assert.equal((await client.get('/fhir/$export?_since=yesterday', async)).status, 400);
    assert.equal((await client.get('/fhir/$export?_type=NotAType', async)).status, 400);
    assert.equal((await client.get('/fhir/$export?_elements=id', async)).status, 400);
    const bad = await client.get(`/fhir/$export?_typeFilter=${encodeURIComponent('Observation?no-such-param=1')}`, async);
    assert.equal(bad.status, 400);
    assert.equal((JSON.parse(bad.text) as { resourceType: string }).resourceType, 'OperationOutcome');
  });

  it('with Prefer handling=lenient, unsupported parameters are ignored and reported in the error file', async () => {
    const manifest = await completed(await kickOff(client, '/fhir/$export?_type=Patient&_elements=id', { Prefer: 'respond-async, handling=lenient' }));
    assert.equal(manifest.output.length, 1);
    assert.equal(manifest.error.length, 1);
    const text = (await client.get(pathOf(manifest.error[0]?.url ?? ''))).text;
    assert.match(text, /_elements/);
  });

  it('kick-off by POST takes a Parameters body', async () => {
    const posted = await s.http
      .post('/fhir/$export')
      .set({ Prefer: 'respond-async', 'Content-Type': 'application/fhir+json' })
      .send({ resourceType: 'Parameters', parameter: [{ name: '_type', valueString: 'Organization' }, { name: '_outputFormat', valueString: 'application/fhir+ndjson' }] });
    assert.equal(posted.status, 202);
    const manifest = await completed(pathOf(posted.headers['content-location'] as string));
    assert.deepEqual(manifest.output.map((f) => f.type), ['Organization']);
  });

  it('DELETE on the status URL cancels: status and files answer 404 and the files are removed', async () => {
    const statusPath = await kickOff(client, '/fhir/$export');
    const manifest = await completed(statusPath);
    const job = statusPath.split('/').pop() as string;
    assert.ok(existsSync(join(exportDir, job)));
    const cancelled = await client.del(statusPath);
    assert.equal(cancelled.status, 202);
    assert.equal((await client.get(statusPath)).status, 404);
    assert.equal((await client.get(pathOf(manifest.output[0]?.url ?? ''))).status, 404);
    assert.equal((await client.del(statusPath)).status, 404);
    assert.equal(existsSync(join(exportDir, job)), false, 'the files are removed');
    const running = await kickOff(client, '/fhir/$export');
    assert.equal((await client.del(running)).status, 202, 'a running job can be cancelled');
    assert.equal((await client.get(running)).status, 404);
    assert.equal(existsSync(join(exportDir, running.split('/').pop() as string)), false);
  });

  it('a file URL not listed in a manifest is 404', async () => {
    const manifest = await completed(await kickOff(client, '/fhir/$export?_type=Patient'));
    const url = pathOf(manifest.output[0]?.url ?? '');
    assert.equal((await client.get(url.replace('Patient.ndjson', 'Observation.ndjson'))).status, 404);
    assert.equal((await client.get(url.replace('Patient.ndjson', '..%2F..%2Fetc%2Fpasswd'))).status, 404);
    assert.equal((await client.get('/fhir/$export-status/no-such-job')).status, 404);
  });
});

/** A test server with `env` and its own EXPORT_DIR, served over HTTP to a client with the system token while `run` runs. */
async function withExportServer(env: Record<string, string>, run: (s: TestServer, client: BulkClient, exportDir: string) => Promise<void>): Promise<void> {
  const exportDir = mkdtempSync(join(tmpdir(), 'export-test-'));
  const s = await startTestServer({ env: { ...env, EXPORT_DIR: exportDir } });
  const served = await listen(s.app);
  try {
    await run(s, fetchClient(served.origin, s.systemToken), exportDir);
  } finally {
    await served.close();
    await s.close();
    rmSync(exportDir, { recursive: true, force: true });
  }
}

describe('Bulk Data export files expire (EXPORT_RETENTION_SECONDS)', () => {
  it('a completed job and its files are removed once the retention time has passed', async () => {
    await withExportServer({ EXPORT_RETENTION_SECONDS: '1' }, async (s, client, exportDir) => {
      await putAll(s.router, SHARED);
      const statusPath = await kickOff(client, '/fhir/$export');
      const done = await poll(client, statusPath);
      assert.equal(done.status, 200);
      const file = pathOf((JSON.parse(done.text) as Manifest).output[0]?.url ?? '');
      assert.deepEqual(readdirSync(exportDir), [statusPath.split('/').pop()]);
      const deadline = Date.now() + 8000;
      while ((await client.get(statusPath)).status === 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal((await client.get(statusPath)).status, 404);
      assert.equal((await client.get(file)).status, 404);
      assert.deepEqual(readdirSync(exportDir), [], 'the files are removed');
    });
  });
});

describe('Bulk Data export of large resources (bulkdata/export.html#file-request)', () => {
  it('a page whose NDJSON runs to several written pieces (long, non-ASCII resources) is in the file whole, in _id order, as search returns it', async () => {
    await withExportServer({ EXPORT_PAGE_SIZE: '5' }, async (s, client) => {
      // ~150,000 characters a page, several pieces of the writer's ~32,000; two-byte characters in each.
      const patients: Resource[] = Array.from({ length: 7 }, (_, i) => ({
        resourceType: 'Patient',
        id: `big-${i}`,
        name: [{ family: `Zoë ${i}`, given: [`${'Ångström 張偉 🙂 '.repeat(1500)}${i}`] }],
      }));
      await putAll(s.router, patients);
      const manifest = JSON.parse((await poll(client, await kickOff(client, '/fhir/$export?_type=Patient'))).text) as Manifest;
      const exported = (await download(client, manifest)).get('Patient') ?? [];
      assert.deepEqual(exported.map((r) => r.id), patients.map((p) => p.id), 'every resource once, in _id order');
      const searched = JSON.parse((await client.get('/fhir/Patient?_count=100')).text) as { entry: Array<{ resource: Json }> };
      const byId = (a: Json, b: Json): number => String(a.id).localeCompare(String(b.id));
      assert.deepEqual(exported, searched.entry.map((e) => e.resource).sort(byId));
    });
  });
});

describe('Bulk Data export transactionTime (bulkdata/export.html#response---complete-status)', () => {
  it('a version stamped after transactionTime (written while the job runs) is not exported, with _since or without', async () => {
    await withExportServer({ EXPORT_PAGE_SIZE: '2' }, async (s, client) => {
      await putAll(s.router, [...patientRecords('p1'), ...patientRecords('p2')]);
      // As a write committed while the job runs would be: stamped after the horizon the kick-off fixed.
      const later = '2999-01-01T00:00:00.000Z';
      const resource = { resourceType: 'Patient', id: 'p0-later', meta: { versionId: '1', lastUpdated: later } };
      await s.store.transaction((tx) => tx.insert(RESOURCES, { _id: 'Patient/p0-later', type: 'Patient', id: 'p0-later', versionId: 1, lastUpdated: later, deleted: false, resource, idx: {}, compartments: [] }));
      for (const query of ['_type=Patient', '_type=Patient&_since=2000-01-01T00:00:00Z']) {
        const manifest = JSON.parse((await poll(client, await kickOff(client, `/fhir/$export?${query}`))).text) as Manifest;
        assert.ok(manifest.transactionTime < later);
        assert.deepEqual(((await download(client, manifest)).get('Patient') ?? []).map((r) => String(r.id)).sort(), ['p1', 'p2'], query);
      }
    });
  });
});

describe('Bulk Data export that fails', () => {
  it('an EXPORT_DIR that is no directory stops start-up with a message naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'export-test-'));
    try {
      writeFileSync(join(dir, 'file'), '');
      await assert.rejects(startTestServer({ env: { EXPORT_DIR: join(dir, 'file') } }), /export directory .*\(EXPORT_DIR\) cannot be used/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });


  it('the status URL answers 500 with an OperationOutcome, and DELETE removes the job', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'export-test-'));
    const exportDir = join(dir, 'exports');
    const s = await startTestServer({ env: { EXPORT_DIR: exportDir } });
    const served = await listen(s.app);
    try {
      rmSync(exportDir, { recursive: true });
      writeFileSync(exportDir, 'a file where the export directory should be');
      const client = fetchClient(served.origin, s.systemToken);
      await putAll(s.router, SHARED);
      const statusPath = await kickOff(client, '/fhir/$export');
      const failed = await poll(client, statusPath);
      assert.equal(failed.status, 500);
      const outcome = JSON.parse(failed.text) as { resourceType: string; issue: Array<{ diagnostics: string }> };
      assert.equal(outcome.resourceType, 'OperationOutcome');
      assert.match(outcome.issue[0]?.diagnostics ?? '', /export failed/);
      assert.equal((await client.del(statusPath)).status, 202);
      assert.equal((await client.get(statusPath)).status, 404);
    } finally {
      await served.close();
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
