import escapeHtml from 'escape-html';
import htmImport from 'htm';

// htm's types describe a CommonJS default export; under Node's ESM loader the default import is the function itself.
const htm = htmImport as unknown as typeof htmImport.default;

/**
 * Server-rendered HTML from tagged templates: htm parses the templates,
 * escape-html escapes every value. A value is text unless it is Markup made
 * by `html` itself, so a release note or a switch value can never become
 * markup, whatever it holds.
 */
export class Markup {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type Child = Markup | string | number | boolean | null | undefined | readonly Child[];

/** Elements with no closing tag. */
const VOID_ELEMENTS = new Set(['area', 'br', 'col', 'hr', 'img', 'input', 'link', 'meta', 'source', 'wbr']);

const textOf = (child: Child): string => {
  if (Array.isArray(child)) return child.map(textOf).join('');
  if (child instanceof Markup) return child.text;
  if (child === null || child === undefined || typeof child === 'boolean') return '';
  return escapeHtml(String(child));
};

type Component = (props: Record<string, unknown> & { children: Child[] }) => Markup;

function element(type: string | Component, props: Record<string, unknown> | null, ...children: Child[]): Markup {
  if (typeof type === 'function') return type({ ...props, children });
  let open = `<${type}`;
  for (const [name, value] of Object.entries(props ?? {})) {
    // false, null and undefined leave the attribute out; true writes it bare (disabled, hidden).
    if (value === false || value === null || value === undefined) continue;
    open += value === true ? ` ${name}` : ` ${name}="${escapeHtml(String(value))}"`;
  }
  open += '>';
  return new Markup(VOID_ELEMENTS.has(type) ? open : `${open}${textOf(children)}</${type}>`);
}

const bound = htm.bind(element);

/** One fragment of markup (several top-level elements are joined). */
export const html = (strings: TemplateStringsArray, ...values: unknown[]): Markup => new Markup(textOf(bound(strings, ...values) as Child));

/** A whole document. */
export const documentOf = (root: Markup) => `<!doctype html>${root.text}`;
