import { randomUUID } from 'node:crypto';
import { EventBridgeClient, PutRuleCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  DescribeModelPackageCommand,
  SageMakerClient,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { CommandUrlSender } from '../../src/adapters/command-url-sender';
import type { GroupState, HistoryEntry, OperatorVerb } from '../../src/domain/model';
import { LocalStack, type LocalStackOptions } from '../../src/local/stack';
import { deps } from '../../src/wiring';

export const MINUTE = 60_000;
/** Who the harness signs commands as. */
export const JANE = 'arn:aws:iam::111122223333:user/jane.doe';

export interface Rollouts {
  stack: LocalStack;
  sm: SageMakerClient;
  close(): Promise<void>;
  createGroup(group: string): Promise<void>;
  /** Registers a version (PendingManualApproval) with the simulated behaviour given. */
  register(group: string, sim?: Record<string, string>): Promise<string>;
  approve(arn: string): Promise<void>;
  registerAndApprove(group: string, sim?: Record<string, string>): Promise<string>;
  state(group: string): Promise<GroupState>;
  history(deploymentId: string): Promise<HistoryEntry[]>;
  /** Service events (source sagemaker-rollouts) of this type, in order. */
  events(type: string): { detail: Record<string, unknown> }[];
  /** Puts an operator command on the service bus (as the CLI does) and delivers it. */
  command(
    verb: OperatorVerb,
    deploymentId: string,
    reason?: string,
    options?: { full?: boolean; stage?: string },
  ): Promise<{ outcome: string; detail?: string | undefined }>;
  /** The prod endpoint's current weights by variant. */
  weights(endpointName: string): Record<string, number>;
  lifecycle(arn: string): Promise<{ stage?: string; status?: string; approval?: string }>;
  /** Disables (or re-enables) the rule that delivers events to a function, as if they were lost. */
  setDelivery(functionName: string, enabled: boolean): Promise<void>;
  /** Runs virtual time until `until` holds (checked every virtual minute) or `maxMs` passes. */
  runUntil(until: () => Promise<boolean> | boolean, maxMs?: number): Promise<void>;
  phase(deploymentId: string): Promise<string | undefined>;
}

const containers = {
  Containers: [{ Image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/model:1' }],
  SupportedContentTypes: ['application/json'],
  SupportedResponseMIMETypes: ['application/json'],
};

export const startRollouts = async (options: LocalStackOptions = {}): Promise<Rollouts> => {
  const stack = await LocalStack.start(options);
  const sm = new SageMakerClient({ region: 'us-east-1' });
  // commands are signed by the local IAM user jane.doe: the control function records her ARN
  const jane = stack.cloud.sts.createUser('jane.doe');
  const sender = new CommandUrlSender(stack.commandUrl, {
    audience: stack.tableName,
    credentials: async () => jane,
  });
  const register = async (group: string, sim: Record<string, string> = {}): Promise<string> => {
    // what the user's CI pushed before it registered the version
    stack.cloud.seedArtifacts(containers.Containers);
    const out = await sm.send(
      new CreateModelPackageCommand({
        ModelPackageGroupName: group,
        CustomerMetadataProperties: { 'sim.errorRate': '0.001', ...sim },
        InferenceSpecification: containers,
        ModelApprovalStatus: 'PendingManualApproval',
      }),
    );
    return out.ModelPackageArn!;
  };
  const approve = async (arn: string): Promise<void> => {
    await sm.send(new UpdateModelPackageCommand({ ModelPackageArn: arn, ModelApprovalStatus: 'Approved' }));
  };
  const state = async (group: string): Promise<GroupState> => {
    const loaded = await deps().store.loadGroup(group);
    if (!loaded) throw new Error(`no state for ${group}`);
    return loaded;
  };
  const phase = async (id: string) => {
    const loaded = await stack.latestGroup(id.split(':')[0]!);
    return loaded?.deployments.find((d) => d.id === id)?.phase;
  };
  const runUntil = async (until: () => Promise<boolean> | boolean, maxMs = 6 * 60 * MINUTE) => {
    await stack.run(maxMs, until);
    if (!(await until())) throw new Error(`condition not reached within ${maxMs / MINUTE} virtual minutes`);
  };
  return {
    stack,
    sm,
    close: () => stack.close(),
    createGroup: async (group) => {
      await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: group }));
    },
    register,
    approve,
    registerAndApprove: async (group, sim) => {
      const arn = await register(group, sim);
      await approve(arn);
      return arn;
    },
    state,
    history: (id) => deps().store.history(id),
    events: (type) =>
      stack.cloud.events.published
        .filter((e) => e.source === 'sagemaker-rollouts' && e['detail-type'] === type)
        .map((e) => ({ detail: e.detail as Record<string, unknown> })),
    command: async (verb, deploymentId, reason = `${verb} from the test`, options = {}) => {
      const reply = await sender.send({ verb, deploymentId, reason, requestId: randomUUID(), ...options });
      await stack.settle();
      return { outcome: reply.outcome, detail: reply.reason };
    },
    weights: (endpointName) => {
      const ep = stack.cloud.sagemaker.endpoints.get(endpointName);
      if (!ep) throw new Error(`no endpoint ${endpointName}`);
      return Object.fromEntries(ep.variants.map((v) => [v.name, v.currentWeight]));
    },
    lifecycle: async (arn) => {
      const pkg = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
      return {
        stage: pkg.ModelLifeCycle?.Stage,
        status: pkg.ModelLifeCycle?.StageStatus,
        approval: pkg.ModelApprovalStatus,
      };
    },
    setDelivery: async (functionName, enabled) => {
      const rule = stack.wiring.eventRules.find((r) => r.functionName === functionName);
      if (!rule) throw new Error(`no event rule targets ${functionName}`);
      await new EventBridgeClient({ region: 'us-east-1' }).send(
        new PutRuleCommand({
          Name: `${functionName}-rule`,
          EventBusName: rule.bus === 'service' ? stack.busName : 'default',
          EventPattern: JSON.stringify(rule.pattern),
          State: enabled ? 'ENABLED' : 'DISABLED',
        }),
      );
    },
    runUntil,
    phase,
  };
};

/** v1 approved and serving prod alone, with steady traffic on prod. */
export const withV1InProd = async (r: Rollouts, group: string, endpointName: string): Promise<string> => {
  await r.createGroup(group);
  const v1 = await r.registerAndApprove(group);
  await r.runUntil(async () => (await r.phase(`${group}:v1`)) === 'Succeeded');
  r.stack.cloud.setTraffic(endpointName, 600);
  return v1;
};
