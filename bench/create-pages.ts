/**
 * Pages LMDB writes per single-create commit (docs/benchmarks.md, "Pages written per single-create commit"): N
 * sequential creates of the create-throughput body through the router (LMDB store, audit on) run under
 * `strace -f`, and the writes between the first and the last create are counted on the file the commits sync
 * (`data.mdb`: the descriptor that gets the `fdatasync`s): 4 KB pages, `pwrite64` and `writev` calls per create.
 * Needs strace. Usage: npx tsx bench/create-pages.ts [creates=400] [dataDir to copy, e.g. .bench-data/population-1000]
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { internalAccess } from '../src/access/request-access';
import { createServer } from '../src/compose';
import { loadConfig } from '../src/config/config';
import { silentLogger } from '../src/http/logger';
import { CREATE_BODY } from './support/create-body';

const START = 'CREATES START';
const END = 'CREATES END';

/** Runs under strace: creates one after another, the measured ones between two marker writes. */
async function creates(n: number, dataDir: string): Promise<void> {
  const server = await createServer(loadConfig({ DATA_DIR: dataDir }), { logger: silentLogger });
  const create = async (): Promise<void> => {
    const result = await server.router.route({ method: 'POST', path: ['Patient'], query: [], body: structuredClone(CREATE_BODY), prefer: { return: 'minimal' }, access: internalAccess('create-pages bench') });
    if (result.status !== 201) throw new Error(`create answered ${result.status}`);
  };
  for (let i = 0; i < 20; i++) await create();
  process.stdout.write(`${START}\n`);
  for (let i = 0; i < n; i++) await create();
  process.stdout.write(`${END}\n`);
  await server.close();
}

function count(trace: string, n: number): string {
  const lines = trace.split('\n');
  const from = lines.findIndex((l) => l.includes(`write(1, "${START}`));
  const to = lines.findIndex((l) => l.includes(`write(1, "${END}`));
  const pages = new Map<string, number>();
  const calls = new Map<string, number>();
  const syncs = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, by: number): void => void map.set(key, (map.get(key) ?? 0) + by);
  for (const line of lines.slice(from, to)) {
    const call = /^\d+ +(pwrite64|pwritev|writev|fdatasync)\((\d+)/.exec(line);
    if (!call) continue;
    const [, op, fd] = call as unknown as [string, string, string];
    if (op === 'fdatasync') add(syncs, fd, 1);
    else {
      add(calls, `${fd} ${op}`, 1);
      const bytes = op === 'pwrite64' ? Number(/, (\d+), \d+\)?/.exec(line.slice(line.lastIndexOf('"')))?.[1] ?? 0) : (line.match(/iov_len=(\d+)/g) ?? []).reduce((s, m) => s + Number(m.slice(8)), 0);
      add(pages, fd, bytes / 4096);
    }
  }
  const fd = [...syncs].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (fd === undefined) return 'no fdatasync seen';
  const per = (v: number | undefined): string => ((v ?? 0) / n).toFixed(1);
  return `${per(pages.get(fd))} pages per create written to data.mdb in ${per(calls.get(`${fd} pwrite64`))} pwrite64 + ${per(calls.get(`${fd} writev`))} writev calls; ${per(syncs.get(fd))} fdatasync`;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--creates') return creates(Number(process.argv[3]), process.argv[4] as string);
  const n = Number(process.argv[2] ?? 400);
  const dir = mkdtempSync(join(tmpdir(), 'create-pages-'));
  try {
    const dataDir = join(dir, 'data');
    if (process.argv[3]) cpSync(process.argv[3], dataDir, { recursive: true });
    const trace = join(dir, 'trace');
    execFileSync('strace', ['-f', '-e', 'trace=pwrite64,pwritev,writev,fdatasync,write', '-o', trace, process.execPath, '--import', 'tsx', __filename, '--creates', String(n), dataDir], { stdio: ['ignore', 'ignore', 'inherit'] });
    process.stdout.write(`${n} sequential creates${process.argv[3] ? ` on a copy of ${process.argv[3]}` : ' on a fresh store'}: ${count(readFileSync(trace, 'utf8'), n)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
