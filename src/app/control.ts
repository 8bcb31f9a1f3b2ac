import { authorizeCommand } from '../domain/authorization';
import type { OperatorCommand } from '../domain/model';
import { parseDeploymentId } from '../domain/naming';
import { type Deps, groupConfig } from './deps';
import { runGroup } from './group-runner';
import type { UseCaseOutcome } from './model-package-changed';

export interface CommandOutcome {
  outcome: UseCaseOutcome['outcome'] | 'unauthorized' | 'unknown';
  reason: string;
}

/** Flow 6: promote, pause, resume, abort, rollback, retry; every command is recorded or refused with a reason. */
export const onOperatorCommand = async (
  deps: Deps,
  command: OperatorCommand,
  now: number,
): Promise<CommandOutcome> => {
  const id = parseDeploymentId(command.deploymentId);
  const known =
    id &&
    groupConfig(deps, id.group) &&
    (await deps.store.loadGroup(id.group))?.deployments.some((d) => d.id === command.deploymentId);
  if (!id || !known) {
    // nothing to record it against, and nobody to tell: publishing it would let any caller spam
    // the chat channel with ids of its own making
    const reason = `unknown deployment ${command.deploymentId}`;
    deps.log.warn('command for an unknown deployment', { ...describe(command), reason });
    return { outcome: 'unknown', reason };
  }
  const verdict = authorizeCommand(groupConfig(deps, id.group)?.authorization, command.verb, command.actor);
  const checked = verdict.allowed ? command : { ...command, denied: verdict.reason };
  const run = await runGroup(deps, id.group, now, async (state) => {
    const deployment = state.deployments.find((d) => d.id === command.deploymentId);
    const pkg =
      command.verb === 'retry' && deployment && verdict.allowed
        ? await deps.registry.describePackage(deployment.packageArn)
        : undefined;
    return [{ type: 'Operator', command: checked, pkg }];
  });
  const rejection = run.decision?.rejection;
  // the domain already published the refusal and recorded it in the deployment's history
  if (rejection) {
    const outcome = reject(command, rejection, deps);
    return verdict.allowed ? outcome : { ...outcome, outcome: 'unauthorized' };
  }
  const applied = run.decision?.notes.join('; ') ?? '';
  deps.log.info('command applied', { ...describe(command), result: applied });
  return { outcome: 'applied', reason: applied };
};

const describe = (command: OperatorCommand) => ({
  command: command.verb,
  deploymentId: command.deploymentId,
  actor: command.actor,
  requestId: command.requestId,
});

const reject = (command: OperatorCommand, reason: string, deps: Deps): UseCaseOutcome => {
  deps.log.warn('command rejected', { ...describe(command), reason });
  return { outcome: 'rejected', reason };
};
