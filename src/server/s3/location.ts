// CreateBucket's LocationConstraint against the node's region
// (`--s3-region`), answered as S3 answers it at a regional endpoint
// (docs/S3.md, "Regions"). Every bucket of a node is in the node's region.
//
// Rules, in order:
//   1. No constraint (no body, or no LocationConstraint element): the
//      bucket is made in the node's region. Decision: S3 outside us-east-1
//      refuses this (IllegalLocationConstraintException), but SDK clients
//      and ceph's suite create buckets without one, and a node has one
//      region, so there is nowhere else the bucket could go.
//   2. The node's own region, spelled as the node names it (a non-AWS name
//      such as radosgw's "default" included), except us-east-1: accepted.
//      "EU" is eu-west-1 (S3's legacy name) and is accepted there; the
//      bucket record keeps it, and GetBucketLocation answers "EU" for that
//      bucket, as S3 does (eu-west-1 for a bucket created as eu-west-1).
//   3. Any other name S3 lists as a LocationConstraint value: 400
//      IllegalLocationConstraintException (a region, but not this one).
//   4. Anything else, us-east-1 spelled out and the empty string included:
//      400 InvalidLocationConstraint. S3 has no constraint for us-east-1,
//      the region of no constraint, and refuses it when named.
import type { BucketRecord } from './records.js';
import { S3Error } from './s3_errors.js';

/**
 * The values S3 lists for CreateBucketConfiguration's LocationConstraint
 * (BucketLocationConstraint of the S3 API model, AWS SDK v3 3.1175).
 */
const S3_LOCATION_CONSTRAINTS: ReadonlySet<string> = new Set([
  'EU', 'af-south-1', 'ap-east-1', 'ap-east-2', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1',
  'ap-south-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6',
  'ap-southeast-7', 'ca-central-1', 'ca-west-1', 'cn-north-1', 'cn-northwest-1', 'eu-central-1', 'eu-central-2', 'eu-north-1',
  'eu-south-1', 'eu-south-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'il-central-1', 'me-central-1', 'me-south-1',
  'mx-central-1', 'sa-east-1', 'us-east-2', 'us-gov-east-1', 'us-gov-west-1', 'us-west-1', 'us-west-2',
]);

/** The region S3 has no LocationConstraint for (GetBucketLocation answers it empty). */
export const DEFAULT_REGION = 'us-east-1';

/** Checks a CreateBucket constraint (see the header). Throws InvalidLocationConstraint, IllegalLocationConstraintException. */
export function checkLocationConstraint(constraint: string | undefined, nodeRegion: string): void {
  if (constraint === undefined) return;
  if (nodeRegion !== DEFAULT_REGION && (constraint === nodeRegion || (constraint === 'EU' && nodeRegion === 'eu-west-1'))) return;
  if (S3_LOCATION_CONSTRAINTS.has(constraint)) {
    throw new S3Error(400, 'IllegalLocationConstraintException', `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`);
  }
  throw new S3Error(400, 'InvalidLocationConstraint', 'The specified location-constraint is not valid', { LocationConstraint: constraint });
}

/** What GetBucketLocation answers for `bucket` of a node in `nodeRegion`: empty for us-east-1, "EU" for a bucket created with that name, as S3. */
export function locationOf(nodeRegion: string, bucket: BucketRecord): string {
  if (bucket.legacyEu === true) return 'EU';
  return nodeRegion === DEFAULT_REGION ? '' : nodeRegion;
}
