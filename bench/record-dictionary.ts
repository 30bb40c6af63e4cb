/**
 * What the LZ4 dictionary of the `docs` database costs and saves (issues 8 and 13): the documents of the
 * search-latency population (.bench-data/population-<patients>, built by bench/support/build-population.ts when
 * missing) written again through lmdb-js into fresh directories, one per dictionary, as the store writes them
 * (async puts grouped into one LMDB transaction, values over 1,000 bytes compressed on libuv's pool). Prints, per
 * dictionary, the process's CPU (all threads) per compressed document above the same writes without compression,
 * the stored bytes per document, and the CPU per document read back by key (medians of rounds taking turns; syncing
 * off: it is the same for every variant).
 * lmdb-js loads the dictionary into LZ4's state for every document it compresses (compression.cpp, LZ4_loadDict),
 * so that cost grows with the dictionary's size; what a larger one buys is smaller documents.
 * Usage: npx tsx bench/record-dictionary.ts [patients=1000] [documents=40000] [rounds=5]
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { recordDictionary } from '../scripts/build-record-dictionary';
import { openEnvironment } from '../src/storage/embedded/lmdb-store';
import { buildPopulation } from './support/build-population';
import { populationDir } from './support/populated-server';
import { median } from './support/processes';

const THRESHOLD = 1000;
const PER_TRANSACTION = 1000;

/** Every k-th stored document of the population (decompressed, as the store hands them to lmdb-js). */
function sample(dir: string, documents: number): Buffer[] {
  const { env, docs } = openEnvironment(dir, { readOnly: true });
  const total = (docs.getStats() as { entryCount: number }).entryCount;
  const step = Math.max(1, Math.floor(total / documents));
  const values: Buffer[] = [];
  let i = 0;
  for (const { value } of docs.getRange({ start: '' })) if (i++ % step === 0 && values.length < documents) values.push(Buffer.from(value));
  void env.close();
  return values;
}

interface Variant {
  name: string;
  compression: false | { threshold: number; dictionary: Buffer };
}

/**
 * CPU seconds (all threads) to write `values` into a fresh directory, the stored bytes per document, and the CPU
 * seconds to read every document back by key (decompressed).
 */
async function write(variant: Variant, values: Buffer[]): Promise<{ cpu: number; bytes: number; read: number }> {
  const path = mkdtempSync(join(tmpdir(), 'bench-dictionary-'));
  try {
    const env = open({ path, maxDbs: 2, noSync: true, overlappingSync: false });
    const db = env.openDB<Buffer, string>('docs', { encoding: 'binary', compression: variant.compression } as never);
    const before = process.cpuUsage();
    for (let at = 0; at < values.length; at += PER_TRANSACTION) {
      let last: Promise<boolean> = Promise.resolve(true);
      for (let i = at; i < Math.min(values.length, at + PER_TRANSACTION); i++) last = db.put(`d${String(i).padStart(8, '0')}`, values[i]!);
      await last;
    }
    const used = process.cpuUsage(before);
    const readFrom = process.cpuUsage();
    for (let i = 0; i < values.length; i++) db.getBinaryFast(`d${String(i).padStart(8, '0')}`);
    const reading = process.cpuUsage(readFrom);
    const raw = env.openDB<Buffer, string>('docs', { encoding: 'binary', compression: false } as never);
    let bytes = 0;
    for (const { value } of raw.getRange({})) bytes += (value as Buffer).length;
    await env.close();
    return { cpu: (used.user + used.system) / 1e6, bytes: bytes / values.length, read: (reading.user + reading.system) / 1e6 };
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const [patients = 1000, documents = 40000, rounds = 5] = process.argv.slice(2).map(Number);
  const dir = populationDir(patients);
  if (!existsSync(join(dir, '.complete'))) await buildPopulation(patients, dir);
  const values = sample(dir, documents);
  const compressible = values.filter((v) => v.length >= THRESHOLD).length;
  const variants: Variant[] = [
    { name: 'no compression', compression: false },
    ...[16, 8, 4, 2].map((kb) => ({ name: `record dictionary ${kb} KB`, compression: { threshold: THRESHOLD, dictionary: recordDictionary(kb * 1024) } })),
    { name: 'record dictionary 4 KB, threshold 2000', compression: { threshold: 2000, dictionary: recordDictionary(4 * 1024) } },
  ];
  const cpu = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const read = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const bytes = new Map<string, number>();
  await write(variants[1]!, values.slice(0, 2000)); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const variant of round % 2 ? [...variants].reverse() : variants) {
      const result = await write(variant, values);
      cpu.get(variant.name)!.push(result.cpu);
      read.get(variant.name)!.push(result.read);
      bytes.set(variant.name, result.bytes);
    }
  }
  const plain = median(cpu.get('no compression')!);
  process.stdout.write(`${values.length} documents of ${dir}, ${compressible} of them >= ${THRESHOLD} bytes (compressed); ${rounds} rounds, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  for (const variant of variants) {
    const extra = ((median(cpu.get(variant.name)!) - plain) * 1e6) / compressible;
    process.stdout.write(
      `  ${variant.name.padEnd(38)} ${bytes.get(variant.name)!.toFixed(0).padStart(5)} bytes per stored document; ` +
        `CPU ${((median(cpu.get(variant.name)!) * 1e6) / values.length).toFixed(1)} µs per document written` +
        (variant.compression && variant.compression.threshold === THRESHOLD ? `, compression ${extra.toFixed(1)} µs per compressed document` : '') +
        `; read back ${((median(read.get(variant.name)!) * 1e6) / values.length).toFixed(1)} µs per document\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
