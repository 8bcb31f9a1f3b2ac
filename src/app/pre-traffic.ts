import type { PreTrafficConfig } from '../config/schema';
import type { Input } from '../domain/decide';
import type { Deployment } from '../domain/model';
import {
  type Answer,
  judgeRequestSet,
  type RequestOutcome,
  type RequestSet,
  requestBody,
} from '../domain/request-set';
import { TransientError } from '../errors';
import type { InvokeResult, StageEndpoints } from '../ports/sagemaker';
import { type Deps, groupConfig, payloadPolicy, stageEndpoints } from './deps';
import { smokeTest } from './observe';

/**
 * The pre-traffic check of a candidate at weight 0 in prod: the prod stage's smoke test and its
 * request set, sent with TargetVariant (which overrides the weights, so no user request reaches
 * the candidate meanwhile); with `compareWithBaseline`, each request also goes to the baseline
 * variant. Undefined when SageMaker could not be asked now (throttling, 5xx): the next tick asks again.
 */
export const preTrafficInput = async (deps: Deps, d: Deployment): Promise<Input | undefined> => {
  const config = groupConfig(deps, d.group);
  if (!config || !d.canary) return undefined;
  const prod = config.stages.prod;
  const { candidateVariant, baselineVariant } = d.canary;
  const checked = (ok: boolean, detail: string): Input => ({
    type: 'PreTrafficChecked',
    deploymentId: d.id,
    ok,
    detail,
  });
  try {
    const passed: string[] = [];
    if (prod.smokeTest) {
      const result = await smokeTest(deps, d.group, 'prod', candidateVariant);
      if (!result.ok) return checked(false, `smoke test sent to ${candidateVariant}: ${result.detail}`);
      passed.push(`smoke test ${result.detail}`);
    }
    const set = requestSetOf(prod.preTraffic);
    if (set) {
      const endpoints = stageEndpoints(deps, d.group, 'prod');
      const baseline = set.compareWithBaseline ? baselineVariant : undefined;
      const outcomes = await sendRequestSet(endpoints, prod.endpointName, set, candidateVariant, baseline);
      const verdict = judgeRequestSet(set, outcomes, payloadPolicy(config));
      if (!verdict.passed) return checked(false, verdict.failures.join('; '));
      passed.push(
        `${set.requests.length} request(s) answered as expected${baseline ? ` and as ${baseline} did` : ''}`,
      );
    }
    return checked(true, passed.join(', ') || 'nothing to check');
  } catch (error) {
    if (error instanceof TransientError) {
      deps.log.warn('pre-traffic check will be retried', { deploymentId: d.id, error: error.message });
      return undefined;
    }
    const message = error instanceof Error ? error.message : String(error);
    return checked(false, `could not invoke ${candidateVariant}: ${message}`);
  }
};

/** The request set to send: inline, or read from its file when the configuration was loaded. */
export const requestSetOf = (preTraffic: PreTrafficConfig | undefined): RequestSet | undefined =>
  preTraffic?.requests
    ? { requests: preTraffic.requests, compareWithBaseline: preTraffic.compareWithBaseline }
    : undefined;

/** One request after the other: the set is small (at most 50) and prod is serving users meanwhile. */
const sendRequestSet = async (
  endpoints: StageEndpoints,
  endpointName: string,
  set: RequestSet,
  candidate: string,
  baseline: string | undefined,
): Promise<RequestOutcome[]> => {
  const outcomes: RequestOutcome[] = [];
  for (const request of set.requests) {
    const send = async (targetVariant: string): Promise<Answer> =>
      answerOf(
        await endpoints.invoke(endpointName, {
          contentType: request.contentType,
          accept: request.accept,
          body: requestBody(request),
          targetVariant,
        }),
      );
    const outcome: RequestOutcome = { request, candidate: await send(candidate) };
    if (baseline) outcome.baseline = await send(baseline);
    outcomes.push(outcome);
  }
  return outcomes;
};

/** A model's error (ModelError) carries the container's own status and body. */
const answerOf = (result: InvokeResult): Answer => ({ status: result.statusCode, body: result.body });
