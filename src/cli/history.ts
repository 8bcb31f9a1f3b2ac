import type { Deployment, GroupState, HistoryEntry } from '../domain/model';
import { parseDeploymentId } from '../domain/naming';
import type { Context } from './context';
import { CliError, EXIT, UsageError } from './errors';
import { type Colour, formatTime, formatWeights, renderTable } from './output';
import { readingsText } from './status';
import { UnknownNameError } from './suggest';

export const parseIdOrFail = (
  id: string | undefined,
): { group: string; version: number; attempt: number } => {
  if (!id)
    throw new UsageError('missing <deployment>, e.g. churn-model:v3 (see `sagemaker-rollouts status`)');
  const parsed = parseDeploymentId(id);
  if (!parsed) {
    throw new UsageError(
      `"${id}" is not a deployment id: expected <group>:v<version> or <group>:v<version>#<attempt>, e.g. churn-model:v3`,
    );
  }
  return parsed;
};

/**
 * The group's record, for a group the rollouts config names or the table holds; otherwise exit 2
 * with the nearest known name (a typo must not read as "nothing in flight").
 */
export const requireGroup = async (ctx: Context, group: string, prefix?: string) => {
  const state = await ctx.reader.group(group);
  const configured = Object.keys(ctx.config()?.modelPackageGroups ?? {});
  if (state || configured.includes(group)) return state;
  const known = [...configured, ...(await ctx.reader.activeGroupNames())];
  throw new UnknownNameError('model package group', group, known, {
    prefix,
    advice: `Nothing is recorded for it in table ${ctx.settings.tableName}${configured.length > 0 ? ' and the rollouts config does not name it' : ''}: check the name, --stage/--table and the region`,
  });
};

/** The deployment as the table knows it; fails with exit 2 and the ids that do exist otherwise. */
export const findDeployment = async (
  ctx: Context,
  id: string,
): Promise<{ state: GroupState; deployment: Deployment }> => {
  const { group } = parseIdOrFail(id);
  const state = await requireGroup(ctx, group, `unknown deployment ${id}`);
  if (!state) {
    throw new NotRecordedError(
      `unknown deployment ${id}: group ${group} has no deployments yet. Run \`sagemaker-rollouts status --all\` to list them.`,
      [],
    );
  }
  const deployment = state.deployments.find((d) => d.id === id);
  if (!deployment) {
    const known = state.deployments.map((d) => d.id);
    throw new NotRecordedError(
      `unknown deployment ${id}: group ${group} has ${known.length > 0 ? known.join(', ') : 'no deployments'}. Run \`sagemaker-rollouts status --all\` to list them.`,
      state.deployments.map((d) => d.version),
    );
  }
  return { state, deployment };
};

/** A deployment id of a known group that the group's record does not hold (exit 2). */
export class NotRecordedError extends CliError {
  constructor(
    message: string,
    /** the versions the group's record holds */
    readonly versions: number[],
  ) {
    super(message, EXIT.usage);
  }
}

/** An entry's stage, with its region when that is not the service's own (`--json` has both always). */
const stageText = (entry: HistoryEntry, serviceRegion: string | undefined): string => {
  if (!entry.stage) return '';
  return entry.region && entry.region !== serviceRegion ? `${entry.stage} ${entry.region}` : entry.stage;
};

export const renderHistory = (
  id: string,
  entries: HistoryEntry[],
  colour: Colour,
  width?: number,
  serviceRegion?: string,
): string => {
  if (entries.length === 0) return `${id}: no history recorded.`;
  // entries recorded before stages were named have none: the column is left out when no entry has one
  const staged = entries.some((e) => e.stage !== undefined);
  const rows = entries.map((e) => [
    formatTime(e.at),
    e.from === e.to || e.from === null ? e.to : `${e.from} → ${e.to}`,
    ...(staged ? [stageText(e, serviceRegion)] : []),
    e.actor === 'system' ? colour.dim(e.actor) : colour.cyan(e.actor),
    e.reason,
    e.weights ? formatWeights(e.weights) : '',
    e.readings ? readingsText(e.readings, colour) : '',
  ]);
  const headers = ['TIME', 'TRANSITION', ...(staged ? ['STAGE'] : []), 'ACTOR', 'REASON', 'WEIGHTS', 'GATES'];
  return renderTable(headers, rows, colour, {
    maxWidth: width,
    shrink: ['REASON', 'GATES', 'WEIGHTS', 'ACTOR'],
  });
};
