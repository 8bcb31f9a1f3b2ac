import { randomUUID } from 'node:crypto';
import type { HistoryEntry, OperatorVerb } from '../domain/model';
import { namedStageRefusal } from '../domain/named-stage';
import { deploymentId } from '../domain/naming';
import type { Context } from './context';
import { CliError, EXIT, type ExitCode, UsageError } from './errors';
import { findDeployment } from './history';

export const VERBS: readonly OperatorVerb[] = ['promote', 'pause', 'resume', 'abort', 'rollback', 'retry'];

export const isVerb = (word: string): word is OperatorVerb => (VERBS as readonly string[]).includes(word);

/** Limit of the command body schema (src/domain/schemas/control-command.ts). */
const MAX_REASON = 1024;

export interface CommandRequest {
  verb: OperatorVerb;
  deploymentId: string;
  reason: string | undefined;
  wait: boolean;
  timeoutMs: number;
  pollMs: number;
  /** promote: skip the remaining steps (Argo's `promote --full`) */
  full?: boolean | undefined;
  /** promote and rollback: the stage the command is about (`--in`) */
  stage?: string | undefined;
}

export interface CommandResult {
  outcome: 'applied' | 'rejected' | 'sent';
  verb: OperatorVerb;
  deploymentId: string;
  requestId: string;
  /** the deployment the result was recorded on (a retry creates the next attempt) */
  recordedOn?: string | undefined;
  /** the refusal, or the transition's reason */
  reason?: string | undefined;
  transition?: Pick<HistoryEntry, 'from' | 'to' | 'at' | 'actor' | 'reason'> | undefined;
  /** the deployment's phase once the command was applied */
  phase?: string | undefined;
  exitCode: ExitCode;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * `--in <stage>` checked against the group's stages in the rollouts config, when there is one,
 * before anything is sent (the control function checks it again against the configuration it runs).
 */
const checkStage = (ctx: Context, verb: OperatorVerb, group: string, stage: string): void => {
  if (verb !== 'promote' && verb !== 'rollback')
    throw new UsageError('--in only applies to promote and rollback');
  const graph = ctx.config()?.modelPackageGroups[group]?.graph;
  const refusal = graph && namedStageRefusal(graph, group, verb, stage);
  if (refusal) throw new UsageError(refusal);
};

/**
 * Sends an operator command to the signed command URL (the same path other systems use) and waits until
 * the control function has recorded its outcome in the deployment's history, matched by requestId.
 */
export const runCommand = async (ctx: Context, request: CommandRequest): Promise<CommandResult> => {
  const { verb } = request;
  const reason = request.reason?.trim();
  if (!reason) {
    throw new UsageError(`${verb} needs --reason "<why>": every command is recorded in the audit history`);
  }
  if (reason.length > MAX_REASON) throw new UsageError(`--reason is longer than ${MAX_REASON} characters`);
  // fail fast: the control function records nothing for a deployment it does not know
  const { state, deployment } = await findDeployment(ctx, request.deploymentId);
  const requestId = randomUUID();
  if (request.full && verb !== 'promote') throw new UsageError('--full only applies to promote');
  if (request.stage !== undefined) checkStage(ctx, verb, deployment.group, request.stage);
  await ctx.sender.send({
    verb,
    deploymentId: deployment.id,
    reason,
    requestId,
    full: request.full,
    ...(request.stage !== undefined ? { stage: request.stage } : {}),
  });
  const base = { verb, deploymentId: deployment.id, requestId };
  if (!request.wait) return { ...base, outcome: 'sent', exitCode: EXIT.ok };

  const nextAttempt =
    Math.max(...state.deployments.filter((d) => d.version === deployment.version).map((d) => d.attempt)) + 1;
  const watched =
    verb === 'retry'
      ? [deployment.id, deploymentId(deployment.group, deployment.version, nextAttempt)]
      : [deployment.id];
  const deadline = Date.now() + request.timeoutMs;
  for (;;) {
    for (const id of watched) {
      const entry = (await ctx.store.history(id)).find((e) => e.requestId === requestId);
      if (!entry) continue;
      const transition = {
        from: entry.from,
        to: entry.to,
        at: entry.at,
        actor: entry.actor,
        reason: entry.reason,
      };
      // the domain records a refusal as "<verb> refused: <why>" on the deployment, phase unchanged
      const refusal = `${verb} refused: `;
      if (entry.reason.startsWith(refusal)) {
        return {
          ...base,
          outcome: 'rejected',
          recordedOn: id,
          reason: entry.reason.slice(refusal.length),
          transition,
          phase: entry.to,
          exitCode: EXIT.rejected,
        };
      }
      const current = (await ctx.store.loadGroup(deployment.group))?.deployments.find((d) => d.id === id);
      return {
        ...base,
        outcome: 'applied',
        recordedOn: id,
        reason: entry.reason,
        transition,
        phase: current?.phase ?? entry.to,
        exitCode: EXIT.ok,
      };
    }
    if (Date.now() >= deadline) {
      throw new CliError(
        `sent ${verb} for ${deployment.id} (request ${requestId}) to bus ${ctx.settings.busName}, but no outcome was recorded within ${Math.round(request.timeoutMs / 1000)}s.\n` +
          `The command may still be applied: check \`sagemaker-rollouts history ${deployment.id}\` shortly. ` +
          `If nothing appears, check that the control function is deployed for this stage and its logs, or wait longer with --timeout <seconds>.`,
        EXIT.timeout,
      );
    }
    await sleep(Math.min(request.pollMs, Math.max(0, deadline - Date.now())));
  }
};
