/**
 * Single-resource create throughput over HTTP on an on-disk embedded store (every create durable before its
 * 201), at 1 and 32 concurrent connections. Median of several rounds. The LMDB engine of this tree and the
 * journal/snapshot engine of earlier versions (the server of commit BASELINE, the last one that has it, run
 * from a checkout in the temporary directory: support/baseline.ts) are measured in the same run, taking turns
 * round by round, with their ratio and the server CPU time (all threads, from /proc) per create, and how much of it
 * ran on the main thread (the event loop; the rest is lmdb-js's writer, libuv's pool doing the syncs, V8's GC helpers).
 * Usage: npx tsx bench/create-throughput.ts [rounds=3] [seconds=4] [baseline commit]
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { checkoutBaseline } from './support/baseline';
import { CREATE_BODY } from './support/create-body';
import { median, startProcess, stop, type Running } from './support/processes';

/** The last commit with the journal/snapshot engine (selected there with BENCH_ENGINE=journal). */
const BASELINE = 'a04c23aeaaca4bba881e687dc19aefb7fe45c4f4';

const BODY = JSON.stringify(CREATE_BODY);

/** User + system CPU time of a process (all its threads) in ms. */
function cpuMs(server: Running): number {
  const fields = readFileSync(`/proc/${server.child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** CPU time of the process's main thread (the event loop) in ms, to the nanosecond (schedstat: time on a CPU). */
function mainThreadMs(server: Running): number {
  return Number(readFileSync(`/proc/${server.child.pid}/task/${server.child.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

async function createsPerSecond(port: number, connections: number, seconds: number, authorization = ''): Promise<number> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/fhir/Patient`,
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal', authorization },
    body: BODY,
    connections,
    duration: seconds,
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

async function main(): Promise<void> {
  const [rounds = 3, seconds = 4] = process.argv.slice(2, 4).map(Number);
  const baseline = checkoutBaseline(process.argv[4] ?? BASELINE);
  const journal = await startProcess('serve.ts', ['fhir'], { BENCH_ENGINE: 'journal' }, baseline);
  const lmdb = await startProcess('serve.ts', ['fhir']);
  for (const server of [journal, lmdb]) await createsPerSecond(server.port, 8, 1, server.authorization);
  process.stdout.write(`create (POST /fhir/Patient, durable, on-disk embedded store; ${rounds} x ${seconds} s, engines taking turns; journal engine from ${baseline})\n`);
  for (const connections of [1, 32]) {
    const rates = { journal: [] as number[], lmdb: [] as number[] };
    const cpu = { journal: [] as number[], lmdb: [] as number[] };
    const main = { journal: [] as number[], lmdb: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      for (const [name, server] of [['journal', journal], ['lmdb', lmdb]] as const) {
        const before = cpuMs(server);
        const mainBefore = mainThreadMs(server);
        const rate = await createsPerSecond(server.port, connections, seconds, server.authorization);
        rates[name].push(rate);
        cpu[name].push((cpuMs(server) - before) / (rate * seconds));
        main[name].push((mainThreadMs(server) - mainBefore) / (rate * seconds));
      }
    }
    const [j, l] = [median(rates.journal), median(rates.lmdb)];
    process.stdout.write(
      `  ${String(connections).padStart(2)} connections: journal ${j.toFixed(0)}/s, LMDB ${l.toFixed(0)}/s (medians), LMDB/journal ${(l / j).toFixed(2)}; ` +
        `server CPU per create: journal ${median(cpu.journal).toFixed(2)} ms, LMDB ${median(cpu.lmdb).toFixed(2)} ms ` +
        `(main thread ${median(main.journal).toFixed(2)} / ${median(main.lmdb).toFixed(2)} ms)\n`,
    );
  }
  await stop(journal);
  await stop(lmdb);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
