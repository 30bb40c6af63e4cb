/**
 * Durability of the embedded store under crashes: a writer process is killed with SIGKILL at random moments;
 * every transaction it acknowledged must survive, and every multi-document transaction must be all or
 * nothing. Also: torn or garbage journal tails are ignored, and compaction keeps everything.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openEmbeddedStore } from '../../src/storage/embedded/embedded-store';
import { openLmdbStore } from '../../src/storage/embedded/lmdb-store';
import { encodeFrame } from '../../src/storage/embedded/framing';
import type { Doc, Store } from '../../src/storage/port';

const scratch = mkdtempSync(join(tmpdir(), 'embedded-crash-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(scratch, `store-${dirs++}`);
const WRITER = join(__dirname, 'crash-writer.ts');

interface Round {
  acked: Map<number, number>;
}

/**
 * Starts the writer, kills it `killAfterMs` after it is ready (with `stallSnapshots`: after its first
 * compaction started, which never finishes), and collects what it acknowledged.
 */
function runAndKill(dataDir: string, firstTx: number, killAfterMs: number, compactAfterBytes: number | 'lmdb', stallSnapshots = false): Promise<Round> {
  return new Promise((resolve, reject) => {
    const args = [WRITER, dataDir, String(firstTx), String(compactAfterBytes), ...(stallSnapshots ? ['stall-snapshots'] : [])];
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killOn = stallSnapshots ? 'compacting' : 'ready';
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
  it('keeps every acknowledged transaction whole across SIGKILLs, with compaction running', async () => {
    const dataDir = freshDir();
    const acked = new Map<number, number>();
    const random = (() => {
      let seed = 12345;
      return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    })();
    let totalAcked = 0;
    for (let round = 0; round < 6; round++) {
      const { acked: roundAcked } = await runAndKill(dataDir, round * 1_000_000, 100 + Math.floor(random() * 500), 48 * 1024);
      for (const [tx, parts] of roundAcked) acked.set(tx, parts);
      totalAcked += roundAcked.size;
      const store = await openEmbeddedStore({ dataDir });
      const stored = await assertConsistent(store, acked);
      assert.ok(stored >= acked.size);
      await store.close();
    }
    assert.ok(totalAcked > 100, `the writer acknowledged only ${totalAcked} transactions`);
    assert.ok(existsSync(join(dataDir, 'snapshot.db')), 'compaction never ran');
  });

  it('keeps every acknowledged transaction whole across SIGKILLs on LMDB', async () => {
    const dataDir = freshDir();
    const acked = new Map<number, number>();
    let totalAcked = 0;
    for (let round = 0; round < 5; round++) {
      const { acked: roundAcked } = await runAndKill(dataDir, round * 1_000_000, 150 + round * 97, 'lmdb');
      for (const [tx, parts] of roundAcked) acked.set(tx, parts);
      totalAcked += roundAcked.size;
      const store = await openLmdbStore({ dataDir });
      assert.ok((await assertConsistent(store, acked)) >= acked.size);
      await store.close();
    }
    assert.ok(totalAcked > 100, `the writer acknowledged only ${totalAcked} transactions`);
  });

  it('keeps journals bounded when every compaction is killed before it finishes (compaction at open)', async () => {
    const dataDir = freshDir();
    const acked = new Map<number, number>();
    const journalCounts: number[] = [];
    for (let round = 0; round < 5; round++) {
      const { acked: roundAcked } = await runAndKill(dataDir, round * 1_000_000, 30, 32 * 1024, true);
      for (const [tx, parts] of roundAcked) acked.set(tx, parts);
      journalCounts.push(readdirSync(dataDir).filter((n) => n.startsWith('journal-')).length);
      const store = await openEmbeddedStore({ dataDir, compactAfterBytes: 32 * 1024, onWarning: () => undefined });
      await assertConsistent(store, acked);
      await store.close();
      assert.ok(readdirSync(dataDir).filter((n) => n.startsWith('journal-')).length <= 1, `the open did not compact the interrupted journals: ${readdirSync(dataDir).join(', ')}`);
    }
    assert.ok(journalCounts.every((n) => n <= 2), `journals piled up across crashes: ${journalCounts.join(', ')}`);
  });

  it('ignores and cuts off a torn record or garbage at the end of the journal', async () => {
    const dataDir = freshDir();
    const store = await openEmbeddedStore({ dataDir });
    for (let i = 0; i < 5; i++) await store.transaction((tx) => tx.insert('docs', { _id: `d${i}`, tx: i, parts: 1 }));
    await store.close();
    const journal = join(dataDir, readdirSync(dataDir).find((n) => n.startsWith('journal-'))!);
    const torn = encodeFrame(JSON.stringify({ w: [['docs', 'torn', { _id: 'torn', tx: 99, parts: 1 }]] }));
    appendFileSync(journal, torn.subarray(0, torn.length - 7));

    const reopened = await openEmbeddedStore({ dataDir });
    assert.deepEqual((await reopened.find('docs', {}, { sort: [['_id', 1]] })).map((d) => d._id), ['d0', 'd1', 'd2', 'd3', 'd4']);
    await reopened.transaction((tx) => tx.insert('docs', { _id: 'after', tx: 5, parts: 1 }));
    await reopened.close();

    appendFileSync(journal, Buffer.from('garbage that is not a frame at all, followed by more garbage'));
    const corrupted = encodeFrame(JSON.stringify({ w: [['docs', 'bad', { _id: 'bad' }]] }));
    corrupted[corrupted.length - 2] ^= 0xff;
    const third = await openEmbeddedStore({ dataDir });
    assert.equal(await third.count('docs', {}), 6);
    await third.close();
    appendFileSync(journal, corrupted);
    const fourth = await openEmbeddedStore({ dataDir });
    assert.equal(await fourth.count('docs', {}), 6);
    assert.equal(await fourth.findOne('docs', { _id: 'bad' }), null);
    await fourth.close();
  });

  it('recovers everything from snapshot plus journal after compactions, ignoring a half-written snapshot', async () => {
    const dataDir = freshDir();
    const store = await openEmbeddedStore({ dataDir, compactAfterBytes: 4096 });
    for (let i = 0; i < 200; i++) {
      await store.transaction(async (tx) => {
        await tx.insert('docs', { _id: `d${i}`, tx: i, parts: 1, text: 'y'.repeat(100) });
        if (i > 0 && i % 10 === 0) await tx.delete('docs', `d${i - 1}`);
      });
    }
    await store.close();
    const journals = readdirSync(dataDir).filter((n) => n.startsWith('journal-'));
    assert.ok(existsSync(join(dataDir, 'snapshot.db')));
    assert.ok(journals.length <= 2, `old journals were not removed: ${journals.join(', ')}`);
    writeFileSync(join(dataDir, 'snapshot.tmp'), 'half a snapshot');

    const reopened = await openEmbeddedStore({ dataDir });
    assert.equal(await reopened.count('docs', {}), 200 - 19);
    assert.equal(await reopened.findOne('docs', { _id: 'd9' }), null);
    assert.equal((await reopened.findOne('docs', { _id: 'd199' }))?.tx, 199);
    assert.ok(!existsSync(join(dataDir, 'snapshot.tmp')));
    await reopened.close();
  });
});
