import type { Command } from '../domain/model';
import { NATIVE_VARIANT_NAME } from '../domain/naming';
import { PermanentError } from '../errors';
import type { DeploySpec, NativeDeploySpec } from '../ports/sagemaker';
import { answerCallback } from './callbacks/answer';
import { type Deps, groupConfig, stageEndpoints } from './deps';

/**
 * `done`: carried out (or found already done); `wait`: the endpoint is busy, try again on the next
 * event or tick; `failed`: it can never succeed as asked (the deployment must be told).
 */
export type Outcome =
  | { status: 'done' }
  | { status: 'wait'; why: string }
  | { status: 'failed'; reason: string };

const done: Outcome = { status: 'done' };

/** Carries out one command. Transient AWS errors are thrown; the command stays in the outbox. */
export const execute = async (deps: Deps, command: Command, now: number): Promise<Outcome> => {
  try {
    return await run(deps, command, now);
  } catch (error) {
    if (error instanceof PermanentError) return { status: 'failed', reason: error.message };
    throw error;
  }
};

const run = async (deps: Deps, command: Command, now: number): Promise<Outcome> => {
  switch (command.type) {
    case 'DeployEndpoint': {
      const spec = deploySpec(deps, command);
      const endpoints = stageEndpoints(deps, command.group, command.stage);
      const current = await endpoints.describe(command.endpointName);
      if (current?.status === 'Failed' && current.configName !== command.configName) {
        // SageMaker allows nothing but DeleteEndpoint on a failed endpoint
        await endpoints.delete(command.endpointName);
        return { status: 'wait', why: `deleting failed endpoint ${command.endpointName}` };
      }
      const result = await endpoints.deploy(spec);
      return result === 'busy' ? { status: 'wait', why: `${command.endpointName} is not InService` } : done;
    }
    case 'SetWeights': {
      const endpoints = stageEndpoints(deps, command.group, command.stage);
      const result = await endpoints.setWeights(command.endpointName, command.weights);
      return result === 'busy' ? { status: 'wait', why: `${command.endpointName} is not InService` } : done;
    }
    case 'UpdateRegistry':
      await deps.registry.updatePackage(command.packageArn, {
        lifecycle: command.lifecycle && {
          stage: command.lifecycle.stage,
          stageStatus: command.lifecycle.status,
          description: command.lifecycle.description,
        },
        approvalStatus: command.reject ? 'Rejected' : undefined,
        approvalDescription: command.reject?.description,
      });
      return done;
    case 'RetireResources':
      await stageEndpoints(deps, command.group, command.stage).retire(
        command.modelNames,
        command.configNames,
      );
      return done;
    case 'AnswerCallback':
      await answerCallback(deps, command, now);
      return done;
    case 'Publish':
      await deps.events.publish([command.event]);
      return done;
    case 'RecordHistory':
      await deps.store.appendHistory([command.entry]);
      return done;
  }
};

const deploySpec = (deps: Deps, command: Extract<Command, { type: 'DeployEndpoint' }>): DeploySpec => {
  const group = groupConfig(deps, command.group);
  if (!group) throw new PermanentError(`model package group ${command.group} is no longer configured`);
  const stage = group.stages[command.stage];
  const strategy = group.stages.prod.strategy;
  let native: NativeDeploySpec | undefined;
  if (command.native && strategy.type === 'native') {
    native = {
      type: strategy.trafficRouting.type,
      waitIntervalSeconds: strategy.trafficRouting.waitIntervalSeconds,
      sizePercent: strategy.trafficRouting.sizePercent,
      terminationWaitSeconds: strategy.terminationWaitSeconds,
      maximumExecutionTimeoutSeconds: strategy.maximumExecutionTimeoutSeconds,
      alarms: strategy.alarms,
    };
  }
  return {
    endpointName: command.endpointName,
    configName: command.configName,
    variants: command.variants,
    instance: {
      instanceType: stage.instanceType,
      instanceCount: stage.instanceCount ?? (stage.instanceType ? 1 : undefined),
      serverless: stage.serverless,
    },
    executionRoleArn: group.executionRoleArn,
    tags: {
      'managed-by': 'sagemaker-rollouts',
      group: command.group,
      stage: command.stage,
      version: command.variants.map((v) => `v${v.version}`).join('-'),
      // tag values may not contain '#'
      'deployment-id': command.deploymentId.replace('#', '/attempt-'),
      ...(command.variants.some((v) => v.variantName === NATIVE_VARIANT_NAME) ? { strategy: 'native' } : {}),
    },
    native,
  };
};
