/**
 * Length-framed, checksummed records, the unit of the journal and snapshot files:
 * [payload length: u32 LE][CRC-32 of payload: u32 LE][payload: UTF-8 JSON object].
 * A reader stops at the first frame that is incomplete or fails its checksum; `findIntactFrame` then tells a
 * torn tail (nothing intact after it) from damage in the middle of a file.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';

export const FRAME_HEADER_BYTES = 8;
/** Larger lengths can only come from corruption. */
const MAX_FRAME_BYTES = 1 << 30;
const READ_CHUNK_BYTES = 16 << 20;

export function encodeFrame(payload: string): Buffer {
  return encodeFrameParts([Buffer.from(payload, 'utf8')]);
}

/** One frame whose payload is the concatenation of `parts`. */
export function encodeFrameParts(parts: Buffer[]): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  let length = 0;
  let checksum = 0;
  for (const part of parts) {
    length += part.length;
    checksum = crc32(part, checksum);
  }
  header.writeUInt32LE(length, 0);
  header.writeUInt32LE(checksum, 4);
  return Buffer.concat([header, ...parts], FRAME_HEADER_BYTES + length);
}

export interface FrameScan {
  /** Bytes from the start of the file up to the end of the last intact frame. */
  validBytes: number;
  totalBytes: number;
}

/** Calls `onFrame` with each intact frame's payload (valid only during the call), in file order. */
export function scanFrames(path: string, onFrame: (payload: Buffer, index: number) => void): FrameScan {
  const fd = openSync(path, 'r');
  try {
    const totalBytes = fstatSync(fd).size;
    let buffer = Buffer.alloc(0);
    let bufferStart = 0;
    const ensure = (position: number, length: number): boolean => {
      if (position + length > totalBytes) return false;
      if (position >= bufferStart && position + length <= bufferStart + buffer.length) return true;
      const size = Math.min(Math.max(length, READ_CHUNK_BYTES), totalBytes - position);
      buffer = Buffer.allocUnsafe(size);
      let filled = 0;
      while (filled < size) {
        const n = readSync(fd, buffer, filled, size - filled, position + filled);
        if (n === 0) break;
        filled += n;
      }
      buffer = buffer.subarray(0, filled);
      bufferStart = position;
      return filled >= length;
    };
    let position = 0;
    let index = 0;
    while (ensure(position, FRAME_HEADER_BYTES)) {
      const at = position - bufferStart;
      const length = buffer.readUInt32LE(at);
      const checksum = buffer.readUInt32LE(at + 4);
      if (length === 0 || length > MAX_FRAME_BYTES || !ensure(position, FRAME_HEADER_BYTES + length)) break;
      const start = position - bufferStart + FRAME_HEADER_BYTES;
      const payload = buffer.subarray(start, start + length);
      if (crc32(payload) !== checksum) break;
      onFrame(payload, index++);
      position += FRAME_HEADER_BYTES + length;
    }
    return { validBytes: position, totalBytes };
  } finally {
    closeSync(fd);
  }
}

/** Every payload starts a JSON object with a key, so an intact frame's payload starts with these bytes. */
const PAYLOAD_START = Buffer.from('{"');

/**
 * The offset of the first intact frame that starts after `from`, or null: how a damaged frame followed by
 * intact ones (corruption) is told from a torn last frame. Candidates are the offsets 8 bytes before each
 * `{"`; a payload's own text makes an implausible length there (ASCII bytes read as u32 exceed 500 MB), so
 * almost every candidate is rejected without computing a checksum.
 */
export function findIntactFrame(path: string, from: number): number | null {
  const fd = openSync(path, 'r');
  try {
    const totalBytes = fstatSync(fd).size;
    const read = (position: number, length: number): Buffer => {
      const buffer = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const n = readSync(fd, buffer, filled, length - filled, position + filled);
        if (n === 0) break;
        filled += n;
      }
      return buffer.subarray(0, filled);
    };
    // Chunks overlap by a frame header and the start marker, so no candidate falls between two chunks.
    for (let chunkStart = from + 1; chunkStart + FRAME_HEADER_BYTES < totalBytes; chunkStart += READ_CHUNK_BYTES) {
      const chunk = read(chunkStart, Math.min(READ_CHUNK_BYTES + FRAME_HEADER_BYTES + PAYLOAD_START.length, totalBytes - chunkStart));
      for (let at = chunk.indexOf(PAYLOAD_START, FRAME_HEADER_BYTES); at !== -1 && at - FRAME_HEADER_BYTES < READ_CHUNK_BYTES; at = chunk.indexOf(PAYLOAD_START, at + 1)) {
        const position = chunkStart + at - FRAME_HEADER_BYTES;
        const length = chunk.readUInt32LE(at - FRAME_HEADER_BYTES);
        if (length === 0 || length > MAX_FRAME_BYTES || position + FRAME_HEADER_BYTES + length > totalBytes) continue;
        const payload = at + length <= chunk.length ? chunk.subarray(at, at + length) : read(position + FRAME_HEADER_BYTES, length);
        if (crc32(payload) === chunk.readUInt32LE(at - FRAME_HEADER_BYTES + 4)) return position;
      }
    }
    return null;
  } finally {
    closeSync(fd);
  }
}
