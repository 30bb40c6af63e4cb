/**
 * Damage in an embedded store's data directory: a torn last journal record (what a crash leaves) is cut off
 * with a warning that names the bytes; anything else (a damaged record with intact ones after it, a damaged
 * journal header, a missing snapshot or journal) refuses the open with StorageCorrupt, naming the file and
 * the byte offset, and leaves the files untouched for the operator to restore from a backup.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openEmbeddedStore } from '../../src/storage/embedded/embedded-store';
import { FRAME_HEADER_BYTES, scanFrames } from '../../src/storage/embedded/framing';
import { StorageCorrupt, type StoreWarning } from '../../src/storage/port';
import { freePort, spawnServer, stopServer } from '../fixtures/process';

const scratch = mkdtempSync(join(tmpdir(), 'journal-corruption-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(scratch, `store-${dirs++}`);

const DOCS = 300;
let template: string | null = null;

/** A data directory holding DOCS acknowledged one-document transactions in one journal (built once, copied). */
async function storeWithJournal(): Promise<{ dataDir: string; journal: string; frames: Array<{ start: number; end: number }> }> {
  if (!template) {
    template = freshDir();
    const store = await openEmbeddedStore({ dataDir: template });
    for (let i = 0; i < DOCS; i++) await store.transaction((tx) => tx.insert('docs', { _id: `d${String(i).padStart(3, '0')}`, n: i }));
    await store.close();
  }
  const dataDir = freshDir();
  cpSync(template, dataDir, { recursive: true });
  const journal = join(dataDir, readdirSync(dataDir).find((n) => n.startsWith('journal-'))!);
  const frames: Array<{ start: number; end: number }> = [];
  let start = 0;
  scanFrames(journal, (payload) => {
    frames.push({ start, end: start + FRAME_HEADER_BYTES + payload.length });
    start += FRAME_HEADER_BYTES + payload.length;
  });
  assert.equal(frames.length, DOCS + 1, 'one header frame and one frame per transaction');
  return { dataDir, journal, frames };
}

function flipByte(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset] ^= 0x5a;
  writeFileSync(path, bytes);
}

async function openWithWarnings(dataDir: string): Promise<{ count: number; warnings: StoreWarning[] }> {
  const warnings: StoreWarning[] = [];
  const store = await openEmbeddedStore({ dataDir, onWarning: (w) => warnings.push(w) });
  try {
    return { count: await store.count('docs', {}), warnings };
  } finally {
    await store.close();
  }
}

/** The open is refused with StorageCorrupt matching `message`, and the journal is left exactly as it was. */
async function assertRefused(dataDir: string, journal: string, message: RegExp): Promise<void> {
  const before = readFileSync(journal);
  await assert.rejects(openEmbeddedStore({ dataDir }), (error: unknown) => {
    assert.ok(error instanceof StorageCorrupt, `expected StorageCorrupt, got ${String(error)}`);
    assert.match(error.message, message);
    assert.match(error.message, /restore the data directory \(DATA_DIR\) from a backup/);
    return true;
  });
  assert.deepEqual(readFileSync(journal), before, 'a refused open must not change the journal');
}

describe('embedded store recovery: torn tail versus corruption', () => {
  it('refuses a journal damaged in the middle, naming the file and the offset of the damaged record', async () => {
    const { dataDir, journal, frames } = await storeWithJournal();
    const flipped = Math.floor(statSync(journal).size * 0.1);
    const damaged = frames.find((f) => f.start <= flipped && flipped < f.end)!;
    flipByte(journal, flipped);
    await assertRefused(dataDir, journal, new RegExp(`journal ${journal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is damaged at byte ${damaged.start} of \\d+, and an intact record follows`));
  });

  it('refuses a journal whose damaged length field hides where the next record starts', async () => {
    const { dataDir, journal, frames } = await storeWithJournal();
    const damaged = frames[Math.floor(frames.length / 2)];
    flipByte(journal, damaged.start + 1);
    await assertRefused(dataDir, journal, new RegExp(`damaged at byte ${damaged.start} of`));
  });

  it('refuses a journal with a damaged header', async () => {
    const { dataDir, journal } = await storeWithJournal();
    flipByte(journal, FRAME_HEADER_BYTES + 3);
    await assertRefused(dataDir, journal, /is damaged at its header \(byte 0\)/);
  });

  it('cuts off a damaged last record with a warning naming the bytes, and goes on writing', async () => {
    const { dataDir, journal, frames } = await storeWithJournal();
    const last = frames[frames.length - 1];
    flipByte(journal, last.end - 3);
    const { count, warnings } = await openWithWarnings(dataDir);
    assert.equal(count, DOCS - 1);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0].msg, /torn last record/);
    assert.deepEqual({ file: warnings[0].file, offset: warnings[0].offset, bytes: warnings[0].bytes }, { file: journal, offset: last.start, bytes: last.end - last.start });
    assert.equal(statSync(journal).size, last.start);

    const store = await openEmbeddedStore({ dataDir });
    await store.transaction((tx) => tx.insert('docs', { _id: 'after', n: -1 }));
    await store.close();
    assert.deepEqual(await openWithWarnings(dataDir), { count: DOCS, warnings: [] });
  });

  it('refuses to open when the snapshot the journals continue has been deleted', async () => {
    const dataDir = freshDir();
    const store = await openEmbeddedStore({ dataDir, compactAfterBytes: 4096 });
    for (let i = 0; i < 100; i++) await store.transaction((tx) => tx.insert('docs', { _id: `d${i}`, text: 'y'.repeat(100) }));
    await store.close();
    const journal = join(dataDir, readdirSync(dataDir).find((n) => n.startsWith('journal-'))!);
    unlinkSync(join(dataDir, 'snapshot.db'));
    await assertRefused(dataDir, journal, /snapshot .*snapshot\.db is missing: journal .*journal-0+\d+\.log continues a snapshot/);
  });

  it('refuses to open when a journal between others is missing', async () => {
    const dataDir = freshDir();
    const store = await openEmbeddedStore({ dataDir, compactAfterBytes: 1 << 30 });
    await store.transaction((tx) => tx.insert('docs', { _id: 'a' }));
    await store.close();
    const first = join(dataDir, 'journal-000001.log');
    cpSync(first, join(dataDir, 'journal-000003.log'));
    await assert.rejects(openEmbeddedStore({ dataDir }), /journal .*journal-000002\.log is missing/);
  });

  it('logs the cut-off torn tail at server start-up as a warn line with the file and byte count', async () => {
    const { dataDir, journal, frames } = await storeWithJournal();
    const last = frames[frames.length - 1];
    flipByte(journal, last.start + FRAME_HEADER_BYTES);
    const child = spawnServer({ DATA_DIR: dataDir, PORT: String(await freePort()) });
    let stdout = '';
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout?.on('data', (d) => {
          stdout += String(d);
          if (stdout.includes('"listening"')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
      });
    } finally {
      child.removeAllListeners('exit');
      await stopServer(child);
    }
    const warning = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((record) => /torn last record/.test(String(record.msg)));
    assert.ok(warning, stdout);
    assert.equal(warning.level, 'warn');
    assert.deepEqual([warning.file, warning.offset, warning.bytes], [journal, last.start, last.end - last.start]);
  });

  it('stops server start-up with exit code 1 and one line naming the damaged file and offset', async () => {
    const { dataDir, journal, frames } = await storeWithJournal();
    const damaged = frames[10];
    flipByte(journal, damaged.start + FRAME_HEADER_BYTES + 2);
    const child = spawnServer({ DATA_DIR: dataDir, PORT: '0' });
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += String(d)));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 1);
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0], new RegExp(`^Start-up failed: journal .*journal-000001\\.log is damaged at byte ${damaged.start} of \\d+.*restore the data directory \\(DATA_DIR\\) from a backup$`));
  });
});
