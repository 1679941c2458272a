// S3 errors: an S3Error carries the HTTP status and the S3 error code that
// clients switch on (NoSuchKey, SignatureDoesNotMatch, ...), and becomes the
// XML body S3 sends:
//   <Error><Code>..</Code><Message>..</Message><Resource>..</Resource><RequestId>..</RequestId></Error>
// Errors of the store (typed ShardStoreErrors) map onto S3 codes here, so a
// handler never needs to translate them itself.
import { ShardStoreError } from '../../base/index.js';

/** Extra elements of the error document (Key, BucketName, StringToSign, ...). */
export type ErrorDetails = Readonly<Record<string, string>>;

export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetails = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

export const noSuchBucket = (bucket: string): S3Error =>
  new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
export const noSuchKey = (key: string): S3Error => new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
export const noSuchUpload = (uploadId: string): S3Error =>
  new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId });
export const invalidArgument = (message: string, details: ErrorDetails = {}): S3Error =>
  new S3Error(400, 'InvalidArgument', message, details);
export const invalidRequest = (message: string): S3Error => new S3Error(400, 'InvalidRequest', message);
export const malformedXml = (why: string): S3Error =>
  new S3Error(400, 'MalformedXML', `The XML you provided was not well-formed or did not validate against our published schema: ${why}`);
export const accessDenied = (message = 'Access Denied'): S3Error => new S3Error(403, 'AccessDenied', message);
/** A signature (SigV4 or V2, header, query or form) names an access key no user has. */
export const invalidAccessKeyId = (accessKeyId: string): S3Error =>
  new S3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: accessKeyId });
/** A signature does not verify; `details` carries AWSAccessKeyId and what the signer may compare (StringToSign...). */
export const signatureDoesNotMatch = (details: ErrorDetails): S3Error =>
  new S3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', details);
export const notImplemented = (what: string): S3Error =>
  new S3Error(501, 'NotImplemented', `A header or query you provided implies functionality that is not implemented: ${what}`);
export const preconditionFailed = (): S3Error =>
  new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });

export interface S3ErrorAnswer {
  readonly error: S3Error;
  /** Not a condition S3 defines: log it with its stack. */
  readonly unexpected: boolean;
}

/** The S3 answer for anything a handler threw. */
export function s3ErrorOf(err: unknown): S3ErrorAnswer {
  if (err instanceof S3Error) return { error: err, unexpected: false };
  if (err instanceof ShardStoreError) return { error: fromStoreError(err), unexpected: false };
  return { error: new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.'), unexpected: true };
}

function fromStoreError(err: ShardStoreError): S3Error {
  switch (err.code) {
    case 'InvalidArgument':
      return invalidArgument(err.message);
    case 'NoSpace':
      // 507 and not 503: a full disk does not get better by retrying at once, and SDKs retry 503.
      return new S3Error(507, 'InsufficientStorage', `Not enough free space on the node: ${err.message}`);
    case 'Unavailable':
    case 'Closed':
    case 'Locked':
    case 'ReadOnly':
      return new S3Error(503, 'ServiceUnavailable', `Please reduce your request rate or retry: ${err.message}`);
    case 'NotFound':
    case 'Corruption':
    case 'Io':
      // A NotFound that reaches here is a shard the S3 layer expected to exist: an internal fault.
      return new S3Error(500, 'InternalError', `We encountered an internal error (${err.code}). Please try again.`);
  }
}
