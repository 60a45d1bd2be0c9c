/**
 * The one JSON reader of every document in the store (PROTOCOL.md §19.2), for
 * publishers and devices alike, so that every client reads a signed document
 * the same way: strict UTF-8 without a BOM, RFC 8259 syntax, no member name
 * twice in an object (one parser keeping the first and another the last would
 * read other values under the same signature), no lone surrogate, no number
 * beyond a double, at most MAX_JSON_DEPTH nested arrays and objects.
 */

export const MAX_JSON_DEPTH = 256;

/** Why a text is not a document every client reads alike; `reason` says where and what. */
export class DocumentJsonError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'DocumentJsonError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
// String.prototype.isWellFormed is ES2024; this is its negation, code unit by code unit.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const STRING_BODY = /(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** Parses a stored document; throws DocumentJsonError naming the first problem. */
export function parseDocumentJson(body: Uint8Array | string): unknown {
  let text: string;
  if (typeof body === 'string') {
    if (LONE_SURROGATE.test(body)) throw new DocumentJsonError('it holds a lone surrogate');
    text = body;
  } else {
    try {
      text = utf8.decode(body);
    } catch {
      throw new DocumentJsonError('it is not valid UTF-8');
    }
  }
  new Scanner(text).document();
  // The scan proved the text strict JSON: the native parser builds the value.
  return JSON.parse(text);
}

class Scanner {
  private at = 0;

  constructor(private readonly text: string) {}

  document(): void {
    this.space();
    this.value(0);
    this.space();
    if (this.at !== this.text.length) this.fail('unexpected text after the value');
  }

  private fail(why: string): never {
    throw new DocumentJsonError(`${why} at offset ${this.at}`);
  }

  private space(): void {
    const { text } = this;
    while (this.at < text.length) {
      const c = text.charCodeAt(this.at);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.at += 1;
    }
  }

  private value(depth: number): void {
    const c = this.text[this.at];
    if (c === '{' || c === '[') {
      if (depth >= MAX_JSON_DEPTH) this.fail(`nested deeper than ${MAX_JSON_DEPTH} levels`);
      if (c === '{') this.object(depth + 1);
      else this.array(depth + 1);
    } else if (c === '"') {
      this.string();
    } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      this.number();
    } else {
      for (const word of ['true', 'false', 'null']) {
        if (this.text.startsWith(word, this.at)) {
          this.at += word.length;
          return;
        }
      }
      this.fail(c === undefined ? 'unexpected end' : 'unexpected character');
    }
  }

  private object(depth: number): void {
    this.at += 1;
    const names = new Set<string>();
    this.space();
    if (this.text[this.at] === '}') {
      this.at += 1;
      return;
    }
    for (;;) {
      this.space();
      if (this.text[this.at] !== '"') this.fail('expected a member name');
      const start = this.at;
      const name = this.string();
      if (names.has(name)) {
        this.at = start;
        this.fail(`member name ${JSON.stringify(name)} appears twice in one object`);
      }
      names.add(name);
      this.space();
      if (this.text[this.at] !== ':') this.fail("expected ':'");
      this.at += 1;
      this.space();
      this.value(depth);
      this.space();
      const next = this.text[this.at];
      this.at += 1;
      if (next === ',') continue;
      if (next === '}') return;
      this.at -= 1;
      this.fail("expected ',' or '}'");
    }
  }

  private array(depth: number): void {
    this.at += 1;
    this.space();
    if (this.text[this.at] === ']') {
      this.at += 1;
      return;
    }
    for (;;) {
      this.space();
      this.value(depth);
      this.space();
      const next = this.text[this.at];
      this.at += 1;
      if (next === ',') continue;
      if (next === ']') return;
      this.at -= 1;
      this.fail("expected ',' or ']'");
    }
  }

  /** The string's value; only strings with escapes are decoded (the rest is the text itself). */
  private string(): string {
    const start = this.at;
    STRING_BODY.lastIndex = start + 1;
    if (!STRING_BODY.test(this.text)) this.fail('malformed string (a control character, a bad escape or no closing quote)');
    this.at = STRING_BODY.lastIndex;
    const raw = this.text.slice(start, this.at);
    if (!raw.includes('\\')) return raw.slice(1, -1);
    const value = JSON.parse(raw) as string;
    if (LONE_SURROGATE.test(value)) {
      this.at = start;
      this.fail('a string holds a lone surrogate');
    }
    return value;
  }

  private number(): void {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    if (!match) this.fail('malformed number');
    if (!Number.isFinite(Number(match[0]))) this.fail(`number ${match[0].length > 24 ? `${match[0].slice(0, 24)}…` : match[0]} is beyond the range of a double`);
    this.at += match[0].length;
    // "01", "1.", "1e" are not JSON numbers: the digit or letter after the match is unexpected.
    const after = this.text[this.at];
    if (after !== undefined && /[0-9.eE+-]/.test(after)) this.fail('malformed number');
  }
}
