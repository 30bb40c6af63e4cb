/** Helpers for benchmarks that run servers in child processes and load them with autocannon. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import autocannon from 'autocannon';

export const ROOT = join(__dirname, '..', '..');

/**
 * The node flags of `npm start` (package.json), read from there so benchmarks start the server the same way.
 * They size the young generation: each V8 scavenge costs time in proportion to the whole heap (~2.5 ms per GB
 * on this machine), so a large in-memory store wants few, large scavenges.
 */
export const START_FLAGS = startFlagsOf(ROOT);

/** The node flags of `npm start` in the tree at `root` (another checkout's may differ). */
export function startFlagsOf(root: string): string[] {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start
    .split(/\s+/)
    .filter((part) => part.startsWith('--'));
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface Running {
  child: ChildProcess;
  port: number;
  path: string;
  /** `Bearer <system token>` for the server, when the script prints one. */
  authorization?: string;
}

/**
 * Starts `bench/support/<script>.ts` (of the checkout at `root`) with args and waits for its {port, path} line;
 * `nodeFlags` go before the script (START_FLAGS: as `npm start` runs the server).
 */
export function startProcess(script: string, args: string[], env: Record<string, string> = {}, root = ROOT, nodeFlags: string[] = []): Promise<Running> {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', join(root, 'bench', 'support', script), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (d) => {
      buffer += String(d);
      const line = buffer.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, ...(JSON.parse(line) as { port: number; path: string; authorization?: string }) });
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

export async function stop(running: Running): Promise<void> {
  running.child.removeAllListeners('exit');
  const exited = new Promise((resolve) => running.child.on('exit', resolve));
  running.child.kill('SIGKILL');
  await exited;
}

/** Starts `node <nodeArgs>` (the server) and resolves with the child once it logs that it listens. */
export async function startServerProcess(nodeArgs: string[], env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, nodeArgs, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d) => String(d).includes('"listening"') && resolve());
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  child.removeAllListeners('exit');
  return child;
}

/** CPU time (user + system) the process `pid` has used so far, in ms (Linux /proc; clock ticks of 10 ms). */
export function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Requests per second over `seconds` with `connections` keep-alive connections. */
export async function throughput(url: string, seconds: number, connections: number, headers: Record<string, string> = {}): Promise<number> {
  const result = await autocannon({ url, connections, duration: seconds, pipelining: 1, headers });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

export { median } from './stats';
