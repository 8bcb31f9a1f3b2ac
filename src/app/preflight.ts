import type { GroupConfig, StageName } from '../config/schema';
import {
  artifactsInStageRegion,
  type PackageArtifacts,
  type PreflightVerdict,
  packagesToCheck,
  preflightArtifacts,
  type RegionalContainer,
  type StageArtifactLocation,
  stageRegionContainers,
} from '../domain/artifacts';
import type { Input } from '../domain/decide';
import type { DesiredEndpoint, GroupState } from '../domain/model';
import { PermanentError } from '../errors';
import type { ArtifactLookup } from '../ports/artifacts';
import { type Deps, groupConfig, stageTarget, UnknownGroupError } from './deps';

/** Looks up every artifact a stage's region needs for a package version, then judges (no endpoint is touched). */
export async function checkStageArtifacts(
  lookup: ArtifactLookup,
  pkg: PackageArtifacts,
  location: StageArtifactLocation,
): Promise<PreflightVerdict> {
  const needed = artifactsInStageRegion(pkg, location);
  if ('refused' in needed) return { ok: false, reason: needed.refused };
  const observed = await Promise.all(needed.artifacts.map((artifact) => lookup.observe(artifact)));
  return preflightArtifacts(pkg, location, observed);
}

/** A version's artifacts as the registry describes them. */
export type PackageArtifactsReader = (packageArn: string) => Promise<PackageArtifacts>;

/**
 * The registry's answers kept for one deploy step: the pre-flight and the regional containers
 * read the same versions, and each needs DescribeModelPackage once.
 */
export const packageArtifactsOnce = (deps: Deps): PackageArtifactsReader => {
  const read = new Map<string, Promise<PackageArtifacts>>();
  return (packageArn) => {
    let answer = read.get(packageArn);
    if (!answer) {
      answer = deps.registry.packageArtifacts(packageArn);
      read.set(packageArn, answer);
    }
    return answer;
  };
};

/** Where a stage's region reads artifacts: its own region (else the service's) and its mappings. */
export const stageArtifactLocation = (
  config: GroupConfig,
  serviceRegion: string,
  stage: StageName,
): StageArtifactLocation => {
  const artifacts = config.stages[stage].artifacts;
  return {
    region: config.stages[stage].region ?? serviceRegion,
    s3: artifacts?.s3 ?? [],
    ecr: artifacts?.ecr ?? [],
  };
};

/**
 * The pre-flight of a desired spec, right before the executor deploys it: the versions it brings
 * (packagesToCheck) read from the registry, their artifacts looked up with the stage's own
 * credentials. The input that fails the stage when one is missing or refused to those credentials;
 * the packages checked otherwise. A lookup that could not answer (throttling, 5xx, a timeout) is
 * thrown for the executor to retry, never taken for an answer.
 */
export async function preflightSpec(
  deps: Deps,
  state: GroupState,
  desired: DesiredEndpoint,
  packageArtifacts: PackageArtifactsReader,
): Promise<{ checked: string[] } | { missing: Input & { type: 'ArtifactsMissing' } }> {
  const config = groupConfig(deps, state.group);
  if (!config) throw new UnknownGroupError(`model package group ${state.group} is not configured`);
  const location = stageArtifactLocation(config, deps.region, desired.stage);
  const lookup = deps.artifacts.forStage(stageTarget(config, state.group, desired.stage));
  const checked: string[] = [];
  for (const packageArn of packagesToCheck(desired, state.deployments)) {
    const verdict = await checkStageArtifacts(lookup, await packageArtifacts(packageArn), location);
    if (!verdict.ok) {
      return {
        missing: {
          type: 'ArtifactsMissing',
          stage: desired.stage,
          generation: desired.generation,
          packageArn,
          reason: verdict.reason,
        },
      };
    }
    checked.push(packageArn);
  }
  return { checked };
}

/** A stage whose region is not the registry's (the service's own) cannot name a package in CreateModel. */
export class ContainersUnavailableError extends PermanentError {}

/**
 * For a stage outside the service's region, where the registry is: the containers each version
 * of a desired spec runs there (images and model data as that region finds them), by package
 * ARN; undefined for a stage in the service's region, whose models name their package.
 */
export async function regionalContainers(
  deps: Deps,
  group: string,
  desired: DesiredEndpoint,
  packageArtifacts: PackageArtifactsReader,
): Promise<Record<string, RegionalContainer[]> | undefined> {
  const config = groupConfig(deps, group);
  if (!config) throw new UnknownGroupError(`model package group ${group} is not configured`);
  const location = stageArtifactLocation(config, deps.region, desired.stage);
  if (location.region === deps.region) return undefined;
  const byPackage: Record<string, RegionalContainer[]> = {};
  for (const packageArn of new Set(desired.variants.map((v) => v.packageArn))) {
    const found = stageRegionContainers(await packageArtifacts(packageArn), location);
    if ('refused' in found) throw new ContainersUnavailableError(found.refused);
    byPackage[packageArn] = found.containers;
  }
  return byPackage;
}
