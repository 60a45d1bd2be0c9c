/**
 * Bytes arriving in stream chunks of any size, taken out in fixed-size
 * records. Each byte is copied once when its record is taken, so small
 * writes do not make re-framing quadratic.
 */
export class ByteQueue {
  private parts: Buffer[] = [];
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.parts.push(bytes);
    this.size += bytes.length;
  }

  /** The first n bytes (n ≤ length), removed from the queue. */
  take(n: number): Buffer {
    if (n > this.size) throw new RangeError(`take(${n}) from a queue of ${this.size} bytes`);
    const taken: Buffer[] = [];
    let missing = n;
    while (missing > 0) {
      const head = this.parts[0];
      if (head.length <= missing) {
        taken.push(head);
        this.parts.shift();
        missing -= head.length;
      } else {
        taken.push(head.subarray(0, missing));
        this.parts[0] = head.subarray(missing);
        missing = 0;
      }
    }
    this.size -= n;
    return taken.length === 1 ? taken[0] : Buffer.concat(taken, n);
  }

  /** Everything left. */
  takeAll(): Buffer {
    return this.take(this.size);
  }
}
