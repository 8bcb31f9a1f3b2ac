import { randomUUID } from 'node:crypto';
import type { Core } from './context';
import { verifySigV4 } from './sigv4';
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

const forbidden = (message = 'Forbidden'): FunctionUrlResponse => ({
  status: 403,
  headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' },
  body: JSON.stringify({ Message: message }),
});

/**
 * Lambda function URLs with `AuthType: AWS_IAM`: the request must carry a SigV4 signature (service
 * `lambda`) made with credentials IAM knows; the function sees the caller in
 * `requestContext.authorizer.iam`, named as STS GetCallerIdentity names it (signature checked
 * as in ./sigv4.ts).
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
    const result = await verifySigV4(
      { ...request, path: `${prefix}${request.path}` },
      { service: 'lambda', identity: (key) => this.sts.identity(key), now: Date.now() },
    );
    if ('refused' in result) {
      if (result.refused.kind === 'expired') return forbidden('Signature expired');
      if (result.refused.kind === 'mismatch') {
        return forbidden('The request signature we calculated does not match the signature you provided.');
      }
      return forbidden();
    }
    return { accessKeyId: result.accessKeyId, arn: result.identity.arn, userId: result.identity.userId };
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
