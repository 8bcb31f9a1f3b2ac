import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Core } from './context';
import type { Sts } from './sts';

/** What Lambda hands a function behind a URL (payload format 2.0), IAM authorizer included. */
export interface FunctionUrlEvent {
  version: '2.0';
  routeKey: '$default';
  rawPath: string;
  rawQueryString: string;
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  requestContext: {
    accountId: string;
    apiId: string;
    authorizer: {
      iam: {
        accessKey: string;
        accountId: string;
        callerId: string;
        cognitoIdentity: null;
        principalOrgId: null;
        userArn: string;
        userId: string;
      };
    };
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: '$default';
    stage: '$default';
    time: string;
    timeEpoch: number;
  };
  body?: string;
  isBase64Encoded: boolean;
}

export interface FunctionUrlResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type FunctionUrlTarget = (event: FunctionUrlEvent) => Promise<unknown>;

export interface IncomingUrlRequest {
  method: string;
  /** the path after the function's prefix, starting with `/` */
  path: string;
  rawQuery: string;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

/** SigV4 allows this much difference between the signing time and the service's clock. */
const MAX_CLOCK_SKEW_MS = 15 * 60_000;
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

const forbidden = (message = 'Forbidden'): FunctionUrlResponse => ({
  status: 403,
  headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' },
  body: JSON.stringify({ Message: message }),
});

/**
 * Lambda function URLs with `AuthType: AWS_IAM`: the request must carry a SigV4 signature (service
 * `lambda`) made with credentials IAM knows; the function sees the caller in
 * `requestContext.authorizer.iam`, named as STS GetCallerIdentity names it. The signature is
 * checked by signing the same request again with the SDK's own signer and the caller's secret.
 */
export class FunctionUrls {
  private readonly targets = new Map<string, FunctionUrlTarget>();
  private port = 0;

  constructor(
    private readonly core: Core,
    private readonly sts: Sts,
  ) {}

  setPort(port: number): void {
    this.port = port;
  }

  /** Creates the URL of a function (AuthType AWS_IAM) and returns it. */
  register(functionName: string, target: FunctionUrlTarget): string {
    this.targets.set(functionName, target);
    return this.urlOf(functionName);
  }

  urlOf(functionName: string): string {
    return `http://127.0.0.1:${this.port}/lambda-url/${functionName}/`;
  }

  async handle(functionName: string, request: IncomingUrlRequest): Promise<FunctionUrlResponse> {
    const target = this.targets.get(functionName);
    if (!target) {
      return {
        status: 404,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ Message: null }),
      };
    }
    const caller = await this.authenticate(request, `/lambda-url/${functionName}`);
    if ('status' in caller) return caller;
    const event = this.event(functionName, request, caller);
    let result: unknown;
    try {
      result = await target(event);
    } catch {
      return { status: 502, headers: { 'content-type': 'application/json' }, body: 'Internal Server Error' };
    }
    return toResponse(result);
  }

  private async authenticate(
    request: IncomingUrlRequest,
    prefix: string,
  ): Promise<{ accessKeyId: string; arn: string; userId: string } | FunctionUrlResponse> {
    const match = AUTHORIZATION.exec(request.headers.authorization ?? '');
    if (!match) return forbidden();
    const [, accessKeyId = '', day = '', region = '', service = '', signedHeaderList = '', signature = ''] =
      match;
    const identity = this.sts.identity(accessKeyId);
    if (!identity || service !== 'lambda') return forbidden();
    const amzDate = request.headers['x-amz-date'] ?? '';
    const signedAt = Date.parse(
      amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
    );
    if (Number.isNaN(signedAt) || !amzDate.startsWith(day)) return forbidden();
    if (Math.abs(Date.now() - signedAt) > MAX_CLOCK_SKEW_MS) return forbidden('Signature expired');
    if (identity.sessionToken && request.headers['x-amz-security-token'] !== identity.sessionToken) {
      return forbidden();
    }
    const declaredHash = request.headers['x-amz-content-sha256'];
    if (declaredHash && declaredHash !== createHash('sha256').update(request.body).digest('hex')) {
      return forbidden();
    }
    const signedHeaders = signedHeaderList.split(';');
    if (!signedHeaders.includes('host')) return forbidden();
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
      const value = request.headers[name];
      if (value === undefined) return forbidden();
      headers[name] = value;
    }
    const signer = new SignatureV4({
      credentials: {
        accessKeyId,
        secretAccessKey: identity.secretAccessKey,
        ...(identity.sessionToken ? { sessionToken: identity.sessionToken } : {}),
      },
      region,
      service: 'lambda',
      sha256: Sha256,
    });
    const signed = await signer.sign(
      {
        method: request.method,
        protocol: 'http:',
        hostname: (request.headers.host ?? '').replace(/:\d+$/, ''),
        headers,
        path: `${prefix}${request.path}`,
        query: Object.fromEntries(new URLSearchParams(request.rawQuery)),
        body: request.body.toString('utf8'),
      },
      { signingDate: new Date(signedAt) },
    );
    const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ''))?.[1] ?? '';
    if (
      expected.length !== signature.length ||
      !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))
    ) {
      return forbidden('The request signature we calculated does not match the signature you provided.');
    }
    return { accessKeyId, arn: identity.arn, userId: identity.userId };
  }

  private event(
    functionName: string,
    request: IncomingUrlRequest,
    caller: { accessKeyId: string; arn: string; userId: string },
  ): FunctionUrlEvent {
    const now = this.core.clock.now();
    const textual = /^(application\/json|text\/)/.test(request.headers['content-type'] ?? '');
    const query = Object.fromEntries(new URLSearchParams(request.rawQuery));
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    const account = caller.arn.split(':')[4] ?? '';
    return {
      version: '2.0',
      routeKey: '$default',
      rawPath: request.path,
      rawQueryString: request.rawQuery,
      headers,
      ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
      requestContext: {
        accountId: 'anonymous',
        apiId: functionName,
        authorizer: {
          iam: {
            accessKey: caller.accessKeyId,
            accountId: account,
            callerId: caller.userId,
            cognitoIdentity: null,
            principalOrgId: null,
            userArn: caller.arn,
            userId: caller.userId,
          },
        },
        domainName: `127.0.0.1:${this.port}`,
        domainPrefix: functionName,
        http: {
          method: request.method,
          path: request.path,
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: request.headers['user-agent'] ?? '',
        },
        requestId: randomUUID(),
        routeKey: '$default',
        stage: '$default',
        time: new Date(now).toISOString(),
        timeEpoch: now,
      },
      ...(request.body.length > 0
        ? { body: textual ? request.body.toString('utf8') : request.body.toString('base64') }
        : {}),
      isBase64Encoded: request.body.length > 0 && !textual,
    };
  }
}

/** Lambda's reading of a URL function's result: a `statusCode` object, or any value as a JSON body. */
const toResponse = (result: unknown): FunctionUrlResponse => {
  if (result && typeof result === 'object' && 'statusCode' in result) {
    const r = result as { statusCode: number; headers?: Record<string, string>; body?: string };
    return { status: r.statusCode, headers: r.headers ?? {}, body: r.body ?? '' };
  }
  return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(result) };
};
