/** https://hl7.org/fhir/R4/http.html#capabilities and the OpenAPI document */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { validate } from '@readme/openapi-parser';
import { parse } from 'yaml';
import { BASE_URL, startTestServer, type TestServer } from '../../fixtures/server';

describe('capabilities (http.html#capabilities)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());

  it('GET /metadata returns a CapabilityStatement for FHIR 4.0.1 in JSON', async () => {
    const res = await s.http.get('/fhir/metadata');
    assert.equal(res.status, 200);
    assert.equal(res.body.resourceType, 'CapabilityStatement');
    assert.equal(res.body.fhirVersion, '4.0.1');
    assert.equal(res.body.kind, 'instance');
    assert.equal(res.body.implementation.url, BASE_URL);
    assert.deepEqual(res.body.format, ['application/fhir+json', 'json']);
    assert.deepEqual(res.body.patchFormat, ['application/json-patch+json']);
  });

  it('lists every R4 resource type with the interactions the route table implements', async () => {
    const rest = (await s.http.get('/fhir/metadata')).body.rest[0];
    assert.equal(rest.mode, 'server');
    assert.equal(rest.resource.length, 146);
    const patientResource = rest.resource.find((r: { type: string }) => r.type === 'Patient');
    const codes = patientResource.interaction.map((i: { code: string }) => i.code).sort();
    assert.deepEqual(codes, ['create', 'delete', 'history-instance', 'history-type', 'patch', 'read', 'search-type', 'update', 'vread']);
    assert.equal(patientResource.conditionalUpdate, true);
    assert.equal(patientResource.conditionalDelete, 'single');
    assert.equal(patientResource.versioning, 'versioned-update');
    assert.deepEqual(rest.interaction.map((i: { code: string }) => i.code).sort(), ['history-system', 'search-system']);
  });

  it('lists the supported search parameters per type with type and documentation', async () => {
    const rest = (await s.http.get('/fhir/metadata')).body.rest[0];
    const obs = rest.resource.find((r: { type: string }) => r.type === 'Observation');
    const code = obs.searchParam.find((p: { name: string }) => p.name === 'code');
    assert.equal(code.type, 'token');
    assert.equal(code.definition, 'http://hl7.org/fhir/SearchParameter/clinical-code');
    assert.ok(code.documentation.length > 0);
    assert.ok(obs.searchParam.some((p: { name: string }) => p.name === '_lastUpdated'));
    assert.ok(obs.searchInclude.includes('Observation:subject'));
    const patientResource = rest.resource.find((r: { type: string }) => r.type === 'Patient');
    assert.ok(patientResource.searchRevInclude.includes('Observation:subject'));
  });

  it('lists the operations the route table implements', async () => {
    const rest = (await s.http.get('/fhir/metadata')).body.rest[0];
    assert.deepEqual(rest.operation.map((o: { name: string }) => o.name), ['reindex']);
    assert.deepEqual(rest.resource[0].operation.map((o: { name: string }) => o.name), ['reindex', 'validate']);
  });

  it('serves /openapi.yaml, a valid OpenAPI 3.1 document describing the REST paths', async () => {
    const res = await s.http.get('/openapi.yaml');
    assert.equal(res.status, 200);
    const doc = parse(res.text);
    assert.equal(doc.openapi, '3.1.0');
    const result = await validate(doc);
    assert.equal(result.valid, true, JSON.stringify(result));
    for (const path of ['/fhir/metadata', '/fhir/{type}', '/fhir/{type}/{id}', '/fhir/{type}/{id}/_history/{vid}', '/fhir/_history', '/fhir/$reindex']) {
      assert.ok(doc.paths[path], `documents ${path}`);
    }
  });

  it('documents every route of the route table in openapi.yaml, with its method', async () => {
    const doc = parse((await s.http.get('/openapi.yaml')).text);
    for (const route of s.router.routes) {
      const path = `/fhir${route.path.map((seg) => `/${seg.startsWith(':') ? `{${seg.slice(1)}}` : seg}`).join('')}`;
      assert.ok(doc.paths[path]?.[route.method.toLowerCase()], `openapi.yaml documents ${route.method} ${path}`);
    }
  });
});
