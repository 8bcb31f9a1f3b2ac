import type { ChangeLog } from './change-log';

/**
 * An artifact lookup the local S3 (HeadObject) or ECR (DescribeImages of an image id) answered,
 * found or not: a test places it in the stream of applied changes to check that nothing reached
 * an endpoint before its version's artifacts were found in the endpoint's region. An injected
 * fault answers instead of the service, so it is not a read.
 */
export interface ArtifactRead {
  /** How many changes the cloud had applied before this read: its place in `cloud.changes`. */
  seq: number;
  at: number;
  /** The region the request was sent to. */
  region: string;
  account: string;
  /** `s3://bucket/key`, or the image as `account.dkr.ecr.region.amazonaws.com/repository:tag` (or `@digest`). */
  uri: string;
  found: boolean;
}

export class ArtifactReads {
  readonly entries: ArtifactRead[] = [];

  constructor(
    private readonly changes: ChangeLog,
    private readonly now: () => number,
  ) {}

  record(read: Omit<ArtifactRead, 'seq' | 'at'>): void {
    this.entries.push({ ...read, seq: this.changes.entries.length, at: this.now() });
  }
}
