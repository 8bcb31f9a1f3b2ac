import { placeOf } from '../domain/stage-place';
import { RolloutsError } from '../errors';
import { type Deps, findEndpoint } from './deps';
import { runGroup } from './group-runner';
import type { UseCaseOutcome } from './model-package-changed';
import { observeStages, watchedStages } from './observe';

/** Where an endpoint event comes from: its region, and the ARN of the endpoint it is about. */
export interface EndpointEventOrigin {
  region: string;
  /** `arn:aws:sagemaker:<region>:<account>:endpoint/<name>`: names the endpoint's account too */
  endpointArn: string;
}

/**
 * An event about an endpoint that has a stage's name but is not the stage's endpoint (another
 * account's); found when the stage's own endpoint is observed, before anything is decided.
 */
export class ForeignEndpointEventError extends RolloutsError {}

const sameArn = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * Flow 2 (and every later endpoint wait): an endpoint event only says "look now"; DescribeEndpoint
 * is the truth, so duplicated, reordered or stale events all lead to the same decision. The event
 * must be about the stage's own endpoint: its name, its region (the stage's), and its ARN, which
 * must be the one the stage's clients (its account's role) describe. A same-named endpoint of
 * another region or account moves nothing.
 */
export const onEndpointChanged = async (
  deps: Deps,
  endpointName: string,
  now: number,
  origin: EndpointEventOrigin,
): Promise<UseCaseOutcome> => {
  const where = findEndpoint(deps.config, endpointName);
  if (!where)
    return { outcome: 'ignored', reason: `endpoint ${endpointName} is not managed by this service` };
  // findEndpoint found the stage in this configuration
  const stageRegion = placeOf(deps.config.modelPackageGroups[where.group]!, deps.region, where.stage)!.region;
  if (origin.region !== stageRegion)
    return {
      outcome: 'ignored',
      reason: `endpoint ${endpointName} of ${origin.region} is not stage ${where.stage} of ${where.group}, whose endpoint is in ${stageRegion}`,
    };
  let run: Awaited<ReturnType<typeof runGroup>>;
  try {
    run = await runGroup(deps, where.group, now, async (state) => {
      if (!watchedStages(state).includes(where.stage)) return [];
      const inputs = await observeStages(deps, where.group, [where.stage]);
      const [input] = inputs;
      const observed = input?.type === 'EndpointObserved' ? input.endpoint?.endpointArn : undefined;
      if (observed !== undefined && !sameArn(observed, origin.endpointArn))
        throw new ForeignEndpointEventError(
          `endpoint ${origin.endpointArn} is not stage ${where.stage} of ${where.group}, whose endpoint is ${observed}`,
        );
      return inputs;
    });
  } catch (error) {
    if (error instanceof ForeignEndpointEventError) return { outcome: 'ignored', reason: error.message };
    throw error;
  }
  if (!run.decision) return { outcome: 'ignored', reason: `no deployment waits on ${endpointName}` };
  return { outcome: 'applied', reason: run.decision.notes.join('; ') };
};
