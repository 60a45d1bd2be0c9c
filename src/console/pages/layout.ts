import { documentOf, html, type Child, type Markup } from './markup.js';

/**
 * Every page: rendered on the server (readable before any script runs, fast
 * at 1,000 rows), then enhanced by the bundled console.js (confirm dialogs,
 * live updates, charts). No inline script or style: the CSP forbids both.
 */
export interface PageFrame {
  title: string;
  /** The navigation entry this page belongs to. */
  section: 'overview' | 'health' | 'history' | 'switches' | 'app-releases' | 'whitelists' | 'release';
  channels: string[];
  /** The channel the page is about, when it is about one. */
  channel?: string;
  readOnly: boolean;
  /** What the page polls: when it changes, the page's content is fetched again. */
  revision: string;
}

const SECTIONS: Array<{ id: PageFrame['section']; label: string; href: (channel?: string) => string; perChannel: boolean }> = [
  { id: 'overview', label: 'Overview', href: (channel) => (channel ? `/channels/${channel}` : '/'), perChannel: false },
  { id: 'health', label: 'Health', href: () => '/health', perChannel: false },
  { id: 'history', label: 'History', href: (channel) => `/channels/${channel}/history`, perChannel: true },
  { id: 'switches', label: 'Switches', href: (channel) => `/channels/${channel}/switches`, perChannel: true },
  { id: 'app-releases', label: 'App releases', href: (channel) => `/channels/${channel}/app-releases`, perChannel: true },
  { id: 'whitelists', label: 'Whitelists', href: () => '/whitelists', perChannel: false },
];

export const enc = encodeURIComponent;

export function renderPage(frame: PageFrame, content: Markup): string {
  const channel = frame.channel ?? frame.channels[0];
  const page = html`
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${frame.title} · update-publish console</title>
        <link rel="stylesheet" href="/assets/console.css" />
        <script type="module" src="/assets/console.js"></script>
      </head>
      <body data-read-only=${frame.readOnly ? 'true' : 'false'} data-revision=${frame.revision}>
        <a class="skip" href="#main">Skip to content</a>
        <header>
          <p class="brand">update-publish console${frame.readOnly ? html` <span class="badge">read-only</span>` : ''}</p>
          <nav aria-label="Sections">
            <ul>
              ${SECTIONS.filter((section) => !section.perChannel || channel).map(
                (section) => html`<li><a href=${section.href(channel && enc(channel))} aria-current=${section.id === frame.section ? 'page' : undefined}>${section.label}</a></li>`,
              )}
            </ul>
          </nav>
          ${frame.channels.length > 0 &&
          html`<nav aria-label="Channels">
            <ul>
              ${frame.channels.map(
                (name) => html`<li><a href=${`/channels/${enc(name)}`} aria-current=${name === frame.channel && frame.section === 'overview' ? 'page' : undefined}>${name}</a></li>`,
              )}
            </ul>
          </nav>`}
        </header>
        <main id="main" tabindex="-1">
          <h1>${frame.title}</h1>
          ${content}
        </main>
        <div id="live" role="status" aria-live="polite" class="visually-hidden"></div>
        <dialog id="confirm" aria-labelledby="confirm-title">
          <h2 id="confirm-title">Confirm</h2>
          <div id="confirm-body"></div>
          <p id="confirm-error" role="alert"></p>
          <div class="buttons">
            <button type="button" id="confirm-cancel">Cancel</button>
            <button type="button" id="confirm-ok" class="primary">Confirm</button>
          </div>
        </dialog>
      </body>
    </html>
  `;
  return documentOf(page);
}

/** A wide table that scrolls on its own at 200 % zoom; focusable so the keyboard can scroll it. */
export const scrollTable = (label: string, table: Markup) =>
  html`<div class="table" role="region" aria-label=${label} tabindex="0">${table}</div>`;

export const when = (iso: string | null | undefined) => (iso ? html`<time datetime=${iso}>${iso.slice(0, 16).replace('T', ' ')} UTC</time>` : '—');

export const empty = (text: string, children?: Child) => html`<p class="empty">${text}${children}</p>`;
