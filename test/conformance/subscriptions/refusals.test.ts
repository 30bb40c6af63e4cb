/**
 * A Subscription the server cannot honour is refused when it is written, with a 422 OperationOutcome naming the
 * element (https://hl7.org/fhir/R4/subscription.html#3.1.0.9 "the server SHOULD reject ..."): endpoints not allowed
 * by SUBSCRIPTION_ALLOWED_ENDPOINTS, criteria that do not parse or need other resources, other channel types.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FHIR_JSON, startTestServer, type TestServer } from '../../fixtures/server';
import { LOINC, subscription } from '../../fixtures/subscriptions';

const LOCAL = 'http://127.0.0.1:9/hook';
const CRITERIA = `Observation?code=${LOINC}|1234-5`;

describe('Subscription refused at write time (422)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ env: { SUBSCRIPTION_ALLOWED_ENDPOINTS: 'https://hooks.example.org/fhir' } });
  });
  after(() => s.close());

  const create = (body: Record<string, unknown>) => s.http.post('/fhir/Subscription').set('Content-Type', FHIR_JSON).send(body);

  async function refused(body: Record<string, unknown>, expression: string, message: RegExp): Promise<void> {
    const res = await create(body);
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.equal(res.body.resourceType, 'OperationOutcome');
    const [issue] = res.body.issue;
    assert.deepEqual(issue.expression, [expression]);
    assert.match(issue.diagnostics, message);
  }

  it('an endpoint outside 127.0.0.1, localhost and the configured prefixes is refused', async () => {
    await refused(subscription('https://evil.example.com/hook', CRITERIA), 'Subscription.channel.endpoint', /not allowed by this server's configuration \(SUBSCRIPTION_ALLOWED_ENDPOINTS\)/);
    await refused(subscription('https://hooks.example.org/fhirx', CRITERIA), 'Subscription.channel.endpoint', /not allowed/);
    await refused(subscription('https://hooks.example.org.evil.test/fhir', CRITERIA), 'Subscription.channel.endpoint', /not allowed/);
    await refused(subscription('http://hooks.example.org/fhir', CRITERIA), 'Subscription.channel.endpoint', /not allowed/);
    await refused(subscription('ftp://127.0.0.1/hook', CRITERIA), 'Subscription.channel.endpoint', /must use http or https/);
    await refused(subscription('http://user:pw@127.0.0.1/hook', CRITERIA), 'Subscription.channel.endpoint', /credentials/);
  });

  it('loopback endpoints and endpoints below a configured prefix are accepted', async () => {
    for (const endpoint of ['http://127.0.0.1:4000/hook', 'http://localhost/x', 'https://hooks.example.org/fhir', 'https://hooks.example.org/fhir/lab/1']) {
      const res = await create(subscription(endpoint, CRITERIA));
      assert.equal(res.status, 201, `${endpoint}: ${JSON.stringify(res.body)}`);
    }
  });

  it('criteria that do not parse, name unknown parameters or need other resources are refused', async () => {
    const cases: Array<[string, RegExp]> = [
      ['code=1234-5', /must start with a resource type/],
      ['Nonsense?code=1', /must start with a resource type/],
      ['Observation?nonsense=1', /Unknown search parameter 'nonsense'/],
      ['Observation?date=2020-13-45', /Invalid date/],
      ['Observation?code:bogus=1', /Modifier ':bogus' is not allowed/],
      ['Observation?subject.name=peter', /needs a lookup of other resources/],
      ['Observation?_has:Observation:subject:code=1', /needs a lookup of other resources/],
      ['Observation?code:in=http://hl7.org/fhir/ValueSet/observation-codes', /needs a lookup of other resources/],
      ['Observation?_list=abc', /needs a lookup of other resources/],
      ['Observation?_count=10', /shapes search results/],
      ['Observation?code=%E0%A4%A', /not validly percent-encoded/],
    ];
    for (const [criteria, message] of cases) await refused(subscription(LOCAL, criteria), 'Subscription.criteria', message);
  });

  it('channels other than rest-hook, payloads other than FHIR JSON and malformed headers are refused', async () => {
    await refused(subscription(LOCAL, CRITERIA, { type: 'websocket' }), 'Subscription.channel.type', /Only the rest-hook channel/);
    await refused(subscription(LOCAL, CRITERIA, { payload: 'application/fhir+xml' }), 'Subscription.channel.payload', /not supported/);
    await refused(subscription(LOCAL, CRITERIA, { header: ['no colon here'] }), 'Subscription.channel.header[0]', /must read 'Name: value'/);
    await refused(subscription(LOCAL, CRITERIA, { header: ['X-Ok: 1', 'Content-Type: text/plain'] }), 'Subscription.channel.header[1]', /set by the server/);
    const { endpoint: _none, ...channel } = subscription(LOCAL, CRITERIA).channel as Record<string, unknown>;
    await refused({ ...subscription(LOCAL, CRITERIA), channel }, 'Subscription.channel.endpoint', /needs channel.endpoint/);
  });

  it('an update to a stored Subscription is checked the same way, and nothing is written when refused', async () => {
    const created = await create(subscription(LOCAL, CRITERIA));
    const id = created.body.id as string;
    const res = await s.http.put(`/fhir/Subscription/${id}`).set('Content-Type', FHIR_JSON).send({ ...created.body, criteria: 'Observation?subject.name=x' });
    assert.equal(res.status, 422);
    const history = await s.http.get(`/fhir/Subscription/${id}/_history`);
    assert.ok(history.body.entry.every((e: { resource: { criteria: string } }) => e.resource.criteria === CRITERIA));
  });
});
