import {
  artifactsInStageRegion,
  type PackageArtifacts,
  type PreflightVerdict,
  preflightArtifacts,
  type StageArtifactLocation,
} from '../domain/artifacts';
import type { ArtifactLookup } from '../ports/artifacts';

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
