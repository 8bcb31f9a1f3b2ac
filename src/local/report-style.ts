/** How the report looks: escaping and the colours every panel shares. */
export const esc = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** Colours by role, whatever the version numbers: the version serving is blue, the one on trial orange. */
export const ROLE_COLOUR = { baseline: '#1f6fb4', candidate: '#e8710a' } as const;
export const STATUS_COLOUR: Record<string, string> = {
  Creating: '#c7c7c7',
  Updating: '#f2c94c',
  InService: '#7bc47f',
  Failed: '#e06666',
  Deleting: '#9aa9b5',
  RollingBack: '#f4a261',
};
export const BAD = '#c62828';
export const BAND = { step: '#eef3fb', bake: '#dbe6f6', shadow: '#f3ecf9', extension: '#fbe3b5' };
export const ALARM_COLOUR = '#d32f2f';
