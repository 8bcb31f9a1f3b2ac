// Runs in the page (see report-browser.test.ts): what each visible chart shows, as laid out.
[...document.querySelectorAll('figure.chart')].map((figure) => {
  const svg = [...figure.querySelectorAll('svg')].find((s) => s.getBoundingClientRect().width > 0);
  const box = (e) => {
    const r = e.getBoundingClientRect();
    return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
  };
  const scale = svg.getScreenCTM().a;
  const count = (selector) => svg.querySelectorAll(selector).length;
  const number = (e, attr) => Number(e?.getAttribute(attr) ?? Number.NaN);
  const decisionX = {};
  for (const g of svg.querySelectorAll('g.decision'))
    decisionX[g.querySelector('text').textContent] = number(g.querySelector('line'), 'x1');
  return {
    scenario: figure.closest('section').id,
    endpoint: figure.getAttribute('data-endpoint'),
    layout: svg.getAttribute('class'),
    svg: box(svg),
    texts: [...svg.querySelectorAll('text')].map((t) => ({
      ...box(t),
      text: t.textContent ?? '',
      px: Number.parseFloat(getComputedStyle(t).fontSize) * scale,
    })),
    labels: [...svg.querySelectorAll('g.decision text, g.extension-label text, text.vlabel')].map((t) => ({
      ...box(t),
      text: t.textContent ?? '',
      kind: t.getAttribute('class') === 'vlabel' ? 'variant' : t.parentElement.getAttribute('class'),
    })),
    count: Object.fromEntries(
      [
        'polyline.weight.baseline',
        'polyline.weight.candidate',
        'polyline.weight.candidate.shadow',
        '.rate.candidate',
        '.rate.candidate.shadow',
        'polyline.latency.candidate',
        'polyline.latency.baseline',
        'polyline.tolerated',
        'g.band.shadow',
        'g.band.step',
        'g.extension',
        'g.verdict.passed',
        'g.verdict.extended',
        'g.verdict.failed',
        'g.alarm',
      ].map((s) => [s, count(s)]),
    ),
    judged: [...figure.querySelectorAll('ul.judged li')].map((li) => li.textContent ?? ''),
    alarms: [...svg.querySelectorAll('g.alarm')].map((g) => {
      const rect = g.querySelector('rect');
      return {
        name: g.querySelector('text').textContent,
        x0: number(rect, 'x'),
        x1: number(rect, 'x') + number(rect, 'width'),
      };
    }),
    decisionX,
    statuses: [...svg.querySelectorAll('g.status title')].map((t) => t.textContent.split(' ').at(-1)),
    firstWeightX: Math.min(
      ...[...svg.querySelectorAll('polyline.weight')].flatMap((p) =>
        (p.getAttribute('points') ?? '').split(' ').map((xy) => Number(xy.split(',')[0])),
      ),
    ),
    inServiceX: number(
      [...svg.querySelectorAll('g.status')]
        .find((g) => g.querySelector('title')?.textContent?.endsWith('InService'))
        ?.querySelector('rect'),
      'x',
    ),
    evidence: [...svg.querySelectorAll('g.evidence-test')].map((g) => {
      const ys = (g.querySelector('polyline')?.getAttribute('points') ?? '')
        .split(' ')
        .map((xy) => Number(xy.split(',')[1]));
      return {
        test: g.getAttribute('class').replace('evidence-test ', ''),
        firstY: ys[0],
        lastY: ys.at(-1),
        limitY: number(g.querySelector('line.limit'), 'y1'),
      };
    }),
  };
});
