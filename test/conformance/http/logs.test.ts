/**
 * Operator logs (pino JSON lines): the level follows the status (info, warn for 4xx, error for 5xx), a failed
 * request says why by category, issue code and parameter name, an internal error by class, a content-free message
 * and stack frames; and no line ever carries request content (query values, bodies, ids), even when an engine
 * error message quotes the value that caused it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jsonLogger } from '../../../src/http/logger';
import type { Store } from '../../../src/storage/port';
import { RESOURCES } from '../../../src/storage/records';
import { FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';
import { openTestStore } from '../../fixtures/store';

const PLANTED = 'Plantedvalue';

interface Line {
  level: string;
  msg: string;
  time: string;
  requestId?: string;
  status?: number;
  route?: string;
  client?: string;
  category?: string;
  issues?: Array<{ code: string; expression?: string[] }>;
  error?: { class: string; message: string; frames: string[] };
}

/** The in-memory store, except that searches on a value containing PLANTED fail the way a regex engine does. */
function failingOnPlanted(store: Store): Store {
  const find = async (collection: string, filter: Record<string, unknown>, options?: object) => {
    if (collection === RESOURCES && JSON.stringify(filter).includes(PLANTED.toLowerCase())) {
      throw new SyntaxError(`Invalid regular expression: /${PLANTED.repeat(3)}/: Regular expression too large`);
    }
    return store.find(collection, filter, options);
  };
  return new Proxy(store, {
    get: (target, property) => {
      if (property === 'find') return find;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('operator logs', () => {
  let s: TestServer;
  let captured = '';
  const lines = (): Line[] =>
    captured
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Line);
  before(async () => {
    s = await startTestServer({
      store: failingOnPlanted(await openTestStore()),
      logger: jsonLogger({ level: 'info', destination: { write: (line: string) => (captured += line) } }),
    });
  });
  after(() => s.close());

  it('a planted value in the query, the body and the id never reaches the log, through 2xx, 4xx and 5xx', async () => {
    captured = '';
    const created = await s.http.put(`/fhir/Patient/${PLANTED}`).set('Content-Type', FHIR_JSON).send(patient({ id: PLANTED, name: [{ family: PLANTED }] }));
    assert.equal(created.status, 201);
    assert.equal((await s.http.get(`/fhir/Patient/${PLANTED}`)).status, 200);
    assert.equal((await s.http.get(`/fhir/Patient?birthdate=${PLANTED}`)).status, 400);
    assert.equal((await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(`{"resourceType":"Patient","name":"${PLANTED}"`)).status, 400);
    assert.equal((await s.http.put(`/fhir/Patient/${PLANTED}`).set('Content-Type', FHIR_JSON).send(patient({ id: 'other', gender: PLANTED }))).status, 400);
    assert.equal((await s.http.get(`/fhir/Patient?name=${PLANTED}`)).status, 500);
    const huge = await s.http
      .post('/fhir/Patient/_search')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send(`name:contains=${'q'.repeat(50000)}`);
    assert.ok(huge.status === 500 || (huge.status >= 400 && huge.status < 500), `status ${huge.status}`);
    assert.ok(lines().length >= 7);
    assert.ok(!captured.toLowerCase().includes(PLANTED.toLowerCase()), `the log carries the planted value:\n${captured}`);
    assert.ok(!captured.includes('q'.repeat(100)), 'the log carries the 50 KB search value');
  });

  it('2xx is info, 4xx is warn naming the category, issue and parameter, 5xx is error with class and frames', async () => {
    captured = '';
    const ok = await s.http.get('/fhir/metadata');
    const bad = await s.http.get('/fhir/Patient?birthdate=notadate').set('X-Request-Id', 'req-4xx');
    const failed = await s.http.get(`/fhir/Patient?name=${PLANTED}`).set('X-Request-Id', 'req-5xx');
    assert.deepEqual([ok.status, bad.status, failed.status], [200, 400, 500]);
    const [info, warn, error] = lines();
    assert.equal(info?.level, 'info');
    assert.equal(info?.route, '/fhir/metadata');
    assert.match(info?.time ?? '', /^\d{4}-\d{2}-\d{2}T/);
    assert.equal(warn?.level, 'warn');
    assert.equal(warn?.requestId, 'req-4xx');
    assert.equal(warn?.category, 'incorrect');
    assert.ok(warn?.issues?.some((i) => i.expression?.includes('birthdate')), JSON.stringify(warn));
    assert.ok(!JSON.stringify(warn).includes('notadate'));
    assert.equal(error?.level, 'error');
    assert.equal(error?.requestId, 'req-5xx');
    assert.equal(error?.route, '/fhir/Patient');
    assert.equal(error?.error?.class, 'SyntaxError');
    assert.match(error?.error?.message ?? '', /^Invalid regular expression: … Regular expression too large$/);
    assert.ok((error?.error?.frames.length ?? 0) > 0 && error?.error?.frames.every((f) => f.startsWith('at ')));
    for (const line of [info, warn, error]) assert.match(line?.client ?? '', /127\.0\.0\.1|::1|::ffff:/);
  });

  it('LOG_LEVEL drops lines below it', async () => {
    let text = '';
    const quiet = await startTestServer({ logger: jsonLogger({ level: 'warn', destination: { write: (line: string) => (text += line) } }) });
    try {
      await quiet.http.get('/fhir/metadata');
      await quiet.http.get('/fhir/Patient/missing');
      const levels = text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as Line).level);
      assert.deepEqual(levels, ['warn']);
    } finally {
      await quiet.close();
    }
  });
});
