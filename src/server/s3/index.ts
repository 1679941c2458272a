// server/s3: the S3-compatible front over ShardApi (docs/S3.md).
export { S3Front, DEFAULT_S3_DOMAINS, DEFAULT_S3_REGION, DEFAULT_UPLOAD_EXPIRY_MS, DEFAULT_LIFECYCLE_INTERVAL_MS } from './s3_front.js';
export type { S3Options, S3Observer } from './s3_front.js';
export { loadOrCreateCredentials, parseCredentialsFile, formatCredentialsFile } from './credentials.js';
export type { CredentialSource, LoadedCredentials, S3Credentials } from './credentials.js';
export { FileUsers, StaticUsers, LEGACY_OWNER_ID, usersOf } from './users.js';
export type { User, UserDirectory } from './users.js';
export { addUser, listUsers, removeUser } from './users_file.js';
export { verifyRequest, deriveSigningKey, canonicalQuery, canonicalRequest, queryPairs, uriEncode, EMPTY_SHA256, SIGV4_ALGORITHM } from './sigv4.js';
export type { Authenticated, PayloadMode, SignedRequest } from './sigv4.js';
export { AwsChunkedDecoder } from './aws_chunked.js';
export { newChecksum, CHECKSUM_ALGORITHMS } from './checksums.js';
export type { ChecksumAlgorithm } from './checksums.js';
export { encodeObject, decodeObject, encodeUpload, decodeUpload, encodePart, decodePart, encodeBucket, decodeBucket, RecordSection } from './records.js';
export type { ObjectRecord, VersionStamp, RecordSections } from './records.js';
export { encodeSettings, decodeSettings } from './settings_record.js';
export type { SettingsRecord, VersioningState } from './settings_record.js';
export { LockTable } from './locks.js';
export { S3Error } from './s3_errors.js';
