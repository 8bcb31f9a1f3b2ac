import type { GroupConfig, StageName } from '../config/schema';
import {
  artifactsInStageRegion,
  type PackageArtifacts,
  type PreflightVerdict,
  packagesToCheck,
  preflightArtifacts,
  type StageArtifactLocation,
} from '../domain/artifacts';
import type { Input } from '../domain/decide';
import type { DesiredEndpoint, GroupState } from '../domain/model';
import type { ArtifactLookup } from '../ports/artifacts';
import { type Deps, groupConfig, UnknownGroupError } from './deps';

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

/** Where a stage's region reads artifacts: its own region (else the service's) and its mappings. */
const stageArtifactLocation = (
  config: GroupConfig,
  serviceRegion: string,
  stage: StageName,
): StageArtifactLocation => {
  const artifacts = config.stages[stage].artifacts;
  return {
    region: config.graph.stages.find((s) => s.name === stage)?.region ?? serviceRegion,
    s3: artifacts?.s3 ?? [],
    ecr: artifacts?.ecr ?? [],
  };
};

/**
 * The pre-flight of a desired spec, right before the executor deploys it: the versions it brings
 * (packagesToCheck) read from the registry, their artifacts looked up with the stage's own
 * credentials. The input that fails the stage when one is missing; the packages checked otherwise.
 * A lookup that could not answer (throttling, access denied) is thrown, never taken for an answer.
 */
export async function preflightSpec(
  deps: Deps,
  state: GroupState,
  desired: DesiredEndpoint,
): Promise<{ checked: string[] } | { missing: Input & { type: 'ArtifactsMissing' } }> {
  const config = groupConfig(deps, state.group);
  if (!config) throw new UnknownGroupError(`model package group ${state.group} is not configured`);
  const location = stageArtifactLocation(config, deps.region, desired.stage);
  const lookup = deps.artifacts.forStage({
    group: state.group,
    stage: desired.stage,
    crossAccount: config.stages[desired.stage].crossAccount,
  });
  const checked: string[] = [];
  for (const packageArn of packagesToCheck(desired, state.deployments)) {
    const verdict = await checkStageArtifacts(
      lookup,
      await deps.registry.packageArtifacts(packageArn),
      location,
    );
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
