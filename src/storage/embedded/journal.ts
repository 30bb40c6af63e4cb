/**
 * The append-only journal of an embedded store, with group commit: appends that arrive while a write + fsync
 * is in flight are written together by the next single write + fsync, as ONE frame (a lone transaction's
 * record, or `{"t":[record, ...]}` for several). Only the frame being written can be torn by a crash, so a
 * damaged frame with an intact one after it is corruption, never a crash (recovery.ts relies on this).
 *
 * A write that fails for lack of space (StorageFull) is undone: the partial frame is truncated away and
 * fsynced before its appends and every append queued behind it are rejected, so none of them reappears
 * later, and the journal takes the next append as if nothing happened. Any other failure poisons the
 * journal: what was acknowledged stays acknowledged, everything after it is rejected.
 */
import { StorageFull, StorageUnavailable } from '../port';
import { fsyncDirectory, journalFile, nodeFileSystem, pathIn, removeQuietly, writeFailure, writeFully, type StoreFile, type StoreFileSystem } from './data-files';
import { encodeFrame, encodeFrameParts } from './framing';

interface PendingAppend {
  payload: Buffer;
  /** Runs once the frame is durable, in append order, before any promise resolves. */
  onDurable: () => void;
  /** Runs synchronously when the frame is known to fail, before any later append can be made. */
  onFailed: (error: Error) => void;
  resolve: () => void;
  reject: (error: Error) => void;
}

export const journalHeader = (generation: number): string => JSON.stringify({ journal: 1, generation });

/** Group commit stops adding appends to a frame at this size (frames over MAX_FRAME_BYTES read as corrupt). */
const BATCH_LIMIT_BYTES = 64 << 20;
const BATCH_OPEN = Buffer.from('{"t":[');
const BATCH_SEPARATOR = Buffer.from(',');
const BATCH_CLOSE = Buffer.from(']}');

export interface JournalFiles {
  dir: string;
  files?: StoreFileSystem;
}

export class Journal {
  private queue: PendingAppend[] = [];
  private flushing: Promise<void> | null = null;
  private failure: Error | null = null;

  private constructor(
    private readonly dir: string,
    private readonly files: StoreFileSystem,
    private handle: StoreFile,
    private gen: number,
    private bytes: number,
    /** Called between batches (no write in flight); may rotate the journal. */
    private readonly afterBatch: () => Promise<void>,
  ) {}

  /** Creates a new, empty journal file for `generation` and makes it durable. */
  static async create({ dir, files = nodeFileSystem }: JournalFiles, generation: number, afterBatch: () => Promise<void>): Promise<Journal> {
    const handle = await createJournalFile(dir, files, generation);
    const { size } = await handle.stat();
    return new Journal(dir, files, handle, generation, size, afterBatch);
  }

  /** Continues an existing journal file whose intact content is `validBytes` long (already truncated). */
  static async resume({ dir, files = nodeFileSystem }: JournalFiles, generation: number, validBytes: number, afterBatch: () => Promise<void>): Promise<Journal> {
    const handle = await files.open(pathIn(dir, journalFile(generation)), 'r+');
    return new Journal(dir, files, handle, generation, validBytes, afterBatch);
  }

  get generation(): number {
    return this.gen;
  }

  get size(): number {
    return this.bytes;
  }

  append(payload: string, onDurable: () => void, onFailed: (error: Error) => void = () => undefined): Promise<void> {
    if (this.failure) {
      onFailed(this.failure);
      return Promise.reject(this.failure);
    }
    const body = Buffer.from(payload, 'utf8');
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ payload: body, onDurable, onFailed, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  /** Resolves once everything appended so far is durable (or rejected). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /**
   * Switches to a fresh journal file for `generation`. Only call from `afterBatch`, when no write is in flight;
   * the previous file is complete and durable. If the new file cannot be made, it is removed and this journal
   * stays as it was.
   */
  async rotate(generation: number): Promise<void> {
    const next = await createJournalFile(this.dir, this.files, generation);
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
        const batch = takeBatch(this.queue);
        try {
          const data = encodeBatch(batch);
          await writeFully(this.handle, data, this.bytes);
          await this.handle.datasync();
          this.bytes += data.length;
          for (const p of batch) p.onDurable();
        } catch (error) {
          await this.undo(error, batch);
          continue;
        }
        for (const p of batch) p.resolve();
        try {
          await this.afterBatch();
        } catch (error) {
          this.poison(error, []);
          return;
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  /**
   * A batch failed: its appends and all queued behind it (which may have read its writes) fail now. For lack
   * of space the file is cut back to its last durable frame, durably, before anyone hears of the failure.
   */
  private async undo(error: unknown, batch: PendingAppend[]): Promise<void> {
    const failure = writeFailure(error, 'journal write');
    if (!(failure instanceof StorageFull)) {
      this.poison(failure, batch);
      return;
    }
    const failed = [...batch, ...this.queue];
    this.queue = [];
    for (const p of failed) p.onFailed(failure);
    try {
      await this.handle.truncate(this.bytes);
      await this.handle.datasync();
    } catch (truncateError) {
      this.poison(truncateError, failed, true);
      return;
    }
    for (const p of failed) p.reject(failure);
  }

  /** `told`: the appends of `batch` already heard of their failure (onFailed). */
  private poison(error: unknown, batch: PendingAppend[], told = false): void {
    const cause = error instanceof Error ? error.message : String(error);
    this.failure = new StorageUnavailable(`journal write failed, the store accepts no more writes until it is restarted: ${cause}`);
    const queued = this.queue;
    this.queue = [];
    for (const p of told ? queued : [...batch, ...queued]) p.onFailed(this.failure);
    for (const p of [...batch, ...queued]) p.reject(this.failure);
  }
}

/** Takes the appends of the next frame off the queue: all of them, unless that makes a frame over BATCH_LIMIT_BYTES. */
function takeBatch(queue: PendingAppend[]): PendingAppend[] {
  let count = 0;
  for (let bytes = 0; count < queue.length && (count === 0 || bytes + queue[count].payload.length <= BATCH_LIMIT_BYTES); count++) {
    bytes += queue[count].payload.length;
  }
  return queue.splice(0, count);
}

function encodeBatch(batch: PendingAppend[]): Buffer {
  if (batch.length === 1) return encodeFrameParts([batch[0].payload]);
  const parts: Buffer[] = [BATCH_OPEN];
  batch.forEach((p, i) => parts.push(...(i === 0 ? [p.payload] : [BATCH_SEPARATOR, p.payload])));
  parts.push(BATCH_CLOSE);
  return encodeFrameParts(parts);
}

async function createJournalFile(dir: string, files: StoreFileSystem, generation: number): Promise<StoreFile> {
  const path = pathIn(dir, journalFile(generation));
  const handle = await files.open(path, 'w+');
  try {
    await writeFully(handle, encodeFrame(journalHeader(generation)), 0);
    await handle.sync();
    await fsyncDirectory(dir, files);
    return handle;
  } catch (error) {
    await handle.close().catch(() => undefined);
    await removeQuietly(files, path);
    throw writeFailure(error, `creating journal ${path}`);
  }
}
