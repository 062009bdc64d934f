/**
 * A minimal browser for driving Latch's pages over real HTTP: it keeps cookies (host-only,
 * honouring Path and Max-Age), follows redirects itself so a test can stop at the client's
 * redirect_uri, and reads forms from the HTML it is given. No JavaScript, like the pages need.
 */

interface StoredCookie {
  name: string;
  value: string;
  path: string;
  expiresAt?: number;
}

export interface Page {
  url: URL;
  status: number;
  headers: Headers;
  html: string;
}

export interface Form {
  action: URL;
  method: string;
  fields: Record<string, string>;
}

export class Browser {
  private readonly cookies = new Map<string, StoredCookie[]>();

  /** `userAgent`: the User-Agent header it sends, when a test needs a real browser's. */
  constructor(private readonly userAgent?: string) {}

  /** Follows redirects until a response that is not one, or until a URL for which `stopAt` is true. */
  async navigate(url: string | URL, init: { method?: string; body?: URLSearchParams; stopAt?: (url: URL) => boolean } = {}): Promise<Page> {
    let target = new URL(url);
    let method = init.method ?? 'GET';
    let body: URLSearchParams | undefined = init.body;
    for (let hops = 0; hops < 20; hops += 1) {
      if (init.stopAt?.(target)) return { url: target, status: 0, headers: new Headers(), html: '' };
      const response = await fetch(target, {
        method,
        body,
        redirect: 'manual',
        headers: {
          cookie: this.cookieHeader(target),
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          ...(this.userAgent ? { 'user-agent': this.userAgent } : {}),
        },
      });
      this.store(target, response.headers.getSetCookie());
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        target = new URL(location, target);
        // 303 and, as browsers do, 301/302 after a POST continue as GET.
        if (response.status !== 307 && response.status !== 308) {
          method = 'GET';
          body = undefined;
        }
        await response.arrayBuffer();
        continue;
      }
      return { url: target, status: response.status, headers: response.headers, html: await response.text() };
    }
    throw new Error(`too many redirects from ${String(url)}`);
  }

  /** Fills and submits a form of the page: the one containing `button` (its visible text), or the only one. */
  async submit(page: Page, values: Record<string, string>, options: { button?: string; stopAt?: (url: URL) => boolean } = {}): Promise<Page> {
    const form = formOf(page, options.button);
    const fields = { ...form.fields, ...values };
    if (options.button) {
      const button = buttonNamed(page.html, options.button);
      if (button?.name) fields[button.name] = button.value ?? '';
    }
    return this.navigate(form.action, { method: form.method, body: new URLSearchParams(fields), stopAt: options.stopAt });
  }

  cookie(url: string | URL, name: string): string | undefined {
    return this.jarFor(new URL(url)).find((cookie) => cookie.name === name)?.value;
  }

  private jarFor(url: URL): StoredCookie[] {
    const now = Date.now();
    return (this.cookies.get(url.host) ?? []).filter((cookie) => (cookie.expiresAt ?? Infinity) > now && url.pathname.startsWith(cookie.path));
  }

  private cookieHeader(url: URL): string {
    return this.jarFor(url)
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join('; ');
  }

  private store(url: URL, setCookies: string[]): void {
    const jar = this.cookies.get(url.host) ?? [];
    for (const header of setCookies) {
      const [pair = '', ...attributes] = header.split(';').map((part) => part.trim());
      const separator = pair.indexOf('=');
      const cookie: StoredCookie = { name: pair.slice(0, separator), value: pair.slice(separator + 1), path: '/' };
      for (const attribute of attributes) {
        const [key = '', value = ''] = attribute.split('=');
        if (key.toLowerCase() === 'path') cookie.path = value;
        if (key.toLowerCase() === 'max-age') cookie.expiresAt = Date.now() + Number(value) * 1000;
        if (key.toLowerCase() === 'expires') cookie.expiresAt = Date.parse(value);
      }
      const others = jar.filter((existing) => !(existing.name === cookie.name && existing.path === cookie.path));
      jar.splice(0, jar.length, ...others, cookie);
    }
    this.cookies.set(url.host, jar);
  }
}

const decode = (text: string) =>
  text.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, entity: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" })[entity] ?? '');

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`, 'i').exec(tag);
  return match ? decode(match[2] ?? match[3] ?? '') : undefined;
}

function buttonNamed(html: string, text: string): { name?: string; value?: string; form?: string } | undefined {
  for (const match of html.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)) {
    const tag = match[1] ?? '';
    if (match[2]?.replace(/<[^>]+>/g, '').trim() === text) return { name: attribute(tag, 'name'), value: attribute(tag, 'value'), form: attribute(tag, 'form') };
  }
  return undefined;
}

export function formOf(page: Page, button?: string): Form {
  const forms = [...page.html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)];
  // A button may sit outside its form and name it (form="id"), as oidc-provider's logout form expects.
  const owner = button ? buttonNamed(page.html, button)?.form : undefined;
  const chosen = owner
    ? forms.find((form) => attribute(form[1] ?? '', 'id') === owner)
    : button
      ? forms.find((form) => buttonNamed(form[0], button))
      : forms.length === 1
        ? forms[0]
        : undefined;
  if (!chosen) throw new Error(`no single form${button ? ` with a "${button}" button` : ''} on ${page.url.href}:\n${page.html}`);
  const fields: Record<string, string> = {};
  for (const input of (chosen[2] ?? '').matchAll(/<input\b[^>]*>/gi)) {
    const name = attribute(input[0], 'name');
    if (name) fields[name] = attribute(input[0], 'value') ?? '';
  }
  return {
    action: new URL(attribute(chosen[1] ?? '', 'action') ?? page.url.href, page.url),
    method: (attribute(chosen[1] ?? '', 'method') ?? 'GET').toUpperCase(),
    fields,
  };
}
