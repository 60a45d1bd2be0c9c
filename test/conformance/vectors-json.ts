import type { DraftCase, DraftFile } from './vectors-rules.js';

/**
 * JSON edge cases (issue 28 item 6): every client must read a stored document
 * the same way, or one signature vouches for two readings. `text` is the
 * document (or `base64`, its bytes); the answer is its canonical JSON, or a refusal.
 */
export function jsonVectors(): DraftFile {
  const cases: DraftCase[] = [];
  const accept = (name: string, text: string, canonical: string) => cases.push({ name, check: 'json', text, want: { ok: true, canonical } });
  const refuse = (name: string, text: string) => cases.push({ name, check: 'json', text, want: { ok: false } });
  const refuseBytes = (name: string, bytes: number[]) => cases.push({ name, check: 'json', base64: Buffer.from(bytes).toString('base64'), want: { ok: false } });

  refuse('a member name twice in one object (last-wins and first-wins parsers would read different values)', '{"version":3,"version":1}');
  refuse('a member name twice in a nested object', '{"packages":{"maps":{"releases":[{"version":"1.0.0","state":"active","state":"halted"}]}}}');
  refuse('the same name written once plain and once escaped', '{"channel":"production","\\u0063hannel":"staging"}');
  accept('the same name in two different objects', '{"a":{"x":1},"b":{"x":2}}', '{"a":{"x":1},"b":{"x":2}}');
  refuse('\\u with a sign (Integer.parseInt reads "+06f")', '{"s":"\\u+06f"}');
  refuse('\\u with three hex digits', '{"s":"\\u06f"}');
  refuse('an escape JSON does not have (\\x41)', '{"s":"\\x41"}');
  refuse("an escaped single quote (\\')", `{"s":"\\'"}`);
  accept('\\u with upper- and lowercase hex digits', '{"s":"\\u006F\\u006f"}', '{"s":"oo"}');
  refuse('a lone high surrogate', '{"s":"\\ud800"}');
  refuse('a lone low surrogate', '{"s":"\\udc00x"}');
  refuse('surrogates in the wrong order', '{"s":"\\udc00\\ud800"}');
  refuse('a lone surrogate in a member name', '{"\\ud800":1}');
  accept('a surrogate pair', '{"s":"\\ud83d\\ude00"}', '{"s":"😀"}');
  refuse('a raw control character in a string', '{"s":"a\tb"}');
  accept('DEL (U+007F) and U+2028 raw in a string', '{"s":"a\u007fb\u2028"}', '{"s":"a\u007fb\u2028"}');
  refuse('a number beyond a double (1e400 would be Infinity or null)', '{"n":1e400}');
  refuse('a negative number beyond a double', '{"n":-1e400}');
  accept('a number below the smallest double is 0', '{"n":1e-400}', '{"n":0}');
  accept('a 30-digit integer is the nearest double', '{"n":123456789012345678901234567890}', '{"n":1.2345678901234568e+29}');
  accept('the largest double', '{"n":1.7976931348623157e308}', '{"n":1.7976931348623157e+308}');
  refuse('a leading zero', '{"n":01}');
  refuse('a leading plus', '{"n":+1}');
  refuse('a trailing decimal point', '{"n":1.}');
  refuse('a leading decimal point', '{"n":.5}');
  refuse('an exponent without digits', '{"n":1e}');
  refuse('NaN', '{"n":NaN}');
  refuse('Infinity', '{"n":Infinity}');
  refuse('hexadecimal', '{"n":0x10}');
  accept('-0, 1E2, 0.5e-1', '{"a":-0,"b":1E2,"c":0.5e-1}', '{"a":0,"b":100,"c":0.05}');
  const nested = (levels: number) => `${'['.repeat(levels - 1)}{}${']'.repeat(levels - 1)}`;
  accept('256 levels of arrays and objects', `{"d":${nested(255)}}`, `{"d":${nested(255)}}`);
  refuse('257 levels of arrays and objects', `{"d":${nested(256)}}`);
  refuse('a trailing comma in an object', '{"a":1,}');
  refuse('a trailing comma in an array', '{"a":[1,]}');
  refuse('text after the value', '{"a":1} {}');
  refuse('a comment', '{"a":1 /* no */}');
  refuse('no-break space is not JSON whitespace', '{"a":\u00a01}');
  accept('the four JSON whitespace characters', ' \t\r\n{ "a" :\t1 }\n', '{"a":1}');
  refuse('single-quoted strings', "{'a':1}");
  refuse('an unterminated string', '{"a":"b}');
  refuseBytes('a UTF-8 byte order mark before the document', [0xef, 0xbb, 0xbf, 0x7b, 0x7d]);
  refuseBytes('bytes that are not UTF-8 (0xff)', [0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
  refuseBytes('an overlong UTF-8 encoding of "/" (0xc0 0xaf)', [0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d]);
  refuseBytes('a surrogate encoded in UTF-8 (0xed 0xa0 0x80, CESU-8)', [0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]);
  return {
    name: 'json.json',
    description:
      'How every document in the store is read (PROTOCOL.md §19.2): UTF-8 without a byte order mark, RFC 8259 JSON, no member name twice in one object, no lone surrogate, no number beyond a double, at most 256 nested arrays and objects. `text` is the document (or `base64`, its bytes); `{ ok: true, canonical }` gives the value read (as RFC 8785 canonical JSON), `{ ok: false }` means the document must be refused.',
    cases,
  };
}
