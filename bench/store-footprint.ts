/**
 * Footprint of the embedded store (LMDB) on the search-latency population (.bench-data/population-<patients>,
 * built by bench/support/build-population.ts when missing): start-up of the built server (`npm start` flags) to the
 * first answered read (median of several starts); JS heap and anonymous RSS of the server after start-up and after
 * the search-latency query mix (from a diagnostic report and /proc); data directory size, and after
 * `store:compact` on a copy.
 * Usage: npx tsx bench/store-footprint.ts [patients=1000] [starts=3] [samples=50] [--no-compact]   (builds dist/ first)
 *   --no-compact: the data directory's size only, without the compacting copy (minutes and twice the disk at 1M).
 */
import { execFileSync, execSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemTokenFor } from '../src/access/local-key';
import { compactDataDir } from '../src/storage/embedded/lmdb-maintenance';
import { buildPopulation } from './support/build-population';
import { populationDir } from './support/populated-server';
import { median, ROOT, START_FLAGS, startServerProcess } from './support/processes';

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const duBytes = (dir: string): number => Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);

/**
 * Spawn to the first 200 of GET Patient/p0 (the server logs "listening" only once it can answer), sent with the
 * system token of the directory's local key (signed before the clock starts).
 */
async function startOnce(dataDir: string, port: number, reportDir: string): Promise<{ ms: number; child: ChildProcess; token: string }> {
  const token = await systemTokenFor(dataDir, `http://127.0.0.1:${port}/fhir`);
  const started = process.hrtime.bigint();
  const child = await startServerProcess(
    [...START_FLAGS, '--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${reportDir}`, join(ROOT, 'dist', 'src', 'main.js')],
    { DATA_DIR: dataDir, PORT: String(port) },
  );
  const res = await fetch(`http://127.0.0.1:${port}/fhir/Patient/p0`, { headers: { Authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`read answered ${res.status}`);
  await res.arrayBuffer();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, child, token };
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** JS heap in use (diagnostic report, after the GC the report does not force: an upper bound) and anonymous RSS. */
async function memory(child: ChildProcess, reportDir: string): Promise<{ heap: number; anon: number; rss: number }> {
  const before = new Set(readdirSync(reportDir));
  child.kill('SIGUSR2');
  let file: string | undefined;
  for (let i = 0; i < 100 && !file; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    file = readdirSync(reportDir).find((n) => !before.has(n) && n.endsWith('.json'));
  }
  if (!file) throw new Error('no diagnostic report written');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const report = JSON.parse(readFileSync(join(reportDir, file), 'utf8')) as { javascriptHeap: { usedMemory: number } };
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  return { heap: report.javascriptHeap.usedMemory, anon: kb('RssAnon'), rss: kb('VmRSS') };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const [patients = 1000, starts = 3, samples = 50] = args.filter((a) => !a.startsWith('--')).map(Number);
  const dataDir = populationDir(patients);
  if (!existsSync(join(dataDir, '.complete'))) await buildPopulation(patients, dataDir);
  execSync('npx tsc -p tsconfig.build.json', { cwd: ROOT, stdio: 'inherit' });
  const reportDir = mkdtempSync(join(tmpdir(), 'bench-footprint-'));
  const port = 18700 + Math.floor(Math.random() * 500);
  const resources = (patients * 100).toLocaleString('en');
  try {
    const times: number[] = [];
    for (let i = 0; i < starts; i++) {
      const { ms, child } = await startOnce(dataDir, port, reportDir);
      times.push(ms);
      await stopServer(child);
    }
    process.stdout.write(`start-up to first answered read, ${resources} resources: ${median(times).toFixed(0)} ms median (${times.map((t) => t.toFixed(0)).join(', ')})\n`);

    const { child, token } = await startOnce(dataDir, port, reportDir);
    try {
      const atStart = await memory(child, reportDir);
      // Spawned, not run synchronously: this process must keep reading the server's log (its stdout pipe), or the
      // server blocks writing to it once the pipe is full.
      const mix = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/search-latency.ts'), String(patients), String(samples), '1'], {
        cwd: ROOT,
        env: { ...process.env, BENCH_SERVER_URL: `http://127.0.0.1:${port}/fhir`, BENCH_TOKEN: token },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const code = await new Promise((resolve) => mix.on('exit', resolve));
      if (code !== 0) throw new Error(`the query mix exited with ${code}`);
      const afterMix = await memory(child, reportDir);
      for (const [label, m] of [['after start-up', atStart], ['after the query mix', afterMix]] as const) {
        process.stdout.write(`  ${label.padEnd(20)} JS heap ${mb(m.heap)}, anonymous RSS ${mb(m.anon)}, RSS ${mb(m.rss)} (the rest is the file-backed map)\n`);
      }
    } finally {
      await stopServer(child);
    }

    if (args.includes('--no-compact')) {
      process.stdout.write(`data directory, ${resources} resources: ${mb(duBytes(dataDir))}\n`);
      return;
    }
    const copy = mkdtempSync(join(tmpdir(), 'bench-footprint-copy-'));
    try {
      cpSync(join(dataDir, 'lmdb'), join(copy, 'lmdb'), { recursive: true });
      const { before, after } = await compactDataDir(copy);
      process.stdout.write(`data directory, ${resources} resources: ${mb(duBytes(dataDir))} (LMDB file ${mb(before)}; after store:compact ${mb(after)})\n`);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
