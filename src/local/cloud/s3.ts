import { createHash } from 'node:crypto';
import type { Core } from './context';
import { ApiError, type RequestContext, xmlEscape } from './protocol';

interface StoredObject {
  body: Buffer;
  etag: string;
  lastModified: number;
  contentType: string;
}

interface Bucket {
  name: string;
  region: string;
  objects: Map<string, StoredObject>;
}

export interface S3Request {
  method: string;
  /** the decoded path: `/<bucket>` or `/<bucket>/<key>` (path-style addressing) */
  path: string;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export interface S3Response {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** Bucket naming rules of the S3 user guide (general purpose buckets). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const httpDate = (ms: number): string => new Date(ms).toUTCString();

/**
 * Amazon S3 over its REST-XML protocol, path-style (as the SDK addresses an IP endpoint):
 * CreateBucket, PutObject and HeadObject. One bucket namespace spans the regions, each bucket lives
 * in one; a request signed for another region is answered 301 PermanentRedirect with
 * `x-amz-bucket-region`, as S3 does. HEAD answers carry no body, so a missing key or bucket is a
 * bare 404 (the SDK's `NotFound`).
 */
export class S3 {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly core: Core) {}

  /** The operations `handle` serves (for faults). */
  static readonly OPERATIONS = ['CreateBucket', 'PutObject', 'HeadObject'];

  /** The operation a request is, for the call record; undefined if S3 here does not serve it. */
  static operationOf(method: string, path: string): string | undefined {
    const hasKey = /^\/[^/]+\/.+/.test(path);
    if (method === 'PUT') return hasKey ? 'PutObject' : 'CreateBucket';
    if (method === 'HEAD' && hasKey) return 'HeadObject';
    return undefined;
  }

  /** Puts an object as a user's replication would (tests seed with it); the bucket is made if needed. */
  putObject(region: string, bucket: string, key: string, body: string | Buffer = ''): void {
    if (!this.buckets.has(bucket)) this.buckets.set(bucket, { name: bucket, region, objects: new Map() });
    this.store(this.requireBucket(bucket, region), key, Buffer.from(body), 'binary/octet-stream');
  }

  /** Whether the bucket exists and holds the key. */
  has(bucket: string, key: string): boolean {
    return this.buckets.get(bucket)?.objects.has(key) ?? false;
  }

  handle(request: S3Request, ctx: RequestContext): S3Response {
    const [, bucketName = '', ...keyParts] = request.path.split('/');
    const key = keyParts.join('/');
    const operation = S3.operationOf(request.method, request.path);
    if (operation === 'CreateBucket') return this.createBucket(bucketName, request, ctx);
    if (operation === 'PutObject') {
      const bucket = this.requireBucket(bucketName, ctx.region);
      const stored = this.store(
        bucket,
        key,
        request.body,
        request.headers['content-type'] ?? 'binary/octet-stream',
      );
      return { status: 200, headers: { etag: stored.etag }, body: '' };
    }
    if (operation === 'HeadObject') {
      const read = (found: boolean) =>
        this.core.reads.record({
          region: ctx.region,
          account: ctx.account,
          uri: `s3://${bucketName}/${key}`,
          found,
        });
      let found: StoredObject | undefined;
      try {
        found = this.requireBucket(bucketName, ctx.region).objects.get(key);
      } catch (error) {
        read(false);
        throw error;
      }
      read(found !== undefined);
      if (!found) throw new ApiError('NoSuchKey', 'The specified key does not exist.', { status: 404 });
      return {
        status: 200,
        headers: {
          etag: found.etag,
          'content-length': String(found.body.length),
          'content-type': found.contentType,
          'last-modified': httpDate(found.lastModified),
        },
        body: '',
      };
    }
    throw new ApiError(
      'NotImplemented',
      `A header you provided implies functionality that is not implemented (the local S3 serves ${S3.OPERATIONS.join(', ')}).`,
      { status: 501 },
    );
  }

  private store(bucket: Bucket, key: string, body: Buffer, contentType: string): StoredObject {
    const stored = {
      body,
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      lastModified: this.core.clock.now(),
      contentType,
    };
    bucket.objects.set(key, stored);
    return stored;
  }

  private requireBucket(name: string, region: string): Bucket {
    const bucket = this.buckets.get(name);
    if (!bucket) {
      throw new ApiError('NoSuchBucket', 'The specified bucket does not exist', {
        status: 404,
        extra: { BucketName: name },
      });
    }
    if (bucket.region !== region) {
      throw new ApiError(
        'PermanentRedirect',
        'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.',
        { status: 301, extra: { BucketName: name, 'x-amz-bucket-region': bucket.region } },
      );
    }
    return bucket;
  }

  private createBucket(name: string, request: S3Request, ctx: RequestContext): S3Response {
    if (!BUCKET_NAME.test(name) || name.includes('..')) {
      throw new ApiError('InvalidBucketName', 'The specified bucket is not valid.', {
        extra: { BucketName: name },
      });
    }
    const constraint =
      /<LocationConstraint>([^<]*)<\/LocationConstraint>/.exec(request.body.toString('utf8'))?.[1] ?? '';
    // us-east-1 takes no constraint; every other regional endpoint needs its own region named
    const wanted = constraint === '' ? 'us-east-1' : constraint;
    if (wanted !== ctx.region) {
      throw new ApiError(
        'IllegalLocationConstraintException',
        `The ${constraint === '' ? 'unspecified' : constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      );
    }
    const existing = this.buckets.get(name);
    // in us-east-1 S3 answers 200 to the owner creating its bucket again
    if (existing && !(existing.region === 'us-east-1' && ctx.region === 'us-east-1')) {
      throw new ApiError(
        'BucketAlreadyOwnedByYou',
        'Your previous request to create the named bucket succeeded and you already own it.',
        { status: 409, extra: { BucketName: name } },
      );
    }
    if (!existing) this.buckets.set(name, { name, region: ctx.region, objects: new Map() });
    return { status: 200, headers: { location: `/${name}` }, body: '' };
  }
}

/** S3's XML error document (HEAD answers carry none). */
export function s3ErrorXml(error: ApiError, requestId: string): string {
  const extra = Object.entries(error.extra)
    .filter(([name]) => /^[A-Z]/.test(name))
    .map(([name, value]) => `<${name}>${xmlEscape(String(value))}</${name}>`)
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(error.code)}</Code>` +
    `<Message>${xmlEscape(error.message)}</Message>${extra}<RequestId>${requestId}</RequestId></Error>`
  );
}
