/**
 * Indexes an earlier version defined and this one does not (src/search/indexes.ts, retiredResourceIndexes): a data
 * directory that has them is opened with them dropped (entries and definition, logged once), and the searches
 * they served answer as before (`_id`: https://hl7.org/fhir/R4/search.html#id, now a lookup of the record key).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { internalAccess } from '../../../src/access/request-access';
import { createServer } from '../../../src/compose';
import { loadConfig } from '../../../src/config/config';
import { silentLogger, type Logger } from '../../../src/http/logger';
import { decodeDocument, metaIndexesKey } from '../../../src/storage/embedded/lmdb-layout';
import { openEnvironment, openLmdbStore } from '../../../src/storage/embedded/lmdb-store';
import { RESOURCES } from '../../../src/storage/records';
import { withTempDir } from '../../fixtures/temp-dir';

const access = internalAccess('retired-index test');

describe('indexes earlier versions defined', () => {
  it('a directory with the type_id index opens with it dropped, and _id searches find the same resources', () =>
    withTempDir('retired-index-', async (dataDir) => {
      const config = loadConfig({ DATA_DIR: dataDir, AUDIT: 'off' });
      const first = await createServer(config, { logger: silentLogger });
      for (const [type, id] of [['Patient', 'a'], ['Patient', 'b'], ['Practitioner', 'a']]) {
        const created = await first.router.route({ method: 'PUT', path: [type, id], query: [], body: { resourceType: type, id }, prefer: {}, access });
        assert.equal(created.status, 201);
      }
      await first.close();
      // The index as earlier versions defined and built it, over the stored records.
      const old = await openLmdbStore({ dataDir, onWarning: () => undefined });
      await old.ensureIndexes(RESOURCES, [{ name: 'type_id', keys: [['type', 1], ['id', 1]] }]);
      await old.close();

      const logged: string[] = [];
      const logger: Logger = { log: (record) => void logged.push(String(record.msg)) };
      const server = await createServer(config, { logger });
      try {
        assert.ok(logged.some((msg) => /dropped 1 indexes of collection resources \(type_id; 3 entries\)/.test(msg)), logged.join('\n'));
        const search = async (path: string[], query: Array<[string, string]>): Promise<string[]> => {
          const result = await server.router.route({ method: 'GET', path, query, prefer: {}, access });
          assert.equal(result.status, 200);
          return ((result.resource as unknown as { entry?: Array<{ resource: { resourceType: string; id: string } }> }).entry ?? []).map((e) => `${e.resource.resourceType}/${e.resource.id}`);
        };
        assert.deepEqual(await search(['Patient'], [['_id', 'a,b,zz']]), ['Patient/a', 'Patient/b']);
        assert.deepEqual(await search(['Patient'], [['_id', 'Patient/a']]), []);
        assert.deepEqual(await search([], [['_id', 'a']]), ['Patient/a', 'Practitioner/a']);
      } finally {
        await server.close();
      }
      const { env, meta } = openEnvironment(dataDir, { readOnly: true });
      const stored = JSON.parse(decodeDocument(meta.getBinary(metaIndexesKey(RESOURCES))!, 'meta', RESOURCES)) as Array<{ spec: { name: string } }>;
      await env.close();
      assert.ok(!stored.some((index) => index.spec.name === 'type_id'));
      assert.ok(stored.some((index) => index.spec.name === 'type__id'));
    }));
});
