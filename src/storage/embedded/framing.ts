/**
 * Length-framed, checksummed records, the unit of the journal and snapshot files:
 * [payload length: u32 LE][CRC-32 of payload: u32 LE][payload: UTF-8 JSON].
 * A reader stops at the first frame that is incomplete or fails its checksum (a torn or corrupt tail).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';

export const FRAME_HEADER_BYTES = 8;
/** Larger lengths can only come from corruption. */
const MAX_FRAME_BYTES = 1 << 30;
const READ_CHUNK_BYTES = 16 << 20;

export function encodeFrame(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  frame.writeUInt32LE(body.length, 0);
  frame.writeUInt32LE(crc32(body), 4);
  body.copy(frame, FRAME_HEADER_BYTES);
  return frame;
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
