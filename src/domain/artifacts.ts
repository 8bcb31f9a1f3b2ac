import type { Deployment, DesiredEndpoint } from './model';

/**
 * SageMaker needs a model's artifacts (the S3 object of ModelDataUrl) and its image (ECR) in the
 * endpoint's region. A stage names how its region finds them: a mapping of S3 prefixes and of ECR
 * repositories, for the replication the user already runs. This module is the pure part of the
 * pre-flight check: which artifacts a stage needs where, and the verdict once their presence is
 * known (the adapters look them up with S3 HeadObject and ECR DescribeImages).
 */

/** The containers of a model package version (DescribeModelPackage's InferenceSpecification). */
export interface PackageArtifacts {
  packageArn: string;
  containers: { image: string; modelDataUrl?: string | undefined }[];
}

/** `from` (where the package names an artifact) is found at `to` in the stage's region. */
export interface LocationMapping {
  from: string;
  to: string;
}

export interface StageArtifactLocation {
  region: string;
  /** S3 URI prefixes, e.g. `s3://models-use1/fraud/` -> `s3://models-euw1/fraud/`. */
  s3: LocationMapping[];
  /** ECR repositories, e.g. `1111.dkr.ecr.us-east-1.amazonaws.com/fraud` -> `1111.dkr.ecr.eu-west-1.amazonaws.com/fraud`. */
  ecr: LocationMapping[];
}

export interface S3Object {
  kind: 's3';
  /** as the package names it */
  source: string;
  region: string;
  bucket: string;
  key: string;
}

export interface EcrImage {
  kind: 'ecr';
  source: string;
  region: string;
  registryId: string;
  repository: string;
  tag?: string | undefined;
  digest?: string | undefined;
}

export type RegionalArtifact = S3Object | EcrImage;

/**
 * What the lookup found: present, or absent with what the service said (e.g. the bucket's own
 * region), or refused to the stage's credentials (with the permission they need).
 */
export interface ArtifactObservation {
  artifact: RegionalArtifact;
  present: boolean;
  detail?: string | undefined;
  /** The lookup was refused (access denied): what the stage's credentials must be allowed. */
  deniedPermission?: string | undefined;
}

export type PreflightVerdict = { ok: true } | { ok: false; reason: string };

const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/;
const ECR_IMAGE =
  /^(\d{12})\.dkr\.ecr\.([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.amazonaws\.com(?:\.cn)?\/([a-z0-9][a-z0-9._/-]*?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$/;

/** The parts of an Amazon ECR image URI (`account.dkr.ecr.region.amazonaws.com/repo[:tag][@digest]`). */
export const parseEcrImage = (
  uri: string,
): { registryId: string; region: string; repository: string; tag?: string; digest?: string } | undefined => {
  const parsed = ECR_IMAGE.exec(uri);
  if (!parsed) return undefined;
  const [, registryId = '', region = '', repository = '', tag, digest] = parsed;
  return { registryId, region, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
};

/** The longest mapping whose `from` starts the URI, applied; undefined when none does. */
const mapped = (uri: string, mappings: LocationMapping[]): string | undefined => {
  const best = mappings
    .filter((m) => uri.startsWith(m.from))
    .sort((a, b) => b.from.length - a.from.length)[0];
  return best ? best.to + uri.slice(best.from.length) : undefined;
};

/** A repository mapping applies to the repository part of an image URI (the tag or digest is kept). */
const mappedImage = (image: string, mappings: LocationMapping[]): string | undefined => {
  const at = image.search(/[:@][^/]*$/);
  const repository = at >= 0 ? image.slice(0, at) : image;
  const best = mappings.find((m) => m.from === repository);
  return best ? best.to + image.slice(repository.length) : undefined;
};

const keyOf = (a: RegionalArtifact): string =>
  a.kind === 's3'
    ? `s3 ${a.region} ${a.bucket}/${a.key}`
    : `ecr ${a.region} ${a.registryId}/${a.repository}:${a.tag ?? ''}@${a.digest ?? ''}`;

export const describeArtifact = (a: RegionalArtifact): string =>
  a.kind === 's3'
    ? `model data s3://${a.bucket}/${a.key} (bucket ${a.bucket}, region ${a.region})`
    : `image ${a.repository}${a.tag ? `:${a.tag}` : ''}${a.digest ? `@${a.digest}` : ''} (ECR repository ${a.repository} of registry ${a.registryId}, region ${a.region})`;

/** A container as a stage's region finds it: its image and model data there. */
export interface RegionalContainer {
  image: string;
  modelDataUrl?: string | undefined;
}

/**
 * A package version's containers as a stage's region finds them (its mappings applied), each with
 * the artifacts to look up there; or why they cannot be found there at all (an image in another
 * region with no repository mapping, an image that is not in ECR, a model data URI that is not S3's).
 */
function containersInStageRegion(
  pkg: PackageArtifacts,
  location: StageArtifactLocation,
): { containers: { container: RegionalContainer; artifacts: RegionalArtifact[] }[] } | { refused: string } {
  const containers: { container: RegionalContainer; artifacts: RegionalArtifact[] }[] = [];
  for (const container of pkg.containers) {
    const image = mappedImage(container.image, location.ecr) ?? container.image;
    const parsed = parseEcrImage(image);
    if (!parsed) return { refused: `image ${image} of ${pkg.packageArn} is not an Amazon ECR image URI` };
    const { registryId, region, repository, tag, digest } = parsed;
    if (region !== location.region) {
      return {
        refused: `image ${container.image} of ${pkg.packageArn} is in ${region} and no ECR repository mapping of the stage brings it to ${location.region}`,
      };
    }
    const artifacts: RegionalArtifact[] = [
      {
        kind: 'ecr',
        source: container.image,
        region,
        registryId,
        repository,
        ...(tag ? { tag } : {}),
        ...(digest ? { digest } : {}),
        ...(!tag && !digest ? { tag: 'latest' } : {}),
      },
    ];
    if (container.modelDataUrl === undefined) {
      containers.push({ container: { image }, artifacts });
      continue;
    }
    // an S3 URI names no region: an unmapped one is looked for as it is, in the stage's region
    const uri = mapped(container.modelDataUrl, location.s3) ?? container.modelDataUrl;
    const s3 = S3_URI.exec(uri);
    if (!s3) return { refused: `model data ${uri} of ${pkg.packageArn} is not an S3 object URI` };
    artifacts.push({
      kind: 's3',
      source: container.modelDataUrl,
      region: location.region,
      bucket: s3[1] ?? '',
      key: s3[2] ?? '',
    });
    containers.push({ container: { image, modelDataUrl: uri }, artifacts });
  }
  return { containers };
}

/**
 * The artifacts a stage's region needs for a package version, where that region finds them; or why
 * they cannot be found there at all (an image in another region with no repository mapping, an
 * image that is not in ECR, a mapping into another region).
 */
export function artifactsInStageRegion(
  pkg: PackageArtifacts,
  location: StageArtifactLocation,
): { artifacts: RegionalArtifact[] } | { refused: string } {
  const found = containersInStageRegion(pkg, location);
  if ('refused' in found) return found;
  return { artifacts: found.containers.flatMap((c) => c.artifacts) };
}

/**
 * The containers a model in a stage's region runs for a package version: SageMaker's CreateModel
 * names a model package of its own region only, so a stage outside the registry's region names
 * the package's images and model data as that region finds them (the pre-flight checked them).
 */
export function stageRegionContainers(
  pkg: PackageArtifacts,
  location: StageArtifactLocation,
): { containers: RegionalContainer[] } | { refused: string } {
  const found = containersInStageRegion(pkg, location);
  if ('refused' in found) return found;
  return { containers: found.containers.map((c) => c.container) };
}

/**
 * The pre-flight verdict for a stage: ok when every artifact its region needs was found there;
 * otherwise a reason naming each missing (or unreadable) artifact and where it was looked for, so
 * the stage fails before any endpoint change.
 */
export function preflightArtifacts(
  pkg: PackageArtifacts,
  location: StageArtifactLocation,
  observed: ArtifactObservation[],
): PreflightVerdict {
  const needed = artifactsInStageRegion(pkg, location);
  if ('refused' in needed) return { ok: false, reason: needed.refused };
  const byKey = new Map(observed.map((o) => [keyOf(o.artifact), o]));
  const missing: string[] = [];
  for (const artifact of needed.artifacts) {
    const seen = byKey.get(keyOf(artifact));
    if (!seen) missing.push(`${describeArtifact(artifact)} was not checked`);
    else if (!seen.present && seen.deniedPermission) {
      missing.push(
        `${describeArtifact(artifact)} could not be read with the stage's credentials${seen.detail ? ` (${seen.detail})` : ''}: they need ${seen.deniedPermission}`,
      );
    } else if (!seen.present) {
      missing.push(`${describeArtifact(artifact)} is missing${seen.detail ? ` (${seen.detail})` : ''}`);
    }
  }
  if (missing.length === 0) return { ok: true };
  return {
    ok: false,
    reason: `${pkg.packageArn} cannot be deployed in ${location.region}: ${missing.join('; ')}`,
  };
}

/**
 * The package versions the pre-flight checks before a desired spec is deployed: those of the
 * deployment that wants it (a canary's or a rollback's own version). The version serving, which a
 * rollback returns to, is not held up by a lookup.
 */
export const packagesToCheck = (desired: DesiredEndpoint, deployments: readonly Deployment[]): string[] => {
  const wanting = deployments.find((d) => d.id === desired.deploymentId);
  if (!wanting) return [];
  return [...new Set(desired.variants.filter((v) => v.version === wanting.version).map((v) => v.packageArn))];
};
