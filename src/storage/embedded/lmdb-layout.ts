/**
 * The on-disk layout of the LMDB engine (docs/storage.md#layout): one LMDB environment in `<DATA_DIR>/lmdb/`
 * with three databases.
 * - `docs`: key = collection prefix (two characters, PrefixTable) + `_id`; value = CRC-32 of the JSON text (u32 LE) + the JSON text itself,
 *   exactly what reads parse. The checksum is verified on every read; a mismatch is StorageCorrupt naming the
 *   collection and `_id`, and the document is never served.
 * - `index`: key = index prefix (two characters) + encoded key tuple + `_id` (key-encoding.ts; without its `Type/`
 *   when the index has a `type` key, index-ids.ts), empty value.
 * - `meta`: the layout version, the LZ4 dictionary of `docs` (record-dictionary.ts; absent in directories whose
 *   documents were first written without one: lmdb-js's default), the prefix table and, per collection, its index
 *   definitions and the key shapes seen so far.
 * Keys are strings written as UTF-8 by a key encoder of our own (lmdb-js's default encoding treats \x00 as a
 * separator, and our tuples contain it); UTF-8 byte order is code point order, the order of MongoDB's binary
 * string comparison.
 */
import { statfsSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { StorageCorrupt, StorageFull } from '../port';
import { prefixEnd } from './key-encoding';

export const LMDB_DIR = 'lmdb';
/** 2: index keys end in the id relative to the key's type (index-ids.ts); a layout-1 directory is upgraded on open (lmdb-store.ts). */
export const LAYOUT_VERSION = 2;

/** Node's unchecked UTF-8 buffer methods (what Buffer#write and #toString call after checking arguments). */
interface Utf8Buffer extends Buffer {
  utf8Write(text: string, offset: number): number;
  utf8Slice(start: number, end: number): string;
}

/** Strings as UTF-8 keys, read back as strings. */
export const stringKeys = {
  writeKey(key: string, target: Buffer, start: number): number {
    return start + (target as Utf8Buffer).utf8Write(key, start);
  },
  readKey(source: Buffer, start: number, end: number): string {
    return (source as Utf8Buffer).utf8Slice(start, end);
  },
};

/** Keys longer than this (in UTF-8 bytes) do not fit LMDB's default key size limit (lmdb-js: 1,978). */
export const MAX_KEY_BYTES = 1978;

/** Whether `key` is over MAX_KEY_BYTES (its UTF-8 length is measured only when its characters could make it so). */
export const tooLongForKey = (key: string): boolean => key.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(key) > MAX_KEY_BYTES;

/** One past the last key that starts with `prefix`. */
export const rangeEnd = (prefix: string): string => prefixEnd(prefix);

export const metaIndexesKey = (collection: string): string => `indexes/${collection}`;
export const META_LAYOUT_KEY = 'layout';
/** The LZ4 dictionary the directory's documents are compressed with (lmdb-store.ts, documentDictionary); absent: lmdb-js's default. */
export const META_DICTIONARY_KEY = 'dictionary';
const META_PREFIXES_KEY = 'prefixes';

/** Names in the prefix table: a collection's documents, and one index of a collection. */
export const collectionEntry = (collection: string): string => `c/${collection}`;
export const indexEntry = (collection: string, index: string): string => `i/${collection}/${index}`;

/** Fixed-length prefixes never run into each other: two printable ASCII characters (8,836 of them). */
const PREFIX_DIGITS = 94;
const prefixOf = (n: number): string => String.fromCharCode(0x21 + Math.floor(n / PREFIX_DIGITS), 0x21 + (n % PREFIX_DIGITS));
export const PREFIX_LENGTH = 2;

/**
 * The key prefix of each collection and index: two characters assigned on first use and kept in `meta`, so keys
 * do not repeat long names (an index entry is otherwise mostly its collection and index name).
 */
export class PrefixTable {
  private dirty = false;

  private constructor(private readonly byName: Map<string, string>) {}

  static load(meta: { getBinary(key: string): Uint8Array | undefined }): PrefixTable {
    const value = meta.getBinary(META_PREFIXES_KEY);
    const entries = value === undefined ? [] : (JSON.parse(decodeDocument(value, 'meta', META_PREFIXES_KEY)) as Array<[string, string]>);
    return new PrefixTable(new Map(entries));
  }

  get(name: string): string | undefined {
    return this.byName.get(name);
  }

  /** The prefix of `name`, assigned now if it has none (saved with the next save()). */
  assign(name: string): string {
    let prefix = this.byName.get(name);
    if (prefix === undefined) {
      if (this.byName.size >= PREFIX_DIGITS * PREFIX_DIGITS) throw new Error('the store has no key prefix left for another collection or index');
      prefix = prefixOf(this.byName.size);
      this.byName.set(name, prefix);
      this.dirty = true;
    }
    return prefix;
  }

  /** Names by prefix. */
  names(): Map<string, string> {
    return new Map([...this.byName].map(([name, prefix]) => [prefix, name]));
  }

  /** Writes the table to `meta` if it changed (inside a write transaction). */
  save(meta: { put(key: string, value: Buffer): unknown }): void {
    if (!this.dirty) return;
    void meta.put(META_PREFIXES_KEY, encodeDocument(JSON.stringify([...this.byName])));
    this.dirty = false;
  }

  /** A write transaction that saved the table failed: save it again with the next one. */
  unsaved(): void {
    this.dirty = true;
  }
}

/** A document's stored value: checksum, then its JSON text. */
export function encodeDocument(json: string): Buffer {
  const length = Buffer.byteLength(json);
  const value = Buffer.allocUnsafe(4 + length);
  value.write(json, 4);
  value.writeUInt32LE(crc32(value.subarray(4)), 0);
  return value;
}

/** The JSON text of a stored value, after checking its checksum; StorageCorrupt when it does not match. */
export function decodeDocument(value: Uint8Array, collection: string, id: string): string {
  const buffer = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.length);
  const body = buffer.subarray(4, buffer.length);
  if (buffer.length < 4 || buffer.readUInt32LE(0) !== crc32(body)) {
    throw new StorageCorrupt(
      `the stored document ${id} of collection ${collection} is damaged (its checksum does not match); it is not served. ` +
        'Stop the server, run `npm run store:check` on the data directory, and restore it from a backup',
    );
  }
  return body.toString('utf8');
}

const NO_SPACE = /ENOSPC|EDQUOT|EFBIG|No space left|Disk quota|File too large|MDB_MAP_FULL/i;

/**
 * A failed LMDB commit as the store reports it: StorageFull for lack of space, the error itself otherwise.
 * lmdb-js rejects a failed commit with "Commit failed" and the system error in a rejected `commitError` promise
 * (unhandled, that promise would end the process).
 */
export async function commitFailure(error: unknown, dataDir: string): Promise<Error> {
  let failure = error instanceof Error ? error : new Error(String(error));
  const detail = (failure as { commitError?: Promise<unknown> }).commitError;
  if (detail) {
    try {
      await detail;
    } catch (cause) {
      if (cause instanceof Error) failure = cause;
    }
  }
  const code = String((failure as NodeJS.ErrnoException).code ?? '');
  if (NO_SPACE_ERRNO.has(code) || NO_SPACE.test(code) || NO_SPACE.test(failure.message) || ioErrorOnFullDisk(failure, dataDir)) {
    return new StorageFull(`storing the commit failed, the disk is full (${failure.message}); free space in the data directory`);
  }
  return failure;
}

/**
 * LMDB reports some writes into a full filesystem as an I/O error (EIO; seen on tmpfs when the data file grows):
 * with almost no space left where the data lives, that is a full disk, which freeing space cures.
 */
function ioErrorOnFullDisk(failure: Error, dataDir: string): boolean {
  if (!/Input\/output error|EIO/.test(failure.message) && String((failure as NodeJS.ErrnoException).code) !== '5') return false;
  try {
    const { bavail, bsize } = statfsSync(dataDir);
    return bavail * bsize < FULL_BELOW_BYTES;
  } catch {
    return false;
  }
}

const FULL_BELOW_BYTES = 1024 * 1024;

/** ENOSPC, EDQUOT and EFBIG as the numbers lmdb-js reports (Linux errno). */
const NO_SPACE_ERRNO = new Set(['28', '122', '27']);
