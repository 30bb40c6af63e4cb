/**
 * CPU time a process has used (user + system, all its threads), from /proc on Linux. On a shared, loaded machine
 * wall-clock throughput swings with other work; CPU per request is steadier and shows what the server itself costs.
 */
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** Seconds of CPU used so far by `pid`, or NaN where /proc is not available. */
export function cpuSeconds(pid: number | undefined): number {
  return statSeconds(`/proc/${pid}/stat`);
}

/**
 * Seconds of CPU used so far by the main thread of `pid` (its JavaScript thread; not libuv's pool, LMDB's sync
 * threads or the GC helpers), or NaN where /proc is not available. A Node server's throughput is bounded by this.
 */
export function mainThreadCpuSeconds(pid: number | undefined): number {
  return statSeconds(`/proc/${pid}/task/${pid}/stat`);
}

function statSeconds(file: string): number {
  try {
    const fields = readFileSync(file, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat; fields[0] here is field 3.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}
