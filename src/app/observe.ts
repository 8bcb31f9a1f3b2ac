import type { StageName } from '../config/schema';
import type { Input } from '../domain/decide';
import type { GroupState } from '../domain/model';
import { describeFailedInvocation, describePayload } from '../domain/payload';
import { type Deps, groupConfig, payloadPolicy, stageEndpoints } from './deps';

export interface SmokeTestResult {
  ok: boolean;
  detail: string;
}

/**
 * InvokeEndpoint with the stage's configured sample request; checks status and, optionally, the
 * body. `targetVariant` sends it to that variant whatever the weights.
 */
export const smokeTest = async (
  deps: Deps,
  group: string,
  stage: StageName,
  targetVariant?: string,
): Promise<SmokeTestResult> => {
  const stageConfig = groupConfig(deps, group)?.stages[stage];
  const test = stageConfig?.smokeTest;
  if (!stageConfig || !test) return { ok: true, detail: 'no smoke test configured' };
  const body = typeof test.body === 'string' ? test.body : JSON.stringify(test.body);
  const result = await stageEndpoints(deps, group, stage).invoke(stageConfig.endpointName, {
    contentType: test.contentType,
    accept: test.accept,
    body,
    targetVariant,
  });
  const policy = payloadPolicy(groupConfig(deps, group));
  if (!result.ok) return { ok: false, detail: describeFailedInvocation(result, policy) };
  if (test.expectBodyContains !== undefined && !result.body.includes(test.expectBodyContains)) {
    return {
      ok: false,
      detail: `response does not contain ${JSON.stringify(test.expectBodyContains)} (answer ${describePayload(result.body, policy)})`,
    };
  }
  return { ok: true, detail: `HTTP ${result.statusCode}` };
};

/** The stages whose endpoints the group's in-flight deployments wait on or run a canary on. */
export const watchedStages = (state: Pick<GroupState, 'deployments'>): StageName[] => {
  const stages = new Set<StageName>();
  for (const d of state.deployments) {
    if (d.awaiting) stages.add(d.awaiting.stage);
    if (d.phase === 'Canary' || d.phase === 'Shadow') stages.add('prod');
  }
  return [...stages];
};

/** DescribeEndpoint for each stage, as inputs. */
export const observeStages = async (deps: Deps, group: string, stages: StageName[]): Promise<Input[]> => {
  const config = groupConfig(deps, group);
  if (!config) return [];
  return Promise.all(
    stages.map(async (stage) => ({
      type: 'EndpointObserved' as const,
      stage,
      endpoint: await stageEndpoints(deps, group, stage).describe(config.stages[stage].endpointName),
    })),
  );
};
