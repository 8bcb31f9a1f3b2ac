/** Where the service raises what it could never carry out (the PermanentFailures metric and its alarm). */
export interface PermanentFailures {
  /** one effect of `group` was refused for good */
  raise(group: string): void;
}
