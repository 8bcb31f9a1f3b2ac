import { writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import {
  CreateModelPackageGroupCommand,
  DeleteEndpointCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { LocalStack } from '../src/local/stack';
import { deps } from '../src/wiring';
import { ms, REPO, round, scheduleEvent, WORK_DIR } from './common';
import { approvePackage, createEndpoints, registerPackage } from './local-fixtures';

export interface TickScaling {
  active: number;
  idle: number;
  calls: Record<string, number>;
  wallMs: number;
  /** The same tick without added latency: the service's own work (and the local DynamoDB). */
  wallMsNoLatency: number;
  /** The targets for this row: DescribeEndpoint <= R, GetMetricData <= ceil(R x 6 / 500). */
  withinTarget: boolean;
}

const MINUTE = 60_000;
/** Invocations, 5XX and latency for the candidate and the baseline variant. */
export const QUERIES_PER_ROLLOUT = 6;
const GROUPS = 100;
const groupName = (i: number) => `bench-${String(i).padStart(3, '0')}`;

/** R groups, each a one-step canary with a long bake, so a rollout stays in Canary while measured. */
const writeConfig = (groups: number): string => {
  const lines = ['modelPackageGroups:'];
  for (let i = 0; i < groups; i++) {
    const g = groupName(i);
    lines.push(
      `  ${g}:`,
      '    executionRoleArn: arn:aws:iam::111122223333:role/SageMakerExecution',
      "    authorization: { default: ['arn:aws:iam::111122223333:user/*'] }",
      '    promotion: { mode: auto }',
      '    stages:',
      `      qa: { endpointName: ${g}-qa, instanceType: ml.m5.large, instanceCount: 1 }`,
      '      prod:',
      `        endpointName: ${g}-prod`,
      '        instanceType: ml.m5.large',
      '        instanceCount: 1',
      '        strategy:',
      '          type: canary',
      '          steps: [{ weight: 10, bakeMinutes: 1440 }]',
      '          gates: { maxErrorRate: 0.05, minInvocations: 1 }',
      `          alarms: [${g}-kpi]`,
    );
  }
  const file = resolve(WORK_DIR, 'tick-scaling.rollouts.yml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return relative(REPO, file);
};

/**
 * Drives groups [from, to) into Canary through the real flow: v1 approved goes to QA then alone
 * to prod; v2 approved goes to QA then into a canary next to v1. The v2 approvals are spread over
 * several minutes, so that the canaries' metric windows differ as they do in a real account.
 */
const driveIntoCanary = async (stack: LocalStack, sm: SageMakerClient, from: number, to: number) => {
  const create = (group: string) => registerPackage(sm, group);
  const approve = (arn: string) => approvePackage(sm, arn);
  const groups = Array.from({ length: to - from }, (_, i) => groupName(from + i));
  for (const g of groups) await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: g }));
  for (const g of groups) await approve(await create(g));
  await stack.run(6 * MINUTE);
  for (const g of groups) stack.cloud.setTraffic(`${g}-prod`, 60);
  const second = await Promise.all(groups.map(create));
  for (let i = 0; i < groups.length; i++) {
    await approve(second[i]!);
    if (i % 10 === 9) await stack.run(MINUTE);
  }
  await stack.run(6 * MINUTE);
  const store = deps().store;
  for (const g of groups) {
    const state = await store.loadGroup(g);
    if (!state?.deployments.some((d) => d.phase === 'Canary'))
      throw new Error(`tick scaling: ${g} did not reach Canary (${JSON.stringify(state?.deployments)})`);
  }
};

const timedTick = async (stack: LocalStack, latencyMs: number): Promise<number> => {
  stack.cloud.setLatency(latencyMs);
  const start = process.hrtime.bigint();
  await stack.invoke('canaryTick', scheduleEvent(stack.now));
  const elapsed = round(ms(start), 0);
  stack.cloud.setLatency(0);
  await stack.settle();
  return elapsed;
};

/** Two ticks invoked directly: calls counted without latency, then wall time with 50 ms per call. */
const measureTick = async (stack: LocalStack, active: number, idle: number): Promise<TickScaling> => {
  stack.cloud.resetCalls();
  const wallMsNoLatency = await timedTick(stack, 0);
  const calls = stack.cloud.callCounts();
  const wallMs = await timedTick(stack, 50);
  const describe = calls.DescribeEndpoint ?? 0;
  const metricData = calls.GetMetricData ?? 0;
  return {
    active,
    idle,
    calls,
    wallMs,
    wallMsNoLatency,
    withinTarget: describe <= active && metricData <= Math.ceil((active * QUERIES_PER_ROLLOUT) / 500),
  };
};

export const tickScaling = async (idleCount = 1000): Promise<TickScaling[]> => {
  const stack = await LocalStack.start({
    configPath: writeConfig(GROUPS),
    timings: { createMs: MINUTE, updateMs: MINUTE, weightsMs: 10_000 },
  });
  const sm = new SageMakerClient({ region: 'us-east-1' });
  const rows: TickScaling[] = [];
  let idle: string[] = [];
  const setIdle = async (count: number, round: number) => {
    if (count > 0) idle = await createEndpoints(stack, `bench-idle-${round}`, count, 2 * MINUTE);
    else {
      for (let i = 0; i < idle.length; i += 50)
        await Promise.all(
          idle.slice(i, i + 50).map((name) => sm.send(new DeleteEndpointCommand({ EndpointName: name }))),
        );
      idle = [];
      await stack.run(3 * MINUTE);
    }
  };
  try {
    await driveIntoCanary(stack, sm, 0, 1);
    rows.push(await measureTick(stack, 1, 0));
    await setIdle(idleCount, 1);
    rows.push(await measureTick(stack, 1, idleCount));
    await driveIntoCanary(stack, sm, 1, 10);
    rows.push(await measureTick(stack, 10, idleCount));
    await setIdle(0, 0);
    rows.push(await measureTick(stack, 10, 0));
    await driveIntoCanary(stack, sm, 10, 100);
    rows.push(await measureTick(stack, 100, 0));
    await setIdle(idleCount, 2);
    rows.push(await measureTick(stack, 100, idleCount));
    return rows;
  } finally {
    await stack.close();
  }
};
