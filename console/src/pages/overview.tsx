import { api } from "../api";
import { BarChart, PoolGauge } from "../charts";
import { DECISIONS, plural, startOfToday } from "../format";
import { href } from "../router";
import { Card, Empty, ErrorNotice, Loading, PageHeader, useAsync } from "../ui";
import type { CallDecision, Pool, Usage } from "@maskline/sdk";

export function UsageFigures(props: { usage: Usage }) {
  const { usage } = props;
  return (
    <dl class="stats">
      <div>
        <dt>Live sessions</dt>
        <dd>{usage.liveSessions}</dd>
      </div>
      <div>
        <dt>Calls today</dt>
        <dd>{usage.calls.total}</dd>
      </div>
      <div>
        <dt>Bridged today</dt>
        <dd>{usage.calls.byDecision.bridged}</dd>
      </div>
      <div>
        <dt>Active numbers</dt>
        <dd>{usage.numbers}</dd>
      </div>
    </dl>
  );
}

export function DecisionChart(props: { usage: Usage }) {
  const bars = (Object.keys(DECISIONS) as CallDecision[]).map((d) => ({
    label: DECISIONS[d].label,
    value: props.usage.calls.byDecision[d],
    tone: DECISIONS[d].tone,
  }));
  return props.usage.calls.total === 0 ? (
    <Empty title="No calls today yet">Calls appear here once people dial your masking numbers.</Empty>
  ) : (
    <BarChart title="Calls today by decision" bars={bars} />
  );
}

export function Overview() {
  const usage = useAsync(() => api.usage.get({ since: startOfToday() }), []);
  const pools = useAsync(async () => (await api.pools.list({ limit: 100 })).data, []);
  return (
    <>
      <PageHeader title="Overview" description="What is live now, how today's calls went, and whether a pool will run dry." />
      {usage.error ? (
        <ErrorNotice error={usage.error} onRetry={usage.reload} what="Usage could not be loaded." />
      ) : !usage.data ? (
        <Loading what="usage" />
      ) : (
        <>
          <UsageFigures usage={usage.data} />
          <div class="grid-2">
            <Card title="Calls today by decision" actions={<a href={href("/calls")}>All calls</a>}>
              <DecisionChart usage={usage.data} />
            </Card>
            <Card title="Pools" actions={<a href={href("/numbers")}>Numbers and pools</a>}>
              <PoolList pools={pools} />
            </Card>
          </div>
        </>
      )}
    </>
  );
}

function PoolList(props: { pools: ReturnType<typeof useAsync<Pool[]>> }) {
  const { pools } = props;
  if (pools.error) return <ErrorNotice error={pools.error} onRetry={pools.reload} what="Pools could not be loaded." />;
  if (!pools.data) return <Loading what="pools" />;
  if (pools.data.length === 0)
    return (
      <Empty title="No pools yet">
        <a href={href("/numbers")}>Import masking numbers</a> into a pool to open sessions.
      </Empty>
    );
  return (
    <ul class="pool-list">
      {pools.data.map((p) => (
        <li key={p.pool}>
          <h3>{p.pool}</h3>
          <PoolGauge pool={p.pool} numbers={p.numbers} busiest={p.busiestParticipantSessions} headroom={p.headroom} utilisation={p.utilisation} />
          <p class="muted small">
            {plural(p.activeSessions, "live session")} on {plural(p.numbers, "number")}
            {p.pinSessions > 0 ? `; ${plural(p.pinSessions, "PIN session")} (room for ${p.pinHeadroom} more)` : ""}
          </p>
        </li>
      ))}
    </ul>
  );
}
