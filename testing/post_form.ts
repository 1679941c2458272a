// Browser form uploads (POST object) as a page's server would hand them
// out, built from AWS's documentation and not from the server's code: the
// policy document in base64, signed with SigV4's signing key (the HMAC
// chain over date, region, "s3", "aws4_request"), then the form with the
// file as its last part. Used by testing/s3_post_object.test.ts and the
// HTTP check (testing/http_check/cases.ts).
import { createHmac } from 'node:crypto';

export const FORM_BOUNDARY = '----shardstoreFormBoundary7MA4YWxkTrZu0gW';

const hmac = (key: Buffer | string, text: string): Buffer => createHmac('sha256', key).update(text).digest();

/** SigV4's signing key for `date` (yyyymmdd) and `region`, service s3. */
export function formSigningKey(secret: string, date: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
}

export interface PolicyForm {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly nowMs: number;
  readonly bucket: string;
  readonly key: string;
  /** Conditions beyond bucket, key (starts-with the part before any '$') and the three signing fields. */
  readonly conditions?: readonly unknown[];
  /** Replaces every condition (the signing fields' included). */
  readonly allConditions?: readonly unknown[];
  /** Fields beyond key and the signing ones, each named by an 'eq' condition. */
  readonly fields?: Readonly<Record<string, string>>;
  readonly expiresInMs?: number;
  /** Sign with this secret instead (a forged signature). */
  readonly signingSecret?: string;
  /** Send another policy than the one signed (changed after signing). */
  readonly tamper?: boolean;
}

/** The signing fields of a form: policy, x-amz-algorithm, -credential, -date, -signature. */
export function signingFields(o: PolicyForm): { fields: Array<[string, string]>; credential: string; amzDate: string } {
  const date = new Date(o.nowMs).toISOString().slice(0, 10).replace(/-/g, '');
  const amzDate = `${date}T000000Z`;
  const credential = `${o.accessKeyId}/${date}/us-east-1/s3/aws4_request`;
  const extra = o.fields ?? {};
  const conditions = o.allConditions ?? [
    { bucket: o.bucket },
    ['starts-with', '$key', o.key.split('$')[0] ?? ''],
    { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
    { 'x-amz-credential': credential },
    { 'x-amz-date': amzDate },
    ...Object.entries(extra).map(([n, v]) => ['eq', `$${n}`, v]),
    ...(o.conditions ?? []),
  ];
  const policy = { expiration: new Date(o.nowMs + (o.expiresInMs ?? 600_000)).toISOString(), conditions };
  const base64 = Buffer.from(JSON.stringify(policy)).toString('base64');
  const signature = hmac(formSigningKey(o.signingSecret ?? o.secretAccessKey, date, 'us-east-1'), base64).toString('hex');
  const sent = o.tamper === true ? Buffer.from(JSON.stringify({ ...policy, conditions: conditions.slice(0, 1) })).toString('base64') : base64;
  const fields: Array<[string, string]> = [['policy', sent], ['x-amz-algorithm', 'AWS4-HMAC-SHA256'], ['x-amz-credential', credential], ['x-amz-date', amzDate], ['x-amz-signature', signature]];
  return { fields, credential, amzDate };
}

/** The multipart/form-data body: `fields`, then the file part, then `after` (fields S3 would ignore). */
export function formBody(fields: ReadonlyArray<readonly [string, string]>, file: Buffer, after: Readonly<Record<string, string>> = {}, filename = 'photo.jpg'): Buffer {
  const part = (name: string, value: string): string => `--${FORM_BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  return Buffer.concat([
    Buffer.from(fields.map(([n, v]) => part(n, v)).join('')),
    Buffer.from(`--${FORM_BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: image/jpeg\r\n\r\n`),
    file,
    Buffer.from(`\r\n${Object.entries(after).map(([n, v]) => part(n, v)).join('')}--${FORM_BOUNDARY}--\r\n`),
  ]);
}

export const FORM_CONTENT_TYPE = `multipart/form-data; boundary=${FORM_BOUNDARY}`;
