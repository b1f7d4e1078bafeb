// Every file ewsplay reads as input (playbooks, task files, vars files, inventories, -e @file, state) comes
// through here: only regular files, at most MAX_INPUT_FILE_BYTES, checked before a byte is read, so
// `-e @/dev/zero`, a FIFO or a 50 MB file is refused at once instead of filling memory or blocking forever.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats, statSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { MAX_INPUT_FILE_BYTES, sizeText } from './bounds.js';
import { UsageError } from './problems.js';

/** A file that cannot be read as input; `reason` completes "cannot read FILE: ". */
export class InputFileError extends UsageError {
  override name = 'InputFileError';
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly code: 'missing' | 'refused' | 'unreadable',
  ) {
    super(
      `cannot read ${file}: ${reason}`,
      code === 'refused' ? 'give the path of a regular file (YAML, JSON, INI or text)' : undefined,
    );
  }
}

const UTF8_BOM = '\uFEFF';

/** The text of an input file, a UTF-8 byte order mark removed (editors on Windows write one). */
export async function readInputText(file: string): Promise<string> {
  return withoutBom((await readInputBytes(file)).toString('utf8'));
}

export function readInputTextSync(file: string): string {
  return withoutBom(readInputBytesSync(file).toString('utf8'));
}

export function withoutBom(text: string): string {
  return text.startsWith(UTF8_BOM) ? text.slice(1) : text;
}

/** The bytes of an input file; `maxBytes` other than the input limit is for files that are not input (copy). */
export async function readInputBytes(file: string, maxBytes = MAX_INPUT_FILE_BYTES): Promise<Buffer> {
  checkStats(file, await stat(file).catch((e: unknown) => failed(file, e)), maxBytes);
  // O_NONBLOCK: a FIFO swapped in after the check must not block the open; fstat checks what was opened.
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch((e: unknown) =>
    failed(file, e),
  );
  try {
    const info = await handle.stat();
    checkStats(file, info, maxBytes);
    // Read to the end, not to the size stat gave: /proc files say 0 and a file may grow meanwhile.
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.max(64 * 1024, Math.min(info.size + 1, maxBytes + 1) - length));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      if (length > maxBytes) break;
    }
    const buffer = Buffer.concat(chunks, length);
    return checkLength(file, buffer, length, maxBytes);
  } catch (e) {
    if (e instanceof InputFileError) throw e;
    return failed(file, e);
  } finally {
    await handle.close();
  }
}

export function readInputBytesSync(file: string): Buffer {
  let fd: number;
  try {
    checkStats(file, statSync(file));
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    if (e instanceof InputFileError) throw e;
    return failed(file, e);
  }
  try {
    const info = fstatSync(fd);
    checkStats(file, info);
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(
        Math.max(64 * 1024, Math.min(info.size + 1, MAX_INPUT_FILE_BYTES + 1) - length),
      );
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      length += n;
      if (length > MAX_INPUT_FILE_BYTES) break;
    }
    const buffer = Buffer.concat(chunks, length);
    return checkLength(file, buffer, length, MAX_INPUT_FILE_BYTES);
  } catch (e) {
    if (e instanceof InputFileError) throw e;
    return failed(file, e);
  } finally {
    closeSync(fd);
  }
}

/** Why a path cannot be input (a directory, a device, too big), or undefined when it can be read. */
export async function inputFileProblem(file: string): Promise<InputFileError | undefined> {
  try {
    checkStats(file, await stat(file).catch((e: unknown) => failed(file, e)));
    return undefined;
  } catch (e) {
    if (e instanceof InputFileError) return e;
    throw e;
  }
}

function checkStats(file: string, info: Stats, maxBytes = MAX_INPUT_FILE_BYTES): void {
  if (info.isDirectory()) throw new InputFileError(file, 'it is a directory, not a file', 'refused');
  if (!info.isFile())
    throw new InputFileError(
      file,
      'it is not a regular file (a device, FIFO or socket is never read as input)',
      'refused',
    );
  if (info.size > maxBytes) throw tooBig(file, info.size);
}

function checkLength(file: string, buffer: Buffer, length: number, maxBytes: number): Buffer {
  // A file that grew after the check (or lies about its size, as /proc files do) is still bounded.
  if (length > maxBytes) throw tooBig(file, length);
  return buffer;
}

function tooBig(file: string, size: number): InputFileError {
  return new InputFileError(
    file,
    `it is ${size > MAX_INPUT_FILE_BYTES + 1 ? sizeText(size) : 'larger than the limit'}, over the limit of ${sizeText(MAX_INPUT_FILE_BYTES)} for an input file`,
    'refused',
  );
}

function failed(file: string, e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') throw new InputFileError(file, 'no such file', 'missing');
  if (code === 'ENOTDIR') throw new InputFileError(file, 'a part of the path is not a directory', 'missing');
  if (code === 'EACCES' || code === 'EPERM')
    throw new InputFileError(file, 'permission denied', 'unreadable');
  if (code === 'EISDIR') throw new InputFileError(file, 'it is a directory, not a file', 'refused');
  if (code === 'ELOOP') throw new InputFileError(file, 'too many levels of symbolic links', 'unreadable');
  if (code === 'EAGAIN') throw new InputFileError(file, 'it is not a regular file', 'refused');
  throw new InputFileError(file, code ? `${code}` : (e as Error).message, 'unreadable');
}
