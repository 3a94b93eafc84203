import { useState } from "preact/hooks";
import type { Call, Recording, Session, SessionStatus } from "@maskline/sdk";
import { api, sessionEnded } from "../api";
import { DECISIONS, duration, formatDateTime, formatTime, relative } from "../format";
import { href, navigate, useLocation } from "../router";
import { RecordingPlayer } from "../recording";
import { Badge, Button, Card, ConfirmButton, Empty, ErrorNotice, Field, ListState, LoadMore, Loading, PageHeader, SuccessNotice, Table, useAsync, usePaged } from "../ui";

const STATUS_TONE: Record<SessionStatus, "good" | "neutral" | "warn"> = { open: "good", closed: "neutral", expired: "warn" };

export function StatusBadge(props: { status: SessionStatus }) {
  return <Badge tone={STATUS_TONE[props.status]}>{props.status}</Badge>;
}

export function Sessions() {
  const { query } = useLocation();
  const status = (query.get("status") ?? "") as SessionStatus | "";
  const reference = query.get("reference") ?? "";
  const list = usePaged(() => api.sessions.list({ ...(status ? { status } : {}), ...(reference ? { reference } : {}), limit: 25 }), [status, reference]);
  return (
    <>
      <PageHeader title="Sessions" description="Masked pairings between two people. Real numbers are shown masked; the masking numbers are your DIDs." />
      <form
        class="filters"
        aria-label="Filter sessions"
        onSubmit={(e) => {
          e.preventDefault();
          const data = new FormData(e.currentTarget);
          navigate(href("/sessions", { status: String(data.get("status") ?? ""), reference: String(data.get("reference") ?? "").trim() }));
        }}
      >
        <Field label="Status">
          {(id) => (
            <select id={id} name="status" value={status}>
              <option value="">Any</option>
              <option value="open">Open</option>
              <option value="closed">Closed</option>
              <option value="expired">Expired</option>
            </select>
          )}
        </Field>
        <Field label="Reference">
          {(id) => <input id={id} name="reference" value={reference} placeholder="order-1234" maxLength={200} />}
        </Field>
        <Button type="submit">Filter</Button>
      </form>
      <Card>
        <ListState
          list={list}
          what="sessions"
          empty={
            <Empty title={status || reference ? "No sessions match these filters" : "No sessions yet"}>
              {status || reference ? (
                <a href={href("/sessions")}>Clear the filters</a>
              ) : (
                <>
                  Open one through the API (<code>POST /v1/sessions</code>) or the SDK; it appears here at once.
                </>
              )}
            </Empty>
          }
        >
          {(sessions) => (
            <Table caption="Sessions" head={["Session", "Status", "Reference", "Participants", "Pool", "Ends"]}>
              {sessions.map((s) => (
                <tr key={s.id}>
                  <td>
                    <a href={href(`/sessions/${s.id}`)} class="mono">
                      {s.id}
                    </a>
                  </td>
                  <td>
                    <StatusBadge status={s.status} />
                  </td>
                  <td>{s.reference ?? <span class="muted">—</span>}</td>
                  <td>
                    {s.participants.map((p) => (
                      <div key={p.id} class="nowrap">
                        {p.label ?? "Participant"}: <span class="mono">{p.maskedNumber ?? "erased"}</span>
                      </div>
                    ))}
                  </td>
                  <td>{s.pool}</td>
                  <td title={formatDateTime(s.expiresAt)}>{s.status === "open" ? relative(s.expiresAt) : formatDateTime(s.closedAt ?? s.expiresAt)}</td>
                </tr>
              ))}
            </Table>
          )}
        </ListState>
        <LoadMore list={list} />
      </Card>
    </>
  );
}

export function SessionDetail(props: { id: string }) {
  const session = useAsync(() => api.sessions.get(props.id), [props.id]);
  const calls = useAsync(async () => (await api.calls.list({ sessionId: props.id, limit: 100 })).data, [props.id]);
  const recordings = useAsync(async () => (await api.recordings.list({ sessionId: props.id, limit: 100 })).data, [props.id]);
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [minutes, setMinutes] = useState("60");

  if (session.error)
    return (
      <>
        <PageHeader title="Session" />
        <ErrorNotice error={session.error} onRetry={session.reload} what="This session could not be loaded." />
        <p>
          <a href={href("/sessions")}>Back to sessions</a>
        </p>
      </>
    );
  if (!session.data) return <Loading what="session" />;
  const s: Session = session.data;
  const act = async (what: string, run: () => Promise<unknown>) => {
    setFailure(null);
    setNotice(null);
    try {
      await run();
      setNotice(what);
      session.reload();
    } catch (err) {
      if (!sessionEnded(err)) setFailure(err);
    }
  };
  return (
    <>
      <PageHeader
        title={s.reference ? `Session ${s.reference}` : "Session"}
        description={<span class="mono">{s.id}</span>}
        actions={
          s.status === "open" ? (
            <ConfirmButton label="Close session" confirm="Close it? Its numbers stop connecting these two people at once." onConfirm={() => act("Session closed.", () => api.sessions.close(s.id))} />
          ) : undefined
        }
      />
      {notice && <SuccessNotice>{notice}</SuccessNotice>}
      {failure !== null && <ErrorNotice error={failure} what="That did not work." />}
      <div class="grid-2">
        <Card title="Details">
          <dl class="details">
            <dt>Status</dt>
            <dd>
              <StatusBadge status={s.status} />
            </dd>
            <dt>Mode</dt>
            <dd>{s.mode === "two_way" ? "Two-way" : "One-way (first participant calls)"}</dd>
            <dt>Routing</dt>
            <dd>{s.routing === "pin" ? "One number with PINs" : "A number each"}</dd>
            <dt>Pool</dt>
            <dd>{s.pool}</dd>
            <dt>Recording</dt>
            <dd>{s.recording ? "Calls are recorded after a notice" : "Off"}</dd>
            <dt>Created</dt>
            <dd>{formatDateTime(s.createdAt)}</dd>
            <dt>{s.status === "open" ? "Expires" : "Ended"}</dt>
            <dd>{formatDateTime(s.status === "open" ? s.expiresAt : (s.closedAt ?? s.expiresAt))}</dd>
          </dl>
          {Object.keys(s.metadata).length > 0 && (
            <>
              <h3>Metadata</h3>
              <dl class="details">
                {Object.entries(s.metadata).map(([k, v]) => [<dt key={`k${k}`}>{k}</dt>, <dd key={`v${k}`}>{v}</dd>])}
              </dl>
            </>
          )}
          {s.status === "open" && (
            <form
              class="inline-form"
              onSubmit={(e) => {
                e.preventDefault();
                const ttlSeconds = Math.round(Number(minutes) * 60);
                void act(`Session extended: it now ends ${minutes} minutes from now.`, () => api.sessions.update(s.id, { ttlSeconds }));
              }}
            >
              <Field label="Extend to (minutes from now)">
                {(id) => <input id={id} type="number" min={1} max={525600} required value={minutes} onInput={(e) => setMinutes(e.currentTarget.value)} />}
              </Field>
              <Button type="submit">Extend</Button>
            </form>
          )}
        </Card>
        <Card title="Participants">
          <Table caption="Participants" head={["Who", "Number (masked)", "Dials and sees"]}>
            {s.participants.map((p) => (
              <tr key={p.id}>
                <td>{p.label ?? "Participant"}</td>
                <td class="mono">{p.maskedNumber ?? "erased"}</td>
                <td class="mono">{p.proxyNumber}</td>
              </tr>
            ))}
          </Table>
        </Card>
      </div>
      <Card title="Call timeline">
        <CallTimeline calls={calls} recordings={recordings.data ?? []} />
      </Card>
    </>
  );
}

function CallTimeline(props: { calls: ReturnType<typeof useAsync<Call[]>>; recordings: Recording[] }) {
  const byCall = new Map(props.recordings.map((r) => [r.callId, r]));
  return (
    <ListState list={props.calls} what="calls" empty={<Empty title="No calls in this session yet">Calls appear here as the participants dial their masking numbers.</Empty>}>
      {(calls) => (
        <ol class="timeline">
          {[...calls].reverse().map((c) => {
            const d = DECISIONS[c.decision];
            const rec = byCall.get(c.id);
            return (
              <li key={c.id}>
                <time dateTime={c.startedAt}>{formatTime(c.startedAt)}</time>
                <div>
                  <p>
                    <Badge tone={d.tone}>{d.label}</Badge> {c.direction === "outbound" ? "Placed by Maskline" : "Dialled"} {c.proxyNumber ? <span class="mono">{c.proxyNumber}</span> : null} · {c.status}
                    {c.durationSeconds !== null ? ` · ${duration(c.durationSeconds)}` : ""}
                  </p>
                  <p class="muted small">
                    {d.why}
                    {c.hangupCause ? ` Hang-up: ${c.hangupCause}${c.hangupCauseCode ? ` (${c.hangupCauseCode})` : ""}.` : ""}
                  </p>
                  {rec && <RecordingPlayer recordingId={rec.id} label={`recording of the call at ${formatTime(c.startedAt)}`} />}
                </div>
              </li>
            );
          })}
        </ol>
      )}
    </ListState>
  );
}
