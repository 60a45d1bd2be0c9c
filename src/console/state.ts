import pLimit from 'p-limit';
import { readHistory, type HistoryEntry } from '../channel/history.js';
import { listChannelFolders, readIndex } from '../channel/index-store.js';
import { listWhitelists } from '../channel/whitelists.js';
import { currentRelease } from '../protocol/channel-index.js';
import type { ChannelIndex, Release } from '../protocol/types.js';
import { describeRules } from '../release/rules.js';
import type { Store } from '../store/store.js';
import { sha256Hex } from '../hash.js';
import { channelsPrefix } from '../protocol/layout.js';
import { whitelistsPrefix } from '../protocol/whitelist.js';
import { appReleaseHistory, listAppReleases } from '../workflows/app-releases.js';
import { listSwitches, switchHistory } from '../workflows/switches.js';

/**
 * What the console shows, read from the store as `status` and `history` read
 * it. A channel's view is cached by its index's etag: a page polling every
 * few seconds costs one small read per channel while nothing changes.
 */

/** How a release is served now, in the words the pages use. */
export type ServingLabel = 'live' | 'rolling out' | 'halted' | 'scheduled' | 'ended' | 'rolled back';

export function servingLabel(release: Release, now: Date): ServingLabel {
  if (release.state === 'halted') return 'halted';
  if (release.state === 'rolled-back') return 'rolled back';
  if (release.rules.startsAt && new Date(release.rules.startsAt) > now) return 'scheduled';
  if (release.rules.endsAt && new Date(release.rules.endsAt) <= now) return 'ended';
  return release.rules.rollout < 100 ? 'rolling out' : 'live';
}

export interface ChangeSummary {
  at: string;
  actor: string;
  action: string;
  version: string;
  message: string | null;
}

export interface PackageView {
  id: string;
  /** The release rollout, halt and resume act on (the newest not rolled back); null when every release is rolled back. */
  served: { version: string; state: ServingLabel; rollout: number; mandatory: boolean; rules: string; releasedAt: string; message: string | null } | null;
  releases: number;
  lastChange: ChangeSummary | null;
}

export interface ChannelView {
  channel: string;
  /** The index version: what a write from the page must still find (else 409). */
  version: number;
  updatedAt: string | null;
  expires: string | null;
  packages: PackageView[];
}

const messageOf = (entry: HistoryEntry): string | null => {
  const details = entry.details as { message?: unknown; current?: { message?: unknown } };
  const message = details.message ?? details.current?.message;
  return typeof message === 'string' ? message : null;
};

const summary = (entry: HistoryEntry | undefined): ChangeSummary | null =>
  entry ? { at: entry.at, actor: entry.actor, action: entry.action, version: entry.version, message: messageOf(entry) } : null;

/** Pure: a channel's view from its index and each package's history (newest first). */
export function channelView(index: ChannelIndex, histories: Map<string, HistoryEntry[]>, now: Date): ChannelView {
  const packages = Object.keys(index.packages)
    .sort()
    .map((id): PackageView => {
      const { releases } = index.packages[id];
      const served = currentRelease(releases);
      return {
        id,
        served: served
          ? {
              version: served.version,
              state: servingLabel(served, now),
              rollout: served.rules.rollout,
              mandatory: served.rules.mandatory,
              rules: describeRules(served.rules),
              releasedAt: served.releasedAt,
              message: served.message ?? null,
            }
          : null,
        releases: releases.length,
        lastChange: summary(histories.get(id)?.[0]),
      };
    });
  return { channel: index.channel, version: index.version ?? 0, updatedAt: index.version ? index.updatedAt : null, expires: index.expires ?? null, packages };
}

interface CachedChannel {
  etag: string | null;
  index: ChannelIndex;
  histories: Map<string, HistoryEntry[]>;
}

/** Reads per request are bounded: a channel of 200 packages reads 200 histories at most this many at once. */
const READS_AT_ONCE = 16;

export class ConsoleState {
  /** Channels read since the store's revision last changed. */
  private readonly channels = new Map<string, CachedChannel>();
  private revisionSeen = '';

  constructor(private readonly store: Store) {}

  /** The revision `fresh` saw last. */
  get revisionNow(): string {
    return this.revisionSeen;
  }

  /** The store's revision now; when it moved, what was read before is dropped. */
  async fresh(): Promise<string> {
    const revision = await this.revision();
    if (revision !== this.revisionSeen) {
      this.channels.clear();
      this.revisionSeen = revision;
    }
    return revision;
  }

  /** Every channel holding any document, sorted. */
  async channelNames(): Promise<string[]> {
    return listChannelFolders(this.store);
  }

  /**
   * A channel's index and package histories. Read again only when the
   * store's revision moved (call `fresh` once per request first): polling
   * pages and repeated API calls cost one listing, not the documents.
   */
  async channel(name: string): Promise<CachedChannel> {
    const cached = this.channels.get(name);
    if (cached) return cached;
    const { index, etag } = await readIndex(this.store, name);
    const limit = pLimit(READS_AT_ONCE);
    const histories = new Map<string, HistoryEntry[]>();
    await Promise.all(
      Object.entries(index.packages).map(([id, { releases }]) =>
        limit(async () => histories.set(id, await readHistory(this.store, name, id, releases))),
      ),
    );
    const read = { etag, index, histories };
    this.channels.set(name, read);
    return read;
  }

  async overview(now = new Date()): Promise<ChannelView[]> {
    const names = await this.channelNames();
    return Promise.all(
      names.map(async (name) => {
        const { index, histories } = await this.channel(name);
        return channelView(index, histories, now);
      }),
    );
  }

  /**
   * A tag that changes whenever any channel document does (index, switches,
   * app releases, histories) or a whitelist is uploaded: what the page polls.
   * One listing per prefix, so polling never reads the documents themselves.
   */
  async revision(): Promise<string> {
    const listings = await Promise.all([channelsPrefix, whitelistsPrefix].map((prefix) => this.store.list(prefix)));
    const lines = listings.flat().map((object) => `${object.key} ${object.size} ${object.lastModified?.getTime() ?? ''}`);
    return sha256Hex(lines.sort().join('\n')).slice(0, 32);
  }

  async release(channel: string, id: string, version: string) {
    const { index, histories } = await this.channel(channel);
    const releases = index.packages[id]?.releases ?? [];
    const release = releases.find((candidate) => candidate.version === version);
    if (!release) return null;
    const history = (histories.get(id) ?? []).filter((entry) => entry.version === version || (entry.action === 'rollback' && entry.from === version));
    return { channel, package: id, indexVersion: index.version ?? 0, release, served: currentRelease(releases)?.version === version, history, otherVersions: releases.map((other) => other.version) };
  }

  async history(channel: string): Promise<Array<HistoryEntry & { package: string }>> {
    const { histories } = await this.channel(channel);
    return [...histories.entries()]
      .flatMap(([id, entries]) => entries.map((entry) => ({ ...entry, package: id })))
      .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  }

  async switches(channel: string) {
    const [listing, history] = await Promise.all([listSwitches({ store: this.store }, channel), switchHistory({ store: this.store }, channel)]);
    return { ...listing, history: history.entries };
  }

  async appReleases(channel: string) {
    const [listing, history] = await Promise.all([listAppReleases({ store: this.store }, channel), appReleaseHistory({ store: this.store }, channel)]);
    return { ...listing, history: history.entries };
  }

  /** Every whitelist with the releases and switch variants that name it. */
  async whitelists() {
    const [metas, names] = await Promise.all([listWhitelists(this.store), this.channelNames()]);
    const users = new Map<string, string[]>();
    const note = (list: string | undefined, user: string) => list && users.set(list, [...(users.get(list) ?? []), user]);
    for (const name of names) {
      const [{ index }, switches] = await Promise.all([this.channel(name), listSwitches({ store: this.store }, name)]);
      for (const [id, { releases }] of Object.entries(index.packages)) {
        for (const release of releases) for (const list of release.rules.whitelist ?? []) note(list, `${name}: ${id}@${release.version}`);
      }
      for (const entry of switches.switches) {
        for (const variant of entry.variants) for (const list of variant.rules.whitelist ?? []) note(list, `${name}: switch ${entry.key} variant ${variant.variant}`);
      }
    }
    return metas.map((meta) => ({ ...meta, usedBy: users.get(meta.name) ?? [] }));
  }
}
