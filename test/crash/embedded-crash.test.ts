/**
 * Durability of the embedded store (LMDB) under crashes: a writer process is killed with SIGKILL at random
 * moments; every transaction it acknowledged must survive, and every multi-document transaction must be all or
 * nothing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openLmdbStore } from '../../src/storage/embedded/lmdb-store';
import type { Doc, Store } from '../../src/storage/port';

const scratch = mkdtempSync(join(tmpdir(), 'embedded-crash-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(scratch, `store-${dirs++}`);
const WRITER = join(__dirname, 'crash-writer.ts');

interface Round {
  acked: Map<number, number>;
}

/** Starts the writer, kills it `killAfterMs` after it is ready, and collects what it acknowledged. */
function runAndKill(dataDir: string, firstTx: number, killAfterMs: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir, String(firstTx)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killOn = 'ready';
    let killing = false;
    const acked = new Map<number, number>();
    let buffered = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line === killOn && !killing) {
          killing = true;
          setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        }
        const m = /^ack (\d+) (\d+)$/.exec(line);
        if (m) acked.set(Number(m[1]), Number(m[2]));
      }
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer ended on its own (${signal ?? _code}): ${stderr}`));
      else resolve({ acked });
    });
  });
}

/** Groups the stored documents by transaction and checks acknowledged and all-or-nothing commits. */
async function assertConsistent(store: Store, acked: Map<number, number>): Promise<number> {
  const docs = (await store.find('docs', {})) as Array<Doc & { tx: number; parts: number }>;
  const byTx = new Map<number, number>();
  for (const doc of docs) byTx.set(doc.tx, (byTx.get(doc.tx) ?? 0) + 1);
  for (const doc of docs) assert.equal(byTx.get(doc.tx), doc.parts, `transaction ${doc.tx} is torn`);
  for (const [tx, parts] of acked) assert.equal(byTx.get(tx), parts, `acknowledged transaction ${tx} is missing`);
  return byTx.size;
}

describe('embedded store crash safety', () => {
  it('keeps every acknowledged transaction whole across SIGKILLs on LMDB', async () => {
    const dataDir = freshDir();
    const acked = new Map<number, number>();
    let totalAcked = 0;
    for (let round = 0; round < 6; round++) {
      const { acked: roundAcked } = await runAndKill(dataDir, round * 1_000_000, 150 + round * 97);
      for (const [tx, parts] of roundAcked) acked.set(tx, parts);
      totalAcked += roundAcked.size;
      const store = await openLmdbStore({ dataDir });
      assert.ok((await assertConsistent(store, acked)) >= acked.size);
      await store.close();
    }
    assert.ok(totalAcked > 100, `the writer acknowledged only ${totalAcked} transactions`);
  });
});
