/**
 * Receipts, the pure parts (src/protocol/receipts.ts, receipt-counts.ts):
 * the conformance vectors pin the rules; these check what vectors cannot
 * show (a set of millions of ids, round trips of any value).
 */
import { describe, expect, it } from 'vitest';
import { HashedIdSet, ReceiptTally, wilsonInterval } from '../../src/protocol/receipt-counts.js';
import { decodeReceiptQuery, encodeReceiptQuery, installSampled, type Receipt } from '../../src/protocol/receipts.js';

describe('HashedIdSet', () => {
  it('keeps every distinct id and refuses each repeat, across many growths', () => {
    const set = new HashedIdSet();
    for (let i = 0; i < 200_000; i++) expect(set.add(`eid-${i}`)).toBe(true);
    for (let i = 0; i < 200_000; i += 997) expect(set.add(`eid-${i}`)).toBe(false);
    expect(set.size).toBe(200_000);
  });
});

describe('receipt query', () => {
  it('round-trips any value through encode and decode', () => {
    const receipt: Receipt = { e: 'launch_failed', ch: 'beta', pkg: 'maps', rel: '1.0.0-rc.1+b7', from: 'none', pf: 'android', av: '3.0 (12)', iid: 'i&=?#%', eid: 'ë📱', t: 1767225600123, k: 'patched', sz: 0, rc: 'oom', iv: 12 };
    const decoded = decodeReceiptQuery(encodeReceiptQuery(receipt));
    expect(decoded).toEqual({ ok: true, receipt });
  });
});

describe('counting', () => {
  it('a resent receipt counts once; the failure rate has its Wilson interval', () => {
    const tally = new ReceiptTally();
    const base = { pkg: 'maps', rel: '1.0.0', iid: 'i' } as const;
    expect(tally.add({ ...base, e: 'launch_ok', eid: '1' }, 0)).toBe(true);
    expect(tally.add({ ...base, e: 'launch_ok', eid: '1' }, 0)).toBe(false);
    tally.add({ ...base, e: 'launch_failed', eid: '2' }, 0);
    const [release] = tally.report().releases;
    expect(release).toMatchObject({ launches: 2, launchOk: 1, launchFailed: 1, failureRate: 0.5, installs: 1, channel: null });
    expect(tally.report().skipped).toEqual({ malformed: 0, duplicates: 1 });
    // Reference values (Wilson 1927; e.g. R's prop.test without continuity correction).
    expect(wilsonInterval(3, 1000)).toEqual({ lower: 0.001021, upper: 0.008783 });
  });

  it('samples about the share asked, stably per install', () => {
    let sampled = 0;
    for (let i = 0; i < 20_000; i++) if (installSampled(`install-${i}`, 0.1)) sampled++;
    expect(sampled / 20_000).toBeGreaterThan(0.09);
    expect(sampled / 20_000).toBeLessThan(0.11);
    expect(installSampled('install-7', 0.1)).toBe(installSampled('install-7', 0.1));
  });
});
