/**
 * Charts as SVG with their numbers in text beside them: readable without colour, and described for screen readers
 * (role="img" with a label that states every figure). No inline styles (the page's CSP forbids them): sizes are SVG
 * attributes, colours are CSS classes.
 */
export interface Bar {
  label: string;
  value: number;
  tone?: "good" | "bad" | "neutral" | "warn";
}

/** Horizontal bars, one row each, scaled to the largest value (at least 1). */
export function BarChart(props: { title: string; bars: Bar[]; unit?: string }) {
  const max = Math.max(1, ...props.bars.map((b) => b.value));
  const summary = props.bars.map((b) => `${b.label}: ${b.value}`).join(", ");
  return (
    <figure class="chart">
      <figcaption class="visually-hidden">{props.title}</figcaption>
      <div role="img" aria-label={`${props.title}. ${summary}`}>
        {props.bars.map((bar) => (
          <div class="bar-row" key={bar.label}>
            <span class="bar-label" aria-hidden="true">
              {bar.label}
            </span>
            <svg class="bar-track" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">
              <rect x="0" y="0" width="100" height="10" class="track" />
              <rect x="0" y="0" width={(bar.value / max) * 100} height="10" class={`fill fill-${bar.tone ?? "neutral"}`} />
            </svg>
            <span class="bar-value" aria-hidden="true">
              {bar.value}
              {props.unit ?? ""}
            </span>
          </div>
        ))}
      </div>
    </figure>
  );
}

/** One pool's figures: utilisation as a gauge (busiest person's concurrency against the pool's numbers). */
export function PoolGauge(props: { pool: string; numbers: number; busiest: number; headroom: number; utilisation: number }) {
  const pct = Math.round(props.utilisation * 100);
  const tone = props.utilisation >= 1 ? "bad" : props.utilisation >= 0.8 ? "warn" : "good";
  const width = Math.min(100, props.utilisation * 100);
  return (
    <div
      class="gauge"
      role="img"
      aria-label={`Pool ${props.pool}: ${pct}% used; the busiest person is in ${props.busiest} of ${props.numbers} possible sessions; headroom ${props.headroom}`}
    >
      <svg class="gauge-track" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true" focusable="false">
        <rect x="0" y="0" width="100" height="8" class="track" />
        <rect x="0" y="0" width={width} height="8" class={`fill fill-${tone}`} />
      </svg>
      {props.headroom <= 0 ? (
        <p class="gauge-alert gauge-alert-bad">Full: someone is already in as many sessions as this pool has numbers, so a new session for them is refused (pool_exhausted). Import more numbers.</p>
      ) : props.utilisation >= 0.8 ? (
        <p class="gauge-alert gauge-alert-warn">Nearly full: the busiest person can join {props.headroom} more session{props.headroom === 1 ? "" : "s"} before this pool runs dry.</p>
      ) : null}
      <p class="gauge-figures" aria-hidden="true">
        <span>
          <strong>{pct}%</strong> used
        </span>
        <span>
          busiest person <strong>{props.busiest}</strong> / {props.numbers}
        </span>
        <span>
          headroom <strong>{props.headroom}</strong>
        </span>
      </p>
    </div>
  );
}
