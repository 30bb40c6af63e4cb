/**
 * CPU time a process has used (user + system, all its threads), from /proc on Linux. On a shared, loaded machine
 * wall-clock throughput swings with other work; CPU per request is steadier and shows what the server itself costs.
 */
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** Seconds of CPU used so far by `pid`, or NaN where /proc is not available. */
export function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat; fields[0] here is field 3.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}
