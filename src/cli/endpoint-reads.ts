import type { RolloutsConfig } from '../config/schema';
import type { EndpointObservation, StageName } from '../domain/model';
import type { Context } from './context';

/** One DescribeEndpoint as `status` shows it: the endpoint now, none by that name, or why it could not be read. */
export type EndpointRead =
  | { kind: 'live'; observation: EndpointObservation }
  | { kind: 'missing' }
  | { kind: 'unreadable'; error: string };

export type ReadEndpoint = (group: string, stage: StageName, name: string) => Promise<EndpointRead>;

/**
 * DescribeEndpoint through each stage's role and region (the config's), at most once per endpoint
 * in one `status`: the deployment rows and the stage lines share the reads.
 */
export const endpointReads = (
  ctx: Pick<Context, 'endpoints'>,
  config: RolloutsConfig | undefined,
): ReadEndpoint => {
  const reads = new Map<string, Promise<EndpointRead>>();
  return (group, stage, name) => {
    const key = `${group}/${stage}/${name}`;
    let pending = reads.get(key);
    if (!pending) {
      const { crossAccount, region } = config?.modelPackageGroups[group]?.stages[stage] ?? {};
      pending = ctx.endpoints
        .forStage({ group, stage, crossAccount, region })
        .describe(name)
        .then(
          (observation): EndpointRead => (observation ? { kind: 'live', observation } : { kind: 'missing' }),
          (error: unknown): EndpointRead => ({
            kind: 'unreadable',
            error: error instanceof Error ? error.message : String(error),
          }),
        );
      reads.set(key, pending);
    }
    return pending;
  };
};

/** The live weights of an endpoint, by variant. */
export const liveWeights = (observation: EndpointObservation): Record<string, number> =>
  Object.fromEntries(observation.variants.map((v) => [v.variantName, v.currentWeight]));
