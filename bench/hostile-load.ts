/**
 * Read latency under hostile load (issue 14): p50/p99 of a plain read-by-id, issued at 50 reads/s whatever the
 * answers (open loop, timed from when each read was due), while 4 clients loop one kind of hostile request against the built server, started as `npm start` starts it
 * (`node <start flags> dist/src/main.js`, default configuration, fresh embedded store). Kinds: none (baseline),
 * a POST _search form of 100,000 parameters, a 4.8 MB nested-array body, a 33,000-character name:contains,
 * and idle plus trickling connections (each client holds 25 silent sockets and 25 sending a body at 1 byte/s,
 * reopening what the server closes). A fresh server per round; the median over rounds is printed (goal: read
 * p99 <= 50 ms). The hostile clients run in a child process, so the measuring loop only waits for the server.
 * Usage: npx tsx bench/hostile-load.ts [rounds=3] [seconds=5] [--server <dir of another build>]
 *   (builds dist/ first unless --server names a directory with its own dist/)
 */
import { systemTokenFor } from '../src/access/local-key';
import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, ROOT, START_FLAGS, startServerProcess } from './support/processes';
import { percentile } from './support/stats';

const CLIENTS = 4;
const READS_PER_SECOND = 50;
const FORM = 'application/x-www-form-urlencoded';

interface Hostile {
  method: string;
  path: string;
  type: string;
  body: Buffer;
}

const HOSTILE: Record<string, Hostile | 'connections' | undefined> = {
  'none (baseline)': undefined,
  'POST _search, 100,000-parameter form': {
    method: 'POST',
    path: '/fhir/Patient/_search',
    type: FORM,
    body: Buffer.from(Array.from({ length: 100_000 }, (_, i) => `given=n${i}`).join('&')),
  },
  'POST Patient, 4.8 MB nested-array body': {
    method: 'POST',
    path: '/fhir/Patient',
    type: 'application/fhir+json',
    body: Buffer.from(`{"resourceType":"Patient","extension":${'['.repeat(2_400_000)}${']'.repeat(2_400_000)}}`),
  },
  'POST _search, 33,000-character name:contains': {
    method: 'POST',
    path: '/fhir/Patient/_search',
    type: FORM,
    body: Buffer.from(`name:contains=${'ab'.repeat(16_500)}`),
  },
  'idle and 1 byte/s trickling connections': 'connections',
};

/** `Bearer <system token>` of the running server (signed with the local key in its DATA_DIR). */
let authorization = process.env.BENCH_AUTHORIZATION ?? '';

const agentFor = (): http.Agent => new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(port: number, agent: http.Agent, method: string, path: string, type?: string, body?: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = body ? { 'Content-Type': type, 'Content-Length': body.length } : {};
    if (authorization) headers.Authorization = authorization;
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Loops `hostile` until `until.done`; counts answers by status (connection errors as 'error'). */
async function loopRequests(port: number, hostile: Hostile, until: { done: boolean }, statuses: Map<string, number>): Promise<void> {
  const agent = agentFor();
  while (!until.done) {
    const status = await request(port, agent, hostile.method, hostile.path, hostile.type, hostile.body).then(String, () => 'error');
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
  agent.destroy();
}

/** Holds 25 silent and 25 trickling connections, reopening each one the server closes, until `until.done`. */
async function holdConnections(port: number, until: { done: boolean }, statuses: Map<string, number>): Promise<void> {
  const sockets = new Set<Socket>();
  const open = (trickling: boolean): void => {
    if (until.done) return;
    const socket = connect(port, '127.0.0.1');
    sockets.add(socket);
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      if (!trickling) return;
      socket.write('POST /fhir/Patient HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/fhir+json\r\nContent-Length: 100000\r\n\r\n');
      timer = setInterval(() => socket.write(' '), 1000);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      sockets.delete(socket);
      statuses.set('closed by server', (statuses.get('closed by server') ?? 0) + (until.done ? 0 : 1));
      open(trickling);
    });
  };
  for (let i = 0; i < 25; i++) {
    open(false);
    open(true);
  }
  while (!until.done) await new Promise((resolve) => setTimeout(resolve, 100));
  statuses.set('open at the end', (statuses.get('open at the end') ?? 0) + sockets.size);
  for (const socket of sockets) socket.destroy();
}

/**
 * Reads issued at a fixed rate for `seconds`, whether or not earlier ones have been answered (open loop, so a
 * stalled server delays every read due meanwhile, as it would real users), each timed from when it was due:
 * latencies in ms, ascending (failed ones included), and how many failed (reset or not 200).
 */
async function readLatencies(port: number, path: string, seconds: number): Promise<{ latencies: number[]; failed: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const interval = 1000 / READS_PER_SECOND;
  const start = performance.now();
  const pending: Array<Promise<{ ms: number; ok: boolean }>> = [];
  for (let i = 0; i < seconds * READS_PER_SECOND; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(
      request(port, agent, 'GET', path).then(
        (status) => ({ ms: performance.now() - due, ok: status === 200 }),
        () => ({ ms: performance.now() - due, ok: false }),
      ),
    );
  }
  const results = await Promise.all(pending);
  agent.destroy();
  return { latencies: results.map((r) => r.ms).sort((a, b) => a - b), failed: results.filter((r) => !r.ok).length };
}

/** CPU time (user + system) the process `pid` has used so far, in ms (Linux /proc; clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Answers to hostile requests (statuses and connection errors), not the connection and read tallies. */
const answered = (statuses: Array<[string, number]>): number =>
  statuses.filter(([status]) => /^\d+$|^error$/.test(status)).reduce((sum, [, n]) => sum + n, 0);

async function startServer(serverRoot: string, port: number): Promise<{ child: ChildProcess; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-hostile-'));
  const child = await startServerProcess([...START_FLAGS, join(serverRoot, 'dist', 'src', 'main.js')], { DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' });
  child.stdout?.resume();
  authorization = `Bearer ${await systemTokenFor(dataDir, `http://127.0.0.1:${port}/fhir`)}`;
  const agent = agentFor();
  const example = Buffer.from(JSON.stringify({ resourceType: 'Patient', id: 'example', name: [{ family: 'Chalmers', given: ['Peter'] }], gender: 'male' }));
  if ((await request(port, agent, 'PUT', '/fhir/Patient/example', 'application/fhir+json', example)) !== 201) throw new Error('seeding failed');
  for (let i = 0; i < 200; i++) {
    const p = Buffer.from(JSON.stringify({ resourceType: 'Patient', name: [{ family: `Family${i}`, given: [`Given${i}`] }] }));
    await request(port, agent, 'POST', '/fhir/Patient', 'application/fhir+json', p);
  }
  agent.destroy();
  return { child, dataDir };
}

async function stopServer(server: { child: ChildProcess; dataDir: string }): Promise<void> {
  const exited = new Promise((resolve) => server.child.on('exit', resolve));
  server.child.kill('SIGKILL');
  await exited;
  rmSync(server.dataDir, { recursive: true, force: true });
}

/** Child mode: runs the 4 hostile clients of `kind` against `port` until stdin closes, then prints the answer counts. */
async function clients(kind: string, port: number): Promise<void> {
  const hostile = HOSTILE[kind];
  const statuses = new Map<string, number>();
  const until = { done: false };
  process.stdin.on('end', () => (until.done = true)).resume();
  const loops = Array.from({ length: CLIENTS }, () =>
    hostile === 'connections' ? holdConnections(port, until, statuses) : hostile ? loopRequests(port, hostile, until, statuses) : Promise.resolve(),
  );
  await Promise.all(loops);
  process.stdout.on('error', () => undefined);
  process.stdout.write(`${JSON.stringify([...statuses])}\n`);
}

function startClients(kind: string, port: number): { stop(): Promise<Array<[string, number]>> } {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--clients', kind, String(port)], { cwd: ROOT, env: { ...process.env, BENCH_AUTHORIZATION: authorization }, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return {
    async stop() {
      child.stdin.end();
      await exited;
      return JSON.parse(out.trim() || '[]') as Array<[string, number]>;
    },
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--clients') return clients(args[1] as string, Number(args[2]));
  const serverAt = args.indexOf('--server');
  const serverRoot = serverAt >= 0 ? (args.splice(serverAt, 2)[1] as string) : ROOT;
  const [rounds = 3, seconds = 5] = args.map(Number);
  if (serverRoot === ROOT) execSync('npx tsc -p tsconfig.build.json', { cwd: ROOT, stdio: 'inherit' });
  const results = new Map<string, { p50: number[]; p99: number[]; max: number[]; reads: number[]; cpuPerAnswer: number[]; statuses: Map<string, number> }>();
  for (let round = 0; round < rounds; round++) {
    const port = 18_400 + round;
    const server = await startServer(serverRoot, port);
    try {
      for (const kind of Object.keys(HOSTILE)) {
        const result = results.get(kind) ?? { p50: [], p99: [], max: [], reads: [], cpuPerAnswer: [], statuses: new Map<string, number>() };
        results.set(kind, result);
        const cpuBefore = cpuMs(server.child.pid as number);
        const hostile = startClients(kind, port);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const { latencies, failed } = await readLatencies(port, '/fhir/Patient/example', seconds);
        if (failed) result.statuses.set('failed reads', (result.statuses.get('failed reads') ?? 0) + failed);
        const statuses = await hostile.stop();
        const answers = answered(statuses);
        if (answers) result.cpuPerAnswer.push((cpuMs(server.child.pid as number) - cpuBefore) / answers);
        for (const [status, n] of statuses) result.statuses.set(status, (result.statuses.get(status) ?? 0) + n);
        result.p50.push(latencies.length ? percentile(latencies, 50) : NaN);
        result.p99.push(latencies.length ? percentile(latencies, 99) : NaN);
        result.max.push(latencies.length ? (latencies[latencies.length - 1] as number) : NaN);
        result.reads.push(latencies.length);
      }
    } finally {
      await stopServer(server);
    }
  }
  process.stdout.write(`read-by-id latency while ${CLIENTS} clients loop a hostile request (${rounds} rounds x ${seconds} s, server ${serverRoot === ROOT ? 'this build' : serverRoot})\n`);
  process.stdout.write(`  ${'hostile request'.padEnd(48)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'reads'.padStart(7)} ${'cpu ms'.padStart(7)}  hostile answers, failed reads (all rounds)\n`);
  for (const [kind, r] of results) {
    const answers = [...r.statuses].map(([status, n]) => `${status}: ${n}`).join(', ') || '-';
    process.stdout.write(
      `  ${kind.padEnd(48)} ${median(r.p50).toFixed(1).padStart(8)} ${median(r.p99).toFixed(1).padStart(8)} ${median(r.max).toFixed(1).padStart(8)} ${median(r.reads).toFixed(0).padStart(7)} ${(r.cpuPerAnswer.length ? median(r.cpuPerAnswer).toFixed(2) : '-').padStart(7)}  ${answers}\n`,
    );
  }
  process.stdout.write('  (medians over rounds; cpu ms: server CPU time per hostile answer, reads included; goal: read p99 <= 50 ms under every kind)\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
