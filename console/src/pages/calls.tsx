import type { CallDecision, CallListParams } from "@maskline/sdk";
import { api } from "../api";
import { DECISIONS, duration, formatDateTime } from "../format";
import { href, navigate, useLocation } from "../router";
import { RecordingPlayer } from "../recording";
import { Badge, Button, Card, Empty, Field, ListState, LoadMore, PageHeader, Table, useAsync, usePaged } from "../ui";

/** datetime-local (the viewer's time) ⇄ the API's RFC 3339. */
const toIso = (local: string) => (local ? new Date(local).toISOString() : "");
const toLocal = (iso: string) => {
  if (!iso) return "";
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};

export function Calls() {
  const { query } = useLocation();
  const decision = (query.get("decision") ?? "") as CallDecision | "";
  const sessionId = query.get("sessionId") ?? "";
  const since = query.get("since") ?? "";
  const until = query.get("until") ?? "";
  const filters: CallListParams = {
    ...(decision ? { decision } : {}),
    ...(sessionId ? { sessionId } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
  };
  const list = usePaged(() => api.calls.list({ ...filters, limit: 25 }), [decision, sessionId, since, until]);
  const recordings = useAsync(async () => (await api.recordings.list({ ...(sessionId ? { sessionId } : {}), limit: 100 })).data, [sessionId]);
  const byCall = new Map((recordings.data ?? []).map((r) => [r.callId, r]));
  const filtered = Boolean(decision || sessionId || since || until);
  return (
    <>
      <PageHeader title="Calls" description="Every call to a masking number: whether it was bridged, and if not, why it was refused." />
      <form
        class="filters"
        aria-label="Filter calls"
        onSubmit={(e) => {
          e.preventDefault();
          const data = new FormData(e.currentTarget);
          const get = (k: string) => String(data.get(k) ?? "").trim();
          navigate(href("/calls", { decision: get("decision"), sessionId: get("sessionId"), since: toIso(get("since")), until: toIso(get("until")) }));
        }}
      >
        <Field label="Decision">
          {(id) => (
            <select id={id} name="decision" value={decision}>
              <option value="">Any</option>
              {(Object.keys(DECISIONS) as CallDecision[]).map((d) => (
                <option value={d} key={d}>
                  {DECISIONS[d].label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Session id">{(id) => <input id={id} name="sessionId" value={sessionId} placeholder="ses_…" maxLength={64} />}</Field>
        <Field label="From">{(id) => <input id={id} name="since" type="datetime-local" value={toLocal(since)} />}</Field>
        <Field label="Until">{(id) => <input id={id} name="until" type="datetime-local" value={toLocal(until)} />}</Field>
        <Button type="submit">Filter</Button>
      </form>
      <Card>
        <ListState
          list={list}
          what="calls"
          empty={
            <Empty title={filtered ? "No calls match these filters" : "No calls yet"}>
              {filtered ? <a href={href("/calls")}>Clear the filters</a> : "Calls appear here once people dial your masking numbers."}
            </Empty>
          }
        >
          {(calls) => (
            <Table caption="Calls" head={["Started", "Decision", "Why", "Status", "Duration", "Session", "Recording"]}>
              {calls.map((c) => {
                const d = DECISIONS[c.decision];
                const rec = byCall.get(c.id);
                return (
                  <tr key={c.id}>
                    <td class="nowrap">{formatDateTime(c.startedAt)}</td>
                    <td>
                      <Badge tone={d.tone}>{d.label}</Badge>
                    </td>
                    <td class="muted small">{d.why}</td>
                    <td>
                      {c.status}
                      {c.hangupCause ? <div class="muted small">{c.hangupCause}</div> : null}
                    </td>
                    <td>{duration(c.durationSeconds)}</td>
                    <td>{c.sessionId ? <a href={href(`/sessions/${c.sessionId}`)} class="mono">{c.sessionId}</a> : <span class="muted">—</span>}</td>
                    <td>{rec ? <RecordingPlayer recordingId={rec.id} label={`recording of the call at ${formatDateTime(c.startedAt)}`} /> : <span class="muted">—</span>}</td>
                  </tr>
                );
              })}
            </Table>
          )}
        </ListState>
        <LoadMore list={list} />
      </Card>
    </>
  );
}
