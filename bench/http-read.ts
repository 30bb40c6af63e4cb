/**
 * Read-by-id throughput over HTTP, as a ratio to a bare Express route returning the same bytes, measured in the
 * same run (goal >= 0.7). Alternates the two servers over several rounds and prints the median of each.
 * Usage: npx tsx bench/http-read.ts [rounds=5] [seconds=4] [connections=32]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, startProcess, stop, throughput } from './support/processes';

async function main(): Promise<void> {
  const [rounds = 5, seconds = 4, connections = 32] = process.argv.slice(2).map(Number);
  const fhir = await startProcess('serve.ts', ['fhir']);
  const fhirUrl = `http://127.0.0.1:${fhir.port}${fhir.path}`;
  const bytes = Buffer.from(await (await fetch(fhirUrl)).arrayBuffer());
  const file = join(mkdtempSync(join(tmpdir(), 'bench-bytes-')), 'patient.json');
  writeFileSync(file, bytes);
  const bare = await startProcess('serve.ts', ['bare', file]);
  const bareUrl = `http://127.0.0.1:${bare.port}${bare.path}`;
  await throughput(fhirUrl, 2, connections);
  await throughput(bareUrl, 2, connections);
  const fhirRates: number[] = [];
  const bareRates: number[] = [];
  for (let i = 0; i < rounds; i++) {
    fhirRates.push(await throughput(fhirUrl, seconds, connections));
    bareRates.push(await throughput(bareUrl, seconds, connections));
  }
  await stop(fhir);
  await stop(bare);
  const f = median(fhirRates);
  const b = median(bareRates);
  process.stdout.write(`read-by-id (${bytes.length} B body, ${connections} connections, ${rounds} x ${seconds} s)\n`);
  process.stdout.write(`  FHIR read:   ${f.toFixed(0)} req/s (median)\n`);
  process.stdout.write(`  bare route:  ${b.toFixed(0)} req/s (median)\n`);
  process.stdout.write(`  ratio:       ${(f / b).toFixed(2)} (goal >= 0.7)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
