import type { Core } from './context';
import { ACCOUNT_ID, ApiError, type RequestContext, xmlEscape } from './protocol';
import { type SignedRequest, type SigV4Refusal, verifySigV4 } from './sigv4';

export interface AssumeRoleCall {
  roleArn: string;
  roleSessionName: string;
  externalId?: string;
  durationSeconds: number;
  accessKeyId: string;
  callerAccessKeyId?: string;
  at: number;
}

/** Credentials the local cloud knows, with the principal STS GetCallerIdentity names for them. */
export interface LocalIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  arn: string;
  userId: string;
}

/** The credentials `LocalCloud.env()` exports: an IAM user of the local account. */
export const DEFAULT_ACCESS_KEY_ID = 'test';
export const DEFAULT_SECRET_ACCESS_KEY = 'test';

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** STS over the AWS Query protocol (form-encoded request, XML response). */
export class Sts {
  readonly calls: AssumeRoleCall[] = [];
  private readonly identities = new Map<string, LocalIdentity>();

  constructor(private readonly core: Core) {
    this.addIdentity({
      accessKeyId: DEFAULT_ACCESS_KEY_ID,
      secretAccessKey: DEFAULT_SECRET_ACCESS_KEY,
      arn: `arn:aws:iam::${ACCOUNT_ID}:user/local`,
      userId: 'AIDALOCAL',
    });
  }

  /** The role an access key id was issued for, if it came from AssumeRole. */
  roleOf(accessKeyId: string): string | undefined {
    return this.calls.find((c) => c.accessKeyId === accessKeyId)?.roleArn;
  }

  /** The secret and principal of a key the local cloud issued, as IAM and STS know them. */
  identity(accessKeyId: string): LocalIdentity | undefined {
    return this.identities.get(accessKeyId);
  }

  /** An IAM user of the local account with an access key of its own (operators in tests and scenarios). */
  createUser(userName: string): LocalIdentity {
    if (!/^[\w+=,.@-]{1,64}$/.test(userName)) throw new Error(`invalid IAM user name ${userName}`);
    const existing = [...this.identities.values()].find(
      (i) => i.arn === `arn:aws:iam::${ACCOUNT_ID}:user/${userName}`,
    );
    if (existing) return existing;
    return this.addIdentity({
      accessKeyId: `AKIA${this.core.rng.ids.alphanumeric(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`,
      secretAccessKey: this.core.rng.ids.alphanumeric(40),
      arn: `arn:aws:iam::${ACCOUNT_ID}:user/${userName}`,
      userId: `AIDA${this.core.rng.ids.alphanumeric(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`,
    });
  }

  private addIdentity(identity: LocalIdentity): LocalIdentity {
    this.identities.set(identity.accessKeyId, identity);
    return identity;
  }

  /** The actions `handle` serves. */
  static readonly OPERATIONS = ['AssumeRole', 'GetCallerIdentity'];

  async handle(
    action: string,
    params: URLSearchParams,
    ctx: RequestContext,
    requestId: string,
    request: SignedRequest,
  ): Promise<string> {
    switch (action) {
      case 'AssumeRole':
        return this.assumeRole(params, ctx, requestId);
      case 'GetCallerIdentity':
        return this.getCallerIdentity(request, requestId);
      default:
        throw new ApiError('InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
    }
  }

  /**
   * Who signed the request: the signature is verified as STS does (any extra signed header is
   * covered, which is what makes a GetCallerIdentity request usable as a proof of identity), with
   * STS's errors. No permission is needed, as in AWS.
   */
  private async getCallerIdentity(request: SignedRequest, requestId: string): Promise<string> {
    const result = await verifySigV4(request, {
      service: 'sts',
      identity: (key) => this.identity(key),
      now: Date.now(),
    });
    if ('refused' in result) throw stsRefusal(result.refused);
    const { arn, userId } = result.identity;
    const account = arn.split(':')[4] ?? ACCOUNT_ID;
    return wrap(
      'GetCallerIdentity',
      `<Arn>${xmlEscape(arn)}</Arn><UserId>${xmlEscape(userId)}</UserId><Account>${account}</Account>`,
      requestId,
    );
  }

  private assumeRole(params: URLSearchParams, ctx: RequestContext, requestId: string): string {
    const roleArn = params.get('RoleArn');
    const session = params.get('RoleSessionName');
    if (!roleArn || !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+/.test(roleArn)) {
      throw new ApiError(
        'ValidationError',
        `1 validation error detected: Value '${roleArn ?? 'null'}' at 'roleArn' failed to satisfy constraint: Member must be a role ARN`,
      );
    }
    if (!session || !/^[\w+=,.@-]{2,64}$/.test(session)) {
      throw new ApiError(
        'ValidationError',
        `1 validation error detected: Value '${session ?? 'null'}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
      );
    }
    const duration = Number(params.get('DurationSeconds') ?? 3600);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
      throw new ApiError(
        'ValidationError',
        `1 validation error detected: Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200`,
      );
    }
    const accessKeyId = `ASIA${this.core.rng.ids.alphanumeric(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`;
    const secret = this.core.rng.ids.alphanumeric(40);
    const sessionToken = this.core.rng.ids.alphanumeric(120);
    const expiration = new Date(this.core.clock.now() + duration * 1000).toISOString();
    const externalId = params.get('ExternalId');
    const roleId = `AROA${this.core.rng.ids.alphanumeric(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`;
    this.addIdentity({
      accessKeyId,
      secretAccessKey: secret,
      sessionToken,
      arn: assumedRoleArn(roleArn, session),
      userId: `${roleId}:${session}`,
    });
    this.calls.push({
      roleArn,
      roleSessionName: session,
      durationSeconds: duration,
      accessKeyId,
      at: this.core.clock.now(),
      ...(externalId !== null ? { externalId } : {}),
      ...(ctx.accessKeyId ? { callerAccessKeyId: ctx.accessKeyId } : {}),
    });
    return wrap(
      'AssumeRole',
      `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${secret}</SecretAccessKey>` +
        `<SessionToken>${sessionToken}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
        `<AssumedRoleUser><AssumedRoleId>${roleId}:${xmlEscape(session)}</AssumedRoleId>` +
        `<Arn>${xmlEscape(assumedRoleArn(roleArn, session))}</Arn></AssumedRoleUser><PackedPolicySize>0</PackedPolicySize>`,
      requestId,
    );
  }
}

/** STS's answers to a refused signature (all 403). */
const stsRefusal = (refusal: SigV4Refusal): ApiError => {
  switch (refusal.kind) {
    case 'missing':
      return new ApiError('MissingAuthenticationToken', 'Request is missing Authentication Token', {
        status: 403,
      });
    case 'unknown-key':
      return new ApiError('InvalidClientTokenId', 'The security token included in the request is invalid.', {
        status: 403,
      });
    case 'wrong-service':
      return new ApiError(
        'SignatureDoesNotMatch',
        `Credential should be scoped to correct service: 'sts'. `,
        { status: 403 },
      );
    case 'expired':
      return new ApiError('SignatureDoesNotMatch', refusal.message, { status: 403 });
    case 'mismatch':
      return new ApiError(
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
        { status: 403 },
      );
  }
};

function assumedRoleArn(roleArn: string, session: string): string {
  const [, , , , account, resource] = roleArn.split(':');
  return `arn:aws:sts::${account}:assumed-role/${(resource ?? '').split('/').pop()}/${session}`;
}

function wrap(action: string, result: string, requestId: string): string {
  return (
    `<${action}Response xmlns="${NS}"><${action}Result>${result}</${action}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

export function stsErrorXml(code: string, message: string, requestId: string, sender: boolean): string {
  return (
    `<ErrorResponse xmlns="${NS}"><Error><Type>${sender ? 'Sender' : 'Receiver'}</Type><Code>${xmlEscape(code)}</Code>` +
    `<Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}
