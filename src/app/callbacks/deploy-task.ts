import { PermanentError } from '../../errors';
import * as z from '../../zod';
import { groupConfig } from '../deps';
import { runGroup } from '../group-runner';
import { defineTask } from './task';

/** Deploys a model package version up to a stage and answers when it is live there. */
export const deployTask = defineTask({
  name: 'deploy',
  description: 'deploy modelPackageArn up to stage (qa or prod); answers when it is live there',
  arguments: z.object({
    modelPackageArn: z
      .string()
      .check(
        z.regex(
          /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/[^/]+\/\d+$/,
          'must be a model package version ARN',
        ),
      ),
    stage: z._default(z.enum(['qa', 'prod']), 'prod'),
  }),
  async start(ctx, args) {
    const { deps, message, now } = ctx;
    let pkg: Awaited<ReturnType<typeof deps.registry.describePackage>>;
    try {
      pkg = await deps.registry.describePackage(args.modelPackageArn);
    } catch (error) {
      if (!(error instanceof PermanentError)) throw error;
      if (await ctx.claim())
        await ctx.answer('failure', { reason: `cannot read ${args.modelPackageArn}: ${error.message}` });
      return;
    }
    if (!groupConfig(deps, pkg.group)) {
      if (await ctx.claim()) {
        await ctx.answer('failure', {
          reason: `model package group ${pkg.group} is not configured in sagemaker-rollouts`,
        });
      }
      return;
    }
    if (!(await ctx.claim(pkg.group))) return;
    await runGroup(deps, pkg.group, now, () => [
      {
        type: 'CallbackRequested',
        callback: {
          token: message.token,
          pipelineExecutionArn: message.pipelineExecutionArn,
          stage: args.stage,
        },
        pkg,
      },
    ]);
    // A Stopping handled concurrently may have answered before the work was attached: cancel it
    const record = await deps.store.getCallback(message.token);
    if (record?.answer) {
      await runGroup(deps, pkg.group, now, () => [{ type: 'CallbackStopping', token: message.token }]);
    }
  },
});
