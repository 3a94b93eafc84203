import { useState } from "preact/hooks";
import { api, sessionEnded } from "../api";
import { PoolGauge } from "../charts";
import { formatDateTime, plural } from "../format";
import { href } from "../router";
import { Badge, Button, Card, ConfirmButton, Empty, ErrorNotice, Field, ListState, LoadMore, PageHeader, SuccessNotice, Table, useAsync, usePaged } from "../ui";

const MAX_PER_IMPORT = 1000;

/**
 * The numbers in pasted text or a CSV file: every token that looks like a phone number (digits, an optional leading
 * +, spaces, dashes, dots and brackets inside), whatever the columns; a header row has none and is skipped.
 */
export function numbersIn(text: string): string[] {
  const found = text.match(/\+?\d[\d ().-]{4,}\d/g) ?? [];
  return [...new Set(found.map((n) => n.replace(/[ ().-]/g, "")))];
}

export function Numbers() {
  const apps = useAsync(async () => (await api.apps.list({ limit: 100 })).data, []);
  const pools = useAsync(async () => (await api.pools.list({ limit: 100 })).data, []);
  const numbers = usePaged(() => api.numbers.list({ status: "active", limit: 50 }), []);
  const [text, setText] = useState("");
  const [pool, setPool] = useState("default");
  const [appId, setAppId] = useState("");
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const parsed = numbersIn(text);
  const reload = () => {
    pools.reload();
    numbers.reload();
  };

  return (
    <>
      <PageHeader title="Numbers and pools" description="Your masking DIDs, the pools they serve, and how close each pool is to running dry." />
      {notice && <SuccessNotice>{notice}</SuccessNotice>}
      {failure !== null && <ErrorNotice error={failure} what="That did not work." />}
      <div class="grid-2">
        <Card title="Pools">
          <ListState list={pools} what="pools" empty={<Empty title="No pools yet">Import numbers below: a pool is made by naming it.</Empty>}>
            {(list) => (
              <ul class="pool-list">
                {list.map((p) => (
                  <li key={p.pool}>
                    <h3>{p.pool}</h3>
                    <PoolGauge pool={p.pool} numbers={p.numbers} busiest={p.busiestParticipantSessions} headroom={p.headroom} utilisation={p.utilisation} />
                    <p class="muted small">{plural(p.activeSessions, "live session")} on {plural(p.numbers, "number")}</p>
                  </li>
                ))}
              </ul>
            )}
          </ListState>
        </Card>
        <Card title="Import numbers">
          {apps.data && apps.data.length === 0 ? (
            <Empty title="Register an app first">
              Numbers belong to a Vobiz application. <a href={href("/apps")}>Register one</a>, then import its numbers here.
            </Empty>
          ) : (
            <form
              onSubmit={async (e) => {
                e.preventDefault();
                setBusy(true);
                setNotice(null);
                setFailure(null);
                try {
                  const chosenApp = appId || apps.data?.[0]?.id;
                  if (!chosenApp) throw new Error("Choose the app these numbers belong to.");
                  let imported = 0;
                  for (let i = 0; i < parsed.length; i += MAX_PER_IMPORT) {
                    const result = await api.numbers.create({ appId: chosenApp, pool, numbers: parsed.slice(i, i + MAX_PER_IMPORT) });
                    imported += result.data.length;
                  }
                  setNotice(`Imported ${imported} number${imported === 1 ? "" : "s"} into pool ${pool}.`);
                  setText("");
                  reload();
                } catch (err) {
                  if (!sessionEnded(err)) setFailure(err);
                } finally {
                  setBusy(false);
                }
              }}
            >
              <Field label="App">
                {(id) => (
                  <select id={id} value={appId || apps.data?.[0]?.id || ""} onChange={(e) => setAppId(e.currentTarget.value)}>
                    {(apps.data ?? []).map((a) => (
                      <option value={a.id} key={a.id}>
                        {a.name}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <Field label="Pool" hint="Letters, digits, dot, dash and underscore. A new name makes a new pool.">
                {(id, hint) => <input id={id} aria-describedby={hint} value={pool} required pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}" onInput={(e) => setPool(e.currentTarget.value)} />}
              </Field>
              <Field label="Numbers" hint="Paste one per line, or comma-separated, in E.164 (+919…) or the app's national format.">
                {(id, hint) => <textarea id={id} aria-describedby={hint} rows={5} value={text} onInput={(e) => setText(e.currentTarget.value)} />}
              </Field>
              <Field label="Or upload a CSV file" hint="Every phone number in the file is imported, whatever its column.">
                {(id, hint) => (
                  <input
                    id={id}
                    type="file"
                    accept=".csv,text/csv,text/plain"
                    aria-describedby={hint}
                    onChange={async (e) => {
                      const file = e.currentTarget.files?.[0];
                      if (file) setText(await file.text());
                    }}
                  />
                )}
              </Field>
              <p class="muted small" aria-live="polite">
                {parsed.length ? `${parsed.length} number${parsed.length === 1 ? "" : "s"} ready to import.` : "No numbers entered yet."}
              </p>
              <Button variant="primary" type="submit" disabled={busy || parsed.length === 0}>
                {busy ? "Importing…" : "Import numbers"}
              </Button>
            </form>
          )}
        </Card>
      </div>
      <Card title="Active numbers">
        <ListState list={numbers} what="numbers" empty={<Empty title="No numbers yet">Import your Vobiz DIDs above to start masking calls.</Empty>}>
          {(list) => (
            <Table caption="Active numbers" head={["Number", "Pool", "Status", "Imported", ""]}>
              {list.map((n) => (
                <tr key={n.id}>
                  <td class="mono">{n.number}</td>
                  <td>{n.pool}</td>
                  <td>
                    <Badge tone={n.status === "active" ? "good" : "neutral"}>{n.status}</Badge>
                  </td>
                  <td>{formatDateTime(n.createdAt)}</td>
                  <td class="actions">
                    <ConfirmButton
                      label="Release"
                      confirm={`Release ${n.number}?`}
                      onConfirm={async () => {
                        setFailure(null);
                        setNotice(null);
                        try {
                          await api.numbers.delete(n.id);
                          setNotice(`Released ${n.number}.`);
                          reload();
                        } catch (err) {
                          if (!sessionEnded(err)) setFailure(err);
                        }
                      }}
                    />
                  </td>
                </tr>
              ))}
            </Table>
          )}
        </ListState>
        <LoadMore list={numbers} />
      </Card>
    </>
  );
}
