/**
 * The durable part of the embedded audit trail: an append-only log of sealed events in segment files
 * (DATA_DIR/audit/<first sequence, 16 digits>.log), the source of truth the LMDB view (lmdb-trail.ts) is derived from.
 *
 * Segment: a 72-byte header (`AUDITLG1` and the hash of the event before the segment's first, 64 hex), then frames:
 *
 *   u32 BE body length ‖ u32 BE CRC-32 of the body ‖ body = u64 BE sequence ‖ hash (64 hex) ‖ canonical JSON (UTF-8)
 *
 * `hash ‖ canonical JSON` is exactly the LMDB view's value, and the canonical bytes are those the chain hash covers
 * (chain.ts), so an event is encoded once. A batch goes out as one `writev` on libuv's thread pool, to a segment
 * opened with O_DSYNC: the write returns once its data is on disk, as a write followed by `fdatasync` would, in one
 * system call and one hand-off to the pool instead of two (about 40% less CPU per batch here); a new segment (every SEGMENT_BYTES) also syncs the folder so its name is durable.
 * At open, frames are read from the segments and the last one is cut after its last whole frame (a write torn by a
 * crash: short, or failing its CRC). Whole frames whose chain does not hold are reported, never cut.
 */
import { hash as oneShotHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { chainHash } from './chain';

export const SEGMENT_BYTES = 64 * 1024 * 1024;
const MAGIC = Buffer.from('AUDITLG1', 'latin1');
const HEADER_BYTES = MAGIC.length + 64;
/** Length and CRC. */
const FRAME_HEAD = 8;
/** Sequence and hash, before the text. */
const BODY_HEAD = 8 + 64;
const SEGMENT_NAME = /^(\d{16})\.log$/;

/** A sealed event as one frame of the log. */
export interface Frame {
  sequence: number;
  hash: string;
  /** The whole frame, as written. */
  bytes: Buffer;
}

/**
 * Seals canonical text into a frame: the chain hash is computed over the very bytes written (previous hash as
 * 64 hex ‖ UTF-8 text), written into the frame, and the CRC over the body.
 */
export function encodeFrame(sequence: number, previous: string, text: string): Frame {
  const length = Buffer.byteLength(text);
  const bytes = Buffer.allocUnsafe(FRAME_HEAD + BODY_HEAD + length);
  bytes.write(text, FRAME_HEAD + BODY_HEAD, length, 'utf8');
  // chainHash(previous, text bytes) in one call: `previous` goes where the hash will be, just before the text.
  let hash: string;
  if (previous.length === 64) {
    bytes.write(previous, FRAME_HEAD + 8, 64, 'latin1');
    hash = oneShotHash('sha256', bytes.subarray(FRAME_HEAD + 8), 'hex');
  } else hash = chainHash(previous, bytes.subarray(FRAME_HEAD + BODY_HEAD));
  bytes.writeUInt32BE(BODY_HEAD + length, 0);
  bytes.writeBigUInt64BE(BigInt(sequence), FRAME_HEAD);
  bytes.write(hash, FRAME_HEAD + 8, 64, 'latin1');
  bytes.writeUInt32BE(crc32(bytes.subarray(FRAME_HEAD)), 4);
  return { sequence, hash, bytes };
}

/** The sequence key (u64 BE) of a frame, as the view keys its events. */
export const keyOf = (frame: Buffer): Buffer => frame.subarray(FRAME_HEAD, FRAME_HEAD + 8);
/** `hash ‖ canonical text`, the view's value of a frame. */
export const valueOf = (frame: Buffer): Buffer => frame.subarray(FRAME_HEAD + 8);
/** The canonical text of a frame. */
export const textOf = (frame: Buffer): Buffer => frame.subarray(FRAME_HEAD + BODY_HEAD);

/** What the log holds, read at open. */
export interface LogState {
  /** The last whole event in the log, or the starting point of an empty log. */
  last: { sequence: number; hash: string };
  /** The canonical text of that event, when the log holds it. */
  lastText?: string;
  /** Bytes cut from the end of the last segment (a torn write). */
  cut: number;
  /** The first link of the log that does not hold, if any. */
  broken?: { sequence: number; reason: string };
}

interface Segment {
  first: number;
  file: string;
}

export class SegmentLog {
  /** The current segment's descriptor, once opened. */
  private fd: Promise<number> | undefined;
  /** Writes in flight. */
  private readonly writes = new Set<Promise<void>>();
  private size = 0;
  private segmentFirst = 0;

  private constructor(
    private readonly dir: string,
    private segments: Segment[],
    private readonly segmentBytes: number,
  ) {}

  /**
   * Opens the log in `dir`, cuts a torn tail, and calls `replay` with every whole frame above `after` in order.
   * `start` is where an empty log begins (the view's head, for a trail older than its log).
   */
  static open(
    dir: string,
    after: number,
    start: { sequence: number; hash: string },
    replay: (frame: Buffer, sequence: number) => void,
    segmentBytes = SEGMENT_BYTES,
  ): { log: SegmentLog; state: LogState } {
    fs.mkdirSync(dir, { recursive: true });
    const segments = fs
      .readdirSync(dir)
      .map((name) => SEGMENT_NAME.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ first: Number(m[1]), file: path.join(dir, m[0]) }))
      .sort((a, b) => a.first - b.first);
    const log = new SegmentLog(dir, segments, segmentBytes);
    const state: LogState = { last: start, cut: 0 };
    // Segments before the one holding `after + 1` need not be read.
    let from = 0;
    for (let i = 0; i < segments.length; i++) if ((segments[i] as Segment).first <= after + 1) from = i;
    for (let i = from; i < segments.length; i++) {
      const segment = segments[i] as Segment;
      const lastSegment = i === segments.length - 1;
      const end = log.read(segment, state, { firstRead: i === from, lastSegment, after }, (frame, sequence) => {
        if (sequence > after) replay(frame, sequence);
      });
      if (lastSegment) {
        log.segmentFirst = segment.first;
        log.size = end;
      }
      if (state.broken) break;
    }
    return { log, state };
  }

  /** Reads one segment's frames into `state`; returns the length of its whole frames (the tail cut off the last segment). */
  private read(segment: Segment, state: LogState, at0: { firstRead: boolean; lastSegment: boolean; after: number }, each: (frame: Buffer, sequence: number) => void): number {
    const { firstRead, lastSegment, after } = at0;
    const data = fs.readFileSync(segment.file);
    const fail = (sequence: number, reason: string): number => {
      state.broken ??= { sequence, reason };
      return data.length;
    };
    // A segment whose header a crash tore was never answered from: it starts again.
    if (lastSegment && data.length < HEADER_BYTES) return this.cutTo(segment, data.length, 0, state);
    if (data.length < HEADER_BYTES || !data.subarray(0, MAGIC.length).equals(MAGIC)) {
      return fail(segment.first, `audit log segment ${path.basename(segment.file)} has no valid header`);
    }
    let previous = data.toString('latin1', MAGIC.length, HEADER_BYTES);
    let expected = segment.first;
    // The first segment read is taken as given (the view checks it against its own chain); the others must continue it.
    if (firstRead) state.last = { sequence: segment.first - 1, hash: previous };
    if (expected !== state.last.sequence + 1 || previous !== state.last.hash) {
      return fail(state.last.sequence + 1, `audit log segment ${path.basename(segment.file)} does not continue the chain after event ${state.last.sequence}`);
    }
    let at = HEADER_BYTES;
    let lastFrame: Buffer | undefined;
    const end = (length: number): number => {
      // A copy: a subarray would keep the whole segment's buffer alive.
      if (lastFrame) state.lastText = textOf(lastFrame).toString('utf8');
      return length;
    };
    while (at < data.length) {
      const torn = data.length - at < FRAME_HEAD + BODY_HEAD || at + FRAME_HEAD + data.readUInt32BE(at) > data.length || data.readUInt32BE(at) < BODY_HEAD;
      const frame = torn ? undefined : data.subarray(at, at + FRAME_HEAD + data.readUInt32BE(at));
      if (!frame || crc32(frame.subarray(FRAME_HEAD)) !== frame.readUInt32BE(4)) {
        // Torn: the end of the last segment, past what the view holds (events never answered). Anything else is damage.
        if (lastSegment && expected > after) return end(this.cutTo(segment, data.length, at, state));
        return fail(expected, `audit log segment ${path.basename(segment.file)} is damaged at byte ${at}`);
      }
      const sequence = Number(frame.readBigUInt64BE(FRAME_HEAD));
      const hash = frame.toString('latin1', FRAME_HEAD + 8, FRAME_HEAD + BODY_HEAD);
      if (sequence !== expected) return fail(expected, `audit log: event ${expected} is missing (next event found is ${sequence})`);
      if (chainHash(previous, textOf(frame)) !== hash) return fail(sequence, `audit log: event ${sequence} was altered: its content does not match its hash and the hash before it`);
      each(frame, sequence);
      state.last = { sequence, hash };
      lastFrame = frame;
      previous = hash;
      expected++;
      at += frame.length;
    }
    return end(at);
  }

  private cutTo(segment: Segment, length: number, at: number, state: LogState): number {
    fs.truncateSync(segment.file, at);
    state.cut += length - at;
    return at;
  }

  /**
   * Appends frames (consecutive sequences, the first following `previous`) durably: one synchronised write,
   * in a new segment when the current one is full. Several appends may be in flight at once (the sync of one
   * overlaps the next, and the file system commits them together): each takes its place in the file when called,
   * so calls must come in sequence order, and a caller must treat an append as durable only once every earlier one
   * is (a crash can leave a later write on disk and an earlier one not: the earlier one's gap is cut at open,
   * and everything after it with it). A new segment is started once the writes to the old one are done.
   */
  append(frames: Buffer[], first: number, previous: string): Promise<void> {
    let bytes = 0;
    for (const f of frames) bytes += f.length;
    // One buffer, not one per frame: the synchronised write of many small iovecs costs more than copying them.
    const buffers = frames.length > 1 ? [Buffer.concat(frames, bytes)] : [...frames];
    let created = false;
    if (this.size === 0 || (this.size > HEADER_BYTES && this.size + bytes > this.segmentBytes)) {
      this.fd = this.rotate(first, [...this.writes]);
      const header = Buffer.concat([MAGIC, Buffer.from(previous, 'latin1')]);
      buffers.unshift(header);
      bytes += header.length;
      created = true;
    } else if (this.fd === undefined) {
      // The segment found at open: append at the end of its whole frames.
      this.fd = openFile(path.join(this.dir, nameOf(this.segmentFirst)), fs.constants.O_WRONLY | fs.constants.O_DSYNC);
    }
    const descriptor = this.fd;
    const position = this.size;
    this.size += bytes;
    const write = (async () => {
      const fd = await descriptor;
      let written = await writev(fd, buffers, position);
      while (written < bytes) {
        // A short write (rare on a regular file): write what is left.
        const rest = Buffer.concat(buffers).subarray(written);
        written += await writev(fd, [rest], position + written);
      }
      if (created) await syncFolder(this.dir);
    })();
    this.writes.add(write);
    const done = (): void => void this.writes.delete(write);
    write.then(done, done);
    return write;
  }

  /** Starts a segment whose first event is `first`, once the writes to the current one (`earlier`) are done. */
  private rotate(first: number, earlier: Array<Promise<void>>): Promise<number> {
    const old = this.fd;
    const file = path.join(this.dir, nameOf(first));
    if (this.segments[this.segments.length - 1]?.first !== first) this.segments.push({ first, file });
    this.segmentFirst = first;
    this.size = 0;
    const { O_WRONLY, O_CREAT, O_TRUNC, O_DSYNC } = fs.constants;
    return (async () => {
      await Promise.allSettled(earlier);
      const fd = await openFile(file, O_WRONLY | O_CREAT | O_TRUNC | O_DSYNC);
      if (old) old.then((o) => fs.close(o, () => undefined), () => undefined);
      return fd;
    })();
  }

  /** The segment files, oldest first (tests, tools). */
  files(): string[] {
    return this.segments.map((s) => s.file);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.writes]);
    const descriptor = this.fd;
    this.fd = undefined;
    const fd = await descriptor?.catch(() => undefined);
    if (fd !== undefined) await new Promise<void>((resolve) => fs.close(fd, () => resolve()));
  }
}

const nameOf = (first: number): string => `${String(first).padStart(16, '0')}.log`;

function openFile(file: string, flags: string | number): Promise<number> {
  return new Promise((resolve, reject) => fs.open(file, flags, (err, fd) => (err ? reject(err) : resolve(fd))));
}

function writev(fd: number, buffers: Buffer[], position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.writev(fd, buffers, position, (err, n) => (err ? reject(err) : resolve(n))));
}

/** Makes a new file's name durable (fsync of its folder). */
async function syncFolder(dir: string): Promise<void> {
  const fd = await openFile(dir, 'r');
  try {
    await new Promise<void>((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
  } finally {
    fs.close(fd, () => undefined);
  }
}
