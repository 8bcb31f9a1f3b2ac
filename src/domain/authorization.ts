import { type AuthorizationConfig, OPEN_AUTHORIZATION } from '../config/schema';
import type { OperatorVerb } from './model';

export type AuthorizationVerdict = { allowed: true } | { allowed: false; reason: string };

const escapeRegExp = (text: string): string => text.replace(/[.+?^${}()|[\]\\/]/g, '\\$&');

/** Whole-ARN glob: `*` matches any run of characters other than `/` and `:` (one ARN segment at most). */
export const matchesPrincipalPattern = (pattern: string, arn: string): boolean =>
  new RegExp(`^${pattern.split('*').map(escapeRegExp).join('[^/:]*')}$`).test(arn);

/**
 * The role a session ARN was assumed from (`arn:aws:sts::A:assumed-role/R/S` is a session of
 * `arn:aws:iam::A:role/R`), so a configured role ARN covers its sessions. Role paths are not part
 * of a session ARN: a role pattern with a path matches the role's own ARN only.
 */
const roleOfSession = (arn: string): string | undefined => {
  const match = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(arn);
  return match ? `arn:${match[1]}:iam::${match[2]}:role/${match[3]}` : undefined;
};

/**
 * May this principal send this command for a group with this authorization config? Deny by
 * default: only `open` (said explicitly in the config) lets everyone through.
 */
export const authorizeCommand = (
  authorization: AuthorizationConfig | undefined,
  verb: OperatorVerb,
  principalArn: string,
): AuthorizationVerdict => {
  if (authorization === OPEN_AUTHORIZATION) return { allowed: true };
  const allowed = authorization?.[verb] ?? authorization?.default ?? [];
  const role = roleOfSession(principalArn);
  if (
    allowed.some(
      (pattern) =>
        matchesPrincipalPattern(pattern, principalArn) || (role && matchesPrincipalPattern(pattern, role)),
    )
  ) {
    return { allowed: true };
  }
  return { allowed: false, reason: `${principalArn} is not authorized to ${verb}` };
};
