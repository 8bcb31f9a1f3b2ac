import { describe, expect, it } from 'vitest';
import {
  type ArtifactObservation,
  artifactsInStageRegion,
  type PackageArtifacts,
  preflightArtifacts,
  type RegionalArtifact,
  type StageArtifactLocation,
  stageRegionContainers,
} from '../../src/domain/artifacts';

const PKG = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/3';
const HOME_IMAGE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/fraud:v3';
const EU_REPO = '111122223333.dkr.ecr.eu-west-1.amazonaws.com/fraud-replica';

const pkg = (containers: PackageArtifacts['containers']): PackageArtifacts => ({
  packageArn: PKG,
  containers,
});

const EU: StageArtifactLocation = {
  region: 'eu-west-1',
  s3: [
    { from: 's3://models-use1/', to: 's3://models-euw1/' },
    { from: 's3://models-use1/fraud/', to: 's3://fraud-euw1/' },
  ],
  ecr: [{ from: '111122223333.dkr.ecr.us-east-1.amazonaws.com/fraud', to: EU_REPO }],
};

const present = (artifacts: RegionalArtifact[], except?: (a: RegionalArtifact) => boolean) =>
  artifacts.map((artifact): ArtifactObservation => ({ artifact, present: !except?.(artifact) }));

const needed = (p: PackageArtifacts, location: StageArtifactLocation) => {
  const out = artifactsInStageRegion(p, location);
  if ('refused' in out) throw new Error(out.refused);
  return out.artifacts;
};

describe('the artifacts a stage’s region needs', () => {
  it('maps the image by repository and the model data by the longest matching S3 prefix, into the stage’s region', () => {
    const artifacts = needed(
      pkg([{ image: HOME_IMAGE, modelDataUrl: 's3://models-use1/fraud/v3/model.tar.gz' }]),
      EU,
    );
    expect(artifacts).toEqual([
      {
        kind: 'ecr',
        source: HOME_IMAGE,
        region: 'eu-west-1',
        registryId: '111122223333',
        repository: 'fraud-replica',
        tag: 'v3',
      },
      {
        kind: 's3',
        source: 's3://models-use1/fraud/v3/model.tar.gz',
        region: 'eu-west-1',
        bucket: 'fraud-euw1',
        key: 'v3/model.tar.gz',
      },
    ]);
  });

  it('keeps an image digest, and reads an untagged image as :latest, as Docker does', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const [byDigest] = needed(
      pkg([{ image: `111122223333.dkr.ecr.us-east-1.amazonaws.com/fraud@${digest}` }]),
      EU,
    );
    expect(byDigest).toMatchObject({ repository: 'fraud-replica', digest });
    expect(byDigest).not.toHaveProperty('tag');
    const [untagged] = needed(pkg([{ image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/fraud' }]), EU);
    expect(untagged).toMatchObject({ repository: 'fraud-replica', tag: 'latest' });
  });

  it('in the home region, no mapping is needed: the artifacts are looked for where the package names them', () => {
    const home = { region: 'us-east-1', s3: [], ecr: [] };
    const artifacts = needed(
      pkg([{ image: HOME_IMAGE, modelDataUrl: 's3://models-use1/fraud/m.tar.gz' }]),
      home,
    );
    expect(artifacts.map((a) => [a.kind, a.region])).toEqual([
      ['ecr', 'us-east-1'],
      ['s3', 'us-east-1'],
    ]);
  });

  it.each([
    [
      'an image in another region with no repository mapping',
      pkg([{ image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/other:1' }]),
      EU,
      `image 111122223333.dkr.ecr.us-east-1.amazonaws.com/other:1 of ${PKG} is in us-east-1 and no ECR repository mapping of the stage brings it to eu-west-1`,
    ],
    [
      'a mapping into a third region',
      pkg([{ image: HOME_IMAGE }]),
      {
        ...EU,
        ecr: [
          {
            from: '111122223333.dkr.ecr.us-east-1.amazonaws.com/fraud',
            to: '111122223333.dkr.ecr.us-west-2.amazonaws.com/fraud',
          },
        ],
      },
      `image ${HOME_IMAGE} of ${PKG} is in us-west-2 and no ECR repository mapping of the stage brings it to eu-west-1`,
    ],
    [
      'an image outside ECR',
      pkg([{ image: 'docker.io/library/python:3.12' }]),
      EU,
      `image docker.io/library/python:3.12 of ${PKG} is not an Amazon ECR image URI`,
    ],
    [
      'model data that is not an S3 object URI',
      pkg([{ image: HOME_IMAGE, modelDataUrl: 'https://example.com/model.tar.gz' }]),
      EU,
      `model data https://example.com/model.tar.gz of ${PKG} is not an S3 object URI`,
    ],
  ])('refuses %s, saying why', (_, p, location, reason) => {
    expect(artifactsInStageRegion(p, location)).toEqual({ refused: reason });
    expect(preflightArtifacts(p, location, [])).toEqual({ ok: false, reason });
  });
});

describe('the containers a model in a stage’s region runs', () => {
  it('are the package’s, each image and model data where the region finds them (the pre-flight’s locations)', () => {
    const p = pkg([
      { image: HOME_IMAGE, modelDataUrl: 's3://models-use1/fraud/v3/model.tar.gz' },
      { image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/post@sha256:' + 'a'.repeat(64) },
    ]);
    expect(stageRegionContainers(p, EU)).toEqual({
      containers: [
        { image: `${EU_REPO}:v3`, modelDataUrl: 's3://fraud-euw1/v3/model.tar.gz' },
        { image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/post@sha256:' + 'a'.repeat(64) },
      ],
    });
    const looked = needed(p, EU);
    expect(looked.filter((a) => a.kind === 's3').map((a) => `s3://${a.bucket}/${a.key}`)).toEqual([
      's3://fraud-euw1/v3/model.tar.gz',
    ]);
  });

  it('cannot be named for an image of another region without a mapping: the same reason as the pre-flight’s', () => {
    const p = pkg([{ image: HOME_IMAGE }]);
    const refused = stageRegionContainers(p, { ...EU, ecr: [] });
    expect(refused).toEqual({
      refused: `image ${HOME_IMAGE} of ${PKG} is in us-east-1 and no ECR repository mapping of the stage brings it to eu-west-1`,
    });
    expect(artifactsInStageRegion(p, { ...EU, ecr: [] })).toEqual(refused);
  });
});

describe('preflightArtifacts', () => {
  const p = pkg([{ image: HOME_IMAGE, modelDataUrl: 's3://models-use1/shared/m.tar.gz' }]);

  it('is ok when every artifact was found in the stage’s region', () => {
    expect(preflightArtifacts(p, EU, present(needed(p, EU)))).toEqual({ ok: true });
  });

  it('names the missing artifact, its bucket and region, and what S3 said', () => {
    const observed = needed(p, EU).map(
      (artifact): ArtifactObservation =>
        artifact.kind === 's3'
          ? { artifact, present: false, detail: 'S3 HeadObject: no such object or bucket' }
          : { artifact, present: true },
    );
    expect(preflightArtifacts(p, EU, observed)).toEqual({
      ok: false,
      reason: `${PKG} cannot be deployed in eu-west-1: model data s3://models-euw1/shared/m.tar.gz (bucket models-euw1, region eu-west-1) is missing (S3 HeadObject: no such object or bucket)`,
    });
  });

  it('names an artifact the stage’s credentials may not read, with the permission they need', () => {
    const observed = needed(p, EU).map(
      (artifact): ArtifactObservation =>
        artifact.kind === 's3'
          ? {
              artifact,
              present: false,
              detail: 'S3 HeadObject: access denied (HTTP 403)',
              deniedPermission: 's3:GetObject on arn:aws:s3:::models-euw1/shared/m.tar.gz',
            }
          : { artifact, present: true },
    );
    expect(preflightArtifacts(p, EU, observed)).toEqual({
      ok: false,
      reason: `${PKG} cannot be deployed in eu-west-1: model data s3://models-euw1/shared/m.tar.gz (bucket models-euw1, region eu-west-1) could not be read with the stage's credentials (S3 HeadObject: access denied (HTTP 403)): they need s3:GetObject on arn:aws:s3:::models-euw1/shared/m.tar.gz`,
    });
  });

  it('names a missing image with its repository, registry and region, and every missing artifact at once', () => {
    expect(
      preflightArtifacts(
        p,
        EU,
        present(needed(p, EU), () => true),
      ),
    ).toEqual({
      ok: false,
      reason:
        `${PKG} cannot be deployed in eu-west-1: ` +
        'image fraud-replica:v3 (ECR repository fraud-replica of registry 111122223333, region eu-west-1) is missing; ' +
        'model data s3://models-euw1/shared/m.tar.gz (bucket models-euw1, region eu-west-1) is missing',
    });
  });

  it('an artifact the lookups did not report is not taken as present', () => {
    const [image] = needed(p, EU);
    const verdict = preflightArtifacts(p, EU, [{ artifact: image!, present: true }]);
    expect(verdict).toEqual({
      ok: false,
      reason: `${PKG} cannot be deployed in eu-west-1: model data s3://models-euw1/shared/m.tar.gz (bucket models-euw1, region eu-west-1) was not checked`,
    });
  });

  it('judges each artifact by its own lookup: two containers of one repository (tags v3, v4), each with its model data', () => {
    const two = pkg([
      { image: HOME_IMAGE, modelDataUrl: 's3://models-use1/shared/a.tar.gz' },
      {
        image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/fraud:v4',
        modelDataUrl: 's3://models-use1/shared/b.tar.gz',
      },
    ]);
    const artifacts = needed(two, EU);
    expect(artifacts.map((a) => (a.kind === 's3' ? a.key : a.tag))).toEqual([
      'v3',
      'shared/a.tar.gz',
      'v4',
      'shared/b.tar.gz',
    ]);
    // the first container's image and model data are missing; the second's, looked up last, are there
    const observed = present(artifacts, (a) => a === artifacts[0] || a === artifacts[1]);
    expect(preflightArtifacts(two, EU, observed)).toEqual({
      ok: false,
      reason:
        `${PKG} cannot be deployed in eu-west-1: ` +
        'image fraud-replica:v3 (ECR repository fraud-replica of registry 111122223333, region eu-west-1) is missing; ' +
        'model data s3://models-euw1/shared/a.tar.gz (bucket models-euw1, region eu-west-1) is missing',
    });
    // and the other way round
    const reversed = present(artifacts, (a) => a === artifacts[2] || a === artifacts[3]);
    expect(preflightArtifacts(two, EU, reversed)).toEqual({
      ok: false,
      reason:
        `${PKG} cannot be deployed in eu-west-1: ` +
        'image fraud-replica:v4 (ECR repository fraud-replica of registry 111122223333, region eu-west-1) is missing; ' +
        'model data s3://models-euw1/shared/b.tar.gz (bucket models-euw1, region eu-west-1) is missing',
    });
  });

  it('an observation of the same object in another region does not count', () => {
    const observed = needed(p, EU).map((artifact) => ({
      artifact: { ...artifact, region: 'us-east-1' },
      present: true,
    }));
    expect(preflightArtifacts(p, EU, observed)).toMatchObject({ ok: false });
  });
});
