import { describeFailedInvocation, describePayload } from '../../domain/payload';
import * as z from '../../zod';
import { findEndpoint, payloadPolicy, stageTarget } from '../deps';
import { defineTask } from './task';

/** Invokes an endpoint once with a sample request and answers with the result. */
export const smokeTestTask = defineTask({
  name: 'smoke-test',
  description: 'invoke endpointName with body (contentType, optional expectBodyContains); answers at once',
  arguments: z.object({
    endpointName: z.string().check(z.minLength(1), z.maxLength(63)),
    body: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]),
    contentType: z._default(z.string(), 'application/json'),
    accept: z.optional(z.string()),
    expectBodyContains: z.optional(z.string()),
  }),
  async start(ctx, args) {
    const { deps } = ctx;
    // No claim first: the answer below is fixed with a conditional write anyway, and a redelivery
    // of an answered token only repeats a read-only InvokeEndpoint before it finds that answer.
    const where = findEndpoint(deps.config, args.endpointName);
    const group = where ? deps.config.modelPackageGroups[where.group] : undefined;
    const endpoints = deps.endpoints.forStage(
      where && group
        ? stageTarget(group, where.group, where.stage)
        : { group: where?.group ?? '', stage: where?.stage ?? 'qa' },
    );
    const body = typeof args.body === 'string' ? args.body : JSON.stringify(args.body);
    const result = await endpoints.invoke(args.endpointName, {
      contentType: args.contentType,
      accept: args.accept,
      body,
    });
    const outputs = { EndpointName: args.endpointName, StatusCode: String(result.statusCode) };
    // the body comes from the pipeline: a group's debug flag applies only to its own endpoints
    const policy = payloadPolicy(group);
    if (!result.ok) {
      await ctx.answer('failure', {
        reason: `${args.endpointName} answered ${describeFailedInvocation(result, policy)}`,
      });
      return;
    }
    if (args.expectBodyContains !== undefined && !result.body.includes(args.expectBodyContains)) {
      await ctx.answer('failure', {
        reason: `${args.endpointName} response lacks ${JSON.stringify(args.expectBodyContains)} (answer ${describePayload(result.body, policy)})`,
      });
      return;
    }
    await ctx.answer('success', { outputs });
  },
});
