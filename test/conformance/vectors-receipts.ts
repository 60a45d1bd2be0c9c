/**
 * Conformance vectors for device receipts (PROTOCOL.md §18): the query a
 * client sends, how a reader decodes it, per-install sampling, and the
 * counting rules every reader applies (dedupe by eid, malformed skipped,
 * installs, launches, the failure rate and its Wilson interval).
 */
import type { DraftCase, DraftFile } from './vectors-rules.js';

const receipt = (e: string, fields: Record<string, string | number> = {}) => ({
  e,
  ch: 'production',
  pkg: 'maps',
  rel: '1.1.0',
  from: '1.0.0',
  pf: 'ios',
  av: '2.1.0',
  iid: 'i-1',
  eid: `e-${e}`,
  t: 1767225600000,
  ...fields,
});

const query = (fields: Record<string, string | number>) =>
  Object.entries(fields)
    .map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`)
    .join('&');

export function receiptVectors(): DraftFile {
  const cases: DraftCase[] = [
    {
      name: 'query: fields in the fixed order, absent ones left out',
      check: 'receipt-query',
      receipt: { eid: 'e1', iid: 'i1', rel: '1.1.0', pkg: 'maps', e: 'applied', k: 'delta', sz: 1234, iv: 7, from: 'none', ch: 'production' },
      want: { query: 'e=applied&ch=production&pkg=maps&rel=1.1.0&from=none&iid=i1&eid=e1&k=delta&sz=1234&iv=7' },
    },
    {
      name: 'query: values percent-encoded as encodeURIComponent (semver build metadata, spaces)',
      check: 'receipt-query',
      receipt: { e: 'launch_failed', pkg: 'maps', rel: '1.1.0+build.5', iid: 'i1', eid: 'e2', av: '2.0 beta', rc: 'crash' },
      want: { query: 'e=launch_failed&pkg=maps&rel=1.1.0%2Bbuild.5&av=2.0%20beta&iid=i1&eid=e2&rc=crash' },
    },
    { name: 'decode: a whole receipt', check: 'receipt-decode', query: query(receipt('applied', { k: 'full', sz: 99, iv: 3 })), want: { ok: true } },
    { name: 'decode: unknown fields are ignored', check: 'receipt-decode', query: `${query(receipt('check'))}&zz=1`, want: { ok: true } },
    { name: 'decode: + is a space', check: 'receipt-decode', query: 'e=check&pkg=maps&rel=1.0.0&iid=a+b&eid=x', want: { ok: true, receipt: { iid: 'a b' } } },
    { name: 'decode: the first of a repeated field wins', check: 'receipt-decode', query: 'e=check&pkg=maps&pkg=levels&rel=1.0.0&iid=i&eid=x', want: { ok: true, receipt: { pkg: 'maps' } } },
    { name: 'malformed: unknown event', check: 'receipt-decode', query: 'e=exploded&pkg=maps&rel=1.0.0&iid=i&eid=x', want: { ok: false } },
    { name: 'malformed: no event', check: 'receipt-decode', query: 'pkg=maps&rel=1.0.0&iid=i&eid=x', want: { ok: false } },
    ...(['pkg', 'rel', 'iid', 'eid'] as const).map((field) => ({
      name: `malformed: no ${field}`,
      check: 'receipt-decode',
      query: query(Object.fromEntries(Object.entries(receipt('check')).filter(([name]) => name !== field))),
      want: { ok: false },
    })),
    { name: 'malformed: empty eid', check: 'receipt-decode', query: 'e=check&pkg=maps&rel=1.0.0&iid=i&eid=', want: { ok: false } },
    { name: 'malformed: unknown kind', check: 'receipt-decode', query: 'e=applied&pkg=maps&rel=1.0.0&iid=i&eid=x&k=zip', want: { ok: false } },
    { name: 'malformed: a number field that is not a whole number', check: 'receipt-decode', query: 'e=applied&pkg=maps&rel=1.0.0&iid=i&eid=x&sz=-5', want: { ok: false } },
    { name: 'malformed: bad percent-encoding', check: 'receipt-decode', query: 'e=applied&pkg=maps&rel=1.0.0&iid=%E0%A4%A&eid=x', want: { ok: false } },
    ...[
      ['inst-1', 1, true],
      ['inst-1', 0, false],
      ['inst-1', 0.5, undefined],
      ['inst-2', 0.5, undefined],
      ['inst-3', 0.5, undefined],
      ['inst-4', 0.01, undefined],
      ['a1b2c3d4e5f60718', 0.25, undefined],
    ].map(([iid, sampleRate, sampled]) => ({
      name: `sampling: install ${iid} at ${sampleRate}`,
      check: 'receipt-sampled',
      iid,
      sampleRate,
      ...(sampled !== undefined && { want: { sampled } }),
    })),
    ...[
      [0, 0],
      [0, 10],
      [3, 1000],
      [6, 100],
      [60, 1000],
      [5, 5],
      [1, 2],
    ].map(([failures, trials]) => ({ name: `wilson: ${failures} of ${trials}`, check: 'wilson', failures, trials })),
    {
      name: 'count: duplicates by eid, malformed skipped, installs by iid, launches and failures',
      check: 'receipt-count',
      lines: [
        { at: 1767225600000, query: query(receipt('check', { eid: 'a1' })) },
        { at: 1767225600000, query: query(receipt('download_ok', { eid: 'a2', k: 'delta', sz: 100 })) },
        { at: 1767225601000, query: query(receipt('applied', { eid: 'a3' })) },
        { at: 1767225602000, query: query(receipt('launch_ok', { eid: 'a4' })) },
        { at: 1767229300000, query: query(receipt('launch_ok', { eid: 'a4' })) },
        { at: 1767229300000, query: query(receipt('launch_ok', { eid: 'b4', iid: 'i-2', from: 'none' })) },
        { at: 1767229300000, query: query(receipt('launch_failed', { eid: 'c4', iid: 'i-3', rc: 'crash' })) },
        { at: 1767232900000, query: query(receipt('rolled_back', { eid: 'c5', iid: 'i-3' })) },
        { at: 1767232900000, query: 'e=launch_ok&pkg=maps&rel=1.1.0' },
        { at: 1767232900000, query: query(receipt('download_failed', { eid: 'd1', iid: 'i-4', rel: '1.2.0', from: '1.1.0', rc: 'network' })) },
        { query: query(receipt('verify_failed', { eid: 'd2', iid: 'i-4', rel: '1.2.0', ch: 'staging', t: 1767232960000 })) },
      ],
      want: { skipped: { malformed: 1, duplicates: 1 } },
    },
  ];
  return {
    name: 'receipts.json',
    description:
      'Device receipts (PROTOCOL.md §18). receipt-query: the query string of a receipt (fields in the order e, ch, pkg, rel, from, pf, av, iid, eid, t, k, sz, rc, iv; absent ones left out; values encoded as encodeURIComponent). receipt-decode: a query string → { ok: true, receipt } or { ok: false } (unknown event or kind, missing pkg/rel/iid/eid, a number field not a whole number, bad encoding; unknown fields ignored, + is a space, the first of a repeated field wins). receipt-sampled: an install sends receipts when hash32("receipts:" + iid) mod 10000 < round(sampleRate × 10000). wilson: the 95 % Wilson interval (z = 1.959963984540054) of failures in trials, rounded to six decimals. receipt-count: lines ({ at: receive time in ms, or absent to use t; query }) → the health report.',
    cases,
  };
}
