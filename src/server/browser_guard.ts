// What keeps a web page from using a browser as a client of the node
// (docs/SECURITY.md, "Browsers").
//
// 1. DNS rebinding: a page on evil.example re-points its name at 127.0.0.1
//    and talks to the node as a same-origin page. The browser still sends
//    Host: evil.example, so every request whose Host is not one of the
//    node's names is refused (421 MisdirectedRequest), before routing.
//    Accepted: the configured names (default localhost, 127.0.0.1, [::1] and
//    the listen address), `<bucket>.<domain>` of the S3 domains, and any IP
//    literal (a rebinding page has a DNS name as its origin, never the IP
//    the node listens on), each with or without a port.
// 2. Cross-origin requests: the native API and the control plane are for
//    programs, never for pages, so a request with an Origin or
//    Sec-Fetch-Site header (browsers send one or both on every request a
//    page makes), or a content type an HTML form can send without a preflight
//    (application/x-www-form-urlencoded, multipart/form-data, text/plain),
//    is refused with 403 BrowserRequestRefused, authenticated or not.
// 3. CORS only as a bucket owner configured it: the native API and the
//    control plane never send Access-Control-* headers; the S3 front sends
//    them only where a bucket's CORS rule allows the request's Origin
//    (s3/cors_ops.ts). The S3 front is not guarded here: S3 authenticates
//    every request by a signature a page cannot make without the secret
//    (no cookies, no ambient credentials), so a page's request is served
//    exactly when its signature is good (docs/SECURITY.md, "Browsers").
import { isIP } from 'node:net';
import type { Exchange } from './exchange.js';
import { HttpError } from './http_errors.js';

export const DEFAULT_HOST_NAMES: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

const FORM_CONTENT_TYPES: readonly string[] = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];
// Sec-Fetch-Mode is not among them: node's own fetch sends it on every request.
const BROWSER_HEADERS: readonly string[] = ['origin', 'sec-fetch-site'];

export class HostCheck {
  private readonly names: Set<string>;

  /** `names` without ports (lower case; IPv6 in brackets); `domains`: the S3 virtual-host base domains. */
  constructor(
    names: readonly string[],
    private readonly domains: readonly string[],
  ) {
    this.names = new Set(names.map((n) => n.toLowerCase()));
  }

  /** Also accept the address the server listens on (a wildcard address names no host). */
  addListenAddress(address: string): void {
    this.names.add(address.includes(':') ? `[${address.toLowerCase()}]` : address.toLowerCase());
  }

  /** Throws HttpError 421 unless the Host header names this node. */
  check(ex: Exchange): void {
    const host = ex.req.headers.host;
    if (host === undefined || !this.accepts(host)) {
      throw new HttpError(421, 'MisdirectedRequest', `Host ${JSON.stringify(host ?? '')} is not a name of this node; add it with serve --host-names (docs/SECURITY.md)`);
    }
  }

  accepts(hostHeader: string): boolean {
    const name = withoutPort(hostHeader.trim().toLowerCase());
    if (name === undefined) return false;
    if (this.names.has(name)) return true;
    if (isIP(name.replace(/^\[(.*)\]$/, '$1')) !== 0) return true;
    return this.domains.some((d) => name.length > d.length + 1 && name.endsWith('.' + d));
  }
}

/** `host`, `host:port`, `[v6]`, `[v6]:port` -> the name part; undefined if malformed. */
function withoutPort(host: string): string | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::[0-9]{1,5})?$/.exec(host);
  return m?.[1];
}

/** Throws HttpError 403 if the request has the shape of one a web page sent. */
export function refuseBrowserRequest(ex: Exchange): void {
  const { headers } = ex.req;
  const marker = BROWSER_HEADERS.find((h) => headers[h] !== undefined);
  const type = (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (marker !== undefined || FORM_CONTENT_TYPES.includes(type)) {
    const why = marker !== undefined ? `a ${marker} header` : `Content-Type ${type}`;
    throw new HttpError(403, 'BrowserRequestRefused', `refused: ${why} marks a request a web page sent; the native API and the control plane serve programs only (docs/SECURITY.md)`);
  }
}
