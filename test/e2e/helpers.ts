import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  DescribeModelPackageCommand,
  ListTagsCommand,
  SageMakerClient,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { parse, stringify } from 'yaml';
import type { GroupState, HistoryEntry } from '../../src/domain/model';
import type { CloudEvent } from '../../src/local/cloud';
import { LocalStack, type LocalStackOptions } from '../../src/local/stack';
import { deps } from '../../src/wiring';
import type { Json } from '../foundation/fixtures';

export const MINUTE = 60_000;

/** SageMaker operations that create, change or delete something. */
export const MUTATING = new Set([
  'CreateModel',
  'CreateEndpointConfig',
  'CreateEndpoint',
  'UpdateEndpoint',
  'UpdateEndpointWeightsAndCapacities',
  'DeleteEndpoint',
  'DeleteEndpointConfig',
  'DeleteModel',
  'UpdateModelPackage',
]);

export interface World {
  stack: LocalStack;
  sm: SageMakerClient;
  createGroup(group: string): Promise<void>;
  /** A new PendingManualApproval version; `meta` drives the simulated model (sim.errorRate...). */
  createPackage(group: string, meta?: Record<string, string>): Promise<string>;
  approve(arn: string): Promise<void>;
  reject(arn: string): Promise<void>;
  state(group: string): Promise<GroupState>;
  history(deploymentId: string): Promise<HistoryEntry[]>;
  /** Events the service put on its own bus. */
  serviceEvents(): CloudEvent[];
  /** Events from the model registry for one package (the state-change events SageMaker sent). */
  registryEvents(arn: string): CloudEvent[];
  calls(operation: string, filter?: (detail: { at: number }) => boolean): number;
  describePackage(arn: string): Promise<{
    approval?: string | undefined;
    stage?: string | undefined;
    stageStatus?: string | undefined;
  }>;
  tags(arn: string): Promise<Record<string, string>>;
  close(): Promise<void>;
}

const IMAGE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/model:1';

export const startWorld = async (options: LocalStackOptions = {}): Promise<World> => {
  const stack = await LocalStack.start(options);
  const sm = new SageMakerClient({ region: 'us-east-1' });
  return {
    stack,
    sm,
    async createGroup(group) {
      await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: group }));
    },
    async createPackage(group, meta = {}) {
      // what the user's CI pushed before it registered the version
      stack.cloud.seedArtifacts([{ Image: IMAGE }]);
      const out = await sm.send(
        new CreateModelPackageCommand({
          ModelPackageGroupName: group,
          CustomerMetadataProperties: { 'sim.errorRate': '0', ...meta },
          InferenceSpecification: {
            Containers: [{ Image: IMAGE }],
            SupportedContentTypes: ['application/json'],
            SupportedResponseMIMETypes: ['application/json'],
          },
          ModelApprovalStatus: 'PendingManualApproval',
        }),
      );
      return out.ModelPackageArn!;
    },
    async approve(arn) {
      await sm.send(new UpdateModelPackageCommand({ ModelPackageArn: arn, ModelApprovalStatus: 'Approved' }));
    },
    async reject(arn) {
      await sm.send(new UpdateModelPackageCommand({ ModelPackageArn: arn, ModelApprovalStatus: 'Rejected' }));
    },
    async state(group) {
      const state = await deps().store.loadGroup(group);
      if (!state) throw new Error(`no state for ${group}`);
      return state;
    },
    history: (id) => deps().store.history(id),
    serviceEvents: () => stack.cloud.events.published.filter((e) => e.source === 'sagemaker-rollouts'),
    registryEvents: (arn) =>
      stack.cloud.events.published.filter(
        (e) =>
          e['detail-type'] === 'SageMaker Model Package State Change' &&
          (e.detail as { ModelPackageArn?: string }).ModelPackageArn === arn,
      ),
    calls: (operation, filter = () => true) =>
      stack.cloud.calls.filter((c) => c.operation === operation && !c.error && filter(c)).length,
    async describePackage(arn) {
      const out = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
      return {
        approval: out.ModelApprovalStatus,
        stage: out.ModelLifeCycle?.Stage,
        stageStatus: out.ModelLifeCycle?.StageStatus,
      };
    },
    async tags(arn) {
      const out = await sm.send(new ListTagsCommand({ ResourceArn: arn }));
      return Object.fromEntries((out.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    },
    close: () => stack.close(),
  };
};

/** Service events of one type (detail-type) for one deployment. */
export const eventsOf = (events: CloudEvent[], type: string, deploymentId?: string): CloudEvent[] =>
  events.filter(
    (e) =>
      e['detail-type'] === type &&
      (deploymentId === undefined || (e.detail as { deploymentId?: string }).deploymentId === deploymentId),
  );

/**
 * The local scenarios' config, changed by `change`, in a directory of its own with the request
 * set files it names (their paths are relative to the config file).
 */
export const localConfigVariant = (change: (config: Json) => void): string => {
  const source = 'src/local/scenarios';
  const dir = mkdtempSync(join(tmpdir(), 'rollouts-config-'));
  const config = parse(readFileSync(join(source, 'rollouts.local.yml'), 'utf8'));
  change(config);
  const requestSets = join(source, 'pre-traffic');
  if (existsSync(requestSets)) cpSync(requestSets, join(dir, 'pre-traffic'), { recursive: true });
  const path = join(dir, 'rollouts.yml');
  writeFileSync(path, stringify(config));
  return path;
};
