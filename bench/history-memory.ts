/**
 * What the record layout (src/storage/records.ts) costs the embedded store: N Patients are written through the
 * in-process router (create, plus an update of every tenth), the store is closed, and reopening it from its
 * data directory is measured: heap held, time to open, bytes on disk. Run with
 * `node --expose-gc --import tsx bench/history-memory.ts [N]`; prints the median of three runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { internalAccess } from '../src/access/request-access';
import { loadConfig } from '../src/config/config';
import { createServer } from '../src/compose';
import { silentLogger } from '../src/http/logger';
import { createStore } from '../src/storage/create-store';

const N = Number(process.argv[2] ?? 20_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const heapMb = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

const dirMb = (dir: string): number =>
  fs.readdirSync(dir, { recursive: true, withFileTypes: true }).reduce((sum, e) => (e.isFile() ? sum + fs.statSync(path.join(e.parentPath, e.name)).size : sum), 0) / 1024 / 1024;

interface Figures {
  heap: number;
  openMs: number;
  disk: number;
}

async function run(): Promise<Figures> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'history-memory-'));
  try {
    const server = await createServer(loadConfig({ BASE_URL: 'http://127.0.0.1:8080/fhir' }), { store: await createStore({ dataDir }), logger: silentLogger });
    for (let i = 0; i < N; i++) {
      const body = { resourceType: 'Patient', id: `p${i}`, name: [{ family: `Family${i}`, given: ['Given', `Middle${i % 97}`] }], gender: 'female', birthDate: '1980-01-01', identifier: [{ system: 'http://example.org/mrn', value: `mrn-${i}` }] };
      const put = (b: object) => server.router.route({ method: 'PUT', path: ['Patient', `p${i}`], query: [], body: b, contentType: 'application/fhir+json', prefer: {}, access: internalAccess('bench') });
      await put(body);
      if (i % 10 === 0) await put({ ...body, gender: 'male' });
    }
    await server.close();
    const before = heapMb();
    const started = performance.now();
    const store = await createStore({ dataDir });
    const openMs = performance.now() - started;
    const heap = heapMb() - before;
    await store.close();
    return { heap, openMs, disk: dirMb(dataDir) };
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const runs: Figures[] = [];
  for (let r = 0; r < 3; r++) runs.push(await run());
  console.log(
    `${N} creates + ${Math.ceil(N / 10)} updates, store reopened: heap held median ${median(runs.map((r) => r.heap)).toFixed(1)} MB, ` +
      `open median ${median(runs.map((r) => r.openMs)).toFixed(0)} ms, data dir median ${median(runs.map((r) => r.disk)).toFixed(1)} MB`,
  );
}

void main();
