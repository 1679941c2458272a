// Broken variants of the server's front door (issue 12), each caught by the
// HTTP check (testing/http_check/) through the property it breaks:
//   - unsigned-header-honoured: the verifier sees only the headers the
//     client signed while the operation reads them all, so an x-amz-* header
//     added after signing is acted on (issue 12, case 1);
//   - subresource-falls-through: a subresource the router refuses is dropped
//     and the request runs as the operation without it (issue 12, case 4);
//   - cors-wildcard: every S3 answer allows any origin, so a web page can
//     read what the browser's credentials fetch.
// Each patches S3Front.prototype.handle, the one public seam every S3
// request goes through; src/ carries no test hooks.
import type { IncomingMessage } from 'node:http';
import type { Exchange } from '../../src/server/exchange.js';
import { S3Front, S3Error } from '../../src/server/s3/index.js';
import type { Core } from '../../src/server/s3/core.js';
import type { Owner } from '../../src/server/s3/operation.js';
import type { S3Request } from '../../src/server/s3/request.js';
import { parseRequest } from '../../src/server/s3/request.js';
import { routeOf } from '../../src/server/s3/routes.js';
import { verifyRequest } from '../../src/server/s3/sigv4.js';
import { S3_SUBRESOURCES } from '../http_check/cases.js';
import { patch } from './mutant.js';
import type { Mutant } from './mutant.js';

/** The private parts of S3Front the variants reach (the same fields handle() uses). */
interface FrontInternals {
  readonly core: Core;
  readonly collector: S3Front['collector'];
  readonly options: { readonly credentials: ReadonlyMap<string, string> };
  readonly domains: readonly string[];
  readonly region: string;
  readonly owner: Owner;
  answerError(ex: Exchange, r: S3Request | undefined, err: unknown): void;
}

/** The header names a request's signature covers, from its Authorization header or presigned query. */
function signedHeaderNames(req: IncomingMessage): Set<string> | undefined {
  const auth = req.headers.authorization;
  const fromHeader = typeof auth === 'string' ? /SignedHeaders=([^,\s]+)/.exec(auth)?.[1] : undefined;
  const fromQuery = /[?&]X-Amz-SignedHeaders=([^&]+)/.exec(req.url ?? '')?.[1];
  const list = fromHeader ?? (fromQuery === undefined ? undefined : decodeURIComponent(fromQuery));
  return list === undefined ? undefined : new Set(list.toLowerCase().split(';'));
}

export const unsignedHeaderHonoured: Mutant = {
  name: 'unsigned-header-honoured',
  bugClass: 'an x-amz-* header added after signing is acted on (unsigned x-amz-copy-source copies a private object)',
  caughtBy: 'http',
  install: () =>
    patch(S3Front.prototype, 'handle', (original) =>
      function (this: S3Front, ex: Exchange): Promise<void> {
        const signed = signedHeaderNames(ex.req);
        if (signed !== undefined) {
          // The verifier reads rawHeaders: show it only the signed x-amz-* ones. The operations read req.headers, which keeps them all.
          const raw = ex.req.rawHeaders;
          const kept: string[] = [];
          for (let i = 0; i + 1 < raw.length; i += 2) {
            const name = (raw[i] ?? '').toLowerCase();
            if (!name.startsWith('x-amz-') || signed.has(name)) kept.push(raw[i] ?? '', raw[i + 1] ?? '');
          }
          ex.req.rawHeaders = kept;
        }
        return original.call(this, ex);
      },
    ),
};

const SUBRESOURCE_NAMES: ReadonlySet<string> = new Set(S3_SUBRESOURCES);

/** `r` without the subresources of its query (the operation a fall-through would pick). */
function withoutSubresources(r: S3Request): S3Request {
  return { ...r, query: new Map([...r.query].filter(([name]) => !SUBRESOURCE_NAMES.has(name))) };
}

/** The request as the front parses it; undefined when it does not parse (the real handle answers that). */
function parsedOrUndefined(ex: Exchange, domains: readonly string[]): S3Request | undefined {
  try {
    return parseRequest(ex, domains);
  } catch (err: unknown) {
    if (err instanceof S3Error) return undefined;
    throw err;
  }
}

/** The router answers 501 for this request. */
function refusedByRouter(r: S3Request): boolean {
  try {
    routeOf(r);
    return false;
  } catch (err: unknown) {
    if (err instanceof S3Error) return err.status === 501;
    throw err;
  }
}

export const subresourceFallsThrough: Mutant = {
  name: 'subresource-falls-through',
  bugClass: 'an unimplemented subresource runs as the operation without it (PUT ?tagging overwrites the object)',
  caughtBy: 'http',
  install: () =>
    patch(S3Front.prototype, 'handle', (original) =>
      async function (this: S3Front, ex: Exchange): Promise<void> {
        const front = this as unknown as FrontInternals;
        const r = parsedOrUndefined(ex, front.domains);
        if (r === undefined || !refusedByRouter(r)) return original.call(this, ex);
        // The broken router: drop what it refused and route again. The signature is checked as sent.
        try {
          const op = routeOf(withoutSubresources(r));
          const auth = verifyRequest({ method: r.method, rawPath: r.rawPath, rawQuery: r.rawQuery, rawHeaders: ex.req.rawHeaders }, (id) => front.options.credentials.get(id), front.core.now());
          await op.run({ core: front.core, collector: front.collector, r: withoutSubresources(r), auth, region: front.region, owner: front.owner });
        } catch (err: unknown) {
          front.answerError(ex, r, err);
        }
      },
    ),
};

export const corsWildcard: Mutant = {
  name: 'cors-wildcard',
  bugClass: 'every S3 answer allows any origin (Access-Control-Allow-Origin: *) with no CORS configured',
  caughtBy: 'http',
  install: () =>
    patch(S3Front.prototype, 'handle', (original) =>
      function (this: S3Front, ex: Exchange): Promise<void> {
        ex.res.setHeader('Access-Control-Allow-Origin', '*');
        return original.call(this, ex);
      },
    ),
};

export const HTTP_CHECK_MUTANTS: readonly Mutant[] = [unsignedHeaderHonoured, subresourceFallsThrough, corsWildcard];
