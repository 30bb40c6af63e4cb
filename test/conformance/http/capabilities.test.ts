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
    assert.deepEqual(rest.interaction.map((i: { code: string }) => i.code).sort(), ['batch', 'history-system', 'search-system', 'transaction']);
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
    assert.deepEqual(rest.operation.map((o: { name: string }) => o.name), ['reindex', 'export']);
    assert.deepEqual(rest.resource[0].operation.map((o: { name: string }) => o.name), ['reindex', 'validate']);
    const byType = (type: string) => rest.resource.find((r: { type: string }) => r.type === type).operation;
    assert.deepEqual(byType('Patient').map((o: { name: string }) => o.name), ['reindex', 'export', 'everything', 'validate']);
    assert.equal(byType('Group').find((o: { name: string }) => o.name === 'export').definition, 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export');
  });

  it('serves /openapi.yaml and /openapi.json, a valid OpenAPI 3.1 document with servers from BASE_URL', async () => {
    const res = await s.http.get('/openapi.yaml');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^application\/yaml/);
    const doc = parse(res.text);
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc.servers, [{ url: BASE_URL }]);
    const result = await validate(structuredClone(doc));
    assert.equal(result.valid, true, JSON.stringify(result));
    const json = await s.http.get('/openapi.json');
    assert.match(json.headers['content-type'], /^application\/json/);
    assert.deepEqual(JSON.parse(json.text), doc);
    for (const path of ['/metadata', '/{type}', '/{type}/{id}', '/{type}/{id}/_history/{vid}', '/_history', '/$reindex', '/OperationDefinition/{id}']) {
      assert.ok(doc.paths[path], `documents ${path}`);
    }
  });

  it('documents every route of the route table, with its method, headers and error responses', async () => {
    const doc = parse((await s.http.get('/openapi.yaml')).text);
    for (const route of s.router.routes) {
      const path = `/${route.path.map((seg) => (seg.startsWith(':') ? `{${seg.slice(1)}}` : seg)).join('/')}`;
      const operation = doc.paths[path]?.[route.method.toLowerCase()];
      assert.ok(operation, `documents ${route.method} ${path}`);
      assert.ok(operation.responses['400'] && operation.responses['500'], `${route.method} ${path} documents its errors`);
    }
    const read = doc.paths['/{type}/{id}'].get;
    const headers = read.parameters.map((p: { $ref: string }) => p.$ref);
    assert.ok(headers.includes('#/components/parameters/ifNoneMatch') && headers.includes('#/components/parameters/ifModifiedSince'));
    assert.ok(doc.paths['/{type}'].post.parameters.some((p: { $ref: string }) => p.$ref.endsWith('/ifNoneExist')));
  });

  it('lists the search parameters of each type from the registry, the same as the CapabilityStatement', async () => {
    const doc = parse((await s.http.get('/openapi.yaml')).text);
    const rest = (await s.http.get('/fhir/metadata')).body.rest[0];
    for (const type of ['Patient', 'Observation', 'Encounter']) {
      const inOpenApi = doc.paths[`/${type}`].get.parameters.filter((p: { name?: string }) => p.name).map((p: { name: string }) => p.name).sort();
      const inStatement = rest.resource.find((r: { type: string }) => r.type === type).searchParam.map((p: { name: string }) => p.name).sort();
      assert.deepEqual(inOpenApi, inStatement, type);
    }
    assert.ok(doc.paths['/Patient'].get.parameters.some((p: { name?: string }) => p.name === 'name'), 'Swagger UI can search Patient by name');
  });

  it('serves Swagger UI at /docs/ showing /openapi.json', async () => {
    assert.equal((await s.http.get('/docs')).status, 301);
    const page = await s.http.get('/docs/');
    assert.equal(page.status, 200);
    assert.match(page.text, /swagger-ui-bundle\.js/);
    assert.doesNotMatch(page.text, /<script>/, 'no inline script: the CSP holds');
    assert.match((await s.http.get('/docs/swagger-initializer.js')).text, /\.\.\/openapi\.json/);
    const bundle = await s.http.get('/docs/swagger-ui-bundle.js');
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers['content-type'], /javascript/);
  });
});
