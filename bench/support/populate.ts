/**
 * Fills a data directory with the synthetic population through the in-process router (validation, extraction
 * and commit, as the API does), `concurrency` writes at a time so group commit can batch them.
 * Usage: npx tsx bench/support/populate.ts <dataDir> <patients> [concurrency=64]
 */
import { internalAccess } from '../../src/access/request-access';
import { loadConfig } from '../../src/config/config';
import { createServer } from '../../src/compose';
import { silentLogger } from '../../src/http/logger';
import { patientBundle } from './population';

export async function populate(dataDir: string, patients: number, concurrency = 64, log: (s: string) => void = (s) => void process.stdout.write(s)): Promise<number> {
  const server = await createServer(loadConfig({ DATA_DIR: dataDir }), { logger: silentLogger });
  const started = Date.now();
  let written = 0;
  let next = 0;
  const queue: Array<ReturnType<typeof patientBundle>[number]> = [];
  const worker = async (): Promise<void> => {
    for (;;) {
      if (!queue.length) {
        if (next >= patients) return;
        queue.push(...patientBundle(next++));
      }
      const resource = queue.shift();
      if (!resource) continue;
      const res = await server.router.route({ method: 'PUT', path: [resource.resourceType, resource.id as string], query: [], body: resource, prefer: { return: 'minimal' }, access: internalAccess('bench population') });
      if (res.status !== 201 && res.status !== 200) throw new Error(`PUT ${resource.resourceType}/${resource.id}: ${res.status}`);
      written++;
      if (written % 50000 === 0) log(`  ${written} resources, ${((written * 1000) / (Date.now() - started)).toFixed(0)}/s\n`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await server.close();
  return written;
}

if (require.main === module) {
  const [dir, patients, concurrency] = process.argv.slice(2);
  if (!dir || !patients) throw new Error('usage: populate.ts <dataDir> <patients> [concurrency]');
  const started = Date.now();
  populate(dir, Number(patients), concurrency ? Number(concurrency) : 64).then((n) => {
    process.stdout.write(`populated ${n} resources in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });
}
