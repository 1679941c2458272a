// Server-side encryption on the object operations' paths (sse.ts has the
// rules): a write's body encrypted on its way to writeData and its record
// sealed with the parameters; a read opened through openObject on the
// stored segments a plaintext range needs, then decrypted and cut to the
// range. An object without encryption goes through untouched: the wrappers
// hand back what they were given.
import type { ByteRange } from '../../store/index.js';
import type { Core } from './core.js';
import type { OpenedObject } from './objects.js';
import { openObject } from './objects.js';
import type { UploadTarget } from './multipart.js';
import { requireUpload } from './multipart.js';
import type { ObjectRecord, RecordSections } from './records.js';
import type { CustomerKey, Encryption } from './sse.js';
import { blobsOf, checkKey, dataKeyOf, encrypting, encryptionOf, sealedRecord } from './sse.js';
import type { SegmentPlan } from './sse_crypto.js';
import { decryptPlanned, planRange } from './sse_crypto.js';
import type { EncryptionParams } from './sse_format.js';
import { encodeEncryption } from './sse_format.js';

/** A body on its way to storage: encrypted if `e` says so; `seal` makes the record say so too. */
export interface StoredBody {
  readonly body: AsyncIterable<Buffer>;
  /** REQUIRES: `body` was read to its end. */
  seal(record: ObjectRecord): ObjectRecord;
}

export function storedBody(e: Encryption | undefined, body: AsyncIterable<Buffer>, part: number): StoredBody {
  if (e === undefined) return { body, seal: (record) => record };
  const stream = encrypting(e, body, part);
  return { body: stream, seal: (record) => sealedRecord(e, record, stream.plainBytes) };
}

/**
 * openObject as a request sees it: the SSE-C key `given` checked against
 * the record (before `choose`, so a missing key is not answered with the
 * object's conditions), and an encrypted object's range decrypted. The
 * range `choose` picks is in plaintext bytes, as is the range answered.
 * Throws what openObject and checkKey throw; a segment that fails its tag
 * fails the body with a CorruptionError.
 */
export async function openReadable(
  core: Core,
  object: { readonly bucket: string; readonly key: Buffer; readonly given: CustomerKey | undefined },
  choose: (record: ObjectRecord) => ByteRange,
  read?: () => Promise<ObjectRecord>,
): Promise<OpenedObject> {
  let params: EncryptionParams | undefined;
  let plan: SegmentPlan | undefined;
  const opened = await openObject(
    core,
    object.bucket,
    object.key,
    (record) => {
      params = encryptionOf(record);
      checkKey(params, object.given);
      const range = choose(record);
      plan = params === undefined ? undefined : planRange(blobsOf(record), params.segmentBytes, record.sizeBytes, range);
      return plan === undefined ? range : plan.stored;
    },
    ...(read === undefined ? [] : [read]),
  );
  if (params === undefined || plan === undefined) return opened;
  let dataKey: Buffer;
  try {
    dataKey = await dataKeyOf(core, params, object.given);
  } catch (err) {
    opened.release();
    throw err;
  }
  return { record: opened.record, range: plan.plain, body: decryptPlanned(opened.body, dataKey, params.segmentBytes, plan), release: () => opened.release() };
}

/**
 * The encryption of an upload's parts (UploadPart, UploadPartCopy): the
 * upload's own, with the request's SSE-C key checked against it; undefined
 * for an upload made without encryption. Throws NoSuchUpload.
 */
export async function uploadEncryption(core: Core, t: UploadTarget, given: CustomerKey | undefined): Promise<Encryption | undefined> {
  const params = encryptionOf(await requireUpload(core, t));
  checkKey(params, given);
  if (params === undefined) return undefined;
  return { params, dataKey: await dataKeyOf(core, params, given), customerKey: given };
}

/** An upload's record fields for its encryption (CreateMultipartUpload). */
export function uploadSections(e: Encryption | undefined): { sections?: RecordSections } {
  return e === undefined ? {} : { sections: { encryption: encodeEncryption(e.params) } };
}
