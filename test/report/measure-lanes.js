// Runs in the page (see report-browser.test.ts): each visible stages view, as laid out.
[...document.querySelectorAll('figure.lanes')].map((figure) => {
  const svg = [...figure.querySelectorAll('svg')].find((s) => s.getBoundingClientRect().width > 0);
  const box = (e) => {
    const r = e.getBoundingClientRect();
    return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
  };
  const scale = svg.getScreenCTM().a;
  const title = (g) => g.querySelector(':scope > title')?.textContent ?? '';
  return {
    scenario: figure.closest('section').id,
    layout: svg.getAttribute('class'),
    svg: box(svg),
    texts: [...svg.querySelectorAll('text')].map((t) => ({
      ...box(t),
      text: t.textContent ?? '',
      px: Number.parseFloat(getComputedStyle(t).fontSize) * scale,
    })),
    lanes: [...svg.querySelectorAll('g.lane')].map((lane) => ({
      stage: lane.getAttribute('data-stage'),
      name: lane.querySelector('text.lane-name').textContent,
      top: box(lane.querySelector(':scope > rect')).top,
      segments: [...lane.querySelectorAll('g.segment')].map((g) => {
        const text = g.querySelector('text');
        // the outline rect spans the whole segment
        const outline = [...g.querySelectorAll('rect')].at(-1);
        return {
          ...box(outline),
          label: text ? { ...box(text), text: text.textContent } : null,
          title: title(g),
        };
      }),
      markers: [...lane.querySelectorAll('g.marker')].map((g) => ({
        outcome: g.getAttribute('class').replace('marker ', ''),
        x: box(g.querySelector('line')).left,
        text: g.querySelector('text').textContent,
        glyph: box(g.querySelector('path')),
        title: title(g),
      })),
    })),
  };
});
