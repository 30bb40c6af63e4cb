/**
 * The append-only journal of an embedded store, with group commit: appends that arrive while a write + fsync
 * is in flight are written together by the next single write + fsync. Each transaction is one frame, so it
 * is recovered whole or not at all. A failed write or fsync poisons the journal: what was acknowledged stays
 * acknowledged, everything after it is rejected.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { StorageUnavailable } from '../port';
import { fsyncDirectory, journalFile, pathIn } from './data-files';
import { encodeFrame } from './framing';

interface PendingAppend {
  frame: Buffer;
  /** Runs once the frame is durable, in append order, before any promise resolves. */
  onDurable: () => void;
  resolve: () => void;
  reject: (error: Error) => void;
}

export const journalHeader = (generation: number): string => JSON.stringify({ journal: 1, generation });

export class Journal {
  private queue: PendingAppend[] = [];
  private flushing: Promise<void> | null = null;
  private failure: Error | null = null;

  private constructor(
    private readonly dir: string,
    private handle: FileHandle,
    private gen: number,
    private bytes: number,
    /** Called between batches (no write in flight); may rotate the journal. */
    private readonly afterBatch: () => Promise<void>,
  ) {}

  /** Creates a new, empty journal file for `generation` and makes it durable. */
  static async create(dir: string, generation: number, afterBatch: () => Promise<void>): Promise<Journal> {
    const handle = await createJournalFile(dir, generation);
    const { size } = await handle.stat();
    return new Journal(dir, handle, generation, size, afterBatch);
  }

  /** Continues an existing journal file whose intact content is `validBytes` long (already truncated). */
  static async resume(dir: string, generation: number, validBytes: number, afterBatch: () => Promise<void>): Promise<Journal> {
    const handle = await open(pathIn(dir, journalFile(generation)), 'r+');
    return new Journal(dir, handle, generation, validBytes, afterBatch);
  }

  get generation(): number {
    return this.gen;
  }

  get size(): number {
    return this.bytes;
  }

  append(payload: string, onDurable: () => void): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const frame = encodeFrame(payload);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ frame, onDurable, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  /** Resolves once everything appended so far is durable (or rejected). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /**
   * Switches to a fresh journal file for `generation`. Only call from `afterBatch`, when no write is in flight;
   * the previous file is complete and durable.
   */
  async rotate(generation: number): Promise<void> {
    const next = await createJournalFile(this.dir, generation);
    const previous = this.handle;
    this.handle = next;
    this.gen = generation;
    this.bytes = (await next.stat()).size;
    await previous.close();
  }

  async close(): Promise<void> {
    await this.drain();
    await this.handle.close();
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failure) {
        const batch = this.queue;
        this.queue = [];
        try {
          const data = batch.length === 1 ? batch[0].frame : Buffer.concat(batch.map((p) => p.frame));
          await writeFully(this.handle, data, this.bytes);
          await this.handle.datasync();
          this.bytes += data.length;
          for (const p of batch) p.onDurable();
        } catch (error) {
          this.fail(error, batch);
          return;
        }
        for (const p of batch) p.resolve();
        try {
          await this.afterBatch();
        } catch (error) {
          this.fail(error, []);
          return;
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  private fail(error: unknown, batch: PendingAppend[]): void {
    const cause = error instanceof Error ? error.message : String(error);
    this.failure = new StorageUnavailable(`journal write failed, the store accepts no more writes: ${cause}`);
    for (const p of [...batch, ...this.queue]) p.reject(this.failure);
    this.queue = [];
  }
}

async function createJournalFile(dir: string, generation: number): Promise<FileHandle> {
  const handle = await open(pathIn(dir, journalFile(generation)), 'w+');
  const header = encodeFrame(journalHeader(generation));
  await writeFully(handle, header, 0);
  await handle.sync();
  await fsyncDirectory(dir);
  return handle;
}

async function writeFully(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await handle.write(data, written, data.length - written, position + written);
    written += bytesWritten;
  }
}
