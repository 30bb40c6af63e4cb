/**
 * CPU of index-key generation alone (src/storage/embedded/index-keys.ts), the largest allocation of a bundle-ingest
 * commit (docs/benchmarks.md): the server as `createServer` builds it stores the shared batch and two patient
 * transactions of bench/bundles/generate.ts, then every stored `resources` record has its keys generated for every
 * resource index (src/search/indexes.ts), as the LMDB store's commit does. Prints µs per record (median of 7 runs).
 * Usage: npx tsx bench/key-generation.ts   (to compare with another tree, copy this file there and run it in turns)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { edgeAuthentication } from '../src/access/edge';
import { systemTokenFor } from '../src/access/local-key';
import { loadConfig } from '../src/config/config';
import { createServer } from '../src/compose';
import { silentLogger } from '../src/http/logger';
import { resourceIndexes } from '../src/search/indexes';
import { KeyGenerator } from '../src/storage/embedded/index-keys';
import type { FhirRequest } from '../src/fhir/types';
import { median } from './support/stats';
import { patientTransaction, sharedBatch } from './bundles/generate';

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-key-generation-'));
  const config = loadConfig({ DATA_DIR: dataDir, MONGODB_URI: '' });
  const server = await createServer(config, { logger: silentLogger });
  try {
    const token = await (await edgeAuthentication(config, silentLogger))(`Bearer ${await systemTokenFor(dataDir, config.baseUrl)}`);
    const post = async (body: unknown): Promise<void> => {
      const req: FhirRequest = { method: 'POST', path: [], query: [], body, contentType: 'application/fhir+json', prefer: { return: 'minimal' }, access: { token, clientAddress: '127.0.0.1', decidedBy: new Set() } };
      const res = await server.router.route(req);
      if (res.status !== 200) throw new Error(`answered ${res.status}`);
    };
    await post(sharedBatch());
    for (let i = 0; i < 2; i++) await post(patientTransaction(i, 300, undefined, 0));
    const records = await server.store.find('resources', {});
    const generators = resourceIndexes.map((spec) => new KeyGenerator(spec.keys.map(([path]) => path), spec.sparseOn));
    const pass = (): number => {
      let keys = 0;
      for (const record of records) for (const generator of generators) keys += generator.keys(record, record._id, 'P').length;
      return keys;
    };
    const keys = pass();
    for (let i = 0; i < 20; i++) pass();
    const runs: number[] = [];
    for (let r = 0; r < 7; r++) {
      const started = performance.now();
      for (let i = 0; i < 20; i++) pass();
      runs.push(((performance.now() - started) * 1000) / (20 * records.length));
    }
    process.stdout.write(
      `key generation, ${records.length} records × ${generators.length} resource indexes (${(keys / records.length).toFixed(1)} keys per record): ` +
        `${median(runs).toFixed(1)} µs per record (median of 7 runs; min ${Math.min(...runs).toFixed(1)})\n`,
    );
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

void main();
