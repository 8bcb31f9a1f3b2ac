/**
 * Timeline lines in the words a user expects: the handlers' log messages are terse for log
 * search ("waiting", "duplicate ignored"); the timeline says what happened and why, from the
 * fields the message carries.
 */
export const timelineText = (message: string, extra: Record<string, unknown> | undefined): string => {
  const field = (name: string): string | undefined => {
    const value = extra?.[name];
    return typeof value === 'string' && value.length > 0 ? value : undefined;
  };
  const group = field('group');
  const prefix = group ? `${group}: ` : '';
  if (message === 'waiting') {
    const why = field('why');
    return `${prefix}${field('command') ?? 'a command'} waits for the next event or tick${why ? `: ${why}` : ''}`;
  }
  if (message === 'command failed permanently') {
    return `${prefix}${field('command') ?? 'a command'} failed and will not be retried: ${field('reason') ?? 'no reason given'}`;
  }
  const repeated = /^(\S+) is already in progress \((\w+)\): duplicate ignored$/.exec(message);
  if (repeated) return `${repeated[1]}: approval seen again while ${repeated[2]}, nothing to do`;
  const ended = /^(\S+) already ended (\w+): use retry to run it again$/.exec(message);
  if (ended) return `${ended[1]}: approval seen again after it ended ${ended[2]}, nothing to do`;
  return message;
};
