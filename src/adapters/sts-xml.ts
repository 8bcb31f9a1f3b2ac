/** The text of the first `<element>` of an STS Query answer, its XML escapes undone. */
export const xmlText = (xml: string, element: string): string | undefined => {
  const raw = new RegExp(`<${element}>([^<]*)</${element}>`).exec(xml)?.[1];
  return raw
    ?.replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
};
