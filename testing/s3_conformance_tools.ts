// Helpers of the conformance tests (testing/s3_conformance_*.test.ts): two
// users of their own, extra request headers on an SDK command, the raw
// answer headers of one, and the status and code of a refusal.
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { User } from '../src/server/index.js';
import { s3Refusal } from './s3_harness.js';

/** Two users with canonical ids of their own, as `shardstore user add` makes them. */
export function userPair(): { main: User; alt: User } {
  const user = (name: string): User => ({
    id: randomBytes(32).toString('hex'),
    displayName: name,
    accessKeyId: `SS${randomBytes(9).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
  });
  return { main: user('main'), alt: user('alt') };
}

function headersOf(message: unknown): Record<string, string> | undefined {
  if (typeof message !== 'object' || message === null || !('headers' in message)) return undefined;
  const h = message.headers;
  return typeof h === 'object' && h !== null ? (h as Record<string, string>) : undefined;
}

/**
 * An SDK client that can add headers the SDK has no field for to its next
 * request (`with(headers).send(...)`), and keeps the raw headers of its
 * last answer (`lastHeaders`, lower-case names).
 */
export class HeaderClient {
  private next: Readonly<Record<string, string>> = {};
  lastHeaders: Record<string, string> = {};

  constructor(readonly client: S3Client) {
    client.middlewareStack.add(
      (nextHandler) => async (args) => {
        const h = headersOf(args.request);
        if (h !== undefined) Object.assign(h, this.next);
        this.next = {};
        this.lastHeaders = {};
        const out = await nextHandler(args);
        this.lastHeaders = { ...(headersOf(out.response) ?? {}) };
        return out;
      },
      { step: 'build', name: 'conformanceExtraHeaders' },
    );
  }

  /** The client, adding `headers` to its next request only. */
  with(headers: Readonly<Record<string, string>>): S3Client {
    this.next = headers;
    return this.client;
  }
}

/** The HTTP status and S3 code of a call that must fail ([200, 'no error'] if it did not). */
export const refusal = s3Refusal;
