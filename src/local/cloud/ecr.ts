import { createHash } from 'node:crypto';
import type { Core } from './context';
import { ACCOUNT_ID, ApiError, epochSeconds, paginate, type RequestContext, requireString } from './protocol';

type Json = Record<string, unknown>;

interface Image {
  digest: string;
  tags: string[];
  manifest: string;
  sizeInBytes: number;
  pushedAt: number;
}

interface Repository {
  name: string;
  arn: string;
  uri: string;
  createdAt: number;
  images: Image[];
}

/** Repository names as ECR's API reference gives them (2 to 256 characters). */
const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

const invalidParameter = (message: string) => new ApiError('InvalidParameterException', message);

/**
 * Amazon ECR's repositories and images in one region (JSON 1.1, target prefix
 * `AmazonEC2ContainerRegistry_V20150921`): CreateRepository, PutImage (an image's digest is the
 * sha256 of its manifest) and DescribeImages with the errors ECR answers for a missing repository
 * (RepositoryNotFoundException) or image (ImageNotFoundException).
 */
export class Ecr {
  private readonly repositories = new Map<string, Repository>();

  constructor(
    private readonly core: Core,
    private readonly region: string,
    private readonly account = ACCOUNT_ID,
  ) {}

  operations(): Record<string, (input: Json, ctx: RequestContext) => unknown> {
    return {
      CreateRepository: (i) => this.createRepository(i),
      PutImage: (i) => this.putImage(i),
      DescribeImages: (i) => this.describeImages(i),
    };
  }

  /**
   * Pushes an image as `docker push` would, making its repository if needed (tests and scenarios
   * seed the replicas a user's own replication would make); returns the image's digest.
   */
  push(repositoryName: string, tag: string, manifest = JSON.stringify({ schemaVersion: 2, tag })): string {
    if (!this.repositories.has(repositoryName)) this.createRepository({ repositoryName });
    const out = this.putImage({ repositoryName, imageManifest: manifest, imageTag: tag }) as {
      image: { imageId: { imageDigest: string } };
    };
    return out.image.imageId.imageDigest;
  }

  /** Whether the repository holds an image with this tag. */
  has(repositoryName: string, tag: string): boolean {
    return this.repositories.get(repositoryName)?.images.some((i) => i.tags.includes(tag)) ?? false;
  }

  private createRepository(input: Json): unknown {
    const name = this.validName(input);
    if (this.repositories.has(name)) {
      throw new ApiError(
        'RepositoryAlreadyExistsException',
        `The repository with name '${name}' already exists in the registry with id '${this.account}'`,
      );
    }
    const repository: Repository = {
      name,
      arn: `arn:aws:ecr:${this.region}:${this.account}:repository/${name}`,
      uri: `${this.account}.dkr.ecr.${this.region}.amazonaws.com/${name}`,
      createdAt: this.core.clock.now(),
      images: [],
    };
    this.repositories.set(name, repository);
    return { repository: this.describeRepository(repository) };
  }

  private describeRepository(r: Repository): Json {
    return {
      repositoryArn: r.arn,
      registryId: this.account,
      repositoryName: r.name,
      repositoryUri: r.uri,
      createdAt: epochSeconds(r.createdAt),
      imageTagMutability: 'MUTABLE',
    };
  }

  private validName(input: Json): string {
    const name = requireString(input, 'repositoryName');
    if (name.length < 2 || name.length > 256 || !REPOSITORY_NAME.test(name)) {
      throw invalidParameter(
        `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''`,
      );
    }
    return name;
  }

  private requireRepository(input: Json): Repository {
    const name = this.validName(input);
    const registryId = input.registryId ?? this.account;
    const repository = registryId === this.account ? this.repositories.get(name) : undefined;
    if (!repository) {
      throw new ApiError(
        'RepositoryNotFoundException',
        `The repository with name '${name}' does not exist in the registry with id '${String(registryId)}'`,
      );
    }
    return repository;
  }

  private putImage(input: Json): unknown {
    const repository = this.requireRepository(input);
    const manifest = requireString(input, 'imageManifest');
    const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    if (typeof input.imageDigest === 'string' && input.imageDigest !== digest) {
      throw invalidParameter(
        `Invalid parameter at 'imageDigest': the digest ${input.imageDigest} does not match the manifest's digest ${digest}`,
      );
    }
    const tag = typeof input.imageTag === 'string' ? input.imageTag : undefined;
    let image = repository.images.find((i) => i.digest === digest);
    if (image && (tag === undefined || image.tags.includes(tag))) {
      throw new ApiError(
        'ImageAlreadyExistsException',
        `Image with digest '${digest}'${tag ? ` and tag '${tag}'` : ''} already exists in the repository with name '${repository.name}' in registry with id '${this.account}'`,
      );
    }
    // a mutable repository moves the tag to the new image
    if (tag) for (const other of repository.images) other.tags = other.tags.filter((t) => t !== tag);
    if (!image) {
      image = {
        digest,
        tags: [],
        manifest,
        sizeInBytes: Buffer.byteLength(manifest),
        pushedAt: this.core.clock.now(),
      };
      repository.images.push(image);
    }
    if (tag) image.tags.push(tag);
    return {
      image: {
        registryId: this.account,
        repositoryName: repository.name,
        imageId: { imageDigest: digest, ...(tag ? { imageTag: tag } : {}) },
        imageManifest: manifest,
      },
    };
  }

  private describeImages(input: Json): unknown {
    const ids = input.imageIds;
    let repository: Repository;
    try {
      repository = this.requireRepository(input);
    } catch (error) {
      if (Array.isArray(ids)) for (const id of ids) this.read(input, id, false);
      throw error;
    }
    if (ids === undefined) {
      const { page, next } = paginate(repository.images, input.maxResults, input.nextToken);
      return {
        imageDetails: page.map((i) => this.detail(repository, i)),
        ...(next ? { nextToken: next } : {}),
      };
    }
    if (!Array.isArray(ids) || ids.length < 1 || ids.length > 100) {
      throw invalidParameter(`Invalid parameter at 'imageIds': it must list between 1 and 100 image ids`);
    }
    const found = ids.map((id: Json) => {
      const digest = typeof id?.imageDigest === 'string' ? id.imageDigest : undefined;
      const tag = typeof id?.imageTag === 'string' ? id.imageTag : undefined;
      if (!digest && !tag) {
        throw invalidParameter(
          `Invalid parameter at 'imageIds': an image id names an imageDigest or an imageTag`,
        );
      }
      const image = repository.images.find(
        (i) => (!digest || i.digest === digest) && (!tag || i.tags.includes(tag)),
      );
      this.read(input, id, image !== undefined);
      if (!image) {
        throw new ApiError(
          'ImageNotFoundException',
          `The image with imageId {imageDigest:'${digest ?? 'null'}', imageTag:'${tag ?? 'null'}'} does not exist within the repository with name '${repository.name}' in the registry with id '${this.account}'`,
        );
      }
      return image;
    });
    return { imageDetails: [...new Set(found)].map((i) => this.detail(repository, i)) };
  }

  /** An image id looked up (what the pre-flight asks), for the cloud's record of artifact reads. */
  private read(input: Json, id: unknown, found: boolean): void {
    const { imageDigest, imageTag } = (typeof id === 'object' && id !== null ? id : {}) as Json;
    const registryId = typeof input.registryId === 'string' ? input.registryId : this.account;
    this.core.reads.record({
      region: this.region,
      account: this.account,
      uri:
        `${registryId}.dkr.ecr.${this.region}.amazonaws.com/${String(input.repositoryName)}` +
        `${typeof imageTag === 'string' ? `:${imageTag}` : ''}${typeof imageDigest === 'string' ? `@${imageDigest}` : ''}`,
      found,
    });
  }

  private detail(repository: Repository, image: Image): Json {
    return {
      registryId: this.account,
      repositoryName: repository.name,
      imageDigest: image.digest,
      ...(image.tags.length > 0 ? { imageTags: [...image.tags] } : {}),
      imageSizeInBytes: image.sizeInBytes,
      imagePushedAt: epochSeconds(image.pushedAt),
      imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    };
  }
}
