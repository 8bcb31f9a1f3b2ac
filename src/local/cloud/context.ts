import type { VirtualClock } from '../clock';
import type { ArtifactReads } from './artifact-reads';
import type { ChangeLog } from './change-log';
import type { CloudEvent, EventBridge } from './eventbridge';
import type { Rng } from './protocol';
import { ACCOUNT_ID } from './protocol';
import type { Timers } from './timers';

export interface Tag {
  Key: string;
  Value: string;
}

/** What the service emulations share. */
export interface Core {
  clock: VirtualClock;
  timers: Timers;
  events: EventBridge;
  defaultRegion: string;
  /** Tags of every taggable SageMaker resource, by ARN. */
  tags: Map<string, Tag[]>;
  rng: { invoke: Rng; duplicates: Rng; ids: Rng };
  duplicateEventRate: number;
  /** What was applied to endpoints, configs and approvals, in order (for tests' invariants). */
  changes: ChangeLog;
  /** Every S3 HeadObject and ECR image lookup answered, placed in `changes` (for tests' invariants). */
  reads: ArtifactReads;
}

/** Where a resource lives: resources are per account and region. */
export interface Place {
  account: string;
  region: string;
}

/**
 * Puts an `aws.sagemaker` event on the default bus of the resource's account and region; endpoint
 * events may be duplicated, as AWS may.
 */
export function emitSageMakerEvent(
  core: Core,
  place: Place,
  detailType: string,
  resource: string,
  detail: Record<string, unknown>,
  options: { mayDuplicate?: boolean } = {},
): CloudEvent {
  const entry = { source: 'aws.sagemaker', detailType, detail, resources: [resource] };
  const event = core.events.put('default', entry, place.region, place.account);
  if (
    options.mayDuplicate &&
    core.duplicateEventRate > 0 &&
    core.rng.duplicates.next() < core.duplicateEventRate
  ) {
    core.events.put('default', structuredClone(entry), place.region, place.account);
  }
  return event;
}

export const sageMakerArn = (place: Place, type: string, name: string): string =>
  `arn:aws:sagemaker:${place.region}:${place.account}:${type}/${name.toLowerCase()}`;

/** The place of the local cloud's own account in a region. */
export const homeAccountIn = (region: string): Place => ({ account: ACCOUNT_ID, region });
