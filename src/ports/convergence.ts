/**
 * Asks the executor to bring a group's endpoints to their newest desired spec. A request names the
 * group only: duplicates and reordering are harmless.
 */
export interface ConvergenceRequests {
  request(group: string): Promise<void>;
}
