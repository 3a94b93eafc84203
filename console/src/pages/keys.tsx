import { useState } from "preact/hooks";
import type { ApiKeyWithSecret, ConsoleSession } from "@maskline/sdk";
import { api, sessionEnded } from "../api";
import { formatDateTime, relative } from "../format";
import { SecretOnce } from "../secret";
import { Badge, Button, Card, ConfirmButton, Empty, ErrorNotice, Field, ListState, LoadMore, PageHeader, SuccessNotice, Table, usePaged } from "../ui";

export function ApiKeys(props: { session: ConsoleSession }) {
  const keys = usePaged(() => api.apiKeys.list({ limit: 50 }), []);
  const [created, setCreated] = useState<ApiKeyWithSecret | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [name, setName] = useState("");
  return (
    <>
      <PageHeader title="API keys" description="Keys your systems use to call Maskline. A revoked key is refused at once, and so is every console session opened with it." />
      {created && <SecretOnce title={`New key ${created.name ?? created.start}.`} value={created.secret} label="the new API key" />}
      {notice && <SuccessNotice>{notice}</SuccessNotice>}
      {failure !== null && <ErrorNotice error={failure} what="That did not work." />}
      <Card title="Create a key">
        <form
          class="inline-form"
          onSubmit={async (e) => {
            e.preventDefault();
            setFailure(null);
            setNotice(null);
            try {
              setCreated(await api.apiKeys.create(name.trim() ? { name: name.trim() } : {}));
              setName("");
              keys.reload();
            } catch (err) {
              if (!sessionEnded(err)) setFailure(err);
            }
          }}
        >
          <Field label="Name" hint="What will use it, e.g. “checkout service”.">
            {(id, hint) => <input id={id} aria-describedby={hint} value={name} maxLength={200} onInput={(e) => setName(e.currentTarget.value)} />}
          </Field>
          <Button variant="primary" type="submit">
            Create key
          </Button>
        </form>
      </Card>
      <Card title="Keys">
        <ListState list={keys} what="keys" empty={<Empty title="No keys">Create one above.</Empty>}>
          {(list) => (
            <Table caption="API keys" head={["Name", "Starts with", "Created", "Last used", "Status", ""]}>
              {list.map((k) => (
                <tr key={k.id}>
                  <td>
                    {k.name ?? <span class="muted">unnamed</span>}
                    {k.id === props.session.apiKeyId && <div class="muted small">this console session's key</div>}
                  </td>
                  <td class="mono">{k.start}…</td>
                  <td>{formatDateTime(k.createdAt)}</td>
                  <td title={formatDateTime(k.lastUsedAt)}>{relative(k.lastUsedAt)}</td>
                  <td>{k.revokedAt ? <Badge tone="neutral">revoked {formatDateTime(k.revokedAt)}</Badge> : <Badge tone="good">active</Badge>}</td>
                  <td class="actions">
                    {!k.revokedAt && (
                      <ConfirmButton
                        label="Revoke"
                        confirm={k.id === props.session.apiKeyId ? "Revoke the key this session uses? You will be signed out." : `Revoke ${k.name ?? k.start}?`}
                        onConfirm={async () => {
                          setFailure(null);
                          try {
                            await api.apiKeys.delete(k.id);
                            setCreated(null);
                            setNotice(`Revoked ${k.name ?? k.start}.`);
                            keys.reload();
                          } catch (err) {
                            if (!sessionEnded(err)) setFailure(err);
                          }
                        }}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </Table>
          )}
        </ListState>
        <LoadMore list={keys} />
      </Card>
    </>
  );
}
