/**
 * Restart time of an embedded store when every background compaction is killed before it finishes (issue 14:
 * under repeated SIGKILLs 8 journals of ~81 MB piled up and restart time grew 0.8 → 2.2 s). Each round, a
 * writer process opens the store (timed: that is the restart), rewrites a fixed set of ~2 KB documents until a
 * compaction starts and is killed with SIGKILL at once. Prints per round the journals the restart found and the
 * open time. Pass another checkout's src/ folder to measure it the same way (for a before/after figure).
 * Run: npx tsx bench/restart-after-crashes.ts [rounds=8] [srcDir=src]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROUNDS = Number(process.argv[2] ?? 8);
const SRC = resolve(process.argv[3] ?? join(__dirname, '..', 'src'));
const COMPACT_AFTER_BYTES = 4 << 20;
const DOCUMENTS = 4000;
const WRITER = join(__dirname, 'support', 'compaction-crash-writer.ts');

/** Runs one writer until its compaction starts; resolves with its open time. */
function round(dataDir: string): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, SRC, dataDir, String(COMPACT_AFTER_BYTES), String(DOCUMENTS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let openMs = NaN;
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const ready = /^ready (\d+)$/.exec(line);
        if (ready) openMs = Number(ready[1]);
        if (line === 'compacting') child.kill('SIGKILL');
      }
    });
    child.on('close', (code, signal) => (signal === 'SIGKILL' ? done(openMs) : fail(new Error(`writer ended with ${signal ?? code}`))));
  });
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'restart-after-crashes-'));
  console.log(`store from ${SRC}; compaction after ${COMPACT_AFTER_BYTES >> 20} MiB; ${DOCUMENTS} documents rewritten`);
  try {
    for (let i = 1; i <= ROUNDS; i++) {
      const journals = readdirSync(dataDir).filter((n) => n.startsWith('journal-'));
      const mib = journals.reduce((sum, n) => sum + statSync(join(dataDir, n)).size, 0) / 2 ** 20;
      const openMs = await round(dataDir);
      console.log(`restart ${String(i).padStart(2)}: found ${journals.length} journal(s), ${mib.toFixed(1).padStart(6)} MiB; open ${String(openMs).padStart(5)} ms`);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

void main();
