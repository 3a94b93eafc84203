/**
 * The exact URLs a tenant pastes into its Vobiz application, and the ones Maskline hands the carrier itself (in XML,
 * or when it places a call). The secret rides in the query string: Vobiz signs only the URL without its query, so
 * `k` is a second, independent check that the caller knows the app. A call Maskline places gets URLs of its own,
 * naming the call in the path (signed) and carrying the call's own secret `t` as well.
 */
export function webhookUrls(publicBaseUrl: string, appId: string, urlSecret: string) {
  const base = `${publicBaseUrl}/v1/vobiz/${encodeURIComponent(appId)}`;
  const k = `?k=${encodeURIComponent(urlSecret)}`;
  return { answerUrl: `${base}/answer${k}`, hangupUrl: `${base}/hangup${k}`, dialStatusUrl: `${base}/dial-status${k}` };
}

/** The callbacks of the call flows: recordings, and a PIN call's `attempt`th prompt. */
export function flowUrls(publicBaseUrl: string, appId: string, urlSecret: string) {
  const base = `${publicBaseUrl}/v1/vobiz/${encodeURIComponent(appId)}`;
  const k = `k=${encodeURIComponent(urlSecret)}`;
  return {
    recordingUrl: `${base}/recording?${k}`,
    pinUrl: (attempt: number) => `${base}/pin?${k}&a=${attempt}`,
  };
}

/** A placed call's own answer and hangup URLs. */
export function placedCallUrls(publicBaseUrl: string, appId: string, urlSecret: string, callId: string, callSecret: string) {
  const base = `${publicBaseUrl}/v1/vobiz/${encodeURIComponent(appId)}/calls/${encodeURIComponent(callId)}`;
  const q = `?k=${encodeURIComponent(urlSecret)}&t=${encodeURIComponent(callSecret)}`;
  return { answerUrl: `${base}/answer${q}`, hangupUrl: `${base}/hangup${q}` };
}
