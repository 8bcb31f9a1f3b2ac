/**
 * One class per failure kind, each with `cause`. Adapters map AWS errors onto these so that use
 * cases and handlers can apply the event source's retry rules without knowing the SDK.
 */
export class RolloutsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Throttling, 5xx, timeouts, network: retry later. */
export class TransientError extends RolloutsError {}

/** The request can never succeed as sent (validation, missing permission, missing resource). */
export class PermanentError extends RolloutsError {}

/**
 * The service itself cannot work (its own table refuses the write: item too large, permission
 * missing). Unlike a PermanentError about one input, it fails the invocation, so that the
 * function's Errors metric and alarm see it and the event is retried, then dead-lettered.
 */
export class ServiceFaultError extends RolloutsError {}

/** Optimistic-concurrency conflict: someone else wrote first; reload and decide again. */
export class ConflictError extends RolloutsError {}

/** An input from outside (event, message, command, file) does not match its schema. */
export class InputValidationError extends RolloutsError {
  constructor(
    message: string,
    readonly issues: string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The deployment configuration is invalid. */
export class ConfigError extends RolloutsError {
  constructor(
    message: string,
    readonly issues: string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The endpoint is not InService: the work waits for the next event or tick. */
export class EndpointBusyError extends TransientError {}

/**
 * The proof of identity a command carries is missing, malformed, stale, bound to another command
 * or audience, or refused by STS: the command is refused (403) and changes nothing.
 */
export class IdentityProofError extends RolloutsError {}
