import { authorizeCommand } from '../domain/authorization';
import type { OperatorCommand } from '../domain/model';
import { parseDeploymentId } from '../domain/naming';
import { type Deps, groupConfig } from './deps';
import { runGroup } from './group-runner';
import type { UseCaseOutcome } from './model-package-changed';

export interface CommandOutcome {
  outcome: UseCaseOutcome['outcome'] | 'unauthorized';
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
    // nothing to record it against: the refusal is only logged and published
    return reject(deps, command, `unknown deployment ${command.deploymentId}`, now, true);
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
    const outcome = await reject(deps, command, rejection, now, false);
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

const reject = async (
  deps: Deps,
  command: OperatorCommand,
  reason: string,
  now: number,
  publish: boolean,
): Promise<UseCaseOutcome> => {
  deps.log.warn('command rejected', { ...describe(command), reason });
  if (publish) {
    await deps.events.publish([
      {
        type: 'Command Rejected',
        deploymentId: command.deploymentId,
        group: parseDeploymentId(command.deploymentId)?.group,
        at: now,
        detail: { command: command.verb, reason, requestId: command.requestId, actor: command.actor },
      },
    ]);
  }
  return { outcome: 'rejected', reason };
};
