/**
 * The console page's behaviour, bundled into dist/console/assets/console.js:
 * confirmation dialogs that show a dry run before every change, live updates
 * when the store changes elsewhere, and charts. The page works as plain HTML
 * without it; this only adds to it.
 */
import uPlot from 'uplot';

const POLL_MS = 2_000;

interface ApiAnswer {
  result?: Record<string, unknown>;
  notes?: string[];
  error?: string;
}

const $ = <T extends Element>(selector: string) => document.querySelector<T>(selector)!;
const dialog = () => $<HTMLDialogElement>('#confirm');

function announce(text: string): void {
  $('#live').textContent = text;
}

async function post(action: string, body: Record<string, unknown>, dryRun: boolean): Promise<{ status: number; answer: ApiAnswer }> {
  const response = await fetch(`/api/${encodeURIComponent(action)}${dryRun ? '?dryRun=1' : ''}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await response.json().catch(() => ({ error: `the console answered ${response.status}` }))) as ApiAnswer;
  return { status: response.status, answer };
}

const stateText = (state: unknown) => {
  const { state: word, rollout } = (state ?? {}) as { state?: string; rollout?: number };
  return `${word ?? '?'}, rollout ${rollout ?? '?'}%`;
};

/** One sentence of what a change does (or did), from the workflow's result. */
function describe(action: string, result: Record<string, unknown>): string {
  if (typeof result.unchanged === 'string') return `Nothing to change: ${result.unchanged}`;
  const target = `${String(result.package ?? result.key ?? '')} ${String(result.version ?? '')}`.trim();
  switch (action) {
    case 'rollout':
    case 'halt':
    case 'resume':
      return `${action} ${target} on ${String(result.channel)}: ${stateText(result.previous)} → ${stateText(result.current)}`;
    case 'rollback':
      return `Roll ${String(result.package)} on ${String(result.channel)} back from ${String(result.from ?? '—')} to ${String(result.to)}`;
    case 'promote':
      return `Promote ${target} from ${String(result.from)} to ${String(result.to)}`;
    case 'edit':
      return `Set the notes of ${target} to “${String((result.current as { message?: string } | undefined)?.message ?? '')}”`;
    case 'switch-set':
      return `Set switch ${String(result.key)} to ${JSON.stringify(result.value)}${result.previous === null || result.previous === undefined ? '' : ` (was ${JSON.stringify(result.previous)})`}`;
    case 'switch-rm':
      return `Remove switch ${String(result.key)}`;
    case 'advance': {
      const [decision] = (result.decisions ?? []) as Array<{ decision: string; from: number; to: number; reason: string }>;
      return decision ? `${decision.decision}: rollout ${decision.from}% → ${decision.to}% (${decision.reason})` : 'No decision: the release is not rolling out under a policy';
    }
    default:
      return `${action} ${target}`;
  }
}

/** What a control acts on: its own data, else its row's and table's (the overview keeps it there once). */
function fieldsOf(source: HTMLElement): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (let element: HTMLElement | null = source; element; element = element.parentElement) {
    const data = element.dataset;
    for (const name of ['channel', 'package', 'version', 'key', 'from', 'percent'] as const) if (data[name] !== undefined && !(name in fields)) fields[name] = data[name];
    if (data.expect !== undefined && fields.expectVersion === undefined) fields.expectVersion = Number(data.expect);
  }
  if (source instanceof HTMLFormElement) {
    for (const [name, value] of new FormData(source).entries()) if (typeof value === 'string') fields[name] = value;
  }
  return fields;
}

/** Buttons on the overview that need a value first ask for it in the dialog. */
const ASKS: Record<string, { name: string; label: string; type: string; from?: string }> = {
  rollout: { name: 'percent', label: 'Rollout percentage', type: 'number', from: 'percent' },
  rollback: { name: 'to', label: 'Version to roll back to (empty: the previous release)', type: 'text' },
};

let pending: { action: string; fields: Record<string, unknown>; previewed: boolean } | null = null;

async function preview(): Promise<void> {
  if (!pending) return;
  const input = $<HTMLInputElement>('#confirm-body').querySelector<HTMLInputElement>('input[name]');
  if (input) pending.fields[input.name] = input.value;
  const { status, answer } = await post(pending.action, pending.fields, true);
  const summary = $('#confirm-summary');
  const error = $('#confirm-error');
  error.textContent = '';
  if (status !== 200) {
    showProblem(status, answer);
    return;
  }
  summary.textContent = describe(pending.action, answer.result ?? {});
  const notes = $('#confirm-notes');
  notes.replaceChildren(...(answer.notes ?? []).map((note) => Object.assign(document.createElement('li'), { textContent: note })));
  // Nothing to confirm when the change is a no-op, or the policy holds the release where it is.
  const decisions = (answer.result?.decisions ?? []) as Array<{ decision: string }>;
  const unchanged = typeof answer.result?.unchanged === 'string' || (pending.action === 'advance' && decisions[0]?.decision !== 'advanced' && decisions[0]?.decision !== 'halted');
  pending.previewed = !unchanged;
  $<HTMLButtonElement>('#confirm-ok').textContent = unchanged ? 'Close' : 'Confirm';
}

function showProblem(status: number, answer: ApiAnswer): void {
  $('#confirm-error').textContent = answer.error ?? `the console answered ${status}`;
  if (status === 409 && pending) {
    // Someone changed the channel since this page loaded it: offer to load what it is now.
    pending.previewed = false;
    const ok = $<HTMLButtonElement>('#confirm-ok');
    ok.textContent = 'Reload';
    ok.dataset.reload = 'true';
  }
}

/** Opens the confirmation; a button whose command needs a value (rollout, rollback) asks for it first. */
function open(action: string, fields: Record<string, unknown>, title: string, fromButton: boolean): void {
  pending = { action, fields, previewed: false };
  $('#confirm-title').textContent = title;
  const body = $('#confirm-body');
  body.replaceChildren();
  const ask = fromButton ? ASKS[action] : undefined;
  if (ask) {
    const label = Object.assign(document.createElement('label'), { htmlFor: 'confirm-input', textContent: ask.label });
    const input = Object.assign(document.createElement('input'), { id: 'confirm-input', name: ask.name, type: ask.type });
    if (ask.type === 'number') Object.assign(input, { min: '0', max: '100', step: '0.01' });
    if (ask.from && fields[ask.from] !== undefined) input.value = String(fields[ask.from]);
    delete fields[ask.name];
    input.addEventListener('input', () => {
      if (pending) pending.previewed = false;
      $<HTMLButtonElement>('#confirm-ok').textContent = 'Preview';
    });
    body.append(label, input);
  }
  body.append(Object.assign(document.createElement('p'), { id: 'confirm-summary' }), Object.assign(document.createElement('ul'), { id: 'confirm-notes' }));
  $('#confirm-error').textContent = '';
  const ok = $<HTMLButtonElement>('#confirm-ok');
  delete ok.dataset.reload;
  ok.textContent = ask ? 'Preview' : 'Confirm';
  dialog().showModal();
  if (!ask) void preview();
}

async function confirmChange(): Promise<void> {
  const ok = $<HTMLButtonElement>('#confirm-ok');
  if (ok.dataset.reload) {
    dialog().close();
    await refresh(true);
    return;
  }
  if (!pending) return;
  if (!pending.previewed) {
    if (ok.textContent === 'Close') dialog().close();
    else await preview();
    return;
  }
  ok.disabled = true;
  try {
    const { status, answer } = await post(pending.action, pending.fields, false);
    if (status !== 200) {
      showProblem(status, answer);
      return;
    }
    dialog().close();
    announce(`Done: ${describe(pending.action, answer.result ?? {})}`);
    pending = null;
    await refresh(true);
  } finally {
    ok.disabled = false;
  }
}

function titleOf(source: HTMLElement, fields: Record<string, unknown>): string {
  const label = source instanceof HTMLFormElement ? source.querySelector('button[type=submit]')?.textContent : source.textContent;
  return `${(label ?? source.dataset.action ?? '').replace('…', '')}: ${String(fields.package ?? fields.key ?? '')} ${String(fields.version ?? '')}`.trim();
}

let revision = document.body.dataset.revision ?? '';

/** Fetches this page again and swaps its content in: what changed elsewhere (the CLI, CI) shows within seconds. */
async function refresh(force = false): Promise<void> {
  if (dialog().open && !force) return;
  const response = await fetch(location.href, { headers: { Accept: 'text/html' } });
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), 'text/html');
  const main = fresh.querySelector('#main');
  if (!main) return;
  $('#main').replaceWith(main);
  revision = fresh.body.dataset.revision ?? revision;
  document.body.dataset.revision = revision;
  drawCharts();
}

async function poll(): Promise<void> {
  try {
    const response = await fetch('/api/revision', { headers: { 'If-None-Match': `"${revision}"` } });
    if (response.status === 200) {
      const { revision: now } = (await response.json()) as { revision: string };
      if (now !== revision && !dialog().open) {
        await refresh();
        announce('Updated: the store changed');
      }
    }
  } finally {
    setTimeout(() => void poll(), POLL_MS);
  }
}

interface ChartData {
  stages: Array<{ at: string; rollout: number }>;
  hourly: Array<{ hour: string; launches: number; failures: number }>;
  adoption: Array<{ hour: string; installs: number }>;
}

const seconds = (iso: string) => Date.parse(iso) / 1000;

function drawCharts(): void {
  const holder = document.querySelector<HTMLElement>('.charts[data-chart]');
  if (!holder) return;
  const data = JSON.parse(holder.dataset.chart ?? '{}') as ChartData;
  for (const target of holder.querySelectorAll<HTMLElement>('.chart[data-series]')) {
    const width = Math.max(240, Math.min(640, target.clientWidth || 480));
    const common = { width, height: 180, legend: { show: true } };
    if (target.dataset.series === 'stages' && data.stages.length) {
      const now = Date.now() / 1000;
      const xs = [...data.stages.map((stage) => seconds(stage.at)), now];
      const ys = [...data.stages.map((stage) => stage.rollout), data.stages[data.stages.length - 1].rollout];
      target.replaceChildren();
      new uPlot({ ...common, scales: { y: { range: [0, 100] } }, series: [{}, { label: 'rollout %', stroke: '#1f5fa8', paths: uPlot.paths.stepped!({ align: 1 }) }] }, [xs, ys], target);
    }
    if (target.dataset.series === 'hourly' && data.hourly.length) {
      target.replaceChildren();
      new uPlot(
        { ...common, series: [{}, { label: 'launches', stroke: '#1f5fa8' }, { label: 'failures', stroke: '#b3261e' }] },
        [data.hourly.map((hour) => seconds(hour.hour)), data.hourly.map((hour) => hour.launches), data.hourly.map((hour) => hour.failures)],
        target,
      );
    }
    if (target.dataset.series === 'adoption' && data.adoption.length) {
      target.replaceChildren();
      new uPlot({ ...common, series: [{}, { label: 'devices', stroke: '#2e7d32' }] }, [data.adoption.map((point) => seconds(point.hour)), data.adoption.map((point) => point.installs)], target);
    }
  }
}

document.addEventListener('click', (event) => {
  const button = (event.target as Element).closest<HTMLButtonElement>('button.action');
  if (!button) return;
  const fields = fieldsOf(button);
  open(button.dataset.action!, fields, titleOf(button, fields), true);
});
document.addEventListener('submit', (event) => {
  const form = (event.target as Element).closest<HTMLFormElement>('form.action');
  if (!form) return;
  event.preventDefault();
  const fields = fieldsOf(form);
  open(form.dataset.action!, fields, titleOf(form, fields), false);
});
document.addEventListener('DOMContentLoaded', () => {
  $('#confirm-ok').addEventListener('click', () => void confirmChange());
  $('#confirm-cancel').addEventListener('click', () => dialog().close());
  drawCharts();
  setTimeout(() => void poll(), POLL_MS);
});
