import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { ChatError } from '@chat/shared';
import busboy from 'busboy';
import { fileTypeFromBuffer } from 'file-type';
import { imageSize } from 'image-size';

export interface UploadLimits {
  maxBytes: number;
  allowedTypes: ReadonlySet<string>;
  tempDir: string;
  /** Width × height above which an image is refused: decoding it (thumbnails, clients) would cost gigabytes. */
  maxPixels: number;
}

export interface ReceivedFile {
  path: string;
  name: string;
  size: number;
  contentType: string;
  width?: number;
  height?: number;
}

const HEAD_BYTES = 64 * 1024;

/**
 * Streams the one `file` part of a multipart body to a temporary file, stopping at the size limit
 * (413 `too_large`), then decides the type from the bytes, never from the name or the declared
 * type, and reads image dimensions. A truncated or malformed body is `invalid`. On any failure the
 * temporary file is removed.
 */
export async function receiveUpload(req: IncomingMessage, limits: UploadLimits): Promise<ReceivedFile> {
  await mkdir(limits.tempDir, { recursive: true });
  const path = join(limits.tempDir, randomUUID());
  try {
    const { name, size, head } = await streamFilePart(req, path, limits.maxBytes);
    const described = await describeBytes(head, size, path);
    if (!limits.allowedTypes.has(described.contentType)) {
      throw ChatError.invalid(`files of type ${described.contentType} are not allowed`, [{ path: 'file', message: 'type not allowed' }]);
    }
    if (described.width !== undefined && described.height !== undefined && described.width * described.height > limits.maxPixels) {
      throw new ChatError(
        'too_large',
        `the image has ${described.width}×${described.height} pixels; at most ${limits.maxPixels} pixels are accepted`,
      );
    }
    return { path, name, size, ...described };
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
}

function streamFilePart(req: IncomingMessage, path: string, maxBytes: number): Promise<{ name: string; size: number; head: Buffer }> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxBytes, fields: 10, parts: 20, fieldSize: 1024 } });
    } catch {
      reject(
        ChatError.invalid('send the file as multipart/form-data in a part named "file"', [{ path: 'file', message: 'not multipart' }]),
      );
      return;
    }
    let settled = false;
    const fail = (error: ChatError) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      req.resume();
      reject(error);
    };
    let written: Promise<void> | undefined;
    let name = 'file';
    let size = 0;
    const headChunks: Buffer[] = [];
    let headLength = 0;

    parser.on('file', (field, stream, info) => {
      if (field !== 'file') {
        stream.resume();
        fail(
          ChatError.invalid(`unexpected file part "${field}"; the part must be named "file"`, [
            { path: field, message: 'unexpected part' },
          ]),
        );
        return;
      }
      name = safeName(info.filename);
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (headLength < HEAD_BYTES) {
          headChunks.push(chunk);
          headLength += chunk.length;
        }
      });
      stream.on('limit', () => fail(new ChatError('too_large', `the file is larger than ${maxBytes} bytes`)));
      written = pipeline(stream, createWriteStream(path));
      written.catch(() => undefined);
    });
    parser.on('filesLimit', () => fail(ChatError.invalid('send one file per upload', [{ path: 'file', message: 'one file only' }])));
    parser.on('error', (error: Error) =>
      fail(ChatError.invalid(`malformed multipart body: ${error.message}`, [{ path: 'file', message: 'malformed or truncated' }])),
    );
    parser.on('close', () => {
      if (settled) return;
      if (!written) {
        fail(ChatError.invalid('no "file" part in the body', [{ path: 'file', message: 'required' }]));
        return;
      }
      written.then(
        () => {
          if (settled) return;
          settled = true;
          resolve({ name, size, head: Buffer.concat(headChunks).subarray(0, HEAD_BYTES) });
        },
        () => fail(ChatError.invalid('the upload was interrupted', [{ path: 'file', message: 'truncated' }])),
      );
    });
    req.on('aborted', () => fail(ChatError.invalid('the upload was interrupted', [{ path: 'file', message: 'truncated' }])));
    req.pipe(parser);
  });
}

/** The type as the bytes tell it; images must also parse as images to count as images. */
async function describeBytes(head: Buffer, size: number, path: string): Promise<{ contentType: string; width?: number; height?: number }> {
  const detected = await fileTypeFromBuffer(head);
  const contentType = detected?.mime ?? (looksLikeText(head) ? 'text/plain' : 'application/octet-stream');
  if (!contentType.startsWith('image/')) return { contentType };
  const dimensions = readDimensions(head) ?? (size > head.length ? readDimensions(await readFile(path)) : undefined);
  if (!dimensions)
    throw ChatError.invalid(`the file starts like ${contentType} but is not a valid image`, [
      { path: 'file', message: 'not a valid image' },
    ]);
  return { contentType, ...dimensions };
}

const MAX_IMAGE_SIDE = 30_000;

/** Dimensions of a plausible image: both sides in range, and for PNG a header whose checksum holds. */
function readDimensions(bytes: Uint8Array): { width: number; height: number } | undefined {
  let size: { width?: number; height?: number; type?: string };
  try {
    size = imageSize(bytes);
  } catch {
    return undefined;
  }
  const { width, height } = size;
  if (!width || !height || width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) return undefined;
  if (size.type === 'png' && !pngHeaderIntact(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))) return undefined;
  return { width, height };
}

/** The IHDR chunk follows the signature: length 13, type, data, CRC-32 over type and data. */
function pngHeaderIntact(bytes: Buffer): boolean {
  if (bytes.length < 33 || bytes.readUInt32BE(8) !== 13 || bytes.toString('latin1', 12, 16) !== 'IHDR') return false;
  return crc32(bytes.subarray(12, 29)) === bytes.readUInt32BE(29);
}

function looksLikeText(head: Buffer): boolean {
  if (head.length === 0 || head.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, Math.max(0, head.length - 4)));
    return true;
  } catch {
    return false;
  }
}

/** The client's file name, reduced to a safe display name (no path, no control characters). */
export function safeName(filename: string | undefined): string {
  const base = (filename ?? '').split(/[\\/]/).pop() ?? '';
  const clean = base
    .replace(/\p{Cc}/gu, '')
    .trim()
    .slice(0, 255);
  return clean || 'file';
}

/** RFC 6266 Content-Disposition with an ASCII fallback and the UTF-8 name. */
export function contentDisposition(type: 'inline' | 'attachment', name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
