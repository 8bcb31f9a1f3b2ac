import type { Command } from '../domain/model';
import { PermanentError } from '../errors';
import { answerCallback } from './callbacks/answer';
import { type Deps, stageAutoscaling, stageEndpoints } from './deps';

/** `done`: carried out (or found already done); `failed`: it can never succeed as asked. */
export type Outcome = { status: 'done' } | { status: 'failed'; reason: string };

const done: Outcome = { status: 'done' };

/** Carries out one effect. Transient AWS errors are thrown; the effect stays in the outbox. */
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
    case 'ApplyScaling':
      await stageAutoscaling(deps, command.group, command.stage).apply(
        command.endpointName,
        command.variantName,
        command.scaling,
      );
      return done;
    case 'Publish':
      await deps.events.publish([command.event]);
      return done;
    case 'RecordHistory':
      await deps.store.appendHistory([command.entry]);
      return done;
  }
};
