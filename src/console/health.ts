/**
 * Device outcomes per release, as `update-publish health --json` reports them
 * (the fields the console shows). The CLI hands the console a reader when a
 * receipts source is configured; without one, pages say how to add it.
 */
export interface ReleaseHealth {
  package: string;
  channel: string;
  version: string;
  installs: number;
  launches: number;
  failureRate: number | null;
  failureRateLower: number | null;
  failureRateUpper: number | null;
  newestAt: string | null;
  hourly: Array<{ hour: string; launches: number; failures: number }>;
}

export type HealthReader = () => Promise<ReleaseHealth[]>;

export const healthKey = (channel: string, id: string, version: string) => `${channel}\u0000${id}\u0000${version}`;

export const percent = (rate: number | null | undefined) => (rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(rate < 0.1 ? 2 : 1)}%`);
