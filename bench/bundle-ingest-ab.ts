/**
 * Bundle ingest (issue 8) of two servers in alternate rounds: this tree against a baseline commit (checked out by
 * bench/support/baseline.ts), or this tree against itself with other node flags. The host this runs on changes
 * speed by 10-50% within minutes, more than most changes weigh; rounds of a few seconds taken in turns meet the
 * same host, so the ratio of their medians holds where two separate runs of bench/bundle-ingest.ts do not.
 * Each server is src/main.ts of its tree started as `npm start` does (the flags of its package.json unless given),
 * on a fresh on-disk store, with access control and the audit trail on; both get the same patient transactions
 * from 4 uploaders, after the same shared batch and warm-up. Prints per round and the median ratios B/A of
 * resources/s and of server CPU per resource (below 1: B is cheaper).
 * Usage: npx tsx bench/bundle-ingest-ab.ts [--base=<commit>|--base=same] [--base-flags="..."] [--flags="..."] [pairs=6] [patientsPerRound=24]
 *   default --base=HEAD~1; --base=same runs this tree twice (to compare flags, or to see the noise of the method).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemTokenFor } from '../src/access/local-key';
import { patientTransaction, sharedBatch } from './bundles/generate';
import { checkoutBaseline } from './support/baseline';
import { cpuSeconds } from './support/cpu';
import { freePort, median, ROOT, startFlagsOf, startServerProcess } from './support/processes';

const PER_PATIENT = 300;
const UPLOADERS = 4;

interface Side {
  name: string;
  server: ChildProcess;
  dataDir: string;
  base: string;
  authorization: string;
  rates: number[];
  micros: number[];
}

async function post(side: Side, body: string): Promise<void> {
  const res = await fetch(side.base, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json', Prefer: 'return=minimal', Authorization: side.authorization }, body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${side.name}: the Bundle was answered ${res.status}: ${text.slice(0, 300)}`);
}

async function start(name: string, root: string, flags: string[]): Promise<Side> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-ingest-ab-'));
  const port = await freePort();
  const server = await startServerProcess([...flags, '--import', 'tsx', join(root, 'src/main.ts')], { DATA_DIR: dataDir, PORT: String(port), MONGODB_URI: '' });
  const base = `http://127.0.0.1:${port}/fhir`;
  const side: Side = { name, server, dataDir, base, authorization: `Bearer ${await systemTokenFor(dataDir, base)}`, rates: [], micros: [] };
  await post(side, JSON.stringify(sharedBatch()));
  for (let i = 0; i < 4; i++) await post(side, JSON.stringify(patientTransaction(i, PER_PATIENT, undefined, 0)));
  return side;
}

async function round(side: Side, bodies: string[]): Promise<void> {
  let next = 0;
  const started = performance.now();
  const cpuBefore = cpuSeconds(side.server.pid);
  await Promise.all(Array.from({ length: UPLOADERS }, async () => {
    while (next < bodies.length) await post(side, bodies[next++] as string);
  }));
  const resources = bodies.length * PER_PATIENT;
  side.rates.push(resources / ((performance.now() - started) / 1000));
  side.micros.push(((cpuSeconds(side.server.pid) - cpuBefore) * 1e6) / resources);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const [pairs = 6, patients = 24] = args.filter((a) => !a.startsWith('--')).map(Number);
  const baseRef = option('base') ?? 'HEAD~1';
  const baseRoot = baseRef === 'same' ? ROOT : checkoutBaseline(baseRef);
  const baseFlags = option('base-flags')?.split(/\s+/).filter(Boolean) ?? startFlagsOf(baseRoot);
  const flags = option('flags')?.split(/\s+/).filter(Boolean) ?? startFlagsOf(ROOT);
  const a = await start(`A (${baseRef}${option('base-flags') ? ` ${baseFlags.join(' ')}` : ''})`, baseRoot, baseFlags);
  const b = await start(`B (this tree${option('flags') ? ` ${flags.join(' ')}` : ''})`, ROOT, flags);
  try {
    for (let pair = 1; pair <= pairs; pair++) {
      const bodies = Array.from({ length: patients }, (_, i) => JSON.stringify(patientTransaction(i, PER_PATIENT, undefined, pair)));
      // Alternate which side goes first, so neither always meets the other's leftover work (fsyncs, collections).
      const order = pair % 2 ? [a, b] : [b, a];
      for (const side of order) await round(side, bodies);
      process.stdout.write(
        `  pair ${pair}: A ${a.rates.at(-1)?.toFixed(0)} resources/s, ${a.micros.at(-1)?.toFixed(0)} µs CPU per resource; ` +
          `B ${b.rates.at(-1)?.toFixed(0)} resources/s, ${b.micros.at(-1)?.toFixed(0)} µs\n`,
      );
    }
    const ratio = (x: number[], y: number[]) => median(x.map((v, i) => v / (y[i] as number)));
    process.stdout.write(
      `A = ${a.name}: median ${median(a.rates).toFixed(0)} resources/s, ${median(a.micros).toFixed(0)} µs server CPU per resource\n` +
        `B = ${b.name}: median ${median(b.rates).toFixed(0)} resources/s, ${median(b.micros).toFixed(0)} µs server CPU per resource\n` +
        `B/A per pair, median of ${pairs}: resources/s ${ratio(b.rates, a.rates).toFixed(3)}, server CPU per resource ${ratio(b.micros, a.micros).toFixed(3)}\n`,
    );
  } finally {
    for (const side of [a, b]) {
      side.server.kill('SIGKILL');
      rmSync(side.dataDir, { recursive: true, force: true });
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
