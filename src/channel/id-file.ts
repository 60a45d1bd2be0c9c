import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { UserError } from '../errors.js';

/**
 * Files of device or user ids: one a line, or CSV with the id in the first
 * column and an optional header (id, device_id, user_id…). Streamed line by
 * line, so a million ids never sit in memory twice.
 */
export interface IdLine {
  id: string;
  /** 1-based line number, for error messages. */
  line: number;
}

const HEADER = /^(device|user)?[ _-]?ids?$/i;
const QUOTED = /^"((?:[^"]|"")*)"/;
const MAX_ID_LENGTH = 256;
/** Whitespace or control characters inside an id mean the wrong delimiter or a binary file. */
const BAD_CHARACTER = /[\s\u0000-\u001f\u007f]/;

function firstColumn(text: string, path: string, line: number): string {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith('"')) return trimmed.split(',', 1)[0];
  const quoted = QUOTED.exec(trimmed);
  if (!quoted) throw new UserError(`${path} line ${line}: unclosed quote; fix the CSV or give one id per line`);
  return quoted[1].replaceAll('""', '"');
}

/** A file, or a pipe such as `<(sort ids.txt)`; a folder or nothing at the path is refused. */
async function requireFile(path: string): Promise<void> {
  const stats = await stat(path).catch(() => null);
  if (!stats) throw new UserError(`cannot read ${path}: no such file; check the path`);
  if (!stats.isFile() && !stats.isFIFO()) throw new UserError(`cannot read ${path}: it is not a file; give a file of ids`);
}

export async function* readIds(path: string): AsyncGenerator<IdLine> {
  await requireFile(path);
  let line = 0;
  let seenFirst = false;
  for await (const bytes of lines(createReadStream(path), path)) {
    line++;
    // Decoding bad bytes would store U+FFFD instead of the id someone meant: refused where it is.
    if (!isUtf8(bytes)) {
      throw new UserError(`${path} line ${line}: not valid UTF-8 (saved in another encoding?); save the file as UTF-8 and upload it again`);
    }
    const text = bytes.toString('utf8');
    const id = firstColumn(line === 1 ? text.replace(/^\uFEFF/, '') : text, path, line).trim();
    if (!id) continue;
    if (!seenFirst) {
      seenFirst = true;
      if (HEADER.test(id)) continue;
    }
    if (id.length > MAX_ID_LENGTH || BAD_CHARACTER.test(id)) {
      const shown = JSON.stringify(id.slice(0, 40));
      throw new UserError(
        `${path} line ${line}: ${shown} is not an id (whitespace, control characters or over ${MAX_ID_LENGTH} characters); give one id per line or CSV with the id first`,
      );
    }
    yield { id, line };
  }
}

/** A line this long holds no id: the file is not a list of ids (and is not held in memory whole). */
const MAX_LINE_BYTES = 1024 * 1024;

/** The lines of a byte stream (LF or CRLF), as bytes: checked before they are decoded. */
async function* lines(stream: AsyncIterable<Buffer>, path: string): AsyncGenerator<Buffer> {
  let rest = Buffer.alloc(0);
  for await (const chunk of stream) {
    let buffer = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    for (let newline = buffer.indexOf(0x0a); newline !== -1; newline = buffer.indexOf(0x0a)) {
      yield withoutCarriageReturn(buffer.subarray(0, newline));
      buffer = buffer.subarray(newline + 1);
    }
    rest = Buffer.from(buffer);
    if (rest.length > MAX_LINE_BYTES) throw new UserError(`${path} has a line over 1 MiB long, which is no id; give one id per line, or CSV with the id first`);
  }
  if (rest.length) yield withoutCarriageReturn(rest);
}

const withoutCarriageReturn = (line: Buffer) => (line.at(-1) === 0x0d ? line.subarray(0, -1) : line);

/** Every distinct id of the file; an empty file or one past `max` ids is refused. */
export async function readIdSet(path: string, max: number): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const { id } of readIds(path)) {
    ids.add(id);
    if (ids.size > max) throw new UserError(`${path} holds more than ${max.toLocaleString('en')} ids; split it into several lists`);
  }
  if (ids.size === 0) throw new UserError(`${path} holds no ids; give one id per line, or CSV with the id in the first column`);
  return ids;
}
