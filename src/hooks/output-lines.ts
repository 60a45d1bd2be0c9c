/**
 * What is kept of a command hook's output: its first lines as they come, then
 * only the last ones (printed when it ends, after a count of those left out),
 * each line cut at a length. Memory and the terminal stay bounded whatever
 * the command prints: three million lines, or one line of a gigabyte.
 */
export const HEAD_LINES = 100;
export const TAIL_LINES = 100;
export const MAX_LINE_BYTES = 4096;

export interface OutputLines {
  /** Bytes from one of the command's streams (each stream keeps its own partial line). */
  write(stream: 'stdout' | 'stderr', chunk: Buffer): void;
  /** The command ended: the partial lines, then what was left out and the tail. */
  end(): void;
}

export function outputLines(print: (line: string) => void): OutputLines {
  let shown = 0;
  let leftOut = 0;
  const tail: string[] = [];
  const partial = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  const partialBytes = { stdout: 0, stderr: 0 };
  const cutBytes = { stdout: 0, stderr: 0 };

  const line = (text: string) => {
    if (shown < HEAD_LINES) {
      shown++;
      print(text);
      return;
    }
    tail.push(text);
    if (tail.length > TAIL_LINES) {
      tail.shift();
      leftOut++;
    }
  };
  const finish = (stream: 'stdout' | 'stderr') => {
    const text = Buffer.concat(partial[stream]).toString('utf8');
    line(cutBytes[stream] ? `${text}… (${cutBytes[stream]} more bytes cut)` : text);
    partial[stream] = [];
    partialBytes[stream] = 0;
    cutBytes[stream] = 0;
  };
  const keep = (stream: 'stdout' | 'stderr', bytes: Buffer) => {
    const room = MAX_LINE_BYTES - partialBytes[stream];
    if (room > 0) {
      const kept = bytes.subarray(0, room);
      partial[stream].push(Buffer.from(kept));
      partialBytes[stream] += kept.length;
    }
    cutBytes[stream] += Math.max(0, bytes.length - Math.max(0, room));
  };

  return {
    write(stream, chunk) {
      let start = 0;
      for (let newline = chunk.indexOf(0x0a); newline !== -1; newline = chunk.indexOf(0x0a, start)) {
        keep(stream, chunk.subarray(start, newline > start && chunk[newline - 1] === 0x0d ? newline - 1 : newline));
        finish(stream);
        start = newline + 1;
      }
      if (start < chunk.length) keep(stream, chunk.subarray(start));
    },
    end() {
      for (const stream of ['stdout', 'stderr'] as const) if (partialBytes[stream] || cutBytes[stream]) finish(stream);
      if (leftOut) print(`… ${leftOut} lines not shown …`);
      for (const text of tail.splice(0)) print(text);
    },
  };
}
